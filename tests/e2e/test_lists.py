"""Distribution lists on the real binary (issue 22), with smtplib and imaplib:
a dynamic list over the HR directory (loaded with the HR CSV sync) reaches
exactly the active teachers of one collège, and follows a move; one copy for
a person reached through two lists, and for a list nested in itself; a
moderated post waits until `approve` (the sender is told), `refuse` tells the
sender; List-Id / List-Post headers; an outside member's copy waits in the
outbound queue with the list's bounce address as envelope sender, and when
that member's server refuses it for good the delivery report reaches the
list's moderator (read over IMAP), not the poster."""

import imaplib
import json
import re
import smtplib
import subprocess
import time

import pytest

from conftest import DOMAIN, binary
from test_imap import tls_context
from test_outbound import FakeMx

PASSWORD = "Tableau-Noir-2026!"
HEADER = "numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n"


def hr_file(path, jules_uai="0570456C"):
    rows = [
        "12E0000001ABC;M.;Martin;Jean;enseignant;actif;0541234A;;",
        "12E0000002ABC;Mme;Roux;Anne;enseignant;actif;0541234A;;",
        "12E0000003ABC;M.;Blanc;Marc;enseignant;suspendu;0541234A;;",
        f"12E0000004ABC;M.;Ferry;Jules;enseignant;actif;{jules_uai};;",
        "12E0000005ABC;Mme;Noir;Lise;direction;actif;0541234A;;",
        "12E0000006ABC;M.;Petit;Lucas;élève;actif;0541234A;;",
    ]
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def directory(server, *args):
    out = subprocess.run([binary(), "directory", "--config", str(server.config), *args],
                         capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out.stdout.decode()


def org_tree(server):
    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    server.admin("unit", "add", "DSDEN A", "--kind", "dsden", "--parent", "Académie de test")
    server.admin("unit", "add", "DSDEN B", "--kind", "dsden", "--parent", "Académie de test")
    server.admin("unit", "add", "Collège A", "--kind", "etablissement", "--parent", "DSDEN A", "--uai", "0541234A")
    server.admin("unit", "add", "Lycée B", "--kind", "etablissement", "--parent", "DSDEN B", "--uai", "0570456C")


def a(local):
    return f"{local}@{DOMAIN}"


def mail(sender, to, subject):
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}.{time.time_ns()}@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\nLa réunion est jeudi.\r\n"
    ).encode()


def mx_send(server, sender, rcpts, subject):
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as s:
        refused = s.sendmail(sender, rcpts, mail(sender, ", ".join(rcpts), subject))
        assert refused == {}


def submit(server, user, rcpts, subject):
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=30) as s:
        s.starttls(context=tls_context())
        s.login(user, PASSWORD)
        assert s.sendmail(user, rcpts, mail(user, ", ".join(rcpts), subject)) == {}


def subjects(server, address):
    return [m["subject"] for m in server.messages(address) if m["mailbox"] == "INBOX"]


def wait_for(check, what, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def inbox_via_imap(server, user):
    """The subjects in a user's INBOX, read with Python's imaplib."""
    with imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=tls_context()) as m:
        m.login(user, PASSWORD)
        m.select("INBOX", readonly=True)
        _, data = m.search(None, "ALL")
        out = []
        for num in data[0].split():
            _, parts = m.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            out.append(parts[0][1].decode(errors="replace").strip())
        return out


def raw(server, address, uid):
    return server.admin_bytes("message", "get", address, str(uid)).decode(errors="replace")


@pytest.fixture
def hr(server, tmp_path):
    org_tree(server)
    csv = hr_file(tmp_path / "rh.csv")
    directory(server, "sync", str(csv))
    server.config.write_text(
        server.config.read_text()
        + '\n[outbound]\nmx_override = ["example.org=127.0.0.1:9"]\nretry_first = "1h"\n'
    )
    return server, csv


def test_a_dynamic_list_reaches_exactly_the_active_teachers_of_one_college(hr):
    server, csv = hr
    teachers = a("enseignants.0541234a")
    out = server.admin("list", "create", teachers, "--name", "Enseignants du collège A",
                       "--dynamic", "--unit", "0541234A", "--role", "enseignant")
    assert "créée" in out
    server.start()
    mx_send(server, "parent@example.org", [teachers], "Sortie scolaire")
    wait_for(lambda: subjects(server, a("jean.martin")), "the active teacher's copy")
    wait_for(lambda: subjects(server, a("anne.roux")), "the other active teacher's copy")
    for nobody in ["marc.blanc", "jules.ferry", "lise.noir", "lucas.petit"]:
        assert subjects(server, a(nobody)) == [], nobody
    first = server.messages(a("jean.martin"))[0]
    headers = raw(server, a("jean.martin"), first["uid"])
    assert re.search(r"^List-Id: =\?utf-8\?q\?Enseignants_du_coll=C3=A8ge_A\?= <enseignants\.0541234a\.ac-test\.fr>\r$",
                     headers, re.M), headers
    assert f"List-Post: <mailto:{teachers}>" in headers
    assert "Precedence: list" in headers
    assert "unsubscribe" not in headers.lower()
    report = json.loads(server.admin("list", "show", teachers, "--json"))
    assert report["reach"]["local"] == 2 and report["kind"] == "dynamic"

    # Jules moves to the collège in the HR file: the next posting reaches him,
    # with nobody touching the list.
    directory(server, "sync", str(hr_file(csv, jules_uai="0541234A")))
    mx_send(server, "parent@example.org", [teachers], "Deuxieme envoi")
    wait_for(lambda: subjects(server, a("jules.ferry")), "the moved teacher's copy")
    assert len(subjects(server, a("jean.martin"))) == 2
    assert subjects(server, a("marc.blanc")) == []


