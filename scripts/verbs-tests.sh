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
    for c in setup globals reinit rma amo signal wait lock memory coll active team ctx ctx_threads generic_ctx v16 thread_level ctx_finalize; do
        sh capi/rshmemcc -std=c11 -O1 capi/tests/c/$c.c -o target/debug/verbs-c/$c || exit 1
    done
    exec scripts/verbs-vm/run.sh -t "${VERBS_TESTS_TIMEOUT:-1200}" ${VERBS_CASES_ONLY:+-e VERBS_CASES_ONLY} \
        -- bash "$PWD/scripts/verbs-tests.sh" --in-vm
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
# registered at init and at finalize, and the init time. Connections are made on demand:
# at init a PE has only its loopback pair (2 QPs); at finalize it also has the QPs of its
# neighbours and of the barriers' dissemination partners (O(log N)). The case checks the
# 2 at init on every PE, fewer than N+1 (a full mesh) at finalize for N=16, and prints a
# row per N for docs/verbs-bench.md.
ring_cost() {
    local n=$1 out
    out=$(env SHMEM_INFO=1 timeout 600 $RUN -n "$n" $B/ring 2>&1) || { echo "$out" | tail -20; return 1; }
    echo "$out" | grep -q "ring: OK, $n PEs" || { echo "$out" | tail -20; return 1; }
    local init fin
    init=$(echo "$out" | grep -E "^rshmem: PE [0-9]+: verbs at init: 2 queue pairs, [0-9]+ bytes registered, init [0-9]+ ms$")
    fin=$(echo "$out" | grep -E "^rshmem: PE [0-9]+: verbs at finalize: [0-9]+ queue pairs, [0-9]+ bytes registered$" |
        sed -E 's/.*finalize: ([0-9]+) queue pairs.*/\1/' | sort -n)
    if [ "$(echo "$init" | grep -c .)" -ne "$n" ] || [ "$(echo "$fin" | grep -c .)" -ne "$n" ]; then
        echo "$out" | grep "verbs at"
        echo "expected $n lines of 2 queue pairs at init and $n finalize lines"
        return 1
    fi
    local lo hi reg ms
    lo=$(echo "$fin" | head -1)
    hi=$(echo "$fin" | tail -1)
    if [ "$n" -ge 16 ] && [ "$hi" -ge $((n + 1)) ]; then
        echo "$out" | grep "verbs at"
        echo "a PE created $hi queue pairs: not fewer than a full mesh ($((n + 1)))"
        return 1
    fi
    # Peer records (bases, keys, service address) are read on first use, not at init.
    local recs rlo rhi
    recs=$(echo "$out" | grep -E "^rshmem: PE [0-9]+: verbs peer records read: [0-9]+ of $n$" |
        sed -E 's/.*read: ([0-9]+) of.*/\1/' | sort -n)
    if [ "$(echo "$recs" | grep -c .)" -ne "$n" ]; then
        echo "$out" | grep "records read"
        echo "expected $n lines of peer records read"
        return 1
    fi
    rlo=$(echo "$recs" | head -1)
    rhi=$(echo "$recs" | tail -1)
    if [ "$n" -ge 16 ] && [ "$rhi" -ge "$n" ]; then
        echo "$out" | grep "records read"
        echo "a PE read $rhi peer records: every PE's (not on first use)"
        return 1
    fi
    # The runtime's segment records: its own and the node's first PE's (verbs forced: no
    # same-node mapping), not every PE's.
    local segs shi
    segs=$(echo "$out" | grep -E "^rshmem: PE [0-9]+: segment records read at init: [0-9]+ of $n$" |
        sed -E 's/.*init: ([0-9]+) of.*/\1/' | sort -n)
    shi=$(echo "$segs" | tail -1)
    if [ "$(echo "$segs" | grep -c .)" -ne "$n" ] || [ "$shi" -gt 2 ]; then
        echo "$out" | grep "segment records"
        echo "expected $n lines of at most 2 segment records read at init"
        return 1
    fi
    reg=$(echo "$init" | sed -E 's/.* ([0-9]+) bytes registered.*/\1/' | sort -n | tail -1)
    ms=$(echo "$init" | sed -E 's/.*init ([0-9]+) ms/\1/' | sort -n | tail -1)
    echo "ring cost: N=$n qps/PE at init=2 at finalize=$lo..$hi records read=$rlo..$rhi segment records=$shi registered/PE=$reg bytes max init=$ms ms"
}
for n in 2 4 8 16; do
    case_ "ring $n PEs: queue pairs per PE" ok "ring cost: N=$n qps/PE" -- ring_cost $n
    grep "ring cost:" "$log" || true
