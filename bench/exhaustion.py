"""Unauthenticated exhaustion at full scale (issue 25, items 13-15): the attacks of the
hardening report, against one Ardoise server with its default limits, and what a normal
client sees meanwhile. `tests/e2e/test_exhaustion.py` and `test_smtp_hardening.py` run the
same cases at reduced scale and assert service; this measures, and asserts nothing.

    python3 -m bench.exhaustion --binary target/release/ardoise [--quick] [--json out.json]

For each attack it holds the attackers' connections and reports: connections the server
kept open (seen from the attacker's side), the process's resident memory before, at the
peak and after, and the latency of a normal client from another loopback address (the
login page over HTTP, the SMTP greeting and EHLO, the IMAP greeting), median of 5.

Attacks (full scale / --quick):
- http-partial: 1,100 / 200 HTTP connections that each send an unfinished request head
  (before: every service stopped with "Too many open files").
- mx-idle: 2,000 / 200 SMTP connections from one address, kept alive by a byte every few
  seconds (before: every slot taken, 421 for everyone else).
- mx-bodies: 30 / 6 SMTP transactions each sending 19 MiB / 4 MiB of body without the final
  dot (before: +604 MB resident, the body buffered in memory).
- imap-literal: 12 / 4 connections announcing a 60 MiB LOGIN literal and sending it
  (before: +780 MB; literals are now refused before login past a few KiB).
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

DOMAIN = "ac-test.fr"
ATTACKER = "127.0.0.1"
CLIENT = "127.0.0.2"


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Server:
    def __init__(self, binary: str, work: str):
        self.bin, self.root = binary, work
        self.data = os.path.join(work, "data")
        self.conf = os.path.join(work, "ardoise.toml")
        with open(self.conf, "w") as f:
            f.write(
                f'[server]\nhostname = "mx.{DOMAIN}"\ndata_dir = "{self.data}"\n'
                '[smtp]\nlisten = ["127.0.0.1:0"]\n'
                '[imap]\nlisten = ["127.0.0.1:0"]\n'
                '[web]\nlisten = ["127.0.0.1:0"]\n'
            )
        subprocess.run([binary, "admin", "-c", self.conf, "domain", "add", DOMAIN], check=True, capture_output=True)
        subprocess.run([binary, "admin", "-c", self.conf, "account", "create", f"agent@{DOMAIN}", "--name", "Agent",
                        "--password-stdin"], input=b"Bench-Ardoise-2026\n", check=True, capture_output=True)

    def start(self):
        self.log = open(os.path.join(self.root, "server.log"), "ab")
        self.proc = subprocess.Popen([self.bin, "serve", "-c", self.conf], stdout=self.log, stderr=self.log)
        lj = os.path.join(self.data, "listeners.json")
        for _ in range(600):
            if os.path.exists(lj):
                try:
                    addrs = json.load(open(lj))
                    self.ports = {k: int(v.rsplit(":", 1)[1]) for k, v in addrs.items() if isinstance(v, str)}
                    if {"smtp", "imap", "http"} <= self.ports.keys():
                        return
                except (ValueError, KeyError):
                    pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"ardoise serve exited: see {self.root}/server.log")
            time.sleep(0.05)
        raise RuntimeError("ardoise did not write listeners.json")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def connect(port: int, source: str, timeout: float = 5) -> socket.socket:
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def normal_client(srv: Server) -> dict:
    """Latency in ms of a normal client from CLIENT (None when it failed), median of 5."""
    def http():
        s = connect(srv.ports["http"], CLIENT, 10)
        s.sendall(b"GET /connexion HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        head = s.recv(64)
        s.close()
        return head.startswith(b"HTTP/1.1 200")

    def smtp():
        s = connect(srv.ports["smtp"], CLIENT, 10)
        ok = s.recv(512).startswith(b"220")
        s.sendall(b"EHLO client.example\r\n")
        ok = ok and s.recv(4096).startswith(b"250")
        s.close()
        return ok

    def imap():
        s = connect(srv.ports["imap"], CLIENT, 10)
        ok = s.recv(512).startswith(b"* OK")
        s.close()
        return ok

    out = {}
    for name, probe in (("http", http), ("smtp", smtp), ("imap", imap)):
        times = []
        for _ in range(5):
            t = time.monotonic()
            try:
                if probe():
                    times.append((time.monotonic() - t) * 1000)
            except OSError:
                pass
        out[name] = round(statistics.median(times), 2) if times else None
        out[name + "_failures"] = 5 - len(times)
    return out


def still_open(socks: list) -> int:
    """Connections the server neither closed nor refused (a 421 or a BYE counts as
    refused): reads what is pending without blocking."""
    n = 0
    for s in socks:
        s.setblocking(False)
        data, closed = b"", False
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
                data += chunk
        except BlockingIOError:
            pass
        except OSError:
            closed = True
        refused = data.startswith(b"421") or b"* BYE" in data or b" NO " in data or b" BAD " in data
        n += 0 if closed or refused else 1
    return n


def http_partial(srv: Server, count: int) -> list:
    held = []
    for i in range(count):
        try:
            s = connect(srv.ports["http"], ATTACKER)
            s.sendall(f"GET /connexion?n={i} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode())
            held.append(s)
        except OSError:
            pass
    return held


def mx_idle(srv: Server, count: int) -> list:
    held = []
    for _ in range(count):
        try:
            s = connect(srv.ports["smtp"], ATTACKER)
            s.sendall(b"E")  # a byte, as the attack did, then nothing
            held.append(s)
        except OSError:
            pass
    return held


def mx_bodies(srv: Server, count: int, mib: int) -> list:
    held = []
    chunk = (b"x" * 998 + b"\r\n") * 64
    for _ in range(count):
        try:
            s = connect(srv.ports["smtp"], ATTACKER, 30)
            s.recv(512)
            s.sendall(b"EHLO attacker\r\n")
            s.recv(4096)
            s.sendall(f"MAIL FROM:<x@example.org>\r\nRCPT TO:<agent@{DOMAIN}>\r\nDATA\r\n".encode())
            time.sleep(0.05)
            s.recv(4096)
            held.append(s)
        except OSError:
            pass
    # Send the bodies side by side, as the attack did, without the final dot.
    def feed(s):
        sent = 0
        try:
            while sent < mib * 1024 * 1024:
                s.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
    threads = [threading.Thread(target=feed, args=(s,)) for s in held]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return held


def imap_literal(srv: Server, count: int, mib: int) -> list:
    held = []
    for i in range(count):
        try:
            s = connect(srv.ports["imap"], ATTACKER, 30)
            s.recv(512)
            size = mib * 1024 * 1024
            s.sendall(f"a{i} LOGIN agent@{DOMAIN} {{{size}}}\r\n".encode())
            try:
                s.settimeout(2)
                s.recv(512)  # "+" would invite the literal; a refusal ends it
            except socket.timeout:
                pass
            s.settimeout(30)
            try:
                block = b"y" * 65536
                for _ in range(size // len(block)):
                    s.sendall(block)
            except OSError:
                pass
            held.append(s)
        except OSError:
            pass
    return held


def measure(srv: Server, name: str, attack, *args) -> dict:
    pid = srv.proc.pid
    before = rss_mib(pid)
    peak = [before]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mib(pid))
            time.sleep(0.1)

    w = threading.Thread(target=watch)
    w.start()
    t = time.monotonic()
    held = attack(srv, *args)
    attack_s = time.monotonic() - t
    time.sleep(1)
    during = normal_client(srv)
    kept = still_open(held)
    stop.set()
    w.join()
    for s in held:
        s.close()
    time.sleep(2)
    row = {"attack": name, "attempted": args[0], "connected": len(held), "kept_open": kept,
           "rss_before_mib": round(before, 1), "rss_peak_mib": round(peak[0], 1),
           "rss_after_mib": round(rss_mib(pid), 1), "attack_seconds": round(attack_s, 1),
           "normal_client_ms": during}
    print(json.dumps(row), flush=True)
    return row


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", help="write the rows here")
    a = p.parse_args()
    # The attacker side holds thousands of sockets itself.
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = tempfile.mkdtemp(prefix="ardoise-exhaustion-")
    srv = Server(a.binary, work)
    srv.start()
    try:
        time.sleep(1)
        rows = [{"attack": "none", "normal_client_ms": normal_client(srv), "rss_mib": round(rss_mib(srv.proc.pid), 1)}]
        print(json.dumps(rows[0]), flush=True)
        q = a.quick
        rows.append(measure(srv, "http-partial", http_partial, 200 if q else 1100))
        rows.append(measure(srv, "mx-idle", mx_idle, 200 if q else 2000))
        rows.append(measure(srv, "mx-bodies", mx_bodies, 6 if q else 30, 4 if q else 19))
        rows.append(measure(srv, "imap-literal", imap_literal, 4 if q else 12, 8 if q else 60))
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"binary": a.binary, "rows": rows}, f, indent=1)
    finally:
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
