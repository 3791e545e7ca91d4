#!/usr/bin/env python3
"""The plot of issue 14's ring cost (scripts/verbs-tests.sh, "ring N PEs: queue pairs per PE").

verbs-scale-plot.py LOG [--csv docs/bench/verbs-scale.csv] [--png docs/bench/verbs_scale.png]
LOG: the VM suite's output; its lines
  ring cost: N=16 qps/PE at init=2 at finalize=9..10 records read=5..5 segment records=2
             registered/PE=12587008 bytes max init=2633 ms
give, per N, the queue pairs per PE (at init, at finalize, and a full mesh's N+1), the peer
records read, the runtime's segment records read at init, the registered (pinned) bytes
per PE and the slowest PE's init time. Three panels against N (log2 x axis).
"""
import argparse
import re
import sys

LINE = re.compile(
    r"ring cost: N=(\d+) qps/PE at init=(\d+) at finalize=(\d+)\.\.(\d+) "
    r"records read=(\d+)\.\.(\d+)(?: segment records=(\d+))? registered/PE=(\d+) bytes "
    r"max init=(\d+) ms"
)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--csv")
    ap.add_argument("--png")
    a = ap.parse_args()
    rows = {}
    for line in open(a.log, errors="replace"):
        m = LINE.search(line)
        if m:
            g = [int(x) if x is not None else None for x in m.groups()]
            rows[g[0]] = g  # the last run of each N wins
    if not rows:
        sys.exit(f"no 'ring cost:' lines in {a.log}")
    ns = sorted(rows)
    head = "pes,qps_init,qps_fin_min,qps_fin_max,full_mesh,records_min,records_max,seg_records,registered_bytes,init_ms"
    out = [head]
    for n in ns:
        r = rows[n]
        out.append(",".join(str(x) for x in [n, r[1], r[2], r[3], n + 1, r[4], r[5], r[6] if r[6] is not None else "", r[7], r[8]]))
    print("\n".join(out))
    if a.csv:
        open(a.csv, "w").write("\n".join(out) + "\n")
    if a.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(1, 3, figsize=(13, 4))
        ax[0].plot(ns, [n + 1 for n in ns], "k--", marker="o", label="full mesh (N+1)")
        ax[0].plot(ns, [rows[n][3] for n in ns], "r-", marker="o", label="on demand, at finalize (max)")
        ax[0].plot(ns, [rows[n][1] for n in ns], "b-", marker="o", label="on demand, at init")
        ax[0].plot(ns, [rows[n][5] for n in ns], "g:", marker="s", label="peer records read (max)")
        seg = [n for n in ns if rows[n][6] is not None]
        if seg:
            ax[0].plot(seg, [rows[n][6] for n in seg], "y:", marker="^", label="segment records read at init (max)")
        ax[0].set_ylabel("per PE")
        ax[0].set_title("queue pairs and records, ring job")
        ax[1].plot(ns, [rows[n][7] / 2**20 for n in ns], "m-", marker="o")
        ax[1].set_ylabel("MiB registered per PE")
        ax[1].set_ylim(bottom=0)
        ax[1].set_title("pinned memory")
        ax[2].plot(ns, [rows[n][8] for n in ns], "c-", marker="o")
        ax[2].set_ylabel("ms (slowest PE)")
        ax[2].set_ylim(bottom=0)
        ax[2].set_title("init time (Soft-RoCE VM, TCG, 2 vCPUs)")
        for x in ax:
            x.set_xscale("log", base=2)
            x.set_xticks(ns)
            x.set_xticklabels([str(n) for n in ns])
            x.set_xlabel("PEs (N)")
            x.grid(True, alpha=0.3)
        ax[0].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(a.png, dpi=90)


if __name__ == "__main__":
    main()
