"""APPEND latency with a splitting client, Ardoise against Dovecot imapd (issue 25 item 16).

A command that reaches the server in two TCP segments used to wait ~44 ms on Ardoise: the client's Nagle
algorithm holds the second segment until the first is ACKed, and the server delayed that ACK. Python's
imaplib is such a client: it sends an APPEND literal and its final CRLF in two writes, with Nagle on. This
bench times N sequential APPENDs of a ~5 KB message on one logged-in connection per side with two clients:

- `imaplib`: `IMAP4.append` (command line; after `+`, the literal, then CRLF in a second write);
- `one write`: a raw socket sending `tag APPEND INBOX {n}`, waiting for `+`, then literal + CRLF in one
  `sendall` (Nagle left on, as imaplib does: the only difference is the split).

Both sides are set up as R1-R3 (bench/harness/imap.py): same account, plain IMAP on loopback, durable
writes (Ardoise: blob fsync'd and SQLite `synchronous=FULL` before the tagged OK; Dovecot: `mail_fsync =
always`). After a warm-up, the APPENDs run in rounds of 10 that alternate the clients and the sides, so
that machine noise falls on all four alike; then each INBOX's message count is checked.

    python3 -m bench.append_split --binary B [--quick] [--appends N] [--keep]

Writes bench/out/latest-append-split-<mode>.json (full mode: also bench/results/); never asserts a time.
"""

import argparse
import imaplib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from .harness import imap, servers
from .harness.main import machine, save
from .harness.servers import DOMAIN, PASSWORD

USER = f"agent01@{DOMAIN}"
DOVECOT_PORT = 1145  # not R1-R3's 1143, so that a lingering instance of theirs cannot answer here
SIZE = 5120
ROUND = 10
CLIENTS = ("imaplib", "one write")


