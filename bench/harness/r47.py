"""R4 (idle connections in IDLE) and R7 (large mailbox: load/indexing, SELECT + UID FETCH 1:*,
UID SEARCH TEXT), Ardoise against Dovecot imapd, driven by imapload (`idle`, `bigbox`,
`fetchall`, `search`).

Both sides: the same accounts with the same argon2id hashes (as R1-R3), durable writes
(Ardoise: fsync + SQLite synchronous=FULL; Dovecot: mail_fsync = always, Maildir), and the
same data (R7: the same seeded French corpus APPENDed to both with LITERAL+ pipelining).

- R4: N connections over 100 accounts, implicit TLS on both sides (Ardoise's self-signed
  certificate; Dovecot's `ssl = yes` with a self-signed certificate made here), LOGIN, SELECT
  INBOX, IDLE. Memory = PSS of the server's whole process tree (procmon), sampled before the
  first connection, after N/2 and after N; then 5 rounds in which 1% of the mailboxes get one
  APPEND each from another connection, timing `* N EXISTS` on every IDLE connection of those
  mailboxes. Limits raised on both sides so that N fits: Ardoise's `max_connections`,
  `max_connections_per_ip`, `max_connections_per_user`; Dovecot's `process_limit` of
  imap-login and imap, `default_client_limit`, `mail_max_userip_connections`, and the kernel's fs.inotify.max_user_instances. Dovecot once
  with its defaults otherwise, once with `imap_hibernate_timeout = 5s`.
- R7: one account (`bigbox@ac-test.fr`); Dovecot with the Debian package
  `dovecot-fts-xapian` (`fts = xapian`, `fts_autoindex = yes`, `fts_enforced = yes`), and a
  second SEARCH row with Dovecot's fts plugins off (it then scans the messages).
"""

import json
import os
import resource
import statistics
import subprocess
import time

from . import procmon
from .imap import DOVECOT_IMAP_PORT, ArdoiseImap, DovecotImap
from .servers import DOMAIN, PASSWORD, accounts

BIG_USER = "bigbox@" + DOMAIN
IDLE_ACCOUNTS = 100
IDLE_PATTERN = "agent{n:02}@" + DOMAIN
DOVECOT_TLS_PORT = 1993

DOVECOT_CONF = """\
# Dovecot imapd for R4/R7: built-in defaults except paths, the accounts (passwd-file with the
# same argon2id hashes as Ardoise), plaintext LOGIN on loopback, mail_fsync = always, TLS on
# {tls_port} (self-signed), and the connection limits raised so that the test's N fits.
instance_name = ardoise-bench-r47
base_dir = {run}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
log_path = {log}/dovecot-imap.log
mail_location = maildir:{mail}/%d/%n/Maildir
mail_fsync = always
default_process_limit = {procs}
default_client_limit = {clients}
{extra}
passdb {{
  driver = passwd-file
  args = {users}
}}
userdb {{
  driver = passwd-file
  args = {users}
}}
service imap-login {{
  process_limit = {procs}
{login_service}  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service imap {{
  process_limit = {procs}
{imap_service}
}}
protocol imap {{
  mail_max_userip_connections = 100000
  mail_plugins = $mail_plugins {plugins}
}}
{plugin}
"""

FTS_PLUGIN = """plugin {
  fts = xapian
  fts_xapian = partial=3 full=20 verbose=0
  fts_autoindex = yes
  fts_enforced = yes
}
"""

HIBERNATE_EXTRA = """imap_hibernate_timeout = 5s
service imap-hibernate {
  unix_listener imap-hibernate {
    mode = 0666
  }
}"""
HIBERNATE_IMAP = """  unix_listener imap-master {
    mode = 0666
  }"""
# imap-login in high-performance mode (Dovecot's documented setting for many connections): a few
# long-lived login processes, each proxying the TLS of many clients, instead of one per client.
HIGH_PERFORMANCE_LOGIN = """  service_count = 0
  process_min_avail = {nproc}
  client_limit = {clients}
  vsz_limit = 2G
"""