def test_one_copy_through_two_lists_and_a_list_nested_in_itself(server):
    claire = server.create("claire.martin", password=PASSWORD)
    paul = server.create("paul.durand", password=PASSWORD)
    cdi, profs, boucle = a("cdi"), a("profs"), a("boucle")
    for address in (cdi, profs, boucle):
        server.admin("list", "create", address)
    server.admin("list", "add", cdi, claire)
    server.admin("list", "add", profs, claire)
    server.admin("list", "add", profs, paul)
    server.admin("list", "add", profs, cdi)
    server.admin("list", "add", boucle, boucle)
    server.admin("list", "add", boucle, paul)
    # A typo on a local domain is refused.
    out = subprocess.run([binary(), "admin", "--config", str(server.config), "list", "add", cdi, a("personne")],
                         capture_output=True, timeout=60)
    assert out.returncode != 0 and "aucune boîte" in out.stderr.decode()
    # A list address cannot be taken by an account, nor an account's by a list.
    taken = subprocess.run([binary(), "admin", "--config", str(server.config), "account", "create", cdi,
                            "--name", "X"], capture_output=True, timeout=60)
    assert taken.returncode != 0
    taken = subprocess.run([binary(), "admin", "--config", str(server.config), "list", "create", claire],
                           capture_output=True, timeout=60)
    assert taken.returncode != 0 and "déjà utilisée" in taken.stderr.decode()
    show = server.admin("list", "show", boucle)
    assert "CYCLE" in show and f"{boucle} -> {boucle}" in show
    server.start()

    mx_send(server, "parent@example.org", [cdi, profs], "Deux listes")
    wait_for(lambda: subjects(server, paul), "Paul's copy")
    mx_send(server, "parent@example.org", [boucle], "Boucle")
    wait_for(lambda: len(subjects(server, paul)) == 2, "the nested list's copy")
    time.sleep(0.5)
    assert inbox_via_imap(server, claire) == ["Subject: Deux listes"]
    assert sorted(inbox_via_imap(server, paul)) == ["Subject: Boucle", "Subject: Deux listes"]


def test_a_moderated_post_waits_then_approve_releases_it_and_refuse_tells_the_sender(server):
    claire = server.create("claire.martin", password=PASSWORD)
    paul = server.create("paul.durand", password=PASSWORD)
    lea = server.create("lea.moreau", password=PASSWORD)
    modo = server.create("moderatrice", password=PASSWORD, role="direction")
    conseil = a("conseil")
    server.admin("list", "create", conseil, "--name", "Conseil pédagogique")
    server.admin("list", "add", conseil, paul)
    server.admin("list", "add", conseil, lea)
    server.admin("list", "post-policy", conseil, "members")
    server.admin("list", "moderators", conseil, "add", modo)
    server.start()

    # Claire is no member: her post is held, nobody has it, the moderator is told.
    submit(server, claire, [conseil], "Question du jour")
    listing = wait_for(lambda: json.loads(server.admin("list", "moderation", conseil, "--json")), "a held post")
    assert [h["subject"] for h in listing] == ["Question du jour"] and listing[0]["sender"] == claire
    wait_for(lambda: subjects(server, modo), "the moderator's notice")
    assert "attente" in subjects(server, modo)[0].lower()
    assert subjects(server, paul) == [] and subjects(server, lea) == [] and subjects(server, claire) == []

    out = server.admin("list", "approve", str(listing[0]["id"]))
    assert "diffusé" in out
    assert subjects(server, paul) == ["Question du jour"] and subjects(server, lea) == ["Question du jour"]
    told = wait_for(lambda: inbox_via_imap(server, claire), "the approval notice")
    assert told == ["Subject: =?utf-8?Q?Message_diffus=C3=A9_/_Message_approved?="] or "diffus" in told[0], told
    assert json.loads(server.admin("list", "moderation", conseil, "--json")) == []

    # A member posts without waiting.
    submit(server, paul, [conseil], "Ordre du jour")
    wait_for(lambda: "Ordre du jour" in subjects(server, lea), "the member's post")

    # Refused: the sender hears why; the members get nothing.
    submit(server, claire, [conseil], "Publicite")
    held = wait_for(lambda: json.loads(server.admin("list", "moderation", conseil, "--json")), "a held post")
    server.admin("list", "refuse", str(held[0]["id"]), "--reason", "hors sujet")
    notices = server.messages(claire)
    assert len(notices) == 2
    assert "hors sujet" in raw(server, claire, notices[-1]["uid"])
    assert "Publicite" not in subjects(server, lea)


