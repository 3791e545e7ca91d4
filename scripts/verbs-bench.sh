#!/usr/bin/env bash
# rshmem's verbs transport against perftest on Soft-RoCE (rxe0), in ONE boot of the verbs VM
# (scripts/verbs-vm/run.sh, see docs/verbs-vm.md and docs/verbs-bench.md).
#
#   scripts/verbs-bench.sh [options]
#     --runs K       repeat the whole set K times in the same boot (default 1); the summary
#                    table uses the median of the K runs
#     --iters N      rshmem-osu iterations for the latency tests (default 1000); perftest -n
#                    is the same; msg_rate uses 2*N puts, put_bw / ib_write_bw 1 MiB x 64
#     --new DIR      take rshmemrun and rshmem-osu from DIR instead of target/release
#     --base DIR     also run the rshmem figures with DIR/rshmemrun and DIR/rshmem-osu (an
#                    older build copied aside), interleaved, to compare before/after in the
#                    same boot
#     --no-build     do not run cargo build
#     --mr-only      only the message-rate rows (no perftest, no latencies, no bandwidth)
#     -t SEC         VM time limit (default 1500)
#     --in-vm        (internal) the part that runs in the guest
#
# Builds release (rshmem-launcher, rshmem-benches), boots the VM once and runs, each on rxe0:
#   perftest: ib_write_lat -s 8, ib_read_lat -s 8, ib_atomic_lat (FETCH_AND_ADD),
#             ib_write_bw -s 1048576 (server and client in the guest, client -> 10.77.0.1)
#   rshmem (RSHMEM_TRANSPORT=verbs rshmemrun -n 2 rshmem-osu, PE 0 -> PE 1):
#             put_lat 8 B (put + quiet), get_lat 8 B, atomic_lat fetch_add, each as a mean
#             and with --typical (median of per-operation times, perftest's t_typical),
#             pingpong_lat (8-byte p + wait_until, half a round trip: ib_write_lat's
#             definition), put_bw 1 MiB from private memory and --symmetric-src (registered,
#             zero-copy),
#             msg_rate 8 B four ways: default (selective signaling + inline + post lists),
#             RSHMEM_VERBS_POST_LIST=1 (selective + inline, one post per put),
#             RSHMEM_VERBS_SIGNAL_EVERY=1 RSHMEM_VERBS_POST_LIST=1 (every WR signaled and
#             posted alone), and that with RSHMEM_VERBS_INLINE=0 (signaled, not inline)
# and prints a table of rshmem vs perftest with ratios against the targets of issue #3 s. 9:
#   latency <= 1.15 x perftest t_typical, bandwidth >= 0.9 x ib_write_bw average,
#   msg rate (selective + inline) >= 2 x every-WR-signaled.
# perftest reports MiB/s (2^20); it is converted to MB/s (10^6, as rshmem-osu) for the ratio.
# Absolute times under TCG mean nothing: only compare ratios from the same boot.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

RUNS=1 ITERS=1000 BASE="" NEW="" BUILD=1 TLIM=1500 INVM=0 MRONLY=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --iters) ITERS=$2; shift 2 ;;
        --base) BASE=$(readlink -f "$2"); shift 2 ;;
        --new) NEW=$(readlink -f "$2"); shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --mr-only) MRONLY=1; shift ;;
        -t) TLIM=$2; shift 2 ;;
        --in-vm) INVM=1; shift ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "verbs-bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [ $INVM = 0 ]; then
    if [ $BUILD = 1 ]; then
        cargo build -q --release -p rshmem-launcher -p rshmem-benches || exit 1
    fi
    args=(--in-vm --runs "$RUNS" --iters "$ITERS")
    [ $MRONLY = 1 ] && args+=(--mr-only)
    [ -n "$BASE" ] && args+=(--base "$BASE")
    [ -n "$NEW" ] && args+=(--new "$NEW")
    exec scripts/verbs-vm/run.sh -t "$TLIM" -- bash "$PWD/scripts/verbs-bench.sh" "${args[@]}"
