"""R8: one circular of 1 MB to 40,000 local recipients, Ardoise and the reference side by side.

Target (issue 7): accepted and delivered in < 60 s with < 50 MB of extra disk.
Both sides get the same 40,000 accounts (`prenom.nom@ac-bench.fr`, from one HR file) and the
same single SMTP transaction (smtplib, one RCPT per recipient, the same 1 MB body) on a
loopback port. The sides run one after the other, never at the same time.

- Ardoise: the accounts come from the HR file through `ardoise directory sync`, as an
  académie would create them; `[smtp] max_recipients` and `max_commands` are raised (their
  defaults, 1,000, refuse the transaction). Ardoise answers 250 only once every copy is
  durable, so the time to 250 is the time to deliver. Disk: `du -sb` of the data folder
  (blobs, SQLite database and WAL) before and after.
- reference: Postfix (Debian's package) on 127.0.0.1:2628 delivering through Dovecot LMTP
  into Maildir with mail_fsync = always, configured as R5's (bench/harness/servers.py), the
  accounts in its vmailbox map and Dovecot's passwd-file. Only `smtpd_recipient_limit` is
  raised (its default, 1,000, refuses the transaction); the limits that pace delivery
  (lmtp_destination_recipient_limit, ...) keep their defaults, printed under "defaults".
  Postfix answers 250 once the message is queued (fsync'd), before delivering it. Delivered:
  when its maillog has one LMTP `status=sent` line per recipient (read as it grows, every
  20 ms), timed from the same connection. Disk: `du -sb` of the queue folder and of the mail
  root before, right after the 250 and once delivered (after the queue file is removed; also
  in allocated blocks, since Maildir is many small files); then one walk checks that every
  Maildir holds exactly one message and counts the distinct inodes (whether Dovecot
  hardlinked the copies).

Both sides: CPU seconds and peak PSS of the server's process tree from the connection to the
end of delivery (bench/harness/procmon.py, as R5).

With --via-list (Ardoise only, issue 22), the same 40,000 accounts sit in an académie of 4 DSDEN
and 80 établissements (500 agents each, by their UAI in the HR file), a dynamic list
`circulaire@ac-bench.fr` reaches the whole académie (`ardoise admin list create --dynamic
--academie`, post policy "anyone"), and the circular is sent once, to the list's address (one
RCPT). The MX answers 250 once the list's fan-out is durable (expansion from the directory, list
headers added, one delivery to every member), so the time to 250 is again the time until all
40,000 have it; the run checks that the list reaches 40,000 before sending and that the store
holds 40,000 messages after.

    python3 -m bench.r8 --plot bench/out/latest-r8.json   # redraw bench/plots/r8-circular.png
    python3 -m bench.r8 --binary target/release/ardoise [--side ardoise|ref|both]
                        [--recipients 40000] [--size 1048576] [--keep]
    python3 -m bench.r8 --binary target/release/ardoise --via-list   # the same, through a dynamic list

--binary is needed unless --side ref. Needs root for the reference (installs Debian's postfix
and dovecot-lmtpd if missing, as bench/run does; runs them from private config folders under
/var/tmp; port 25 and the system instances are untouched). Prints one JSON line: Ardoise's
figures at the top level, the reference's under "reference". Not a test, never asserts a time;
exits 1 after printing if some reference Maildir does not hold exactly one message.
"""

import argparse
import json
import os
import random
import shutil
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path

from .harness import procmon
from .harness.servers import PostfixDovecot

DOMAIN = "ac-bench.fr"
SENDER = f"recteur@{DOMAIN}"
LIST = f"circulaire@{DOMAIN}"
# --via-list: the académie's tree, and the agents spread over its établissements.
DSDENS, SCHOOLS_PER_DSDEN = 4, 20
REF_PORT = 2628  # R8's own: never collides with R5's reference (2626) or R6's Postfix (2627)
REF_PACKAGES = ("postfix", "dovecot-lmtpd")
# Reported, never changed: what paces the reference's delivery of a large circular.
REF_DEFAULTS = ("lmtp_destination_recipient_limit", "lmtp_destination_concurrency_limit",
                "qmgr_message_recipient_limit", "message_size_limit")


