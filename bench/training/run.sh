#!/usr/bin/env bash
# Training and inference speed of EfficientNetV2 in RetinaGrade (DJL on libtorch 2.7.1)
# against torchvision's model on Debian's PyTorch 1.13, in one run, same threads.
# Usage: bench/training/run.sh [VARIANT] [RESOLUTION] [BATCH] [STEPS] [THREADS]   (default s 224 8 5 2)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
variant=${1:-s} resolution=${2:-224} batch=${3:-8} steps=${4:-5} threads=${5:-2}
peer=/usr/bin/python3
if ! $peer -c 'import torchvision' 2>/dev/null; then
  echo "bench: the peer needs Debian's python3-torch and python3-torchvision: apt-get install -y python3-torch python3-torchvision" >&2
  exit 2
fi
# Both sides run with the launcher's default policy unless OMP_WAIT_POLICY is set.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-ACTIVE}
echo "== RetinaGrade EfficientNetV2-$variant, $resolution px, batch $batch, $threads threads"
ours=$("$root/bin/retinagrade" model bench --variant "$variant" --resolution "$resolution" --batch-size "$batch" \
  --steps "$steps" --threads "$threads" 2>/dev/null | tee /dev/stderr)
echo "== torchvision efficientnet_v2_$variant"
theirs=$($peer "$root/bench/training/torchvision_peer.py" "$variant" "$resolution" "$batch" "$steps" "$threads" | tee /dev/stderr)
value() { echo "$1" | awk -v key="$2" '$0 ~ key {print $(NF-3)}'; }
rss() { echo "$1" | awk '/peak RSS/ {print $3}'; }
awk -v ot="$(value "$ours" "median training")" -v tt="$(value "$theirs" "median training")" \
    -v oi="$(value "$ours" "median inference")" -v ti="$(value "$theirs" "median inference")" \
    -v om="$(rss "$ours")" -v tm="$(rss "$theirs")" 'BEGIN {
  printf "\ntraining:  RetinaGrade %.1f ms/image, torchvision %.1f ms/image: ratio %.2f (goal <= 1.0)\n", ot, tt, ot / tt
  printf "inference: RetinaGrade %.1f ms/image, torchvision %.1f ms/image: ratio %.2f (goal <= 1.0)\n", oi, ti, oi / ti
  printf "peak RSS:  RetinaGrade %d MiB (goal <= 4096), torchvision %d MiB\n", om, tm
}'
