import { describe, expect, it } from "vitest";

import { status } from "./fixtures";
import {
  formatDuration,
  formatRate,
  htmlLang,
  outcomeLabel,
  timeLeft,
  whereItRuns,
} from "./format";

describe("formatDuration", () => {
  it("reads seconds, minutes and hours", () => {
    expect(formatDuration(42.4)).toBe("42 s");
    expect(formatDuration(185)).toBe("3 min 05 s");
    expect(formatDuration(3720)).toBe("1 h 02 min");
  });
  it("shows a dash when unknown", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(Number.NaN)).toBe("—");
  });
});

describe("formatRate", () => {
  it("keeps one decimal below a hundred", () => {
    expect(formatRate(12.345)).toBe("12.3 pages/min");
    expect(formatRate(250.4)).toBe("250 pages/min");
    expect(formatRate(null)).toBe("—");
  });
});

describe("timeLeft", () => {
  it("estimates only while something runs", () => {
    expect(timeLeft(status({ eta_seconds: 65 }))).toBe("1 min 05 s");
    expect(timeLeft(status({ eta_seconds: null }))).toBe("estimating…");
    expect(timeLeft(status({ interrupted: true }))).toBe("paused: nothing is running");
    expect(timeLeft(status({ state: "SUCCESS", outcome: "succeeded" }))).toBe("done");
  });
});

describe("outcomeLabel", () => {
  it("tells failures apart from success", () => {
    expect(outcomeLabel("SUCCESS", "succeeded", 0)).toEqual({ text: "Succeeded", tone: "good" });
    expect(outcomeLabel("SUCCESS", "finished_with_failures", 3)).toEqual({
      text: "Finished, 3 pages failed",
      tone: "warn",
    });
    expect(outcomeLabel("SUCCESS", "finished_with_failures", 1).text).toBe(
      "Finished, 1 page failed",
    );
    expect(outcomeLabel("FAILURE", "failed", 4).tone).toBe("bad");
    expect(outcomeLabel("CANCELLED", "cancelled", 0).text).toBe("Cancelled");
    expect(outcomeLabel("PROGRESS", null, 0).text).toBe("Running");
  });
});

describe("whereItRuns", () => {
  it("names another computer, and says when Redis is out of reach", () => {
    expect(whereItRuns(status(), "desk-1")).toBe("on this computer");
    expect(whereItRuns(status(), "laptop")).toBe("on desk-1");
    expect(whereItRuns(status({ source: "local_record" }), "desk-1")).toBe(
      "on this computer, tracked on this computer only",
    );
    expect(whereItRuns(status({ source: "elsewhere" }), "desk-1")).toBe(
      "run by another application",
    );
  });
});

describe("htmlLang", () => {
  it("maps Tesseract codes to HTML language tags", () => {
    expect(htmlLang("san+eng")).toBe("sa");
    expect(htmlLang("tam")).toBe("ta");
    expect(htmlLang("xyz")).toBe("xyz");
  });
});
