#!/bin/bash
# scripts/verbs-vm/guest-init.sh - runs as PID 1 inside the verbs VM (after switch_root into the
# overlay(9p host root ro + tmpfs)). Do not run on the host.
# Reads the per-run directory $verbsvm_run (shared read-write with the host via 9p,
# mounted at the same path), prepares Soft-RoCE (rxe0) and runs $verbsvm_run/cmd.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
read -r t_start _ < /proc/uptime
RUN="${verbsvm_run:?}"

die_poweroff() {
    sync
    echo o > /proc/sysrq-trigger   # ACPI poweroff; qemu runs with -no-reboot
    sleep 30
    exit 1                          # PID 1 exit -> panic -> (panic=-1) reboot -> qemu exits
}
trap die_poweroff EXIT

mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts 2>/dev/null
mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/lock /var/tmp
ln -sf /proc/self/fd /dev/fd 2>/dev/null; ln -sf /proc/self/fd/0 /dev/stdin 2>/dev/null
ln -sf /proc/self/fd/1 /dev/stdout 2>/dev/null; ln -sf /proc/self/fd/2 /dev/stderr 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none verbsvmrun "$RUN" || {
    echo "verbsvm: cannot mount run dir $RUN" > /dev/ttyS0; exit 1; }

# extra read-write host directories (VERBSVM_RW on the host), tags rw0, rw1, ...
if [ -f "$RUN/rwdirs" ]; then
    i=0
    while IFS= read -r d; do
        mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none "rw$i" "$d" \
            || echo "verbsvm: cannot mount rw dir $d" > /dev/ttyS0
        i=$((i+1))
    done < "$RUN/rwdirs"
fi

# output channel: virtio serial port named verbsvm.out (-> host stdout)
OUT=/dev/ttyS0
for p in /sys/class/virtio-ports/*; do
    n=""; read -r n < "$p/name" 2>/dev/null
    if [ "$n" = verbsvm.out ]; then OUT=/dev/${p##*/}; fi
done
echo "verbsvm: guest-init at ${t_start}s, output -> $OUT" > /dev/ttyS0

hostname verbsvm
ip link set lo up
# shellcheck disable=SC1091
. "$RUN/config"    # VERBSVM_MTU VERBSVM_NRXE VERBSVM_TIMEOUT VERBSVM_SETUP_ONLY ...

# ---- Soft-RoCE -----------------------------------------------------------
# one dummy netdev per rxe device: rxe0 on verbs0 (10.77.0.1), rxe1 on verbs1 (10.77.1.1), ...
# (rxe detects destination MAC == own MAC and loops packets back internally, so the
#  dummy device never has to deliver anything; two rxe devices talk via the host IP stack)
rxe_ok=1
if [ -n "${VERBSVM_NIC_IP:-}" ]; then
    # two-VM mode: rxe0 on the virtio NIC (eth0), linked to the peer VM by a qemu TCP stream
    ip link set eth0 mtu "$VERBSVM_MTU"
    ip link set eth0 up
    ip addr add "$VERBSVM_NIC_IP/24" dev eth0
    rdma link add rxe0 type rxe netdev eth0 || rxe_ok=0
    VERBSVM_NRXE=1
else
for i in $(seq 0 $((VERBSVM_NRXE - 1))); do
    ip link add "verbs$i" type dummy
    ip link set "verbs$i" mtu "$VERBSVM_MTU"
    ip link set "verbs$i" up
    ip addr add "10.77.$i.1/24" dev "verbs$i"
    ip -6 addr add "fd77::$i:1/64" dev "verbs$i" nodad 2>/dev/null
    rdma link add "rxe$i" type rxe netdev "verbs$i" || rxe_ok=0