fi

# ---------------------------------------------------------------- in the guest
DEV="${VERBSVM_RXE_DEV:-rxe0}" GIDX="${VERBSVM_GID_INDEX:-1}" IP="${VERBSVM_RXE_IP:-10.77.0.1}"
export RSHMEM_TRANSPORT=verbs
B=${NEW:-$PWD/target/release}
PORT=18600
declare -A R    # R[key] = "v1 v2 ..." (one value per run)
add() { R[$1]="${R[$1]:-}${R[$1]:+ }$2"; }

# perftest TITLE-KEY COLUMN TOOL ARGS...: server + client in the guest; adds column COLUMN
# (1-based) of the client's figures line under KEY.
perf() {
    local key=$1 col=$2 tool=$3; shift 3
    PORT=$((PORT + 1))
    local slog clog ok=0
    slog=$(mktemp) clog=$(mktemp)
    local common=(-d "$DEV" -i 1 -x "$GIDX" -F -p "$PORT")
    "$tool" "${common[@]}" "$@" >"$slog" 2>&1 &
    local spid=$!
    for _ in $(seq 20); do   # the server needs a moment to listen (slow process start)
        sleep 0.5
        if timeout 300 "$tool" "${common[@]}" "$@" "$IP" >"$clog" 2>&1; then ok=1; break; fi
        grep -q "Couldn't connect\|Unable to open file descriptor for socket connection" "$clog" || break
    done
    wait "$spid" 2>/dev/null
    local v=""
    local line=""
    [ $ok = 1 ] && line=$(grep -E '^ *[0-9]+ +[0-9]+ ' "$clog" | tail -1)
    v=$(echo "$line" | awk -v c="$col" '{print $c}')
    # latency tests: also keep t_avg (column 6), the statistic rshmem-osu reports (a mean)
    [ "$col" = 5 ] && add "${key}_avg" "$(echo "$line" | awk '{print ($6 == "" ? "nan" : $6)}')"
    if [ -z "$v" ]; then
        echo "  $key: $tool FAILED"; sed 's/^/    | /' "$clog" | tail -15
        v=nan
    else
        echo "  $key: $tool $* -> $v"
    fi
    add "$key" "$v"
    rm -f "$slog" "$clog"
}

# osu LABEL DIR KEY METRIC-ROW-GREP ENV... -- OSU-ARGS...: rshmem-osu from DIR under rshmemrun -n 2
osu() {
    local label=$1 dir=$2 key=$3 pat=$4; shift 4
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    local log v
    log=$(mktemp)
    env "${envs[@]+"${envs[@]}"}" timeout 400 "$dir/rshmemrun" -n 2 "$dir/rshmem-osu" --csv "$@" >"$log" 2>&1
    local rc=$?
    v=$(grep -E "$pat" "$log" | tail -1 | cut -d, -f4)
    if [ $rc -ne 0 ] || [ -z "$v" ]; then
        echo "  $label/$key: rshmem-osu $* FAILED (rc $rc)"; sed 's/^/    | /' "$log" | tail -15
        v=nan
    else
        echo "  $label/$key: ${envs[*]+${envs[*]} }rshmem-osu $* -> $v"
    fi
    add "$label/$key" "$v"
    rm -f "$log"
}