def test_an_outside_member_is_queued_with_the_bounce_address(hr):
    server, _ = hr
    parents = a("parents.0541234a")
    server.admin("list", "create", parents, "--discussion", "--tag", "Parents")
    server.admin("list", "add", parents, "delegue@example.org")
    server.admin("list", "add", parents, a("jean.martin"))
    server.start()
    mx_send(server, "parent@example.org", [parents], "Kermesse")
    wait_for(lambda: subjects(server, a("jean.martin")), "the local member's copy")
    got = raw(server, a("jean.martin"), server.messages(a("jean.martin"))[0]["uid"])
    assert f"Reply-To: <{parents}>" in got and "Subject: [Parents] Kermesse" in got
    out = subprocess.run([binary(), "queue", "--config", str(server.config), "list"], capture_output=True, timeout=60)
    listing = out.stdout.decode()
    assert f"parents.0541234a-bounces@{DOMAIN}" in listing, listing
    entry = re.search(r"^\s*(\d+)\s", listing, re.M).group(1)
    detail = subprocess.run([binary(), "queue", "--config", str(server.config), "show", entry],
                            capture_output=True, timeout=60).stdout.decode()
    assert "delegue@example.org" in detail, detail


def imap_messages(server, user):
    """Every message in a user's INBOX, whole, read with Python's imaplib."""
    with imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=tls_context()) as m:
        m.login(user, PASSWORD)
        m.select("INBOX", readonly=True)
        _, data = m.search(None, "ALL")
        out = []
        for num in data[0].split():
            _, parts = m.fetch(num, "(BODY.PEEK[])")
            out.append(parts[0][1].decode(errors="replace"))
        return out


def test_a_refused_outside_copy_is_reported_to_the_moderator_not_the_poster(server):
    fake = FakeMx("127.0.0.1", rcpt_reply=lambda r: "550 5.1.1 utilisateur inconnu"
                  if r.startswith("inconnu") else "250 2.1.5 ok")
    try:
        claire = server.create("claire.martin", password=PASSWORD)
        modo = server.create("moderatrice", password=PASSWORD, role="direction")
        parents = a("parents")
        server.admin("list", "create", parents, "--name", "Parents d'élèves")
        server.admin("list", "add", parents, claire)
        server.admin("list", "add", parents, "inconnu@ac-lointain.fr")
        server.admin("list", "add", parents, "delegue@ac-lointain.fr")
        server.admin("list", "moderators", parents, "add", modo)
        server.config.write_text(
            server.config.read_text()
            + f'\n[outbound]\nmx_override = ["ac-lointain.fr=127.0.0.1:{fake.port}"]\n'
            'retry_first = "1s"\nretry_max = "2s"\npoll_interval = "1s"\ntimeout = "10s"\n'
        )
        server.start()

        submit(server, claire, [parents], "Kermesse")
        wait_for(lambda: fake.delivered, "the accepted outside copy")
        assert [r for r, _ in fake.delivered] == [["delegue@ac-lointain.fr"]]
        reports = wait_for(lambda: imap_messages(server, modo), "the moderator's delivery report", timeout=30)
        assert len(reports) == 1, reports
        report = reports[0]
        assert "multipart/report; report-type=delivery-status" in report, report
        status = report.split("message/delivery-status", 1)[1].split("text/rfc822-headers", 1)[0]
        assert "Final-Recipient: rfc822; inconnu@ac-lointain.fr\r\nAction: failed\r\nStatus: 5.1.1" in status, status
        assert "delegue@ac-lointain.fr" not in status
        assert re.search(rf"^Subject: Message non remis \(liste {re.escape(parents)}\)", report, re.M), report
        assert f"To: <parents-bounces@{DOMAIN}>" in report
        assert "Subject: Kermesse" in report, "the original header is quoted"

        # The poster has the list's copy and no report; the queue is empty.
        wait_for(lambda: "vide" in subprocess.run([binary(), "queue", "--config", str(server.config), "list"],
                                                  capture_output=True, timeout=60).stdout.decode(), "an empty queue")
        assert inbox_via_imap(server, claire) == ["Subject: Kermesse"]
        assert len(imap_messages(server, modo)) == 1
    finally:
        fake.close()
