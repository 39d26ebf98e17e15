import { describe, expect, it, vi } from "vitest";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn(), convertFileSrc: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn(), once: vi.fn(), emit: vi.fn() }));

import { BackendError, type SettingsView } from "./backend";
import { fieldMessages, formFrom } from "./settingsForm";

describe("fieldMessages", () => {
  it("puts each refused field's message at its field", () => {
    const error = new BackendError({
      code: "invalid_settings",
      message: "2 settings are not valid; see the messages at the fields",
      fields: [
        { field: "workers", message: "'lots' is not a number of workers" },
        { field: "library", message: "folder '/x' does not exist" },
      ],
    });
    expect(fieldMessages(error)).toEqual({
      workers: "'lots' is not a number of workers",
      library: "folder '/x' does not exist",
    });
  });
  it("puts other refusals on the form", () => {
    const error = new BackendError({ code: "io", message: "cannot write the settings file" });
    expect(fieldMessages(error)).toEqual({ form: "cannot write the settings file" });
    expect(fieldMessages(new Error("boom"))).toEqual({ form: "boom" });
  });
});

describe("formFrom", () => {
  it("fills the form with the values in effect, workers as text", () => {
    const view: SettingsView = {
      redis_url: "redis://***@db:6379/0",
      redis_url_from: "settings",
      library: "/books",
      library_from: "environment",
      default_engine: "tesseract",
      default_language: "san",
      workers: 3,
      max_workers: 32,
      engines: ["tesseract"],
      languages: ["eng", "san"],
    };
    expect(formFrom(view)).toEqual({
      redis_url: "redis://***@db:6379/0",
      library: "/books",
      default_engine: "tesseract",
      default_language: "san",
      workers: "3",
    });
  });
});