rshmem_set() {  # rshmem_set LABEL DIR
    local l=$1 d=$2 n=$ITERS
    osu "$l" "$d" mr_sel '^msg_rate,8,messages_s' -- msg_rate --iters $((2 * n)) --window 64
    osu "$l" "$d" mr_nolist '^msg_rate,8,messages_s' RSHMEM_VERBS_POST_LIST=1 -- msg_rate --iters $((2 * n)) --window 64
    osu "$l" "$d" mr_sig '^msg_rate,8,messages_s' RSHMEM_VERBS_SIGNAL_EVERY=1 RSHMEM_VERBS_POST_LIST=1 -- msg_rate --iters $((2 * n)) --window 64
    osu "$l" "$d" mr_sig_noinl '^msg_rate,8,messages_s' RSHMEM_VERBS_SIGNAL_EVERY=1 RSHMEM_VERBS_INLINE=0 RSHMEM_VERBS_POST_LIST=1 -- msg_rate --iters $((2 * n)) --window 64
    [ $MRONLY = 1 ] && return
    osu "$l" "$d" put_lat '^put_lat,8,latency_us' -- put_lat --min-size 8 --max-size 8 --iters "$n"
    osu "$l" "$d" get_lat '^get_lat,8,latency_us' -- get_lat --min-size 8 --max-size 8 --iters "$n"
    osu "$l" "$d" amo_lat '^atomic_lat,fetch_add,latency_us' -- atomic_lat --iters "$n"
    osu "$l" "$d" put_lat_t '^put_lat,8,latency_us' -- put_lat --min-size 8 --max-size 8 --iters "$n" --typical
    osu "$l" "$d" get_lat_t '^get_lat,8,latency_us' -- get_lat --min-size 8 --max-size 8 --iters "$n" --typical
    osu "$l" "$d" amo_lat_t '^atomic_lat,fetch_add,latency_us' -- atomic_lat --iters "$n" --typical
    osu "$l" "$d" pp_lat '^pingpong_lat,8,latency_us' -- pingpong_lat --iters "$n"
    osu "$l" "$d" pp_lat_t '^pingpong_lat,8,latency_us' -- pingpong_lat --iters "$n" --typical
    osu "$l" "$d" put_bw '^put_bw,1048576,bandwidth_MB_s' -- put_bw --min-size 1M --max-size 1M --iters 1024 --warmup 256 --window 16
    osu "$l" "$d" put_bw_sym '^put_bw,1048576,bandwidth_MB_s' -- put_bw --min-size 1M --max-size 1M --iters 1024 --warmup 256 --window 16 --symmetric-src
}

echo "== verbs-bench on $DEV (gid $GIDX, $IP), $(nproc) vCPUs, kernel $(uname -r), $(date -u '+%F %T') UTC"
echo "   iters $ITERS, runs $RUNS${BASE:+, baseline $BASE}"
for run in $(seq "$RUNS"); do
    echo "-- run $run"
    # ib_write_lat ping-pongs with both sides busy-polling memory, which starves rxe's
    # kernel work now and then (ms-scale results, docs/verbs-vm.md): 3 tries, median
    if [ $MRONLY = 0 ]; then
    for _ in 1 2 3; do perf write_lat 5 ib_write_lat -s 8 -n "$ITERS"; done
    perf read_lat 5 ib_read_lat -s 8 -n "$ITERS"
    perf atomic_lat 5 ib_atomic_lat -A FETCH_AND_ADD -n "$ITERS"
    perf write_bw 4 ib_write_bw -s 1048576 -n 64
    fi
    rshmem_set new "$B"
    [ -n "$BASE" ] && rshmem_set base "$BASE"
done

# ---------------------------------------------------------------- summary
med() {  # median of the numbers in $1 (nan ignored); "nan" when none
    echo "$1" | tr ' ' '\n' | grep -v nan | sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}