def du(path: Path, apparent: bool = True) -> int:
    """Bytes under path: apparent sizes (`du -sb`), or allocated blocks. A file that vanishes
    during the walk (a Maildir tmp/ file being moved) makes du exit 1; its total still counts."""
    p = subprocess.run(["du", "-sb" if apparent else "-sB1", str(path)], capture_output=True, text=True)
    if p.returncode > 1 or not p.stdout:
        raise RuntimeError(f"du {path}: {p.stderr}")
    return int(p.stdout.split()[0])


def staff(n: int) -> list[tuple[str, str, str]]:
    """(numen, prenom, nom) of n teachers, the same on every run."""
    rng = random.Random(2026)
    prenoms = ["Claire", "Paul", "Hélène", "Jérôme", "Amélie", "François", "Zoé", "Loïc", "Maëlle", "Noël"]
    return [(f"{i:08d}{rng.choice('ABCDEFGH')}BNCH", rng.choice(prenoms), f"Agent{i:05d}") for i in range(n)]


def address(prenom: str, nom: str) -> str:
    """`prenom.nom@domain` as `directory sync` makes it, for these plain names (no collisions:
    every nom is distinct), so that the reference gets exactly Ardoise's addresses."""
    ascii_ = lambda s: unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()  # noqa: E731
    return f"{ascii_(prenom)}.{ascii_(nom)}@{DOMAIN}"


def uai(school: int) -> str:
    """A well-formed UAI (7 digits and a letter) for établissement number `school`."""
    return f"054{school:04d}B"


def staff_csv(path: Path, people: list[tuple[str, str, str]], schools: int = 0) -> None:
    """The HR file; with `schools`, agent i works in établissement i % schools (else no UAI:
    the account has no unit, as in the direct run)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n")
        for i, (numen, prenom, nom) in enumerate(people):
            school = uai(i % schools) if schools else ""
            f.write(f"{numen};Mme;{nom};{prenom};enseignant;actif;{school};;2026-09-01\n")


def circular(size: int) -> bytes:
    body = ("Madame, Monsieur,\r\n\r\nVeuillez trouver la circulaire de rentrée.\r\n" * 40).encode()
    filler = (b"x" * 76 + b"\r\n") * ((size - len(body)) // 78)
    return (f"From: <{SENDER}>\r\nTo: undisclosed-recipients:;\r\n"
            "Subject: Circulaire de rentree\r\nMessage-ID: <r8@bench>\r\n\r\n").encode() + body + filler


def send(port: int, rcpts: list[str], message: bytes) -> None:
    """The circular as one transaction; returns at the 250 to DATA (QUIT comes after)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=600) as s:
        refused = s.sendmail(SENDER, rcpts, message)
        assert refused == {}, f"{len(refused)} refused"


def ardoise_config(root: Path, n: int, message_bytes: int) -> Path:
    """Defaults except paths, no listener but the MX, log level warn, and the two limits whose
    defaults (1,000) refuse the transaction outright, raised as the reference's is."""
    config = root / "ardoise.toml"
    config.write_text(
        f'[server]\nhostname = "mx.{DOMAIN}"\ndata_dir = "{root / "data"}"\n\n'
        f'[smtp]\nlisten = ["127.0.0.1:0"]\nmax_recipients = {n + 10}\n'
        f"max_commands = {n + 100}\nmax_message_size = {4 * message_bytes}\n\n"
        '[imap]\nlisten = []\nlisten_tls = []\n\n[submission]\nlisten = []\nlisten_tls = []\n\n[web]\nlisten = []\n\n'
        '[log]\nlevel = "warn"\n'
    )
    return config


