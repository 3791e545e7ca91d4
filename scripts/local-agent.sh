#!/bin/sh
# A launch agent for `rshmemrun --hosts` that runs every "host" on this machine:
#   rshmemrun -n 4 --hosts nodeA:2,nodeB:2 --launch-agent scripts/local-agent.sh PROGRAM
# The host name is dropped and the command runs here, but the PEs still count as being on
# the hosts they were placed on (PMI_process_mapping), so PEs of different pretend nodes
# talk over the network transport (verbs): how the tests run mixed shm/verbs jobs on one
# machine with one RDMA device.
shift
exec "$@"
