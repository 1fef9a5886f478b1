"""Entry point behind bench/run: sets up both sides in one work dir, runs the workloads,
writes bench/out/<workload>-<stamp>.json (+ latest-<workload>.json)."""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile

from . import imap, r5, r47, servers

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/
# bench/out is per machine and not committed; the latest full results are also copied here
# (committed), so that a later run of one workload on another machine can still rebuild the page.
RESULTS = os.path.join(HERE, "results")


def save(doc: dict, kind: str, log) -> None:
    """Writes bench/out/<kind>-<mode>-<stamp>.json and latest-<kind>-<mode>.json (full mode: also into
    bench/results/)."""
    out = os.path.join(HERE, "out")
    os.makedirs(out, exist_ok=True)
    mode, stamp = doc["mode"], doc["machine"]["date"].replace(":", "")
    dirs = [(out, f"{kind}-{mode}-{stamp}.json"), (out, f"latest-{kind}-{mode}.json")]
    if mode == "full":
        os.makedirs(RESULTS, exist_ok=True)
        dirs.append((RESULTS, f"latest-{kind}-{mode}.json"))
    for d, name in dirs:
        with open(os.path.join(d, name), "w") as f:
            json.dump(doc, f, indent=1)
    log(f"wrote {out}/latest-{kind}-{mode}.json")


def previous(kind: str, mode: str) -> dict | None:
    """The latest results of `kind` from bench/out, else from bench/results."""
    for d in (os.path.join(HERE, "out"), RESULTS):
        path = os.path.join(d, f"latest-{kind}-{mode}.json")
        if os.path.exists(path):
            return json.load(open(path))
    return None


def machine() -> dict:
    cpu = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1])
    fs = subprocess.run(["df", "-T", HERE], capture_output=True, text=True).stdout.splitlines()[-1].split()
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(), "filesystem": fs[1] if len(fs) > 1 else "?",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--binary", required=True)
    p.add_argument("--keep", action="store_true", help="keep the work dir for inspection")
    p.add_argument("--reps", type=int)
    p.add_argument("--scale", type=float, default=1.0, help="multiply message counts")
    p.add_argument("--only", choices=["r5", "imap", "r4", "r7"],
                   help="run only these workloads (default: all): r5, imap (R1-R3), r4 (idle), r7 (large mailbox)")
    p.add_argument("--r7-messages", type=int, help="messages in R7's mailbox (default 100,000; quick 5,000)")
    p.add_argument("--r7-ref-append", type=int,
                   help="R7: messages Dovecot gets by APPEND (default 10,000); the rest are written as Maildir "
                        "files and indexed with doveadm index")
    p.add_argument("--r4-connections", type=int, help="idle connections in R4 (default 10,000; quick 500)")
    p.add_argument("--imapload", help="imapload binary (R1-R3)")
    p.add_argument("--r1-seconds", type=float, default=120.0, help="duration of each R1 repetition")
    p.add_argument("--imap-cells", help=f"comma-separated subset of {','.join(imap.CELLS)}; the other cells "
                   "of the last IMAP report are kept")
    args = p.parse_args()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    reps = args.reps or (1 if args.quick else 3)
    # (size, sessions, messages): enough messages for several seconds per cell in full mode.
    if args.quick:
        cells = [(5120, 1, 100), (5120, 20, 200), (76800, 1, 50), (76800, 20, 100)]
    else:
        cells = [(5120, 1, 2000), (5120, 20, 4000), (76800, 1, 1000), (76800, 20, 2000)]
    cells = [(s, c, max(c, int(n * args.scale))) for s, c, n in cells]

    users = servers.accounts(20)
    if args.only in (None, "imap"):
        run_imap(args, reps, users, log)
    if args.only in (None, "r4", "r7"):
        run_r47(args, reps, log)
    if args.only in ("imap", "r4", "r7"):
        return
    work = tempfile.mkdtemp(prefix="ardoise-bench-", dir="/var/tmp")
    # /var/tmp, like the checkout, is on the disk (not tmpfs) so fsync costs what it costs.
    sides = [servers.Ardoise(work, args.binary, users), servers.PostfixDovecot(work, users)]
    try:
        for s in sides:
            s.setup()
            s.start()
            log(f"{s.name}: up, smtp on 127.0.0.1:{s.smtp_port}")
        results = r5.run(sides, users, cells, reps, log)
        doc = {
            "workload": "R5", "mode": "quick" if args.quick else "full", "reps": reps,
            "machine": machine(), "versions": {s.name: s.version() for s in sides},
            "commit": os.environ.get("ARDOISE_COMMIT") or subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout.strip() or "none",
            # a binary built by bench/run from a working tree with uncommitted changes is not HEAD
            "dirty": not os.environ.get("ARDOISE_BIN") and bool(subprocess.run(
                ["git", "status", "--porcelain", "--", "crates", "Cargo.toml", "Cargo.lock"],
                capture_output=True, text=True, cwd=HERE).stdout.strip()),
            "binary": args.binary,
            "work_dir_fs": subprocess.run(["df", "-T", work], capture_output=True, text=True)
            .stdout.splitlines()[-1].split()[1],
            "cells": results,
        }
    finally:
        for s in sides:
            s.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"work dir kept: {work}")
    save(doc, "r5", log)


