#!/bin/bash
# scripts/verbs-vm/run.sh - run one host command inside a throw-away qemu VM (Debian bookworm
# kernel with Soft-RoCE) where the RDMA device rxe0 is ACTIVE; return the command's exit status.
#
# usage: run.sh [options] [--] COMMAND [ARGS...]
#   COMMAND is a path on the host (or a name looked up in PATH inside the guest). The guest sees
#   the whole host filesystem read-only (9p) under a tmpfs overlay: writes succeed but are
#   discarded unless the directory is shared with -w. The command runs as root (or --user UID)
#   in the current directory, stdin /dev/null, memlock unlimited, /dev/infiniband/* mode 0666;
#   its stdout and stderr both arrive on this script's stdout.
#   In the guest: VERBSVM_RXE_DEV=rxe0, VERBSVM_RXE_IP=10.77.0.1 (rxe0's netdev address, for
#   rdma_cm; never 127.0.0.1), VERBSVM_GID_INDEX (index of rxe0's IPv4 RoCE v2 GID, normally 1).
#
# options:
#   -t, --timeout SEC    limit for the whole run, boot included (default 600, min 30, env
#                        VERBSVM_TIMEOUT). The command is stopped (exit 124) when the guest's
#                        uptime reaches SEC-12, i.e. it gets about SEC-25 s under TCG
#   -e, --env VAR[=VAL]  pass a variable into the guest (repeatable). Variables whose names start
#                        with CARGO_, RUST_, RSHMEM_ or SHMEM_ pass automatically
#                        (env VERBSVM_ENV_PREFIXES="..." changes that list)
#   -w, --rw DIR         share host DIR read-write at the same path (repeatable)
#       --smp N          guest vCPUs (default 2, env VERBSVM_SMP)
#   -m, --mem SIZE       guest memory (default 2G, env VERBSVM_MEM)
#   -n, --nrxe N         number of rxe devices (rxe0 on verbs0 = 10.77.0.1, rxe1 on 10.77.1.1, ...)
#       --mtu N          MTU of the netdevs under rxe (default 1500 -> active_mtu 1024; 4200+ -> 4096)
#       --peer listen|connect:PORT:IP  two-VM mode: rxe0 sits on a virtio NIC joined to another
#                        VM by a qemu TCP stream on 127.0.0.1:PORT (one VM listens, the other
#                        connects once the first is listening; give each another IP of the /24).
#                        A stream, not a UDP socket: qemu's UDP netdev drops packets in bursts
#                        (a 4 MiB RDMA WRITE is 4,096 back-to-back frames) and rxe on 6.1 can
#                        stall a QP after the retransmissions that follow.
#       --user UID       run the command as UID instead of root
#       --accel A        tcg (default) | kvm | auto (probe KVM once, cached)
#   -v, --verbose        timings and `rdma link` on stderr/stdout
#       --keep           keep the per-run directory (console.log, dmesg, timing)
#   -h, --help           this text
#
# exit status: the command's; 124 if the in-guest limit stopped it; 125 if the VM failed
#   (setup error, boot failure, host-side timeout: the console log is printed to stderr);
#   128+N if this script got signal N (the VM is killed first).
#
# First use installs what is missing (apt packages, kernel package, initramfs; see setup.sh)
# into $VERBSVM_HOME (default ${XDG_CACHE_HOME:-~/.cache}/rshmem-verbs-vm).
#
# As a cargo runner:
#   CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="$PWD/scripts/verbs-vm/run.sh -t 300 --" cargo test
set -uo pipefail

HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
VERBSVM_HOME="${VERBSVM_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/rshmem-verbs-vm}"
TIMEOUT="${VERBSVM_TIMEOUT:-600}"
MEM="${VERBSVM_MEM:-2G}"
SMP="${VERBSVM_SMP:-2}"
NRXE="${VERBSVM_NRXE:-1}"
MTU="${VERBSVM_MTU:-1500}"
ACCEL="${VERBSVM_ACCEL:-tcg}"
VERBOSE="${VERBSVM_VERBOSE:-0}"
KEEP="${VERBSVM_KEEP:-0}"
ASUSER=""
PEER="${VERBSVM_PEER:-}"
ENVS=()
RW=()

die() { echo "verbs-vm: $*" >&2; exit 125; }
while [ $# -gt 0 ]; do
    case "$1" in
        -t|--timeout) TIMEOUT="${2:?}"; shift 2 ;;
        -e|--env) ENVS+=("${2:?}"); shift 2 ;;
        -w|--rw) RW+=("${2:?}"); shift 2 ;;
        -n|--nrxe) NRXE="${2:?}"; shift 2 ;;
        --mtu) MTU="${2:?}"; shift 2 ;;
        -m|--mem) MEM="${2:?}"; shift 2 ;;
        --smp) SMP="${2:?}"; shift 2 ;;
        --user) ASUSER="${2:?}"; shift 2 ;;
        --peer) PEER="${2:?}"; shift 2 ;;
        --accel) ACCEL="${2:?}"; shift 2 ;;
        -v|--verbose) VERBOSE=1; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        --) shift; break ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || die "usage: run.sh [options] -- COMMAND [ARGS...]"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] && [ "$TIMEOUT" -ge 30 ] || die "--timeout must be an integer >= 30"
