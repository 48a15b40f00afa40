#!/usr/bin/env bash
# sanitize.sh — the tests under AddressSanitizer (docs/reliability.md says
# which subset and why).
#
#   scripts/sanitize.sh            # CI's subset: the in-process targets but six
#                                  # compiler suites (about 80 s of tests)
#   scripts/sanitize.sh long       # every in-process target (about 32 min)
#   scripts/sanitize.sh all        # every test target, the CLI tests too
#
# XCTest itself leaks, so leak detection is off; every other ASan check
# (heap/stack/global overflow, use after free, double free) is on and any
# report fails the run. swiftc has no -sanitize=undefined on Linux; Swift's
# own checks (overflow, bounds, unwrap: traps in debug and release) cover
# that class in Swift code, and the tests run the debug build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
subset='GencSupportTests|GencSyntaxTests|GencSpecTests|GencIRTests|GencLowerTests|GencPassesTests|GencPlanTests|GencKernelsTests|GencRuntimeTests|GencTrainTests'
# The six suites that lower and compile every reference model: 30 of the 32
# minutes under ASan, in safe Swift (no unsafe pointers), which the fast
# suites and the fuzz targets reach too.
slow='\.(LoweringTests|ModelsTests|SimplifyTests|PassTests|OptimizedPlanTests|ReferenceModelTests)/'
log="$(mktemp)"
if ! swift build --build-tests --sanitize=address --scratch-path .build-asan >"$log" 2>&1; then
  echo "sanitize: the ASan build failed:"; grep -E "error" "$log" | head -20; exit 1
fi
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
case "${1:-ci}" in
  all) swift test --skip-build --sanitize=address --scratch-path .build-asan ;;
  long) swift test --skip-build --sanitize=address --scratch-path .build-asan --filter "$subset" ;;
  ci) swift test --skip-build --sanitize=address --scratch-path .build-asan --filter "$subset" --skip "$slow" ;;
  *) echo "usage: scripts/sanitize.sh [ci|long|all]"; exit 64 ;;
esac
