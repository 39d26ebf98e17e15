// The UI's one door to the backend. Every command is a typed function here,
// built on the bindings generated from the Rust types (bindings.ts); the one
// backend event arrives through `onAppEvent`. Components and stores import
// from this module only: none calls `invoke`, spells a command or event
// name, or builds a page-image URL by hand.

import { convertFileSrc } from "@tauri-apps/api/core";

import {
  commands,
  events,
  PAGE_SCHEME,
  type AppError_Serialize,
  type AppEvent_Serialize,
  type BatchPreview_Serialize,
  type ErrorCode,
  type FieldError,
  type HistoryEntry_Serialize,
  type LastBatch_Serialize,
  type Outcome,
  type Overview_Serialize,
  type PageInfo_Serialize,
  type PageText_Serialize,
  type ProjectDetail_Serialize,
  type ProjectSummary_Serialize,
  type RedisHealth_Serialize,
  type RunOptions_Deserialize,
  type SettingsInput,
  type SettingsView,
  type SkipGroup,
  type StartedBatch_Serialize,
  type TaskState,
  type TaskStatus_Serialize,
} from "./bindings";

// The shapes as the backend sends them, under plain names.
export type AppEvent = AppEvent_Serialize;
export type BatchPreview = BatchPreview_Serialize;
export type HistoryEntry = HistoryEntry_Serialize;
export type LastBatch = LastBatch_Serialize;
export type Overview = Overview_Serialize;
export type PageInfo = PageInfo_Serialize;
export type PageText = PageText_Serialize;
export type ProjectDetail = ProjectDetail_Serialize;
export type ProjectSummary = ProjectSummary_Serialize;
export type RedisHealth = RedisHealth_Serialize;
export type RunOptions = RunOptions_Deserialize;
export type StartedBatch = StartedBatch_Serialize;
export type TaskStatus = TaskStatus_Serialize;
export type {
  ErrorCode,
  FieldError,
  Outcome,
  SettingsInput,
  SettingsView,
  SkipGroup,
  TaskState,
};

/** A command's refusal, as `{code, message}` (and `fields` for settings). */
export class BackendError extends Error {
  readonly code: ErrorCode;
  readonly fields: FieldError[];

  constructor(error: AppError_Serialize) {
    super(error.message);
    this.name = "BackendError";
    this.code = error.code;
    this.fields = error.fields ?? [];
  }
}

type Outcome_<T> = { status: "ok"; data: T } | { status: "error"; error: AppError_Serialize };

async function unwrap<T>(call: Promise<Outcome_<T>>): Promise<T> {
  const result = await call;
  if (result.status === "error") {
    throw new BackendError(result.error);
  }
  return result.data;
}

export const backend = {
  overview: (): Promise<Overview> => unwrap(commands.appOverview()),
  listProjects: (): Promise<ProjectSummary[]> => unwrap(commands.listProjects()),
  projectDetail: (slug: string): Promise<ProjectDetail> =>
    unwrap(commands.projectDetail(slug)),
  pageText: (slug: string, pageId: string): Promise<PageText> =>
    unwrap(commands.pageText(slug, pageId)),
  previewBatch: (slug: string, options: RunOptions): Promise<BatchPreview> =>
    unwrap(commands.previewBatch(slug, options)),
  startBatch: (slug: string, options: RunOptions): Promise<StartedBatch> =>
    unwrap(commands.startBatch(slug, options)),
  cancelBatch: (slug: string): Promise<TaskStatus> => unwrap(commands.cancelBatch(slug)),
  batchStatus: (taskId: string): Promise<TaskStatus | null> =>
    unwrap(commands.batchStatus(taskId)),
  ongoingBatches: (): Promise<TaskStatus[]> => unwrap(commands.ongoingBatches()),
  history: (limit: number): Promise<HistoryEntry[]> => unwrap(commands.batchHistory(limit)),
  redisHealth: (): Promise<RedisHealth> => unwrap(commands.redisHealth()),
  getSettings: (): Promise<SettingsView> => unwrap(commands.getSettings()),
  saveSettings: (input: SettingsInput): Promise<SettingsView> =>
    unwrap(commands.saveSettings(input)),
};

export type Backend = typeof backend;

/** Calls `handler` with every backend event; resolves to an unsubscribe. */
export async function onAppEvent(handler: (event: AppEvent) => void): Promise<() => void> {
  return events.appEvent.listen((event) => handler(event.payload as AppEvent));
}

/** The URL of a page's image, scaled to `width` pixels. */
export function pageImageUrl(slug: string, pageId: string, width: number): string {
  return `${convertFileSrc(`${slug}/${pageId}`, PAGE_SCHEME)}?w=${Math.round(width)}`;
}
