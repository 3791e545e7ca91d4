#!/bin/bash
# scripts/verbs-vm/setup.sh - one-time, idempotent preparation for run.sh (run.sh calls it).
#
#  * installs the Debian packages the harness needs on the host (qemu, rdma-core userspace,
#    perftest, busybox-static, ...) with apt-get, only those that are missing
#  * `apt-get download`s the current Debian bookworm kernel package (linux-image-6.1.0-*-amd64),
#    never installs it: it is unpacked with `dpkg -x` into $VERBSVM_HOME/kernel, then depmod
#  * builds a tiny initramfs (busybox + the modules for a 9p root and Soft-RoCE) at
#    $VERBSVM_HOME/initramfs.img
#
# Environment:
#   VERBSVM_HOME      cache directory (default: ${XDG_CACHE_HOME:-~/.cache}/rshmem-verbs-vm)
#   VERBSVM_KPKG      kernel package to use (default: current dependency of linux-image-amd64)
#   VERBSVM_NO_APT=1  never run apt-get install (packages must already be there)
#   VERBSVM_PRUNE=1   afterwards drop everything run.sh does not need (~480 MB -> ~11 MB)
# Concurrent callers are serialised with flock on $VERBSVM_HOME/.setup.lock.
set -euo pipefail

HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
VERBSVM_HOME="${VERBSVM_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/rshmem-verbs-vm}"
mkdir -p "$VERBSVM_HOME"
cd "$VERBSVM_HOME"
VERBSVM_HOME=$(pwd -P)

log() { echo "[verbs-vm setup] $*" >&2; }

exec 8> "$VERBSVM_HOME/.setup.lock"
flock 8

SUDO=()
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null && SUDO=(sudo -n)
fi
APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
apt_updated=0
apt_update() {
    [ "$apt_updated" = 1 ] && return 0
    log "apt-get update"
    "${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -qq >&2
    apt_updated=1
}

# ---- host packages -----------------------------------------------------------------
# qemu-system-x86: the VM; busybox-static, kmod, cpio, zstd, xz-utils: initramfs build;
# rdma-core userspace (libibverbs1, ibverbs-providers = librxe, ibverbs-utils, rdmacm-utils,
# perftest): what commands run in the guest use (the guest's userspace IS the host's);
# libibverbs-dev, librdmacm-dev, libclang-dev, pkg-config: building verbs code (rdma-sys) on the host.
PKGS="qemu-system-x86 rdma-core libibverbs1 ibverbs-providers ibverbs-utils rdmacm-utils perftest
      libibverbs-dev librdmacm-dev libclang-dev pkg-config busybox-static kmod cpio zstd xz-utils
      iproute2 util-linux"
need=()
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    [ "${VERBSVM_NO_APT:-0}" = 1 ] && { log "missing packages (VERBSVM_NO_APT=1): ${need[*]}"; exit 1; }
    apt_update
    log "installing: ${need[*]}"
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y -qq \
        --no-install-recommends "${need[@]}" >&2
fi

# ---- kernel (downloaded, unpacked, never installed) ---------------------------------
kpkg_name() {
    if [ -n "${VERBSVM_KPKG:-}" ]; then echo "$VERBSVM_KPKG"; return; fi
    apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'
}
if [ ! -f kernel/.done ]; then
    KPKG=$(kpkg_name)
    [ -n "$KPKG" ] || { apt_update; KPKG=$(kpkg_name); }
    [ -n "$KPKG" ] || { log "cannot determine the kernel package (set VERBSVM_KPKG)"; exit 1; }
    rm -rf pkgs kernel kernel.tmp
    mkdir -p pkgs
    dl() {
        # apt-get download runs as _apt, which cannot write into a root-owned dir: it then
        # falls back to an unsandboxed download with a harmless warning (filtered out).
        (cd pkgs && apt-get "${APT_OPTS[@]}" download "$KPKG" 2>&1 \
            | grep -v 'Download is performed unsandboxed' >&2)
        ls pkgs/"$KPKG"_*.deb >/dev/null 2>&1
    }
    log "downloading $KPKG"
    # old kernel ABIs leave the mirror: on failure refresh the lists and retry once
    if ! dl; then
        apt_update; KPKG=$(kpkg_name); log "retrying: $KPKG"; dl || { log "download of $KPKG failed"; exit 1; }
    fi
    deb=$(ls pkgs/"$KPKG"_*.deb | head -1)
    log "unpacking $(basename "$deb")"
    dpkg -x "$deb" kernel.tmp
    kver=$(ls kernel.tmp/lib/modules | head -1)
    depmod -b "$PWD/kernel.tmp" "$kver"
    echo "$kver" > kernel.tmp/.kver
    dpkg-deb -f "$deb" Package Version > kernel.tmp/.pkg
    rm -rf pkgs
    touch kernel.tmp/.done
    mv kernel.tmp kernel
