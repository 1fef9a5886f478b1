"""R5 with hygiene on: inbound SMTP into mailboxes through spam scoring, virus scanning and a
ten-rule Sieve script per recipient, Ardoise against the reference stack from Debian.

Three sides, same accounts, same corpus (smtp-source, as R5), same run, cells interleaved:

- `ardoise`: Ardoise with hygiene off (`[hygiene] enabled = false`, no clamd, no Sieve), the
  baseline the cost of hygiene is measured against;
- `ardoise+hygiene`: the built-in scorer, clamd (INSTREAM of every message) and the ten-rule
  Sieve script of bench/hygiene/rules.sieve for every recipient (put over ManageSieve);
- `postfix+rspamd+dovecot`: Postfix with rspamd as its milter (`milter_protocol = 6`, rspamd's
  proxy worker in milter mode in front of its normal worker; rspamd's antivirus module asks the
  same clamd for the whole message), delivering through Dovecot LMTP with Pigeonhole Sieve
  running the same script.

One clamd (Debian's clamav-daemon, a private config and a two-signature .ndb database, no
freshclam) serves both hygiene sides; its CPU is counted on the side being measured (cells run
one after the other). rspamd runs without network (the modules that would ask DNS, Redis or a
download are off, as in tests/e2e/test_rspamd.py); the built-in scorer needs none.

    python3 -m bench.r5_hygiene --binary target/release/ardoise [--quick] [--reps N] [--keep]
    python3 -m bench.r5_hygiene --binary B --breakdown   # Ardoise alone, hygiene's parts one by one
    python3 -m bench.r5_hygiene --binary B --breakdown --size 76800   # the same at 75 KiB
    python3 -m bench.r5_hygiene --binary B --breakdown --trained 25   # and hygiene with a trained classifier

Needs root. Prints one JSON document and writes bench/out/latest-r5-hygiene-<mode>.json; never
asserts a time. Benchmarks are not part of the test suite.
"""

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .harness import r5, servers
from .harness.main import machine

HERE = Path(__file__).resolve().parent
RULES = (HERE / "hygiene" / "rules.sieve").read_text()
EICAR_HEX = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode().hex()
POSTFIX_PORT = 2727
# rspamd modules that reach the network (same list as tests/e2e/test_rspamd.py)
RSPAMD_OFF = ("rbl surbl spf dkim dmarc arc asn emails mx_check fuzzy_check phishing multimap rspamd_update "
              "url_redirector greylist ratelimit reputation neural history_redis dcc p0f hfilter replies "
              "dkim_signing arc_signing bimi clickhouse elastic metadata_exporter").split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, what: str, proc=None, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                break
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up on port {port}")


