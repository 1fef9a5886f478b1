"""R6: outbound relay of 20,000 messages to Debian's `smtp-sink`, Ardoise against Postfix.

Both sides accept the messages from the same injector (Python's smtplib, one process per
lane, STARTTLS on both; AUTH PLAIN on Ardoise's submission port, which refuses to relay
otherwise, and relay from mynetworks on Postfix, which needs no login) and relay every
message to their own `smtp-sink` on a loopback port. Both queues are durable (Ardoise's
queue and blobs are fsync'd before 250; Postfix's queue files are fsync'd by default).
Ardoise also DKIM-signs every message (RSA 2048, its default for a local domain); Postfix
signs nothing. Neither is offered STARTTLS by the sink.

Drain time = from the first connection of the injector to the moment the sink has counted
every message (`smtp-sink -c` prints a running `mesg=` counter, polled every 50 ms). The
time to accept everything is reported too. Repetitions alternate Ardoise, Postfix, Ardoise,
... so that drift on a shared machine hits both alike; the median is reported.

    python3 -m bench.r6 --binary target/release/ardoise [--messages 20000] [--reps 3] [--quick]

Needs root (runs Postfix from a private config directory). Prints one JSON document and
writes it to bench/out/latest-r6-<mode>.json; never asserts a time. `bench/run` runs it
after the other workloads when no `--only` is given.
"""

import argparse
import json
import os
import re
import shutil
import smtplib
import ssl
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .harness import procmon
from .harness.servers import chroot_files

DOMAIN = "ac-bench.fr"
SENDER = f"expediteur@{DOMAIN}"
PASSWORD = "Bench-Ardoise-2026"
EXTERNAL = "partenaire.example"
PER_CONNECTION = 100
POSTFIX_PORT = 2627