def start_ardoise(binary: str, config: Path, root: Path) -> tuple[subprocess.Popen, int]:
    """`ardoise serve`, and the MX port it chose (written to listeners.json once it listens)."""
    proc = subprocess.Popen([binary, "serve", "--config", str(config)], stdout=subprocess.DEVNULL,
                            stderr=open(root / "server.log", "wb"))
    listeners = root / "data" / "listeners.json"
    deadline = time.time() + 60
    while not listeners.exists():
        assert proc.poll() is None and time.time() < deadline, (root / "server.log").read_text()
        time.sleep(0.1)
    return proc, int(json.loads(listeners.read_text())["smtp"].rsplit(":", 1)[1])


def data_parts(data: Path) -> dict[str, int]:
    return {p.name: du(p) for p in sorted(data.iterdir()) if p.name != "listeners.json"}


def mb(parts: dict[str, int]) -> dict[str, float]:
    """The parts worth a line (over 50 kB), in MB."""
    return {k: round(v / 1e6, 1) for k, v in parts.items() if v > 50_000}


def academie(cli, config: Path) -> int:
    """--via-list: an académie, its DSDEN and their établissements; returns how many of those."""
    admin = lambda *a: cli("admin", "--config", str(config), "unit", "add", *a)  # noqa: E731
    admin("Académie de Bench", "--kind", "academie")
    for d in range(DSDENS):
        admin(f"DSDEN {d + 1}", "--kind", "dsden", "--parent", "Académie de Bench")
        for k in range(SCHOOLS_PER_DSDEN):
            school = d * SCHOOLS_PER_DSDEN + k
            admin(f"Collège {school}", "--kind", "etablissement", "--parent", f"DSDEN {d + 1}", "--uai", uai(school))
    return DSDENS * SCHOOLS_PER_DSDEN


def dynamic_list(cli, config: Path, n: int) -> dict:
    """--via-list: the list over the whole académie, checked to reach exactly the n agents."""
    cli("admin", "--config", str(config), "list", "create", LIST, "--dynamic", "--academie",
        "--name", "Circulaire académique")
    shown = json.loads(cli("admin", "--config", str(config), "list", "show", LIST, "--json"))
    reach = shown["reach"]
    assert reach["local"] == n and reach["remote"] == 0, reach
    return {"address": LIST, "kind": shown["kind"], "post_policy": shown.get("post_policy"), "reach": reach["local"],
            "units": 1 + DSDENS + DSDENS * SCHOOLS_PER_DSDEN}


def stored_messages(data: Path) -> int:
    """Message rows in the store (read-only, beside the running server)."""
    with sqlite3.connect(f"file:{data / 'ardoise.db'}?mode=ro", uri=True) as c:
        return c.execute("SELECT count(*) FROM messages").fetchone()[0]


