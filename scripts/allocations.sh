#!/usr/bin/env bash
# allocations.sh — issue 11's bar, checked on a release build: a training
# step of each reference model makes no heap allocation after warm-up, on 1
# and on 2 threads. `genc bench` counts every malloc, calloc, realloc and
# aligned allocation of every thread over the timed runs (CAllocationCounter,
# docs/runtime.md). Exits 1 if any count is not 0.
#
#   scripts/allocations.sh            # the four reference models at their dims
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product genc >/dev/null
status=0
for model in mlp-gan dcgan vae char-lstm; do
    for threads in 1 2; do
        json=$(.build/release/genc bench "models/$model.yaml" --threads "$threads" --steps 3 --warmup 2 --json)
        counts=$(printf '%s\n' "$json" | grep -o '"allocations_per_run": *[0-9.e+-]*' | sed 's/.*: *//' | tr '\n' ' ')
        if [ -z "$counts" ] || printf '%s\n' $counts | grep -qv "^0\.0$"; then status=1; fi
        echo "allocations: $model, $threads thread(s), per run of the step and of each program: $counts"
    done
done
if [ "$status" -ne 0 ]; then echo "allocations: FAILED: a training step allocated on the heap" >&2; fi
exit "$status"
