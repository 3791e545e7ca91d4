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
# the cargo to run (default: cargo from PATH).
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
case $prefix in
    /*) ;;
    *) prefix=$(pwd)/$prefix ;;
esac
# Normalize a trailing slash away (but keep "/").
while [ "$prefix" != / ] && [ "${prefix%/}" != "$prefix" ]; do prefix=${prefix%/}; done

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
case $target in
    /*) ;;
    *) target=$root/$target ;;
esac
out=$target/$profile

if [ $build = 1 ]; then
    flag=
    [ $profile = release ] && flag=--release
    cargo=${CARGO:-cargo}
    echo "$prog: $cargo build $flag -p rshmem-capi -p rshmem-launcher"
    (cd "$root" && "$cargo" build $flag -p rshmem-capi -p rshmem-launcher) ||
        { echo "$prog: cargo build failed" >&2; exit 1; }
fi
for f in librshmem.so librshmem.a rshmemrun oshrun rshmem-info; do
    [ -f "$out/$f" ] || { echo "$prog: $out/$f missing (build first, or drop --no-build)" >&2; exit 1; }
done

# The workspace version ([workspace.package] version = "x.y.z").
version=$(awk '
    /^\[/ { sect = $0 }
    sect == "[workspace.package]" && $1 == "version" { gsub(/[" ]/, "", $3); print $3; exit }
' "$root/Cargo.toml")
[ -n "$version" ] || { echo "$prog: no version in $root/Cargo.toml" >&2; exit 1; }

dest=${DESTDIR:-}$prefix
bin=$dest/bin
lib=$dest/lib
inc=$dest/include
pc=$lib/pkgconfig
mkdir -p "$bin" "$lib" "$inc" "$pc" || { echo "$prog: cannot create directories under $dest" >&2; exit 1; }

install -m 755 "$out/rshmemrun" "$out/oshrun" "$out/rshmem-info" "$bin/"
# The compilers the installed wrappers run (see the top): absolute paths, never a wrapper.
resolve_compiler() { # LANGUAGE "COMPILER [FLAGS]"
    # shellcheck disable=SC2086 # split the compiler from its flags (CC="gcc -m64")
    set -- "$1" $2
    [ $# -ge 2 ] || { echo "$prog: $1: empty compiler; set RSHMEM_CC / RSHMEM_CXX" >&2; exit 1; }
    lang=$1 name=$2
    shift 2
    c=$(command -v "$name" 2>/dev/null) ||
        { echo "$prog: $lang: compiler '$name' not found; set RSHMEM_CC / RSHMEM_CXX to a C / C++ compiler" >&2; exit 1; }
    if grep -q 'rshmemcc / rshmemc++: compile' "$c" 2>/dev/null; then
        echo "$prog: $lang: '$name' ($c) is an rshmem compiler wrapper, not a compiler; set RSHMEM_CC / RSHMEM_CXX to e.g. gcc / g++" >&2
        exit 1
    fi
    echo "$c${1:+ $*}"
}
cc_path=$(resolve_compiler C "${RSHMEM_CC:-${CC:-cc}}") || exit 1
cxx_path=$(resolve_compiler C++ "${RSHMEM_CXX:-${CXX:-c++}}") || exit 1
sed -e "s|^default_cc=cc\$|default_cc='$cc_path'|" -e "s|^default_cxx=c++\$|default_cxx='$cxx_path'|" \
    "$root/capi/rshmemcc" >"$bin/rshmemcc.tmp"
grep -q "^default_cc='$cc_path'\$" "$bin/rshmemcc.tmp" && grep -q "^default_cxx='$cxx_path'\$" "$bin/rshmemcc.tmp" ||
    { echo "$prog: could not fix the compilers in $bin/rshmemcc" >&2; rm -f "$bin/rshmemcc.tmp"; exit 1; }
chmod 755 "$bin/rshmemcc.tmp"
mv -f "$bin/rshmemcc.tmp" "$bin/rshmemcc"
install -m 755 "$root/capi/rshmemc++" "$bin/"
# The wrapper picks the language by its name (*c++ is C++).
for alias in oshcc oshc++; do
    rm -f "$bin/$alias"
    ln -s rshmemcc "$bin/$alias"
done
install -m 755 "$out/librshmem.so" "$lib/"
install -m 644 "$out/librshmem.a" "$lib/"
install -m 644 "$root/capi/include/shmem.h" "$root/capi/include/shmemx.h" \
    "$root/capi/include/pshmem.h" "$root/capi/include/shmem_cxx.h" "$inc/"
# Legacy include paths (<mpp/shmem.h>, <mpp/shmemx.h>), as other implementations ship them.
mkdir -p "$inc/mpp" || { echo "$prog: cannot create $inc/mpp" >&2; exit 1; }
install -m 644 "$root/capi/include/mpp/shmem.h" "$root/capi/include/mpp/shmemx.h" "$inc/mpp/"

# librshmem.a built with the verbs transport needs libibverbs when linked statically.
private_extra=
if nm "$out/librshmem.a" 2>/dev/null | grep -q ' U ibv_'; then
    private_extra=' -libverbs'
fi
{
    echo "# rshmem $version, installed by scripts/install.sh"
    sed -e "/^#/d" \
    -e "s|@PREFIX@|$prefix|g" \
    -e "s|@LIBDIR@|$prefix/lib|g" \
    -e "s|@INCLUDEDIR@|$prefix/include|g" \
    -e "s|@VERSION@|$version|g" \
    -e "/^Libs.private:/s|\$|$private_extra|" \
    "$root/capi/rshmem.pc.in"
} >"$pc/rshmem.pc"
if grep -q '@[A-Z]*@' "$pc/rshmem.pc"; then
    echo "$prog: unfilled placeholder in $pc/rshmem.pc" >&2
    exit 1
fi

echo "$prog: installed rshmem $version ($profile) in $dest"
echo "  compile: $prefix/bin/oshcc prog.c -o prog   (or: pkg-config --cflags --libs rshmem with PKG_CONFIG_PATH=$prefix/lib/pkgconfig)"
echo "  run:     $prefix/bin/oshrun -n 4 ./prog"
