#!/usr/bin/env bash
# bench-compare.sh REV: make bench's figures for the planner at REV (default
# origin's main, else HEAD~1) and for the working tree, side by side in one
# run — suite by suite, REV first, so that both see the same machine. Prints
# each suite's summary lines of both; the full JSON lines go to
# build/bench-compare-<suite>-{base,current}.log.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rev=${1:-HEAD~1}
mkdir -p bin build
base=build/bench-base
rm -rf "$base"
git worktree add -q --detach "$base" "$rev"
trap 'git worktree remove --force "$base" >/dev/null 2>&1 || true' EXIT
(cd "$base" && go build -o "$root/bin/mcllm-bench-base" ./cmd/mcllm-bench)
go build -o bin/mcllm-bench ./cmd/mcllm-bench
for suite in ${SUITES:-quality scale stability}; do
  for side in base current; do
    bin=bin/mcllm-bench
    [ "$side" = base ] && bin=bin/mcllm-bench-base
    "$bin" -suite "$suite" >"build/bench-compare-$suite-$side.log" 2>&1
  done
  echo "## $suite"
  for side in base current; do
    # The summary is the run's last lines, after the per-case progress.
    sed -n '/^Quality:\|^Production-shaped:\|^Cases above\|^No case\|^Planner costlier\|^Scale:\|^Stability:\|^Every planner/p' \
      "build/bench-compare-$suite-$side.log" | sed "s/^/$side ($(git rev-parse --short "$([ "$side" = base ] && echo "$rev" || echo HEAD)")$([ "$side" = current ] && [ -n "$(git status --porcelain -- internal cmd)" ] && echo '+changes')): /"
  done
done
