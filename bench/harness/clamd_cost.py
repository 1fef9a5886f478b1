"""python3 -m bench.harness.clamd_cost [LANES] -- clamd's own CPU per 75 KiB message: INSTREAM the same text as
a mail (headers + body) and as bare text, 300 times each, LANES at once (default 1), clamd's CPU from /proc."""
import os, socket, struct, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from bench.r5_hygiene import Clamd

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

def scan(port, data):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"zINSTREAM\0")
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        s.sendall(struct.pack(">I", len(chunk)) + chunk)
    s.sendall(struct.pack(">I", 0))
    out = b""
    while not out.endswith(b"\0"):
        out += s.recv(4096)
    s.close()
    return out

body = b"".join(b"La la la %06d lorem ipsum dolor sit amet consectetur adipiscing elit sed do\r\n" % i for i in range(1000))[:76800]
mail = (b"From: sender@bench-client.example.org\r\nTo: agent01@ac-bench.fr\r\nSubject: test\r\n"
        b"Date: Mon, 7 Dec 2026 15:00:00 +0000\r\nMessage-ID: <x@y>\r\n\r\n") + body
import concurrent.futures
LANES = int(sys.argv[1]) if len(sys.argv) > 1 else 1  # concurrent INSTREAMs, as the MX's sessions make
work = tempfile.mkdtemp(dir="/var/tmp")
c = Clamd(work); c.start()
try:
    for name, data in (("mail", mail), ("bare text", body), ("mail", mail), ("bare text", body)):
        scan(c.port, data)
        t0, w0 = cpu(c.proc.pid), time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(LANES) as pool:
            r = list(pool.map(lambda _: scan(c.port, data), range(300)))[-1]
        t1, w1 = cpu(c.proc.pid), time.monotonic()
        print(f"{name}, {LANES} at once: {len(data)} bytes, clamd CPU {1000*(t1-t0)/300:.2f} ms/scan, wall {1000*(w1-w0)/300:.2f} ms/scan, {r!r}")
finally:
    c.stop()