done
# Every pair connects on demand: each PE increments bins on every PE and reads all bins.
case_ "all-to-all on demand: histogram 8 PEs" ok "" -- timeout 600 $RUN -n 8 $B/histogram 2000
# The connection service answers while the target computes outside any OpenSHMEM call.
case_ "on demand: target busy outside OpenSHMEM (8 PEs)" ok "busy_target: OK" -- timeout 300 $RUN -n 8 $B/busy_target
grep "busy_target:" "$log" || true
# The full mesh (InfiniBand ports, or RSHMEM_VERBS_CONNECT=mesh): N+1 QPs from init.
case_ "RSHMEM_VERBS_CONNECT=mesh: verbs_rma 4 PEs, 5 QPs at init" ok "PE 3: verbs at init: 5 queue pairs" \
    -- env RSHMEM_VERBS_CONNECT=mesh SHMEM_INFO=1 timeout 500 $RUN -n 4 $B/verbs_rma
case_ "RSHMEM_VERBS_CONNECT=bogus is refused" fail "invalid RSHMEM_VERBS_CONNECT" \
    -- env RSHMEM_VERBS_CONNECT=bogus timeout 120 $RUN -n 2 $B/hello
# An attacker on the RDMA network (cm_forge, not a PE) sends forged connect requests to PE
# 1's connection service before the PEs connect: too short, from a PE outside the job, and
# claiming to be PE 0 without the job's key. Each must be rejected (no QP made, nothing for
# PE 1 to adopt as its connection to PE 0), reported once on stderr, and the job must go on
# to exchange the right data.
forged() {
    local go out rc addr frc fout
    go=$(mktemp -u) out=$(mktemp)
    CM_TARGET_GO=$go SHMEM_INFO=1 timeout 200 $RUN -n 2 $B/cm_target >"$out" 2>&1 &
    local job=$!
    for _ in $(seq 1 600); do
        addr=$(grep -oE "PE 1: transport per peer.*service [0-9.]+:[0-9]+" "$out" | grep -oE "[0-9.]+:[0-9]+$")
        [ -n "$addr" ] && break
        sleep 0.1
    done
    if [ -z "$addr" ]; then echo "no service address of PE 1 in:"; cat "$out"; kill $job; return 1; fi
    fout=$($B/cm_forge "${addr%:*}" "${addr##*:}" short pe99 badmac:0 badmac:1)
    frc=$?
    echo "$fout"
    touch "$go"
    wait $job
    rc=$?
    cat "$out"
    echo "forger exit $frc, job exit $rc"
    local ok=1
    [ $frc -eq 0 ] && [ $rc -eq 0 ] || ok=0
    grep -q "cm_target: PE 0 OK" "$out" && grep -q "cm_target: PE 1 OK" "$out" || ok=0
    [ "$(echo "$fout" | grep -c "cm_forge: .*: rejected")" -eq 4 ] || ok=0
    [ "$(grep -c "PE 1: the RDMA connection service rejected" "$out")" -eq 4 ] || ok=0
    rm -f "$go" "$out"
    [ $ok = 1 ] || echo "expected: 4 rejections reported by cm_forge and by PE 1, both PEs OK, exit 0"
    [ $ok = 1 ]
}
case_ "forged connect requests are rejected, the job goes on" ok \
    "rejected a connect request from .*: it claims to come from PE 0 but is not signed with this job's key" \
    -- forged
# A peer that died before anyone connected to it: the first contact must end the job with
# an error naming it (the launcher's teardown or the failed connect), never hang.
case_ "on demand: first contact with a dead peer ends the job" fail \
    "PE 1 \(pid [0-9]+\) was killed by signal 9|could not connect to PE 1 on demand" \
    -- timeout 120 $RUN -n 2 $B/cm_dead_peer
for c in setup globals reinit rma amo signal wait lock memory coll active team ctx ctx_threads generic_ctx v16; do
    case_ "C $c.c 2 PEs" ok "$c: ok on 2 PEs" -- timeout 400 $RUN -n 2 $B/verbs-c/$c
