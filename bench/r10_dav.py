"""R10: CalDAV and CardDAV against Debian's Radicale on the same data (issue 21).

One account on each side with the same data (the loading time is reported; it is not the
measurement): Ardoise gets it by PUT over HTTP (one object per request, 8 connections); Radicale gets its
collections by MKCALENDAR and extended MKCOL, then the same objects written as files into its storage
folder, which is all its filesystem storage is (`--radicale-load put` loads it by PUT too: its PUT gets
slower as a collection fills, 6 cards/s at 1,000, so the full data would take hours). The data:

- a calendar of 5,000 events in 2027, each with the VTIMEZONE Europe/Paris: 70 % single timed events
  (08:00-19:00 Paris time), 20 % weekly recurring with COUNT 2-10, 10 % all-day;
- an address book of 10,000 vCards 3.0 (FN, N, ORG, EMAIL, TEL, ADR).

Workloads, each run by 20 client processes (one keep-alive http.client connection each, Basic auth on
every request) for a fixed duration, sides alternating and their order flipped between repetitions:

- `calendar-query`: REPORT with a one-month time-range (the client rotates through the 12 months of
  2027) asking for getetag + calendar-data;
- `sync-full`: sync-collection REPORT of the address book from an empty token (all 10,000 cards, getetag);
- `sync-incremental`: sync-collection from the latest token (nothing changed: no item);
- `propfind`: PROPFIND Depth 1 of the calendar (getetag, getcontenttype).

Before each workload every side answers it once unmeasured, and the number of items is checked: each
month's event count against the count known from the generator (the same on both sides), the full sync
against the number of cards, the incremental one against zero. During the run every status must be 207;
anything else (or a broken connection) counts as an error. Measured: requests per second (completed
requests / wall time of the run), p50/p99 latency, errors, and the server's peak RSS and PSS over its
process tree (bench/harness/procmon.py, 200 ms samples), plus the CPU seconds of the server.

- **Ardoise**: `ardoise serve`, defaults except ports and paths, SQLite store, the web listener on
  127.0.0.1 plain HTTP (as the e2e tests run it), `[web] max_connections_per_ip = 1000`; Basic auth is
  checked on every request (Argon2id, with the default 5-minute credential cache).
- **Radicale**: Debian's `radicale` (`/usr/bin/radicale`, its own Python), a private config and storage
  folder, 127.0.0.1 plain HTTP, htpasswd auth with a `plain` file (no hashing cost on its side either),
  `rights = owner_only`, `max_connections = 64` (its default, 8, would queue our 20 clients), `timeout = 600`
  (its 30 s socket timeout is shorter than its own latency under this load at full size; a few connection
  resets remained with 600 s, cause not found).

    python3 -m bench.r10_dav --binary /path/to/release/ardoise [--reps 3] [--quick] [--seconds S]
                             [--events N] [--cards N] [--clients N] [--keep] [--only WORKLOAD ...]

`--only calendar-query` (repeatable) runs only the named workloads, on the same data; its results go
to latest-r10-only-<names>-<mode>.json, so that a partial rerun never replaces the full run's file.

`--quick`: 500 events, 1,000 cards, 5 s per workload, 1 repetition. Installs Debian's radicale if
missing (needs root then). Prints one JSON document and writes bench/out/latest-r10-<mode>.json. Not a
test; never asserts a time. A debug binary gives no measurement of Ardoise: use a release build.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from . import r10_data as data
from .r10_load import load, run_workload
from .harness.main import machine, save

PASSWORD = "Bench-Ardoise-2026"
USER = "claire.martin@ac-test.fr"
RADICALE = "/usr/bin/radicale"

RADICALE_CONF = """\
[server]
hosts = 127.0.0.1:{port}
max_connections = 64
timeout = 600
[auth]
type = htpasswd
htpasswd_filename = {root}/users
htpasswd_encryption = plain
[rights]
type = owner_only
[storage]
filesystem_folder = {root}/collections
[web]
type = none
[logging]
level = warning
"""

ARDOISE_CONF = """\
[server]
hostname = "bench-dav.ac-test.fr"
data_dir = "{data}"
[smtp]
listen = ["127.0.0.1:0"]
[imap]
listen = ["127.0.0.1:0"]
listen_tls = []
[submission]
listen = ["127.0.0.1:0"]
listen_tls = []
[web]
listen = ["127.0.0.1:0"]
max_connections_per_ip = 1000
"""


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, log_path: str) -> None:
    import socket
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early; see {log_path}")
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server not listening on {port}; see {log_path}")


class Ardoise:
    name = "ardoise"

    def __init__(self, work: str, binary: str):
        self.root = os.path.join(work, "ardoise")
        self.bin = binary
        self.conf = os.path.join(self.root, "ardoise.toml")
        self.data = os.path.join(self.root, "data")
        os.makedirs(self.root)
        with open(self.conf, "w") as f:
            f.write(ARDOISE_CONF.format(data=self.data))
        self.admin("domain", "add", "ac-test.fr")
        self.admin("account", "create", USER, "--name", "Claire Martin", "--quota", "0", "--password-stdin",
                   stdin=PASSWORD + "\n")
        self.calendar = f"/dav/calendars/{USER}/agenda/"
        self.book = f"/dav/addressbooks/{USER}/contacts/"

    def admin(self, *args, stdin: str | None = None) -> str:
        p = subprocess.run([self.bin, "admin", "-c", self.conf, *args], input=stdin, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"ardoise admin {args[:2]} failed: {p.stderr.strip()[-400:]}")
        return p.stdout

    def start(self) -> None:
        lj = os.path.join(self.data, "listeners.json")
        if os.path.exists(lj):
            os.remove(lj)
        log_path = os.path.join(self.root, "server.log")
        self.proc = subprocess.Popen([self.bin, "serve", "-c", self.conf], stdout=open(log_path, "ab"),
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while not os.path.exists(lj):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"ardoise serve did not start; see {log_path}")
            time.sleep(0.05)
        time.sleep(0.1)
        self.port = int(json.load(open(lj))["http"].rsplit(":", 1)[1])
        wait_port(self.port, self.proc, log_path)

    def prepare(self, conn) -> None:
        """The account's default « Agenda » and « Contacts » exist from the start."""

    def roots(self) -> list[int]:
        return [self.proc.pid]

    def version(self) -> str:
        return subprocess.run([self.bin, "--version"], capture_output=True, text=True).stdout.strip()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Radicale:
    name = "radicale"

    def __init__(self, work: str):
        self.root = os.path.join(work, "radicale")
        os.makedirs(os.path.join(self.root, "collections"))
        self.port = free_port()
        self.conf = os.path.join(self.root, "config")
        with open(self.conf, "w") as f:
            f.write(RADICALE_CONF.format(port=self.port, root=self.root))
        with open(os.path.join(self.root, "users"), "w") as f:
            f.write(f"{USER}:{PASSWORD}\n")
        self.calendar = f"/{USER}/agenda/"
        self.book = f"/{USER}/contacts/"

    def start(self) -> None:
        log_path = os.path.join(self.root, "server.log")
        self.proc = subprocess.Popen([RADICALE, "--config", self.conf], stdout=open(log_path, "ab"),
                                     stderr=subprocess.STDOUT, env={"PATH": "/usr/bin:/bin", "HOME": self.root})
        wait_port(self.port, self.proc, log_path)

    def prepare(self, conn) -> None:
        """Radicale starts empty: the calendar by MKCALENDAR, the address book by extended MKCOL."""
        for method, path, body in (("MKCALENDAR", self.calendar, data.MKCALENDAR),
                                   ("MKCOL", self.book, data.MKCOL_BOOK)):
            status, text = conn.send(method, path, body, {"Content-Type": "application/xml"})
            if status != 201:
                raise RuntimeError(f"radicale {method} {path}: {status} {text[:300]!r}")

    def write_files(self, events: list, cards: list) -> None:
        """Radicale's filesystem storage is one file per item, named by its href, in the collection's
        folder: writing them there is what a bulk import amounts to (its PUT re-reads the collection
        and gets slower as it fills: minutes for the full data). The cache is built by the first,
        unmeasured, request of each workload."""
        base = os.path.join(self.root, "collections", "collection-root", USER)
        for folder, items in (("agenda", events), ("contacts", cards)):
            for name, body in items:
                with open(os.path.join(base, folder, name), "wb") as f:
                    f.write(body)
            os.sync()

    def roots(self) -> list[int]:
        return [self.proc.pid]

    def version(self) -> str:
        out = subprocess.run([RADICALE, "--version"], capture_output=True, text=True)
        return "Radicale " + (out.stdout or out.stderr).strip()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def ensure_radicale(log) -> None:
    if os.path.exists(RADICALE):
        return
    log("radicale missing: apt-get install -y radicale")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    p = subprocess.run(["apt-get", "install", "-y", "-q", "radicale"], env=env, capture_output=True, text=True)
    if p.returncode != 0 or not os.path.exists(RADICALE):
        raise SystemExit("R10 needs Debian's radicale and could not install it (apt-get install -y radicale, "
                         f"as root): {p.stderr.strip()[-400:]}")