done
fi
mkfifo /run/verbsvm.sleep && exec 9<>/run/verbsvm.sleep
# wait for port ACTIVE (bash builtins only: every fork+exec costs ~0.1-0.3 s under TCG)
for _ in $(seq 1 200); do
    all=1
    for ((i = 0; i < VERBSVM_NRXE; i++)); do
        st=""
        read -r st < "/sys/class/infiniband/rxe$i/ports/1/state" 2>/dev/null
        case "$st" in *ACTIVE*) ;; *) all=0 ;; esac
    done
    [ $all = 1 ] && break
    read -r -t 0.05 -u 9 _ 2>/dev/null || true   # fork-free sleep
done
# export the GID index of rxe0's IPv4 RoCEv2 GID (index 0 is always the MAC-derived default
# fe80:: GID; with our setup the IPv4 GID is index 1) and the rxe0 netdev address
if [ -n "${VERBSVM_NIC_IP:-}" ]; then VERBSVM_RXE_IP=$VERBSVM_NIC_IP; else VERBSVM_RXE_IP=10.77.0.1; fi
IFS=. read -r o1 o2 o3 o4 <<< "$VERBSVM_RXE_IP"
want=$(printf '0000:0000:0000:0000:0000:ffff:%02x%02x:%02x%02x' "$o1" "$o2" "$o3" "$o4")
VERBSVM_GID_INDEX=1
for _ in $(seq 1 50); do
    found=""
    for gi in 0 1 2 3 4 5 6 7; do
        g=""; read -r g < "/sys/class/infiniband/rxe0/ports/1/gids/$gi" 2>/dev/null
        if [ "$g" = "$want" ]; then found=$gi; break; fi
    done
    [ -n "$found" ] && { VERBSVM_GID_INDEX=$found; break; }
    read -r -t 0.05 -u 9 _ 2>/dev/null || true
done
export VERBSVM_GID_INDEX VERBSVM_RXE_IP VERBSVM_RXE_DEV=rxe0
chmod 666 /dev/infiniband/* 2>/dev/null
ulimit -l unlimited
ulimit -c 0
read -r t_ready _ < /proc/uptime

# ---- run ---------------------------------------------------------------------
{
    echo "t_guest_init=$t_start"
    echo "t_rxe_ready=$t_ready"
} > "$RUN/timing"
if [ "$rxe_ok" != 1 ]; then
    echo "verbsvm: rdma link add failed" > "$OUT"
fi
if [ "${VERBSVM_VERBOSE:-0}" = 1 ]; then
    { echo "== verbsvm: guest ready after ${t_ready}s (kernel $(uname -r))"; rdma link show; } > "$OUT" 2>&1
fi
read -r cwd < "$RUN/cwd"; cd "$cwd" 2>/dev/null || cd /
echo "verbsvm: rxe ready at ${t_ready}s, running command" > /dev/ttyS0
set +e
# VERBSVM_TIMEOUT is a deadline in guest uptime (seconds), boot included
limit=$(( VERBSVM_TIMEOUT - ${t_ready%.*} ))
[ "$limit" -ge 1 ] || limit=1
if [ -n "${VERBSVM_AS_USER:-}" ]; then
    timeout -k 3 "$limit" setpriv --reuid="$VERBSVM_AS_USER" --regid="$VERBSVM_AS_USER" --clear-groups \
        /bin/bash "$RUN/cmd" < /dev/null > "$OUT" 2>&1
else
    timeout -k 3 "$limit" /bin/bash "$RUN/cmd" < /dev/null > "$OUT" 2>&1
fi
rc=$?
read -r t_done _ < /proc/uptime
# timeout exits 137 when the command ignored SIGTERM and needed the -k SIGKILL: report 124
if [ "$rc" = 137 ] && [ $(( ${t_done%.*} - ${t_ready%.*} )) -ge "$limit" ]; then rc=124; fi
echo "t_cmd_done=$t_done" >> "$RUN/timing"
dmesg > "$RUN/dmesg" 2>/dev/null
echo "$rc" > "$RUN/rc.tmp" && mv "$RUN/rc.tmp" "$RUN/rc"
sync
sleep 0.2   # let the virtio-serial queue drain
exit 0      # -> trap -> poweroff