def message(i: int, size: int) -> bytes:
    head = (f"From: <{SENDER}>\r\nTo: <dest{i % 100}@{EXTERNAL}>\r\nSubject: Convocation {i}\r\n"
            f"Message-ID: <r6-{i}-{time.time_ns()}@{DOMAIN}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n").encode()
    line = "Vous êtes convoqué(e) à la réunion de bassin du jeudi 3 décembre.\r\n".encode()
    return head + (line * (size // len(line) + 1))[: max(0, size - len(head))]


def lane(port: int, login: bool, first: int, count: int, size: int) -> int:
    """Sends messages first..first+count over STARTTLS sessions of PER_CONNECTION messages."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sent, i = 0, first
    while sent < count:
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as s:
            s.ehlo("injecteur.example")
            s.starttls(context=ctx)
            s.ehlo("injecteur.example")
            if login:
                s.login(SENDER, PASSWORD)
            for _ in range(min(PER_CONNECTION, count - sent)):
                refused = s.sendmail(SENDER, [f"dest{i % 100}@{EXTERNAL}"], message(i, size))
                if refused:
                    raise RuntimeError(f"refused: {refused}")
                i += 1
                sent += 1
    return sent


class Sink:
    """`smtp-sink -c` on a loopback port; `count()` reads its running message counter."""

    def __init__(self, root: Path, port: int):
        self.out = root / f"sink-{port}.out"
        self.proc = subprocess.Popen(["smtp-sink", "-c", "-u", "nobody", f"127.0.0.1:{port}", "1024"],
                                     stdout=open(self.out, "wb"), stderr=subprocess.STDOUT)
        self.port = port

    def count(self) -> int:
        with open(self.out, "rb") as f:
            f.seek(max(0, os.path.getsize(self.out) - 200))
            found = re.findall(rb"mesg=(\d+)", f.read())
        return int(found[-1]) if found else 0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ardoise:
    name, login = "ardoise", True

    def __init__(self, root: Path, binary: str, sink: int):
        self.root, self.bin, self.proc = root / "ardoise", binary, None
        self.root.mkdir()
        self.conf = self.root / "ardoise.toml"
        self.conf.write_text(
            f'[server]\nhostname = "mx.{DOMAIN}"\ndata_dir = "{self.root / "data"}"\n\n'
            # 20 lanes from one address: above the default per-address cap (issue 25), as in R5.
            '[smtp]\nlisten = []\nmax_connections_per_ip = 1000\n\n[imap]\nlisten = []\nlisten_tls = []\n\n[web]\nlisten = []\n\n'
            '[submission]\nlisten = ["127.0.0.1:0"]\nlisten_tls = []\n'
            "max_messages_per_hour = 10000000\nmax_recipients_per_hour = 100000000\n\n"
            f'[outbound]\nmx_override = ["*=127.0.0.1:{sink}"]\n\n[log]\nlevel = "warn"\n')
        self.admin("domain", "add", DOMAIN)
        subprocess.run([binary, "admin", "--config", str(self.conf), "account", "create", SENDER, "--name",
                        "Expéditeur", "--password-stdin"], input=PASSWORD + "\n", text=True, check=True,
                       capture_output=True)

    def admin(self, *args) -> str:
        return subprocess.run([self.bin, "admin", "--config", str(self.conf), *args], check=True,
                              capture_output=True, text=True).stdout

    def start(self) -> None:
        self.proc = subprocess.Popen([self.bin, "serve", "--config", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=open(self.root / "server.log", "wb"))
        listeners = self.root / "data" / "listeners.json"
        deadline = time.time() + 60
        while not listeners.exists():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError((self.root / "server.log").read_text())
            time.sleep(0.1)
        self.port = int(json.loads(listeners.read_text())["submission"].rsplit(":", 1)[1])

    def roots(self) -> list[int]:
        return [self.proc.pid] if self.proc else []

    def version(self) -> str:
        return subprocess.run([self.bin, "--version"], capture_output=True, text=True).stdout.strip()

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(30)


POSTFIX_MAIN = """\
# Postfix relaying to smtp-sink for the Ardoise benchmark: Debian's defaults except paths,
# the port, TLS on the receiving side, and the relay host. Nothing trades durability for speed.
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = relais.{domain}
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{sink}
smtpd_tls_cert_file = {conf}/cert.pem
smtpd_tls_key_file = {conf}/key.pem
smtpd_tls_security_level = may
biff = no
maillog_file = {log}/postfix.log
"""


class Postfix:
    name, login = "postfix", False

    def __init__(self, root: Path, sink: int):
        self.root = root / "postfix"
        self.conf, self.queue = self.root / "etc", self.root / "queue"
        self.log, data = self.root / "log", self.root / "data"
        for d in (self.conf, self.queue, self.log, data):
            d.mkdir(parents=True)
        for d in (root, self.root, self.log):
            os.chmod(d, 0o755)
        shutil.chown(data, "postfix", "postfix")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        f"/CN=relais.{DOMAIN}", "-keyout", str(self.conf / "key.pem"), "-out",
                        str(self.conf / "cert.pem")], check=True, capture_output=True)
        (self.conf / "main.cf").write_text(POSTFIX_MAIN.format(queue=self.queue, data=data, domain=DOMAIN,
                                                               sink=sink, conf=self.conf, log=self.log))
        master = Path("/etc/postfix/master.cf").read_text()
        line = "\nsmtp      inet  n       -       y       -       -       smtpd"
        if line not in master:
            raise RuntimeError("unexpected /etc/postfix/master.cf: no default smtp inet line")
        (self.conf / "master.cf").write_text(
            master.replace(line, f"\n127.0.0.1:{POSTFIX_PORT} inet  n       -       y       -       -       smtpd", 1))
        chroot_files(str(self.queue))
        self.port = POSTFIX_PORT

    def start(self) -> None:
        with open(self.log / "start.log", "a") as out:
            for cmd in (["postfix", "-c", str(self.conf), "check"], ["postfix", "-c", str(self.conf), "start"]):
                subprocess.run(cmd, check=True, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        procmon.wait_for(self._open, 30, 0.05)

    def _open(self) -> bool:
        import socket
        try:
            socket.create_connection(("127.0.0.1", self.port), 1).close()
            return True
        except OSError:
            return False

    def roots(self) -> list[int]:
        try:
            return [int((self.queue / "pid" / "master.pid").read_text().split()[0])]
        except (OSError, ValueError, IndexError):
            return []

    def version(self) -> str:
        return "Postfix " + subprocess.run(["postconf", "-h", "mail_version"], capture_output=True,
                                           text=True).stdout.strip()

    def stop(self) -> None:
        subprocess.run(["postfix", "-c", str(self.conf), "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)


def inject(side, sink: Sink, first: int, n: int, size: int, lanes: int, timeout: float) -> dict:
    base = sink.count()
    shares = [n // lanes + (1 if i < n % lanes else 0) for i in range(lanes)]
    starts = [first + sum(shares[:i]) for i in range(lanes)]
    cpu0 = procmon.cpu_seconds(side.roots())
    with procmon.MemSampler(side.roots) as mem, ProcessPoolExecutor(lanes) as pool:
        t0 = time.monotonic()
        futures = [pool.submit(lane, side.port, side.login, s, k, size) for s, k in zip(starts, shares) if k]
        sent = sum(f.result() for f in futures)
        t_accepted = time.monotonic()
        t_done = procmon.wait_for(lambda: sink.count() - base >= n, timeout, 0.05)
    cpu = procmon.cpu_seconds(side.roots()) - cpu0
    return {
        "messages": n, "accepted": sent, "relayed": sink.count() - base,
        "drain_seconds": round(t_done - t0, 2), "accepted_seconds": round(t_accepted - t0, 2),
        "messages_per_second": round(n / (t_done - t0), 1),
        "cpu_seconds": round(cpu, 2), "cpu_seconds_per_1000": round(cpu * 1000 / n, 3),
        "peak_pss_kib": mem.peak_pss, "loadavg_1min": round(os.getloadavg()[0], 2),
    }


def median(reps: list[dict]) -> dict:
    out = {k: statistics.median(r[k] for r in reps) for k in
           ("drain_seconds", "accepted_seconds", "messages_per_second", "cpu_seconds_per_1000", "peak_pss_kib")}
    out["repetitions"] = reps
    return out


def plot(doc: dict, path: Path) -> None:
    """Drain time of each repetition, both sides (bench/plots/r6-outbound.png)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for i, (side, colour) in enumerate((("ardoise", "#000091"), ("postfix", "#e1000f"))):
        reps = doc[side]["repetitions"]
        xs = [r + i * 0.38 for r in range(len(reps))]
        ax.bar(xs, [r["drain_seconds"] for r in reps], width=0.36, color=colour, label=doc["versions"][side])
        ax.bar(xs, [r["accepted_seconds"] for r in reps], width=0.36, color="white", alpha=0.35, hatch="//")
    ax.set_xticks([r + 0.19 for r in range(doc["reps"])], [f"rep {r + 1}" for r in range(doc["reps"])])
    ax.set_ylabel("seconds (hatched: all accepted)")
    ax.set_title(f"R6: {doc['messages']:,} messages relayed to smtp-sink (lower is better)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary")
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--size", type=int, default=5_000)
    ap.add_argument("--lanes", type=int, default=20)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 repetition of 500 messages: a smoke check")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--plot", metavar="JSON", help="only draw bench/plots/r6-outbound.png from a result file")
    args = ap.parse_args()
    plots = Path(__file__).resolve().parent / "plots"
    if args.plot:
        plot(json.loads(Path(args.plot).read_text()), plots / "r6-outbound.png")
        return
    if not args.binary:
        ap.error("--binary is required")
    if args.quick:
        args.messages, args.reps = 500, 1
    for tool in ("smtp-sink", "postfix", "openssl"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing (bench/run installs Debian's postfix)")

    root = Path(tempfile.mkdtemp(prefix="ardoise-r6-", dir="/var/tmp"))
    ours_port, ref_port = free_port(), free_port()
    sinks = {"ardoise": Sink(root, ours_port), "postfix": Sink(root, ref_port)}
    sides = [Ardoise(root, args.binary, ours_port), Postfix(root, ref_port)]
    results: dict[str, list[dict]] = {s.name: [] for s in sides}
    try:
        for s in sides:
            s.start()
        # Warm-up (unmeasured): TLS keys, DKIM key, caches, Postfix's daemons.
        for s in sides:
            inject(s, sinks[s.name], 10_000_000, 100, args.size, min(args.lanes, 5), 300)
        for rep in range(args.reps):
            for s in sides:
                r = inject(s, sinks[s.name], rep * args.messages, args.messages, args.size, args.lanes, 1800)
                results[s.name].append(r)
                print(f"R6 {s.name} rep {rep + 1}: {r['drain_seconds']} s", file=__import__("sys").stderr)
        ours, ref = median(results["ardoise"]), median(results["postfix"])
        doc = {
            "workload": "R6 outbound relay to smtp-sink",
            "messages": args.messages, "message_bytes": args.size, "lanes": args.lanes, "reps": args.reps,
            "versions": {s.name: s.version() for s in sides},
            "ardoise": ours, "postfix": ref,
            "drain_ratio_postfix_over_ardoise": round(ref["drain_seconds"] / ours["drain_seconds"], 2),
            "target": "Ardoise's drain time <= Postfix's (ratio >= 1)",
        }
        doc["mode"] = "quick" if args.quick else "full"
        doc["date"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        out = Path(__file__).resolve().parent / "out"
        out.mkdir(exist_ok=True)
        (out / f"latest-r6-{doc['mode']}.json").write_text(json.dumps(doc, indent=1))
        if not args.quick:
            plot(doc, plots / "r6-outbound.png")
        print(json.dumps(doc, indent=1))
    finally:
        for s in sides:
            s.stop()
        for k in sinks.values():
            k.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
