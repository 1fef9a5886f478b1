"""Issue 28, capacity: one node against two, on one machine, under 10,000 IDLE connections and a mix.

Ardoise alone (there is no reference server to compare with here: the question is what one node
holds and what a second node on the same PostgreSQL, blob folder and bus changes).

Provisioning, once, into a PostgreSQL database of its own (127.0.0.1:5432, user postgres; dropped at
the end): `ardoise admin domain add`, then `ardoise directory sync` of an HR file of `--accounts` staff
(as an académie creates them: provisional NUMEN passwords, hashed at the light provisional cost).
Every account then gets one ordinary password: one account is created by `ardoise admin account
create --password-stdin` (an argon2id hash at the default cost, 19 MiB, 2 passes), and one SQL UPDATE
copies that hash to every account of the domain and sets them `active` (what a first login with a
password change would leave). Hashing 50,000 passwords at the default cost would take about 40 CPU-
minutes for nothing the load test measures; every login below still verifies that default-cost hash.
The 20+20 accounts of the IMAP mix get 25 messages each (`imapload seed`), 50 webmail accounts 10
messages each (SMTP). That state (database, blob folder, data folder) is the template of every run:
each run starts from a copy (`CREATE DATABASE ... TEMPLATE`), so run A and run B start equal.

Runs, each against a `nats-server` started here on a free port (`[cluster] nats`, in both runs so
that only the node count differs):

- **A**: one node, `ardoise serve` on 127.0.0.2;
- **B**: two nodes, on 127.0.0.2 and 127.0.0.3, sharing the database, the blob folder and the bus, the
  second node's data folder a copy of the first's (its keys; not its search index), as
  tests/e2e/test_cluster.py does.

In each run, from the same clients (processes of this machine, on the same 2 cores as the nodes):

1. **IDLE**: two `imapload idle` processes (accounts `prof.idlea*` and `prof.idleb*`, `--idle`/2
   connections each, one per account, implicit TLS, LOGIN + SELECT INBOX + IDLE, 8 set-ups in flight
   each). Run A: both against the one node; run B: one per node. The nodes' RSS and PSS (procmon) before
   the first connection and 12 s after the last: memory per idle connection = the difference / the
   connections on that node. The set-up rate is a morning-login figure: each set-up is a TLS handshake
   and an argon2id verification (no cache hit: one connection per account).
2. **Mix**, `--seconds` long, the IDLE connections held: per group (a, b; run B: one node each)
   - `imapload mix` (imaptest's default mix, 10 clients over 20 seeded accounts, plain IMAP),
   - `imapload login` (connect, LOGIN, LOGOUT; 2 clients over `prof.login*` accounts; after their first
     round the credential cache answers, as for a client that reconnects),
   - SMTP deliveries: 2 processes, one smtplib session each (50 messages per session), 5 KB messages,
     one recipient each drawn from all accounts but the IMAP mix's (the idle ones included: their IDLE
     sessions get the EXISTS, across nodes in run B),
   - webmail: 2 processes, each signing in as one of 50 accounts (GET + POST `/connexion`, the
     password's argon2id check included), then 10 GETs of `/courrier` (the inbox list), then the next
     account.
   Every client runs as fast as it can (closed loop): the figures are what the machine gives at
   saturation, with the clients taking their share of the 2 cores (their CPU seconds are reported).
   Measured: per kind, operations/s and latency p50/p95/p99; errors; each node's peak RSS/PSS and CPU;
   the CPU of the PostgreSQL backends serving this run's database (found by pg_stat_activity, read from
   /proc: PostgreSQL's background processes are shared and left out) and the database's own counters
   (pg_stat_database: commits, rows read and written); the whole machine's busy CPU (/proc/stat).
3. **Push**: the IDLE processes' rounds (`--rounds`; 1 % of their mailboxes get an APPEND) and the time
   to each `* N EXISTS`.

    python3 -m bench.r28_load --binary B --imapload I [--quick] [--accounts N] [--idle N]
                              [--seconds S] [--runs A,B] [--keep]

`--quick`: 12,000 accounts, 400 IDLE connections, 10 s of mix (under 3 minutes on 2 cores). Prints
one JSON document, writes bench/out/latest-r28-<mode>.json (full mode: bench/results/ too). Not a
test: never asserts a time; exits non-zero if a run could not be made or a client failed outright.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

from .harness import procmon
from .harness.main import machine, save

DOMAIN = "ac-r28.fr"
PASSWORD = "Bench-Ardoise-2026!"
IPS = ["127.0.0.2", "127.0.0.3"]
MIX_ACCOUNTS = 20  # per group
WEB_ACCOUNTS = 50
LOGIN_ACCOUNTS = 500  # per group
PG = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-Atq"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def psql(sql: str, db: str = "postgres") -> str:
    p = subprocess.run(PG + ["-d", db, "-c", sql], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"psql {sql[:80]!r}: {p.stderr.strip()}")
    return p.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- accounts

def people(n: int, idle: int) -> dict:
    """The HR file's rows (numen, nom) by group, and the address each gets (`prof.<nom>`)."""
    half = idle // 2
    groups = {
        "idlea": [f"Idlea{k:05d}" for k in range(1, half + 1)],
        "idleb": [f"Idleb{k:05d}" for k in range(1, half + 1)],
        "mixa": [f"Mixa{k:03d}" for k in range(1, MIX_ACCOUNTS + 1)],
        "mixb": [f"Mixb{k:03d}" for k in range(1, MIX_ACCOUNTS + 1)],
        "logina": [f"Logina{k:04d}" for k in range(1, LOGIN_ACCOUNTS + 1)],
        "loginb": [f"Loginb{k:04d}" for k in range(1, LOGIN_ACCOUNTS + 1)],
    }
    used = sum(len(v) for v in groups.values())
    if n < used + WEB_ACCOUNTS:
        raise SystemExit(f"--accounts {n} is below the {used + WEB_ACCOUNTS} the groups need")
    groups["agent"] = [f"Agent{k:05d}" for k in range(1, n - used + 1)]
    return groups


