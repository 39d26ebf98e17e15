// Which screen is shown. The app has a handful of screens and no URLs to
// keep, so a small state object stands in for a router.

export type View =
  | { name: "projects" }
  | { name: "project"; slug: string; pageId?: string }
  | { name: "run"; slug: string; onlyPages?: string[] }
  | { name: "progress"; taskId: string }
  | { name: "history" }
  | { name: "settings" };

class Router {
  current = $state<View>({ name: "projects" });

  go(view: View): void {
    this.current = view;
  }
}

export const router = new Router();
