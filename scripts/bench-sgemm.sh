#!/bin/sh
# bench-sgemm.sh — sgemm N×N×N GFLOP/s in genc beside the same cblas_sgemm
# call from a C program, alternating in one run (these machines are noisy:
# compare in one run, quote medians).
#
# genc is run with OPENBLAS_CORETYPE unset, so it must choose the fast kernel
# itself (it re-executes with the kernel the CPU supports). The C program gets
# that same kernel set explicitly, and also runs once with it unset to show
# what OpenBLAS would pick on its own.
#   usage: scripts/bench-sgemm.sh [SIZE] [ROUNDS]    (defaults 1024, 3)
set -eu
cd "$(dirname "$0")/.."
size=${1:-1024}
rounds=${2:-3}
out=${TMPDIR:-/tmp}/genc-sgemm-bench
cc -O2 -o "$out" bench/sgemm_c.c $(pkg-config --cflags --libs openblas) -lm
swift build -c release --product genc >/dev/null
genc=.build/release/genc

if grep -m1 '^flags' /proc/cpuinfo | grep -qw avx512f; then core=SkylakeX
elif grep -m1 '^flags' /proc/cpuinfo | grep -qw avx2; then core=Haswell
else core=""; fi

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for threads in 1 2; do
    : >"$out.genc"; : >"$out.c"
    for r in $(seq "$rounds"); do
        env -u OPENBLAS_CORETYPE -u GENC_OPENBLAS_CHOSEN "$genc" bench --sgemm "$size" --threads "$threads" --steps 15 --json \
            | awk -F'"gflops": ' '/gflops/ {split($2, a, ","); print a[1]}' >>"$out.genc"
        env OPENBLAS_CORETYPE=${core:-} OPENBLAS_NUM_THREADS=$threads "$out" "$size" "$size" "$size" 0.3 \
            | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^gflops_median=/) {split($i, a, "="); print a[2]}}' >>"$out.c"
    done
    g=$(median <"$out.genc"); c=$(median <"$out.c")
    echo "sgemm ${size}³, $threads thread(s), median of $rounds rounds: genc $g GFLOP/s, C $c GFLOP/s, genc/C = $(awk -v g="$g" -v c="$c" 'BEGIN {printf "%.2f", g / c}')"
done
echo "for reference, OpenBLAS's own choice (OPENBLAS_CORETYPE unset), C, 1 thread:"
env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=1 "$out" "$size" "$size" "$size" 0.3
"$genc" --version
