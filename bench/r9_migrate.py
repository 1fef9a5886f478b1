"""R9: migrating one mailbox of 10,000 messages from Dovecot, `ardoise migrate imap` against
`mbsync` (Debian's isync) doing the same IMAP-to-IMAP copy into a second Dovecot (issue 23).

The source is a private Dovecot (Debian's dovecot-imapd, as tests/e2e/test_migrate.py starts it:
its own configuration under /var/tmp, TLS with a certificate made here, `.` as separator) holding
one account with 10,000 messages over five folders (nested, French names, flags and keywords,
internal dates), put there once by pipelined APPEND. Sizes: 60 % about 2 KB, 35 % about 10 KB,
5 % about 100 KB (a base64 attachment).

Two sides, each copying everything from the same source over TLS into an empty target:

- `ardoise`: `ardoise migrate imap --source-user ... --target ... --password-stdin --jobs 1` into a
  fresh Ardoise data folder (SQLite, synchronous=FULL, every message file fsync'd, the full-text
  index fed; no server running: the migration opens the store itself);
- `mbsync`: isync's `mbsync` with one channel, `Patterns *`, `Create Near`, `Sync Pull`, from the
  source to a second private Dovecot (plain IMAP on loopback, Maildir, Dovecot's default
  `mail_fsync = optimized`), emptied before each repetition with fresh sync state.

Measured per repetition: wall time of the copy (the client process from start to exit), CPU
seconds of the copying side (the client process, plus for mbsync the target Dovecot's process
tree: Ardoise writes its store in-process) and, reported apart, the source Dovecot's CPU. Sides
alternate within each repetition and their order flips between repetitions. After each copy the
target is counted (SQLite rows, or STATUS on the target Dovecot): a copy that misses messages
stops the run instead of giving a number.

    python3 -m bench.r9_migrate --binary /work/tgt/move-bin/ardoise [--quick] [--reps N]
                                [--messages N] [--keep]

Needs root (Dovecot's mail processes run as nobody); installs nothing: apt-get install isync
dovecot-imapd. Prints one JSON document and writes bench/out/latest-r9-<mode>.json. Not a test;
never asserts a time.
"""

import argparse
import base64
import imaplib
import json
import os
import random
import re
import resource
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time

from .harness import procmon, servers
from .harness.main import machine, save

PASSWORD = "Bench-Ardoise-2026"
SOURCE_USER = "source"
# Dovecot's names ('.' separator) and their share of the messages.
FOLDERS = [
    ("INBOX", 0.40),
    ("Sent", 0.25),
    ("Réunions.Conseil de classe", 0.15),
    ("Archives.2024", 0.15),
    ("Trash", 0.05),
]
KEYWORDS = ["$Label1", "Travail", "$Forwarded"]
FLAGS = ["\\Seen", "\\Answered", "\\Flagged"]

