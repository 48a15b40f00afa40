#!/bin/sh
# bench-sgemm.sh — OpenBLAS sgemm throughput on this machine, C only (no genc).
#
# Builds bench/sgemm_c.c against Debian's OpenBLAS and runs M=K=N (default
# 1024) with OPENBLAS_CORETYPE unset and set to the kernel the CPU supports
# (SkylakeX with avx512f, Haswell with avx2), on 1 and 2 threads.
#   usage: scripts/bench-sgemm.sh [SIZE] [SECONDS_PER_RUN]
set -eu
cd "$(dirname "$0")/.."
size=${1:-1024}
secs=${2:-0.5}
out=${TMPDIR:-/tmp}/genc-sgemm-bench
cc -O2 -o "$out" bench/sgemm_c.c $(pkg-config --cflags --libs openblas) -lm

if grep -m1 '^flags' /proc/cpuinfo | grep -qw avx512f; then core=SkylakeX
elif grep -m1 '^flags' /proc/cpuinfo | grep -qw avx2; then core=Haswell
else core=""; fi

for threads in 1 2; do
    env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=$threads "$out" "$size" "$size" "$size" "$secs"
    if [ -n "$core" ]; then
        OPENBLAS_CORETYPE=$core OPENBLAS_NUM_THREADS=$threads "$out" "$size" "$size" "$size" "$secs"
    fi
done