def ardoise_side(binary: str, root: Path, people: list, rcpts: list[str], message: bytes,
                 via_list: bool = False) -> dict:
    root.mkdir()
    data = root / "data"
    config = ardoise_config(root, len(rcpts), len(message))
    cli = lambda *a: subprocess.run([binary, *a], check=True, capture_output=True).stdout  # noqa: E731
    cli("admin", "--config", str(config), "domain", "add", DOMAIN)
    schools = academie(cli, config) if via_list else 0
    staff_csv(root / "staff.csv", people, schools)
    t = time.monotonic()
    cli("directory", "--config", str(config), "sync", str(root / "staff.csv"), "--domain", DOMAIN)
    sync_s = time.monotonic() - t
    accounts = json.loads(cli("admin", "--config", str(config), "account", "list", "--json"))
    missing = set(rcpts) - {a["address"] for a in accounts}
    assert not missing, f"{len(missing)} addresses differ from the reference's, e.g. {sorted(missing)[:3]}"
    listed = dynamic_list(cli, config, len(rcpts)) if via_list else None

    proc, port = start_ardoise(binary, config, root)
    try:
        time.sleep(2)  # let the index catch-up and other start-up work settle
        before, parts_before = du(data), data_parts(data)
        # the sending thread's CPU alone: the memory sampler's thread must not count
        client0, cpu0 = time.thread_time(), procmon.cpu_seconds([proc.pid])
        with procmon.MemSampler(lambda: [proc.pid]) as mem:
            t = time.monotonic()
            send(port, [LIST] if via_list else rcpts, message)
            accepted_s = time.monotonic() - t
        server_cpu, client_cpu = procmon.cpu_seconds([proc.pid]) - cpu0, time.thread_time() - client0
        after, parts_at_250 = du(data), data_parts(data)
        # Spot check: the last recipient has the message.
        last = json.loads(cli("admin", "--config", str(config), "message", "list", rcpts[-1], "--json"))
        assert any(m["subject"] == "Circulaire de rentree" for m in last), last
        blobs = json.loads(cli("admin", "--config", str(config), "blob", "stats", "--json"))
        # The spot check above opened the store and wrote (its migrations check):
        # SQLite resets the WAL then, cutting it back to journal_size_limit.
        later, parts = du(data), data_parts(data)
        stored = stored_messages(data)
        assert stored == len(rcpts), f"{stored} messages stored, {len(rcpts)} expected"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {
        "server": cli("--version").decode().strip(),
        "via": {"list": listed} if via_list else "direct (one RCPT per recipient)",
        "messages_stored": stored,
        "sync_seconds": round(sync_s, 1),
        "accepted_and_delivered_seconds": round(accepted_s, 1),
        "extra_disk_mb": round((after - before) / 1e6, 1),
        "extra_disk_mb_after_next_write": round((later - before) / 1e6, 1),
        "blob_files": blobs["files"],
        "data_dir_mb_before": mb(parts_before),
        "data_dir_mb_at_250": mb(parts_at_250),
        "data_dir_mb_after_next_write": mb(parts),
        "server_cpu_seconds": round(server_cpu, 1),
        "server_peak_pss_kib": mem.peak_pss,
        "client_cpu_seconds": round(client_cpu, 1),
    }


