// How figures read on screen: durations, rates, counts, outcomes and dates.
// Pure functions, so that every view says the same thing the same way.

import type { Outcome, TaskState, TaskStatus } from "./backend";

/** "42 s", "3 min 05 s", "1 h 02 min"; a dash when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** "12.5 pages/min"; a dash before the first page is done. */
export function formatRate(pagesPerMinute: number | null | undefined): string {
  if (pagesPerMinute == null || !Number.isFinite(pagesPerMinute)) return "—";
  const digits = pagesPerMinute >= 100 ? 0 : 1;
  return `${pagesPerMinute.toFixed(digits)} pages/min`;
}

/** The time left of a batch, as its view shows it. */
export function timeLeft(status: TaskStatus): string {
  if (isFinished(status.state)) return "done";
  if (status.interrupted) return "paused: nothing is running";
  if (status.eta_seconds == null) return "estimating…";
  return formatDuration(status.eta_seconds);
}

export function isFinished(state: TaskState): boolean {
  return state === "SUCCESS" || state === "FAILURE" || state === "CANCELLED";
}

/** Pages done, failed or skipped. */
export function finishedPages(status: TaskStatus): number {
  return status.done + status.failed + status.skipped;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export type Tone = "good" | "warn" | "bad" | "neutral" | "busy";

/** A batch's state in a few words, and its colour. */
export function outcomeLabel(
  state: TaskState,
  outcome: Outcome | null | undefined,
  failed: number,
): { text: string; tone: Tone } {
  switch (outcome) {
    case "succeeded":
      return { text: "Succeeded", tone: "good" };
    case "finished_with_failures":
      return { text: `Finished, ${plural(failed, "page")} failed`, tone: "warn" };
    case "failed":
      return { text: "Failed", tone: "bad" };
    case "cancelled":
      return { text: "Cancelled", tone: "neutral" };
  }
  return state === "PENDING" ? { text: "Waiting", tone: "busy" } : { text: "Running", tone: "busy" };
}

/** A date and time in the editor's locale, short. */
export function formatDateTime(iso: string | null | undefined, locale?: string): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(locale, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** Where a batch runs, when that matters to the editor. */
export function whereItRuns(status: TaskStatus, thisHost: string): string {
  if (status.source === "elsewhere") return "run by another application";
  const host = status.owner.split(":")[0] ?? "";
  const place = host && host !== thisHost ? `on ${host}` : "on this computer";
  if (status.source === "local_record") return `${place}, tracked on this computer only`;
  return place;
}

/** The HTML language tag for a Tesseract language spec ("san+eng" → "sa"). */
export function htmlLang(spec: string): string {
  const first = spec.split("+")[0] ?? "";
  const tags: Record<string, string> = {
    ben: "bn",
    eng: "en",
    guj: "gu",
    hin: "hi",
    kan: "kn",
    mal: "ml",
    mar: "mr",
    san: "sa",
    tam: "ta",
    tel: "te",
  };
  return tags[first] ?? first;
}
