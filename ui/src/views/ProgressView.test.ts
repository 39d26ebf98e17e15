// The progress view against a fake backend: it shows the counts it is
// pushed, cancels the batch's project, and retries exactly the failed pages.
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { flushSync } from "svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { status } from "../lib/fixtures";

const backend = vi.hoisted(() => ({
  batchStatus: vi.fn(),
  cancelBatch: vi.fn(),
  startBatch: vi.fn(),
  listProjects: vi.fn(),
  overview: vi.fn(),
}));
vi.mock("../lib/backend", () => ({ backend }));

import { router } from "../lib/router.svelte";
import { tasks } from "../lib/tasks.svelte";
import ProgressView from "./ProgressView.svelte";

afterEach(() => {
  cleanup();
});

beforeEach(() => {
  tasks.byId.clear();
  for (const fn of Object.values(backend)) fn.mockReset();
  backend.listProjects.mockResolvedValue([]);
});

describe("ProgressView", () => {
  it("shows the counts it is pushed and cancels the project's batch", async () => {
    const running = status({ done: 1, running: 1, queued: 2, percent: 25 });
    tasks.apply(running);
    backend.batchStatus.mockResolvedValue(running);
    backend.cancelBatch.mockResolvedValue(status({ done: 1, percent: 25 }));
    render(ProgressView, { taskId: "kdesk-1" });

    expect(screen.getByTestId("count-done").textContent).toBe("1");
    expect(screen.getByTestId("count-queued").textContent).toBe("2");
    expect(screen.getByTestId("percent").textContent).toBe("25%");
    expect(screen.getByTestId("time-left").textContent).toBe("6 s");

    tasks.apply(status({ done: 3, running: 1, queued: 0, percent: 75, eta_seconds: 2 }));
    flushSync();
    expect(screen.getByTestId("count-done").textContent).toBe("3");
    expect(screen.getByTestId("percent").textContent).toBe("75%");

    await fireEvent.click(screen.getByTestId("cancel"));
    expect(backend.cancelBatch).toHaveBeenCalledWith("tulasi");
    expect(screen.queryByTestId("retry-failed")).toBeNull();
  });

  it("lists failed pages with reasons and retries exactly those", async () => {
    const ended = status({
      state: "SUCCESS",
      outcome: "finished_with_failures",
      done: 2,
      failed: 2,
      running: 0,
      queued: 0,
      percent: 100,
      failed_pages: [
        { page_id: "003", reason: "page '003.tif' is not an image", attempts: 1 },
        { page_id: "004", reason: "tesseract timed out", attempts: 3 },
      ],
    });
    tasks.apply(ended);
    backend.batchStatus.mockResolvedValue(ended);
    backend.startBatch.mockResolvedValue({
      status: status({ task_id: "kdesk-2", total: 4, done: 2, skipped: 0 }),
      already_running: false,
      resumed: false,
    });
    render(ProgressView, { taskId: "kdesk-1" });

    expect(screen.getByTestId("batch-state").textContent).toBe("Finished, 2 pages failed");
    const list = screen.getByTestId("failed-pages").textContent ?? "";
    expect(list).toContain("page '003.tif' is not an image");
    expect(list).toContain("3 attempts");
    expect(screen.queryByTestId("cancel")).toBeNull();

    await fireEvent.click(screen.getByTestId("retry-failed"));
    expect(backend.startBatch).toHaveBeenCalledWith("tulasi", {
      engine: "tesseract",
      language: "san",
      force: true,
      only_pages: ["003", "004"],
    });
    await vi.waitFor(() => expect(router.current).toEqual({ name: "progress", taskId: "kdesk-2" }));
  });
});