# The Dovecot rows of R4: label, settings, and the PSS per connection measured at 2,000
# connections (BENCHMARKS.md, 2026-11-23) or None when unknown. A row whose estimate for N
# connections exceeds half of the machine's available memory is not run (it would push the
# machine into swapping or the OOM killer, and measure that instead); the report says so.
R4_REFERENCE_ROWS = [
    ("Dovecot (defaults)", {}, 1850),
    ("Dovecot, imap_hibernate_timeout = 5s", {"hibernate": True}, 1350),
    ("Dovecot, hibernation + imap-login high-performance (service_count = 0)",
     {"hibernate": True, "high_performance": True}, None),
]


class ArdoiseR47(ArdoiseImap):
    """Ardoise with plain and TLS IMAP listeners on ephemeral loopback ports, connection caps raised."""

    def __init__(self, work, binary, users, max_conns: int):
        super().__init__(work, binary, users)
        self.max_conns = max_conns

    def setup(self) -> None:
        os.makedirs(self.root, exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(
                f'[server]\nhostname = "bench-ardoise.{DOMAIN}"\ndata_dir = "{self.data}"\n'
                f'[smtp]\nlisten = ["127.0.0.1:0"]\n[submission]\nlisten = ["127.0.0.1:0"]\nlisten_tls = ["127.0.0.1:0"]\n'
                f'[imap]\nlisten = ["127.0.0.1:0"]\nlisten_tls = ["127.0.0.1:0"]\nallow_plaintext_loopback = true\n'
                f'max_connections = {self.max_conns}\nmax_connections_per_ip = 1000000\n'
                f'max_connections_per_user = 100000\n[quota]\ndefault = "0"\n'
            )
        from . import servers
        servers.run(self.bin, "admin", "-c", self.conf, "domain", "add", DOMAIN)
        for u in self.users:
            servers.run(self.bin, "admin", "-c", self.conf, "account", "create", u, "--name", u.split("@")[0],
                        "--password-stdin", input=PASSWORD + "\n")

    def start(self) -> None:
        super().start()
        lj = json.load(open(os.path.join(self.data, "listeners.json")))
        self.tls_port = int(lj["imaps"].rsplit(":", 1)[1])


class DovecotR47(DovecotImap):
    def __init__(self, work, users, hashes, max_conns: int):
        super().__init__(work, users, hashes, DOVECOT_IMAP_PORT)
        self.tls_port = DOVECOT_TLS_PORT
        self.procs = max_conns + 100
        self.fts = False
        self.hibernate = False
        self.high_performance = False

    def setup(self) -> None:
        super().setup()
        self.cert, self.key = os.path.join(self.root, "cert.pem"), os.path.join(self.root, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
                        "/CN=localhost", "-keyout", self.key, "-out", self.cert], check=True, capture_output=True)
        self.write_conf()

    def write_conf(self) -> None:
        if not hasattr(self, "cert"):
            return
        with open(self.conf, "w") as f:
            f.write(DOVECOT_CONF.format(
                run=os.path.join(self.root, "run"), log=self.log, mail=self.mail, cert=self.cert, key=self.key,
                users=os.path.join(self.root, "users"), port=self.imap_port, tls_port=self.tls_port,
                procs=self.procs, clients=2 * self.procs + 100,
                extra=HIBERNATE_EXTRA if self.hibernate else "",
                imap_service=HIBERNATE_IMAP if self.hibernate else "",
                login_service=HIGH_PERFORMANCE_LOGIN.format(nproc=os.cpu_count() or 2, clients=2 * self.procs + 100)
                if self.high_performance else "",
                plugins="fts fts_xapian" if self.fts else "", plugin=FTS_PLUGIN if self.fts else ""))

    def reconfigure(self, fts: bool = False, hibernate: bool = False, high_performance: bool = False) -> None:
        self.stop()
        self.fts, self.hibernate, self.high_performance = fts, hibernate, high_performance
        self.write_conf()
        self.start()


def imapload(binary: str, port: int, workload: str, user: str, n_accounts: int, extra: list[str],
             timeout: float = 7200) -> dict:
    cmd = [binary, workload, "--addr", f"127.0.0.1:{port}", "--user", user, "--accounts", str(n_accounts),
           "--seed", "2026", *extra]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, "IMAPLOAD_PASSWORD": PASSWORD})
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr.strip()[-800:]}")
    r = json.loads(p.stdout)
    r["command"] = " ".join(cmd)
    return r


