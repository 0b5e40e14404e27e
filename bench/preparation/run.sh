#!/usr/bin/env bash
# Preparation benchmark: RetinaGrade's decode + field detection + crop/resize + default
# training augmentation + normalisation against torchvision's PIL pipeline of the same
# steps, both on one thread over the same images, in one run; then the rate at which
# EfficientNetV2-S training (torchvision, 2 threads) consumes images.
# Usage: bench/preparation/run.sh [IMAGE_DIR] [ROUNDS]   (default ../shared/data/eyepacs-256, 5)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$root/../shared/data/eyepacs-256}
rounds=${2:-5}
peer=/usr/bin/python3
if ! $peer -c 'import torchvision' 2>/dev/null; then
  echo "bench: the peer needs Debian's python3-torch and python3-torchvision: apt-get install -y python3-torch python3-torchvision" >&2
  exit 2
fi
export OMP_WAIT_POLICY=PASSIVE

echo "== RetinaGrade (1 thread)"
ours=$("$root/bin/retinagrade" augment bench "$data" --rounds "$rounds" 2>/dev/null | tee /dev/stderr | awk '/^median/ {print $2}')
echo "== torchvision PIL pipeline (1 thread)"
theirs=$($peer "$root/bench/preparation/torchvision_peer.py" prep "$data" "$rounds" | tee /dev/stderr | awk '/^median/ {print $2}')
echo "== EfficientNetV2-S training consumption (torchvision, batch 8, 224 px, 2 threads)"
training=$($peer "$root/bench/preparation/torchvision_peer.py" train 5 | tee /dev/stderr | awk '/^median/ {print $2}')

awk -v o="$ours" -v t="$theirs" -v c="$training" 'BEGIN {
  printf "\nRetinaGrade %.1f images/s, torchvision %.1f images/s: ratio %.2fx (goal >= 1.0)\n", o, t, o / t
  printf "training consumes %.2f images/s: preparation is %.1fx that rate (goal >= 5)\n", c, o / c
}'
