// Rules about batch statuses that the UI applies: which of two statuses is
// news, which batch a project is running, and which batch to open on launch.
// The backend applies the same ordering rule; events can still cross an
// answer to a request in flight, so the UI checks too.

import type { TaskStatus } from "./backend";
import { finishedPages, isFinished } from "./format";

/** Whether `next` should replace `held` (the same batch's status). */
export function isNews(held: TaskStatus | undefined, next: TaskStatus): boolean {
  if (!held) return true;
  if (isFinished(held.state)) return false;
  if (isFinished(next.state)) return true;
  return finishedPages(next) >= finishedPages(held);
}

/** The unfinished batch of a project, if any. */
export function runningOn(statuses: Iterable<TaskStatus>, slug: string): TaskStatus | undefined {
  for (const status of statuses) {
    if (status.project_slug === slug && !isFinished(status.state)) return status;
  }
  return undefined;
}

/**
 * The batch the app opens on at launch: one of its own kind that is moving
 * (not another application's, not interrupted) first, then any; the oldest
 * first so that relaunching lands on the same batch each time.
 */
export function launchBatch(ongoing: TaskStatus[]): TaskStatus | undefined {
  const unfinished = ongoing.filter((s) => !isFinished(s.state));
  const rank = (s: TaskStatus) => (s.source === "elsewhere" ? 2 : 0) + (s.interrupted ? 1 : 0);
  return [...unfinished].sort(
    (a, b) => rank(a) - rank(b) || a.started_at.localeCompare(b.started_at),
  )[0];
}
