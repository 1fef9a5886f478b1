"""`ardoise backup create|verify|restore` (issue 23, "Backup and restore").

A backup taken during a stream of smtplib deliveries, restored whole into an empty data folder,
holds every message acknowledged before the backup started, byte for byte with its flags and
internal date (compared through imaplib); a `kill -9` in the middle of a backup leaves the previous
one valid and verifiable; a damaged message file is found by verify; an account (or one folder)
is restored under « Restauré » on a live server without touching anything else. With
ARDOISE_E2E_STORE=postgres: the documented procedure, pg_dump then `--pg-dump`, and an account restored
through a scratch database loaded by pg_restore."""

import datetime
import imaplib
import json
import re
import shutil
import signal
import smtplib
import subprocess
import threading
import time

from conftest import DOMAIN, STORE, binary, create_database, drop_database, psql, require_tool
from imap_folders import folder_messages, no_verify, quoted

import pytest

PASSWORD = "Ardoise-Test-2026"

sqlite_only = pytest.mark.skipif(STORE != "sqlite", reason="PostgreSQL: pg_dump first (docs/backup.md), tested below")


def login(server, address: str) -> imaplib.IMAP4_SSL:
    conn = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=no_verify(), timeout=30)
    conn.login(address, PASSWORD)
    return conn


def folders(conn: imaplib.IMAP4) -> set:
    typ, data = conn.list('""', "*")
    assert typ == "OK"
    names = set()
    for line in data:
        m = re.match(rb'\(.*?\) (?:"[^"]*"|NIL) (.*)$', line or b"")
        if m:
            names.add(m.group(1).decode().strip('"'))
    return names