DOVECOT_CONF = """\
instance_name = ardoise-r9-{name}
base_dir = {root}/run
protocols = imap
listen = 127.0.0.1
ssl = {ssl}
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%n/Maildir
namespace inbox {{
  inbox = yes
  separator = .
}}
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def no_verify() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def quoted(name: str) -> str:
    """A folder name as an IMAP astring, in modified UTF-7 (RFC 3501 section 5.1.3)."""
    out, run = [], []

    def flush():
        if run:
            b = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            out.append("&" + b + "-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return '"' + "".join(out).replace("\\", "\\\\").replace('"', '\\"') + '"'


class Dovecot:
    """A private Dovecot under /var/tmp with one account, TLS on one port and plain IMAP on another."""

    def __init__(self, name: str, ssl_mode: str = "yes"):
        self.name = name
        self.root = tempfile.mkdtemp(prefix=f"ardoise-r9-{name}-", dir="/var/tmp")
        os.chmod(self.root, 0o755)
        self.port, self.tls_port = free_port(), free_port()
        self.conf = os.path.join(self.root, "dovecot.conf")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", os.path.join(self.root, "key.pem"), "-out", os.path.join(self.root, "cert.pem")],
            check=True, capture_output=True)
        with open(os.path.join(self.root, "users"), "w") as f:
            f.write(f"{SOURCE_USER}:{{PLAIN}}{PASSWORD}:65534:65534::{self.root}/mail/{SOURCE_USER}::\n")
        with open(self.conf, "w") as f:
            f.write(DOVECOT_CONF.format(name=name, root=self.root, port=self.port, tls_port=self.tls_port,
                                        ssl=ssl_mode))
        self.empty()

    def empty(self) -> None:
        mail = os.path.join(self.root, "mail")
        shutil.rmtree(mail, ignore_errors=True)
        os.makedirs(mail)
        shutil.chown(mail, "nobody", "nogroup")

    def start(self) -> None:
        with open(os.path.join(self.root, "start.log"), "a") as out:
            subprocess.run(["dovecot", "-c", self.conf], check=True, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot {self.name} did not start; see {self.root}/dovecot.log")

    def roots(self) -> list[int]:
        try:
            return [int(open(os.path.join(self.root, "run", "master.pid")).read().split()[0])]
        except (OSError, ValueError, IndexError):
            return []

    def login(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port)
        conn.login(SOURCE_USER, PASSWORD)
        return conn

    def count(self) -> int:
        conn = self.login()
        total = 0
        typ, data = conn.list('""', "*")
        for line in data:
            m = re.match(rb'\(.*?\) (?:"[^"]*"|NIL) (.*)$', line or b"")
            if not m:
                continue
            typ, st = conn.status(m.group(1).decode(), "(MESSAGES)")
            if typ == "OK":
                total += int(st[0].decode().rsplit("MESSAGES ", 1)[1].rstrip(")"))
        conn.logout()
        return total

    def stop(self, remove: bool = True) -> None:
        subprocess.run(["dovecot", "-c", self.conf, "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)


def message(folder: str, n: int, rng: random.Random) -> bytes:
    kind = rng.random()
    lines = [
        f"From: Équipe {n % 37} <agent{n % 37}@ac-source.fr>",
        f"To: {SOURCE_USER}@ac-source.fr",
        "Subject: =?utf-8?b?" + base64.b64encode(f"{folder} n°{n} — réunion".encode()).decode() + "?=",
        f"Date: Tue, {1 + n % 28} Sep 2025 10:{n % 60:02d}:00 +0200",
        f"Message-ID: <r9.{n}.{abs(hash(folder)) % 100000}@ac-source.fr>",
        "MIME-Version: 1.0",
    ]
    text = "\r\n".join(f"Ligne {i} du message {n} : élèves, réunion, conseil de classe." for i in
                       range(25 if kind < 0.60 else 140))
    if kind < 0.95:
        lines += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", text]
    else:
        blob = base64.b64encode(rng.randbytes(72_000)).decode()
        att = "\r\n".join(blob[i:i + 76] for i in range(0, len(blob), 76))
        lines += ['Content-Type: multipart/mixed; boundary="b"', "", "--b",
                  "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", text,
                  "--b", "Content-Type: application/pdf; name=piece.pdf", "Content-Transfer-Encoding: base64", "",
                  att, "--b--"]
    return ("\r\n".join(lines) + "\r\n").encode()


def fill(source: Dovecot, total: int) -> dict:
    """Folders, then every message by APPEND pipelined with LITERAL+ (RFC 7888)."""
    rng = random.Random(9)
    counts = {f: int(total * share) for f, share in FOLDERS}
    counts["INBOX"] += total - sum(counts.values())
    conn = source.login()
    for folder in counts:
        if folder != "INBOX":
            conn.create(quoted(folder))
        conn.subscribe(quoted(folder))
    conn.logout()
    sock = socket.create_connection(("127.0.0.1", source.port), 60)
    reader = sock.makefile("rb")
    assert reader.readline().startswith(b"* OK")

    def run(commands: list) -> None:
        sock.sendall(b"".join(commands))
        waiting = len(commands)
        while waiting:
            line = reader.readline()
            if not line:
                raise RuntimeError("dovecot closed the connection")
            if line.startswith(b"t"):
                if line.split(b" ")[1] != b"OK":
                    raise RuntimeError(line)
                waiting -= 1

    run([f't0 LOGIN {SOURCE_USER} "{PASSWORD}"\r\n'.encode()])
    n, size = 0, 0
    for folder, count in counts.items():
        for start in range(0, count, 200):
            cmds = []
            for _ in range(min(200, count - start)):
                flags = [f for f in FLAGS if rng.random() < 0.3] + [k for k in KEYWORDS if rng.random() < 0.1]
                when = time.strftime("%d-%b-%Y %H:%M:%S +0100", time.gmtime(1_700_000_000 + rng.randint(0, 60_000_000)))
                body = message(folder, n, rng)
                size += len(body)
                n += 1
                cmds.append(f't{n} APPEND {quoted(folder)} ({" ".join(flags)}) "{when}" {{{len(body)}+}}\r\n'
                            .encode() + body + b"\r\n")
            run(cmds)
    sock.close()
    return {"messages": n, "bytes": size, "folders": {f: c for f, c in counts.items()}}


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], stdin: bytes | None, log_path: str) -> tuple[float, float]:
    """Wall and CPU seconds of one child process (its own rusage, reaped here)."""
    before = child_cpu()
    start = time.monotonic()
    with open(log_path, "ab") as log:
        done = subprocess.run(cmd, input=stdin, stdout=log, stderr=log)
    wall = time.monotonic() - start
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited with {done.returncode}; see {log_path}")
    return wall, child_cpu() - before


class ArdoiseSide:
    name = "ardoise"

    def __init__(self, work: str, binary: str, source: Dovecot):
        self.work, self.bin, self.source = work, binary, source
        self.address = f"claire.martin@{servers.DOMAIN}"

    def reset(self) -> None:
        self.side = servers.Ardoise(os.path.join(self.work, "ardoise-target"), self.bin, [self.address])
        shutil.rmtree(self.side.root, ignore_errors=True)
        self.side.setup()

    def copy(self) -> tuple[float, float]:
        cmd = [self.bin, "migrate", "imap", "--config", self.side.conf, "--host", "127.0.0.1",
               "--port", str(self.source.tls_port), "--tls", "--insecure-accept-any-cert",
               "--source-user", SOURCE_USER, "--target", self.address, "--password-stdin", "--jobs", "1",
               "--report-json", os.path.join(self.side.root, "report.json")]
        return timed(cmd, (PASSWORD + "\n").encode(), os.path.join(self.side.root, "migrate.log"))

    def target_cpu(self) -> float:
        return 0.0

    def count(self) -> int:
        db = os.path.join(self.side.data, "ardoise.db")
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
            return c.execute("SELECT count(*) FROM messages").fetchone()[0]

    def version(self) -> str:
        return servers.run(self.bin, "--version").stdout.strip()


class MbsyncSide:
    name = "mbsync"

    def __init__(self, work: str, source: Dovecot):
        self.work, self.source = work, source
        self.target = Dovecot("target", ssl_mode="no")
        self.target.start()
        self.rc = os.path.join(work, "mbsyncrc")
        self.state = os.path.join(work, "mbsync-state")

    def reset(self) -> None:
        self.target.stop(remove=False)
        self.target.empty()
        self.target.start()
        shutil.rmtree(self.state, ignore_errors=True)
        os.makedirs(self.state)
        with open(self.rc, "w") as f:
            f.write(f"""IMAPAccount source
