// The Redis status line: connected, or unreachable with a countdown to the
// next attempt, which the backend schedules and the UI only counts down.

import type { RedisHealth } from "./backend";

export type RedisLine = { tone: "ok" | "warn" | "pending"; text: string };

export function redisLine(health: RedisHealth | null, nowMs: number): RedisLine {
  if (!health || health.state === "connecting") {
    return { tone: "pending", text: "Connecting to Redis…" };
  }
  if (health.state === "connected") {
    return { tone: "ok", text: `Redis connected · ${health.url}` };
  }
  const seconds =
    health.retry_at_ms == null ? null : Math.max(0, Math.ceil((health.retry_at_ms - nowMs) / 1000));
  const retry = seconds == null || seconds === 0 ? "retrying now" : `retrying in ${seconds} s`;
  return { tone: "warn", text: `Redis unreachable, tracking on this computer, ${retry}` };
}