row() {  # row NAME RSHMEM PERFTEST KIND(lat|bw|mr) TARGET
    awk -v n="$1" -v r="$2" -v p="$3" -v k="$4" -v t="$5" 'BEGIN {
        if (r == "nan" || p == "nan" || p == 0 || r == 0) { printf "| %-34s | %12s | %12s | %6s | %-8s | %s |\n", n, r, p, "-", t, "?"; exit }
        ratio = (k == "lat") ? r / p : r / p
        met = (k == "lat") ? (ratio <= t) : (ratio >= t)
        printf "| %-34s | %12.2f | %12.2f | %6.2f | %s %-5s | %s |\n", n, r, p, ratio, (k == "lat") ? "<=" : ">=", t, met ? "met" : "NOT met" }'
}
table() {  # table LABEL
    local l=$1
    local wl rl al bw
    wl=$(med "${R[write_lat]:-}") rl=$(med "${R[read_lat]:-}") al=$(med "${R[atomic_lat]:-}")
    bw=$(med "${R[write_bw]:-}")
    bw=$(awk -v b="$bw" 'BEGIN { if (b == "nan") print "nan"; else printf "%.2f", b * 1.048576 }')
    echo
    echo "### rshmem ($l) vs perftest, median of $RUNS run(s)"
    echo
    echo "| measure | rshmem | perftest | ratio | target | |"
    echo "|---|---:|---:|---:|---|---|"
    echo "| *same statistic and definition as perftest (median of per-operation times)* | | | | | |"
    row "ping-pong 8 B typ / ib_write_lat typ" "$(med "${R[$l/pp_lat_t]:-}")" "$wl" lat 1.15
    row "get 8 B typ / ib_read_lat typ" "$(med "${R[$l/get_lat_t]:-}")" "$rl" lat 1.15
    row "fetch_add typ / ib_atomic_lat typ" "$(med "${R[$l/amo_lat_t]:-}")" "$al" lat 1.15
    echo "| *means against perftest's t_avg* | | | | | |"
    row "ping-pong mean / ib_write_lat t_avg" "$(med "${R[$l/pp_lat]:-}")" "$(med "${R[write_lat_avg]:-}")" lat 1.15
    row "get mean / ib_read_lat t_avg" "$(med "${R[$l/get_lat]:-}")" "$(med "${R[read_lat_avg]:-}")" lat 1.15
    row "fetch_add mean / ib_atomic_lat t_avg" "$(med "${R[$l/amo_lat]:-}")" "$(med "${R[atomic_lat_avg]:-}")" lat 1.15
    echo "| *put + quiet (a full round trip) against ib_write_lat (half of one)* | | | | | |"
    row "put+quiet typ / ib_write_lat typ" "$(med "${R[$l/put_lat_t]:-}")" "$wl" lat 1.15
    row "put+quiet mean / ib_write_lat t_avg" "$(med "${R[$l/put_lat]:-}")" "$(med "${R[write_lat_avg]:-}")" lat 1.15
    echo "| *bandwidth (MB/s)* | | | | | |"
    row "put_bw 1 MiB sym src / ib_write_bw" "$(med "${R[$l/put_bw_sym]:-}")" "$bw" bw 0.9
    row "put_bw 1 MiB private src / ib_write_bw" "$(med "${R[$l/put_bw]:-}")" "$bw" bw 0.9
    echo "| *message rate (msg/s); every-sig = every WR signaled, each posted alone* | | | | | |"
    row "selective+inline+lists / every-sig" "$(med "${R[$l/mr_sel]:-}")" "$(med "${R[$l/mr_sig]:-}")" mr 2
    row "selective+inline, no lists / every-sig" "$(med "${R[$l/mr_nolist]:-}")" "$(med "${R[$l/mr_sig]:-}")" mr 2
    row "selective+inline+lists / sig+no-inl" "$(med "${R[$l/mr_sel]:-}")" "$(med "${R[$l/mr_sig_noinl]:-}")" mr 2
}
echo
echo "== raw values per run (perftest latencies: t_typical and t_avg us; ib_write_bw: BW average MiB/s)"
for k in write_lat write_lat_avg read_lat read_lat_avg atomic_lat atomic_lat_avg write_bw; do printf '  %-22s %s\n' "$k" "${R[$k]:-}"; done
for l in new ${BASE:+base}; do
    for k in put_lat get_lat amo_lat put_lat_t get_lat_t amo_lat_t pp_lat pp_lat_t put_bw put_bw_sym mr_sel mr_nolist mr_sig mr_sig_noinl; do
        printf '  %-22s %s\n' "$l/$k" "${R[$l/$k]:-}"
    done
done
table new
[ -n "$BASE" ] && table base
exit 0