class Maillog:
    """Postfix's maillog_file read as it grows: one LMTP `status=sent` line per delivered
    recipient, which is cheap to poll every 20 ms where walking 40,000 Maildirs is not."""

    def __init__(self, path: str):
        self.path, self.offset = path, 0
        self.sent, self.removed = 0, False

    def poll(self) -> int:
        """Reads the complete lines appended since the last call; returns the recipients
        delivered so far. A deferred or bounced recipient would never be counted: raise."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return self.sent
        chunk = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(chunk)
        for line in chunk.splitlines():
            if b"postfix/lmtp[" in line and b" status=" in line:
                if b" status=sent " not in line:
                    raise RuntimeError(f"reference did not deliver: {line.decode(errors='replace')}")
                self.sent += 1
            elif line.endswith(b": removed"):
                self.removed = True
        return self.sent


def ensure_packages() -> None:
    """Debian's packages, installed as bench/run installs them (their attempt to start the
    system instances is harmless: the benchmark runs its own)."""
    missing = [p for p in REF_PACKAGES if subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True).stdout != "install ok installed"]
    if missing:
        print(f"installing {' '.join(missing)}", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True, stdout=sys.stderr,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def postconf(ref: PostfixDovecot, *args: str) -> str:
    return subprocess.run(["postconf", "-c", ref.pf_conf, *args], check=True, capture_output=True,
                          text=True).stdout


def raise_limits(ref: PostfixDovecot, n: int) -> dict:
    """Only what would refuse the transaction outright, raised as Ardoise's max_recipients is.
    message_size_limit (10,240,000 bytes, envelope included) is not among them: the queue file
    holds about 112 bytes of envelope per recipient, 5.5 MB in all for 1 MB to 40,000."""
    limits = {"smtpd_recipient_limit": str(n + 10)}
    postconf(ref, "-e", *(f"{k}={v}" for k, v in limits.items()))
    return limits


def ref_disk(ref: PostfixDovecot, apparent: bool = True) -> dict:
    return {"queue": du(Path(ref.queue), apparent), "mail": du(Path(ref.mail), apparent)}


def walk_maildirs(ref: PostfixDovecot) -> dict:
    """One walk once delivery is over: every Maildir must hold exactly one message; the
    distinct inodes tell whether Dovecot hardlinked the copies (maildir_copy_with_hardlinks
    lets it link the copies it saves within one LMTP transaction)."""
    per_box: Counter = Counter()
    inodes: dict[int, int] = {}
    for d in ref.maildirs:  # new/ and cur/ of every account
        with os.scandir(d) as it:
            for e in it:
                st = e.stat()
                inodes[st.st_ino] = st.st_size
                per_box[os.path.dirname(d)] += 1
    return {
        "maildirs_not_holding_one_message": len(ref.users) - sum(1 for k in per_box.values() if k == 1),
        "message_files": sum(per_box.values()),
        "distinct_inodes": len(inodes),
        "distinct_message_mb": round(sum(inodes.values()) / 1e6, 1),
    }


def measure_reference(ref: PostfixDovecot, rcpts: list[str], message: bytes) -> dict:
    """The circular, then the wait for its delivery: Postfix's 250 comes before it."""
    n = len(rcpts)
    log = Maillog(os.path.join(ref.log, "postfix.log"))
    time.sleep(2)  # as on Ardoise's side: let start-up settle
    log.poll()  # start-up lines
    before = ref_disk(ref)
    before_allocated = sum(ref_disk(ref, False).values())
    cpu0 = procmon.cpu_seconds(ref.roots())
    with procmon.MemSampler(ref.roots) as mem:
        t0 = time.monotonic()
        send(ref.smtp_port, rcpts, message)
        accepted_s = time.monotonic() - t0
        at_250 = ref_disk(ref)
        delivered_s = procmon.wait_for(lambda: log.poll() >= n, max(600.0, n * 0.05)) - t0
        procmon.wait_for(lambda: log.poll() >= n and log.removed, 60)
    cpu = procmon.cpu_seconds(ref.roots()) - cpu0
    done = ref_disk(ref)
    done_allocated = sum(ref_disk(ref, False).values())
    extra = sum(done.values()) - sum(before.values())
    return {
        "accepted_seconds": round(accepted_s, 1),
        "delivered_seconds": round(delivered_s, 1),
        "extra_disk_mb_at_250": round((sum(at_250.values()) - sum(before.values())) / 1e6, 1),
        "extra_disk_mb_delivered": round(extra / 1e6, 1),
        "extra_disk_mb_delivered_allocated": round((done_allocated - before_allocated) / 1e6, 1),
        "extra_disk_bytes_per_recipient": round(extra / n),
        "disk_mb_at_250": {k: round((at_250[k] - before[k]) / 1e6, 1) for k in before},
        "disk_mb_delivered": {k: round((done[k] - before[k]) / 1e6, 1) for k in before},
        **walk_maildirs(ref),
        "server_cpu_seconds": round(cpu, 1),
        "server_peak_pss_kib": mem.peak_pss,
        "server_peak_processes": mem.peak_procs,
    }


def ref_defaults(ref: PostfixDovecot) -> dict:
    """The values in force (read back, not assumed) of what paces delivery and of what lets
    Dovecot hardlink the copies, to show they are the packages' defaults."""
    defaults = dict(line.split(" = ", 1) for line in postconf(ref, "-x", *REF_DEFAULTS).splitlines())
    defaults["dovecot maildir_copy_with_hardlinks"] = subprocess.run(
        ["doveconf", "-c", ref.dc_conf, "-h", "maildir_copy_with_hardlinks"], check=True, capture_output=True,
        text=True).stdout.strip()
    return defaults


