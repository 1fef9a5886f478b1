"""R8: one circular of 1 MB to 40,000 local recipients, on Ardoise alone.

Target (issue 7): accepted and delivered in < 60 s with < 50 MB of extra disk.
The 40,000 accounts come from an HR file through `ardoise directory sync`, as
an académie would create them; the circular is one SMTP transaction (smtplib,
one RCPT per recipient) on the MX port, and Ardoise answers 250 only once every
copy is durable, so the time to 250 is the time to deliver. Disk is measured
with `du` on the data folder (blobs, SQLite database and WAL) before and after.

    python3 -m bench.r8 --binary target/release/ardoise [--recipients 40000] [--keep]

Prints a JSON line; not a test, never asserts a time.
"""

import argparse
import json
import os
import random
import shutil
import smtplib
import subprocess
import tempfile
import time
from pathlib import Path

DOMAIN = "ac-bench.fr"


def du(path: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, check=True, text=True).stdout.split()[0])


def staff_csv(path: Path, n: int) -> None:
    rng = random.Random(2026)
    prenoms = ["Claire", "Paul", "Hélène", "Jérôme", "Amélie", "François", "Zoé", "Loïc", "Maëlle", "Noël"]
    with open(path, "w", encoding="utf-8") as f:
        f.write("numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n")
        for i in range(n):
            numen = f"{i:08d}{rng.choice('ABCDEFGH')}BNCH"
            f.write(f"{numen};Mme;Agent{i:05d};{rng.choice(prenoms)};enseignant;actif;;;2026-09-01\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--recipients", type=int, default=40_000)
    ap.add_argument("--size", type=int, default=1 << 20)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="ardoise-r8-", dir="/var/tmp"))
    data = root / "data"
    config = root / "ardoise.toml"
    config.write_text(
        f'[server]\nhostname = "mx.{DOMAIN}"\ndata_dir = "{data}"\n\n'
        f'[smtp]\nlisten = ["127.0.0.1:0"]\nmax_recipients = {args.recipients + 10}\n'
        f"max_commands = {args.recipients + 100}\nmax_message_size = {4 * args.size}\n\n"
        '[imap]\nlisten = []\nlisten_tls = []\n\n[submission]\nlisten = []\nlisten_tls = []\n\n[web]\nlisten = []\n\n'
        '[log]\nlevel = "warn"\n'
    )
    run = lambda *a: subprocess.run([args.binary, *a], check=True, capture_output=True)  # noqa: E731
    run("admin", "--config", str(config), "domain", "add", DOMAIN)
    csv = root / "staff.csv"
    staff_csv(csv, args.recipients)
    t = time.monotonic()
    run("directory", "--config", str(config), "sync", str(csv), "--domain", DOMAIN)
    sync_s = time.monotonic() - t
    accounts = json.loads(run("admin", "--config", str(config), "account", "list", "--json").stdout)
    rcpts = [a["address"] for a in accounts][: args.recipients]
    assert len(rcpts) == args.recipients, len(rcpts)

    proc = subprocess.Popen([args.binary, "serve", "--config", str(config)], stdout=subprocess.DEVNULL,
                            stderr=open(root / "server.log", "wb"))
    try:
        listeners = data / "listeners.json"
        deadline = time.time() + 60
        while not listeners.exists():
            assert proc.poll() is None and time.time() < deadline, (root / "server.log").read_text()
            time.sleep(0.1)
        port = int(json.loads(listeners.read_text())["smtp"].rsplit(":", 1)[1])
        body = ("Madame, Monsieur,\r\n\r\nVeuillez trouver la circulaire de rentrée.\r\n" * 40).encode()
        filler = (b"x" * 76 + b"\r\n") * ((args.size - len(body)) // 78)
        message = (f"From: <recteur@{DOMAIN}>\r\nTo: undisclosed-recipients:;\r\n"
                   "Subject: Circulaire de rentree\r\nMessage-ID: <r8@bench>\r\n\r\n").encode() + body + filler
        time.sleep(2)  # let the index catch-up and other start-up work settle
        before = du(data)
        parts_before = {p.name: du(p) for p in sorted(data.iterdir()) if p.name != "listeners.json"}
        cpu_before = os.times()
        t = time.monotonic()
        with smtplib.SMTP("127.0.0.1", port, timeout=600) as s:
            refused = s.sendmail(f"recteur@{DOMAIN}", rcpts, message)
        accepted_s = time.monotonic() - t
        assert refused == {}, f"{len(refused)} refused"
        after = du(data)
        parts_at_250 = {p.name: du(p) for p in sorted(data.iterdir()) if p.name != "listeners.json"}
        # Spot check: the last recipient has the message.
        last = json.loads(run("admin", "--config", str(config), "message", "list", rcpts[-1], "--json").stdout)
        assert any(m["subject"] == "Circulaire de rentree" for m in last), last
        blobs = json.loads(run("admin", "--config", str(config), "blob", "stats", "--json").stdout)
        # The spot check above opened the store and wrote (its migrations check):
        # SQLite resets the WAL then, cutting it back to journal_size_limit.
        later = du(data)
        parts = {p.name: du(p) for p in sorted(data.iterdir()) if p.name != "listeners.json"}
        result = {
            "workload": "R8 circular",
            "recipients": args.recipients,
            "message_bytes": len(message),
            "sync_seconds": round(sync_s, 1),
            "accepted_and_delivered_seconds": round(accepted_s, 1),
            "extra_disk_mb": round((after - before) / 1e6, 1),
            "extra_disk_mb_after_next_write": round((later - before) / 1e6, 1),
            "blob_files": blobs["files"],
            "data_dir_mb_before": {k: round(v / 1e6, 1) for k, v in parts_before.items() if v > 50_000},
            "data_dir_mb_at_250": {k: round(v / 1e6, 1) for k, v in parts_at_250.items() if v > 50_000},
            "data_dir_mb_after_next_write": {k: round(v / 1e6, 1) for k, v in parts.items() if v > 50_000},
            "client_cpu_seconds": round(os.times().user - cpu_before.user, 1),
            "target": "< 60 s, < 50 MB",
        }
        print(json.dumps(result))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
