// Statuses for the unit tests, in the shape the backend sends.
import type { TaskStatus } from "./backend";

export function status(overrides: Partial<TaskStatus> = {}): TaskStatus {
  return {
    task_id: "kdesk-1",
    project_slug: "tulasi",
    engine: "tesseract",
    language: "san",
    started_at: "2026-12-04T10:00:00.000+00:00",
    state: "PROGRESS",
    outcome: null,
    total: 4,
    done: 1,
    failed: 0,
    skipped: 0,
    running: 1,
    queued: 2,
    percent: 25,
    pages_per_minute: 30,
    mean_page_seconds: 2,
    eta_seconds: 6,
    failed_pages: [],
    finished_at: null,
    owner: "desk-1:4242:abcd1234",
    source: "redis",
    interrupted: false,
    ...overrides,
  };
}
