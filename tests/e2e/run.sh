#!/usr/bin/env bash
# End-to-end test of the desktop app: builds it, starts everything it needs
# in a private sandbox, drives it through WebDriver (app.e2e.mjs), and
# cleans up. Works from any folder; scripts/test.sh runs it.
#
# What it starts, each by pid and each stopped at the end: a redis-server on
# a free loopback port, Xvfb on a free display, a private D-Bus session with
# dunst (to show notifications) and dbus-monitor (to record them), and
# tauri-driver (which starts WebKitWebDriver, which starts the app). The
# library is a temporary folder with real corpus pages: four pages of
# san-tulasi-scan and two of tam-old-books.
#
# Screenshots, the app's log and measurements.json go to ci-artifacts/e2e/.
# KDESK_E2E_PROFILE=release tests an optimised build (debug by default).
# Needs the desktop app's packages (scripts/install-deps.sh --app); installs
# tauri-driver with cargo when it is missing. KDESK_CORPUS names the corpus
# when it is not at ../shared/corpus beside the repository.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
if ! command -v cargo >/dev/null && [[ -x $HOME/.cargo/bin/cargo ]]; then
  PATH=$HOME/.cargo/bin:$PATH
fi
PATH=$HOME/.cargo/bin:$PATH

say() { printf 'e2e: %s\n' "$*"; }
die() {
  printf 'e2e: error: %s\n' "$*" >&2
  exit 1
}

