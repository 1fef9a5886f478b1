"""python3 -m bench.harness.clamd_cost [LANES] [session] -- clamd's own CPU per 75 KiB message: INSTREAM the
same text as a mail (headers + body) and as bare text, 300 times each, LANES at once (default 1), clamd's CPU
from /proc. With `session`, each lane keeps one connection in an IDSESSION, as Ardoise does; without, a new
connection per scan."""
import os, socket, struct, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from bench.r5_hygiene import Clamd

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

import threading
SESSION = "session" in sys.argv[1:]
kept = threading.local()


def scan(port, data):
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
        s.sendall(struct.pack(">I", len(chunk)) + chunk)
    s.sendall(struct.pack(">I", 0))
    out = b""
    while not out.endswith(b"\0"):
        out += s.recv(4096)
    if not SESSION:
        s.close()
    return out

body = b"".join(b"La la la %06d lorem ipsum dolor sit amet consectetur adipiscing elit sed do\r\n" % i for i in range(1000))[:76800]
mail = (b"From: sender@bench-client.example.org\r\nTo: agent01@ac-bench.fr\r\nSubject: test\r\n"
        b"Date: Mon, 7 Dec 2026 15:00:00 +0000\r\nMessage-ID: <x@y>\r\n\r\n") + body
import concurrent.futures
LANES = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1  # concurrent INSTREAMs, as the MX's sessions make
work = tempfile.mkdtemp(dir="/var/tmp")
c = Clamd(work); c.start()
try:
    for name, data in (("mail", mail), ("bare text", body), ("mail", mail), ("bare text", body)):
        scan(c.port, data)
        t0, w0 = cpu(c.proc.pid), time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(LANES) as pool:
            r = list(pool.map(lambda _: scan(c.port, data), range(300)))[-1]
        t1, w1 = cpu(c.proc.pid), time.monotonic()
        print(f"{name}, {LANES} at once{' (sessions)' if SESSION else ''}: {len(data)} bytes, clamd CPU {1000*(t1-t0)/300:.2f} ms/scan, wall {1000*(w1-w0)/300:.2f} ms/scan, {r!r}")
finally:
    c.stop()
