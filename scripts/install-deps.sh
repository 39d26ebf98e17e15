#!/usr/bin/env bash
# Installs the system packages that building and testing kdesk need, on a
# Debian or Ubuntu machine, and checks that a Rust toolchain is there.
#
# Usage: scripts/install-deps.sh [--app]
#   --app   also install the desktop app's packages (WebKitGTK, Xvfb, D-Bus...)
#
# Only missing packages are installed, so a second run changes nothing and
# needs no network. `apt-get update` runs at most once, and only when
# something is missing. If another apt or dpkg holds the lock, this waits for
# it (up to 5 minutes) instead of failing.
#
# redis-server is installed for its binary: tests start their own servers on
# free ports. The system service is left as the package leaves it.
#
# Currently no Rust toolchain is installed here: a missing cargo, rustfmt or
# clippy is reported with the command to run, and the script exits 1.
set -euo pipefail

readonly LOCK_WAIT_SECONDS=300
readonly RUST_MIN_VERSION=1.88

readonly BASE_PACKAGES=(
  build-essential pkg-config
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-san tesseract-ocr-tam tesseract-ocr-hin
  tesseract-ocr-osd
  redis-server
  poppler-utils imagemagick libtiff-tools time
  curl ca-certificates
)
readonly APP_PACKAGES=(
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  xvfb dbus dbus-x11 webkit2gtk-driver dunst libx11-dev
  fonts-lohit-deva fonts-lohit-taml
)

say() { printf 'install-deps: %s\n' "$*"; }
die() {
  printf 'install-deps: error: %s\n' "$*" >&2
  exit 1
}

want_app=0
for arg in "$@"; do
  case $arg in
    --app) want_app=1 ;;
    -h | --help)
      sed -n '2,7p' "$0"
      exit 0
      ;;
    *) die "unknown argument '$arg'; the only option is --app" ;;
  esac
done

# Whether dpkg has package $1 fully installed.
is_installed() {
  local status
  status=$(dpkg -s "$1" 2>/dev/null) || return 1
  grep -qE '^Status: [a-z]+ ok installed$' <<<"$status"
}

# Runs `apt-get "$@"` quietly as root. Waits while another apt or dpkg holds
# its lock; on any other failure shows the end of apt's output and exits.
apt_log=$(mktemp)
trap 'rm -f "$apt_log"' EXIT
sudo_cmd=()
run_apt() {
  local deadline=$((SECONDS + LOCK_WAIT_SECONDS)) told=0
  while true; do
    local left=$((deadline - SECONDS))
    ((left > 0)) || left=1
    if "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get -q -y -o "DPkg::Lock::Timeout=$left" "$@" >"$apt_log" 2>&1; then
      return 0
    fi
    if grep -qE 'Could not get lock|Unable to lock|Unable to acquire the dpkg frontend lock' \
      "$apt_log" && ((SECONDS < deadline)); then
      if ((told == 0)); then
        say "another apt/dpkg holds the lock; waiting up to ${LOCK_WAIT_SECONDS}s"
        told=1
      fi
      sleep 5
      continue
    fi
    tail -n 25 "$apt_log" >&2
    die "'apt-get $*' failed (its output ends above)"
  done
}

# Step 1: system packages.
if ! command -v dpkg >/dev/null || ! command -v apt-get >/dev/null; then
  die "dpkg or apt-get not found: this script is for Debian or Ubuntu; \
install the packages it lists by hand"
fi

wanted=("${BASE_PACKAGES[@]}")
if ((want_app)); then
  wanted+=("${APP_PACKAGES[@]}")
  # A node from elsewhere (nvm, a tarball) is kept: Debian's would shadow it.
  command -v node >/dev/null || wanted+=(nodejs npm)
fi

missing=()
for package in "${wanted[@]}"; do
  is_installed "$package" || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  say "system packages: all ${#wanted[@]} present"
else
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null ||
      die "not root and no sudo; as root run: apt-get install ${missing[*]}"
    sudo_cmd=(sudo)
  fi
  say "apt-get update (missing: ${missing[*]})"
  run_apt update
  say "installing ${#missing[@]} package(s): ${missing[*]}"
  run_apt install "${missing[@]}"
  for package in "${missing[@]}"; do
    is_installed "$package" ||
      die "'$package' is still not installed after apt-get install; run it by hand to see why"
  done
fi
if ((want_app)) && ! command -v npm >/dev/null; then
  die "node is installed but npm is not; install npm for that node, then run this again"
fi

# Step 2: the Rust toolchain (checked, never downloaded).
if ! command -v cargo >/dev/null; then
  if [[ -x $HOME/.cargo/bin/cargo ]]; then
    die "cargo is in ~/.cargo/bin but not on PATH; run '. \"\$HOME/.cargo/env\"' and retry"
  fi
  die "no Rust toolchain (cargo not found); install rustup (https://rustup.rs) with \
'--profile minimal -c rustfmt,clippy', open a new shell and run this again"
fi
rust_version=$(rustc --version | awk '{print $2}')
if [[ $(printf '%s\n' "$RUST_MIN_VERSION" "$rust_version" | sort -V | head -n 1) != \
  "$RUST_MIN_VERSION" ]]; then
  die "rustc $rust_version is older than $RUST_MIN_VERSION; run 'rustup update stable'"
fi
for component in fmt clippy; do
  cargo "$component" --version >/dev/null 2>&1 ||
    die "cargo $component is missing; run 'rustup component add rustfmt clippy'"
done
say "rust: rustc $rust_version with rustfmt and clippy"
