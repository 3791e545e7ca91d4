#!/bin/bash
# Three "nodes" on one machine for testing `rshmemrun --hosts`: network namespaces
# rshmem-ns1, rshmem-ns2 and rshmem-ns3, each joined to the root namespace by a veth pair
# (10.213.1.0/24, 10.213.2.0/24, 10.213.3.0/24, the root side .1), with a default route back, so
# a PE in either namespace reaches the launcher at 10.213.1.1, and (IPv4 forwarding is
# turned on) the PEs of the other namespace. Needs root and iproute2.
# Idempotent: an existing setup is removed first. Undo with scripts/netns-down.sh.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/netns-down.sh" >/dev/null 2>&1 || true
for i in 1 2 3; do
    ns=rshmem-ns$i
    ip netns add $ns
    ip link add rshv$i type veth peer name rshp$i netns $ns
    ip addr add 10.213.$i.1/24 dev rshv$i
    ip link set rshv$i up
    ip netns exec $ns ip link set lo up
    ip netns exec $ns ip addr add 10.213.$i.2/24 dev rshp$i
    ip netns exec $ns ip link set rshp$i up
    ip netns exec $ns ip route add default via 10.213.$i.1
done
# PEs of ns1 and ns2 talk to each other (the TCP transport) through the root namespace.
sysctl -qw net.ipv4.ip_forward=1
echo "netns: rshmem-ns1 (10.213.1.2), rshmem-ns2 (10.213.2.2), rshmem-ns3 (10.213.3.2); launcher address 10.213.1.1"