def measured(side, fn):
    """Runs fn() and adds the server's CPU seconds and peak PSS/RSS over the run."""
    cpu0 = procmon.cpu_seconds(side.roots())
    with procmon.MemSampler(side.roots, period=1.0) as mem:
        r = fn()
    r["cpu_seconds"] = round(procmon.cpu_seconds(side.roots()) - cpu0, 3)
    r["peak_pss_kib"], r["peak_rss_kib"] = mem.peak_pss, mem.peak_rss
    r["loadavg_1min"] = round(os.getloadavg()[0], 2)
    return r


def mem_now(side) -> dict:
    m = procmon.MemSampler(side.roots)
    m.sample()
    return {"pss_kib": m.peak_pss, "rss_kib": m.peak_rss, "processes": m.peak_procs}


def run_r7(sides, imapload_bin: str, messages: int, reps: int, rounds: int, log, ref_append: int) -> dict:
    """Loads both sides, then times FETCH 1:* and SEARCH. Ardoise gets every message by APPEND.
    Dovecot gets the first `ref_append` by APPEND (its measured load and indexing rate), the
    rest as Maildir files (`imapload maildir`, the same messages, flags and dates) indexed with
    `doveadm index` (timed on its own): APPENDing 100,000 messages to Dovecot with fts-xapian
    and mail_fsync = always takes 40-65 minutes here."""
    ours, ref = sides
    out: dict = {"messages": messages, "load": {}, "fetchall": {}, "search": {}}
    for s in sides:
        part = messages if s is ours else min(messages, ref_append)
        log(f"R7 {s.name}: loading {part} messages by APPEND")
        out["load"][s.name] = measured(s, lambda: imapload(
            imapload_bin, s.imap_port, "bigbox", BIG_USER, 1,
            ["--messages", str(part), "--clients", "4", "--window", "32"]))
        r = out["load"][s.name]
        r["messages_per_cpu_second"] = part / max(r["cpu_seconds"], 1e-9)
        log(f"R7 {s.name}: {r['load_per_second']:.0f} msg/s loaded, searchable after "
            f"{r['first_search']['seconds']:.1f} s more, {r['messages_per_cpu_second']:.0f} msg per server CPU-s, "
            f"errors {r['errors']}")
    if ref_append < messages:
        out["bulk"] = {ref.name: bulk_load(ref, imapload_bin, ref_append, messages - ref_append, log)}
    for s in sides:
        out["fetchall"][s.name] = []
        out["search"][s.name] = []
    for rep in range(reps):
        for s in sides:
            r = measured(s, lambda: imapload(imapload_bin, s.imap_port, "fetchall", BIG_USER, 1,
                                             ["--repeat", "1", "--messages", str(messages)]))
            out["fetchall"][s.name].append(r)
            log(f"R7 fetchall rep={rep + 1} {s.name}: {r['median_seconds']:.2f} s, errors {r['errors'][:2]}")
    for rep in range(rounds):
        for s in sides:
            r = measured(s, lambda: imapload(imapload_bin, s.imap_port, "search", BIG_USER, 1, ["--repeat", "1"]))
            out["search"][s.name].append(r)
            log(f"R7 search round={rep + 1} {s.name}: p50 {r['latency']['p50_ms']:.1f} ms, "
                f"p99 {r['latency']['p99_ms']:.1f} ms, errors {r['errors'][:2]}")
    # Dovecot without its fts plugins: SEARCH TEXT scans the messages.
    ref.reconfigure(fts=False)
    r = measured(ref, lambda: imapload(imapload_bin, ref.imap_port, "search", BIG_USER, 1, ["--repeat", "1"]))
    out["search"]["dovecot-scan"] = [r]
    log(f"R7 search dovecot without fts: p50 {r['latency']['p50_ms']:.1f} ms, p99 {r['latency']['p99_ms']:.1f} ms")
    # Indexing alone on our side too, as Dovecot's `doveadm index`: the whole index rebuilt from
    # the stored messages by `ardoise search reindex` (the server stopped, as that command asks).
    ours.stop()
    out.setdefault("bulk", {})[ours.name] = reindex(ours.bin, ours.conf, messages)
    b = out["bulk"][ours.name]
    log(f"R7 {ours.name}: search reindex of {messages} messages: {b['index_seconds']:.1f} s, "
        f"{b['cpu_seconds']:.1f} CPU-s ({b['messages_per_cpu_second']:.0f} msg per CPU-s)")
    return out


