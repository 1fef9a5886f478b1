"""R1, R2, R3: IMAP, Ardoise against Dovecot imapd, driven by our own load generator
(crates/imapload, imaptest's default mix with consistency checks).

Both sides: the same 20 accounts with the **same argon2id hashes** (OWASP parameters
m=19456 KiB, t=2, p=1: Ardoise's own hashes, copied into Dovecot's passwd-file under
the ARGON2ID scheme), plain IMAP on loopback (Ardoise: `allow_plaintext_loopback`;
Dovecot: `disable_plaintext_auth = no`), durable writes (Ardoise: fsync + SQLite
synchronous=FULL; Dovecot: `mail_fsync = always`), and identical seeded data
(`imapload seed`: the same messages APPENDed to both before the measured runs).

- R1: the mix, 10 and 100 clients over 20 accounts, for a fixed time.
- R2: logins/s (connect, LOGIN, LOGOUT), without a credential cache on either side (Ardoise
  `[web] credential_cache = 0`, Dovecot `auth_cache_size = 0`, its default), then with one on both
  (Ardoise's default of 5 minutes; Dovecot `auth_cache_size = 10M`, which still verifies argon2id
  against the cached hash).

R1 and R3 run Ardoise with its credential cache **off**, so that every LOGIN costs one argon2id
verification on both sides (Dovecot has no equivalent of a cache that skips the computation).
- R3: APPEND of 75 KB messages, 20 clients (one per account), then a check that every
  acknowledged message is in its INBOX.
"""

import glob
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import time

from . import procmon, servers
from .servers import DOMAIN, PASSWORD

USER_PATTERN = "agent{n:02}@" + DOMAIN
DOVECOT_IMAP_PORT = 1143

