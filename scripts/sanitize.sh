#!/usr/bin/env bash
# sanitize.sh — the test suite's in-process subset under AddressSanitizer
# (docs/reliability.md says which targets and why).
#
#   scripts/sanitize.sh            # the CI subset
#   scripts/sanitize.sh all        # every test target (about 3x the plain run)
#
# XCTest itself leaks, so leak detection is off (TOOLCHAIN.md); every other
# ASan check (heap/stack/global overflow, use after free, double free) is on
# and any report fails the run. swiftc has no -sanitize=undefined on Linux;
# Swift's own checks (overflow, bounds, unwrap: traps in debug and release)
# cover that class in Swift code, and the tests run the debug build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
subset='GencSupportTests|GencSyntaxTests|GencSpecTests|GencIRTests|GencLowerTests|GencPassesTests|GencPlanTests|GencKernelsTests|GencRuntimeTests|GencTrainTests'
log="$(mktemp)"
if ! swift build --build-tests --sanitize=address --scratch-path .build-asan >"$log" 2>&1; then
  echo "sanitize: the ASan build failed:"; grep -E "error" "$log" | head -20; exit 1
fi
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
if [ "${1:-}" = all ]; then
  swift test --skip-build --sanitize=address --scratch-path .build-asan
else
  swift test --skip-build --sanitize=address --scratch-path .build-asan --filter "$subset"
fi