Host 127.0.0.1
Port {self.source.tls_port}
User {SOURCE_USER}
Pass {PASSWORD}
SSLType IMAPS
CertificateFile {self.source.root}/cert.pem

IMAPStore source
Account source

IMAPAccount target
Host 127.0.0.1
Port {self.target.port}
User {SOURCE_USER}
Pass {PASSWORD}
SSLType None
AuthMechs LOGIN

IMAPStore target
Account target

Channel copy
Far :source:
Near :target:
Patterns *
Create Near
Sync Pull
SyncState {self.state}/
""")

    def copy(self) -> tuple[float, float]:
        self.cpu_before = procmon.cpu_seconds(self.target.roots())
        wall, cpu = timed(["mbsync", "-c", self.rc, "-q", "copy"], None, os.path.join(self.work, "mbsync.log"))
        return wall, cpu

    def target_cpu(self) -> float:
        return procmon.cpu_seconds(self.target.roots()) - self.cpu_before

    def count(self) -> int:
        return self.target.count()

    def version(self) -> str:
        out = subprocess.run(["mbsync", "--version"], capture_output=True, text=True)
        return (out.stdout or out.stderr).strip()


def loadavg() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def median(values: list[float]) -> float:
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--reps", type=int)
    p.add_argument("--messages", type=int)
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    missing = sorted({pkg for tool, pkg in {"mbsync": "isync", "dovecot": "dovecot-imapd",
                                              "openssl": "openssl"}.items() if shutil.which(tool) is None})
    if missing:
        raise SystemExit(f"missing: apt-get install -y --no-install-recommends {' '.join(missing)}")
    if os.geteuid() != 0:
        raise SystemExit("needs root (Dovecot's mail processes run as nobody)")
    reps = args.reps or (1 if args.quick else 3)
    total = args.messages or (1_000 if args.quick else 10_000)
    work = tempfile.mkdtemp(prefix="ardoise-r9-", dir="/var/tmp")
    os.chmod(work, 0o755)
    source = Dovecot("source")
    sides = []
    try:
        source.start()
        log(f"filling the source with {total} messages")
        corpus = fill(source, total)
        log(f"source: {corpus['messages']} messages, {corpus['bytes'] / 1e6:.1f} MB")
        sides = [ArdoiseSide(work, args.binary, source), MbsyncSide(work, source)]
        runs = {s.name: [] for s in sides}
        for rep in range(reps):
            order = sides if rep % 2 == 0 else list(reversed(sides))
            for side in order:
                side.reset()
                started, load_before = time.strftime("%H:%M:%SZ", time.gmtime()), loadavg()
                src_before = procmon.cpu_seconds(source.roots())
                wall, cpu = side.copy()
                target_cpu = side.target_cpu()
                src_cpu = procmon.cpu_seconds(source.roots()) - src_before
                got = side.count()
                if got != corpus["messages"]:
                    raise RuntimeError(f"{side.name}: {got} messages in the target, {corpus['messages']} expected")
                r = {"wall_s": round(wall, 3), "client_cpu_s": round(cpu, 3), "target_cpu_s": round(target_cpu, 3),
                     "cpu_s": round(cpu + target_cpu, 3), "source_cpu_s": round(src_cpu, 3),
                     "messages_per_s": round(got / wall, 1),
                     # the machine's 1-minute load average before and after this copy (others' work
                     # and ours: a copy's own threads count in the second figure)
                     "started": started, "load_1m_before": load_before, "load_1m_after": loadavg()}
                runs[side.name].append(r)
                log(f"rep {rep + 1} {side.name}: {r}")
        summary = {}
        for name, rs in runs.items():
            summary[name] = {k: round(median([r[k] for r in rs]), 3) for k in rs[0] if k != "started"}
        a, m = summary["ardoise"], summary["mbsync"]
        doc = {
            "kind": "r9-migrate", "mode": "quick" if args.quick else "full", "machine": machine(),
            "corpus": corpus, "reps": reps,
            "versions": {s.name: s.version() for s in sides} | {"dovecot": servers.run("dovecot", "--version").stdout.strip()},
            "runs": runs, "median": summary,
            "ratios": {
                "wall_mbsync_over_ardoise": round(m["wall_s"] / a["wall_s"], 2),
                "cpu_mbsync_over_ardoise": round(m["cpu_s"] / a["cpu_s"], 2),
            },
        }
        print(json.dumps(doc, indent=1))
        save(doc, "r9", log)
    finally:
        for s in sides:
            if isinstance(s, MbsyncSide):
                s.target.stop(remove=not args.keep)
        source.stop(remove=not args.keep)
        if args.keep:
            log(f"kept {work}, {source.root}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