DOVECOT_IMAP_CONF = """\
# Dovecot imapd for the Ardoise benchmark: built-in defaults except paths, the accounts
# (passwd-file with the same argon2id hashes as Ardoise), plaintext LOGIN on loopback
# (as Ardoise's allow_plaintext_loopback), and mail_fsync = always (same durability).
instance_name = ardoise-bench-imap
base_dir = {run}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
log_path = {log}/dovecot-imap.log
mail_location = maildir:{mail}/%d/%n/Maildir
mail_fsync = always
auth_cache_size = {cache}
passdb {{
  driver = passwd-file
  args = {users}
}}
userdb {{
  driver = passwd-file
  args = {users}
}}
service imap-login {{
  process_limit = {login_limit}
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


class ArdoiseImap(servers.Ardoise):
    """Ardoise with an IMAP listener on an ephemeral loopback port (plaintext allowed there)."""

    credential_cache = "0"

    def setup(self) -> None:
        os.makedirs(self.root, exist_ok=True)
        self.write_conf()
        for cmd in (["domain", "add", DOMAIN],):
            servers.run(self.bin, "admin", "-c", self.conf, *cmd)
        for u in self.users:
            servers.run(self.bin, "admin", "-c", self.conf, "account", "create", u, "--name", u.split("@")[0],
                        "--password-stdin", input=PASSWORD + "\n")

    def write_conf(self) -> None:
        with open(self.conf, "w") as f:
            # Defaults except paths, ports, quota, plaintext on loopback (both sides), the
            # per-IP connection cap (every benchmark client comes from 127.0.0.1) and the
            # credential cache (off unless a cell turns it on: see the module's doc).
            f.write(
                f'[server]\nhostname = "bench-ardoise.{DOMAIN}"\ndata_dir = "{self.data}"\n'
                f'[smtp]\nlisten = ["127.0.0.1:0"]\n[submission]\nlisten = ["127.0.0.1:0"]\nlisten_tls = ["127.0.0.1:0"]\n'
                f'[imap]\nlisten = ["127.0.0.1:0"]\nlisten_tls = []\nallow_plaintext_loopback = true\n'
                f'max_connections_per_ip = 1000\n[quota]\ndefault = "0"\n'
                f'[web]\ncredential_cache = "{self.credential_cache}"\n'
            )

    def restart_with(self, credential_cache: str) -> None:
        self.stop()
        self.credential_cache = credential_cache
        self.write_conf()
        self.start()

    def start(self) -> None:
        super().start()
        self.imap_port = int(json.load(open(os.path.join(self.data, "listeners.json")))["imap"].rsplit(":", 1)[1])

    def hashes(self) -> dict[str, str]:
        db = glob.glob(os.path.join(self.data, "*.db"))[0]
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
            return dict(c.execute("SELECT address, password_hash FROM accounts"))


class DovecotImap:
    name = "dovecot"
    label = "Dovecot"

    def __init__(self, work: str, users: list[str], hashes: dict[str, str], port: int = DOVECOT_IMAP_PORT):
        self.root = os.path.join(work, "dovecot-imap")
        self.users, self.hashes, self.imap_port = users, hashes, port
        self.conf = os.path.join(self.root, "dovecot.conf")
        self.mail = os.path.join(self.root, "mail")
        self.log = os.path.join(self.root, "log")
        self.cache = "0"
        self.login_limit = 100  # Dovecot's default (default_process_limit)

    def setup(self) -> None:
        for d in (self.root, self.mail, self.log):
            os.makedirs(d, exist_ok=True)
        os.chmod(os.path.dirname(self.root), 0o755)
        for d in (self.root, self.log):
            os.chmod(d, 0o755)
        with open(os.path.join(self.root, "users"), "w") as f:
            for u in self.users:
                local = u.split("@")[0]
                f.write(f"{u}:{{ARGON2ID}}{self.hashes[u]}:65534:65534::{self.mail}/{DOMAIN}/{local}::\n")
        shutil.chown(self.mail, "nobody", "nogroup")
        self.write_conf()

    def write_conf(self) -> None:
        with open(self.conf, "w") as f:
            f.write(DOVECOT_IMAP_CONF.format(run=os.path.join(self.root, "run"), log=self.log, mail=self.mail,
                                             users=os.path.join(self.root, "users"), port=self.imap_port,
                                             cache=self.cache, login_limit=self.login_limit))

    def start(self) -> None:
        with open(os.path.join(self.log, "start.log"), "a") as out:
            subprocess.run(["dovecot", "-c", self.conf], check=True, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.imap_port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot imap did not come up; see {self.log}")

    def restart_with(self, cache: str = "0", login_limit: int = 100) -> None:
        self.stop()
        self.cache, self.login_limit = cache, login_limit
        self.write_conf()
        self.start()

    def roots(self) -> list[int]:
        try:
            return [int(open(os.path.join(self.root, "run", "master.pid")).read().split()[0])]
        except (OSError, ValueError, IndexError):
            return []

    def version(self) -> str:
        return "Dovecot " + servers.run("dovecot", "--version").stdout.strip()

    def stop(self) -> None:
        subprocess.run(["dovecot", "-c", self.conf, "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if not self.roots() or not os.path.exists(f"/proc/{self.roots()[0]}"):
                return
            time.sleep(0.05)


def imapload(binary: str, side, workload: str, clients: int, seconds: float, extra: list[str]) -> dict:
    """Runs one imapload workload against one side, measuring the server's CPU and memory."""
    cmd = [binary, workload, "--addr", f"127.0.0.1:{side.imap_port}", "--user", USER_PATTERN,
           "--accounts", "20", "--clients", str(clients), "--seconds", str(seconds), "--seed", "2026", *extra]
    cpu0 = procmon.cpu_seconds(side.roots())
    with procmon.MemSampler(side.roots) as mem:
        t0 = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "IMAPLOAD_PASSWORD": PASSWORD},
                           timeout=seconds + 300)
        wall = time.monotonic() - t0
    cpu = procmon.cpu_seconds(side.roots()) - cpu0
    if p.returncode != 0:
        raise RuntimeError(f"imapload {workload} against {side.name} failed: {p.stderr.strip()[-500:]}")
    r = json.loads(p.stdout)
    r.update({
        "wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
        "cpu_ms_per_command": round(cpu * 1000 / max(1, r["commands"]), 3),
        "peak_pss_kib": mem.peak_pss, "peak_rss_kib": mem.peak_rss, "peak_processes": mem.peak_procs,
        "loadavg_1min": round(os.getloadavg()[0], 2), "command": " ".join(cmd),
    })
    return r


def rate(r: dict, kind: str | None) -> float:
    return r["by_command"].get(kind, {}).get("per_second", 0.0) if kind else r["commands_per_second"]


MEDIAN_KEYS = ["commands_per_second", "cpu_seconds", "cpu_ms_per_command", "peak_pss_kib", "peak_rss_kib",
               "protocol_errors", "consistency_errors", "aborted_sessions"]


