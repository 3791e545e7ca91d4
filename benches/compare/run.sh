#!/bin/bash
# benches/compare/run.sh -- rshmem side by side with Open MPI OSHMEM and MPI RMA (MPICH,
# Open MPI) on one machine, 2 PEs/ranks bound to 2 cores, interleaved runs, medians.
#
#   benches/compare/run.sh [K]          # K rounds (default 5; env K also works)
#
# Env: OUT (default target/compare), ITERS (default 10000), TIMEOUT per run in s (default 180),
#      IMPLS (default "rshmem oshmem mpich ompi"), NO_APT=1 (never call apt-get),
#      PYTHON (default python3).
# Writes $OUT/raw.csv (every run), $OUT/results.csv (medians), $OUT/table.md,
# $OUT/env.txt, $OUT/logs/*, and docs/bench/compare_*.svg.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
K=${1:-${K:-5}}
OUT=${OUT:-$root/target/compare}
ITERS=${ITERS:-10000}
TIMEOUT=${TIMEOUT:-180}
IMPLS=${IMPLS:-"rshmem oshmem mpich ompi"}
PYTHON=${PYTHON:-python3}
SVGDIR=${SVGDIR:-$root/docs/bench}
mkdir -p "$OUT/bin" "$OUT/logs" "$SVGDIR"

log() { echo "[compare] $*" >&2; }

# ---- 1. packages -------------------------------------------------------------------
need=()
for p in openmpi-bin libopenmpi-dev mpich libmpich-dev; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        need+=("$p")
    fi
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "${NO_APT:-0}" = 1 ]; then log "missing packages: ${need[*]} (NO_APT=1)"; exit 1; fi
    log "installing ${need[*]}"
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >"$OUT/logs/apt.log"
fi

# ---- 2. build ----------------------------------------------------------------------
log "cargo build --release -p rshmem-capi -p rshmem-launcher"
RSHMEMRUN=$root/target/release/rshmemrun
build_note="built by this run"
if [ "${SKIP_BUILD:-0}" = 1 ]; then
    build_note="SKIP_BUILD=1: existing build"
elif ! cargo build --release -p rshmem-capi -p rshmem-launcher >"$OUT/logs/cargo.log" 2>&1; then
    tail -20 "$OUT/logs/cargo.log" >&2
    # The tree may be mid-edit by someone else: fall back to the last good release build.
    if [ -e "$root/target/release/librshmem.so" ] && [ -x "$RSHMEMRUN" ]; then
        build_note="cargo build FAILED (tree mid-edit); used the existing release build"
        log "WARNING: $build_note from $(date -u -r "$root/target/release/librshmem.so" '+%H:%M UTC')"
    else
        exit 1
    fi
fi
export RSHMEM_LIBDIR=$root/target/release        # rshmemcc: link (and rpath) the release lib
RSHMEMCC=$root/capi/rshmemcc

# Open MPI: osc/rdma segfaults OSHMEM's shmem_finalize; keep control traffic on loopback.
export OMPI_MCA_osc='^rdma' OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_btl_tcp_if_include=lo
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# Does compiler wrapper $1 provide routine snippet $2 (declared and linkable)?
probe() {
    local cc=$1 body=$2 f
    f=$(mktemp -d)
    printf '#include <shmem.h>\nint main(void){ %s return 0; }\n' "$body" >"$f/p.c"
    if $cc -Werror=implicit-function-declaration "$f/p.c" -o "$f/p" >/dev/null 2>&1; then
        rm -rf "$f"; return 0
    fi
    rm -rf "$f"; return 1
}
shmem_flags() {
    local cc=$1 flags=""
    probe "$cc" 'static long s[SHMEM_REDUCE_SYNC_SIZE], w[SHMEM_REDUCE_MIN_WRKDATA_SIZE], a, b; shmem_long_sum_to_all(&a, &b, 1, 0, 0, 1, w, s);' &&
        flags+=" -DBENCH_HAVE_TO_ALL"
    probe "$cc" 'static long s[SHMEM_BCAST_SYNC_SIZE], a, b; shmem_broadcast64(&a, &b, 1, 0, 0, 0, 1, s);' &&
        flags+=" -DBENCH_HAVE_BCAST64"
    if [[ $flags != *TO_ALL* ]]; then
        probe "$cc" 'static long a, b; shmem_long_sum_reduce(SHMEM_TEAM_WORLD, &a, &b, 1);' &&
            flags+=" -DBENCH_HAVE_TEAM_REDUCE"
    fi
    if [[ $flags != *BCAST64* ]]; then
        probe "$cc" 'static long a, b; shmem_long_broadcast(SHMEM_TEAM_WORLD, &a, &b, 1, 0);' &&
            flags+=" -DBENCH_HAVE_TEAM_BCAST"
    fi
    echo "$flags"
}

