#!/bin/bash
# scripts/verbs-vm/perftest.sh - loopback perftest figures on Soft-RoCE rxe0.
#
# usage: scripts/verbs-vm/perftest.sh [-n ITERS] [-s BW_SIZE] [run.sh options...]
#   On the host it boots the verbs VM (run.sh) and runs itself inside; in the guest it runs
#   ib_write_lat, ib_read_lat, ib_atomic_lat (FETCH_AND_ADD and CMP_AND_SWAP) and ib_write_bw,
#   each as server + client in the same guest on rxe0 (client connects to $VERBSVM_RXE_IP),
#   and prints each test's result table (header + figures line). Exit status 0 if all ran.
#   Latencies are 2-byte messages; ib_write_bw uses BW_SIZE (default 65536) bytes.
set -uo pipefail
HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
ITERS=1000
BWSIZE=65536
ROPTS=()
while [ $# -gt 0 ]; do
    case "$1" in
        -n) ITERS="$2"; shift 2 ;;
        -s) BWSIZE="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) ROPTS+=("$1"); shift ;;
    esac
done

if [ -z "${VERBSVM_RXE_DEV:-}" ]; then
    # on the host: run ourselves in the VM
    exec "$HERE/run.sh" "${ROPTS[@]+"${ROPTS[@]}"}" -- "$HERE/perftest.sh" -n "$ITERS" -s "$BWSIZE"
fi

DEV="$VERBSVM_RXE_DEV" GIDX="${VERBSVM_GID_INDEX:-1}" IP="${VERBSVM_RXE_IP:-10.77.0.1}"
COMMON=(-d "$DEV" -i 1 -x "$GIDX" -F)
PORT=18515
fails=0
one() {  # one TITLE TOOL ARGS...
    local title="$1" tool="$2"; shift 2
    PORT=$((PORT + 1))
    local slog clog
    slog=$(mktemp) clog=$(mktemp)
    "$tool" "${COMMON[@]}" -p "$PORT" "$@" > "$slog" 2>&1 &
    local spid=$! ok=0
    # the server needs a moment to listen (process start is slow under TCG): retry the client
    for _ in $(seq 20); do
        sleep 0.5
        if "$tool" "${COMMON[@]}" -p "$PORT" "$@" "$IP" > "$clog" 2>&1; then ok=1; break; fi
        grep -q "Couldn't connect\|Unable to open file descriptor for socket connection" "$clog" || break
    done
    wait "$spid" 2>/dev/null
    echo "== $title: $tool $*"
    if [ "$ok" = 1 ]; then
        grep -E '^ *#bytes' "$clog" | head -1
        grep -E '^ *[0-9]+ +[0-9]+ ' "$clog" | tail -1
    else
        fails=$((fails + 1))
        echo "FAILED; client output:"; cat "$clog"; echo "server output:"; cat "$slog"
    fi
    rm -f "$slog" "$clog"
}

echo "perftest on $DEV (gid index $GIDX, $IP), $(nproc) vCPUs, kernel $(uname -r)"
one "RDMA WRITE latency" ib_write_lat -s 2 -n "$ITERS"
one "RDMA READ latency" ib_read_lat -s 2 -n "$ITERS"
one "ATOMIC FETCH_ADD latency" ib_atomic_lat -A FETCH_AND_ADD -n "$ITERS"
one "ATOMIC CMP_SWAP latency" ib_atomic_lat -A CMP_AND_SWAP -n "$ITERS"
one "RDMA WRITE bandwidth" ib_write_bw -s "$BWSIZE" -n "$(( ITERS < 2000 ? ITERS : 2000 ))"
exit $(( fails > 0 ))