def address(nom: str) -> str:
    return f"prof.{nom.lower()}@{DOMAIN}"


PATTERNS = {  # imapload --user patterns for the groups above
    "idlea": "prof.idlea{n:05}@" + DOMAIN, "idleb": "prof.idleb{n:05}@" + DOMAIN,
    "mixa": "prof.mixa{n:03}@" + DOMAIN, "mixb": "prof.mixb{n:03}@" + DOMAIN,
    "logina": "prof.logina{n:04}@" + DOMAIN, "loginb": "prof.loginb{n:04}@" + DOMAIN,
}


def staff_csv(path: str, groups: dict) -> int:
    rows = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write("numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n")
        for g in groups.values():
            for nom in g:
                rows += 1
                f.write(f"{rows:08d}RBNCH;Mme;{nom};Prof;enseignant;actif;;;2026-09-01\n")
    return rows


# ---------------------------------------------------------------- nodes

def node_config(root: str, ip: str, db_url: str, blobs: str, nats: str | None, max_conns: int) -> str:
    conf = os.path.join(root, "ardoise.toml")
    cluster = f'[cluster]\nnats = "{nats}"\n' if nats else ""
    with open(conf, "w") as f:
        f.write(f"""[server]
hostname = "{ip}.{DOMAIN}"
data_dir = "{os.path.join(root, 'data')}"

[store]
url = "{db_url}"

[blob]
path = "{blobs}"

[smtp]
listen = ["{ip}:0"]
max_connections_per_ip = 1000

[imap]
listen = ["{ip}:0"]
listen_tls = ["{ip}:0"]
allow_plaintext_loopback = true
max_connections = {max_conns}
max_connections_per_ip = 1000000
max_connections_per_user = 100000

[submission]
listen = []
listen_tls = []

[web]
listen = ["{ip}:0"]
max_connections_per_ip = 1000

[quota]
default = "0"

[log]
level = "info"

{cluster}""")
    return conf


class Node:
    def __init__(self, binary: str, root: str, ip: str, db_url: str, blobs: str, nats: str | None, max_conns: int):
        self.bin, self.root, self.ip = binary, root, ip
        os.makedirs(root, exist_ok=True)
        self.data = os.path.join(root, "data")
        self.conf = node_config(root, ip, db_url, blobs, nats, max_conns)
        self.proc = None
        self.log_path = os.path.join(root, "server.log")

    def admin(self, *args, stdin: str | None = None) -> str:
        p = subprocess.run([self.bin, "admin", "-c", self.conf, *args], input=stdin, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"ardoise admin {args[:3]}: {p.stderr.strip()[-600:]}")
        return p.stdout

    def start(self) -> None:
        lj = os.path.join(self.data, "listeners.json")
        if os.path.exists(lj):
            os.remove(lj)
        self.proc = subprocess.Popen([self.bin, "serve", "-c", self.conf], stdout=open(self.log_path, "ab"),
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + 120
        while not os.path.exists(lj):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"ardoise serve did not start; see {self.log_path}")
            time.sleep(0.05)
        time.sleep(0.2)
        addrs = json.load(open(lj))
        port = lambda k: int(addrs[k].rsplit(":", 1)[1])  # noqa: E731
        self.smtp, self.imap, self.imaps, self.http = port("smtp"), port("imap"), port("imaps"), port("http")

    def log_text(self) -> str:
        return open(self.log_path, errors="replace").read()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def mem(pid: int) -> dict:
    pss, rss, _anon = procmon._mem_kib(pid)
    return {"rss_kib": rss, "pss_kib": pss}


