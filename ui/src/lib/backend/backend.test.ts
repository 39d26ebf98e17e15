// The door's own logic: results unwrapped, refusals turned into
// BackendError with their code and fields, page URLs built in one place.
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({
  invoke: (...args: unknown[]) => invoke(...args),
  convertFileSrc: (path: string, protocol: string) =>
    `${protocol}://localhost/${encodeURIComponent(path)}`,
}));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn(), once: vi.fn(), emit: vi.fn() }));

import { backend, BackendError, pageImageUrl } from "./index";

beforeEach(() => {
  invoke.mockReset();
});

describe("backend", () => {
  it("calls the command with its arguments and returns the data", async () => {
    invoke.mockResolvedValue([{ slug: "tulasi" }]);
    await expect(backend.listProjects()).resolves.toEqual([{ slug: "tulasi" }]);
    invoke.mockResolvedValue({ page_id: "001" });
    await backend.pageText("tulasi", "001");
    expect(invoke).toHaveBeenLastCalledWith("page_text", { slug: "tulasi", pageId: "001" });
  });

  it("turns a refusal into a BackendError with its code and fields", async () => {
    invoke.mockRejectedValue({
      code: "invalid_settings",
      message: "setting 'workers' is not valid",
      fields: [{ field: "workers", message: "'x' is not a number of workers" }],
    });
    const error = await backend
      .saveSettings({
        redis_url: "",
        library: "",
        default_engine: "",
        default_language: "",
        workers: "x",
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).code).toBe("invalid_settings");
    expect((error as BackendError).fields[0]?.field).toBe("workers");
    expect((error as BackendError).message).toBe("setting 'workers' is not valid");
  });

  it("lets failures of the bridge itself through as they are", async () => {
    invoke.mockRejectedValue(new Error("ipc down"));
    await expect(backend.redisHealth()).rejects.toThrow("ipc down");
  });
});

describe("pageImageUrl", () => {
  it("names the page on the app's scheme with a width", () => {
    expect(pageImageUrl("tulasi", "book-p003", 240.4)).toBe(
      "kdesk-page://localhost/tulasi%2Fbook-p003?w=240",
    );
  });
});
