#!/usr/bin/env bash
# PACS benchmark: C-MOVE of one 500-instance study from Orthanc, comparing RetinaGrade's
# retrieve with dcmtk's movescu to storescp. Both alternate in one run, in swapped order from
# round to round, in a private network namespace with only loopback. RetinaGrade stores each
# instance in its store (decoded, de-identified, written and recorded), while storescp only
# writes files to a folder.
# Orthanc and dcmtk run with TCP_NODELAY=1 and RetinaGrade sets TCP_NODELAY on its sockets.
# Without it, Nagle's algorithm combined with delayed ACKs caps both sides at about
# 11 instances per second on loopback.
# Usage: bench/pacs/run.sh [INSTANCES] [ROUNDS] [HEIGHT]   (default 500 7 512; needs root)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
instances=${1:-500} rounds=${2:-7} height=${3:-512}
for tool in Orthanc movescu storescp storescu ip; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing; run bin/setup (installs orthanc, dcmtk, iproute2)" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench: must run as root to create its private network namespace (ip netns add)" >&2; exit 2; }

work=$(mktemp -d /tmp/retinagrade-pacs-bench.XXXXXX)
ns="retinagrade-bench-$$"
ip netns add "$ns"
cleanup() { ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true; sleep 1; ip netns delete "$ns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ip netns exec "$ns" ip link set lo up
inns() { ip netns exec "$ns" env TCP_NODELAY=1 "$@"; }

"$root/bin/retinagrade" --help >/dev/null   # builds the application when needed
per_grade=$(( (instances + 4) / 5 ))
"$root/bin/retinagrade" phantom --out "$work/phantom" --per-grade "$per_grade" --height "$height" --seed 3 >/dev/null
"$root/bin/retinagrade" dicom from-image "$work/phantom" --out "$work/op" --patient-id BENCH --uid-key bench >/dev/null
count=$(find "$work/op" -name '*.dcm' | wc -l)
size=$(du -sm "$work/op" | cut -f1)

mkdir -p "$work/orthanc"
cat > "$work/orthanc/orthanc.json" <<JSON
{ "Name": "bench", "StorageDirectory": "$work/orthanc/db", "IndexDirectory": "$work/orthanc/db",
  "DicomAet": "ORTHANC", "DicomPort": 4242, "HttpPort": 8042, "RemoteAccessAllowed": false,
  "AuthenticationEnabled": true, "RegisteredUsers": {"bench": "bench-only"},
  "DicomModalities": {"retinagrade": ["RETINAGRADE", "127.0.0.1", 11112], "storescp": ["STORESCP", "127.0.0.1", 11113],
                      "movescu": ["MOVESCU", "127.0.0.1", 104], "storescu": ["STORESCU", "127.0.0.1", 104]},
  "DicomAlwaysAllowStore": false, "DicomAlwaysAllowFind": false, "DicomAlwaysAllowMove": false, "DicomAlwaysAllowEcho": true,
  "DicomCheckModalityHost": false, "Plugins": [] }
JSON
inns Orthanc "$work/orthanc/orthanc.json" >"$work/orthanc/log" 2>&1 &
for _ in $(seq 100); do inns echoscu -aec ORTHANC 127.0.0.1 4242 2>/dev/null && break; sleep 0.2; done
inns storescu -aet STORESCU -aec ORTHANC +sd +r +sp '*.dcm' 127.0.0.1 4242 "$work/op" 2>/dev/null
study=$(inns findscu -aet MOVESCU -aec ORTHANC -S -k QueryRetrieveLevel=STUDY -k PatientID=BENCH -k StudyInstanceUID \
  127.0.0.1 4242 2>&1 | sed -n 's/.*(0020,000d) UI \[\([0-9.]*\)\].*/\1/p' | head -1)
echo "study $study: $count Ophthalmic Photography instances, $size MB, ${height}px phantom images, in Orthanc"

mkdir -p "$work/storescp"
inns storescp -aet STORESCP --output-directory "$work/storescp" 11113 >/dev/null 2>&1 &
sleep 1
ours=() stored=() theirs=() ratios=()
run_dcmtk() {
  rm -rf "$work/storescp"/*
  sync   # each transfer starts with no dirty pages left by the previous one
  local start end got
  start=$(date +%s.%N)
  inns movescu -aet MOVESCU -aec ORTHANC -aem STORESCP -S -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$study" \
    127.0.0.1 4242 >/dev/null 2>&1
  end=$(date +%s.%N)
  got=$(find "$work/storescp" -type f | wc -l)
  their_rate=$(awk -v n="$got" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", n / (e - s) }')
  echo "round $round dcmtk movescu -> storescp: $got instances, $their_rate instances/s"
}
run_ours() {
  local workspace="$work/retinagrade-$round" line
  mkdir -p "$workspace"
  sync
  line=$(RETINAGRADE_WORKSPACE="$workspace" inns "$root/bin/retinagrade" pacs retrieve --study-uid "$study" \
    --cohort bench --study bench --listen-port 11112 2>&1 | grep 'instances by C-MOVE' || true)
  our_rate=$(echo "$line" | sed -n 's/^received .* s (\([0-9.]*\) instances\/s);.*/\1/p')
  our_kept=$(echo "$line" | sed -n 's/.*; stored .* s (\([0-9.]*\) instances\/s)$/\1/p')
  echo "round $round RetinaGrade pacs retrieve: ${line:-failed}"
  # storescp's folder is emptied before each of its rounds, and this side's workspace is removed after
  # each round. So neither side runs with a page cache that grows from round to round.
  rm -rf "$workspace"
}
# The sides alternate, and their order swaps from round to round, so neither always runs first.
for round in $(seq "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then run_dcmtk; run_ours; else run_ours; run_dcmtk; fi
  theirs+=("$their_rate")
  ours+=("${our_rate:-0}")
  stored+=("${our_kept:-0}")
  ratios+=("$(awk -v o="${our_rate:-0}" -v t="$their_rate" 'BEGIN { printf "%.2f", o / t }')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
o=$(median "${ours[@]}") s=$(median "${stored[@]}") t=$(median "${theirs[@]}") r=$(median "${ratios[@]}")
awk -v o="$o" -v s="$s" -v t="$t" -v r="$r" -v rounds="${ratios[*]}" 'BEGIN {
  printf "\nmedian dcmtk movescu->storescp %.1f instances/s (files written)\n", t
  printf "median RetinaGrade received %.1f instances/s: ratio %.2f (goal >= 0.8)\n", o, o / t
  printf "per-round received ratios %s: median %.2f\n", rounds, r
  printf "median RetinaGrade stored (decoded, de-identified, written, recorded) %.1f instances/s: ratio %.2f\n", s, s / t }'