def reindex(binary: str, conf: str, messages: int) -> dict:
    """Times `ardoise search reindex` (a from-scratch rebuild of the full-text index from the
    stored messages; the server must be stopped); CPU from the child's rusage."""
    cmd = [binary, "search", "-c", conf, "reindex"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    seconds = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"messages": messages, "command": "ardoise search -c ardoise.toml reindex", "index_seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2), "messages_per_cpu_second": messages / max(cpu, 1e-9),
            "messages_per_second": messages / max(seconds, 1e-9), "output": done.stdout.strip()}


def bulk_load(ref, imapload_bin: str, first: int, count: int, log) -> dict:
    """Dovecot's remaining R7 messages as Maildir files, then `doveadm index` (sync + fts-xapian)."""
    maildir = os.path.join(ref.mail, DOMAIN, BIG_USER.split("@")[0], "Maildir")
    log(f"R7 {ref.name}: writing messages {first}..{first + count} into {maildir}")
    w = imapload(imapload_bin, 0, "maildir", BIG_USER, 1,
                 ["--dir", maildir, "--first", str(first), "--messages", str(count)])
    subprocess.run(["chown", "-R", "nobody:nogroup", maildir], check=True)
    subprocess.run(["sync"], check=True)
    # mail_plugins is set for `protocol imap` only: doveadm needs it given, or it indexes no text.
    cmd = ["doveadm", "-c", ref.conf, "-o", "mail_plugins=fts fts_xapian", "index", "-u", BIG_USER, "INBOX"]
    log(f"R7 {ref.name}: {' '.join(cmd)}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = measured(ref, lambda: {"returncode": subprocess.run(cmd, capture_output=True, text=True).returncode})
    seconds = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    doveadm_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r["returncode"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {r['returncode']}; see {ref.log}")
    cpu = doveadm_cpu + r["cpu_seconds"]
    out = {"messages": count, "first": first, "write_seconds": round(w["seconds"], 2), "command": " ".join(cmd),
           "index_seconds": round(seconds, 2), "doveadm_cpu_seconds": round(doveadm_cpu, 2),
           "server_cpu_seconds": r["cpu_seconds"], "messages_per_cpu_second": count / max(cpu, 1e-9),
           "messages_per_second": count / max(seconds, 1e-9), "loadavg_1min": r["loadavg_1min"]}
    log(f"R7 {ref.name}: doveadm index of {count} messages: {seconds:.0f} s, {cpu:.0f} CPU-s "
        f"({out['messages_per_cpu_second']:.0f} msg per CPU-s)")
    return out


def mem_available_kib() -> int:
    for line in open("/proc/meminfo"):
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


def run_idle(side, label: str, imapload_bin: str, conns: int, rounds: int, settle: float, log) -> dict:
    base = mem_now(side)
    cmd = [imapload_bin, "idle", "--addr", f"127.0.0.1:{side.tls_port}", "--tls", "--user", IDLE_PATTERN,
           "--accounts", str(IDLE_ACCOUNTS), "--clients", str(conns), "--window", "8", "--rounds", str(rounds),
           "--seed", "2026", "--pause"]
    cpu0 = procmon.cpu_seconds(side.roots())
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "IMAPLOAD_PASSWORD": PASSWORD})
    stages = []
    tail = []
    while len(stages) < 2:
        line = p.stderr.readline()
        if not line:
            break
        if line.startswith("imapload: ready"):
            time.sleep(settle)
            m = mem_now(side)
            m["connections"] = int(line.split()[-1])
            stages.append(m)
            log(f"R4 {label}: {m['connections']} connections idle, PSS {m['pss_kib'] / 1024:.0f} MiB, "
                f"{m['processes']} processes")
            p.stdin.write("\n")
            p.stdin.flush()
        else:
            tail.append(line)
    stdout, stderr = p.communicate(timeout=3600)
    if p.returncode != 0 or len(stages) < 2:
        raise RuntimeError(f"imapload idle against {label} failed: {(''.join(tail) + stderr)[-800:]}")
    r = json.loads(stdout)
    half, full = stages
    r.update({
        "label": label, "command": " ".join(cmd), "baseline": base, "half": half, "full": full,
        "cpu_seconds": round(procmon.cpu_seconds(side.roots()) - cpu0, 3),
        "kib_per_connection": (full["pss_kib"] - base["pss_kib"]) / max(1, full["connections"]),
        "marginal_kib_per_connection": (full["pss_kib"] - half["pss_kib"])
        / max(1, full["connections"] - half["connections"]),
        "rss_kib_per_connection": (full["rss_kib"] - base["rss_kib"]) / max(1, full["connections"]),
        "loadavg_1min": round(os.getloadavg()[0], 2),
    })
    log(f"R4 {label}: {r['kib_per_connection']:.1f} KiB/conn (marginal {r['marginal_kib_per_connection']:.1f}), "
        f"EXISTS p50 {r['exists_latency'].get('p50_ms', 0):.1f} ms p99 {r['exists_latency'].get('p99_ms', 0):.1f} ms,"
        f" missed {r['exists_missed']}/{r['exists_expected']}, failed {r['failed']}")
    return r