def summarize(reps: list[dict], kind: str | None) -> dict:
    m = {k: statistics.median(r[k] for r in reps) for k in MEDIAN_KEYS}
    m["rate"] = statistics.median(rate(r, kind) for r in reps)
    m["p50_ms"] = statistics.median(r["by_command"].get(kind or "LOGIN", {}).get("p50_ms", 0) for r in reps)
    m["p99_ms"] = statistics.median(r["by_command"].get(kind or "LOGIN", {}).get("p99_ms", 0) for r in reps)
    return m


def cell(binary: str, sides: list, name: str, workload: str, clients: int, seconds: float, reps: int,
         kind: str | None, log, extra: list[str] = ()) -> dict:
    """One table row: `reps` repetitions per side, sides interleaved."""
    per = {s.name: [] for s in sides}
    for rep in range(reps):
        for s in sides:
            r = imapload(binary, s, workload, clients, seconds, list(extra))
            per[s.name].append(r)
            log(f"{name} rep={rep + 1} {s.name}: {rate(r, kind):.1f} {kind or 'commands'}/s, "
                f"cpu {r['cpu_seconds']:.1f}s, protocol errors {r['protocol_errors']}, "
                f"consistency errors {r['consistency_errors']}, aborted {r['aborted_sessions']}")
    return {"name": name, "workload": workload, "clients": clients, "seconds": seconds, "kind": kind,
            "servers": {n: {"median": summarize(v, kind), "reps": v} for n, v in per.items()}}


CELLS = ["r1x10", "r1x100", "r1x100big", "r3", "r2"]


def run(binary: str, imapload_bin: str, work: str, users: list[str], quick: bool, reps: int, log,
        r1_seconds: float, only: list[str] | None = None) -> dict:
    ours = ArdoiseImap(work, binary, users)
    ours.setup()
    ours.start()
    ref = DovecotImap(work, users, ours.hashes())
    ref.setup()
    ref.start()
    sides = [ours, ref]
    log(f"IMAP: ardoise on 127.0.0.1:{ours.imap_port}, dovecot on 127.0.0.1:{ref.imap_port}")
    short = 3.0 if quick else None
    cells = []
    wanted = set(only or CELLS)
    try:
        # Identical data: the same 25 messages (seeded) in every INBOX on both sides.
        seeded = {s.name: imapload(imapload_bin, s, "seed", 10, 1, ["--messages", "25", "--size", "4096"])
                  for s in sides}
        for n, r in seeded.items():
            log(f"seed {n}: {r['by_command'].get('APPEND', {}).get('count', 0)} APPENDs, "
                f"errors {r['protocol_errors']}/{r['consistency_errors']}")
        for clients in (10, 100):
            if f"r1x{clients}" in wanted:
                cells.append(cell(imapload_bin, sides, f"R1 mix x{clients}", "mix", clients, short or r1_seconds,
                                  reps, None, log))
        if "r1x100big" in wanted:
            # Dovecot's default imap-login process_limit (100) drops connections at 100 clients;
            # this row raises it (as Ardoise's per-IP cap is raised for every run).
            ref.restart_with(login_limit=1000)
            c = cell(imapload_bin, sides, "R1 mix x100, Dovecot process_limit=1000", "mix", 100,
                     short or r1_seconds, reps, None, log)
            cells.append(c)
            ref.restart_with()
        if "r3" in wanted:
            cells.append(cell(imapload_bin, sides, "R3 APPEND 75 KB x20", "append", 20, short or 20, reps,
                              "APPEND", log, ["--size", "76800"]))
        # R2 without a credential cache on either side, then with one on both.
        if "r2" in wanted:
            cells.append(cell(imapload_bin, sides, "R2 logins, no cache", "login", 10, short or 20, reps, "LOGIN",
                              log))
            ref.restart_with(cache="10M")
            ours.restart_with(credential_cache="5m")
            cells.append(cell(imapload_bin, sides,
                              "R2 logins, cache on (Ardoise 5m default, Dovecot auth_cache_size=10M)", "login",
                              10, short or 20, reps, "LOGIN", log))
            ours.restart_with(credential_cache="0")
    finally:
        for s in sides:
            s.stop()
    return {"versions": {"ardoise": ours.version(), "dovecot": ref.version()}, "seed": seeded, "cells": cells}
