"""Issue 28, search at scale: what one full-text index per node costs, measured on two nodes.

Each node of a cluster keeps its own tantivy index (docs/cluster.md, « Search at scale »): it indexes
what it files itself at once, and what other nodes filed by a look at the `messages` rows above the
last id it saw, every 2 s and before every search. This measures the three costs of that design, on
two nodes sharing one PostgreSQL database (127.0.0.1:5432, a database of its own, dropped at the end)
and one blob folder, on this machine:

1. **Indexing what another node filed**: `imapload bigbox` APPENDs `--messages` messages of the French
   corpus (R7's) into one account on node A (127.0.0.2); node B (127.0.0.3) receives nothing, and
   indexes them all through its looks. The CPU each node spends from the first APPEND until both are
   idle again, per message: A's figure is filing + indexing its own; B's is indexing another's (plus
   the bus events and the looks). With N nodes every node pays B's figure for every message filed
   anywhere: that is what the design multiplies.
2. **A search on each node**: `imapload search` (R7's 20 queries, `UID SEARCH TEXT`), on A then on B,
   alternating, `--reps` times: p50 / p99. Both run the look before each search; nothing changes
   between searches, so the look finds nothing.
3. **The look alone**: its SQL (`SELECT <columns> FROM messages WHERE id > $1 ORDER BY id LIMIT 500`
   at the highest id: what a search's look asks when nothing is new), timed by `pgbench` for 10 s on
   one connection: the fixed cost every search pays for the cluster's invariant.
4. **A search right after a burst on the other node**: k messages APPENDed on A (k = 1, 100, 1,000),
   the last one carrying a word no other message has; at once, on B's session (INBOX selected
   before the burst), a NOOP (which tells the session of the new messages) and a `UID SEARCH TEXT
   <word>`, which must find it (the invariant: acknowledged before the search, found by it); the
   latency of the two includes indexing the burst.

    python3 -m bench.r28_search --binary B --imapload I [--quick] [--messages N] [--reps R] [--keep]

`--quick`: 2,000 messages, 1 repetition, bursts of 1 and 100 (about 2 minutes). Prints one JSON document
and writes bench/out/latest-r28-search-<mode>.json (full mode: bench/results/ too). Not a test: it
asserts no time; it exits non-zero if a node fails or a search misses what was acknowledged.
"""

import argparse
import imaplib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from .harness import procmon
from .harness.main import machine, save
from .r28_load import DOMAIN, IPS, Node, log, psql, settle

PASSWORD = "Bench-Ardoise-2026"
USER = f"lecteur@{DOMAIN}"


def imapload(binary: str, node: Node, workload: str, *extra: str, timeout: float = 3600) -> dict:
    cmd = [binary, workload, "--addr", f"{node.ip}:{node.imap}", "--user", USER, "--accounts", "1",
           "--seed", "2026", *extra]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, "IMAPLOAD_PASSWORD": PASSWORD})
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()[-800:]}")
    return json.loads(p.stdout)


def look_cost(db: str, work: str) -> dict:
    """The look's query at the highest id, on one connection for 10 s (pgbench)."""
    pgbench = next((p for p in sorted(os.listdir("/usr/lib/postgresql"), reverse=True)
                    if os.path.exists(f"/usr/lib/postgresql/{p}/bin/pgbench")), None)
    if pgbench is None:
        return {"error": "pgbench not found"}
    mark = psql("SELECT COALESCE(MAX(id), 0) FROM messages", db)
    cols = psql("SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns "
                "WHERE table_name = 'messages'", db)
    script = os.path.join(work, "look.sql")
    with open(script, "w") as f:
        f.write(f"\\set mark {mark}\nSELECT {cols} FROM messages WHERE id > :mark ORDER BY id LIMIT 500;\n")
    cmd = [f"/usr/lib/postgresql/{pgbench}/bin/pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-c", "1",
           "-T", "10", "-M", "prepared", "-f", script, db]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": p.stderr.strip()[-400:]}
    out = {"command": " ".join(cmd[:-2] + ["look.sql", db]), "mark": int(mark)}
    for line in p.stdout.splitlines():
        if line.startswith("latency average"):
            out["latency_ms"] = float(line.split("=")[1].split()[0])
        elif line.startswith("tps"):
            out["per_second"] = float(line.split("=")[1].split()[0])
    return out


def message(word: str, i: int) -> bytes:
    return (f"From: drh@rectorat.example.org\r\nTo: {USER}\r\nSubject: Rafale {i}\r\n"
            f"Message-ID: <rafale-{time.time_ns()}-{i}@bench>\r\n\r\nCompte rendu du conseil, point {i} :"
            f" {word if i < 0 else ''} les dates des conseils de classe.\r\n").encode()


def burst(a: Node, b: Node, k: int, tag: str) -> dict:
    """k APPENDs on A, the last with a unique word, then at once SEARCH TEXT on B."""
    word = f"zq{tag}x{k}y{int(time.time() * 1000) % 100000}"
    ia, ib = imaplib.IMAP4(a.ip, a.imap), imaplib.IMAP4(b.ip, b.imap)
    try:
        ia.login(USER, PASSWORD)
        ib.login(USER, PASSWORD)
        ib.select("INBOX")
        t = time.monotonic()
        for i in range(k - 1):
            typ, _ = ia.append("INBOX", None, None, message(word, i))
            assert typ == "OK"
        last = message(word, -1)
        typ, data = ia.append("INBOX", None, None, last)
        if typ != "OK":
            raise RuntimeError(f"APPEND on A: {typ} {data}")
        appended = time.monotonic() - t
        t = time.monotonic()
        ib.noop()  # B's session learns of the new message (IMAP: a search sees the session's messages)
        typ, data = ib.uid("SEARCH", "TEXT", word)
        took = time.monotonic() - t
        found = len(data[0].split()) if typ == "OK" and data and data[0] else 0
        if found != 1:
            raise RuntimeError(f"SEARCH TEXT {word} on B right after its APPEND on A found {found}, not 1")
        return {"k": k, "append_s": round(appended, 3), "noop_and_search_on_b_ms": round(took * 1000, 1), "found": found}
    finally:
        for c in (ia, ib):
            try:
                c.logout()
            except Exception:
                pass


