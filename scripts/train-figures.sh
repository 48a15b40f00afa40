#!/usr/bin/env bash
# The training figures of docs/training.md, measured on the machine at hand
# (release build). Each model is trained as issue 9 asks, then evaluated:
#   vae        1 epoch, batch 128  -> test-set negative ELBO (reference: 262.1)
#   mlp-gan    5 epochs            -> sample grids, final losses
#   dcgan      5 epochs            -> sample grids, final losses
#   char-lstm  2000 steps          -> held-out loss (reference: 1.59 nats/char) and sampled text
# Usage: scripts/train-figures.sh [MODEL ...] (default: all four); THREADS=N (default 2);
# OUT=DIR (default runs/figures). Takes about 35 minutes on 2 cores for all four.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${THREADS:-2}
out=${OUT:-runs/figures}
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(vae mlp-gan dcgan char-lstm)
swift build -c release >/dev/null
genc=.build/release/genc
mkdir -p "$out"
summary="$out/summary.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }
say "genc training figures, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, --threads $threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for m in "${models[@]}"; do
  dir="$out/$m"
  rm -rf "$dir"
  case "$m" in
    vae) args=(--epochs 1) ;;
    mlp-gan|dcgan) args=(--epochs 5) ;;
    char-lstm) args=(--steps 2000) ;;
    *) args=() ;;
  esac
  start=$(date +%s)
  "$genc" run "models/$m.yaml" "${args[@]}" --out "$dir" --threads "$threads" --progress lines > "$dir.stdout" 2> "$dir.stderr"
  took=$(( $(date +%s) - start ))
  say ""
  say "== $m: genc run models/$m.yaml ${args[*]} ($took s)"
  grep -E "steps \(|running loss" "$dir.stdout" | tee -a "$summary"
  case "$m" in
    vae)
      say "test-set negative ELBO (nats/image), reference 262.1 (262.0-262.2):"
      say "  batch 100 (all 10,000 test images): $("$genc" eval "models/$m.yaml" --split test --weights "$dir/checkpoint.safetensors" --dim batch=100 --threads "$threads" 2>/dev/null)"
      say "  batch 128 (78 batches):             $("$genc" eval "models/$m.yaml" --split test --weights "$dir/checkpoint.safetensors" --threads "$threads" 2>/dev/null)"
      ;;
    char-lstm)
      say "held-out loss (nats/char), reference 1.59 (lstm_fortunes.py: the first 40 batches of the last 5%):"
      say "  first 40 batches:            $("$genc" eval "models/$m.yaml" --split test --batches 40 --weights "$dir/checkpoint.safetensors" --threads "$threads" 2>/dev/null)"
      say "  every batch of the last 5%:  $("$genc" eval "models/$m.yaml" --split test --weights "$dir/checkpoint.safetensors" --threads "$threads" 2>/dev/null)"
      say "running training loss at steps 500, 1000, 2000 (reference 2.02, 1.81, 1.67):"
      python3 - "$dir/metrics.jsonl" <<'PY' | tee -a "$summary"
import json, sys
avg = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    v = r["loss"]["loss"]
    avg = v if avg is None else 0.98 * avg + 0.02 * v
    if r["step"] in (500, 1000, 2000):
        print(f"  step {r['step']}: {avg:.3f}")
PY
      say "sample:"
      sed -n '/^--- sample ---$/,/^--------------$/p' "$dir.stdout" | tee -a "$summary"
      ;;
    *) say "samples: $dir/samples.png, $dir/samples-epoch-*.png; loss plot: $dir/loss.svg" ;;
  esac
done
echo "summary: $summary"