CFLAGS=${CFLAGS:--O2 -Wall}
f=$(shmem_flags "$RSHMEMCC")
log "rshmemcc $CFLAGS$f"
$RSHMEMCC $CFLAGS $f "$here/shmem_bench.c" -o "$OUT/bin/shmem_bench.rshmem"
f=$(shmem_flags oshcc)
log "oshcc $CFLAGS$f"
oshcc $CFLAGS $f "$here/shmem_bench.c" -o "$OUT/bin/shmem_bench.oshmem"
mpicc.mpich $CFLAGS "$here/mpi_rma_bench.c" -o "$OUT/bin/mpi_rma_bench.mpich"
mpicc.openmpi $CFLAGS "$here/mpi_rma_bench.c" -o "$OUT/bin/mpi_rma_bench.ompi"

# Same binding everywhere: 2 processes, rank/PE i on core i.
run_one() {
    local impl=$1 args=(--iters "$ITERS")
    case $impl in
        rshmem) timeout -k 5 "$TIMEOUT" "$RSHMEMRUN" -n 2 --bind-to core --report-bindings \
                    "$OUT/bin/shmem_bench.rshmem" rshmem "${args[@]}" ;;
        oshmem) timeout -k 5 "$TIMEOUT" oshrun -np 2 --bind-to core --map-by core --report-bindings \
                    "$OUT/bin/shmem_bench.oshmem" oshmem "${args[@]}" ;;
        mpich) timeout -k 5 "$TIMEOUT" mpiexec.hydra -n 2 -bind-to core \
                    "$OUT/bin/mpi_rma_bench.mpich" mpich "${args[@]}" ;;
        ompi) timeout -k 5 "$TIMEOUT" mpirun.openmpi -np 2 --bind-to core --map-by core --report-bindings \
                    "$OUT/bin/mpi_rma_bench.ompi" ompi "${args[@]}" ;;
    esac
}

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
    echo "kernel: $(uname -r)"
    echo "os: $(. /etc/os-release; echo "$PRETTY_NAME")"
    echo "openmpi: $(dpkg-query -W -f='${Version}' openmpi-bin), mpich: $(dpkg-query -W -f='${Version}' mpich)"
    echo "ucx: $(dpkg-query -W -f='${Version}' libucx0 2>/dev/null || echo '?')"
    echo "rshmem: $(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet 2>/dev/null || echo '+dirty')"
    echo "librshmem: $build_note, librshmem.so of $(date -u -r "$root/target/release/librshmem.so" '+%Y-%m-%d %H:%M UTC')"
    echo "command: benches/compare/run.sh $K (ITERS=$ITERS)"
} >"$OUT/env.txt"

# ---- 3. interleaved runs -----------------------------------------------------------
raw=$OUT/raw.csv
echo "round,impl,test,size,value,unit" >"$raw"
: >"$OUT/loadavg.txt"
failed=0
for r in $(seq 1 "$K"); do
    for impl in $IMPLS; do
        echo "round $r $impl start $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/loadavg.txt"
        log "round $r/$K: $impl"
        if run_one "$impl" >"$OUT/logs/$impl.$r.out" 2>"$OUT/logs/$impl.$r.err"; then
            grep -E "^$impl," "$OUT/logs/$impl.$r.out" | sed "s/^/$r,/" >>"$raw"
        else
            rc=$?
            log "round $r $impl FAILED (exit $rc; see $OUT/logs/$impl.$r.err)"
            failed=$((failed + 1))
            grep -E "^$impl," "$OUT/logs/$impl.$r.out" | sed "s/^/$r,/" >>"$raw" || true
        fi
    done
done
echo "end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/loadavg.txt"

# ---- 4. medians, table, plots ------------------------------------------------------
"$PYTHON" "$here/report.py" --raw "$raw" --env "$OUT/env.txt" --out "$OUT" --svgdir "$SVGDIR"
[ $failed = 0 ] || log "$failed run(s) failed"
exit $((failed > 0))
