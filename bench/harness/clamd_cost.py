"""python3 -m bench.harness.clamd_cost [LANES] [OPTIONS] -- clamd's own CPU per 75 KiB message.

INSTREAMs the same text as a mail (headers + body) and as bare text, 300 times each, LANES at once
(default 1), each time with a new first line, and reads clamd's CPU from /proc. Options:
  session    each lane keeps one connection in an IDSESSION, as Ardoise does (else one per scan)
  cached     the same bytes every time: clamd's cache of clean files answers after the first scan
  mail=FILE  that exact message (e.g. one captured from Ardoise) as the mail; body=FILE the bare text
  gap=MS     a pause after each scan; pause=MS one between chunks; split: length and chunk apart
  idle=N     N more sessions left open and silent"""
import os, socket, struct, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from bench.r5_hygiene import Clamd

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

import threading
SESSION = "session" in sys.argv[1:]
SPLIT = "split" in sys.argv[1:]
# Every scan a different message (an MX never sees the same one twice): with the same bytes each time,
# clamd's cache of clean files' hashes answers every scan after the first, and what is measured is its
# hashing, not its scanning (0.5-0.8 ms instead of 1.8-2.0 ms for 75 KiB). `cached` measures that.
UNIQUE = "cached" not in sys.argv[1:]
# `pause=MS`: a pause before each chunk after the first (the stream arrives in two halves).
PAUSE = next((float(a[6:]) / 1000 for a in sys.argv[1:] if a.startswith("pause=")), 0.0)
# `gap=MS`: a pause after each scan, as between an MX's messages (clamd idle in between).
GAP = next((float(a[4:]) / 1000 for a in sys.argv[1:] if a.startswith("gap=")), 0.0)
kept = threading.local()


import itertools
serial = itertools.count()


def scan(port, data):
    if UNIQUE:  # a new first line each time
        data = b"X-Serial: %d\r\n" % next(serial) + data
    if SESSION:
        if getattr(kept, "sock", None) is None:
            kept.sock = socket.create_connection(("127.0.0.1", port))
            kept.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            kept.sock.sendall(b"zIDSESSION\0")
        s = kept.sock
    else:
        s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"zINSTREAM\0")
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        if PAUSE and i:  # the sender busy elsewhere between two chunks
            time.sleep(PAUSE)
        if SPLIT:  # as Ardoise wrote it: the length, then the chunk, each its own segment
            s.sendall(struct.pack(">I", len(chunk)))
            s.sendall(chunk)
        else:
            s.sendall(struct.pack(">I", len(chunk)) + chunk)
    s.sendall(struct.pack(">I", 0))
    out = b""
    while not out.endswith(b"\0"):
        out += s.recv(4096)
    if not SESSION:
        s.close()
    if GAP:
        time.sleep(GAP)
    return out

body = open(next(a[5:] for a in sys.argv[1:] if a.startswith("body=")), "rb").read() if any(
    a.startswith("body=") for a in sys.argv[1:]) else b"".join(b"La la la %06d lorem ipsum dolor sit amet consectetur adipiscing elit sed do\r\n" % i for i in range(1000))[:76800]
# `mail=FILE`: that exact message (as Ardoise sends it: bench/... capture) instead of the made-up one.
mail = open(next(a[5:] for a in sys.argv[1:] if a.startswith("mail=")), "rb").read() if any(
    a.startswith("mail=") for a in sys.argv[1:]) else (
    b"From: sender@bench-client.example.org\r\nTo: agent01@ac-bench.fr\r\nSubject: test\r\n"
    b"Date: Mon, 7 Dec 2026 15:00:00 +0000\r\nMessage-ID: <x@y>\r\n\r\n") + body
import concurrent.futures
LANES = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1  # concurrent INSTREAMs, as the MX's sessions make
work = tempfile.mkdtemp(dir="/var/tmp")
c = Clamd(work); c.start()
# `idle=N`: N more IDSESSION connections left open and silent, as an MX keeps between its busy moments.
IDLE = next((int(a[5:]) for a in sys.argv[1:] if a.startswith("idle=")), 0)
idle = []
for _ in range(IDLE):
    k = socket.create_connection(("127.0.0.1", c.port))
    k.sendall(b"zIDSESSION\0")
    idle.append(k)
try:
    for name, data in (("mail", mail), ("bare text", body), ("mail", mail), ("bare text", body)):
        scan(c.port, data)
        t0, w0 = cpu(c.proc.pid), time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(LANES) as pool:
            r = list(pool.map(lambda _: scan(c.port, data), range(300)))[-1]
        t1, w1 = cpu(c.proc.pid), time.monotonic()
        print(f"{name}, {LANES} at once{' (sessions)' if SESSION else ''}{'' if UNIQUE else ' (cached)'}: {len(data)} bytes, clamd CPU {1000*(t1-t0)/300:.2f} ms/scan, wall {1000*(w1-w0)/300:.2f} ms/scan (gap {GAP*1000:g} ms), {r!r}")
finally:
    c.stop()
