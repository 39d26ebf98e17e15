#!/usr/bin/env bash
# Runs every benchmark end to end and writes the report:
#   bench-report/report.md   the tables
#   bench-report/raw.json    every figure measured
#
# Usage: scripts/bench.sh [--quick] [kdesk-bench options...]
#   --quick   a few minutes: one repetition, three pages per project,
#             at most 10,000 tracked tasks, criterion in its --quick mode
#
# It installs missing system packages (scripts/install-deps.sh), builds the
# release `kdesk` and the benchmark, runs the criterion benchmark of the
# status path, then `kdesk-bench`, which starts its own redis-server on a
# free port. Run it on a quiet machine: other load is measured and
# reported, not prevented. Full mode takes about 15 minutes on 2 cores.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
if ! command -v cargo >/dev/null && [[ -x $HOME/.cargo/bin/cargo ]]; then
  PATH=$HOME/.cargo/bin:$PATH
fi
if [[ -z ${KDESK_CORPUS:-} && -d $repo/../shared/corpus ]]; then
  KDESK_CORPUS=$(cd "$repo/../shared/corpus" && pwd)
  export KDESK_CORPUS
fi

quick=0
passed=()
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    -h | --help)
      sed -n '2,15p' "$0"
      exit 0
      ;;
    *) passed+=("$arg") ;;
  esac
done

say() { printf 'bench: %s\n' "$*"; }

bash scripts/install-deps.sh
say "building release binaries"
cargo build --release -p kdesk-cli -p kdesk-bench
target=${CARGO_TARGET_DIR:-$repo/target}

say "criterion: status look-ups"
criterion_args=()
if ((quick)); then
  criterion_args=(--quick)
  export KDESK_BENCH_QUICK=1
fi
rm -rf "$target/criterion/status"
cargo bench -p kdesk-bench --bench status -- "${criterion_args[@]}"
unset KDESK_BENCH_QUICK

mode_args=()
((quick)) && mode_args=(--quick)
say "whole-process runs"
"$target/release/kdesk-bench" --out "$repo/bench-report" --kdesk "$target/release/kdesk" \
  --criterion "$target/criterion" "${mode_args[@]}" "${passed[@]}"
