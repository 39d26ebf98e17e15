#!/usr/bin/env bash
# OCRs one project of the sample library with `kdesk`, end to end, with a
# live progress bar: installs what is missing, builds, makes sure Redis
# answers, then runs `kdesk ocr`. Usage: scripts/ocr-demo.sh [slug] [kdesk ocr options]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/install-deps.sh
cargo build --release -q -p kdesk-cli
export KDESK_LIBRARY; KDESK_LIBRARY="$(bash scripts/sample-library.sh)"
bash scripts/ensure-redis.sh
slug="${1:-}"
if [ -z "$slug" ]; then
  if [ -d "$KDESK_LIBRARY/san-tulasi-scan" ]; then slug=san-tulasi-scan; else slug=english-sample; fi
else
  shift
fi
echo "library: $KDESK_LIBRARY   project: $slug   (watch it from another terminal: target/release/kdesk status $slug)"
exec "$repo/target/release/kdesk" ocr "$slug" "$@"
