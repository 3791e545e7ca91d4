#!/usr/bin/env bash
# Runs every rshmem-osu test RUNS times (default 3) at 2 PEs, barrier_lat also at 8 PEs,
# as CSV into OUT (default target/bench-results/<date>), then prints the medians.
#   benches/scripts/run-osu.sh            # from the workspace root, after
#   cargo build --release -p rshmem-benches -p rshmem-launcher
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
OUT=${OUT:-target/bench-results/$(date +%Y%m%d-%H%M%S)}
RUN=target/release/rshmemrun
OSU=target/release/rshmem-osu
mkdir -p "$OUT"
echo "# $(date -Is) $(uname -r) load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/info.txt"
for r in $(seq 1 "$RUNS"); do
  for t in put_lat get_lat put_bw memcpy_bw msg_rate atomic_lat barrier_lat; do
    "$RUN" -n 2 "$OSU" "$t" --csv > "$OUT/$t.2pe.run$r.csv"
  done
  "$RUN" -n 8 "$OSU" barrier_lat --csv > "$OUT/barrier_lat.8pe.run$r.csv"
  echo "run $r done, load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/info.txt"
done
python3 - "$OUT" <<'PY'
import csv, glob, os, statistics, sys
from collections import defaultdict
out = sys.argv[1]
vals = defaultdict(list)
order = []
for f in sorted(glob.glob(os.path.join(out, "*.csv"))):
    pes = os.path.basename(f).split(".")[1]
    for row in csv.DictReader(open(f)):
        k = (row["test"], pes, row["key"], row["metric"])
        if k not in vals:
            order.append(k)
        vals[k].append(float(row["value"]))
with open(os.path.join(out, "medians.csv"), "w") as m:
    m.write("test,pes,key,metric,median,runs\n")
    for k in order:
        v = vals[k]
        m.write(f"{k[0]},{k[1]},{k[2]},{k[3]},{statistics.median(v):.4f},{' '.join(f'{x:.4f}' for x in v)}\n")
print(open(os.path.join(out, "medians.csv")).read())
PY
