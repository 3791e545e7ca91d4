#!/bin/bash
# scripts/spec-examples.sh DIR -- compile the OpenSHMEM specification's C example programs
# unchanged with rshmemcc and run them under rshmemrun.
#
# DIR is a directory of example .c files, e.g. example_code/ of a checkout of
# https://github.com/openshmem-org/specification (not vendored here: its code is not ours
# to copy, and CI has no network). Each example is compiled (C11) and, if it has a main,
# run on 4 PEs (team_split_2D on 12), bounded by --timeout 60; its exit status must be 0
# (global_exit_example exits 1 by design: no input file). Examples that need what rshmem
# does not provide are listed as EXPECTED failures and do not count: proposals never
# ratified (bundles, shmem_local_complete, lock_pe, alltoallv, sessions drafts), MPI
# interoperability, code fragments without main, and drafts with bugs of their own.
#
# Output: one line per example (PASS / FAIL / XFAIL / FRAGMENT) and a summary; the exit
# status is the number of unexpected failures (0: all good).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: scripts/spec-examples.sh DIR-with-example-.c-files}
profile=${RSHMEM_PROFILE:-debug}
libdir=${CARGO_TARGET_DIR:-$here/target}/$profile
export RSHMEM_LIBDIR=$libdir
run=$libdir/rshmemrun
[ -x "$run" ] && [ -e "$libdir/librshmem.so" ] || {
    echo "spec-examples: build first: cargo build -p rshmem-capi -p rshmem-launcher" >&2
    exit 2
}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Known not to work, and why (matched on the file name without .c).
xfail_reason() {
    case $1 in
        *bundle* | *local_complete* | *lock_pe* | *alltoallv*) echo "proposal, not in a release" ;;
        *hybrid_mpi* | *query_mpi_progress*) echo "needs MPI interoperability (mpi.h, shmem_query_interoperability)" ;;
        shmem_session_example) echo "draft of sessions superseded by shmem_ctx_session" ;;
        shmem_team_context | shmem_team_translate | shmem_wait_until_some_example) echo "draft with undeclared variables" ;;
        shmem_put_signal_example) echo "draft without the sig_op argument" ;;
        shmem_ctx_invalid) echo "needs -fopenmp" ;;
        pshmem_no_weak_symbol_2) echo "fragment meant to be built together with _1" ;;
        shmem_test_some_example) echo "draft: status[] is never set, elements are counted twice" ;;
        *) return 1 ;;
    esac
}

pass=0 fail=0 xfail=0 frag=0
for src in "$dir"/*.c; do
    name=$(basename "$src" .c)
    exe=$out/$name
    if ! sh "$here/capi/rshmemcc" -std=c11 "$src" -o "$exe" -lm >"$out/$name.cc" 2>&1; then
        if grep -q "undefined reference to .main'" "$out/$name.cc"; then
            echo "FRAGMENT $name (no main; compiles)"
            frag=$((frag + 1))
        elif r=$(xfail_reason "$name"); then
            echo "XFAIL    $name: does not compile: $r"
            xfail=$((xfail + 1))
        else
            echo "FAIL     $name: does not compile:"
            sed 's/^/    /' "$out/$name.cc" | grep -E "error|undefined" | head -5
            fail=$((fail + 1))
        fi
        continue
    fi
    np=4
    want=0
    case $name in
        *team_split_2D*) np=12 ;;
        *global_exit*) want=1 ;;
    esac
    timeout -k 3 90 "$run" -n $np --timeout 60 "$exe" >"$out/$name.out" 2>&1 </dev/null
    rc=$?
    if [ $rc -eq $want ]; then
        echo "PASS     $name ($np PEs, status $rc): $(head -c 100 "$out/$name.out" | tr '\n' '|')"
        pass=$((pass + 1))
    elif r=$(xfail_reason "$name"); then
        echo "XFAIL    $name: status $rc: $r"
        xfail=$((xfail + 1))
    else
        echo "FAIL     $name ($np PEs): status $rc, expected $want:"
        sed 's/^/    /' "$out/$name.out" | tail -5
        fail=$((fail + 1))
    fi
done
echo "spec-examples: $pass passed, $fail failed, $xfail expected failures, $frag fragments"
exit $fail