def settle(pids: list[int], timeout: float = 120.0) -> float:
    """Until the nodes use under 5 % of a core over 1 s (start-up work, index catch-up)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        c0 = procmon.cpu_seconds(pids)
        time.sleep(1.0)
        if procmon.cpu_seconds(pids) - c0 < 0.05 * len(pids):
            break
    return round(time.monotonic() - t0, 1)


# ---------------------------------------------------------------- python clients

def pct(lat: list[float]) -> dict:
    if not lat:
        return {"count": 0}
    s = sorted(lat)
    at = lambda p: round(s[min(len(s) - 1, max(0, int(-(-p * len(s) // 1)) - 1))], 2)  # noqa: E731  nearest rank
    return {"count": len(s), "p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": round(s[-1], 2)}


def message(i: int, worker: int) -> bytes:
    head = (f"From: Rectorat <drh@rectorat.example.org>\r\nTo: staff\r\nSubject: Note de service {worker}-{i}\r\n"
            f"Message-ID: <r28-{worker}-{i}-{time.time_ns()}@example.org>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n").encode()
    line = "Objet : campagne de mutations, calendrier et pièces à fournir.\r\n".encode()
    return head + (line * 80)[:5000 - len(head)]


def smtp_worker(job: tuple) -> dict:
    ip, port, rcpts, seed, start_at, deadline = job
    rng = random.Random(seed)
    lat, errors, first_error, i = [], 0, None, 0
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    while time.time() < start_at:
        time.sleep(0.005)
    s, here = None, 0
    while time.time() < deadline:
        try:
            if s is None or here >= 50:
                if s is not None:
                    s.quit()
                s, here = smtplib.SMTP(ip, port, timeout=60), 0
                s.ehlo("bench.example.org")
            t0 = time.perf_counter()
            refused = s.sendmail("drh@rectorat.example.org", [rng.choice(rcpts)], message(i, seed))
            lat.append((time.perf_counter() - t0) * 1000)
            here += 1
            i += 1
            if refused:
                errors += 1
                first_error = first_error or str(refused)[:200]
        except (smtplib.SMTPException, OSError) as e:
            errors += 1
            first_error = first_error or f"{type(e).__name__}: {str(e)[:200]}"
            s = None
            time.sleep(0.1)
    if s is not None:
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            pass
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"lat": lat, "errors": errors, "first_error": first_error,
            "cpu": ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime}


class Web:
    """One browser: a keep-alive connection, cookies and the CSRF token by hand."""

    def __init__(self, ip: str, port: int):
        self.ip, self.port, self.cookies, self.c = ip, port, {}, None

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPConnection(self.ip, self.port, timeout=60)
            try:
                self.c.request(method, path, body=body, headers=headers)
                r = self.c.getresponse()
                text = r.read().decode("utf-8", errors="replace")
                break
            except (http.client.HTTPException, OSError):
                self.c.close()
                self.c = None
                if attempt:
                    raise
        for value in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        if r.getheader("Connection", "").lower() == "close":
            self.c.close()
            self.c = None
        return r.status, text

    def login(self, login: str) -> None:
        self.cookies = {}
        _, text = self.request("GET", "/connexion")
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', text)
        if not m:
            raise RuntimeError(f"no csrf in /connexion: {text[:200]!r}")
        status, _ = self.request("POST", "/connexion", {"csrf": m.group(1), "login": login, "password": PASSWORD})
        if status not in (302, 303):
            raise RuntimeError(f"POST /connexion gave {status}")


def web_worker(job: tuple) -> dict:
    ip, port, users, first, start_at, deadline = job
    login_lat, page_lat, errors, first_error = [], [], 0, None
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    w = Web(ip, port)
    while time.time() < start_at:
        time.sleep(0.005)
    k = first
    while time.time() < deadline:
        user = users[k % len(users)]
        k += 1
        try:
            t0 = time.perf_counter()
            w.login(user)
            login_lat.append((time.perf_counter() - t0) * 1000)
            for _ in range(10):
                if time.time() >= deadline:
                    break
                t0 = time.perf_counter()
                status, text = w.request("GET", "/courrier")
                page_lat.append((time.perf_counter() - t0) * 1000)
                if status != 200 or 'id="messages"' not in text:
                    errors += 1
                    first_error = first_error or f"GET /courrier: {status} {text[:160]!r}"
        except (RuntimeError, http.client.HTTPException, OSError) as e:
            errors += 1
            first_error = first_error or f"{type(e).__name__}: {str(e)[:200]}"
            w = Web(ip, port)
            time.sleep(0.1)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"login_lat": login_lat, "page_lat": page_lat, "errors": errors, "first_error": first_error,
            "cpu": ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime}


# ---------------------------------------------------------------- imapload

def imapload(binary: str, *args, env_extra: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([binary, *args], env={**os.environ, "IMAPLOAD_PASSWORD": PASSWORD, **(env_extra or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def db_stats(db: str, blobs: str) -> dict:
    """Sizes for the capacity model: the database, its largest tables, rows, the blob folder."""
    q = lambda sql: psql(sql, db)  # noqa: E731
    tables = q("SELECT relname || ':' || pg_total_relation_size(relid) FROM pg_catalog.pg_statio_user_tables "
               "ORDER BY pg_total_relation_size(relid) DESC LIMIT 8").split()
    du = subprocess.run(["du", "-sb", blobs], capture_output=True, text=True).stdout.split()
    return {"database_bytes": int(q(f"SELECT pg_database_size('{db}')")),
            "accounts": int(q("SELECT count(*) FROM accounts")), "mailboxes": int(q("SELECT count(*) FROM mailboxes")),
            "messages": int(q("SELECT count(*) FROM messages")), "blobs": int(q("SELECT count(*) FROM blobs")),
            "largest_tables_bytes": {t.split(":")[0]: int(t.split(":")[1]) for t in tables},
            "blob_folder_bytes": int(du[0]) if du else None}


def pg_backends(db: str) -> dict:
    """CPU seconds of each PostgreSQL backend serving this run's database (by pid), and the database's
    own counters (pg_stat_database): the server is shared with other databases, these are ours alone."""
    pids = [int(x) for x in psql(f"SELECT pid FROM pg_stat_activity WHERE datname = '{db}'").split()]
    cpu = {p: procmon.cpu_seconds([p]) for p in pids}
    row = psql("SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated, "
               f"tup_deleted, blks_read, blks_hit FROM pg_stat_database WHERE datname = '{db}'").split("|")
    keys = ["xact_commit", "xact_rollback", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated",
            "tup_deleted", "blks_read", "blks_hit"]
    return {"cpu": cpu, "stats": dict(zip(keys, (int(x) for x in row)))}


def pg_delta(a: dict, b: dict) -> dict:
    """From two pg_backends readings: the backends' CPU seconds in between (a backend that appeared in
    between counts whole) and the counters' differences."""
    cpu = sum(c - a["cpu"].get(p, 0.0) for p, c in b["cpu"].items())
    return {"backend_cpu_s": round(cpu, 2), "backends": len(b["cpu"]),
            **{k: b["stats"][k] - a["stats"][k] for k in b["stats"]}}


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy (all but idle and iowait), from /proc/stat."""
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(f) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")


def child_cpu(pid: int) -> float:
    try:
        return procmon.cpu_seconds([pid])
    except OSError:
        return 0.0


# ---------------------------------------------------------------- one run

def one_run(name: str, args, base: dict, work: str, n_nodes: int, scale: dict) -> dict:
    root = os.path.join(work, f"run-{name}")
    os.makedirs(root)
    db = f"{base['db']}_{name.lower()}"
    psql(f"CREATE DATABASE {db} TEMPLATE {base['db']}")
    db_url = f"postgres://postgres@127.0.0.1:5432/{db}"
    blobs = os.path.join(root, "blobs")
    shutil.copytree(base["blobs"], blobs)
    nats_port = free_port()
    nats = subprocess.Popen([base["nats_bin"], "-a", "127.0.0.1", "-p", str(nats_port)],
                            stdout=open(os.path.join(root, "nats.log"), "ab"), stderr=subprocess.STDOUT)
    nodes, procs = [], []
    out = {"run": name, "nodes": n_nodes, "database": db}
    try:
        for k in range(n_nodes):
            node = Node(args.binary, os.path.join(root, "ab"[k]), IPS[k], db_url, blobs,
                        f"nats://127.0.0.1:{nats_port}", scale["idle"] + 2000)
            skip = {"search", "tmp", "listeners.json"} if k else {"listeners.json"}
            shutil.copytree(base["data"], node.data, ignore=lambda d, names, skip=skip:
                            [n for n in names if n in skip] if d == base["data"] else [])
            nodes.append(node)
        t0 = time.monotonic()
        for node in nodes:
            node.start()
        deadline = time.time() + 30
        while not all("cluster bus joined" in n.log_text() for n in nodes):
            if time.time() > deadline:
                raise RuntimeError("a node did not join the cluster bus within 30 s")
            time.sleep(0.2)
        out["start_s"] = round(time.monotonic() - t0, 2)
        pids = [n.proc.pid for n in nodes]
        out["settle_s"] = settle(pids)
        target = lambda g: nodes[0] if n_nodes == 1 or g.endswith("a") else nodes[1]  # noqa: E731
        out["baseline"] = [mem(p) for p in pids]
        cpu0 = [procmon.cpu_seconds([p]) for p in pids]
        pg0 = pg_backends(db)
        log(f"run {name}: {n_nodes} node(s) up; baseline RSS " +
            ", ".join(f"{m['rss_kib'] // 1024} MiB" for m in out["baseline"]))

        # 1. IDLE connections, two groups.
        half = scale["idle"] // 2
        idle = {}
        for g in ("idlea", "idleb"):
            node = target(g)
            idle[g] = imapload(args.imapload, "idle", "--addr", f"{node.ip}:{node.imaps}", "--tls", "--user",
                               PATTERNS[g], "--accounts", str(half), "--clients", str(half), "--window", "8",
                               "--rounds", str(scale["rounds"]), "--seed", "2028", "--pause",
                               stdin=subprocess.PIPE)
        t_idle = time.monotonic()
        busy = []  # seconds spent opening connections, pauses for the memory readings left out
        stages = []
        tails = {g: [] for g in idle}
        for stage in range(2):
            counts = {}
            for g, p in idle.items():
                while True:
                    line = p.stderr.readline()
                    if not line:
                        raise RuntimeError(f"imapload idle {g} ended: {''.join(tails[g])[-800:]}")
                    if line.startswith("imapload: ready"):
                        counts[g] = int(line.split()[-1])
                        break
                    tails[g].append(line)
            t_stage = round(time.monotonic() - t_idle, 1)
            busy.append(time.monotonic() - t_idle)
            time.sleep(scale["idle_settle"])
            m = [mem(p) for p in pids]
            stages.append({"seconds": t_stage, "connections": counts, "mem": m})
            log(f"run {name}: IDLE stage {stage + 1}: {counts} after {t_stage} s; RSS " +
                ", ".join(f"{x['rss_kib'] // 1024} MiB" for x in m))
            if stage == 0:
                for p in idle.values():
                    p.stdin.write("\n")
                    p.stdin.flush()
                t_idle = time.monotonic()
        per_node = [0] * n_nodes
        for g, c in stages[1]["connections"].items():
            per_node[0 if n_nodes == 1 or g.endswith("a") else 1] += c
        out["idle"] = {
            "stages": stages, "connections_per_node": per_node,
            "setup_seconds": round(sum(busy), 1),
            "setups_per_s": round(sum(per_node) / max(0.001, sum(busy)), 1),
            "kib_per_connection": [round((stages[1]["mem"][k]["pss_kib"] - out["baseline"][k]["pss_kib"]) /
                                         max(1, per_node[k]), 2) for k in range(n_nodes)],
            "rss_kib_per_connection": [round((stages[1]["mem"][k]["rss_kib"] - out["baseline"][k]["rss_kib"]) /
                                             max(1, per_node[k]), 2) for k in range(n_nodes)],
            "marginal_kib_per_connection": [
                round((stages[1]["mem"][k]["pss_kib"] - stages[0]["mem"][k]["pss_kib"]) /
                      max(1, per_node[k] - sum(c for g, c in stages[0]["connections"].items()
                                               if (0 if n_nodes == 1 or g.endswith("a") else 1) == k)), 2)
                for k in range(n_nodes)],
        }
        cpu_idle = [procmon.cpu_seconds([p]) - c for p, c in zip(pids, cpu0)]
        out["idle"]["cpu_s_per_node"] = [round(c, 2) for c in cpu_idle]
        out["idle"]["postgres"] = pg_delta(pg0, pg_backends(db))

        # 2. The mix, IDLE held.
        secs = scale["seconds"]
        mixes, logins = {}, {}
        for g in ("a", "b"):
            node = target(g)
            mixes[g] = imapload(args.imapload, "mix", "--addr", f"{node.ip}:{node.imap}", "--user", PATTERNS["mix" + g],
                                "--accounts", str(MIX_ACCOUNTS), "--clients", "10", "--seconds", str(secs),
                                "--seed", "2028")
            logins[g] = imapload(args.imapload, "login", "--addr", f"{node.ip}:{node.imap}", "--user",
                                 PATTERNS["login" + g], "--accounts", str(LOGIN_ACCOUNTS), "--clients", "2",
                                 "--seconds", str(secs), "--seed", "2028")
        start_at = time.time() + 0.5
        end_at = start_at + secs
        rcpts = base["smtp_rcpts"]
        jobs_smtp, jobs_web = [], []
        for k in range(4):
            node = target("ab"[k % 2])
            jobs_smtp.append(("smtp", (node.ip, node.smtp, rcpts, 100 + k, start_at, end_at)))
            users = base["web_users"][k::4]
            jobs_web.append(("web", (node.ip, node.http, users, 0, start_at, end_at)))
        ctx = multiprocessing.get_context("fork")
        cpu_mix0 = [procmon.cpu_seconds([p]) for p in pids]
        machine0 = machine_busy()
        pg_mix0 = pg_backends(db)
        with ctx.Pool(8) as pool, procmon.MemSampler(lambda: pids) as peak:
            r_smtp = pool.map_async(smtp_worker, [j for _, j in jobs_smtp], chunksize=1)
            r_web = pool.map_async(web_worker, [j for _, j in jobs_web], chunksize=1)
            per_node_peak = {k: {"rss_kib": 0, "pss_kib": 0} for k in range(n_nodes)}
            imap_cpu = {}
            while time.time() < end_at + 0.5:
                for k, p in enumerate(pids):
                    m = mem(p)
                    for key in m:
                        per_node_peak[k][key] = max(per_node_peak[k][key], m[key])
                for tag, p in [*(("mix" + g, q) for g, q in mixes.items()), *(("login" + g, q) for g, q in logins.items())]:
                    c = child_cpu(p.pid)
                    if c:
                        imap_cpu[tag] = c
                time.sleep(0.5)
            smtp_res = r_smtp.get(timeout=secs + 300)
            web_res = r_web.get(timeout=secs + 300)
        cpu_mix = [procmon.cpu_seconds([p]) - c for p, c in zip(pids, cpu_mix0)]
        machine_cpu = machine_busy() - machine0
        pg_mix = pg_delta(pg_mix0, pg_backends(db))
        reports = {}
        for tag, p in [*(("mix" + g, q) for g, q in mixes.items()), *(("login" + g, q) for g, q in logins.items())]:
            so, se = p.communicate(timeout=300)
            if p.returncode != 0:
                raise RuntimeError(f"imapload {tag} failed: {se[-800:]}")
            reports[tag] = json.loads(so)
        mix_out = summarize_mix(reports, smtp_res, web_res, secs)
        mix_out["node_cpu_s"] = [round(c, 2) for c in cpu_mix]
        mix_out["node_peak"] = [per_node_peak[k] for k in range(n_nodes)]
        mix_out["peak_sum_rss_kib"] = peak.peak_rss
        mix_out["client_cpu_s"] = {
            "imapload": {k: round(v, 2) for k, v in imap_cpu.items()},
            "smtp": round(sum(r["cpu"] for r in smtp_res), 2), "web": round(sum(r["cpu"] for r in web_res), 2)}
        # Everything the machine ran during the window (nodes, clients, PostgreSQL, NATS, anyone else's work).
        mix_out["machine_busy_cpu_s"] = round(machine_cpu, 2)
        mix_out["postgres"] = pg_mix
        mix_out["pg_nats_cpu_note"] = "machine_busy - node_cpu - client_cpu = PostgreSQL, NATS and other work"
        mix_out["loadavg_1min_end"] = round(os.getloadavg()[0], 2)
        out["mix"] = mix_out
        log(f"run {name}: mix {secs} s: " + ", ".join(
            f"{k} {v['per_s']}/s p99 {v.get('p99_ms')} ms" for k, v in mix_out["kinds"].items()))

        # 3. Push rounds, then the IDLE processes end.
        for g, p in idle.items():
            p.stdin.write("\n")
            p.stdin.flush()
        idle_reports = {}
        for g, p in idle.items():
            so, se = p.communicate(timeout=600)
            if p.returncode != 0:
                raise RuntimeError(f"imapload idle {g} failed: {(''.join(tails[g]) + se)[-800:]}")
            idle_reports[g] = json.loads(so)
        out["idle"]["reports"] = idle_reports
        lat = {g: r.get("exists_latency", {}) for g, r in idle_reports.items()}
        out["idle"]["failed"] = sum(r["failed"] for r in idle_reports.values())
        out["idle"]["exists_missed"] = sum(r["exists_missed"] for r in idle_reports.values())
        out["idle"]["exists_expected"] = sum(r["exists_expected"] for r in idle_reports.values())
        out["idle"]["exists_latency"] = lat
        out["idle"]["setup_latency"] = {g: r.get("setup_latency") for g, r in idle_reports.items()}
        out["final"] = [mem(p) for p in pids]
        out["store"] = db_stats(db, blobs)
        log(f"run {name}: IDLE {per_node} per node, {out['idle']['kib_per_connection']} KiB/conn (PSS), "
            f"set-up {out['idle']['setups_per_s']}/s, EXISTS missed {out['idle']['exists_missed']}/"
            f"{out['idle']['exists_expected']}, p99 " + ", ".join(f"{g} {v.get('p99_ms', 0):.1f} ms"
                                                                  for g, v in lat.items()))
    finally:
        for node in nodes:
            node.stop()
        for p in procs:
            if p.poll() is None:
                p.kill()
        for d in (locals().get("idle") or {}, locals().get("mixes") or {}, locals().get("logins") or {}):
            for p in d.values():
                if p.poll() is None:
                    p.kill()
                    p.wait()
        nats.terminate()
        try:
            nats.wait(10)
        except subprocess.TimeoutExpired:
            nats.kill()
        if not args.keep:
            psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    return out


def summarize_mix(reports: dict, smtp_res: list, web_res: list, secs: float) -> dict:
    kinds = {}
    # imapload's per-command latencies are already percentiles: merge the two groups by count-weighted
    # rates and the worse of the two percentiles (the exact merge needs the raw samples, which it does not print).
    for what in ("mix", "login"):
        ra, rb = reports[what + "a"], reports[what + "b"]
        total = ra["commands"] + rb["commands"]
        worst = lambda key: max(r["by_command"][c][key] for r in (ra, rb) for c in r["by_command"])  # noqa: E731
        per_cmd = {}
        for r in (ra, rb):
            for c, v in r["by_command"].items():
                e = per_cmd.setdefault(c, {"count": 0, "p50_ms": 0, "p90_ms": 0, "p99_ms": 0})
                e["count"] += v["count"]
                for key in ("p50_ms", "p90_ms", "p99_ms"):
                    e[key] = max(e[key], v[key])
        kinds["imap_" + what] = {
            "per_s": round(total / secs, 1), "count": total,
            "p50_ms_worst_command": worst("p50_ms") if total else None,
            "p99_ms": worst("p99_ms") if total else None,
            "by_command": per_cmd,
            "errors": sum(r["protocol_errors"] + r["consistency_errors"] + r["aborted_sessions"] for r in (ra, rb)),
            "error_samples": (ra["errors"] + rb["errors"])[:5],
        }
    lat = [x for r in smtp_res for x in r["lat"]]
    kinds["smtp_delivery"] = {"per_s": round(len(lat) / secs, 1), **pct(lat),
                              "errors": sum(r["errors"] for r in smtp_res),
                              "first_error": next((r["first_error"] for r in smtp_res if r["first_error"]), None)}
    ll = [x for r in web_res for x in r["login_lat"]]
    pl = [x for r in web_res for x in r["page_lat"]]
    werr = sum(r["errors"] for r in web_res)
    kinds["web_login"] = {"per_s": round(len(ll) / secs, 1), **pct(ll)}
    kinds["web_inbox_page"] = {"per_s": round(len(pl) / secs, 1), **pct(pl), "errors": werr,
                               "first_error": next((r["first_error"] for r in web_res if r["first_error"]), None)}
    return {"seconds": secs, "kinds": kinds}


# ---------------------------------------------------------------- provisioning

def provision(args, work: str, scale: dict, db: str) -> dict:
    psql(f"CREATE DATABASE {db}")
    root = os.path.join(work, "base")
    blobs = os.path.join(root, "blobs")
    node = Node(args.binary, root, IPS[0], f"postgres://postgres@127.0.0.1:5432/{db}", blobs, None, 1000)
    groups = people(scale["accounts"], scale["idle"])
    out = {"db": db, "blobs": blobs, "data": node.data}
    node.admin("domain", "add", DOMAIN)
    csv = os.path.join(root, "staff.csv")
    rows = staff_csv(csv, groups)
    t = time.monotonic()
    p = subprocess.run([args.binary, "directory", "--config", node.conf, "sync", csv, "--domain", DOMAIN],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"directory sync: {p.stderr.strip()[-800:]}")
    out["sync_s"] = round(time.monotonic() - t, 1)
    t = time.monotonic()
    node.admin("account", "create", f"modele@{DOMAIN}", "--name", "Modèle", "--password-stdin", stdin=PASSWORD + "\n")
    n = psql(f"WITH h AS (SELECT password_hash FROM accounts WHERE address = 'modele@{DOMAIN}') "
             f"UPDATE accounts SET password_hash = (SELECT password_hash FROM h), status = 'active' "
             f"WHERE domain = '{DOMAIN}' RETURNING 1", db).count("1")
    out["password_update_s"] = round(time.monotonic() - t, 2)
    have = int(psql(f"SELECT count(*) FROM accounts WHERE domain = '{DOMAIN}'", db))
    statuses = psql("SELECT status || ':' || count(*) FROM accounts GROUP BY status", db)
    want = [address(nom) for g in groups.values() for nom in (g[0], g[-1])]
    found = set(psql("SELECT address FROM accounts WHERE address IN (" +
                     ",".join(f"'{a}'" for a in want) + ")", db).split())
    if set(want) - found or have != rows + 1:
        raise RuntimeError(f"sync gave {have} accounts for {rows} rows (+1), statuses {statuses}; "
                           f"missing e.g. {sorted(set(want) - found)[:4]}")
    out.update({"accounts": have, "rows": rows, "updated": n, "statuses": statuses.split()})
    log(f"provisioned {have} accounts ({rows} by directory sync in {out['sync_s']} s, one password for all)")
    node.start()
    try:
        t = time.monotonic()
        for g in ("mixa", "mixb"):
            p = imapload(args.imapload, "seed", "--addr", f"{node.ip}:{node.imap}", "--user", PATTERNS[g],
                         "--accounts", str(MIX_ACCOUNTS), "--clients", "4", "--messages", "25", "--seed", "2028")
            so, se = p.communicate(timeout=600)
            if p.returncode != 0:
                raise RuntimeError(f"imapload seed {g}: {se[-600:]}")
        web = [address(nom) for nom in groups["agent"][:WEB_ACCOUNTS]]
        with smtplib.SMTP(node.ip, node.smtp, timeout=60) as s:
            for i, a in enumerate(web * 10):
                s.sendmail("drh@rectorat.example.org", [a], message(i, 0))
                if i % 50 == 49:
                    s.rset()
        out["seed_s"] = round(time.monotonic() - t, 1)
        settle([node.proc.pid])
    finally:
        node.stop()
    out["store"] = db_stats(db, blobs)
    out["web_users"] = web
    mix = {address(nom) for g in ("mixa", "mixb") for nom in groups[g]}
    out["smtp_rcpts"] = [address(nom) for g, noms in groups.items() if g not in ("mixa", "mixb") for nom in noms]
    assert not mix & set(out["smtp_rcpts"])
    return out


def main() -> None:
    p = argparse.ArgumentParser(description="Issue 28: one node against two under IDLE connections and a mix")
    p.add_argument("--binary", required=True, help="the ardoise binary (release build for a measurement)")
    p.add_argument("--imapload", required=True, help="the imapload binary (release build)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--accounts", type=int)
    p.add_argument("--idle", type=int, help="IDLE connections in all (split over two groups)")
    p.add_argument("--seconds", type=float, help="length of the mix")
    p.add_argument("--rounds", type=int, help="push rounds after the mix")
    p.add_argument("--runs", default="A,B", help="A (one node), B (two nodes), or both: A,B")
    p.add_argument("--keep", action="store_true", help="keep the work folder and the databases")
    args = p.parse_args()
    scale = {"accounts": args.accounts or (12_000 if args.quick else 50_000),
             "idle": args.idle or (400 if args.quick else 10_000),
             "seconds": args.seconds or (10.0 if args.quick else 60.0),
             "rounds": args.rounds or (2 if args.quick else 5),
             "idle_settle": 3.0 if args.quick else 12.0}
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    need = scale["idle"] + 4000
    if hard < need:
        raise SystemExit(f"RLIMIT_NOFILE {hard} is below the {need} this scale needs")
    nats_bin = shutil.which("nats-server") or shutil.which("nats-server", path="/usr/sbin")
    if not nats_bin:
        raise SystemExit("nats-server not found (Debian: apt-get install nats-server)")
    work = tempfile.mkdtemp(prefix="ardoise-r28-", dir="/var/tmp")
    t_all = time.monotonic()
    base = None
    db = f"ardoise_r28_{os.getpid()}"
    doc = {"kind": "r28-load", "mode": "quick" if args.quick else "full", "machine": machine(),
           "binary": os.path.abspath(args.binary), "imapload": os.path.abspath(args.imapload),
           "version": subprocess.run([args.binary, "--version"], capture_output=True, text=True).stdout.strip(),
           "scale": scale, "command": " ".join(sys.argv), "loadavg_start": [round(x, 2) for x in os.getloadavg()],
           "runs": {}}
    try:
        base = provision(args, work, scale, db)
        doc["provisioning"] = {k: v for k, v in base.items() if k not in ("web_users", "smtp_rcpts")}
        base["nats_bin"] = nats_bin
        for name in args.runs.split(","):
            name = name.strip().upper()
            try:
                doc["runs"][name] = one_run(name, args, base, work, {"A": 1, "B": 2}[name], scale)
            except (RuntimeError, OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
                # The other run is still worth making and recording; the exit status says it failed.
                log(f"run {name} failed: {type(e).__name__}: {e}")
                doc["runs"][name] = {"failed": f"{type(e).__name__}: {str(e)[-1500:]}"}
    finally:
        if not args.keep:
            psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    doc["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    doc["wall_s"] = round(time.monotonic() - t_all, 1)
    print(json.dumps(doc, indent=1))
    save(doc, "r28", log)
    if any("failed" in r for r in doc["runs"].values()):
        raise SystemExit("r28: a run failed (see the JSON)")


if __name__ == "__main__":
    main()