[[ "$SMP" =~ ^[0-9]+$ ]] || die "--smp must be an integer"

vlog() { [ "$VERBOSE" = 1 ] && echo "[verbs-vm] $*" >&2; return 0; }

# ---- preparation (idempotent; a few ms when everything is there) -----------------------
ready() {
    [ -f "$VERBSVM_HOME/initramfs.img" ] && [ -f "$VERBSVM_HOME/kernel/.done" ] \
        && command -v qemu-system-x86_64 >/dev/null && [ -f "$VERBSVM_HOME/.ready" ] \
        && [ ! "$HERE/setup.sh" -nt "$VERBSVM_HOME/.ready" ]
}
if ! ready; then
    VERBSVM_HOME="$VERBSVM_HOME" "$HERE/setup.sh" >&2 || die "setup failed"
fi
KVER=$(cat "$VERBSVM_HOME/kernel/.kver")
KIMG="$VERBSVM_HOME/kernel/boot/vmlinuz-$KVER"
INITRD="$VERBSVM_HOME/initramfs.img"
GUEST_INIT="$HERE/guest-init.sh"
[ -f "$KIMG" ] || die "kernel image $KIMG missing (rm -rf $VERBSVM_HOME and retry)"

# ---- per-run directory (shared read-write with the guest at the same path) -------------
RUNBASE="${VERBSVM_RUNBASE:-${TMPDIR:-/tmp}}"
RUN=$(mktemp -d "$RUNBASE/rshmem-verbsvm.XXXXXX") || die "mktemp failed"
RUN=$(readlink -f "$RUN")
chmod 755 "$RUN"   # --user: the unprivileged guest user must read cmd and cwd