done
# Contexts never destroyed, with puts outstanding on their own QPs: shmem_finalize
# completes and frees them (every PE gets past it); a second destroy is refused.
case_ "C ctx_finalize.c: contexts left to finalize, 4 PEs" ok "ctx_finalize: PE 3 past finalize" \
    -- timeout 400 $RUN -n 4 $B/verbs-c/ctx_finalize
case_ "C ctx_finalize.c: a context destroyed twice" fail "shmem_ctx_destroy: 0x[0-9a-f]+ is not a live context" \
    -- timeout 120 $RUN -n 2 $B/verbs-c/ctx_finalize double
# Thread levels (issue 14.3): the default context (channel 0) takes its mutex only under
# SHMEM_THREAD_MULTIPLE. capi/tests/c/thread_level.c initializes as told (plain shmem_init
# provides SINGLE) and checks puts, gets, AMOs and quiet on the default context: under
# MULTIPLE from two threads at once (locked), under SERIALIZED from two threads in turn,
# under SINGLE and FUNNELED from the main thread (no lock). Every PE's SHMEM_INFO verbs
# line must say which.
thread_level() {
    local how=$1 n=$2 want=$3 out
    out=$(env SHMEM_INFO=1 timeout 400 $RUN -n "$n" $B/verbs-c/thread_level "$how" 2>&1) || { echo "$out" | tail -30; return 1; }
    echo "$out" | grep -E "default context:|thread_level:" | sed -E 's/.*(default context: .*)/\1/'
    [ "$(echo "$out" | grep -E "^rshmem: PE [0-9]+: transport per peer: " | grep -cF "default context: $want")" -eq "$n" ] ||
        { echo "expected $n SHMEM_INFO lines ending 'default context: $want'"; return 1; }
    echo "$out" | grep -qF "thread_level: ok on $n PEs ($how)"
}
case_ "thread level: plain shmem_init is SINGLE, no lock (2 PEs)" ok "" -- thread_level init 2 "no lock (SHMEM_THREAD_SINGLE)"
case_ "thread level: SINGLE, no lock (4 PEs)" ok "" -- thread_level single 4 "no lock (SHMEM_THREAD_SINGLE)"
case_ "thread level: FUNNELED, no lock (2 PEs)" ok "" -- thread_level funneled 2 "no lock (SHMEM_THREAD_FUNNELED)"
case_ "thread level: SERIALIZED, 2 threads in turn, no lock (2 PEs)" ok "" -- thread_level serialized 2 "no lock (SHMEM_THREAD_SERIALIZED)"
case_ "thread level: MULTIPLE, 2 threads at once on the default context, locked (2 PEs)" ok "" -- thread_level multiple 2 "locked (SHMEM_THREAD_MULTIPLE)"
case_ "thread level: MULTIPLE, 2 threads at once, locked (4 PEs)" ok "" -- thread_level multiple 4 "locked (SHMEM_THREAD_MULTIPLE)"
# Under FUNNELED, PE 0's second thread calls exit(3) while its main thread puts in a loop:
# the exit hook must leave the unlocked default context alone (no implicit finalize, no
# exit request through it), say so, and the job must end with status 3.
case_ "thread level: FUNNELED, exit(3) from another thread ends the job" fail \
    "PE 0: exit\(3\) from a thread other than the one that initialized OpenSHMEM \(SHMEM_THREAD_FUNNELED\)" \
    -- timeout 120 $RUN -n 2 $B/verbs-c/thread_level funneled-exit
# A Rust program is always MULTIPLE (`Shmem` is `Sync`).
case_ "thread level: Rust programs keep the default context locked" ok "PE 1: transport per peer: .*default context: locked \(SHMEM_THREAD_MULTIPLE\)" \
    -- env SHMEM_INFO=1 timeout 120 $RUN -n 2 $B/hello
