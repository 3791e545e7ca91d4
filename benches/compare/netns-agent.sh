#!/bin/sh
# rsh/ssh stand-in for Open MPI's and MPICH's launchers in benches/compare/run-tcp.sh:
# the "host" is a network namespace (scripts/netns-up.sh). MPICH's hydra passes ssh's -x.
[ "$1" = "-x" ] && shift
h=$1
shift
exec ip netns exec "$h" sh -c "$*"
