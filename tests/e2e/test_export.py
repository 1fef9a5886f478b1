"""`ardoise admin account export ADDRESS --out FILE.zip` (issue 23, "The user's own export"): the
archive is opened with Python's zipfile, each folder's mbox read with Python's `mailbox` module and
each message compared byte for byte with what IMAP serves (FETCH BODY.PEEK[]); contacts come back
as vCard, events as iCalendar, the connection journal as CSV."""

import csv
import imaplib
import io
import mailbox
import re
import smtplib
import ssl
import subprocess
import zipfile

import requests

from conftest import DOMAIN, binary

PASSWORD = "Ardoise-Test-2026"

EVENT = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//e2e//FR\r
BEGIN:VEVENT\r
UID:reunion-parents\r
DTSTAMP:20260801T000000Z\r
DTSTART:20261005T160000Z\r
DTEND:20261005T180000Z\r
SUMMARY:Réunion parents-professeurs\r
END:VEVENT\r
END:VCALENDAR\r
"""


def vcard(uid, name):
    return f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nEMAIL:{uid}@{DOMAIN}\r\nEND:VCARD\r\n"


def mail(n: int, extra: str = "") -> bytes:
    return (
        f"From: Parent <parent@example.org>\r\nTo: claire@{DOMAIN}\r\nSubject: export {n}\r\n"
        f"Message-ID: <export-{n}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\nBonjour,\r\n{extra}à bientôt\r\n"
    ).encode()


def imap_messages(conn, folder: str) -> dict:
    """UID -> bytes, through FETCH BODY.PEEK[]."""
    typ, data = conn.select(folder, readonly=True)
    assert typ == "OK"
    typ, data = conn.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
    out = {}
    for item in data:
        if isinstance(item, tuple):
            uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
            out[uid] = item[1]
    return out


def mboxrd_unquote(raw: bytes) -> bytes:
    return re.sub(rb"(?m)^>(>*From )", rb"\1", raw)


def test_export_zip_holds_mbox_eml_vcard_ics_and_journal(server, tmp_path):
    claire = server.create("claire.martin", password=PASSWORD)
    server.start()
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        s.sendmail("parent@example.org", [claire], mail(1))
        # Lines an mbox must quote, and one already quoted.
        s.sendmail("parent@example.org", [claire], mail(2, "From the start of a line\r\n>From quoted\r\n"))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=ctx)
    conn.login(claire, PASSWORD)
    conn.create("Projets")
    conn.append("Projets", r"(\Seen)", None, mail(3))
    inbox = imap_messages(conn, "INBOX")
    projets = imap_messages(conn, "Projets")
    conn.logout()
    base = f"http://127.0.0.1:{server.http_port}/dav"
    auth = (claire, PASSWORD)
    assert requests.put(f"{base}/addressbooks/{claire}/contacts/paul.vcf",
                        data=vcard("paul", "Paul Durand").encode(), auth=auth).status_code == 201
    assert requests.put(f"{base}/addressbooks/{claire}/contacts/lea.vcf",
                        data=vcard("lea", "Léa Martin").encode(), auth=auth).status_code == 201
    assert requests.put(f"{base}/calendars/{claire}/agenda/reunion.ics",
                        data=EVENT.encode(), auth=auth).status_code == 201

    out = tmp_path / "export.zip"
    run = subprocess.run(
        [binary(), "admin", "--config", str(server.config), "account", "export", claire, "--out", str(out)],
        capture_output=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr.decode()
    assert "3 message(s), 2 contact(s), 1 objet(s) d'agenda" in run.stdout.decode(), run.stdout.decode()

    archive = zipfile.ZipFile(out)
    assert archive.testzip() is None
    names = set(archive.namelist())
    assert {"LISEZMOI.txt", "courrier/INBOX.mbox", "courrier/Projets.mbox", "journal.csv"} <= names

    # .eml: byte for byte.
    for uid, raw in inbox.items():
        assert archive.read(f"messages/INBOX/{uid}.eml") == raw
    for uid, raw in projets.items():
        assert archive.read(f"messages/Projets/{uid}.eml") == raw

    # mbox: read by Python's mailbox module, unquoted as mboxrd says, the same bytes in the same order.
    for folder, expected in [("INBOX", inbox), ("Projets", projets)]:
        path = tmp_path / f"{folder}.mbox"
        path.write_bytes(archive.read(f"courrier/{folder}.mbox"))
        box = mailbox.mbox(str(path))
        got = [mboxrd_unquote(box.get_bytes(key)) for key in box.keys()]
        want = [expected[uid] for uid in sorted(expected)]
        assert [g.rstrip(b"\r\n") for g in got] == [w.rstrip(b"\r\n") for w in want]
        assert len(got) == len(want)
    assert b"\n>From the start" in archive.read("courrier/INBOX.mbox")
    assert b"\n>>From quoted" in archive.read("courrier/INBOX.mbox")

    cards = archive.read("contacts/contacts.vcf").decode()
    assert cards.count("BEGIN:VCARD") == 2 and "FN:Léa Martin" in cards and "FN:Paul Durand" in cards
    assert archive.read("agendas/agenda/reunion.ics").decode() == EVENT

    journal = list(csv.DictReader(io.StringIO(archive.read("journal.csv").decode())))
    assert journal and all(row["identifiant"] for row in journal)
    assert {"imap", "dav"} <= {row["protocole"].lower() for row in journal}, journal

    # A missing account is a clear error, and nothing is written.
    missing = subprocess.run(
        [binary(), "admin", "--config", str(server.config), "account", "export", f"personne@{DOMAIN}",
         "--out", str(tmp_path / "rien.zip")],
        capture_output=True,
        timeout=60,
    )
    assert missing.returncode != 0 and "inconnu" in missing.stderr.decode()
    assert not (tmp_path / "rien.zip").exists()
