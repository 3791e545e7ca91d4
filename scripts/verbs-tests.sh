#!/usr/bin/env bash
# Multi-PE tests of the RDMA verbs transport on Soft-RoCE, in ONE boot of the verbs VM
# (scripts/verbs-vm/run.sh, see docs/verbs-vm.md). Builds on the host (debug), then runs
# every case inside the guest with RSHMEM_TRANSPORT=verbs through target/debug/rshmemrun.
#
#   scripts/verbs-tests.sh            # build, boot the VM, run all cases
#   scripts/verbs-tests.sh --in-vm    # (internal) the part that runs in the guest
#
# Exit status: 0 when every case passed; 1 otherwise (each failure is listed).
set -u
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--in-vm" ]; then
    cargo build -q -p rshmem-launcher -p rshmem-tests -p rshmem-examples -p rshmem-capi || exit 1
    # C programs of the conformance suite, built here, run in the VM over verbs.
    mkdir -p target/debug/verbs-c
    for c in setup globals reinit rma amo signal wait lock memory coll active team ctx generic_ctx v16; do
        sh capi/rshmemcc -std=c11 -O1 capi/tests/c/$c.c -o target/debug/verbs-c/$c || exit 1
    done
    exec scripts/verbs-vm/run.sh -t "${VERBS_TESTS_TIMEOUT:-1200}" -- bash "$PWD/scripts/verbs-tests.sh" --in-vm
fi

B=target/debug
RUN="$B/rshmemrun"
export RSHMEM_TRANSPORT=verbs

# case_ NAME EXPECT(ok|fail) GREP-PATTERN -- COMMAND...
. "$PWD/scripts/verbs-vm/cases.sh"

echo "== verbs tests on ${VERBSVM_RXE_DEV:-?} ($(nproc) vCPUs)"
case_ "verbs_rma 2 PEs" ok "PE 1 of 2 OK" -- timeout 300 $RUN -n 2 $B/verbs_rma
case_ "verbs_rma 4 PEs" ok "PE 3 of 4 OK" -- timeout 500 $RUN -n 4 $B/verbs_rma
case_ "histogram 4 PEs" ok "" -- timeout 200 $RUN -n 4 $B/histogram
case_ "ring 4 PEs (put_signal)" ok "ring: OK" -- timeout 200 $RUN -n 4 $B/ring
case_ "SHMEM_INFO names the device per peer" ok "PE 1: transport per peer: 0=verbs 1=verbs; device: verbs rxe0" \
    -- env SHMEM_INFO=1 timeout 120 $RUN -n 2 $B/hello
# error paths: a clear message, a non-zero exit, no hang
case_ "wrong device name" fail 'RDMA device "nosuch0" \(RSHMEM_DEVICE\) not found; the devices here are: rxe0' \
    -- env RSHMEM_DEVICE=nosuch0 timeout 120 $RUN -n 2 $B/hello
case_ "wrong port" fail "rxe0 has 1 port\(s\), no port 2" \
    -- env RSHMEM_DEVICE=rxe0:2 timeout 120 $RUN -n 2 $B/hello
# (root ignores RLIMIT_MEMLOCK while it has CAP_IPC_LOCK: drop it first)
case_ "memlock too low" fail "ibv_reg_mr.*ulimit -l" \
    -- setpriv --bounding-set=-ipc_lock --inh-caps=-ipc_lock \
    bash -c "ulimit -l 64 && exec timeout 120 $RUN -n 2 $B/hello"
# Two pretend nodes on this machine (--hosts with a local launch agent): PEs of one node
# use shared memory (and the NIC for atomics), PEs of different nodes RDMA (auto mode).
AGENT="--launch-agent $PWD/scripts/local-agent.sh --pmi-addr 127.0.0.1"
case_ "mixed nodes: per-peer transports" ok "PE 0: transport per peer: 0=shm\+verbs-amo 1=shm\+verbs-amo 2=verbs 3=verbs" \
    -- env -u RSHMEM_TRANSPORT SHMEM_INFO=1 timeout 200 $RUN -n 4 --hosts nodeA:2,nodeB:2 $AGENT $B/hello
case_ "mixed nodes: verbs_rma 4 PEs (2 x 2)" ok "PE 3 of 4 OK" \
    -- env -u RSHMEM_TRANSPORT timeout 500 $RUN -n 4 --hosts nodeA:2,nodeB:2 $AGENT $B/verbs_rma
case_ "exhausted heap" ok "exhausted heap reported: symmetric heap exhausted" \
    -- env SHMEM_SYMMETRIC_SIZE=16M timeout 200 $RUN -n 2 $B/verbs_rma exhaust
# What connections cost a PE: the ring (each PE puts only to its right neighbour) at 2, 4,
# 8 and 16 PEs with SHMEM_INFO=1, which prints per PE the queue pairs created and bytes
# registered at init and at finalize, and the init time. Today every PE connects to every
# PE at init (N+1 QPs: one per peer and the loopback pair); the case checks that count on
# every PE and prints a row per N for docs/verbs-bench.md.
ring_cost() {
    local n=$1 out
    out=$(env SHMEM_INFO=1 timeout 600 $RUN -n "$n" $B/ring 2>&1) || { echo "$out" | tail -20; return 1; }
    echo "$out" | grep -q "ring: OK, $n PEs" || { echo "$out" | tail -20; return 1; }
    local fin init
    fin=$(echo "$out" | grep -cE "^rshmem: PE [0-9]+: verbs at finalize: $((n + 1)) queue pairs, [0-9]+ bytes registered$")
    init=$(echo "$out" | grep -E "^rshmem: PE [0-9]+: verbs at init: $((n + 1)) queue pairs, [0-9]+ bytes registered, init [0-9]+ ms$")
    if [ "$fin" -ne "$n" ] || [ "$(echo "$init" | grep -c .)" -ne "$n" ]; then
        echo "$out" | grep "verbs at"
        echo "expected $n lines of $((n + 1)) queue pairs at init and at finalize"
        return 1
    fi
    local reg ms
    reg=$(echo "$init" | sed -E 's/.* ([0-9]+) bytes registered.*/\1/' | sort -n | tail -1)
    ms=$(echo "$init" | sed -E 's/.*init ([0-9]+) ms/\1/' | sort -n | tail -1)
    echo "ring cost: N=$n qps/PE=$((n + 1)) registered/PE=$reg bytes max init=$ms ms"
}
for n in 2 4 8 16; do
    case_ "ring $n PEs: queue pairs per PE" ok "ring cost: N=$n qps/PE" -- ring_cost $n
    grep "ring cost:" "$log" || true
done
for c in setup globals reinit rma amo signal wait lock memory coll active team ctx generic_ctx v16; do
    case_ "C $c.c 2 PEs" ok "$c: ok on 2 PEs" -- timeout 400 $RUN -n 2 $B/verbs-c/$c
done
rm -f "$log"
echo "verbs: $passed passed, ${#fails[@]} failed"
if [ ${#fails[@]} -ne 0 ]; then
    echo "== ${#fails[@]} FAILED: ${fails[*]}"
    exit 1
fi
echo "== all verbs tests passed"
