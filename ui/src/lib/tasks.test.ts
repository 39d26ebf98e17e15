import { describe, expect, it } from "vitest";

import { status } from "./fixtures";
import { isNews, launchBatch, runningOn } from "./tasks";

describe("isNews", () => {
  it("takes the first status and later progress", () => {
    expect(isNews(undefined, status())).toBe(true);
    expect(isNews(status({ done: 1 }), status({ done: 2 }))).toBe(true);
    expect(isNews(status({ done: 2 }), status({ done: 2, running: 0 }))).toBe(true);
  });
  it("refuses older news: fewer pages counted, or running after an end", () => {
    expect(isNews(status({ done: 3 }), status({ done: 2 }))).toBe(false);
    const ended = status({ state: "SUCCESS", outcome: "succeeded", done: 4 });
    expect(isNews(ended, status({ done: 4 }))).toBe(false);
    expect(isNews(status({ done: 3 }), ended)).toBe(true);
  });
});

describe("runningOn", () => {
  it("finds a project's unfinished batch only", () => {
    const finished = status({ task_id: "old", state: "SUCCESS", outcome: "succeeded" });
    const running = status({ task_id: "new" });
    expect(runningOn([finished, running], "tulasi")?.task_id).toBe("new");
    expect(runningOn([finished], "tulasi")).toBeUndefined();
    expect(runningOn([running], "other")).toBeUndefined();
  });
});

describe("launchBatch", () => {
  it("opens a moving batch of ours before interrupted or foreign ones, oldest first", () => {
    const foreign = status({ task_id: "web", source: "elsewhere", started_at: "2026-01-01T00:00:00Z" });
    const stuck = status({ task_id: "stuck", interrupted: true, started_at: "2026-01-02T00:00:00Z" });
    const late = status({ task_id: "late", started_at: "2026-01-04T00:00:00Z" });
    const early = status({ task_id: "early", started_at: "2026-01-03T00:00:00Z" });
    expect(launchBatch([foreign, stuck, late, early])?.task_id).toBe("early");
    expect(launchBatch([foreign, stuck])?.task_id).toBe("stuck");
    expect(launchBatch([])).toBeUndefined();
  });
});
