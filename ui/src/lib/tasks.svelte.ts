// Every batch the UI knows of, kept current by backend events and by asking
// for statuses when a view opens or the connection comes back. Views read
// from here; only this store and the event wiring in App.svelte write to it.

import { SvelteMap } from "svelte/reactivity";

import { backend, type TaskStatus } from "./backend";
import { isNews, runningOn } from "./tasks";

class TaskStore {
  /** Latest status by task id. */
  readonly byId = new SvelteMap<string, TaskStatus>();

  /** Takes in a status unless an as-new or newer one is held. */
  apply(status: TaskStatus): void {
    if (isNews(this.byId.get(status.task_id), status)) {
      this.byId.set(status.task_id, status);
    }
  }

  remove(taskId: string): void {
    this.byId.delete(taskId);
  }

  get(taskId: string): TaskStatus | undefined {
    return this.byId.get(taskId);
  }

  runningOn(slug: string): TaskStatus | undefined {
    return runningOn(this.byId.values(), slug);
  }

  /** Reads every unfinished batch again (on launch and reconnects). */
  async syncOngoing(): Promise<TaskStatus[]> {
    const ongoing = await backend.ongoingBatches();
    for (const status of ongoing) this.apply(status);
    return ongoing;
  }

  /** Reads one batch again (when its view opens). */
  async refresh(taskId: string): Promise<TaskStatus | undefined> {
    const status = await backend.batchStatus(taskId);
    if (status) this.apply(status);
    return this.byId.get(taskId);
  }
}

export const tasks = new TaskStore();