def mail(n: int, tag: str, size: int = 0) -> bytes:
    filler = "".join(f"ligne {i} : éléments à sauvegarder\r\n" for i in range(size // 40))
    return (
        f"From: Parent <parent@example.org>\r\nTo: claire@{DOMAIN}\r\nSubject: {tag} {n}\r\n"
        f"Message-ID: <{tag}-{n}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\nBonjour,\r\n\r\nmessage {tag} {n}\r\n{filler}"
    ).encode()


def deliver(server, to: str, messages: list):
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as s:
        for raw in messages:
            assert s.sendmail("parent@example.org", [to], raw) == {}


def backup(server, *args, check=True) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [binary(), "backup", "--config", str(server.config), *[str(a) for a in args]],
        capture_output=True,
        timeout=300,
    )
    if check:
        assert out.returncode == 0, (args, out.stdout.decode(errors="replace"), out.stderr.decode(errors="replace"))
    return out


def snapshot(server, dest, tmp_path) -> subprocess.CompletedProcess:
    """`backup create`; on PostgreSQL after the documented pg_dump (docs/backup.md)."""
    if STORE != "postgres":
        return backup(server, "create", dest)
    dump = tmp_path / f"ardoise-{time.monotonic_ns()}.pgdump"
    subprocess.run([require_tool("pg_dump"), "-Fc", "-f", str(dump), server.store_url], check=True, timeout=120)
    return backup(server, "create", dest, "--pg-dump", dump)


def restore_account(server, dest, *args, check=True) -> subprocess.CompletedProcess:
    """`backup restore --account`; on PostgreSQL through a scratch database loaded by pg_restore."""
    if STORE != "postgres":
        return backup(server, "restore", dest, *args, check=check)
    name = sorted(p.name for p in (dest / "snapshots").iterdir())[-1]
    scratch = create_database()
    try:
        subprocess.run([require_tool("pg_restore"), "--no-owner", "-d", scratch,
                        str(dest / "snapshots" / name / "metadata.pgdump")], check=True, timeout=120)
        return backup(server, "restore", dest, *args, "--from-database", scratch, check=check)
    finally:
        drop_database(scratch)


def text(out: subprocess.CompletedProcess) -> str:
    return out.stdout.decode(errors="replace") + out.stderr.decode(errors="replace")


def objects(dest) -> set:
    return {p.name for p in (dest / "objects").glob("*/*") if not p.name.startswith(".")}


def fill(server, address: str):
    """A mailbox worth restoring: flags, keywords, a nested French folder with dates of its own."""
    deliver(server, address, [mail(n, "avant", size=(n % 4) * 30_000) for n in range(30)])
    conn = login(server, address)
    conn.select("INBOX")
    conn.uid("STORE", "1:10", "+FLAGS", r"(\Seen)")
    conn.uid("STORE", "5:7", "+FLAGS", r"(\Flagged $Label1 Travail)")
    conn.uid("STORE", "20", "+FLAGS", r"(\Answered \Draft)")
    conn.create(quoted("Projets/Réunions 2026"))
    for n in range(3):
        date = imaplib.Time2Internaldate(datetime.datetime(2025, 3, 1 + n, 8, 30, tzinfo=datetime.timezone.utc))
        typ, _ = conn.append(quoted("Projets/Réunions 2026"), r"(\Seen Important)", date, mail(n, "projet"))
        assert typ == "OK"
    conn.logout()


@sqlite_only
def test_backup_during_deliveries_restores_every_acknowledged_message(make_server, tmp_path):
    live = make_server()
    claire = live.create("claire.martin", password=PASSWORD)
    live.start()
    fill(live, claire)
    dest = tmp_path / "sauvegardes"

    # A stream of deliveries runs while the backup is taken; each records when it was acknowledged.
    acked = []
    stop = threading.Event()

    def stream():
        n = 0
        with smtplib.SMTP("127.0.0.1", live.smtp_port, timeout=30) as s:
            while not stop.is_set():
                assert s.sendmail("parent@example.org", [claire], mail(n, "flux")) == {}
                acked.append((n, time.monotonic()))
                n += 1

    worker = threading.Thread(target=stream)
    worker.start()
    try:
        while len(acked) < 20:
            time.sleep(0.02)
        started = time.monotonic()
        backup(live, "create", dest)
        after = len(acked) + 5
        while len(acked) < after:
            time.sleep(0.02)
    finally:
        stop.set()
        worker.join()
    before = {f"<flux-{n}@example.org>".encode() for n, at in acked if at < started}
    assert len(before) >= 20

    out = backup(live, "verify", dest)
    assert "intact" in text(out)

    conn = login(live, claire)
    original = {f: folder_messages(conn, f) for f in ["INBOX", "Projets/Réunions 2026"]}
    conn.logout()

    # A non-empty data folder is refused.
    target = make_server()
    refused = backup(target, "restore", dest, "--full", check=False)
    assert refused.returncode != 0 and "vide" in text(refused), text(refused)

    shutil.rmtree(target.data)
    backup(target, "restore", dest, "--full")
    target.start()
    conn = login(target, claire)  # the same password: the accounts and keys came back
    restored = {f: folder_messages(conn, f) for f in original}
    conn.logout()

    def msgid(body: bytes) -> bytes:
        return re.search(rb"Message-ID: (<[^>]+>)", body).group(1)

    inbox = set(restored["INBOX"])
    found = {msgid(b) for b, _, _ in restored["INBOX"]}
    assert before <= found, f"acknowledged before the backup and missing: {sorted(before - found)[:5]}"
    for item in original["INBOX"]:
        if msgid(item[0]) in before or not msgid(item[0]).startswith(b"<flux-"):
            assert item in inbox, f"not restored byte for byte with its flags and date: {item[1:]} {msgid(item[0])}"
    assert inbox <= set(original["INBOX"]), "the restore invented or changed a message"
    assert restored["Projets/Réunions 2026"] == original["Projets/Réunions 2026"]
    flagged = [f for _, f, _ in restored["INBOX"] if "\\Flagged" in f]
    assert len(flagged) == 3 and all("$Label1" in f and "Travail" in f for f in flagged)


@sqlite_only
def test_restore_one_account_under_restaure_on_a_live_server(make_server, tmp_path):
    live = make_server()
    claire = live.create("claire.martin", password=PASSWORD)
    paul = live.create("paul.durand", password=PASSWORD)
    live.start()
    fill(live, claire)
    deliver(live, paul, [mail(n, "paul") for n in range(3)])
    dest = tmp_path / "sauvegardes"
    backup(live, "create", dest)

    conn = login(live, claire)
    at_backup = {f: folder_messages(conn, f) for f in ["INBOX", "Projets/Réunions 2026"]}
    # The helpdesk case: mail deleted by mistake, new mail since.
    conn.select("INBOX")
    conn.uid("STORE", "1:15", "+FLAGS", r"(\Deleted)")
    conn.expunge()
    deliver(live, claire, [mail(1, "après")])
    inbox_now = folder_messages(conn, "INBOX")
    paul_conn = login(live, paul)
    paul_before = (folders(paul_conn), folder_messages(paul_conn, "INBOX"))

    total = len(at_backup["INBOX"]) + len(at_backup["Projets/Réunions 2026"])
    assert total >= 33
    out = backup(live, "restore", dest, "--account", claire)
    assert f": {total} restauré(s), 0 déjà présent(s), 0 en échec" in text(out), text(out)
    conn.noop()
    assert {"Restauré", "Restauré/INBOX", "Restauré/Projets/Réunions 2026"} <= {
        n.replace("&AOk-", "é") for n in folders(conn)
    }
    assert folder_messages(conn, "Restauré/INBOX") == at_backup["INBOX"]
    assert folder_messages(conn, "Restauré/Projets/Réunions 2026") == at_backup["Projets/Réunions 2026"]
    assert folder_messages(conn, "INBOX") == inbox_now, "the live Inbox was touched"
    # The running server's search index takes in what the restore (another process) filed.
    expected = sorted(i for i, (body, _, _) in enumerate(at_backup["INBOX"]) if b"sauvegarder" in body)
    assert expected
    conn.select(quoted("Restauré/INBOX"), readonly=True)
    deadline = time.time() + 20
    while True:
        typ, data = conn.search(None, "BODY", "sauvegarder")
        assert typ == "OK"
        found = data[0].split()
        if len(found) == len(expected) or time.time() > deadline:
            break
        time.sleep(0.5)
    assert len(found) == len(expected), f"search found {len(found)} of {len(expected)} restored messages"
    assert (folders(paul_conn), folder_messages(paul_conn, "INBOX")) == paul_before, "another account was touched"

    # Again: nothing twice.
    again = backup(live, "restore", dest, "--account", claire)
    assert f": 0 restauré(s), {total} déjà présent(s)" in text(again), text(again)
    assert len(folder_messages(conn, "Restauré/INBOX")) == len(at_backup["INBOX"])

    # One folder, elsewhere.
    backup(live, "restore", dest, "--account", claire, "--folder", "Projets/Réunions 2026", "--into", "Repris")
    assert folder_messages(conn, "Repris/Projets/Réunions 2026") == at_backup["Projets/Réunions 2026"]
    assert not any(n.startswith("Repris/INBOX") for n in folders(conn))

    # Bad input: clear errors.
    missing = backup(live, "restore", dest, "--account", claire, "--folder", "Nulle part", check=False)
    assert missing.returncode != 0 and "Nulle part" in text(missing) and "INBOX" in text(missing)
    nobody = backup(live, "restore", dest, "--account", f"personne@{DOMAIN}", check=False)
    assert nobody.returncode != 0 and "pas de compte" in text(nobody)
    conn.logout()
    paul_conn.logout()


@sqlite_only
def test_kill9_mid_backup_leaves_the_previous_one_valid_and_verify_finds_damage(make_server, tmp_path):
    live = make_server()
    claire = live.create("claire.martin", password=PASSWORD)
    live.start()
    deliver(live, claire, [mail(n, "premier") for n in range(20)])
    dest = tmp_path / "sauvegardes"
    first = backup(live, "create", dest)
    snapshots = sorted(p.name for p in (dest / "snapshots").iterdir())
    first_objects = objects(dest)
    assert len(first_objects) >= 20
    assert f", {len(first_objects)} copié(s)" in text(first), text(first)

    # Incremental: nothing new, nothing copied.
    time.sleep(1.1)
    second = backup(live, "create", dest)
    assert ", 0 copié(s)" in text(second), text(second)

    deliver(live, claire, [mail(n, "second", size=60_000) for n in range(300)])
    proc = subprocess.Popen(
        [binary(), "backup", "--config", str(live.config), "create", str(dest)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 60
    while len(objects(dest)) < len(first_objects) + 10 and time.time() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the backup ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list((dest / "snapshots").glob(".partiel-*")), "the killed backup left no unfinished snapshot"
    names = sorted(p.name for p in (dest / "snapshots").iterdir() if not p.name.startswith("."))
    assert len(names) == 2 and names[0] == snapshots[0]

    out = backup(live, "verify", dest)
    assert text(out).count("intact / OK") == 2, text(out)

    third = backup(live, "create", dest)
    assert not list((dest / "snapshots").glob(".partiel-*")), "remains not cleaned"
    assert f": {len(first_objects) + 300} fichier(s) de message" in text(third), text(third)
    backup(live, "verify", dest)

    # Damage: one byte changed in a message file of the first snapshot, another file gone.
    manifest = json.loads((dest / "snapshots" / names[0] / "manifest.json").read_text())
    bad, gone = manifest["blobs"][0]["id"], manifest["blobs"][1]["id"]
    path = dest / "objects" / bad[:2] / bad
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    (dest / "objects" / gone[:2] / gone).unlink()
    damaged = backup(live, "verify", dest, check=False)
    report = text(damaged)
    assert damaged.returncode == 1, report
    assert "ABÎMÉ" in report and bad in report and gone in report and "illisible" in report
    assert report.count("ABÎMÉ / DAMAGED") == 3, report

    # A damaged database copy is found too, and a restore from it refused.
    db = dest / "snapshots" / names[1] / "metadata.sqlite"
    with open(db, "r+b") as f:
        f.seek(200)
        f.write(b"\x00\xff")
    assert "metadata.sqlite" in text(backup(live, "verify", dest, "--snapshot", names[1], check=False))
    refused = backup(live, "restore", dest, "--snapshot", names[1], "--account", claire, check=False)
    assert refused.returncode != 0 and "abîmé" in text(refused)


@pytest.mark.skipif(STORE != "postgres", reason="the PostgreSQL procedure (ARDOISE_E2E_STORE=postgres)")
def test_postgres_procedure_pg_dump_then_message_files_then_restore(make_server, tmp_path):
    live = make_server()
    claire = live.create("claire.martin", password=PASSWORD)
    live.start()
    fill(live, claire)
    dest = tmp_path / "sauvegardes"

    refused = backup(live, "create", dest, check=False)
    assert refused.returncode != 0 and "pg_dump" in text(refused), text(refused)

    dump = tmp_path / "ardoise.pgdump"
    subprocess.run([require_tool("pg_dump"), "-Fc", "-f", str(dump), live.store_url], check=True, timeout=120)
    out = backup(live, "create", dest, "--pg-dump", dump)
    assert "copié(s)" in text(out)
    backup(live, "verify", dest)
    name = sorted(p.name for p in (dest / "snapshots").iterdir())[-1]

    conn = login(live, claire)
    at_backup = {f: folder_messages(conn, f) for f in ["INBOX", "Projets/Réunions 2026"]}
    needs_db = backup(live, "restore", dest, "--account", claire, check=False)
    assert needs_db.returncode != 0 and "--from-database" in text(needs_db)

    scratch = create_database()
    try:
        snapshot_dump = dest / "snapshots" / name / "metadata.pgdump"
        subprocess.run([require_tool("pg_restore"), "--no-owner", "-d", scratch, str(snapshot_dump)],
                       check=True, timeout=120)
        backup(live, "restore", dest, "--account", claire, "--from-database", scratch)
    finally:
        drop_database(scratch)
    assert folder_messages(conn, "Restauré/INBOX") == at_backup["INBOX"]
    assert folder_messages(conn, "Restauré/Projets/Réunions 2026") == at_backup["Projets/Réunions 2026"]
    conn.logout()


FILTRE = 'require ["fileinto"];\r\nif header :contains "subject" "conseil" { fileinto "Conseils"; }\r\n'


def test_restore_an_account_brings_back_subscriptions_sieve_contacts_and_calendars(server, monkeypatch, tmp_path):
    import requests

    from test_export import EVENT, vcard
    from test_sieve import sieve, start_with_sieve

    start_with_sieve(server, monkeypatch)
    claire = f"claire.martin@{DOMAIN}"
    deliver(server, claire, [mail(n, "avant") for n in range(3)])
    conn = login(server, claire)
    assert conn.create("Conseils")[0] == "OK" and conn.subscribe("Conseils")[0] == "OK"
    c = sieve(server, "claire.martin")
    assert c.putscript("conseils", FILTRE) and c.setactive("conseils") and c.putscript("brouillon", "keep;\r\n")
    c.logout()
    dav = f"http://127.0.0.1:{server.http_port}/dav"
    auth = (claire, PASSWORD)
    contacts, agenda = f"{dav}/addressbooks/{claire}/contacts", f"{dav}/calendars/{claire}/agenda"
    assert requests.put(f"{contacts}/paul.vcf", data=vcard("paul", "Paul Durand").encode(), auth=auth).status_code == 201
    assert requests.put(f"{contacts}/lea.vcf", data=vcard("lea", "Léa Martin").encode(), auth=auth).status_code == 201
    assert requests.put(f"{agenda}/reunion.ics", data=EVENT.encode(), auth=auth).status_code == 201
    dest = tmp_path / "sauvegardes"
    snapshot(server, dest, tmp_path)

    # Lost since: a subscription, both scripts, a contact and the event.
    assert conn.unsubscribe("Conseils")[0] == "OK"
    c = sieve(server, "claire.martin")
    assert c.setactive("") and c.deletescript("conseils") and c.deletescript("brouillon")
    c.logout()
    assert requests.delete(f"{contacts}/paul.vcf", auth=auth).status_code == 204
    assert requests.delete(f"{agenda}/reunion.ics", auth=auth).status_code == 204

    out = text(restore_account(server, dest, "--account", claire))
    assert "abonnements : 1 restauré(s)" in out, out
    assert "scripts Sieve : 2 restauré(s), 0 déjà présent(s), 0 en échec" in out, out
    assert "contacts et agendas : 2 restauré(s), 1 déjà présent(s), 0 en échec" in out, out
    typ, data = conn.lsub('""', "*")
    assert typ == "OK" and any(line.endswith((b" Conseils", b' "Conseils"')) for line in data), data
    c = sieve(server, "claire.martin")
    active, others = c.listscripts()
    assert active == "conseils" and others == ["brouillon"], (active, others)
    assert c.getscript("conseils").replace("\r\n", "\n").strip() == FILTRE.replace("\r\n", "\n").strip()
    c.logout()
    card = requests.get(f"{contacts}/paul.vcf", auth=auth)
    assert card.status_code == 200 and "FN:Paul Durand" in card.text
    assert requests.get(f"{agenda}/reunion.ics", auth=auth).text == EVENT

    # Again: everything already there, nothing doubled.
    again = text(restore_account(server, dest, "--account", claire))
    assert "abonnements : 0 restauré(s)" in again, again
    assert "scripts Sieve : 0 restauré(s), 2 déjà présent(s), 0 en échec" in again, again
    assert "contacts et agendas : 0 restauré(s), 3 déjà présent(s), 0 en échec" in again, again

    # A live script of the same name but another text stays as it is; the saved one comes back beside it.
    c = sieve(server, "claire.martin")
    assert c.putscript("brouillon", "discard;\r\n")
    c.logout()
    third = text(restore_account(server, dest, "--account", claire))
    assert "scripts Sieve : 1 restauré(s), 1 déjà présent(s), 0 en échec" in third, third
    c = sieve(server, "claire.martin")
    active, others = c.listscripts()
    assert active == "conseils" and sorted(others) == ["brouillon", "brouillon (restauré)"], (active, others)
    assert c.getscript("brouillon").strip() == "discard;"
    assert c.getscript("brouillon (restauré)").strip() == "keep;"
    c.logout()
    conn.logout()


def test_restore_into_a_full_mailbox_reports_each_message_and_harms_nothing(make_server, tmp_path):
    live = make_server()
    claire = live.create("claire.martin", password=PASSWORD)
    live.start()
    deliver(live, claire, [mail(n, "gros", size=300_000) for n in range(5)])
    dest = tmp_path / "sauvegardes"
    snapshot(live, dest, tmp_path)
    live.admin("account", "quota", claire, "1M")
    conn = login(live, claire)
    before = folder_messages(conn, "INBOX")

    out = restore_account(live, dest, "--account", claire, check=False)
    assert out.returncode != 0
    assert text(out).count("quota du compte atteint") == 5, text(out)
    assert f"{claire} : 0 restauré(s), 0 déjà présent(s), 5 en échec" in text(out), text(out)
    assert folder_messages(conn, "INBOX") == before, "the live mail was touched"
    assert len(folder_messages(conn, "Restauré/INBOX")) == 0

    # With room again, the same command restores them.
    live.admin("account", "quota", claire, "10M")
    out = restore_account(live, dest, "--account", claire)
    assert f"{claire} : 5 restauré(s), 0 déjà présent(s), 0 en échec" in text(out), text(out)
    assert [m[0] for m in folder_messages(conn, "Restauré/INBOX")] == [m[0] for m in before]
    conn.logout()


@pytest.mark.skipif(STORE != "postgres", reason="the PostgreSQL full restore (ARDOISE_E2E_STORE=postgres)")
def test_postgres_full_restore_into_an_empty_database_and_data_folder(make_server, tmp_path):
    live = make_server()
    claire = live.create("claire.martin", password=PASSWORD)
    live.start()
    fill(live, claire)
    conn = login(live, claire)
    original = {f: folder_messages(conn, f) for f in ["INBOX", "Projets/Réunions 2026"]}
    conn.logout()
    dest = tmp_path / "sauvegardes"
    snapshot(live, dest, tmp_path)
    live.stop()

    # A new machine: an empty data folder and an empty database, the same configuration otherwise.
    target = make_server()
    shutil.rmtree(target.data)
    name = target.store_url.rsplit("/", 1)[1]
    psql(f"DROP DATABASE {name} WITH (FORCE)")
    psql(f"CREATE DATABASE {name}")
    out = text(backup(target, "restore", dest, "--full"))
    assert "pg_restore --no-owner -d <URL>" in out, out
    dump = re.search(r"pg_restore --no-owner -d <URL> (\S+)", out).group(1)
    subprocess.run([require_tool("pg_restore"), "--no-owner", "-d", target.store_url, dump], check=True, timeout=120)
    target.start()
    conn = login(target, claire)  # the password and the keys came back with the database and data folder
    assert {f: folder_messages(conn, f) for f in original} == original
    conn.logout()
    # A second full restore is refused: the data folder is no longer empty.
    again = backup(target, "restore", dest, "--full", check=False)
    assert again.returncode != 0 and "vide" in text(again)
