/// <reference types="node" />
// The rule of this folder, checked: nothing outside it reaches Tauri's API,
// calls `invoke`, or names a backend event by hand.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const src = join(import.meta.dirname, "..", "..");
const door = join(src, "lib", "backend");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return path === door ? [] : sources(path);
    return /\.(ts|svelte)$/.test(name) && !name.endsWith(".test.ts") ? [path] : [];
  });
}

describe("the backend door", () => {
  it("is the only module that touches Tauri", () => {
    const files = sources(src);
    expect(files.length).toBeGreaterThan(10);
    const offenders = files
      .filter((file) => {
        const text = readFileSync(file, "utf8");
        return /@tauri-apps\/api|\binvoke\s*\(|__TAURI|["']app-event["']/.test(text);
      })
      .map((file) => relative(src, file));
    expect(offenders).toEqual([]);
  });
});
