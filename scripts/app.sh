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
# localhost:6379, a local `redis-server --daemonize yes` is started there.
# Library: KDESK_LIBRARY, else ~/.local/share/kalanjiyam-desk/library (as
# for `kdesk`); when it holds no project, four pages of the corpus's
# san-tulasi-scan are copied in as the project "sample-tulasi". The corpus
# is KDESK_CORPUS, else ../shared/corpus beside the repository.
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
      sed -n '2,17p' "$0"
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

# Step 2: Redis.
if [[ -n ${REDIS_URL:-} ]]; then
  if redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
    say "redis answers at REDIS_URL"
  else
    say "warning: nothing answers at REDIS_URL; the app tracks batches on this computer and keeps retrying"
  fi
elif redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "redis answers on localhost:6379"
else
  say "starting a local redis-server on localhost:6379"
  redis-server --port 6379 --bind 127.0.0.1 --daemonize yes \
    --dir "${XDG_RUNTIME_DIR:-/tmp}" --logfile "${XDG_RUNTIME_DIR:-/tmp}/kdesk-redis.log" >/dev/null
  for _ in $(seq 50); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 ||
    say "warning: redis-server did not answer; the app tracks batches on this computer"
fi

# Step 3: a library with at least one project.
library=${KDESK_LIBRARY:-${XDG_DATA_HOME:-$HOME/.local/share}/kalanjiyam-desk/library}
mkdir -p "$library"
# A project is a folder with a project.toml or page images (as in kdesk).
found=$(find "$library" -mindepth 2 -maxdepth 3 -type f \( -name project.toml -o -iname '*.png' \
  -o -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.tif' -o -iname '*.tiff' -o -iname '*.webp' \) \
  -not -path '*/.*' -print -quit)
if [[ -z $found ]]; then
  corpus=${KDESK_CORPUS:-$repo/../shared/corpus}
  source_pages=$corpus/projects/san-tulasi-scan/pages
  if [[ -d $source_pages ]]; then
    say "adding the sample project 'sample-tulasi' to $library"
    mkdir -p "$library/sample-tulasi/pages"
    for n in 001 002 003 004; do
      cp "$source_pages/$n.tif" "$library/sample-tulasi/pages/"
    done
    chmod -R u+w "$library/sample-tulasi"
    printf 'title = "तुलसीविवाहविधिः (sample)"\nlanguage = "san"\n' >"$library/sample-tulasi/project.toml"
  else
    say "the library is empty and no corpus was found at '$corpus'; add a project folder of page images to $library"
  fi
fi

# Step 4: launch.
if [[ -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} ]]; then
  die "no display (DISPLAY and WAYLAND_DISPLAY are unset); run this in a desktop session, or under Xvfb"
fi
say "launching $app"
export KDESK_LIBRARY=$library
exec "$app"
