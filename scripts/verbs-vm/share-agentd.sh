#!/bin/bash
# The other half of share-agent.sh: runs on the remote VM of scripts/verbs-2node.sh.
#
#   share-agentd.sh DIR     # until DIR/stop appears
#
# Every DIR/ID.cmd becomes a job: run with bash in ID.cwd, in a session of its own, output
# in ID.out, status in ID.rc (written last). DIR/ID.kill kills the job's process group.
# Writes DIR/ready once it listens; at DIR/stop it kills what still runs and exits 0.
set -u
d=${1:?usage: share-agentd.sh DIR}
mkdir -p "$d"
touch "$d/ready"
echo "share-agentd: serving $d on $(hostname)"
shopt -s nullglob
while [ ! -e "$d/stop" ]; do
    for f in "$d"/*.cmd; do
        id=$(basename "$f" .cmd)
        mv "$f" "$d/$id.run"
        (
            cd "$(cat "$d/$id.cwd")" || exit
            setsid bash -c 'echo $$ > "$0.pgid"; exec bash "$0.run"' "$d/$id" > "$d/$id.out" 2>&1
            rc=$?
            # ID.run holds the PE's PMI token: gone as soon as the job is.
            rm -f "$d/$id.run"
            echo $rc > "$d/$id.rc.tmp"
            mv "$d/$id.rc.tmp" "$d/$id.rc"
        ) &
    done
    for k in "$d"/*.kill; do
        id=$(basename "$k" .kill)
        rm -f "$k"
        [ -s "$d/$id.pgid" ] && kill -KILL -- "-$(cat "$d/$id.pgid")" 2>/dev/null
    done
    sleep 0.2
done
for p in "$d"/*.pgid; do kill -KILL -- "-$(cat "$p")" 2>/dev/null; done
# rxe's counters (retransmissions, sequence errors, ...): what happened on the wire
for c in /sys/class/infiniband/rxe0/ports/1/hw_counters/*; do
    v=$(cat "$c" 2>/dev/null)
    [ -n "$v" ] && [ "$v" != 0 ] && echo "share-agentd: rxe0 $(basename "$c") $v"
done
echo "share-agentd: stopped"