# Contexts own their verbs resources (issue 14.3): tests/src/bin/ctx.rs, two threads per PE
# each on a private context (its own CQ, QP and bounce ring, no lock), puts/gets/AMOs to the
# right neighbour checked after a barrier; contexts created and destroyed in a loop; a
# serialized and a shared context. Each thread's context reports 1 connected QP (it talked
# to one PE); SHMEM_INFO's QPs at finalize must count the contexts' own QPs and their peers'
# responders (ctx_qps below).
ctx_qps() {
    local n=$1 out
    out=$(env SHMEM_INFO=1 timeout 400 $RUN -n "$n" $B/ctx 2>&1) || { echo "$out" | tail -30; return 1; }
    echo "$out" | grep -E "^ctx: PE|verbs at finalize"
    [ "$(echo "$out" | grep -cE "^ctx: PE [0-9]+ channels yes qps 1 1$")" -eq "$n" ] || { echo "expected $n lines 'channels yes qps 1 1'"; return 1; }
    [ "$(echo "$out" | grep -cE "^ctx: PE [0-9]+ of $n OK$")" -eq "$n" ] || return 1
    # Created over the run, per PE: the loopback pair (2), the default context's QPs to its
    # neighbours, and 9 contexts (2 threads, 5 rounds, serialized, shared) with one QP each
    # to the right neighbour, plus the responder QPs of the left neighbour's 9.
    local fin lo
    fin=$(echo "$out" | grep -E "verbs at finalize" | sed -E 's/.*finalize: ([0-9]+) queue pairs.*/\1/' | sort -n)
    lo=$(echo "$fin" | head -1)
    [ "$(echo "$fin" | grep -c .)" -eq "$n" ] && [ "$lo" -ge 20 ] || { echo "expected >= 20 QPs created per PE"; return 1; }
    echo "ctx qps: N=$n created per PE: $(echo $fin)"
}
case_ "contexts (Rust): private contexts on 2 threads, destroy, QPs (2 PEs)" ok "ctx qps: N=2" -- ctx_qps 2
grep "ctx qps:\|channels" "$log" || true
case_ "contexts (Rust): 4 PEs" ok "ctx: PE 3 of 4 OK" -- timeout 500 $RUN -n 4 $B/ctx
# A context's quiet while another context streams: PE 0 streams 64 MiB on context A from a
# thread; B's 8-byte put + quiet, issued meanwhile, must take less than half of A's
# transfer (0-5 ms of 1.3-4.9 s when written). Not a proof of independence on rxe: the
# control (`ctx independent-default`, both on the default context) is as fast, because an
# rxe post runs the requester in the caller's system call, so little is ever outstanding.
case_ "contexts: ctx_quiet of B does not wait for A's 64 MiB" ok "ctx: PE 1 of 2 OK" \
    -- timeout 300 $RUN -n 2 $B/ctx independent
grep "independent:" "$log" || true
# In a full mesh there is no connection service to connect a channel through: contexts
# take the default path (and say so: "channels no").
case_ "contexts (Rust): full mesh, default path" ok "ctx: PE 1 channels no qps 0 0" \
    -- env RSHMEM_VERBS_CONNECT=mesh timeout 300 $RUN -n 2 $B/ctx
# Mixed nodes: same-node peers through the mapping, AMOs through the context's QP.
case_ "contexts (Rust): mixed nodes 2 x 2" ok "ctx: PE 3 of 4 OK" \
    -- env -u RSHMEM_TRANSPORT timeout 300 $RUN -n 4 --hosts nodeA:2,nodeB:2 $AGENT $B/ctx
# The message rate of 8-byte put_nbi, 2 threads: default context vs private contexts (a
# debug build here; docs/verbs-bench.md has the release numbers).
case_ "ctx_rate: 2 threads, default vs private contexts" ok "ctx_rate: 2 PEs, 2 threads" -- timeout 300 $RUN -n 2 $B/ctx_rate 2000 3
grep "ctx_rate:" "$log" || true
# A host whose RDMA port is down counts as having no RDMA: between the two pretend nodes
# auto then picks TCP (and the port comes back up for whatever runs after).
rdma_port_down() {
    local rc=0
    ip link set verbs0 down || return 1
    env -u RSHMEM_TRANSPORT SHMEM_INFO=1 timeout 120 $RUN -n 2 --hosts nodeA:1,nodeB:1 $AGENT $B/hello || rc=$?
    ip link set verbs0 up
    return $rc
}
case_ "auto: an RDMA port that is down means TCP between nodes" ok "PE 0: transport per peer: 0=shm 1=tcp" \
    -- rdma_port_down
rm -f "$log"
echo "verbs: $passed passed, ${#fails[@]} failed"
if [ ${#fails[@]} -ne 0 ]; then
    echo "== ${#fails[@]} FAILED: ${fails[*]}"
    exit 1
fi
echo "== all verbs tests passed"
