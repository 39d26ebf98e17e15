import { describe, expect, it } from "vitest";

import type { RedisHealth } from "./backend";
import { redisLine } from "./redis";

const down = (retryAt: number | null): RedisHealth => ({
  state: "unreachable",
  url: "redis://***@db:6379/0",
  message: "redis at 'redis://***@db:6379/0' is unreachable (connection refused)",
  retry_at_ms: retryAt,
});

describe("redisLine", () => {
  it("says connected with the server", () => {
    const line = redisLine(
      { state: "connected", url: "redis://db:6379/0", message: null, retry_at_ms: null },
      0,
    );
    expect(line).toEqual({ tone: "ok", text: "Redis connected · redis://db:6379/0" });
  });
  it("counts down to the next attempt while unreachable", () => {
    expect(redisLine(down(10_000), 3_200).text).toBe(
      "Redis unreachable, tracking on this computer, retrying in 7 s",
    );
    expect(redisLine(down(10_000), 10_500).text).toBe(
      "Redis unreachable, tracking on this computer, retrying now",
    );
    expect(redisLine(down(null), 0).tone).toBe("warn");
  });
  it("is pending before the first answer", () => {
    expect(redisLine(null, 0)).toEqual({ tone: "pending", text: "Connecting to Redis…" });
  });
});