def run_r47(args, reps: int, log) -> None:
    """R4 and R7 against Dovecot imapd; writes bench/out/latest-r47-<mode>.json (a run of only one of
    them keeps the other's section of the previous file)."""
    if not args.imapload:
        raise SystemExit("--imapload is required for the IMAP workloads")
    work = tempfile.mkdtemp(prefix="ardoise-bench-r47-", dir="/var/tmp")
    try:
        res = r47.run(args.binary, args.imapload, work, args.quick, reps, log, args.only if args.only in ("r4", "r7")
                      else None, args.r7_messages, args.r4_connections, args.r7_ref_append)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"work dir kept: {work}")
    mode = "quick" if args.quick else "full"
    doc = {
        "workload": "R4R7", "mode": mode, "machine": machine(),
        "commit": os.environ.get("ARDOISE_COMMIT") or subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout.strip() or "none",
        "binary": args.binary, "imapload": args.imapload, **res,
    }
    for k in ("r4", "r7"):
        if k in doc:
            doc[k]["date"] = doc["machine"]["date"]
    old = previous("r47", mode)
    if old:
        for k in ("r4", "r7"):
            if k not in doc and k in old:
                doc[k] = old[k]
    save(doc, "r47", log)


def run_imap(args, reps: int, users: list[str], log) -> None:
    """R1-R3 against Dovecot imapd; writes bench/out/latest-imap-<mode>.json."""
    if not args.imapload:
        raise SystemExit("--imapload is required for the IMAP workloads")
    work = tempfile.mkdtemp(prefix="ardoise-bench-imap-", dir="/var/tmp")
    try:
        only = args.imap_cells.split(",") if args.imap_cells else None
        res = imap.run(args.binary, args.imapload, work, users, args.quick, reps, log, args.r1_seconds, only)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"work dir kept: {work}")
    doc = {
        "workload": "IMAP", "mode": "quick" if args.quick else "full", "reps": reps, "machine": machine(),
        "commit": os.environ.get("ARDOISE_COMMIT") or subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout.strip() or "none",
        "binary": args.binary, "imapload": args.imapload, "r1_seconds": args.r1_seconds, **res,
    }
    for c in doc["cells"]:
        c["date"], c["commit"] = doc["machine"]["date"], doc["commit"]
    old = previous("imap", doc["mode"])
    if args.imap_cells and old:
        # a partial run replaces its cells and keeps the others (each cell carries its date)
        names = {c["name"] for c in doc["cells"]}
        kept = [dict(c, date=c.get("date", old["machine"]["date"]), commit=c.get("commit", old["commit"]))
                for c in old["cells"] if c["name"] not in names]
        order = [c["name"] for c in old["cells"]]
        rank = {"R1": 0, "R3": 1, "R2": 2}
        doc["cells"] = sorted(kept + doc["cells"], key=lambda c: (
            rank.get(c["name"].split()[0], 9), order.index(c["name"]) if c["name"] in order else len(order)))
        doc["earlier_run"] = old["machine"]["date"]
    save(doc, "imap", log)


if __name__ == "__main__":
    main()