class Clamd:
    def __init__(self, work: str):
        self.root = os.path.join(work, "clamd")
        self.port = free_port()
        self.proc = None

    def start(self) -> None:
        db = os.path.join(self.root, "db")
        os.makedirs(db, exist_ok=True)
        with open(os.path.join(db, "bench.ndb"), "w") as f:
            f.write(f"Bench.EICAR:0:*:{EICAR_HEX}\nBench.Custom:0:*:{'ARDOISE-BENCH-VIRUS'.encode().hex()}\n")
        conf = os.path.join(self.root, "clamd.conf")
        with open(conf, "w") as f:
            f.write(f"Foreground yes\nDatabaseDirectory {db}\nTCPSocket {self.port}\nTCPAddr 127.0.0.1\n"
                    f"LogFile {self.root}/clamd.log\nPidFile {self.root}/clamd.pid\n")
        self.proc = subprocess.Popen(["clamd", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_port(self.port, "clamd", self.proc)

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(20)


class Rspamd:
    """Debian's rspamd from a private folder: normal worker + proxy worker in milter mode."""

    def __init__(self, work: str, clamd_port: int):
        self.root = os.path.join(work, "rspamd")
        self.normal, self.milter = free_port(), free_port()
        self.clamd_port = clamd_port
        self.proc = None

    def start(self) -> None:
        r = self.root
        for d in ("db", "run", "log", "local.d"):
            os.makedirs(os.path.join(r, d), exist_ok=True)
        with open(os.path.join(r, "rspamd.conf"), "w") as f:
            f.write(f"""
.include "$CONFDIR/common.conf"
options {{
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    dns {{ nameserver = ["127.0.0.1:1"]; timeout = 0.2s; retransmits = 1; }}
}}
logging {{ type = "file"; filename = "$LOGDIR/rspamd.log"; level = "notice"; }}
worker "normal" {{ bind_socket = "127.0.0.1:{self.normal}"; mime = true; }}
worker "rspamd_proxy" {{
    bind_socket = "127.0.0.1:{self.milter}";
    # Debian's worker-proxy.inc, with our normal worker as the upstream
    milter = yes;
    timeout = 120s;
    upstream "local" {{ default = yes; hosts = "127.0.0.1:{self.normal}"; }}
    count = 1;
    max_retries = 5;
    discard_on_reject = false;
    quarantine_on_reject = false;
    spam_header = "X-Spam";
    reject_message = "Spam message rejected";
}}
""")
        local = os.path.join(r, "local.d")
        for m in RSPAMD_OFF:
            with open(os.path.join(local, f"{m}.conf"), "w") as f:
                f.write("enabled = false;\n")
        with open(os.path.join(local, "antivirus.conf"), "w") as f:
            # the whole message, as Ardoise sends it (one INSTREAM per message)
            f.write(f'clamav {{ type = "clamav"; action = "reject"; symbol = "CLAM_VIRUS"; '
                    f'scan_mime_parts = false; servers = "127.0.0.1:{self.clamd_port}"; }}\n')
        args = ["rspamd", "-f", "-i", "-c", os.path.join(r, "rspamd.conf")]
        for k, v in {"CONFDIR": "/etc/rspamd", "LOCAL_CONFDIR": r, "DBDIR": f"{r}/db", "RUNDIR": f"{r}/run",
                     "LOGDIR": f"{r}/log"}.items():
            args += ["--var", f"{k}={v}"]
        self.proc = subprocess.Popen(args, stdout=open(os.path.join(r, "stdout.log"), "wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_port(self.normal, "rspamd", self.proc)
        wait_port(self.milter, "rspamd proxy", self.proc)
        # the first scan compiles rspamd's regular expressions: not part of any measure
        for _ in range(3):
            subprocess.run(["curl", "-s", "-o", "/dev/null", "--data-binary", "Subject: x\r\n\r\nx\r\n",
                            f"http://127.0.0.1:{self.normal}/checkv2"], check=False)

    def stop(self) -> None:
        if self.proc:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)


# Two Ardoise instances run side by side: IMAP on ephemeral ports (the R5 config leaves IMAP's
# defaults, 0.0.0.0:143 and 993, which only one of them could take).
IMAP_EPHEMERAL = '[imap]\nlisten = ["127.0.0.1:0"]\nlisten_tls = ["127.0.0.1:0"]\n'


class ArdoiseHygiene(servers.Ardoise):
    """Ardoise with the built-in scorer and, by default, the Sieve script and clamd (`--breakdown`
    leaves them out one at a time)."""

    def __init__(self, work: str, binary: str, users: list[str], clamd: "Clamd | None", sieve: bool = True,
                 name: str = "ardoise+hygiene", sub: str = "hyg", trained: int = 0):
        super().__init__(os.path.join(work, sub), binary, users)
        self.clamd, self.sieve, self.name, self.trained = clamd, sieve, name, trained
        self.label = name

    def setup(self) -> None:
        super().setup()
        with open(self.conf, "a") as f:
            f.write(f"{IMAP_EPHEMERAL}[hygiene]\nenabled = true\n")
            if self.clamd:
                f.write(f'clamd = "tcp:127.0.0.1:{self.clamd.port}"\n')
            if self.sieve:
                f.write('[managesieve]\nlisten = ["127.0.0.1:0"]\nallow_plaintext_loopback = true\n')

    def start(self) -> None:
        super().start()
        listeners = json.load(open(os.path.join(self.data, "listeners.json")))
        if self.trained:
            train(int(listeners["imap"].rsplit(":", 1)[1]), self.users, self.trained, self.db)
        if not self.sieve:
            return
        port = int(listeners["managesieve"].rsplit(":", 1)[1])
        for u in self.users:
            put_script(port, u, servers.PASSWORD, RULES)

    def roots(self) -> list[int]:
        return super().roots() + ([self.clamd.proc.pid] if self.clamd and self.clamd.proc else [])


class ArdoisePlain(servers.Ardoise):
    def setup(self) -> None:
        super().setup()
        with open(self.conf, "a") as f:
            f.write(f"{IMAP_EPHEMERAL}[hygiene]\nenabled = false\n")


SPAM_WORDS = ("gratuit offre exceptionnelle gagnez argent cliquez ici urgent promotion casino loterie crédit "
              "free money winner prize click now limited offer viagra bitcoin investissement rendement").split()
HAM_WORDS = ("conseil classe réunion élèves parents bulletin trimestre emploi temps salle professeur principal "
             "inspection académie rectorat circulaire sortie pédagogique cantine absence devoir").split()


def train(port: int, users: list[str], n: int, db) -> None:
    """Trains the classifier as its owners do (issue 20): for every user, `n` messages moved into
    Indésirables (spam) and `n` moved out of it into the Inbox (good mail) over IMAP, each message
    different; then waits until the platform's model has counted them all. Good mail carries lines
    like the benchmark's own body, so that the models know some of its tokens."""
    import imaplib
    import random
    import ssl
    rnd = random.Random(20)
    for u in users:
        c = imaplib.IMAP4("127.0.0.1", port)
        c.starttls(ssl._create_unverified_context())  # the bench server's self-signed certificate
        c.login(u, servers.PASSWORD)
        junk = next(line.decode().rsplit(" ", 1)[1] for line in c.list()[1] if b"\\Junk" in line)

        def put(folder: str, kind: str, i: int) -> None:
            words = SPAM_WORDS if kind == "spam" else HAM_WORDS
            text = " ".join(rnd.choice(words) for _ in range(120))
            if kind == "ham":
                text += "\r\n" + "".join(f"{k % 10}{'X' * 78}\r\n" for k in range(rnd.randint(5, 40)))
            raw = (f"From: {kind}{i}@{'promo.example.com' if kind == 'spam' else 'ac-test.fr'}\r\nTo: {u}\r\n"
                   f"Subject: {kind} {i} {rnd.choice(words)}\r\nMessage-ID: <{kind}.{i}.{u}>\r\n\r\n{text}\r\n")
            c.append(folder, None, None, raw.encode())

        for i in range(n):
            put("INBOX", "spam", i)
            put(junk, "ham", i)
        for source, target, kind in (("INBOX", junk, "spam"), (junk, "INBOX", "ham")):
            c.select(source)
            _, found = c.uid("SEARCH", None, "SUBJECT", kind)
            uids = b",".join(found[0].split())
            if uids:
                c.uid("MOVE", uids.decode(), target)
        c.logout()
    want = n * len(users)
    deadline = time.time() + 300
    while time.time() < deadline:
        row = db.execute("SELECT spam, ham FROM bayes_totals WHERE account = 0").fetchone()
        if row and row[0] >= want and row[1] >= want:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the classifier did not count {want} spam and {want} good messages in 5 minutes")


def put_script(port: int, user: str, password: str, script: str) -> None:
    """PUTSCRIPT + SETACTIVE over ManageSieve (RFC 5804), SASL PLAIN on loopback."""
    with socket.create_connection(("127.0.0.1", port), 10) as s:
        f = s.makefile("rb")

        def until_ok() -> None:
            while True:
                line = f.readline()
                if not line:
                    raise RuntimeError("ManageSieve closed the connection")
                if line.startswith(b"OK"):
                    return
                if line.startswith((b"NO", b"BYE")):
                    raise RuntimeError(f"ManageSieve: {line!r}")

        until_ok()
        plain = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        s.sendall(f'AUTHENTICATE "PLAIN" "{plain}"\r\n'.encode())
        until_ok()
        body = script.encode()
        s.sendall(f'PUTSCRIPT "bench" {{{len(body)}+}}\r\n'.encode() + body + b"\r\n")
        until_ok()
        s.sendall(b'SETACTIVE "bench"\r\n')
        until_ok()
        s.sendall(b"LOGOUT\r\n")


class Reference(servers.PostfixDovecot):
    name = "postfix+rspamd+dovecot"
    label = "Postfix + rspamd + clamd + Dovecot LMTP + Pigeonhole"

    def __init__(self, work: str, users: list[str], clamd: Clamd):
        super().__init__(os.path.join(work, "refh"), users, smtp_port=POSTFIX_PORT)
        self.clamd = clamd
        self.rspamd = Rspamd(self.root, clamd.port)

    def setup(self) -> None:
        super().setup()
        with open(os.path.join(self.pf_conf, "main.cf"), "a") as f:
            f.write(f"smtpd_milters = inet:127.0.0.1:{self.rspamd.milter}\nnon_smtpd_milters = $smtpd_milters\n"
                    "milter_protocol = 6\nmilter_default_action = tempfail\n"
                    "milter_mail_macros = i {mail_addr} {client_addr} {client_name} {auth_authen}\n")
        with open(self.dc_conf, "a") as f:
            f.write("protocol lmtp {\n  mail_plugins = $mail_plugins sieve\n}\n"
                    "plugin {\n  sieve = file:~/sieve;active=~/.dovecot.sieve\n}\n")
        for u in self.users:
            home = os.path.join(self.mail, self.domain, u.split("@")[0])
            os.makedirs(home, exist_ok=True)
            script = os.path.join(home, ".dovecot.sieve")
            with open(script, "w") as f:
                f.write(RULES)
            subprocess.run(["sievec", script], check=True, capture_output=True)
            for p in (home, script, script.replace(".sieve", ".svbin")):
                shutil.chown(p, "nobody", "nogroup")
        os.makedirs(self.rspamd.root, exist_ok=True)

    def start(self) -> None:
        self.rspamd.start()
        super().start()

    def roots(self) -> list[int]:
        extra = [p.pid for p in (self.rspamd.proc, self.clamd.proc) if p]
        return super().roots() + extra

    def version(self) -> str:
        rv = subprocess.run(["rspamd", "--version"], capture_output=True, text=True).stdout.strip().split()[-1]
        cv = subprocess.run(["clamd", "--version"], capture_output=True, text=True).stdout.strip()
        return f"{super().version()}, rspamd {rv}, {cv}"

    def stop(self) -> None:
        super().stop()
        self.rspamd.stop()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--reps", type=int)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--breakdown", action="store_true",
                   help="Ardoise alone: hygiene off, scorer, scorer + Sieve, scorer + Sieve + clamd (5 KiB cells "
                        "unless --size)")
    p.add_argument("--size", type=int, choices=[5120, 76800], help="only the cells of this message size")
    p.add_argument("--trained", type=int, default=0, metavar="N",
                   help="train the classifier first: N spam and N good messages per user, over IMAP (default: "
                        "untrained, so its per-message token counts query is not paid)")
    args = p.parse_args()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    # Debian packages of the reference and of clamd; bench/run installs postfix and dovecot-lmtpd
    needed = {"rspamd": "rspamd", "clamd": "clamav-daemon", "sievec": "dovecot-sieve", "postfix": "postfix",
              "smtp-source": "postfix", "dovecot": "dovecot-lmtpd", "curl": "curl"}
    missing = sorted({pkg for tool, pkg in needed.items() if shutil.which(tool) is None})
    if missing:
        raise SystemExit(f"missing: apt-get install -y --no-install-recommends {' '.join(missing)}")
    reps = args.reps or (1 if args.quick else 3)
    if args.quick:
        cells = [(5120, 1, 60), (5120, 20, 200)]
    else:
        cells = [(5120, 1, 400), (5120, 20, 1500), (76800, 1, 200), (76800, 20, 800)]
    if args.size or args.breakdown:
        cells = [c for c in cells if c[0] == (args.size or 5120)]
    users = servers.accounts(20)
    work = tempfile.mkdtemp(prefix="ardoise-bench-hyg-", dir="/var/tmp")
    # postfix and nobody traverse it to reach their queue and mail folders
    os.chmod(work, 0o755)
    for sub in ("hyg", "refh", "scorer", "sieve", "trained"):
        os.makedirs(os.path.join(work, sub), mode=0o755)
    clamd = Clamd(work)
    if args.breakdown:
        sides = [ArdoisePlain(work, args.binary, users),
                 ArdoiseHygiene(work, args.binary, users, None, sieve=False, name="ardoise+scorer", sub="scorer"),
                 ArdoiseHygiene(work, args.binary, users, None, name="ardoise+scorer+sieve", sub="sieve"),
                 ArdoiseHygiene(work, args.binary, users, clamd)]
        if args.trained:  # the same with a trained classifier, interleaved with the others
            sides.append(ArdoiseHygiene(work, args.binary, users, clamd, name="ardoise+hygiene+trained",
                                        sub="trained", trained=args.trained))
    else:
        sides = [ArdoisePlain(work, args.binary, users),
                 ArdoiseHygiene(work, args.binary, users, clamd, trained=args.trained),
                 Reference(work, users, clamd)]
    doc = None
    try:
        clamd.start()
        for s in sides:
            s.setup()
            s.start()
            log(f"{s.name}: up, smtp on 127.0.0.1:{s.smtp_port}")
        results = r5.run(sides, users, cells, reps, log)
        doc = {
            "workload": "R5-hygiene-breakdown" if args.breakdown else "R5-hygiene", "mode": "quick" if args.quick else "full", "reps": reps,
            "machine": machine(), "versions": {s.name: s.version() for s in sides},
            "commit": os.environ.get("ARDOISE_COMMIT") or subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout.strip(),
            "binary": args.binary, "trained_per_user": args.trained, "cells": results,
        }
    finally:
        for s in sides:
            s.stop()
        clamd.stop()
        if args.keep:
            log(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    kind = "r5-hygiene-breakdown" if args.breakdown else "r5-hygiene"
    path = out / f"latest-{kind}-{doc['mode']}.json"
    path.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc, indent=1))
    log(f"written {path}")


if __name__ == "__main__":
    main()
