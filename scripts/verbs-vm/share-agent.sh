#!/bin/bash
# A launch agent for `rshmemrun --hosts` between the two VMs of scripts/verbs-2node.sh, which
# have no ssh: they share a host directory (9p, read-write), and share-agentd.sh on the other
# VM runs what this script drops there.
#
#   rshmemrun --hosts nodeA:2,nodeB:2 --launch-agent scripts/verbs-vm/share-agent.sh ...
#   (launcher's call)  share-agent.sh HOST env K=V... PROGRAM ARGS...
#
# RSHMEM_AGENT_LOCAL names this VM's host (its commands run here, with exec);
# RSHMEM_AGENT_DIR is the shared directory (one subdirectory per other host).
# For another host: writes ID.cwd and ID.cmd (the command, shell-quoted) into DIR/HOST, waits
# for ID.rc, prints ID.out, exits with the remote status. SIGTERM/SIGINT/SIGHUP (the
# launcher's teardown) ask the daemon to kill the remote job (ID.kill) before exiting 143.
set -u
host=${1:?usage: share-agent.sh HOST COMMAND...}
shift
if [ "$host" = "${RSHMEM_AGENT_LOCAL:-}" ]; then
    exec "$@"
fi
d=${RSHMEM_AGENT_DIR:?RSHMEM_AGENT_DIR is not set}/$host
[ -d "$d" ] || { echo "share-agent: no directory $d for host $host" >&2; exit 255; }
id="job.$$.$RANDOM"
# The launcher's PMI secret (RSHMEM_PMI_SECRET, in our environment, never on a command line)
# goes to the other VM inside the command file, which only our uid may read.
# (as an exported assignment: the other side runs the file with bash).
umask 077
pwd > "$d/$id.cwd"
: > "$d/$id.tmp"
if [ -n "${RSHMEM_PMI_SECRET:-}" ]; then
    printf 'export RSHMEM_PMI_SECRET=%q\n' "$RSHMEM_PMI_SECRET" >> "$d/$id.tmp"
fi
printf '%q ' "$@" >> "$d/$id.tmp"
echo >> "$d/$id.tmp"
mv "$d/$id.tmp" "$d/$id.cmd"
# teardown: have the remote job killed and pass on what it printed so far (its error
# message) at once: the launcher sends SIGKILL 300 ms after SIGTERM
stop() {
    touch "$d/$id.kill"
    cat "$d/$id.out" 2>/dev/null
    # The command file holds the PE's PMI token: never left behind.
    rm -f "$d/$id.cmd" "$d/$id.run" "$d/$id.tmp"
    exit 143
}
trap stop TERM INT HUP
while [ ! -e "$d/$id.rc" ]; do
    sleep 0.2 &
    wait $!
done
cat "$d/$id.out" 2>/dev/null
rc=$(cat "$d/$id.rc")
rm -f "$d/$id.run" "$d/$id.cwd" "$d/$id.out" "$d/$id.rc" "$d/$id.pgid"
exit "$rc"
