#!/bin/bash
# TCP transport numbers (issue 15.5): rshmem (RSHMEM_TRANSPORT=tcp) against Open MPI's
# OSHMEM over UCX's tcp transport (UCX_TLS=tcp,self), both on the loopback interface
# inside network namespace rshmem-ns1, K interleaved runs of benches/compare/shmem_bench.c;
# rshmem across the namespaces (ns1 -> ns2: veth, root namespace, veth; RSHMEM_TRANSPORT
# auto picks tcp); and the socket ceiling of both paths with iperf3 (one TCP stream).
# Needs root, iproute2, openmpi-bin, libopenmpi-dev, iperf3, and a release build
# (cargo build --release -p rshmem-capi -p rshmem-launcher). Output: $OUT/*.txt
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
K=${1:-3}
OUT=${OUT:-$root/target/compare-tcp}
ITERS=${ITERS:-2000}
mkdir -p "$OUT"
bash "$root/scripts/netns-up.sh" >/dev/null
trap 'bash "$root/scripts/netns-down.sh"' EXIT
NS1="ip netns exec rshmem-ns1"
export RSHMEM_LIBDIR=$root/target/release
sh "$root/capi/rshmemcc" -O2 -DBENCH_HAVE_TO_ALL -DBENCH_HAVE_BCAST64 \
    "$root/benches/compare/shmem_bench.c" -o "$OUT/sb.rshmem"
oshcc -O2 -DBENCH_HAVE_TO_ALL -DBENCH_HAVE_BCAST64 "$root/benches/compare/shmem_bench.c" -o "$OUT/sb.oshmem"
export OMPI_MCA_osc='^rdma' OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for k in $(seq 1 "$K"); do
    $NS1 env RSHMEM_TRANSPORT=tcp RSHMEM_TCP_IF=lo timeout 180 "$root/target/release/rshmemrun" -n 2 \
        "$OUT/sb.rshmem" rshmem --iters "$ITERS" >"$OUT/rshmem-lo.$k.txt"
    $NS1 env UCX_TLS=tcp,self UCX_NET_DEVICES=lo timeout 180 oshrun -np 2 \
        --mca oob_tcp_if_include lo --mca btl_tcp_if_include lo -x UCX_TLS -x UCX_NET_DEVICES \
        "$OUT/sb.oshmem" oshmem --iters "$ITERS" >"$OUT/oshmem-lo.$k.txt"
    timeout 180 "$root/target/release/rshmemrun" -n 2 --hosts rshmem-ns1:1,rshmem-ns2:1 \
        --launch-agent "ip netns exec" --pmi-addr 10.213.1.1 \
        "$OUT/sb.rshmem" rshmem --iters "$ITERS" >"$OUT/rshmem-ns.$k.txt"
done
# Socket ceilings: one TCP stream, 128 KiB writes, 5 s.
$NS1 iperf3 -s -1 -D -B 127.0.0.1 && sleep 0.5
$NS1 iperf3 -c 127.0.0.1 -t 5 -l 128K >"$OUT/iperf3-lo.txt"
ip netns exec rshmem-ns2 iperf3 -s -1 -D -B 10.213.2.2 && sleep 0.5
$NS1 iperf3 -c 10.213.2.2 -t 5 -l 128K >"$OUT/iperf3-ns.txt"
python3 - "$OUT" "$K" <<'PY'
import sys, statistics, glob
out, k = sys.argv[1], int(sys.argv[2])
def load(prefix):
    runs = []
    for i in range(1, k + 1):
        d = {}
        for line in open(f"{out}/{prefix}.{i}.txt"):
            f = line.strip().split(",")
            if len(f) == 5:
                d[(f[1], f[2])] = float(f[3])
        runs.append(d)
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}
rl, ol, rn = load("rshmem-lo"), load("oshmem-lo"), load("rshmem-ns")
print("| test | size (B) | rshmem lo | OSHMEM/UCX tcp lo | rshmem / OSHMEM | rshmem ns1->ns2 |")
print("|---|---|---:|---:|---:|---:|")
for key in rl:
    if key[0] not in ("put_lat", "get_lat", "put_bw", "fadd_lat"):
        continue
    unit = "MB/s" if key[0] == "put_bw" else "us"
    o = ol.get(key)
    ratio = f"{rl[key] / o:.2f}x" if o else "-"
    print(f"| {key[0]} ({unit}) | {key[1]} | {rl[key]:.4g} | {o if o is None else f'{o:.4g}'} | {ratio} | {rn.get(key, float('nan')):.4g} |")
PY
grep -E "sender|receiver" "$OUT/iperf3-lo.txt" "$OUT/iperf3-ns.txt"
