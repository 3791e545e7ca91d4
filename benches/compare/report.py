#!/usr/bin/env python3
"""Medians, ratio table and SVG plots for benches/compare/run.sh (standard library only).

report.py --raw target/compare/raw.csv --env target/compare/env.txt --out target/compare
          --svgdir docs/bench
raw.csv: round,impl,test,size,value,unit (one line per measurement of one run).
"""
import argparse
import csv
import math
import os
import statistics
from collections import defaultdict

IMPLS = ["rshmem", "oshmem", "mpich", "ompi"]
LABEL = {
    "rshmem": "rshmem",
    "oshmem": "OSHMEM (Open MPI 4.1.4)",
    "mpich": "MPICH 4.0.2 RMA",
    "ompi": "Open MPI 4.1.4 RMA",
}
SHORT = {"rshmem": "rshmem", "oshmem": "OSHMEM", "mpich": "MPICH", "ompi": "OMPI"}
COLOR = {"rshmem": "#d62728", "oshmem": "#1f77b4", "mpich": "#2ca02c", "ompi": "#9467bd"}
DASH = {"rshmem": "", "oshmem": "6,3", "mpich": "2,3", "ompi": "8,3,2,3"}
TESTS = ["put_lat", "get_lat", "put_bw", "fadd_lat", "barrier_lat", "reduce_lat", "bcast_lat"]
HIGHER_BETTER = {"put_bw"}
TITLE = {
    "put_lat": "Put latency (putmem + quiet / MPI_Put + flush)",
    "get_lat": "Get latency (getmem / MPI_Get + flush)",
    "put_bw": "Put bandwidth (64 x putmem_nbi + quiet / 64 x MPI_Put + flush)",
    "small": "8-byte operations: fetch-add, barrier, sum reduction, broadcast",
}
# issue 7 targets against OSHMEM: (test, bound, kind)
TARGETS = [
    ("put_lat", 1.0, "le"), ("get_lat", 1.0, "le"), ("put_bw", 1.0, "ge"),
    ("fadd_lat", 0.2, "le"), ("barrier_lat", 0.7, "le"),
    ("reduce_lat", 1.0, "le"), ("bcast_lat", 1.0, "le"),
]


def fmt_size(s):
    if s == 0:
        return "-"
    for unit, div in (("M", 1 << 20), ("K", 1 << 10)):
        if s >= div and s % div == 0:
            return f"{s // div}{unit}"
    return str(s)


def fmt_ratio(x):
    return f"{x:.2f}x" if x >= 0.1 else f"{x:.3f}x"


def fmt_val(v, unit):
    if v is None:
        return "n/a"
    if unit == "MB/s":
        return f"{v:,.0f}"
    if v < 1:
        return f"{v:.4f}"
    if v < 100:
        return f"{v:.3f}"
    return f"{v:,.1f}"


