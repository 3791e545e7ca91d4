#!/usr/bin/env python3
"""Medians, the BENCHMARKS.md table and the plots for benches/compare/run-tcp.sh.

report-tcp.py OUT [--csv docs/bench/tcp-medians.csv] [--plots docs/bench]
OUT holds <impl>-<path>.<k>.txt (CSV lines impl,test,size,value,unit) and iperf3-{lo,ns}.txt.
Plots (matplotlib): tcp_put_lat.png, tcp_get_lat.png, tcp_put_bw.png, log-log, one line
per implementation and path, the iperf3 ceilings as horizontal lines on the bandwidth plot.
"""
import argparse
import glob
import os
import re
import statistics
import sys

IMPLS = ["rshmem", "oshmem", "mpich"]
LABEL = {"rshmem": "rshmem tcp", "oshmem": "OSHMEM/UCX tcp", "mpich": "MPICH RMA/UCX tcp"}
PATHS = ["lo", "ns"]
PATH_LABEL = {"lo": "loopback", "ns": "ns1->ns2 veth"}
COLOR = {"rshmem": "#d62728", "oshmem": "#1f77b4", "mpich": "#2ca02c"}
STYLE = {"lo": "--", "ns": "-"}
TESTS = ["put_lat", "get_lat", "put_bw", "fadd_lat", "barrier_lat", "reduce_lat", "bcast_lat"]


def load(out):
    runs = {}  # (impl, path) -> list of {(test, size): value}
    for f in sorted(glob.glob(os.path.join(out, "*-*.[0-9]*.txt"))):
        m = re.match(r"(\w+)-(lo|ns)\.(\d+)\.txt$", os.path.basename(f))
        if not m:
            continue
        d = {}
        for line in open(f):
            p = line.strip().split(",")
            if len(p) == 5:
                d[(p[1], int(p[2]))] = float(p[3])
        if d:
            runs.setdefault((m.group(1), m.group(2)), []).append(d)
    med = {}
    for key, rs in runs.items():
        for tk in rs[0]:
            vals = [r[tk] for r in rs if tk in r]
            med[(key[0], key[1]) + tk] = (statistics.median(vals), len(vals))
    return med


def iperf(out, path):
    """The best of the iperf3 runs of a path (iperf3-PATH.txt, iperf3-PATH-VARIANT.txt:
    write sizes and congestion controls), in MB/s, and each run's value."""
    runs = {}
    for f in sorted(glob.glob(os.path.join(out, f"iperf3-{path}*.txt"))):
        name = os.path.basename(f)[len("iperf3-"):-len(".txt")]
        if name != path and not name.startswith(path + "-"):
            continue
        for line in open(f):
            if "receiver" in line:
                m = re.search(r"([\d.]+) Gbits/sec", line)
                if m:
                    runs[name] = float(m.group(1)) * 1000 / 8  # MB/s (10^6)
    return (max(runs.values()) if runs else None), runs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--csv")
    ap.add_argument("--plots")
    a = ap.parse_args()
    med = load(a.out)
    ceil_runs = {p: iperf(a.out, p) for p in PATHS}
    ceil = {p: c for p, (c, _) in ceil_runs.items()}
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("impl,path,test,size,median,runs\n")
            for k in sorted(med):
                f.write(f"{k[0]},{k[1]},{k[2]},{k[3]},{med[k][0]:.4f},{med[k][1]}\n")
    g = lambda i, p, t, s: med.get((i, p, t, s), (None,))[0]
    fmt = lambda v: "-" if v is None else f"{v:.4g}"
    rat = lambda x, y: "-" if x is None or y is None else f"{x / y:.2f}x"
    for p in PATHS:
        print(f"\n{PATH_LABEL[p]}\n")
        print("| test | size (B) | rshmem | OSHMEM | MPICH | rshmem / OSHMEM | rshmem / MPICH |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        sizes = sorted({k[3] for k in med if k[1] == p})
        for t in TESTS:
            unit = "MB/s" if t == "put_bw" else "us"
            for s in sizes:
                r, o, m = (g(i, p, t, s) for i in IMPLS)
                if r is None and o is None and m is None:
                    continue
                print(f"| {t} ({unit}) | {s} | {fmt(r)} | {fmt(o)} | {fmt(m)} | {rat(r, o)} | {rat(r, m)} |")
        c = ceil[p]
        r = g("rshmem", p, "put_bw", 1 << 20)
        if c:
            each = ", ".join(f"{k} {v:,.0f}" for k, v in ceil_runs[p][1].items())
            print(f"\niperf3 ceiling {PATH_LABEL[p]}: {c:,.0f} MB/s (best of: {each}); "
                  f"rshmem 1 MiB put_bw " + (f"{fmt(r)} MB/s = {r / c:.2f}x" if r else "-"))
        if any(k[0] == "oshmem_reno" and k[1] == p for k in med):
            print(f"\nReference, {PATH_LABEL[p]}: OSHMEM with the namespaces' congestion "
                  "control set to reno\n")
            print("| test | size (B) | rshmem | OSHMEM (reno) | rshmem / OSHMEM (reno) |")
            print("|---|---:|---:|---:|---:|")
            for t in TESTS:
                unit = "MB/s" if t == "put_bw" else "us"
                for s in sizes:
                    r, o = g("rshmem", p, t, s), g("oshmem_reno", p, t, s)
                    if o is not None:
                        print(f"| {t} ({unit}) | {s} | {fmt(r)} | {fmt(o)} | {rat(r, o)} |")
    if a.plots:
        plot(med, ceil, a.plots)


def plot(med, ceil, outdir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    for t, ylabel, title in [
        ("put_lat", "latency (us)", "Put latency over TCP: putmem + quiet (MPI_Put + flush)"),
        ("get_lat", "latency (us)", "Get latency over TCP: getmem (MPI_Get + flush)"),
        ("put_bw", "bandwidth (MB/s)", "Put bandwidth over TCP: 64 x putmem_nbi + quiet"),
    ]:
        fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
        for i in IMPLS:
            for p in PATHS:
                pts = sorted((k[3], v[0]) for k, v in med.items() if k[:3] == (i, p, t))
                if pts:
                    ax.plot([x for x, _ in pts], [y for _, y in pts], STYLE[p], marker="o",
                            ms=3, color=COLOR[i], label=f"{LABEL[i]}, {PATH_LABEL[p]}")
        if t == "put_bw":
            for p in PATHS:
                if ceil[p]:
                    ax.axhline(ceil[p], color="gray", ls=STYLE[p], lw=1)
                    ax.text(10, ceil[p] * 1.05, f"socket ceiling {PATH_LABEL[p]}", color="gray", fontsize=8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("message size (bytes)")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=11)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, f"tcp_{t}.png"))
        plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
