#!/usr/bin/env bash
# Collective latencies with rshmem-bench, RUNS times (default 3), medians at the end.
#   MODE=crossover: bcast_lat, reduce_lat_i64 and fcollect_lat with every algorithm forced
#                   through RSHMEM_{BCAST,REDUCE,COLLECT}_ALGORITHM, 8 B .. 4 MiB
#   MODE=tables:    barrier_lat, bcast_lat, reduce_lat (i64, f64), collect_lat,
#                   fcollect_lat, alltoall_lat with the "auto" choice, 8 B .. 1 MiB
# at PES (default "2 4 8") PEs, into OUT (default target/bench-results/coll-<mode>-<date>).
# The algorithms/PE counts are interleaved inside every run so that background load
# spreads over all of them. From the workspace root, after
#   cargo build --release -p rshmem-benches -p rshmem-launcher
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
MODE=${MODE:-tables}
PES=${PES:-2 4 8}
OUT=${OUT:-target/bench-results/coll-$MODE-$(date +%Y%m%d-%H%M%S)}
RUN=target/release/rshmemrun
BENCH=target/release/rshmem-bench
mkdir -p "$OUT"
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "# $(date -Is) $(uname -r) mode $MODE load: $(load)" | tee "$OUT/info.txt"
one() { # name pes env... -- args...
  local name=$1 np=$2; shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]+"${envs[@]}"}" timeout 900 "$RUN" -n "$np" "$BENCH" "$@" --csv > "$OUT/$name.${np}pe.run$r.csv"
}
for r in $(seq 1 "$RUNS"); do
  for np in $PES; do
    if [ "$MODE" = crossover ]; then
      for a in binomial scatter-allgather; do
        one "bcast-$a" "$np" RSHMEM_BCAST_ALGORITHM=$a -- bcast_lat --max-size 4M
      done
      for a in recursive-doubling ring rabenseifner; do
        one "reduce-$a" "$np" RSHMEM_REDUCE_ALGORITHM=$a -- reduce_lat_i64 --max-size 4M
      done
      for a in recursive-doubling ring; do
        one "fcollect-$a" "$np" RSHMEM_COLLECT_ALGORITHM=$a -- fcollect_lat --max-size 4M
      done
    else
      for t in barrier_lat bcast_lat reduce_lat collect_lat fcollect_lat alltoall_lat; do
        one "$t" "$np" -- "$t"
      done
    fi
    echo "run $r, $np PEs done $(date +%T), load: $(load)" | tee -a "$OUT/info.txt"
  done
done
python3 - "$OUT" <<'PY'
import csv, glob, os, statistics, sys
from collections import defaultdict
out = sys.argv[1]
vals = defaultdict(list)
order = []
for f in sorted(glob.glob(os.path.join(out, "*.csv"))):
    if os.path.basename(f) == "medians.csv":
        continue
    name, pes = os.path.basename(f).split(".")[:2]
    for row in csv.DictReader(open(f)):
        k = (name, row["test"], pes, row["key"], row["metric"])
        if k not in vals:
            order.append(k)
        vals[k].append(float(row["value"]))
with open(os.path.join(out, "medians.csv"), "w") as m:
    m.write("run,test,pes,key,metric,median,runs\n")
    for k in order:
        v = vals[k]
        m.write(",".join(k) + f",{statistics.median(v):.4f},{' '.join(f'{x:.4f}' for x in v)}\n")
print("medians in", os.path.join(out, "medians.csv"))
PY
