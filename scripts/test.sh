#!/usr/bin/env bash
# The repository's whole test run, the same for developers and CI:
# system packages, formatting, lints, the Rust tests, then the UI's tests
# and the end-to-end tests when those exist. Works from any folder.
#
# KDESK_TEST_APP=1 installs the desktop app's packages even before the app's
# folder exists. KDESK_CORPUS defaults to the shared corpus beside the repo.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

export CARGO_TERM_COLOR=never
if [[ -z ${KDESK_CORPUS:-} && -d $repo/../shared/corpus ]]; then
  KDESK_CORPUS=$(cd "$repo/../shared/corpus" && pwd)
  export KDESK_CORPUS
fi
if ! command -v cargo >/dev/null && [[ -x $HOME/.cargo/bin/cargo ]]; then
  PATH=$HOME/.cargo/bin:$PATH
fi

step=""
done_steps=()
run_step() {
  step=$1
  shift
  printf '\n==> %s\n' "$step"
  "$@"
  done_steps+=("$step")
}
report_failure() {
  local rc=$?
  ((rc == 0)) || printf '\ntest.sh: FAILED in step "%s" (exit %d)\n' "$step" "$rc"
}
trap report_failure EXIT

deps_args=()
if [[ ${KDESK_TEST_APP:-0} == 1 || -d src-tauri || -d ui/src-tauri ]]; then
  deps_args=(--app)
fi
run_step "system packages" bash scripts/install-deps.sh "${deps_args[@]}"
run_step "cargo fmt" cargo fmt --all -- --check
run_step "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
run_step "cargo test" cargo test --workspace

if [[ -f ui/package.json ]]; then
  run_step "ui tests" bash -c 'npm ci --prefix ui && npm test --prefix ui'
fi
if [[ -f tests/e2e/run.sh ]]; then
  run_step "end-to-end tests" bash tests/e2e/run.sh
fi

summary=$(printf '%s, ' "${done_steps[@]}")
printf '\ntest.sh: all steps passed (%s)\n' "${summary%, }"
