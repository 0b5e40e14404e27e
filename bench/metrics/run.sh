#!/usr/bin/env bash
# Metrics benchmark: every grading metric with 2,000 patient-level bootstrap resamples on
# 10,000 predictions, RetinaGrade against a numpy bootstrap loop over scikit-learn, one run.
# Usage: bench/metrics/run.sh [PREDICTIONS] [RESAMPLES] [REPEATS]   (default 10000 2000 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-10000} resamples=${2:-2000} repeats=${3:-3}
peer=/usr/bin/python3
if ! $peer -c 'import sklearn' 2>/dev/null; then
  echo "bench: the peer needs Debian's python3-sklearn: apt-get install -y python3-sklearn" >&2
  exit 2
fi
echo "== RetinaGrade"
ours=$("$root/bin/retinagrade" bench metrics --predictions "$n" --resamples "$resamples" --repeats "$repeats" 2>/dev/null \
  | tee /dev/stderr | awk '/^median/ {print $2}')
echo "== numpy bootstrap over scikit-learn"
theirs=$($peer "$root/bench/metrics/sklearn_peer.py" "$n" "$resamples" "$repeats" | tee /dev/stderr | awk '/^median/ {print $2}')
awk -v o="$ours" -v t="$theirs" 'BEGIN { printf "\nRetinaGrade %.2f s, scikit-learn loop %.2f s: RetinaGrade is %.1fx faster (goal > 1)\n", o, t, t / o }'
