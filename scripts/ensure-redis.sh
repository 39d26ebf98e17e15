#!/usr/bin/env bash
# Makes sure a Redis answers at REDIS_URL. When REDIS_URL is unset and
# nothing answers on localhost:6379, starts Debian's redis-server there in
# the background (no persistence to disk beyond Redis's defaults).
set -euo pipefail
if [ -n "${REDIS_URL:-}" ]; then
  redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1 \
    || echo "warning: nothing answers at REDIS_URL; kdesk will track progress locally until it does" >&2
  exit 0
fi
if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  exit 0
fi
redis-server --port 6379 --bind 127.0.0.1 --daemonize yes \
  --dir "${TMPDIR:-/tmp}" --logfile "${TMPDIR:-/tmp}/kdesk-redis.log" >/dev/null
for _ in $(seq 50); do
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && { echo "started redis-server on 127.0.0.1:6379"; exit 0; }
  sleep 0.1
done
echo "error: could not start redis-server on 127.0.0.1:6379; see ${TMPDIR:-/tmp}/kdesk-redis.log" >&2
exit 1
