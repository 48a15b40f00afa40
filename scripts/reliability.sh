#!/usr/bin/env bash
# reliability.sh — CI's reliability run (docs/reliability.md): every fuzz
# target for a short fixed budget from its committed corpus, then the test
# subset under AddressSanitizer. Exits non-zero on any crash, timeout,
# out-of-memory or sanitizer report.
#
#   scripts/reliability.sh         # 10 s per fuzz target, the CI ASan subset
#   scripts/reliability.sh 60      # a minute per target
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
start=$(date +%s)
scripts/fuzz.sh all "$seconds"
echo "reliability: fuzzing done in $(( $(date +%s) - start )) s"
mid=$(date +%s)
scripts/sanitize.sh
echo "reliability: sanitizer run done in $(( $(date +%s) - mid )) s"