def reference_side(root: Path, rcpts: list[str], message: bytes) -> dict:
    ensure_packages()
    ref = PostfixDovecot(str(root), rcpts, smtp_port=REF_PORT, domain=DOMAIN)
    ref.setup()
    raised = raise_limits(ref, len(rcpts))
    ref.start()
    try:
        return {"server": ref.version(), **measure_reference(ref, rcpts, message), "raised": raised,
                "defaults": ref_defaults(ref)}
    finally:
        ref.stop()


def plot(doc: dict, path: Path) -> None:
    """Time to deliver, extra disk and CPU, both sides (bench/plots/r8-circular.png)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ref = doc["reference"]
    panels = [
        ("delivered into every mailbox, s", doc["accepted_and_delivered_seconds"], ref["delivered_seconds"]),
        ("extra disk once delivered, MB", doc["extra_disk_mb_after_next_write"], ref["extra_disk_mb_delivered"]),
        ("server CPU, s", doc["server_cpu_seconds"], ref["server_cpu_seconds"]),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    for ax, (title, ours, theirs) in zip(axes, panels):
        ax.bar([0, 1], [ours, theirs], width=0.6, color=["#000091", "#e1000f"])
        ax.set_xticks([0, 1], ["Ardoise", "Postfix + Dovecot"])
        ax.set_title(title, fontsize=9)
        for x, v in enumerate((ours, theirs)):
            ax.annotate(f"{v:,.1f}", (x, v), ha="center", va="bottom", fontsize=8)
    fig.suptitle(f"R8: one {doc['message_bytes'] / 1e6:.0f} MB circular to {doc['recipients']:,} local recipients "
                 "(lower is better)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plot", metavar="JSON", help="only draw bench/plots/r8-circular.png from a result line")
    ap.add_argument("--binary", help="the ardoise binary (not needed with --side ref)")
    ap.add_argument("--side", choices=("ardoise", "ref", "both"), default="both")
    ap.add_argument("--recipients", type=int, default=40_000)
    ap.add_argument("--size", type=int, default=1 << 20)
    ap.add_argument("--keep", action="store_true", help="keep the work dir (configs, logs, mailboxes)")
    ap.add_argument("--via-list", action="store_true",
                    help="send the circular once to a dynamic list over the 40,000 (issue 22); Ardoise only")
    args = ap.parse_args()
    if args.plot:
        plot(json.loads(Path(args.plot).read_text()), Path(__file__).resolve().parent / "plots" / "r8-circular.png")
        return
    if args.side != "ref" and not args.binary:
        ap.error("--binary is required unless --side ref")
    if args.via_list:
        if args.side == "ref":
            ap.error("--via-list measures Ardoise alone (the reference has no dynamic lists)")
        args.side = "ardoise"

    people = staff(args.recipients)
    rcpts = [address(prenom, nom) for _, prenom, nom in people]
    message = circular(args.size)
    root = Path(tempfile.mkdtemp(prefix="ardoise-r8-", dir="/var/tmp"))
    result = {"workload": "R8 circular", "recipients": args.recipients, "message_bytes": len(message),
              "target": "< 60 s, < 50 MB"}
    try:
        if args.side in ("ardoise", "both"):
            result |= ardoise_side(args.binary, root / "ardoise", people, rcpts, message, args.via_list)
        if args.side in ("ref", "both"):
            result["reference"] = reference_side(root, rcpts, message)
        print(json.dumps(result), flush=True)
        out = Path(__file__).resolve().parent / "out"
        out.mkdir(exist_ok=True)
        (out / ("latest-r8-via-list.json" if args.via_list else "latest-r8.json")).write_text(json.dumps(result, indent=1))
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            # after the printing: removing the Maildirs is slow here (2,000 of them took
            # 14 to 57 s on this machine's ext4, mounted with `discard`)
            shutil.rmtree(root, ignore_errors=True)
    if result.get("reference", {}).get("maildirs_not_holding_one_message"):
        sys.exit(1)


if __name__ == "__main__":
    main()
