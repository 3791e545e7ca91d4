#!/bin/bash
# TCP transport numbers (issue 15.5): benches/compare/shmem_bench.c (rshmem with
# RSHMEM_TRANSPORT=tcp; Open MPI's OSHMEM with UCX_TLS=tcp,self) and
# benches/compare/mpi_rma_bench.c (Debian's MPICH, ch4:ucx, UCX_TLS=tcp,self,
# MPIR_CVAR_NOLOCAL=1 so no shared memory), 2 PEs, K interleaved runs, on two paths:
#   lo  both PEs in network namespace rshmem-ns1, over its loopback;
#   ns  PE 0 in rshmem-ns1, PE 1 in rshmem-ns2: veth, root namespace (forwarding), veth.
# Open MPI and MPICH reach the namespaces through benches/compare/netns-agent.sh as their
# rsh/ssh agent ("host" = namespace). Open MPI needs --bind-to none across namespaces: each
# orted thinks it is alone on its node and binds its rank to core 0, so both spinning PEs
# share one core (8 ms per round trip, the scheduler's time slices).
# Socket ceilings of both paths with iperf3 (one TCP stream, 128 KiB writes, 5 s).
# Needs root, iproute2, openmpi-bin, libopenmpi-dev, mpich, libmpich-dev, iperf3, and a
# release build (cargo build --release -p rshmem-capi -p rshmem-launcher).
# Output: $OUT/<impl>-<path>.<k>.txt, $OUT/iperf3-*.txt; then
#   python3 benches/compare/report-tcp.py $OUT   (table, medians CSV, plots)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
K=${1:-5}
OUT=${OUT:-$root/target/compare-tcp}
ITERS=${ITERS:-2000}
AGENT=$root/benches/compare/netns-agent.sh
mkdir -p "$OUT"
bash "$root/scripts/netns-up.sh" >/dev/null
trap 'bash "$root/scripts/netns-down.sh"' EXIT
NS1="ip netns exec rshmem-ns1"
export RSHMEM_LIBDIR=$root/target/release
sh "$root/capi/rshmemcc" -O2 -DBENCH_HAVE_TO_ALL -DBENCH_HAVE_BCAST64 \
    "$root/benches/compare/shmem_bench.c" -o "$OUT/sb.rshmem"
oshcc -O2 -DBENCH_HAVE_TO_ALL -DBENCH_HAVE_BCAST64 "$root/benches/compare/shmem_bench.c" -o "$OUT/sb.oshmem"
mpicc.mpich -O2 "$root/benches/compare/mpi_rma_bench.c" -o "$OUT/rma.mpich"
export OMPI_MCA_osc='^rdma' OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
OSH_NS=(--bind-to none --mca plm_rsh_agent "$AGENT" --mca plm_rsh_no_tree_spawn 1
    --mca routed direct --mca oob_tcp_if_include 10.213.0.0/16)
for k in $(seq 1 "$K"); do
    $NS1 env RSHMEM_TRANSPORT=tcp RSHMEM_TCP_IF=lo timeout 300 "$root/target/release/rshmemrun" -n 2 \
        "$OUT/sb.rshmem" rshmem --iters "$ITERS" >"$OUT/rshmem-lo.$k.txt"
    $NS1 env UCX_TLS=tcp,self UCX_NET_DEVICES=lo timeout 300 oshrun -np 2 \
        --mca oob_tcp_if_include lo --mca btl_tcp_if_include lo -x UCX_TLS -x UCX_NET_DEVICES \
        "$OUT/sb.oshmem" oshmem --iters "$ITERS" >"$OUT/oshmem-lo.$k.txt"
    $NS1 env UCX_TLS=tcp,self UCX_NET_DEVICES=lo MPIR_CVAR_NOLOCAL=1 timeout 300 mpiexec.hydra -n 2 \
        "$OUT/rma.mpich" mpich --iters "$ITERS" >"$OUT/mpich-lo.$k.txt"
    timeout 300 "$root/target/release/rshmemrun" -n 2 --hosts rshmem-ns1:1,rshmem-ns2:1 \
        --launch-agent "ip netns exec" --pmi-addr 10.213.1.1 \
        "$OUT/sb.rshmem" rshmem --iters "$ITERS" >"$OUT/rshmem-ns.$k.txt"
    # Open MPI's start across the namespaces sometimes stalls (one orted never reports
    # back): up to 3 attempts of at most 60 s each (a whole run takes about 3 s).
    for attempt in 1 2 3; do
        UCX_TLS=tcp,self timeout 60 oshrun -np 2 -H rshmem-ns1,rshmem-ns2 "${OSH_NS[@]}" -x UCX_TLS \
            "$OUT/sb.oshmem" oshmem --iters "$ITERS" </dev/null 2>/dev/null >"$OUT/oshmem-ns.$k.txt" &&
            break
        echo "oshmem-ns run $k attempt $attempt failed" >&2
    done
    UCX_TLS=tcp,self MPIR_CVAR_NOLOCAL=1 timeout 120 mpiexec.hydra -n 2 -hosts rshmem-ns1,rshmem-ns2 \
        -launcher ssh -launcher-exec "$AGENT" -iface rshv1 -genvall \
        "$OUT/rma.mpich" mpich --iters "$ITERS" </dev/null 2>/dev/null >"$OUT/mpich-ns.$k.txt" ||
        echo "mpich-ns run $k failed" >&2
done
$NS1 iperf3 -s -1 -D -B 127.0.0.1 && sleep 0.5
$NS1 iperf3 -c 127.0.0.1 -t 5 -l 128K >"$OUT/iperf3-lo.txt"
ip netns exec rshmem-ns2 iperf3 -s -1 -D -B 10.213.2.2 && sleep 0.5
$NS1 iperf3 -c 10.213.2.2 -t 5 -l 128K >"$OUT/iperf3-ns.txt"
grep -E "receiver" "$OUT/iperf3-lo.txt" "$OUT/iperf3-ns.txt"