def summarize(reps: list[dict]) -> dict:
    keys = ["requests_per_s", "p50_ms", "p99_ms", "errors", "peak_rss_kib", "peak_pss_kib", "peak_anon_kib", "cpu_s",
            "client_cpu_s"]
    return {k: round(statistics.median(r[k] for r in reps), 3) for k in keys}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True, help="the ardoise binary (a release build for a measurement)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--reps", type=int)
    p.add_argument("--seconds", type=float)
    p.add_argument("--events", type=int)
    p.add_argument("--cards", type=int)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--only", action="append", choices=["calendar-query", "sync-full", "sync-incremental", "propfind"],
                   help="run only this workload (repeatable); the others are skipped")
    p.add_argument("--radicale-load", choices=["files", "put"], default="files",
                   help="how Radicale gets the data: files written into its storage (default) or PUT")
    args = p.parse_args()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    ensure_radicale(log)
    reps = args.reps or (1 if args.quick else 3)
    seconds = args.seconds or (5.0 if args.quick else 30.0)
    n_events = args.events or (500 if args.quick else 5_000)
    n_cards = args.cards or (1_000 if args.quick else 10_000)
    events, expected = data.calendar(n_events)
    cards = data.cards(n_cards)
    work = tempfile.mkdtemp(prefix="ardoise-r10-", dir="/var/tmp")
    sides = [Ardoise(work, args.binary), Radicale(work)]
    started = []
    try:
        loading = {}
        for s in sides:
            s.start()
            started.append(s)
            log(f"{s.name} on 127.0.0.1:{s.port}; loading {n_events} events and {n_cards} cards")
            loading[s.name] = load(s, USER, PASSWORD, events, cards,
                                   files=s.name == "radicale" and args.radicale_load == "files")
            log(f"{s.name}: loaded in {loading[s.name]}")
        workloads = data.workloads(expected, n_events, n_cards)
        if args.only:
            workloads = {w: spec for w, spec in workloads.items() if w in args.only}
        runs = {w: {s.name: [] for s in sides} for w in workloads}
        for w, spec in workloads.items():
            for rep in range(reps):
                for s in (sides if rep % 2 == 0 else list(reversed(sides))):
                    r = run_workload(s, USER, PASSWORD, spec, args.clients, seconds)
                    runs[w][s.name].append(r)
                    log(f"{w} rep {rep + 1} {s.name}: {r['requests_per_s']:.1f} req/s, p50 {r['p50_ms']:.1f} ms, "
                        f"p99 {r['p99_ms']:.1f} ms, errors {r['errors']}, peak RSS {r['peak_rss_kib'] // 1024} MiB "
                        f"(anonymous {r['peak_anon_kib'] // 1024}), "
                        f"CPU server {r['cpu_s']:.1f} s, clients {r['client_cpu_s']:.1f} s")
        median = {w: {n: summarize(rs) for n, rs in per.items()} for w, per in runs.items()}
        # No ratio when Radicale completed nothing in the window (its PROPFIND of 5,001 entries under 20
        # clients takes longer than a minute): a division by almost zero is no figure.
        ratios = {w: {"rps_ardoise_over_radicale": (round(m["ardoise"]["requests_per_s"] /
                                                          m["radicale"]["requests_per_s"], 2)
                                                    if m["radicale"]["requests_per_s"] > 0 else None),
                      "rss_ardoise_over_radicale": round(m["ardoise"]["peak_rss_kib"] /
                                                         max(1, m["radicale"]["peak_rss_kib"]), 2),
                      "anon_ardoise_over_radicale": round(m["ardoise"]["peak_anon_kib"] /
                                                          max(1, m["radicale"]["peak_anon_kib"]), 2)}
                  for w, m in median.items()}
        errors = sum(r["errors"] for per in runs.values() for rs in per.values() for r in rs)
        # Only Ardoise's failures fail the run: the reference's own (Radicale resets a keep-alive
        # connection now and then under 20 clients) are recorded in the JSON and printed.
        errors_by_side = {n: sum(r["errors"] for per in runs.values() for r in per.get(n, [])) for n in
                          ("ardoise", "radicale")}
        doc = {
            "kind": "r10-dav", "mode": "quick" if args.quick else "full", "machine": machine(),
            "binary": os.path.abspath(args.binary), "versions": {s.name: s.version() for s in sides},
            "data": {"events": n_events, "cards": n_cards, "events_per_month_2027": expected,
                     "mix": data.MIX_NOTE},
            "clients": args.clients, "seconds": seconds, "reps": reps, "loading": loading,
            "runs": runs, "median": median, "ratios": ratios, "errors": errors,
            "errors_by_side": errors_by_side, "only": args.only,
            "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        }
        print(json.dumps(doc, indent=1))
        save(doc, "r10" if not args.only else "r10-only-" + "-".join(args.only), log)
        if errors_by_side["radicale"]:
            log(f"R10: Radicale failed {errors_by_side['radicale']} requests (recorded in the JSON)")
        if errors_by_side["ardoise"]:
            raise SystemExit(f"R10: Ardoise failed {errors_by_side['ardoise']} requests (see the JSON)")
    finally:
        for s in started:
            s.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