artifacts=$repo/ci-artifacts/e2e
mkdir -p "$artifacts"
rm -f "$artifacts"/*.png "$artifacts"/*.log "$artifacts"/measurements.json

corpus=${KDESK_CORPUS:-$repo/../shared/corpus}
[[ -d $corpus/projects/san-tulasi-scan/pages ]] ||
  die "no corpus at '$corpus'; set KDESK_CORPUS to the shared corpus folder"

# Step 1: tools.
for tool in Xvfb dbus-daemon dbus-monitor dunst redis-server redis-cli WebKitWebDriver \
  tesseract gcc node npm import; do
  command -v "$tool" >/dev/null ||
    die "'$tool' is missing; run scripts/install-deps.sh --app"
done
if ! command -v tauri-driver >/dev/null; then
  say "installing tauri-driver (cargo install tauri-driver --locked)"
  cargo install tauri-driver --locked --version '^2' >/dev/null
fi

# Step 2: build the UI, the app (serving the built UI) and the kdesk command.
[[ -d ui/node_modules ]] || npm ci --prefix ui --no-audit --no-fund
npm run build --prefix ui >/dev/null
profile=${KDESK_E2E_PROFILE:-debug}
case $profile in
  debug) profile_args=() ;;
  release) profile_args=(--release) ;;
  *) die "KDESK_E2E_PROFILE is '$profile'; use debug or release" ;;
esac
say "building the app and kdesk ($profile)"
cargo build -q -p kdesk-app --features custom-protocol "${profile_args[@]}"
cargo build -q -p kdesk-cli "${profile_args[@]}"
[[ -d tests/e2e/node_modules ]] || npm ci --prefix tests/e2e --no-audit --no-fund
target_dir=$(cargo metadata --format-version 1 --no-deps |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
app=$target_dir/$profile/kalanjiyam-desk
kdesk=$target_dir/$profile/kdesk

# Step 3: the sandbox.
work=$(mktemp -d -t kdesk-e2e.XXXXXX)
pids=()
cleanup() {
  local rc=$?
  # Whatever tauri-driver started (WebKitWebDriver, the app and its web
  # processes) is found by pid lineage, then everything is stopped by pid.
  if [[ -n ${driver_pid:-} ]]; then
    local tree
    tree=$(descendants "$driver_pid")
    for pid in $tree; do kill "$pid" 2>/dev/null || true; done
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
  done
  if [[ -n ${bus_pid:-} ]]; then kill "$bus_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  cp "$work"/*.log "$artifacts"/ 2>/dev/null || true
  rm -rf "$work"
  if ((rc != 0)); then
    say "failed; logs and screenshots are in $artifacts"
  fi
  exit "$rc"
}
trap cleanup EXIT

# Prints the pids of every process below $1 (children first).
descendants() {
  local parent=$1 child
  for child in $(ps -o pid= --ppid "$parent" 2>/dev/null); do
    descendants "$child"
    echo "$child"
  done
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

library=$work/library
mkdir -p "$library/san-tulasi/pages" "$library/tam-books/pages"
for n in 001 002 003 004; do
  cp "$corpus/projects/san-tulasi-scan/pages/$n.tif" "$library/san-tulasi/pages/"
done
for n in 001 002; do
  cp "$corpus/projects/tam-old-books/pages/$n.jpg" "$library/tam-books/pages/"
done
chmod -R u+w "$library"
printf 'title = "तुलसीविवाहविधिः"\nlanguage = "san"\n' >"$library/san-tulasi/project.toml"
printf 'title = "பழைய தமிழ் நூல்கள்"\nlanguage = "tam"\n' >"$library/tam-books/project.toml"

# The app recognises no pages itself: workers the test starts do, so that
# the test decides when pages finish.
export XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data XDG_CACHE_HOME=$work/cache
settings=$XDG_CONFIG_HOME/org.kalanjiyam.desk/settings.json
mkdir -p "$(dirname "$settings")"
printf '{ "workers": 0 }\n' >"$settings"

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
for _ in $(seq 50); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null || die "redis-server did not start (see $work/redis.log)"

exec 3>"$work/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
exec 3>&-
for _ in $(seq 50); do
  [[ -s $work/display ]] && break
  sleep 0.1
done
[[ -s $work/display ]] || die "Xvfb did not start (see $work/xvfb.log)"
export DISPLAY=:$(head -n 1 "$work/display")
export NO_AT_BRIDGE=1

bus=$(dbus-daemon --session --fork --print-address=1 --print-pid=1 --address="unix:path=$work/bus")
export DBUS_SESSION_BUS_ADDRESS=$(sed -n 1p <<<"$bus")
bus_pid=$(sed -n 2p <<<"$bus")
dunst >"$work/dunst.log" 2>&1 &
pids+=($!)
dbus-monitor --session "type='method_call',interface='org.freedesktop.Notifications',member='Notify'" \
  >"$work/notify.log" 2>&1 &
pids+=($!)

export KDESK_LIBRARY=$library REDIS_URL=redis://127.0.0.1:$redis_port/0
export KDESK_LOG_FILE=$work/app.log
driver_port=$(free_port)
native_port=$(free_port)
tauri-driver --port "$driver_port" --native-port "$native_port" >"$work/tauri-driver.log" 2>&1 &
driver_pid=$!
pids+=("$driver_pid")
for _ in $(seq 100); do
  node -e "fetch('http://127.0.0.1:$driver_port/status').then(()=>process.exit(0),()=>process.exit(1))" \
    2>/dev/null && break
  sleep 0.1
done

gcc -O1 -o "$work/xwindow" tests/e2e/xwindow.c -lX11

# Step 4: the test.
say "running on display $DISPLAY, redis port $redis_port"
KDESK_E2E_APP=$app KDESK_E2E_KDESK=$kdesk KDESK_E2E_XWINDOW=$work/xwindow \
  KDESK_E2E_DRIVER_URL=http://127.0.0.1:$driver_port/ KDESK_E2E_DRIVER_PID=$driver_pid \
  KDESK_E2E_ARTIFACTS=$artifacts KDESK_E2E_REDIS_PORT=$redis_port \
  KDESK_E2E_NOTIFY_LOG=$work/notify.log KDESK_E2E_SETTINGS_FILE=$settings KDESK_E2E_WORK=$work \
  node tests/e2e/app.e2e.mjs
say "passed; screenshots and measurements in $artifacts"
