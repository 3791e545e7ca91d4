#!/usr/bin/env bash
# The MPI bootstrap (cargo feature `mpi`) against both MPIs of Debian: builds the mpi_hello
# example once with MPICH (MPICC=mpicc.mpich) and once with Open MPI (MPICC=mpicc.openmpi),
# lints it, and runs it with 4 PEs under each MPI's launcher:
#   - the program initializes MPI, RSHMEM_BOOTSTRAP=mpi forces the bootstrap;
#   - the same without RSHMEM_BOOTSTRAP (automatic selection must pick MPI because the
#     program initialized it, although PMIx or PMI variables are set);
#   - --shmem-first: rshmem initializes MPI itself (forced) and finalizes it;
# and (MPICH) as a one-process MPI singleton without a launcher. Every run must exit 0,
# print `mpi_hello: PE i of N OK` once per PE and `mpi_hello: ok on N PEs` once, and
# report `bootstrap mpi` (SHMEM_INFO=1); afterwards no process of the binary and no
# /dev/shm/rshmem-mpi-* object may remain.
#
# One MPI per build: rsmpi's build script (mpi-sys) probes MPICC (else `mpicc`) but does not
# rerun when MPICC changes. Instead of a target directory per MPI (a full rebuild each,
# ~2 min of CPU), the builds share the normal target directory, so everything below
# mpi-sys (libc, the transports, bindgen...) is reused from `cargo build`, and each MPI
# gets its own mpi-sys through a per-package profile setting that serves only as a tag:
# a different profile gives mpi-sys and everything above it new artifacts, and a new run
# of its build script with that MPICC. `ldd` then checks which MPI the binary links.
# `bash scripts/mpi-tests.sh` from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
NP=4
JOB_SECS=60
BIN=${CARGO_TARGET_DIR:-target}/debug/mpi_hello
failures=0

fail() {
  echo "mpi-tests: FAIL: $*"
  failures=$((failures + 1))
}

build() { # name mpicc tag
  local name=$1 mpicc=$2 tag=$3 t0
  if ! command -v "$mpicc" >/dev/null; then
    echo "mpi-tests: $mpicc not found (apt-get install mpich libmpich-dev openmpi-bin libopenmpi-dev)"
    exit 1
  fi
  t0=$(date +%s)
  local cfg=(--config "profile.dev.package.mpi-sys.debug=$tag")
  MPICC=$mpicc cargo build -q "${cfg[@]}" -p rshmem-examples --features mpi --bin mpi_hello
  MPICC=$mpicc cargo clippy -q "${cfg[@]}" -p rshmem -p rshmem-examples --features mpi -- -D warnings
  echo "mpi-tests: built and linted with $mpicc in $(($(date +%s) - t0)) s"
  # The binary must link the MPI it was built for.
  local lib
  lib=$(ldd "$BIN" | grep -oE 'lib(mpich|mpi)\.so[.0-9]*' | head -1)
  case "$name:$lib" in
    mpich:libmpich.so*|openmpi:libmpi.so*) echo "mpi-tests: $BIN links $lib" ;;
    *) fail "$BIN links '${lib:-no MPI}', not $name"; exit 1 ;;
  esac
}

# run label np expect-args... -- command...
run() {
  local label=$1 np=$2
  shift 2
  local out rc=0 t0 t1
  echo "--- $label"
  t0=$(date +%s.%N)
  out=$(timeout -k 3 "$JOB_SECS" env SHMEM_INFO=1 "$@" 2>&1) || rc=$?
  t1=$(date +%s.%N)
  local ok=1
  [ "$rc" = 0 ] || { fail "$label: exit status $rc"; ok=0; }
  local pe
  for ((pe = 0; pe < np; pe++)); do
    [ "$(grep -cx "mpi_hello: PE $pe of $np OK" <<<"$out")" = 1 ] \
      || { fail "$label: not exactly one line 'mpi_hello: PE $pe of $np OK'"; ok=0; }
  done
  [ "$(grep -cx "mpi_hello: ok on $np PEs" <<<"$out")" = 1 ] \
    || { fail "$label: not exactly one line 'mpi_hello: ok on $np PEs'"; ok=0; }
  grep -q "bootstrap mpi," <<<"$out" || { fail "$label: PE 0 did not report 'bootstrap mpi'"; ok=0; }
  if [ "$ok" = 0 ]; then
    echo "--- output of $label:"
    echo "$out"
  else
    printf 'ok (%.2f s)\n' "$(echo "$t1 - $t0" | bc)"
  fi
}

leftovers() {
  local procs shm
  procs=$(pgrep -af "$BIN" || true)
  [ -z "$procs" ] || fail "processes left behind: $procs"
  shm=$(ls /dev/shm 2>/dev/null | grep '^rshmem-mpi-' || true)
  if [ -n "$shm" ]; then
    fail "shared-memory objects left behind: $shm"
    (cd /dev/shm && rm -f $shm)
  fi
}

unset RSHMEM_BOOTSTRAP SHMEM_INFO PMI_FD PMI_PORT PMI_ID PMI_RANK PMI_SIZE PMI_JOBID

echo "=== MPICH (mpicc.mpich, mpiexec.hydra)"
build mpich mpicc.mpich 1
bin=$BIN
hydra=(mpiexec.hydra -n "$NP")
run "mpich: forced" "$NP" RSHMEM_BOOTSTRAP=mpi "${hydra[@]}" "$bin"
run "mpich: automatic (PMI_FD set, MPI initialized)" "$NP" "${hydra[@]}" "$bin"
run "mpich: --shmem-first" "$NP" RSHMEM_BOOTSTRAP=mpi "${hydra[@]}" "$bin" --shmem-first
run "mpich: singleton, no launcher" 1 "$bin"
leftovers

echo "=== Open MPI (mpicc.openmpi, mpirun.openmpi)"
build openmpi mpicc.openmpi 0
bin=$BIN
ompi=(OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
      OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_btl_tcp_if_include=lo
      OMPI_MCA_rmaps_base_oversubscribe=1
      mpirun.openmpi --oversubscribe -np "$NP")
run "openmpi: forced" "$NP" RSHMEM_BOOTSTRAP=mpi "${ompi[@]}" "$bin"
run "openmpi: automatic (PMIx set, MPI initialized)" "$NP" "${ompi[@]}" "$bin"
run "openmpi: --shmem-first" "$NP" RSHMEM_BOOTSTRAP=mpi "${ompi[@]}" "$bin" --shmem-first
leftovers

if [ "$failures" -gt 0 ]; then
  echo "mpi-tests: $failures failure(s)"
  exit 1
fi
echo "mpi-tests: OK"
