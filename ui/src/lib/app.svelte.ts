// What the app's frame shows: this computer's name, the library, Redis's
// health and why the library cannot be used, if it cannot.

import { backend, type Overview, type RedisHealth } from "./backend";

class Frame {
  overview = $state<Overview | null>(null);
  health = $state<RedisHealth | null>(null);
  /** A problem reaching the backend itself. */
  problem = $state<string | null>(null);

  async load(): Promise<void> {
    try {
      this.overview = await backend.overview();
      this.health = this.overview.redis;
      this.problem = null;
    } catch (error) {
      this.problem = error instanceof Error ? error.message : String(error);
    }
  }
}

export const frame = new Frame();
