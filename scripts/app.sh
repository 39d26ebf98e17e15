#!/usr/bin/env bash
# Builds and launches Kalanjiyam Desk, the desktop app, ready to use:
# system packages, the UI's packages, the build, a Redis to track batches
# in, and a library with a sample project when it has none.
#
# Usage: scripts/app.sh [--release] [--build-only]
#   --release     an optimised build (slower to build, lighter to run)
#   --build-only  stop after building; print the binary's path
#
# Redis: REDIS_URL when set (only checked: the app also works without Redis,
# tracking on this computer). When unset and nothing answers on
# localhost:6379, a local `redis-server --daemonize yes` is started there
# (scripts/ensure-redis.sh). Library: KDESK_LIBRARY, else
# ~/.local/share/kalanjiyam-desk/library (as for `kdesk`), given the bundled
# English sample and, when ../shared/corpus (or KDESK_CORPUS) exists, the
# corpus projects (scripts/sample-library.sh).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
if ! command -v cargo >/dev/null && [[ -x $HOME/.cargo/bin/cargo ]]; then
  PATH=$HOME/.cargo/bin:$PATH
fi

say() { printf 'app: %s\n' "$*"; }
die() {
  printf 'app: error: %s\n' "$*" >&2
  exit 1
}

profile=debug
build_only=0
for arg in "$@"; do
  case $arg in
    --release) profile=release ;;
    --build-only) build_only=1 ;;
    -h | --help)
      sed -n '2,16p' "$0"
      exit 0
      ;;
    *) die "unknown argument '$arg'; see --help" ;;
  esac
done

# Step 1: packages and the build.
bash scripts/install-deps.sh --app
say "installing the UI's packages"
npm ci --prefix ui --no-audit --no-fund >/dev/null
say "building the UI and the app ($profile)"
npm run build --prefix ui >/dev/null
cargo_args=(build -p kdesk-app --features custom-protocol)
[[ $profile == release ]] && cargo_args+=(--release)
cargo "${cargo_args[@]}"
target_dir=$(cargo metadata --format-version 1 --no-deps |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
app=$target_dir/$profile/kalanjiyam-desk
[[ -x $app ]] || die "the build did not produce '$app'"
if ((build_only)); then
  echo "$app"
  exit 0
fi

# Step 2: Redis (the app also works without it, tracking on this computer).
bash scripts/ensure-redis.sh || say "warning: the app tracks batches on this computer until Redis answers"

# Step 3: a library with projects to try.
library=$(bash scripts/sample-library.sh)

# Step 4: launch.
if [[ -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} ]]; then
  die "no display (DISPLAY and WAYLAND_DISPLAY are unset); run this in a desktop session, or under Xvfb"
fi
say "launching $app"
export KDESK_LIBRARY=$library
exec "$app"