fi
KVER=$(cat kernel/.kver)
MODDIR="$PWD/kernel/lib/modules/$KVER"

# ---- initramfs --------------------------------------------------------------------------
if [ ! -d "$MODDIR/kernel" ] && [ -f initramfs.img ]; then
    :   # pruned cache (VERBSVM_PRUNE=1): keep the initramfs we have
elif [ ! -f initramfs.img ] || [ "$HERE/setup.sh" -nt initramfs.img ] || [ kernel/.done -nt initramfs.img ]; then
    log "building initramfs for $KVER"
    T=$(mktemp -d "$VERBSVM_HOME/initramfs.XXXXXX")
    trap 'rm -rf "$T" "$VERBSVM_HOME/initramfs.img.tmp"' EXIT
    mkdir -p "$T"/{bin,dev,proc,sys,newroot,lower,upper,mods}
    cp /bin/busybox "$T/bin/busybox"
    # modprobe --show-depends prints a correct insmod order for each module
    WANT="crc32_generic virtio_pci virtio_console 9pnet_virtio 9p overlay rdma_rxe rdma_ucm ib_umad dummy virtio_net"
    : > "$T/mods/order"
    for m in $WANT; do
        modprobe -d "$PWD/kernel" -S "$KVER" --show-depends "$m" | while read -r cmd path _; do
            [ "$cmd" = insmod ] || continue
            b=$(basename "$path")
            case "$b" in *.xz) b=${b%.xz} ;; *.zst) b=${b%.zst} ;; esac
            [ -f "$T/mods/$b" ] && continue
            case "$path" in
                *.ko)     cp "$path" "$T/mods/$b" ;;
                *.ko.xz)  xz -dc "$path" > "$T/mods/$b" ;;
                *.ko.zst) zstd -qdc "$path" > "$T/mods/$b" ;;
            esac
            echo "$b" >> "$T/mods/order"
        done
    done
    grep -q '^rdma_rxe.ko$' "$T/mods/order" || { log "rdma_rxe module not found in $KVER"; exit 1; }
    cat > "$T/init" <<'EOI'
#!/bin/busybox sh
# rshmem verbs-vm initramfs: load modules, mount the host root (9p, read-only) under a tmpfs
# overlay, switch_root into it and run the guest script named by verbsvm_init=.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "verbs-vm initramfs: $*" > /dev/ttyS0; echo o > /proc/sysrq-trigger; sleep 10; }
for m in $(cat /mods/order); do
    case "$m" in
        dummy.ko) insmod /mods/$m numdummies=0 ;;
        *) insmod /mods/$m || echo "insmod $m failed" > /dev/ttyS0 ;;
    esac
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=${verbsvm_9pcache:-loose} hostroot /lower \
    || fail "cannot mount 9p hostroot"
mount -t tmpfs -o mode=0755,size=${verbsvm_tmpsize:-50%} tmpfs /upper
mkdir -p /upper/u /upper/w
if ! mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot; then
    echo "overlay over 9p failed, using the plain read-only 9p root" > /dev/ttyS0
    mount --move /lower /newroot
fi
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash "${verbsvm_init:-/nonexistent}"
EOI
    chmod 755 "$T/init"
    (cd "$T" && find . | cpio -o -H newc --quiet | gzip -1) > initramfs.img.tmp
    mv initramfs.img.tmp initramfs.img
    rm -rf "$T"; trap - EXIT
fi
if [ "${VERBSVM_PRUNE:-0}" = 1 ]; then
    rm -rf "$MODDIR" kernel/usr kernel/boot/System.map-* kernel/boot/config-*
fi
touch .ready
log "ready: kernel $KVER ($(tr '\n' ' ' < kernel/.pkg)) in $VERBSVM_HOME"
