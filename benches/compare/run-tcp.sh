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
# Socket ceilings of both paths: iperf3 (one TCP stream, 128 KiB and 1 MiB writes, 5 s,
# the system's congestion control and cubic) and benches/compare/sockcopy.py (rshmem's
# socket options); the report takes the best.
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
# Open MPI's start across the namespaces sometimes stalls (one orted never reports
# back): up to 3 attempts of at most 60 s each (a whole run takes about 3 s).
osh_ns() { # name round
    for attempt in 1 2 3; do
        UCX_TLS=tcp,self timeout 60 oshrun -np 2 -H rshmem-ns1,rshmem-ns2 "${OSH_NS[@]}" -x UCX_TLS \
            "$OUT/sb.oshmem" "$1" --iters "$ITERS" </dev/null 2>/dev/null >"$OUT/$1-ns.$2.txt" &&
            return 0
        echo "$1-ns run $2 attempt $attempt failed" >&2
    done
}
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
    osh_ns oshmem "$k"
    UCX_TLS=tcp,self MPIR_CVAR_NOLOCAL=1 timeout 120 mpiexec.hydra -n 2 -hosts rshmem-ns1,rshmem-ns2 \
        -launcher ssh -launcher-exec "$AGENT" -iface rshv1 -genvall \
        "$OUT/rma.mpich" mpich --iters "$ITERS" </dev/null 2>/dev/null >"$OUT/mpich-ns.$k.txt" ||
        echo "mpich-ns run $k failed" >&2
done
# Reference (not a competitor): Open MPI's OSHMEM across the namespaces with their
# default congestion control set to reno (rshmem replaces a pacing default such as BBR by
# cubic or reno on its own connections; UCX keeps the system's). OSH_RENO=0 skips it.
if [ "${OSH_RENO:-1}" = 1 ]; then
    cc0=$(ip netns exec rshmem-ns1 sysctl -n net.ipv4.tcp_congestion_control)
    for n in 1 2; do ip netns exec rshmem-ns$n sysctl -qw net.ipv4.tcp_congestion_control=reno; done
    for k in $(seq 1 "$K"); do
        osh_ns oshmem_reno "$k"
    done
    for n in 1 2; do ip netns exec rshmem-ns$n sysctl -qw net.ipv4.tcp_congestion_control="$cc0"; done
fi
# Ceilings: one stream, 128 KiB and 1 MiB writes, with the system's congestion control and
# with cubic (what rshmem's connections use when the system's paces); the report takes the
# best. (-C cubic needs root where cubic is not in tcp_allowed_congestion_control.)
ceil() { # path server-ns server-addr client-ns suffix iperf3-options...
    local path=$1 sns=$2 addr=$3 cns=$4 suf=$5
    shift 5
    ip netns exec "$sns" iperf3 -s -1 -D -B "$addr" && sleep 0.5
    ip netns exec "$cns" iperf3 -c "$addr" -t 5 "$@" >"$OUT/iperf3-$path$suf.txt" || true
    sleep 0.5
}
for v in ":-l 128K" "-1M:-l 1M" "-cubic:-l 128K -C cubic" "-cubic-1M:-l 1M -C cubic"; do
    # shellcheck disable=SC2086
    ceil lo rshmem-ns1 127.0.0.1 rshmem-ns1 "${v%%:*}" ${v#*:}
    # shellcheck disable=SC2086
    ceil ns rshmem-ns2 10.213.2.2 rshmem-ns1 "${v%%:*}" ${v#*:}
done
# A plain socket copy with rshmem's own socket options (cubic, 128 KiB unsent at most),
# and with cubic alone: benches/compare/sockcopy.py, 1 MiB writes.
copy() { # path server-ns addr client-ns suffix sockcopy-options...
    local path=$1 sns=$2 addr=$3 cns=$4 suf=$5
    shift 5
    ip netns exec "$sns" python3 "$root/benches/compare/sockcopy.py" server "$addr" 5301 "$@" \
        >"$OUT/iperf3-$path$suf.txt" &
    sleep 0.5
    ip netns exec "$cns" python3 "$root/benches/compare/sockcopy.py" client "$addr" 5301 "$@" || true
    wait
}
for v in "-sockcopy:--lowat 131072" "-sockcopy-nolowat:--lowat 0"; do
    # shellcheck disable=SC2086
    copy lo rshmem-ns1 127.0.0.1 rshmem-ns1 "${v%%:*}" ${v#*:}
    # shellcheck disable=SC2086
    copy ns rshmem-ns2 10.213.2.2 rshmem-ns1 "${v%%:*}" ${v#*:}
done
grep -E "receiver" "$OUT"/iperf3-*.txt
