// Project titles by slug, for screens that know a batch but not its
// project (progress, the running strip). Filled from the project list.

import { SvelteMap } from "svelte/reactivity";

import { backend, type ProjectSummary } from "./backend";

class Titles {
  readonly bySlug = new SvelteMap<string, string>();
  private loading: Promise<void> | null = null;

  remember(projects: ProjectSummary[]): void {
    for (const project of projects) this.bySlug.set(project.slug, project.title);
  }

  /** The title, or the slug until the list has been read. */
  of(slug: string): string {
    if (!this.bySlug.has(slug)) void this.load();
    return this.bySlug.get(slug) ?? slug;
  }

  private load(): Promise<void> {
    this.loading ??= backend
      .listProjects()
      .then((projects) => this.remember(projects))
      .catch(() => undefined)
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }
}

export const titles = new Titles();