def run(binary: str, imapload_bin: str, work: str, quick: bool, reps: int, log, only: str | None,
        messages: int | None = None, conns: int | None = None, ref_append: int | None = None) -> dict:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    messages = messages or (5_000 if quick else 100_000)
    conns = conns or (500 if quick else 10_000)
    # Dovecot's IDLE learns of new mail through inotify, one instance per imap process (all running
    # as `nobody`); past the kernel's per-user cap (128 by default) it silently falls back to
    # polling every mailbox_idle_check_interval (30 s). Raise the cap so that the reference is
    # measured working as designed (Ardoise uses no inotify).
    inotify = "/proc/sys/fs/inotify/max_user_instances"
    try:
        if int(open(inotify).read()) < 2 * conns + 1000:
            with open(inotify, "w") as f:
                f.write(str(2 * conns + 1000))
    except OSError as e:
        log(f"could not raise {inotify}: {e}")
    users = accounts(IDLE_ACCOUNTS) + [BIG_USER]
    ours = ArdoiseR47(work, binary, users, conns + 1000)
    ours.setup()
    ours.start()
    ref = DovecotR47(work, users, ours.hashes(), conns)
    ref.setup()
    ref.start()
    sides = [ours, ref]
    log(f"R4/R7: ardoise on 127.0.0.1:{ours.imap_port} (TLS {ours.tls_port}), dovecot on "
        f"127.0.0.1:{ref.imap_port} (TLS {ref.tls_port}); RLIMIT_NOFILE {hard}")
    res: dict = {"versions": {"ardoise": ours.version(), "dovecot": ref.version()}, "reps": reps,
                 "nofile": hard}
    try:
        if only in (None, "r4"):
            rows = []
            # Idle means idle: Dovecot hibernates an imap process after 5 s without a command, Ardoise
            # frees its argon2id buffers 10 s after the last login; memory is sampled 12 s after the
            # last connection of each stage, on every row (the quick smoke check waits 2 s).
            settle = 2.0 if quick else 12.0
            rows.append(run_idle(ours, "Ardoise", imapload_bin, conns, 5, settle, log))
            skipped = []
            for label, settings, kib in R4_REFERENCE_ROWS:
                available = mem_available_kib()
                if kib is not None and kib * conns > 0.5 * available:
                    reason = (f"not run: ~{kib * conns / 2**20:.0f} GiB needed ({kib:,} KiB per connection measured "
                              f"at 2,000), {available / 2**20:.0f} GiB available")
                    log(f"R4 {label}: {reason}")
                    skipped.append({"label": label, "reason": reason})
                    continue
                ref.reconfigure(**settings)
                hib = settings.get("hibernate", False)
                rows.append(run_idle(ref, label, imapload_bin, conns, 5, max(settle, 8.0) if hib else settle, log))
            ref.reconfigure()
            res["r4"] = {"connections": conns, "accounts": IDLE_ACCOUNTS, "rows": rows, "skipped": skipped}
        if only in (None, "r7"):
            ref.reconfigure(fts=True)
            res["r7"] = run_r7(sides, imapload_bin, messages, max(3, reps), 2 if quick else 3, log,
                               ref_append if ref_append is not None else min(messages, 10_000))
    finally:
        for s in sides:
            s.stop()
    return res


def summary(doc: dict) -> dict:
    """Medians used by the report."""
    out = {}
    if "r7" in doc:
        r7 = doc["r7"]
        out["fetchall"] = {n: statistics.median(r["median_seconds"] for r in v) for n, v in r7["fetchall"].items()}
    return out