def message(i: int) -> bytes:
    head = (f"From: bench@{DOMAIN}\r\nTo: {USER}\r\nSubject: append split {i}\r\n"
            f"Message-ID: <append-split-{i}-{time.monotonic_ns()}@{DOMAIN}>\r\n"
            "Date: Thu, 03 Dec 2026 18:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n")
    line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n"
    body = (line * (SIZE // len(line) + 1))[: SIZE - len(head)]
    return (head + body).encode()


class ImaplibClient:
    """Python's imaplib: the literal and its final CRLF go out in two writes (Nagle on)."""

    def __init__(self, port: int):
        self.c = imaplib.IMAP4("127.0.0.1", port)
        self.c.login(USER, PASSWORD)

    def append(self, msg: bytes) -> None:
        typ, data = self.c.append("INBOX", None, None, msg)
        if typ != "OK":
            raise RuntimeError(f"imaplib APPEND: {typ} {data}")

    def count(self) -> int:
        typ, data = self.c.status("INBOX", "(MESSAGES)")
        return int(data[0].decode().rsplit("MESSAGES", 1)[1].strip(" )"))

    def close(self) -> None:
        self.c.logout()


class OneWriteClient:
    """A raw socket: the command line, then (after `+`) literal + CRLF in one sendall (Nagle on too)."""

    def __init__(self, port: int):
        self.s = socket.create_connection(("127.0.0.1", port), 10)
        self.f = self.s.makefile("rb")
        self.n = 0
        self.f.readline()  # greeting
        self.tagged(f'LOGIN "{USER}" "{PASSWORD}"'.encode())

    def tagged(self, cmd: bytes, literal: bytes | None = None) -> bytes:
        self.n += 1
        tag = b"w%d" % self.n
        self.s.sendall(tag + b" " + cmd + b"\r\n")
        if literal is not None:
            while True:
                line = self.f.readline()
                if line.startswith(b"+"):
                    break
                if not line or line.startswith(tag):
                    raise RuntimeError(f"no continuation: {line!r}")
            self.s.sendall(literal + b"\r\n")
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("connection closed")
            if line.startswith(tag + b" "):
                if not line[len(tag) + 1:].startswith(b"OK"):
                    raise RuntimeError(f"{cmd[:40]!r}: {line!r}")
                return line

    def append(self, msg: bytes) -> None:
        self.tagged(b"APPEND INBOX {%d}" % len(msg), msg)

    def close(self) -> None:
        self.tagged(b"LOGOUT")
        self.s.close()


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if s else 0.0


def stats(ms: list[float]) -> dict:
    return {"count": len(ms), "p50_ms": round(pct(ms, .5), 3), "p90_ms": round(pct(ms, .9), 3),
            "p99_ms": round(pct(ms, .99), 3), "max_ms": round(max(ms), 3) if ms else 0.0,
            # The stall this row watches for adds ~40 ms (Linux's minimum delayed-ACK timeout) to an APPEND.
            "over_40ms": sum(1 for x in ms if x > 40)}


def measure(ports: dict[str, int], appends: int, warmup: int, log) -> dict:
    conns = {(side, kind): (ImaplibClient if kind == "imaplib" else OneWriteClient)(port)
             for side, port in ports.items() for kind in CLIENTS}
    samples: dict = {key: [] for key in conns}
    i = 0
    try:
        for key, c in conns.items():
            for _ in range(warmup):
                c.append(message(i := i + 1))
        done = 0
        while done < appends:
            n = min(ROUND, appends - done)
            for key, c in conns.items():
                for _ in range(n):
                    msg = message(i := i + 1)
                    t0 = time.perf_counter()
                    c.append(msg)
                    samples[key].append((time.perf_counter() - t0) * 1000)
            done += n
        counts = {side: conns[(side, "imaplib")].count() for side in ports}
    finally:
        for c in conns.values():
            try:
                c.close()
            except (OSError, RuntimeError, imaplib.IMAP4.error):
                pass
    out: dict = {"servers": {}}
    for side in ports:
        expected = len(CLIENTS) * (warmup + appends)
        if counts[side] != expected:
            raise RuntimeError(f"{side}: INBOX holds {counts[side]} messages, expected {expected}")
        out["servers"][side] = {kind: stats(samples[(side, kind)]) for kind in CLIENTS}
        out["servers"][side]["inbox_messages"] = counts[side]
    for kind in CLIENTS:
        o, r = out["servers"]["ardoise"][kind], out["servers"]["dovecot"][kind]
        log(f"APPEND 5 KB, {kind}: Ardoise p50 {o['p50_ms']:.2f} p90 {o['p90_ms']:.2f} p99 {o['p99_ms']:.2f} ms; "
            f"Dovecot p50 {r['p50_ms']:.2f} p90 {r['p90_ms']:.2f} p99 {r['p99_ms']:.2f} ms; "
            f"p50 ratio (Dovecot / Ardoise time) {r['p50_ms'] / o['p50_ms']:.2f}x")
    return out


def section(doc: dict) -> str:
    """The BENCHMARKS.md section of one run (bench/harness/report.py places it before bench/notes.md)."""
    m, srv = doc["machine"], doc["servers"]
    build = "debug" if "/debug/" in doc["binary"] else "release"
    rows = []
    for kind in CLIENTS:
        o, r = srv["ardoise"][kind], srv["dovecot"][kind]
        for side, s in (("Ardoise", o), ("Dovecot", r)):
            rows.append(f"| {kind} | {side} | {s['p50_ms']:.2f} | {s['p90_ms']:.2f} | {s['p99_ms']:.2f} | "
                        f"{s['max_ms']:.2f} | {s['over_40ms']} |")
        rows.append(f"| {kind} | **ratio** (Dovecot / Ardoise time) | **{r['p50_ms'] / o['p50_ms']:.2f}x** | "
                    f"{r['p90_ms'] / o['p90_ms']:.2f}x | {r['p99_ms'] / o['p99_ms']:.2f}x | | |")
    note = "" if build == "release" else (
        " (a debug build: its absolute figures are not a release build's; the comparison of the two clients on"
        " each side is what this row is about)")
    busy = "" if doc["loadavg_1min"] <= m["nproc"] else (
        ", more than the machine's cores: other work was running, and the tails (p90, p99, over 40 ms) measure the"
        " shared CPU and disk as much as either server")
    ctl = doc.get("control")
    control = "" if not ctl else (
        f"\nControl, same run: the same two clients against a minimal Python server on loopback that does not "
        f"re-arm `TCP_QUICKACK` (Ardoise before the fix; `DelayedAckServer`), {ctl['imaplib']['count']} APPENDs each: "
        f"imaplib p50 {ctl['imaplib']['p50_ms']:.2f} ms ({ctl['imaplib']['over_40ms']} over 40 ms), one write "
        f"{ctl['one write']['p50_ms']:.2f} ms ({ctl['one write']['over_40ms']} over 40 ms). The imaplib client does "
        "split, so the stall would show in the table above if it came back.\n")
    split = srv["ardoise"]["imaplib"]["p50_ms"] / srv["ardoise"]["one write"]["p50_ms"]
    ref_split = srv["dovecot"]["imaplib"]["p50_ms"] / srv["dovecot"]["one write"]["p50_ms"]
    return f"""<!-- append-split:begin -->
## APPEND latency with a splitting client, against Dovecot imapd (issue 25 item 16)

A command that reaches the server in two TCP segments used to wait ~44 ms on Ardoise (the client's Nagle
algorithm holding the second segment until our delayed ACK; fixed in `crates/net` by re-arming
`TCP_QUICKACK` after every read). Python's `imaplib` is such a client: it sends an APPEND literal and its
final CRLF in two writes, Nagle on. `python3 -m bench.append_split --binary B` (run by `bench/run` when no
`--only` is given; `--quick`: 30 APPENDs): {doc['appends']:,} sequential APPENDs of a {doc['size']:,}-byte
message per client and side, on one logged-in connection each, after {doc['warmup']} unmeasured ones; rounds
of {doc['round']} alternate the clients and the sides. Clients: **imaplib** (`IMAP4.append`), and **one
write** (a raw socket: `tag APPEND INBOX {{n}}`, wait for `+`, then literal + CRLF in one `sendall`, Nagle
on too). Both sides as in R1-R3: the same account, plain IMAP on loopback, durable: Ardoise fsyncs the blob
and commits SQLite with `synchronous=FULL` before its tagged OK; Dovecot runs with **`mail_fsync =
always`** (Maildir, built-in defaults otherwise). Each INBOX's message count is checked at the end.

Run of {m['date']}, commit {doc['commit']}, **{build} build** of Ardoise{note}; {doc['versions']['dovecot']};
{m['cpu']}, `nproc` = {m['nproc']}, {m['filesystem']}; 1-minute load {doc['loadavg_1min']} at the end of the run{busy}.

| client | server | p50 ms | p90 ms | p99 ms | max ms | APPENDs over 40 ms |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Cost of the split (p50 time with imaplib / p50 time with one write): Ardoise {split:.2f}x, Dovecot {ref_split:.2f}x
(a cost close to Dovecot's is imaplib's own work; before the fix the split added ~44 ms per APPEND on Ardoise,
as in the control below).
{control}<!-- append-split:end -->
"""


class DelayedAckServer:
    """The control: a minimal loopback server that answers APPEND (`+`, then a tagged OK once the literal and
    its CRLF are read) and does not re-arm TCP_QUICKACK, like Ardoise before the fix. Against it, a client
    that splits its command waits for the kernel's delayed ACK; one that sends in one write does not."""

    def __init__(self):
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.port = self.srv.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c: socket.socket) -> None:
        f = c.makefile("rb")
        c.sendall(b"* OK control\r\n")
        while line := f.readline():
            tag, cmd = (line.rstrip().split(b" ", 2) + [b""])[:2]
            if cmd.upper() == b"APPEND":
                c.sendall(b"+ go\r\n")
                f.read(int(line.rstrip().rsplit(b"{", 1)[1][:-1]))
                f.readline()
            elif cmd.upper() == b"CAPABILITY":
                c.sendall(b"* CAPABILITY IMAP4rev1\r\n")
            elif cmd.upper() == b"LOGOUT":
                c.sendall(b"* BYE\r\n")
            c.sendall(tag + b" OK done\r\n")
        c.close()

    def measure(self, appends: int) -> dict:
        out = {}
        for kind, cls in (("imaplib", ImaplibClient), ("one write", OneWriteClient)):
            c, ms = cls(self.port), []
            for i in range(appends + 5):
                msg = message(i)
                t0 = time.perf_counter()
                c.append(msg)
                if i >= 5:
                    ms.append((time.perf_counter() - t0) * 1000)
            c.close()
            out[kind] = stats(ms)
        self.srv.close()
        return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--quick", action="store_true", help="30 APPENDs per client and side, 5 of warm-up")
    p.add_argument("--appends", type=int, help="measured APPENDs per client and side (default 1,000)")
    p.add_argument("--keep", action="store_true", help="keep the work dir for inspection")
    a = p.parse_args()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    appends = a.appends or (30 if a.quick else 1000)
    warmup = 5 if a.quick else 50
    work = tempfile.mkdtemp(prefix="ardoise-bench-append-split-", dir="/var/tmp")
    ours = imap.ArdoiseImap(work, a.binary, [USER])
    ref = None
    try:
        ours.setup()
        ours.start()
        ref = imap.DovecotImap(work, [USER], ours.hashes(), port=DOVECOT_PORT)
        ref.setup()
        ref.start()
        log(f"append-split: ardoise on 127.0.0.1:{ours.imap_port}, dovecot on 127.0.0.1:{ref.imap_port}")
        res = measure({"ardoise": ours.imap_port, "dovecot": ref.imap_port}, appends, warmup, log)
        versions = {"ardoise": ours.version(), "dovecot": ref.version()}
    finally:
        for s in (ours, ref):
            if s:
                s.stop()
        if a.keep:
            log(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    here = os.path.dirname(os.path.abspath(__file__))
    doc = {
        "workload": "append-split", "mode": "quick" if a.quick else "full", "machine": machine(),
        "commit": os.environ.get("ARDOISE_COMMIT") or subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=here).stdout.strip(),
        "binary": a.binary, "size": SIZE, "appends": appends, "warmup": warmup, "round": ROUND,
        "loadavg_1min": round(os.getloadavg()[0], 2), "versions": versions, **res,
    }
    # The control shows, in every run, that the imaplib client does split: against a server that delays its
    # ACKs, its APPENDs wait ~40 ms more than the one-write client's.
    doc["control"] = DelayedAckServer().measure(10 if a.quick else 100)
    log(f"control (delayed ACKs, no TCP_QUICKACK): imaplib p50 {doc['control']['imaplib']['p50_ms']:.2f} ms, "
        f"one write {doc['control']['one write']['p50_ms']:.2f} ms")
    save(doc, "append-split", log)
    print(json.dumps({k: doc[k] for k in ("commit", "servers")}, indent=1))


if __name__ == "__main__":
    main()
