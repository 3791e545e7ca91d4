#!/usr/bin/env bash
# Installs what building and testing rshmem needs on Debian 12 (bookworm): the C libraries
# the crates bind (hwloc, rdma-core), MPICH's Hydra launcher for the launcher tests, both
# MPIs' development files for the MPI bootstrap (rsmpi runs mpicc.mpich / mpicc.openmpi and
# bindgen, hence libclang-dev), and a Rust toolchain if there is none. Idempotent; run as
# root or with sudo available.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
PKGS=(build-essential pkg-config libhwloc-dev hwloc libclang-dev libibverbs-dev librdmacm-dev
      ibverbs-providers libudev-dev cmake mpich libmpich-dev python3 procps iproute2
      slurm-wlm slurmctld slurmd slurm-client munge openmpi-bin libopenmpi-dev libpmix-dev bc)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-debian: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    echo "setup-debian: cargo is in ~/.cargo/bin; add it to PATH (source ~/.cargo/env)"
  else
    echo "setup-debian: no Rust toolchain; installing rustup (stable)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
  fi
fi
echo "setup-debian: OK"
