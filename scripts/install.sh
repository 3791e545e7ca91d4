#!/bin/sh
# Builds rshmem and installs it under a prefix:
#
#   scripts/install.sh --prefix DIR [--release | --debug] [--no-build]
#
#   DIR/bin/      rshmemrun, oshrun, rshmem-info, rshmemcc, rshmemc++, oshcc, oshc++
#   DIR/lib/      librshmem.so, librshmem.a, pkgconfig/rshmem.pc
#   DIR/include/  shmem.h, shmemx.h, pshmem.h, shmem_cxx.h, mpp/shmem.h, mpp/shmemx.h
#
# The installed rshmemcc / rshmemc++ run the C / C++ compiler chosen here: RSHMEM_CC (else
# CC, else cc) and RSHMEM_CXX (else CXX, else c++), resolved to an absolute path now, so
# that a later CC=oshcc in a configure script cannot make the wrapper call itself. A
# compiler that is itself an rshmem wrapper is refused. RSHMEM_CC/RSHMEM_CXX at compile
# time still override.
#
# --release (default) or --debug picks the cargo profile; --no-build installs what is
# already in target/<profile> (it must be there). CARGO_TARGET_DIR is honoured; DESTDIR
# stages the files under $DESTDIR$DIR (the pkg-config file still says DIR); CARGO names
# the cargo to run (default: cargo from PATH). The installing itself is
# `cargo run -p xtask -- install` (xtask/src/install.rs), so even --no-build compiles xtask
# when it is not built yet.
set -eu

prog=install.sh
usage() {
    echo "usage: scripts/install.sh --prefix DIR [--release | --debug] [--no-build]"
}
die() {
    echo "$prog: $*" >&2
    usage >&2
    exit 2
}

prefix=
profile=release
build=1
while [ $# -gt 0 ]; do
    case $1 in
        --prefix)
            [ $# -ge 2 ] && [ -n "$2" ] || die "--prefix needs a directory"
            prefix=$2
            shift 2
            ;;
        --prefix=*)
            prefix=${1#--prefix=}
            [ -n "$prefix" ] || die "--prefix needs a directory"
            shift
            ;;
        --release) profile=release; shift ;;
        --debug) profile=debug; shift ;;
        --no-build) build=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$1'" ;;
    esac
done
[ -n "$prefix" ] || die "missing --prefix DIR"

# What goes where, the compilers fixed in the wrapper and rshmem.pc are xtask's
# (xtask/src/install.rs, unit-tested); this script builds and hands over.
root=$(cd "$(dirname "$0")/.." && pwd)
# A relative CARGO_TARGET_DIR is taken from the workspace root, for cargo and xtask alike.
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    case $CARGO_TARGET_DIR in
        /*) ;;
        *) CARGO_TARGET_DIR=$root/$CARGO_TARGET_DIR ;;
    esac
    export CARGO_TARGET_DIR
fi
cargo=${CARGO:-cargo}

if [ $build = 1 ]; then
    flag=
    [ $profile = release ] && flag=--release
    echo "$prog: $cargo build $flag -p rshmem-capi -p rshmem-launcher"
    (cd "$root" && "$cargo" build $flag -p rshmem-capi -p rshmem-launcher) ||
        { echo "$prog: cargo build failed" >&2; exit 1; }
fi
# xtask resolves a relative prefix from the current directory (cargo run keeps it).
"$cargo" run -q --manifest-path "$root/Cargo.toml" -p xtask -- install --prefix "$prefix" --profile "$profile"
