"""`ardoise migrate imap` against a real Dovecot (Debian's dovecot-imapd) started by the test with
a private configuration (TLS with a certificate made here, `.` as separator, a master user), and
`ardoise import mbox|maildir` (issue 23, "Verified by").

Three users hold 5,000 messages in nested French folders with flags, keywords and internal dates,
put there by APPEND. The migration is killed half-way, run again (it must complete
without a duplicate), and every message's bytes, flags, folder and internal date are compared
through imaplib on both sides; a third run copies nothing; --verify finds no difference; --dry-run
writes nothing; a wrong password fails that account alone; a UIDVALIDITY change falls back to
fingerprints; a master user's login migrates a third account."""

import base64
import imaplib
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

import pytest

from conftest import DOMAIN, IN_CI, STORE, Server, binary, require_tool
from imap_folders import folder_messages, mutf7, no_verify, quoted

PASSWORD = "Ardoise-Test-2026"
MASTER_PASSWORD = "Maitre-Test-2026"

DOVECOT_CONF = """\
instance_name = ardoise-migrate-{port}
base_dir = {root}/run
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = yes
auth_master_user_separator = *
log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%n/Maildir
mail_fsync = never
namespace inbox {{
  inbox = yes
  separator = .
  mailbox Sent {{
    special_use = \\Sent
  }}
  mailbox Drafts {{
    special_use = \\Drafts
  }}
  mailbox Trash {{
    special_use = \\Trash
  }}
}}
passdb {{
  driver = passwd-file
  master = yes
  args = {root}/masters
  pass = yes
}}
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""

# Source folder (Dovecot's name, `.` separated) -> message count, per user; 5,000 in all.
CORPUS = {
    "claire": {
        "INBOX": 900,
        "Sent": 400,
        "Réunions.Conseil de classe": 300,
        "Réunions.Conseil d'administration": 200,
        "Projets.Année 2025-2026.Sorties scolaires": 300,
        "Drafts": 50,
        "Trash": 100,
        "Junk": 50,
    },
    "paul": {"INBOX": 800, "Éléments envoyés": 300, "Élèves & familles": 200, "Archives.2024": 200},
    "lea": {"INBOX": 600, "Sent Items": 300, "Dossiers partagés.Équipe pédagogique": 300},
}
UNSUBSCRIBED = {"claire": "Junk", "paul": "Archives.2024", "lea": "Sent Items"}
SPECIAL = {
    "INBOX": "INBOX",
    "Sent": "Envoyés",
    "Sent Items": "Envoyés",
    "Éléments envoyés": "Envoyés",
    "Drafts": "Brouillons",
    "Trash": "Corbeille",
    "Junk": "Indésirables",
}
KEYWORDS = ["$Label1", "Travail", "$Forwarded", "Important"]
SYSTEM_FLAGS = ["\\Seen", "\\Answered", "\\Flagged", "\\Draft", "\\Deleted"]


def ours(folder: str) -> str:
    return SPECIAL.get(folder, folder.replace(".", "/"))


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Dovecot:
    def __init__(self):
        if os.geteuid() != 0:
            if IN_CI:
                pytest.fail("the migration test runs Dovecot as root under CI")
            pytest.skip("Dovecot needs root to start from a private configuration")
        require_tool("dovecot")
        require_tool("openssl")
        # Under /var/tmp with open permissions: Dovecot's mail processes run as nobody.
        self.root = tempfile.mkdtemp(prefix="ardoise-migrate-", dir="/var/tmp")
        os.chmod(self.root, 0o755)
        os.makedirs(os.path.join(self.root, "mail"))
        shutil.chown(os.path.join(self.root, "mail"), "nobody", "nogroup")
        self.port, self.tls_port = free_port(), free_port()
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-keyout", os.path.join(self.root, "key.pem"), "-out", os.path.join(self.root, "cert.pem")],
            check=True, capture_output=True)
        with open(os.path.join(self.root, "users"), "w") as f:
            for user in CORPUS:
                f.write(f"{user}:{{PLAIN}}{PASSWORD}:65534:65534::{self.root}/mail/{user}::\n")
        with open(os.path.join(self.root, "masters"), "w") as f:
            f.write(f"migration:{{PLAIN}}{MASTER_PASSWORD}\n")
        self.conf = os.path.join(self.root, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(DOVECOT_CONF.format(root=self.root, port=self.port, tls_port=self.tls_port))
        with open(os.path.join(self.root, "start.log"), "w") as out:
            subprocess.run(["dovecot", "-c", self.conf], check=True, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.tls_port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"dovecot did not start; see {self.root}/dovecot.log")

    def login(self, user: str) -> imaplib.IMAP4_SSL:
        conn = imaplib.IMAP4_SSL("127.0.0.1", self.tls_port, ssl_context=no_verify())
        conn.login(user, PASSWORD)
        return conn

    def stop(self):
        subprocess.run(["dovecot", "-c", self.conf, "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.2)
        shutil.rmtree(self.root, ignore_errors=True)


def message(user: str, folder: str, n: int, rng: random.Random) -> bytes:
    subject = f"{folder} n°{n} — réunion élèves"
    lines = [
        f"From: Équipe {user} <{user}@ac-source.fr>",
        f"To: {user}@ac-source.fr",
        "Subject: =?utf-8?b?" + base64.b64encode(subject.encode()).decode() + "?=",
        f"Date: Tue, {1 + n % 28} Sep 2025 10:{n % 60:02d}:00 +0200",
    ]
    if n % 50 != 7:  # some messages have no Message-ID at all
        lines.append(f"Message-ID: <{user}.{n}.{abs(hash(folder)) % 100000}@ac-source.fr>")
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", ""]
    body = [f"Bonjour, message {n} du dossier « {folder} ».", "From the start of a line.", ">From quoted."]
    body += ["ligne " + "é" * rng.randint(0, 40) for _ in range(rng.randint(1, 30))]
    if n % 700 == 0:
        blob = base64.b64encode(rng.randbytes(150_000)).decode()
        body += [blob[i:i + 76] for i in range(0, len(blob), 76)]
    return ("\r\n".join(lines + body) + "\r\n").encode()


def fill(dovecot: Dovecot):
    """Folders and subscriptions through imaplib; the messages by APPEND, pipelined with LITERAL+
    (RFC 7888) on a TLS socket: 5,000 synchronising APPENDs through imaplib took a minute."""
    rng = random.Random(23)
    for user, folders in CORPUS.items():
        conn = dovecot.login(user)
        appends = []
        for folder, count in folders.items():
            if folder != "INBOX":
                typ, data = conn.create(quoted(folder))
                assert typ == "OK", (folder, data)
            if folder != UNSUBSCRIBED[user]:
                conn.subscribe(quoted(folder))
            for n in range(count):
                flags = [f for f in SYSTEM_FLAGS if rng.random() < 0.3] + [k for k in KEYWORDS if rng.random() < 0.15]
                when = 1_700_000_000 + rng.randint(0, 60_000_000)
                zone = rng.choice(["+0000", "+0100", "+0200", "-0500"])
                date = time.strftime("%d-%b-%Y %H:%M:%S", time.gmtime(when + zone_seconds(zone))) + " " + zone
                appends.append((folder, "(" + " ".join(flags) + ")", date, message(user, folder, n, rng)))
        conn.logout()
        pipelined_append(dovecot, user, appends)


def pipelined_append(dovecot: Dovecot, user: str, appends: list):
    sock = no_verify().wrap_socket(socket.create_connection(("127.0.0.1", dovecot.tls_port), 30))
    reader = sock.makefile("rb")
    assert reader.readline().startswith(b"* OK")

    def run(commands: list):
        sock.sendall(b"".join(commands))
        waiting = len(commands)
        while waiting:
            line = reader.readline()
            assert line, "dovecot closed the connection"
            if line.startswith(b"t"):
                assert line.split(b" ")[1] == b"OK", line
                waiting -= 1

    run([f't0 LOGIN {user} "{PASSWORD}"\r\n'.encode()])
    for start in range(0, len(appends), 200):
        commands = []
        for i, (folder, flags, date, body) in enumerate(appends[start:start + 200]):
            head = f't{start + i + 1} APPEND {quoted(folder)} {flags} "{date}" {{{len(body)}+}}\r\n'
            commands.append(head.encode() + body + b"\r\n")
        run(commands)
    sock.close()


def zone_seconds(zone: str) -> int:
    sign = -1 if zone[0] == "-" else 1
    return sign * (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60)


def ardoise_login(server: Server, address: str) -> imaplib.IMAP4_SSL:
    conn = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=no_verify())
    conn.login(address, PASSWORD)
    return conn


def subscriptions(conn: imaplib.IMAP4) -> set:
    typ, data = conn.lsub('""', "*")
    assert typ == "OK"
    names = set()
    for line in data:
        m = re.match(rb'\(.*?\) (?:"[^"]*"|NIL) (.*)$', line or b"")
        if m:
            names.add(m.group(1).decode().strip('"'))
    return names


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    dovecot = Dovecot()
    root = tmp_path_factory.mktemp("migrate")
    server = Server(root / "ardoise")
    try:
        fill(dovecot)
        addresses = {user: server.create(user, password=PASSWORD) for user in CORPUS}
        server.start()
        yield {"dovecot": dovecot, "server": server, "addresses": addresses, "root": root}
    finally:
        server.cleanup()
        dovecot.stop()


def migrate(world, *args, csv_rows=None, password=None, wait=True):
    root = world["root"]
    cmd = [binary(), "migrate", "imap", "--config", str(world["server"].config), "--host", "127.0.0.1",
           "--port", str(world["dovecot"].tls_port), "--tls", "--insecure-accept-any-cert"]
    if csv_rows is not None:
        csv_path = root / f"accounts-{time.monotonic_ns()}.csv"
        csv_path.write_text("source login,target address,password\n" + "".join(f"{r}\n" for r in csv_rows))
        cmd += ["--csv", str(csv_path)]
    report = root / f"report-{time.monotonic_ns()}.json"
    cmd += ["--report-json", str(report), "--report-csv", str(report.with_suffix(".csv")), *args]
    if not wait:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE), report
    out = subprocess.run(cmd, input=(password or "").encode(), capture_output=True, timeout=300)
    result = json.loads(report.read_text()) if report.exists() else None
    return out, result


def rows(world, user_password=True, users=("claire", "paul")):
    return [f"{u},{world['addresses'][u]},{PASSWORD if user_password else 'faux'}" for u in users]


def mapped(server: Server) -> int:
    if STORE == "postgres":
        out = subprocess.run([require_tool("psql"), server.store_url, "-qAtc", "SELECT COUNT(*) FROM migrated_messages"],
                             capture_output=True, timeout=30)
        return int(out.stdout or b"0") if out.returncode == 0 else 0
    db = server.data / "ardoise.db"
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            return c.execute("SELECT COUNT(*) FROM migrated_messages").fetchone()[0]
    except sqlite3.Error:
        return 0


def compare_user(world, user: str):
    source = world["dovecot"].login(user)
    target = ardoise_login(world["server"], world["addresses"][user])
    grouped = {}
    for folder in CORPUS[user]:
        grouped.setdefault(ours(folder), []).append(folder)
    for dest, folders in grouped.items():
        theirs = sorted(m for f in folders for m in folder_messages(source, f))
        mine = folder_messages(target, dest)
        assert len(mine) == len(theirs), (user, dest, len(mine), len(theirs))
        for a, b in zip(mine, theirs):
            assert a[0] == b[0], (user, dest, "bytes")
            assert a[1] == b[1], (user, dest, "flags", a[1], b[1])
            assert a[2] == b[2], (user, dest, "internal date", a[2], b[2])
    subscribed = subscriptions(target)
    for folder in CORPUS[user]:
        if folder != UNSUBSCRIBED[user] and folder not in SPECIAL:
            assert mutf7(ours(folder)) in subscribed, (user, folder, subscribed)
    assert mutf7(ours(UNSUBSCRIBED[user])) not in subscribed or UNSUBSCRIBED[user] in SPECIAL
    source.logout()
    target.logout()


def test_dry_run_writes_nothing(world):
    out, report = migrate(world, "--dry-run", csv_rows=rows(world))
    assert out.returncode == 0, out.stderr.decode()
    want = sum(CORPUS["claire"].values()) + sum(CORPUS["paul"].values())
    assert report["totals"]["would_copy"] == want
    assert report["totals"]["copied"] == 0
    for user in ("claire", "paul"):
        assert world["server"].messages(world["addresses"][user]) == [], user
    assert mapped(world["server"]) == 0


def test_killed_run_resumes_without_duplicates_and_everything_is_kept(world):
    server = world["server"]
    proc, _ = migrate(world, "--jobs", "2", csv_rows=rows(world), wait=False)
    deadline = time.time() + 120
    while mapped(server) < 400 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed: " + proc.stderr.read().decode()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    half = mapped(server)
    assert 400 <= half < 3800

    out, report = migrate(world, "--jobs", "2", csv_rows=rows(world))
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    t = report["totals"]
    assert t["failed"] == 0
    assert t["copied"] + t["skipped"] == 3800
    assert t["copied"] <= 3800 - half + 2  # at most the one message in flight per account was delivered unrecorded
    for user in ("claire", "paul"):
        compare_user(world, user)

    # A third run copies nothing and finds everything in place.
    out, report = migrate(world, csv_rows=rows(world))
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    assert report["totals"]["copied"] == 0
    assert report["totals"]["skipped"] == 3800

    # Flags changed at the source since are brought over by a rerun.
    conn = world["dovecot"].login("paul")
    conn.select(quoted("Élèves & familles"))
    conn.store("1:10", "+FLAGS", "(\\Flagged Important)")
    conn.logout()
    out, report = migrate(world, csv_rows=rows(world, users=("paul",)))
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    assert report["totals"]["copied"] == 0
    compare_user(world, "paul")

    out, report = migrate(world, "--verify", csv_rows=rows(world))
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    assert report["totals"]["different"] == 0
    assert report["totals"]["verified"] == len(CORPUS["claire"]) + len(CORPUS["paul"])

    # A difference is reported (and the exit code says so) until a rerun brings it over.
    conn = world["dovecot"].login("claire")
    conn.select(quoted("Réunions.Conseil de classe"))
    conn.store("1:2", "FLAGS", "(\\Seen Urgent)")
    conn.logout()
    out, report = migrate(world, "--verify", csv_rows=rows(world, users=("claire",)))
    assert out.returncode != 0
    different = [e for e in report["entries"] if e["outcome"] == "different"]
    assert len(different) == 2 and all(e["folder"] == "Réunions.Conseil de classe" for e in different), different
    out, report = migrate(world, csv_rows=rows(world, users=("claire",)))
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    out, report = migrate(world, "--verify", csv_rows=rows(world, users=("claire",)))
    assert out.returncode == 0 and report["totals"]["different"] == 0, report["totals"]


def test_uidvalidity_change_falls_back_to_fingerprints(world):
    # Recreating a folder at the source gives it a new UIDVALIDITY: the map does not know its
    # UIDs any more, the fingerprints (Message-ID, date, size) do.
    conn = world["dovecot"].login("paul")
    folder = "Archives.2024"
    conn.select(quoted(folder), readonly=True)
    typ, data = conn.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
    kept = []
    for i, item in enumerate(data):
        if isinstance(item, tuple):
            text = item[0] + (data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes) else b"")
            flags = re.search(rb"FLAGS \(([^)]*)\)", text).group(1).decode()
            date = re.search(rb'INTERNALDATE "([^"]+)"', text).group(1).decode()
            kept.append((flags.replace("\\Recent", "").strip(), date, item[1]))
    conn.close()
    assert conn.delete(quoted(folder))[0] == "OK"
    assert conn.create(quoted(folder))[0] == "OK"
    for flags, date, body in kept:
        assert conn.append(quoted(folder), f"({flags})", f'"{date}"', body)[0] == "OK"
    conn.logout()
    out, report = migrate(world, csv_rows=rows(world, users=("paul",)))
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    assert report["totals"]["copied"] == 0
    compare_user(world, "paul")


def test_wrong_password_fails_that_account_alone(world):
    good = rows(world, users=("paul",))
    bad = [f"claire,{world['addresses']['claire']},mauvais-mot-de-passe", f"personne,nobody@{DOMAIN},x"]
    out, report = migrate(world, csv_rows=good + bad)
    assert out.returncode != 0
    failed = [e for e in report["entries"] if e["outcome"] == "failed"]
    by_account = {e["account"]: e["reason"] for e in failed}
    assert "refusée" in by_account[world["addresses"]["claire"]], by_account
    assert "pas de compte" in by_account[f"nobody@{DOMAIN}"], by_account
    assert world["addresses"]["paul"] not in by_account
    assert report["totals"]["skipped"] == sum(CORPUS["paul"].values())


def test_master_user_migration(world):
    secret = world["root"] / "master-password"
    secret.write_text(MASTER_PASSWORD + "\n")
    out, report = migrate(world, "--source-user", "lea", "--target", world["addresses"]["lea"],
                          "--master-user", "migration", "--master-password-file", str(secret))
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    assert report["totals"]["copied"] == sum(CORPUS["lea"].values())
    compare_user(world, "lea")


MBOX = (b"From alice@ac-source.fr Sat Dec  5 21:27:10 2026\n"
        b"Message-ID: <mbox-1@ac-source.fr>\nSubject: un\nStatus: RO\n\n>From the start\n>>From quoted\n\n"
        b"From bob@ac-source.fr Thu Jan  1 10:00:00 2026\n"
        b"Message-ID: <mbox-2@ac-source.fr>\nSubject: deux\nX-Mozilla-Status: 0005\nX-Mozilla-Keys: Travail\n\ncorps\n\n"
        b"From carol@ac-source.fr Fri Jan  2 10:00:00 2026\n"
        b"Message-ID: <mbox-3@ac-source.fr>\nSubject: trois, coup\xc3\xa9 en pl")


def test_import_mbox_and_maildir(world, tmp_path):
    server = world["server"]
    address = server.create("import.test", password=PASSWORD)
    mbox = tmp_path / "Archives.mbox"
    mbox.write_bytes(MBOX)
    cmd = [binary(), "import", "mbox", "--config", str(server.config), str(mbox), "--to", address,
           "--folder", "Archives/Thunderbird", "--report-json", str(tmp_path / "mbox.json")]
    out = subprocess.run(cmd, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    report = json.loads((tmp_path / "mbox.json").read_text())
    assert report["totals"]["copied"] == 3
    assert "tronqué" in report["entries"][2]["reason"]
    # Again: nothing new.
    out = subprocess.run(cmd, capture_output=True, timeout=60)
    assert json.loads((tmp_path / "mbox.json").read_text())["totals"]["skipped"] == 3

    maildir = tmp_path / "Maildir"
    for d in ["cur", "new", "tmp", ".Projets/cur", ".Projets/new", ".Projets.Ann&AOk-e 2025/cur", ".bizarre"]:
        (maildir / d).mkdir(parents=True)
    (maildir / "dovecot-keywords").write_text("0 $Label1\n1 Travail\n")
    (maildir / ".Projets" / "dovecot-keywords").write_text("0 Travail\n")
    (maildir / "notes.txt").write_text("pas un message")
    msgs = {
        "cur/1700000000.M1P1.h,S=40:2,RSa": b"Message-ID: <md-1@x>\r\nSubject: a\r\n\r\nun\r\n",
        "new/1700000001.M2P1.h": b"Message-ID: <md-2@x>\r\nSubject: b\r\n\r\ndeux\r\n",
        ".Projets/cur/1700000002.M3P1.h:2,FSa": b"Message-ID: <md-3@x>\r\nSubject: c\r\n\r\ntrois\r\n",
        ".Projets.Ann&AOk-e 2025/cur/1700000003.M4P1.h:2,T": b"Message-ID: <md-4@x>\r\nSubject: d\r\n\r\nquatre\r\n",
    }
    for i, (name, raw) in enumerate(msgs.items()):
        (maildir / name).write_bytes(raw)
        os.utime(maildir / name, (1_700_000_000 + i, 1_700_000_000 + i))
    cmd = [binary(), "import", "maildir", "--config", str(server.config), str(maildir), "--to", address,
           "--report-json", str(tmp_path / "maildir.json")]
    out = subprocess.run(cmd, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    report = json.loads((tmp_path / "maildir.json").read_text())
    assert report["totals"]["copied"] == 4
    strays = {os.path.basename(e["source_uid"]) for e in report["entries"] if e["reason"].startswith("ignoré")}
    assert strays == {"notes.txt", ".bizarre"}

    conn = ardoise_login(server, address)
    got = folder_messages(conn, "Archives/Thunderbird")
    assert [m[0] for m in got][0].startswith(b"Message-ID: <mbox-1@ac-source.fr>\r\nSubject: un\r\nStatus: RO\r\n\r\nFrom the start\r\n>From quoted\r\n")
    by_subject = {re.search(rb"Subject: (\S+)", m[0]).group(1): m for m in got}
    assert by_subject[b"un"][1] == ("\\Seen",)
    assert by_subject[b"un"][2] == 1_796_506_030
    assert by_subject[b"deux"][1] == ("Travail", "\\Flagged", "\\Seen") or set(by_subject[b"deux"][1]) == {"Travail", "\\Flagged", "\\Seen"}
    inbox = folder_messages(conn, "INBOX")
    flags = {re.search(rb"Subject: (\S+)", m[0]).group(1): set(m[1]) for m in inbox}
    assert flags[b"a"] == {"\\Answered", "\\Seen", "$Label1"}
    assert flags[b"b"] == set()
    assert {m[2] for m in inbox} == {1_700_000_000, 1_700_000_001}
    projets = folder_messages(conn, "Projets")
    assert set(projets[0][1]) == {"\\Flagged", "\\Seen", "Travail"}
    assert folder_messages(conn, "Projets/Année 2025")[0][1] == ("\\Deleted",)
    conn.logout()


def test_starttls_source_in_dry_run(world):
    # Port 143 with STARTTLS before the login (Dovecot refuses a plain-text login here).
    cmd = [binary(), "migrate", "imap", "--config", str(world["server"].config), "--host", "127.0.0.1",
           "--port", str(world["dovecot"].port), "--starttls", "--insecure-accept-any-cert",
           "--source-user", "paul", "--target", world["addresses"]["paul"], "--password-stdin", "--dry-run",
           "--report-json", str(world["root"] / "starttls.json")]
    out = subprocess.run(cmd, input=PASSWORD.encode(), capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    report = json.loads((world["root"] / "starttls.json").read_text())
    assert report["totals"]["failed"] == 0
    assert report["totals"]["would_copy"] + report["totals"]["skipped"] == sum(CORPUS["paul"].values())
