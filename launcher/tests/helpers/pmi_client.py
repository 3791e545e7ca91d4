#!/usr/bin/env python3
"""Tiny PMI-1 client used by the launcher's integration tests.

Speaks the "simple" PMI-1 wire protocol over the socket inherited as PMI_FD:
init, get_maxes, get_my_kvsname, put its rank, barrier, get everybody's value,
check them, finalize. Prints "OK rank=R size=N" on success.

Modes (argv[1]):
  exchange        the above (default)
  noinit-exit0    exit 0 without ever talking PMI
  init-exit0      init, then exit 0 without finalize (after a short delay if
                  argv[2] is given for rank 0 only)
  abort CODE      rank 1 (or rank 0 if N==1) aborts with CODE, others wait in barrier
  barrier-die     rank 0 SIGKILLs itself; the others block in barrier_in
"""
import os
import signal
import sys
import time

fd = int(os.environ["PMI_FD"])
rank = int(os.environ["PMI_RANK"])
size = int(os.environ["PMI_SIZE"])
f = os.fdopen(fd, "r+b", buffering=0)
rbuf = b""


def send(line):
    f.write((line + "\n").encode())


def recv():
    global rbuf
    while b"\n" not in rbuf:
        chunk = f.read(4096)
        if not chunk:
            raise SystemExit("PMI connection closed")
        rbuf += chunk
    line, rbuf = rbuf.split(b"\n", 1)
    fields = {}
    for tok in line.decode().split():
        k, v = tok.split("=", 1)
        fields[k] = v
    return fields


def req(line, expect_cmd):
    send(line)
    r = recv()
    if r.get("cmd") != expect_cmd:
        raise SystemExit(f"rank {rank}: expected {expect_cmd}, got {r}")
    return r


def check(cond, what):
    if not cond:
        print(f"rank {rank}: check failed: {what}", flush=True)
        sys.exit(10)


def init():
    r = req("cmd=init pmi_version=1 pmi_subversion=1", "response_to_init")
    check(r.get("rc") == "0", f"init rc {r}")


def barrier():
    send("cmd=barrier_in")
    r = recv()
    check(r.get("cmd") == "barrier_out", f"barrier reply {r}")


mode = sys.argv[1] if len(sys.argv) > 1 else "exchange"

if mode == "noinit-exit0":
    sys.exit(0)

init()

if mode == "init-exit0":
    if rank == 0:
        sys.exit(0)
    time.sleep(30)
    sys.exit(0)

if mode == "abort":
    code = int(sys.argv[2])
    if rank == (1 if size > 1 else 0):
        send(f"cmd=abort exitcode={code}")
        time.sleep(30)
    else:
        barrier()
    sys.exit(0)

if mode == "barrier-die":
    if rank == 0:
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGKILL)
    barrier()
    sys.exit(0)

r = req("cmd=get_maxes", "maxes")
check(r == {"cmd": "maxes", "kvsname_max": "256", "keylen_max": "64", "vallen_max": "1024"}, f"maxes {r}")
kvs = req("cmd=get_my_kvsname", "my_kvsname")["kvsname"]
check(kvs == os.environ["PMI_JOBID"], "kvsname matches PMI_JOBID")
r = req("cmd=get_universe_size", "universe_size")
check(r["size"] == str(size), f"universe size {r}")
r = req("cmd=get_appnum", "appnum")
check(r["appnum"] == "0", "appnum")
r = req(f"cmd=put kvsname={kvs} key=pe-{rank} value=val=of-{rank}-x", "put_result")
check(r["rc"] == "0", f"put {r}")
barrier()
for i in range(size):
    r = req(f"cmd=get kvsname={kvs} key=pe-{i}", "get_result")
    check(r["rc"] == "0" and r["value"] == f"val=of-{i}-x", f"get pe-{i}: {r}")
r = req(f"cmd=get kvsname={kvs} key=missing", "get_result")
check(r["rc"] == "-1" and r["msg"] == "key_missing_not_found", f"missing {r}")
r = req(f"cmd=get kvsname={kvs} key=PMI_process_mapping", "get_result")
check(r["value"] == f"(vector,(0,1,{size}))", f"mapping {r}")
r = req("cmd=bogus_thing", "bogus_thing_result")
check(r["rc"] == "-1", "unknown command")
barrier()
req("cmd=finalize", "finalize_ack")
print(f"OK rank={rank} size={size}", flush=True)
