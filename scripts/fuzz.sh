#!/usr/bin/env bash
# fuzz.sh — runs genc's libFuzzer targets (Fuzz/GencFuzz), each for a time budget.
#
#   scripts/fuzz.sh all 20            # every target for 20 s (CI's short budget)
#   scripts/fuzz.sh plan 600          # one target for 10 minutes
#   scripts/fuzz.sh --merge model 600 # and merge what it found into Fuzz/corpus/model
#   scripts/fuzz.sh --runs 1000000 ir # a fixed number of executions instead of a time
#
# Targets: model expr ir safetensors plan idx gzip cifar10 text (GencFuzz.swift
# says what each feeds). Each starts from its committed corpus Fuzz/corpus/TARGET
# plus the seeds named below (models/, the test corpora); new inputs go to a
# scratch directory unless --merge. A crash, leak, timeout (10 s per input) or
# out-of-memory (2 GiB) stops the target; the input is saved as
# Fuzz/crashes/TARGET-* and the script exits 1. Reproduce one with
#   GENC_FUZZ_TARGET=TARGET .build-fuzz/release/GencFuzz Fuzz/crashes/TARGET-...
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

merge=0
runs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --merge) merge=1; shift ;;
    --runs) runs="$2"; shift 2 ;;
    *) break ;;
  esac
done
target="${1:?usage: scripts/fuzz.sh [--merge] [--runs N] TARGET|all [SECONDS]}"
seconds="${2:-60}"
all_targets=(model expr ir safetensors plan idx gzip cifar10 text)
if [ "$target" = all ]; then targets=("${all_targets[@]}"); else targets=("$target"); fi

# GENC_FUZZER=PATH runs a binary built earlier (a long run while the sources change).
fuzzer="${GENC_FUZZER:-}"
if [ -z "$fuzzer" ]; then
  if ! GENC_FUZZ=1 swift build -c release --sanitize=fuzzer --product GencFuzz --scratch-path .build-fuzz >"$(mktemp)" 2>&1; then
    echo "fuzz: building GencFuzz failed:"; GENC_FUZZ=1 swift build -c release --sanitize=fuzzer --product GencFuzz --scratch-path .build-fuzz 2>&1 | grep -E "error" | head -20
    exit 1
  fi
  fuzzer=.build-fuzz/release/GencFuzz
fi

seeds_for() {
  case "$1" in
    model) echo "models models/examples Tests/Corpus/invalid Tests/Corpus/adversarial Tests/GencLowerTests/Golden" ;;
    safetensors) echo "Tests/GencRuntimeTests/Fixtures" ;;
    *) echo "" ;;
  esac
}
max_len_for() {
  case "$1" in
    plan) echo 262144 ;;
    cifar10) echo 16384 ;;
    safetensors) echo 131072 ;;
    idx|gzip) echo 65536 ;;
    *) echo 16384 ;;
  esac
}

mkdir -p Fuzz/crashes
status=0
for t in "${targets[@]}"; do
  corpus="Fuzz/corpus/$t"
  mkdir -p "$corpus"
  scratch="$(mktemp -d)"
  mkdir -p "$scratch/new" "$scratch/tmp"
  # Seeds that are files of another kind (models/ holds .yaml among others) are read as they are.
  seeds=()
  for s in $(seeds_for "$t"); do [ -d "$s" ] && seeds+=("$s"); done
  budget=(-max_total_time="$seconds")
  [ -n "$runs" ] && budget=(-runs="$runs")
  if [ -n "$runs" ]; then what="$runs runs"; else what="$seconds s"; fi
  echo "fuzz: $t ($what) from $corpus ${seeds[*]:-}"
  log="$scratch/log"
  started=$(date +%s)
  # The Swift backtracer would take the trap signal before libFuzzer, which then saves no input.
  if SWIFT_BACKTRACE=enable=no GENC_FUZZ_TARGET="$t" TMPDIR="$scratch/tmp" "$fuzzer" "${budget[@]}" -timeout=10 -rss_limit_mb=2048 \
       -max_len="$(max_len_for "$t")" -print_final_stats=1 -artifact_prefix="Fuzz/crashes/$t-" \
       "$scratch/new" "$corpus" "${seeds[@]}" >"$log" 2>&1; then
    runs_done=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz: $t clean, $runs_done executions in $(( $(date +%s) - started )) s"
  else
    status=1
    echo "fuzz: $t FAILED"; grep -E "ERROR|Fatal|SUMMARY|crash-|timeout-|oom-|leak-" "$log" | head -20
    tail -40 "$log"
  fi
  if [ "$merge" = 1 ]; then
    GENC_FUZZ_TARGET="$t" TMPDIR="$scratch/tmp" "$fuzzer" -merge=1 -max_len="$(max_len_for "$t")" "$corpus" "$scratch/new" >/dev/null 2>&1 || true
    echo "fuzz: $t corpus now $(ls "$corpus" | wc -l) files"
  fi
  rm -rf "$scratch"
done
exit $status
