#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, build, unit and multi-PE
# integration tests (through rshmemrun and MPICH's mpiexec.hydra), the MPI bootstrap built
# against MPICH and Open MPI (scripts/mpi-tests.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
export CARGO_TERM_COLOR=never
step() { printf '\n=== %s (%s)\n' "$*" "$(date +%T)"; }
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
step "cargo build"
cargo build --workspace --all-targets
step "cargo test"
cargo test --workspace --no-fail-fast
if [ "${RSHMEM_SKIP_MPI:-0}" != 1 ]; then
  step "MPI bootstrap (feature mpi) with MPICH and Open MPI (RSHMEM_SKIP_MPI=1 skips)"
  bash scripts/mpi-tests.sh
fi
if [ "${RSHMEM_SKIP_VERBS:-0}" != 1 ]; then
  step "verbs transport on Soft-RoCE (qemu VM; RSHMEM_SKIP_VERBS=1 skips)"
  bash scripts/verbs-tests.sh
  step "verbs between two nodes: two Soft-RoCE VMs on a qemu TCP link (RSHMEM_SKIP_VERBS=1 skips)"
  # Two VMs on an emulated link lose packets in bursts (no congestion control in rxe), and
  # rxe (kernel 6.1) has been seen to stall a QP after retransmitting: one retry of the
  # whole suite; a second failure fails the run.
  bash scripts/verbs-2node.sh || { echo "verbs-2node.sh failed once; running it again"; bash scripts/verbs-2node.sh; }
fi
step "leftovers"
left=$(ls /dev/shm 2>/dev/null | grep '^rshmem-' || true)
if [ -n "$left" ]; then echo "shared-memory objects left behind: $left"; exit 1; fi
echo "no /dev/shm objects left"
