#!/usr/bin/env python3
"""A plain socket copy: the TCP ceiling of a path with the socket options rshmem's TCP
transport uses (TCP_NODELAY, TCP_NOTSENT_LOWAT 128 KiB, a congestion control), for
BENCHMARKS.md's "TCP transport" (issue 15). One stream, WRITE-byte writes for SECONDS
seconds; the receiver reads into one preallocated buffer and prints, like iperf3,

    [  5]   0.00-5.00   sec  N GBytes  X Gbits/sec                  receiver

so that benches/compare/report-tcp.py takes it as a ceiling.

    sockcopy.py server ADDR PORT
    sockcopy.py client ADDR PORT [--seconds 5] [--write 1M] [--cc cubic] [--lowat 131072]
"""
import argparse
import socket
import sys
import time


def size(t):
    m = {"k": 1 << 10, "m": 1 << 20}
    return int(t[:-1]) * m[t[-1].lower()] if t[-1].lower() in m else int(t)


def tune(s, cc, lowat):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if lowat:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT, lowat)
    if cc:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())


def server(a):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((a.addr, a.port))
    l.listen(1)
    c, _ = l.accept()
    tune(c, a.cc, a.lowat)
    buf = bytearray(4 << 20)
    view = memoryview(buf)
    total, t0 = 0, None
    while True:
        n = c.recv_into(view)
        if n == 0:
            break
        if t0 is None:
            t0 = time.perf_counter()
        total += n
    dt = time.perf_counter() - (t0 or time.perf_counter())
    gbit = total * 8 / dt / 1e9 if dt > 0 else 0.0
    print(f"[  5]   0.00-{dt:.2f}   sec  {total / (1 << 30):.2f} GBytes  {gbit:.1f} Gbits/sec"
          f"                  receiver (sockcopy cc={a.cc or 'system'} lowat={a.lowat})")
    sys.stdout.flush()


def client(a):
    s = socket.socket()
    tune(s, a.cc, a.lowat)
    for _ in range(50):
        try:
            s.connect((a.addr, a.port))
            break
        except ConnectionRefusedError:
            time.sleep(0.1)
    data = memoryview(bytearray(a.write))
    end = time.perf_counter() + a.seconds
    while time.perf_counter() < end:
        s.sendall(data)
    s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--write", type=size, default=1 << 20)
    ap.add_argument("--cc", default="cubic")
    ap.add_argument("--lowat", type=int, default=128 << 10)
    a = ap.parse_args()
    (server if a.role == "server" else client)(a)


if __name__ == "__main__":
    main()