def main() -> None:
    p = argparse.ArgumentParser(description="Issue 28: the cost of one full-text index per node")
    p.add_argument("--binary", required=True, help="the ardoise binary (release build for a measurement)")
    p.add_argument("--imapload", required=True, help="the imapload binary (release build)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--messages", type=int)
    p.add_argument("--reps", type=int)
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    n = args.messages or (2_000 if args.quick else 20_000)
    reps = args.reps or (1 if args.quick else 3)
    bursts = [1, 100] if args.quick else [1, 100, 1000]
    work = tempfile.mkdtemp(prefix="ardoise-r28s-", dir="/var/tmp")
    db = f"ardoise_r28s_{os.getpid()}"
    url = f"postgres://postgres@127.0.0.1:5432/{db}"
    blobs = os.path.join(work, "blobs")
    nodes: list[Node] = []
    doc: dict = {"kind": "r28-search", "mode": "quick" if args.quick else "full", "machine": machine(),
                 "binary": os.path.abspath(args.binary), "messages": n, "reps": reps}
    try:
        psql(f"CREATE DATABASE {db}")
        a = Node(args.binary, os.path.join(work, "a"), IPS[0], url, blobs, None, 1000)
        a.admin("domain", "add", DOMAIN)
        a.admin("account", "create", USER, "--name", "Lecteur", "--password-stdin", stdin=PASSWORD + "\n")
        a.start()
        nodes.append(a)
        a.stop()
        b_root = os.path.join(work, "b")
        os.makedirs(b_root)
        shutil.copytree(a.data, os.path.join(b_root, "data"),
                        ignore=shutil.ignore_patterns("search", "tmp", "listeners.json"))
        b = Node(args.binary, b_root, IPS[1], url, blobs, None, 1000)
        nodes.append(b)
        a.start()
        b.start()
        settle([a.proc.pid, b.proc.pid])

        log(f"1. {n} messages APPENDed on A ({a.ip}); B ({b.ip}) indexes them through its looks")
        cpu0 = {x.ip: procmon.cpu_seconds([x.proc.pid]) for x in nodes}
        t = time.monotonic()
        load = imapload(args.imapload, a, "bigbox", "--messages", str(n), "--clients", "4", "--window", "16")
        appended = time.monotonic() - t
        waited = settle([a.proc.pid, b.proc.pid], timeout=1800)
        cpu = {x.ip: procmon.cpu_seconds([x.proc.pid]) - cpu0[x.ip] for x in nodes}
        doc["indexing"] = {
            "append_s": round(appended, 1), "settle_s": round(waited, 1),
            "a_cpu_s": round(cpu[a.ip], 2), "b_cpu_s": round(cpu[b.ip], 2),
            "a_ms_per_message": round(cpu[a.ip] * 1000 / n, 3), "b_ms_per_message": round(cpu[b.ip] * 1000 / n, 3),
            "b_messages_per_cpu_second": round(n / max(cpu[b.ip], 1e-9)),
            "index_bytes": {x.ip: sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in
                                      os.walk(os.path.join(x.data, "search")) for f in fs) for x in nodes},
            "bigbox": {k: load.get(k) for k in ("messages", "load_seconds", "load_per_second", "first_search")},
        }
        log(f"   {doc['indexing']}")

        log(f"2. UID SEARCH TEXT, R7's queries, on A and on B, {reps} rounds each")
        doc["search"] = {"a": [], "b": []}
        for rep in range(reps):
            for side, node in ((("a", a), ("b", b)) if rep % 2 == 0 else (("b", b), ("a", a))):
                r = imapload(args.imapload, node, "search", "--repeat", "1")
                if r.get("errors"):
                    raise RuntimeError(f"search on {side}: {r['errors']} errors")
                doc["search"][side].append(r["latency"])
                lat = r["latency"]
                log(f"   {side} round {rep + 1}: p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms")
        doc["search_median"] = {side: {q: statistics.median(x[q] for x in rs) for q in ("p50_ms", "p99_ms")}
                                for side, rs in doc["search"].items()}

        log("3. the look's query alone (pgbench, 10 s, one connection)")
        doc["look"] = look_cost(db, work)
        log(f"   {doc['look']}")

        log(f"4. bursts on A, then at once SEARCH on B: {bursts}")
        doc["bursts"] = []
        for rep in range(reps):
            for k in bursts:
                r = burst(a, b, k, f"r{rep}")
                settle([a.proc.pid, b.proc.pid])
                doc["bursts"].append(r)
                log(f"   {r}")
        doc["errors"] = [x.ip for x in nodes if x.proc.poll() is not None]
    finally:
        for x in nodes:
            x.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            try:
                psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            except RuntimeError as e:
                log(f"drop database: {e}")
    print(json.dumps(doc, indent=2))
    save(doc, "r28-search", log)
    if doc.get("errors"):
        sys.exit(1)


if __name__ == "__main__":
    main()