def load(raw):
    vals = defaultdict(list)
    units = {}
    with open(raw) as f:
        for row in csv.DictReader(f):
            key = (row["impl"], row["test"], int(row["size"]))
            vals[key].append(float(row["value"]))
            units[row["test"]] = row["unit"]
    return vals, units


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--env", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--svgdir", required=True)
    a = ap.parse_args()
    env = {}
    with open(a.env) as f:
        for line in f:
            k, _, v = line.partition(":")
            env[k.strip()] = v.strip()
    vals, units = load(a.raw)
    med = {k: statistics.median(v) for k, v in vals.items()}
    impls = [i for i in IMPLS if any(k[0] == i for k in vals)]

    with open(os.path.join(a.out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["impl", "test", "size", "median", "min", "max", "runs", "unit",
                    "ratio_rshmem_to_impl"])
        for (impl, test, size) in sorted(vals, key=lambda k: (TESTS.index(k[1]) if k[1] in TESTS else 99, k[2], IMPLS.index(k[0]) if k[0] in IMPLS else 9)):
            v = vals[(impl, test, size)]
            r = med.get(("rshmem", test, size))
            ratio = f"{r / med[(impl, test, size)]:.3f}" if r is not None and med[(impl, test, size)] > 0 else ""
            w.writerow([impl, test, size, f"{med[(impl, test, size)]:.4f}", f"{min(v):.4f}",
                        f"{max(v):.4f}", len(v), units[test], ratio])

    # ---- markdown table ----
    peers = [i for i in impls if i != "rshmem"]
    lines = []
    hdr = ["test", "size (B)"] + [f"{SHORT[i]}" for i in impls] + [f"rshmem / {SHORT[p]}" for p in peers]
    lines.append("| " + " | ".join(hdr) + " |")
    lines.append("|" + "---|" * 2 + "---:|" * (len(hdr) - 2))
    for test in TESTS:
        sizes = sorted({k[2] for k in vals if k[1] == test})
        for s in sizes:
            unit = units[test]
            cells = [f"{test} ({unit})", fmt_size(s)]
            for i in impls:
                cells.append(fmt_val(med.get((i, test, s)), unit))
            r = med.get(("rshmem", test, s))
            for p in peers:
                pv = med.get((p, test, s))
                cells.append(fmt_ratio(r / pv) if r is not None and pv else "n/a")
            lines.append("| " + " | ".join(cells) + " |")
    table = "\n".join(lines)

    # ---- targets vs OSHMEM ----
    tl = ["| target (vs OSHMEM) | measured rshmem / OSHMEM (medians) | met? |", "|---|---|---|"]
    for test, bound, kind in TARGETS:
        sizes = sorted({k[2] for k in vals if k[1] == test and k[0] == "oshmem"})
        ratios = [(s, med[("rshmem", test, s)] / med[("oshmem", test, s)])
                  for s in sizes if ("rshmem", test, s) in med and med[("oshmem", test, s)] > 0]
        want = f"{test} {'<=' if kind == 'le' else '>='} {bound}x"
        if not ratios:
            tl.append(f"| {want} | not measured (rshmem: {'no C API routine' if sizes else 'n/a'}) | **not measured** |")
            continue
        bad = [(s, r) for s, r in ratios if (r > bound if kind == "le" else r < bound)]
        worst = max(ratios, key=lambda x: x[1]) if kind == "le" else min(ratios, key=lambda x: x[1])
        best = min(ratios, key=lambda x: x[1]) if kind == "le" else max(ratios, key=lambda x: x[1])
        if len(ratios) == 1:
            m = fmt_ratio(ratios[0][1])
        else:
            m = (f"{fmt_ratio(best[1])} ({fmt_size(best[0])}) .. {fmt_ratio(worst[1])} ({fmt_size(worst[0])}); "
                 f"outside the target at {len(bad)}/{len(ratios)} sizes"
                 + (": " + ", ".join(fmt_size(s) for s, _ in bad) if bad else ""))
        tl.append(f"| {want} | {m} | {'**met**' if not bad else '**not met**'} |")
    targets = "\n".join(tl)

    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(table + "\n\n" + targets + "\n")
    print(table)
    print()
    print(targets)

    # ---- plots ----
    caption = [f"{env.get('cpu', '?')}; {env.get('os', '')}, kernel {env.get('kernel', '')}",
               f"{env.get('date', '?')}; 2 PEs/ranks bound to cores 0,1; medians of {max(len(v) for v in vals.values())} interleaved runs",
               f"command: {env.get('command', '?')}"]
    for test in ("put_lat", "get_lat", "put_bw"):
        series = {}
        for i in impls:
            pts = sorted((k[2], med[k]) for k in med if k[0] == i and k[1] == test)
            if pts:
                series[i] = pts
        svg = line_plot(TITLE[test], series, units[test], test in HIGHER_BETTER, caption)
        with open(os.path.join(a.svgdir, f"compare_{test}.svg"), "w") as f:
            f.write(svg)
    small = {}
    for test in ("fadd_lat", "barrier_lat", "reduce_lat", "bcast_lat"):
        for i in impls:
            for k in med:
                if k[0] == i and k[1] == test:
                    small[(test, i)] = med[k]
    with open(os.path.join(a.svgdir, "compare_small_ops.svg"), "w") as f:
        f.write(bar_plot(TITLE["small"], small, impls, caption))


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def log_ticks(lo, hi):
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    return [10.0 ** e for e in range(a, b + 1)], 10.0 ** a, 10.0 ** b


def tick_label(v):
    if v >= 1e6:
        return f"{v / 1e6:g}M"
    if v >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def frame(title, caption, W, H):
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{esc(title)}</text>']
    for n, c in enumerate(caption):
        out.append(f'<text x="{W / 2}" y="{H - 44 + 15 * n}" text-anchor="middle" font-size="10.5" fill="#444">{esc(c)}</text>')
    return out


def line_plot(title, series, unit, higher_better, caption):
    W, H = 820, 560
    L, R, T, B = 80, 200, 40, 120
    pw, ph = W - L - R, H - T - B
    xs = sorted({s for pts in series.values() for s, _ in pts})
    ys = [v for pts in series.values() for _, v in pts if v > 0]
    yt, ylo, yhi = log_ticks(min(ys), max(ys))
    xlo, xhi = math.log2(xs[0]), math.log2(xs[-1])

    def X(s):
        return L + (math.log2(s) - xlo) / (xhi - xlo) * pw

    def Y(v):
        return T + ph - (math.log10(v) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo)) * ph

    out = frame(title, caption, W, H)
    out.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#000"/>')
    for v in yt:
        y = Y(v)
        out.append(f'<line x1="{L}" y1="{y:.1f}" x2="{L + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{tick_label(v)}</text>')
        for m in range(2, 10):
            if v * m < yhi:
                ym = Y(v * m)
                out.append(f'<line x1="{L}" y1="{ym:.1f}" x2="{L + 5}" y2="{ym:.1f}" stroke="#000"/>')
    for s in xs:
        x = X(s)
        out.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{T + ph}" stroke="#eee"/>')
        if int(math.log2(s)) % 2 == 1 or s == xs[-1]:
            out.append(f'<text x="{x:.1f}" y="{T + ph + 16}" text-anchor="middle">{fmt_size(s)}</text>')
    out.append(f'<text x="{L + pw / 2}" y="{T + ph + 36}" text-anchor="middle">message size (bytes, log scale)</text>')
    ylab = f"{'bandwidth (MB/s' if unit == 'MB/s' else 'latency (us'}, log scale){' - higher is better' if higher_better else ' - lower is better'}"
    out.append(f'<text transform="translate({L - 52},{T + ph / 2}) rotate(-90)" text-anchor="middle">{esc(ylab)}</text>')
    for n, (impl, pts) in enumerate(series.items()):
        d = " ".join(f"{'M' if j == 0 else 'L'}{X(s):.1f},{Y(v):.1f}" for j, (s, v) in enumerate(pts) if v > 0)
        dash = f' stroke-dasharray="{DASH[impl]}"' if DASH[impl] else ""
        width = 2.5 if impl == "rshmem" else 1.8
        out.append(f'<path d="{d}" fill="none" stroke="{COLOR[impl]}" stroke-width="{width}"{dash}/>')
        for s, v in pts:
            if v > 0:
                out.append(f'<circle cx="{X(s):.1f}" cy="{Y(v):.1f}" r="2.6" fill="{COLOR[impl]}"/>')
        ly = T + 14 + 20 * n
        out.append(f'<line x1="{L + pw + 12}" y1="{ly}" x2="{L + pw + 40}" y2="{ly}" stroke="{COLOR[impl]}" stroke-width="{width}"{dash}/>')
        out.append(f'<text x="{L + pw + 46}" y="{ly + 4}" font-size="11">{esc(LABEL[impl])}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def bar_plot(title, small, impls, caption):
    tests = [t for t in ("fadd_lat", "barrier_lat", "reduce_lat", "bcast_lat")
             if any((t, i) in small for i in impls)]
    names = {"fadd_lat": "fetch-add (64-bit)", "barrier_lat": "barrier_all / MPI_Barrier",
             "reduce_lat": "sum reduction, 1 long", "bcast_lat": "broadcast, 8 B"}
    W = 820
    bar_h, gap = 14, 14
    L, R, T = 190, 60, 50
    ph = len(tests) * (len(impls) * bar_h + gap)
    H = T + ph + 50 + 60
    pw = W - L - R
    vs = [v for v in small.values() if v > 0]
    yt, lo, hi = log_ticks(min(vs), max(vs))

    def X(v):
        return L + (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * pw

    out = frame(title, caption, W, H)
    for v in yt:
        x = X(v)
        out.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{T + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{T + ph + 16}" text-anchor="middle">{tick_label(v)}</text>')
    out.append(f'<text x="{L + pw / 2}" y="{T + ph + 34}" text-anchor="middle">latency (us, log scale) - lower is better; MPI rows: MPI_Fetch_and_op+flush, MPI_Barrier, MPI_Allreduce, MPI_Bcast</text>')
    y = T
    for t in tests:
        out.append(f'<text x="{L - 8}" y="{y + len(impls) * bar_h / 2 + 4}" text-anchor="end" font-weight="bold">{esc(names[t])}</text>')
        for i in impls:
            v = small.get((t, i))
            if v:
                out.append(f'<rect x="{L}" y="{y}" width="{max(X(v) - L, 1):.1f}" height="{bar_h - 2}" fill="{COLOR[i]}"/>')
                out.append(f'<text x="{X(v) + 4:.1f}" y="{y + bar_h - 4}" font-size="10">{SHORT[i]} {fmt_val(v, "us")}</text>')
            else:
                out.append(f'<text x="{L + 4}" y="{y + bar_h - 4}" font-size="10" fill="#888">{SHORT[i]}: not in its C API yet</text>')
            y += bar_h
        y += gap
    out.append(f'<line x1="{L}" y1="{T}" x2="{L}" y2="{T + ph}" stroke="#000"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
