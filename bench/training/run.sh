#!/usr/bin/env bash
# Training and inference speed of EfficientNetV2 in RetinaGrade (DJL on libtorch 2.7.1)
# against torchvision's model on Debian's PyTorch 1.13, in one run, same threads.
# Usage: bench/training/run.sh [VARIANT] [RESOLUTION] [BATCH] [STEPS] [THREADS] [ROUNDS]
#   (default s 224 8 5 2 3).
# The sides alternate ROUNDS times. The result is the median of the per-round medians, and
# the median of the per-round ratios.
# The goal compares against torchvision's model as it is built (NCHW memory order). For
# information, each round also times torchvision converted to channels-last order, which
# RetinaGrade's network uses (README: "CPU speed").
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
variant=${1:-s} resolution=${2:-224} batch=${3:-8} steps=${4:-5} threads=${5:-2} rounds=${6:-3}
peer=/usr/bin/python3
if ! $peer -c 'import torchvision' 2>/dev/null; then
  echo "bench: the peer needs Debian's python3-torch and python3-torchvision: apt-get install -y python3-torch python3-torchvision" >&2
  exit 2
fi
# Both sides run with the launcher's default policy unless OMP_WAIT_POLICY is set.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-ACTIVE}
value() { echo "$1" | awk -v key="$2" '$0 ~ key {print $(NF-3)}'; }
rss() { echo "$1" | awk '/peak RSS/ {print $3}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ot=() tt=() oi=() ti=() om=() tm=() ct=() ci=() rt=() ri=() lt=() li=()
run_side() {
  case $1 in
    ours) echo "== round $round: RetinaGrade EfficientNetV2-$variant, $resolution px, batch $batch, $threads threads" >&2
          ours=$("$root/bin/retinagrade" model bench --variant "$variant" --resolution "$resolution" --batch-size "$batch" \
            --steps "$steps" --threads "$threads" 2>/dev/null | tee /dev/stderr) ;;
    nchw) echo "== round $round: torchvision efficientnet_v2_$variant" >&2
          theirs=$($peer "$root/bench/training/torchvision_peer.py" "$variant" "$resolution" "$batch" "$steps" "$threads" | tee /dev/stderr) ;;
    last) echo "== round $round: torchvision efficientnet_v2_$variant, channels-last" >&2
          last=$($peer "$root/bench/training/torchvision_peer.py" "$variant" "$resolution" "$batch" "$steps" "$threads" channels-last \
            | tee /dev/stderr) ;;
  esac
}
sides=(ours nchw last)
for round in $(seq "$rounds"); do
  # The order rotates from round to round, so that no side always runs first or last.
  for k in 0 1 2; do run_side "${sides[$(( (round - 1 + k) % 3 ))]}"; done
  ot+=("$(value "$ours" "median training")") tt+=("$(value "$theirs" "median training")")
  oi+=("$(value "$ours" "median inference")") ti+=("$(value "$theirs" "median inference")")
  ct+=("$(value "$last" "median training")") ci+=("$(value "$last" "median inference")")
  om+=("$(rss "$ours")") tm+=("$(rss "$theirs")")
  rt+=("$(awk -v a="${ot[-1]}" -v b="${tt[-1]}" 'BEGIN { print a / b }')") ri+=("$(awk -v a="${oi[-1]}" -v b="${ti[-1]}" 'BEGIN { print a / b }')")
  lt+=("$(awk -v a="${ot[-1]}" -v b="${ct[-1]}" 'BEGIN { print a / b }')") li+=("$(awk -v a="${oi[-1]}" -v b="${ci[-1]}" 'BEGIN { print a / b }')")
  printf "round ratios: training %.2f, inference %.2f (against channels-last: %.2f, %.2f)\n" "${rt[-1]}" "${ri[-1]}" "${lt[-1]}" "${li[-1]}"
done
awk -v ot="$(median "${ot[@]}")" -v tt="$(median "${tt[@]}")" -v oi="$(median "${oi[@]}")" -v ti="$(median "${ti[@]}")" \
    -v ct="$(median "${ct[@]}")" -v ci="$(median "${ci[@]}")" -v om="$(median "${om[@]}")" -v tm="$(median "${tm[@]}")" \
    -v rt="$(median "${rt[@]}")" -v ri="$(median "${ri[@]}")" -v lt="$(median "${lt[@]}")" -v li="$(median "${li[@]}")" \
    -v n="$rounds" 'BEGIN {
  printf "\nmedians of %d rounds (ratio of the medians; median of the per-round ratios)\n", n
  printf "training:  RetinaGrade %.1f ms/image, torchvision %.1f ms/image: ratio %.2f; %.2f (goal <= 1.0)\n", ot, tt, ot / tt, rt
  printf "inference: RetinaGrade %.1f ms/image, torchvision %.1f ms/image: ratio %.2f; %.2f (goal <= 1.0)\n", oi, ti, oi / ti, ri
  printf "peak RSS:  RetinaGrade %d MiB (goal <= 4096), torchvision %d MiB\n", om, tm
  printf "for information, torchvision in channels-last order: training %.1f ms/image (ratio %.2f; %.2f), inference %.1f ms/image (ratio %.2f; %.2f)\n", ct, ot / ct, lt, ci, oi / ci, li
}'