QPID="" CATPID="" SLEEPPID=""
stop_all() {
    # qemu first (SIGTERM makes it exit at once; SIGKILL if it does not within 3 s), then the
    # output reader and the watchdog timer. All are direct children of this shell.
    if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
        kill -TERM "$QPID" 2>/dev/null
        for _ in $(seq 30); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$QPID" 2>/dev/null
    fi
    [ -n "$SLEEPPID" ] && kill "$SLEEPPID" 2>/dev/null
    [ -n "$CATPID" ] && kill "$CATPID" 2>/dev/null
    wait 2>/dev/null
    QPID="" SLEEPPID="" CATPID=""
}
cleanup() {
    stop_all
    if [ "$KEEP" = 1 ]; then echo "[verbs-vm] run dir kept: $RUN" >&2; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
for sig in INT TERM HUP QUIT PIPE; do
    # shellcheck disable=SC2064
    trap "echo 'verbs-vm: got SIG$sig, stopping the VM' >&2; trap - EXIT; cleanup; trap - $sig; kill -$sig \$\$" "$sig"
done

# command script, exactly quoted
{
    echo "# generated by run.sh"
    for e in "${ENVS[@]+"${ENVS[@]}"}"; do
        name="${e%%=*}"
        [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "bad -e argument: $e"
        if [ "$name" = "$e" ]; then val="${!name-}"; else val="${e#*=}"; fi
        printf 'export %s=%q\n' "$name" "$val"
    done
    for pfx in ${VERBSVM_ENV_PREFIXES-CARGO_ RUST_ RSHMEM_ SHMEM_}; do
        while IFS= read -r name; do
            [ -n "$name" ] && printf 'export %s=%q\n' "$name" "${!name}"
        done < <(compgen -e | grep "^$pfx" || true)
    done
    printf 'exec'
    printf ' %q' "$@"
    printf '\n'
} > "$RUN/cmd"
pwd -P > "$RUN/cwd"
# The command's own limit is a deadline in guest uptime: TIMEOUT minus a margin for what guest
# uptime does not count (qemu start, firmware, kernel decompression: ~5 s under TCG) and for
# the kill grace (3 s) and poweroff (~1 s). Boot time is thus charged to the budget.
GUEST_LIMIT=$(( TIMEOUT - 12 ))
cat > "$RUN/config" <<EOF
VERBSVM_MTU=$MTU
VERBSVM_NRXE=$NRXE
VERBSVM_TIMEOUT=$GUEST_LIMIT
VERBSVM_VERBOSE=$VERBOSE
VERBSVM_AS_USER=$ASUSER
VERBSVM_NIC_IP=${PEER:+${PEER##*:}}
EOF
NIC_ARGS=(-nic none)
if [ -n "$PEER" ]; then
    IFS=: read -r pmode pport pip <<< "$PEER"
    case "$pmode" in listen|connect) ;; *) die "--peer $PEER: expected listen:PORT:IP or connect:PORT:IP" ;; esac
    mac=$(printf '52:54:00:77:%02x:%02x' $(( ${pip##*.} / 256 )) $(( ${pip##*.} % 256 )))
    NIC_ARGS=(-netdev "socket,id=n0,$pmode=127.0.0.1:$pport"
              -device "virtio-net-pci,netdev=n0,mac=$mac")
fi
VIRTFS_RW=()
: > "$RUN/rwdirs"
i=0
for d in "${RW[@]+"${RW[@]}"}"; do
    d=$(readlink -f "$d")
    [ -d "$d" ] || die "--rw $d is not a directory"
    echo "$d" >> "$RUN/rwdirs"
    VIRTFS_RW+=(-virtfs "local,path=$d,mount_tag=rw$i,security_model=none,multidevs=remap")
    i=$((i+1))
done

# ---- accelerator ------------------------------------------------------------------------
accel_args() {
    case "$1" in
        kvm) echo "-accel kvm -cpu max" ;;
        *)   echo "-accel tcg,thread=multi,tb-size=256 -cpu max" ;;
    esac
}
if [ "$ACCEL" = auto ]; then
    # cached probe: does KVM boot a Debian kernel here? (on PVM hosts it hangs: use tcg)
    PROBE="$VERBSVM_HOME/.accel"
    if [ ! -f "$PROBE" ]; then
        a=tcg
        if [ -w /dev/kvm ] && timeout -k 2 20 qemu-system-x86_64 -accel kvm -cpu host -m 256M \
               -nographic -no-reboot -kernel "$KIMG" -append "console=ttyS0 panic=-1 rdinit=/bin/true" \
               -nic none 2>/dev/null </dev/null | grep -q "Linux version"; then
            a=kvm
        fi
        echo "$a" > "$PROBE"
    fi
    ACCEL=$(cat "$PROBE")
fi

CMDLINE="console=ttyS0 loglevel=4 panic=-1 oops=panic rdinit=/init tsc=reliable no_timer_check"
CMDLINE+=" mitigations=off nokaslr random.trust_cpu=on verbsvm_run=$RUN verbsvm_init=$GUEST_INIT"

vlog "accel=$ACCEL mem=$MEM smp=$SMP kernel=$KVER run=$RUN limit=${TIMEOUT}s (command until guest uptime ${GUEST_LIMIT}s)"
# Command output: guest virtio-serial port -> FIFO -> cat -> our stdout. (A qemu 'stdio'
# chardev does not work with stdin=/dev/null: EOF marks the port disconnected and guest
# writes then block forever.)
mkfifo "$RUN/out.fifo"
cat "$RUN/out.fifo" &
CATPID=$!
t0=$(date +%s.%N)
# shellcheck disable=SC2046
qemu-system-x86_64 \
    $(accel_args "$ACCEL") -m "$MEM" -smp "$SMP" \
    -machine q35 -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$KIMG" -initrd "$INITRD" -append "$CMDLINE" \
    -serial "file:$RUN/console.log" \
    -device virtio-serial-pci -chardev "file,id=out,path=$RUN/out.fifo" \
    -device virtserialport,chardev=out,name=verbsvm.out \
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$RUN,mount_tag=verbsvmrun,security_model=none,multidevs=remap" \
    "${VIRTFS_RW[@]+"${VIRTFS_RW[@]}"}" \
    -device virtio-rng-pci "${NIC_ARGS[@]}" \
    </dev/null 2> "$RUN/qemu.stderr" &
QPID=$!
# host-side watchdog: a plain `sleep` child (no grandchildren, so killing it leaves nothing)
sleep "$TIMEOUT" &
SLEEPPID=$!
host_timeout=0
wait -n "$QPID" "$SLEEPPID"
if kill -0 "$QPID" 2>/dev/null; then
    # woke up but qemu still runs: the watchdog fired
    host_timeout=1
    kill -TERM "$QPID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$QPID" 2>/dev/null
fi
wait "$QPID" 2>/dev/null
qrc=$?
QPID=""
kill "$SLEEPPID" 2>/dev/null; wait "$SLEEPPID" 2>/dev/null; SLEEPPID=""
t1=$(date +%s.%N)
# cat ends by itself when qemu closes the FIFO; if qemu never opened it, stop cat.
for _ in $(seq 10); do kill -0 "$CATPID" 2>/dev/null || break; sleep 0.1; done
kill "$CATPID" 2>/dev/null; wait "$CATPID" 2>/dev/null; CATPID=""

if [ -f "$RUN/timing" ]; then
    # shellcheck disable=SC1091
    . "$RUN/timing"
    vlog "timing: guest-init at ${t_guest_init:-?}s, rxe0 ready at ${t_rxe_ready:-?}s, command done at ${t_cmd_done:-?}s (guest uptime); total wall $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")s"
fi
if [ "$host_timeout" = 0 ] && [ -f "$RUN/rc" ]; then
    rc=$(cat "$RUN/rc")
    [[ "$rc" =~ ^[0-9]+$ ]] || rc=125
    exit "$rc"
fi
{
    echo "verbs-vm: VM failed (qemu exit status $qrc$( [ "$host_timeout" = 1 ] && echo ", host-side timeout ${TIMEOUT}s"))"
    echo "---- qemu stderr ----"; cat "$RUN/qemu.stderr"
    echo "---- guest console (last 80 lines) ----"; tail -n 80 "$RUN/console.log" 2>/dev/null
} >&2
exit 125
