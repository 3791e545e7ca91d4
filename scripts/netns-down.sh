#!/bin/bash
# Removes what scripts/netns-up.sh created (deleting a namespace deletes its veth pair).
for i in 1 2 3; do
    ip netns del rshmem-ns$i 2>/dev/null
    ip link del rshv$i 2>/dev/null
done
true
