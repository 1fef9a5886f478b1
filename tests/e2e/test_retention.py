"""Undelete, retention, archiving and quota warnings (issue 20) on the real binary, through real
clients: imaplib expunges, Chromium restores from « Messages supprimés récemment », the helpdesk's
CLI lists (never a subject) and restores; the Corbeille and Indésirables are emptied after their
delay and the deleted messages purged after theirs (`ardoise admin housekeeping run --at` pretends a
later day); old Inbox mail moves to Archives/YYYY; quota warnings arrive once per crossing."""

import email.parser
import email.policy
import imaplib
import json
import re
import time

import pytest

from conftest import DOMAIN, IN_CI
from imap_folders import no_verify, quoted

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium not installed: {e}", allow_module_level=True)

from test_web_identity import PASSWORD, base, browser, wait_path, web_login  # noqa: F401

CLAIRE = f"claire.martin@{DOMAIN}"
DAY = 86400


def raw(subject, body="Bonjour,\r\n\r\nVoici le message.\r\n", sender="direction@ac-test.fr"):
    return (f"From: Direction <{sender}>\r\nTo: {CLAIRE}\r\nSubject: {subject}\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}").encode()


def imap(server):
    m = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=no_verify(), timeout=20)
    m.login(CLAIRE, PASSWORD)
    return m


def append(m, folder, subject, when=None, body=None):
    date = imaplib.Time2Internaldate(when if when is not None else time.time())
    kw = {} if body is None else {"body": body}
    typ, data = m.append(quoted(folder), None, date, raw(subject, **kw))
    assert typ == "OK", data


def subjects(m, folder):
    """The subjects of a folder, in UID order (the folder selected read-write afterwards)."""
    typ, data = m.select(quoted(folder))
    assert typ == "OK", (folder, data)
    if int(data[0]) == 0:
        return []
    typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK", data
    parse = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes
    return [str(parse(d[1])["subject"]) for d in data if isinstance(d, tuple)]


def folders(m):
    typ, data = m.list()
    assert typ == "OK"
    return [re.search(rb'"([^"]*)"$|(\S+)$', line).group(0).decode().strip('"') for line in data]


def deleted(server):
    return json.loads(server.admin("message", "deleted", "list", CLAIRE, "--json"))


def housekeeping(server, at=None):
    out = server.admin("housekeeping", "run", *(["--at", str(int(at))] if at is not None else []))
    counts = dict(re.findall(r"(purgés|corbeille|indésirables|archivés|quota) (\d+)", out))
    return {k: int(v) for k, v in counts.items()}


def test_expunged_message_is_restored_from_the_webmail(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    m = imap(server)
    append(m, "INBOX", "Convocation au conseil de classe")
    append(m, "INBOX", "Sortie au musée")
    assert subjects(m, "INBOX") == ["Convocation au conseil de classe", "Sortie au musée"]
    # A MOVE is not a deletion: nothing to restore from it.
    typ, data = m.uid("MOVE", "2", quoted("Corbeille"))
    assert typ == "OK", data
    assert deleted(server) == []
    # A real expunge is.
    m.store("1", "+FLAGS", "(\\Seen \\Deleted)")
    typ, _ = m.expunge()
    assert typ == "OK"
    assert subjects(m, "INBOX") == []
    gone = deleted(server)
    assert [(d["mailbox"], d["cause"]) for d in gone] == [("INBOX", "expunge")]

    web_login(browser, server, CLAIRE, PASSWORD)
    wait_path(browser, "/courrier")
    browser.find_element(By.ID, "lien-supprimes").click()
    wait_path(browser, "/courrier/supprimes")
    row = browser.find_element(By.ID, f"supprime-{gone[0]['id']}")
    assert "Convocation au conseil de classe" in row.text
    browser.find_element(By.ID, f"choix-{gone[0]['id']}").click()
    browser.find_element(By.ID, "restaurer").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".alerte"), "restauré"))
    assert browser.find_elements(By.ID, "aucun-supprime")

    # IMAP sees it again, in its folder, read, and no longer \Deleted.
    assert subjects(m, "INBOX") == ["Convocation au conseil de classe"]
    typ, data = m.fetch("1", "(FLAGS)")
    assert b"\\Seen" in data[0] and b"\\Deleted" not in data[0], data
    assert deleted(server) == []
    # Restoring again (a replayed form) does nothing.
    browser.get(base(server) + "/courrier/supprimes")
    assert browser.find_elements(By.ID, "aucun-supprime")
    m.logout()


def test_helpdesk_lists_without_subjects_and_restores(server):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    m = imap(server)
    typ, _ = m.create(quoted("Projets"))
    assert typ == "OK"
    append(m, "Projets", "Bulletin confidentiel de Léa")
    append(m, "INBOX", "Réunion parents-professeurs")
    m.select("INBOX")
    m.store("1", "+FLAGS", "(\\Deleted)")
    m.expunge()
    # Deleting a folder deletes its messages: restorable too.
    m.select("INBOX")
    typ, data = m.delete(quoted("Projets"))
    assert typ == "OK", data

    text = server.admin("message", "deleted", "list", CLAIRE)
    listed = deleted(server)
    assert sorted(d["cause"] for d in listed) == ["expunge", "folder"]
    # The helpdesk never reads mail: no subject, no content.
    assert "Bulletin" not in text and "Réunion" not in text, text
    assert all("subject" not in d for d in listed)
    assert all(d["from"] == "Direction <direction@ac-test.fr>" for d in listed), listed

    by_cause = {d["cause"]: d["id"] for d in listed}
    out = server.admin("message", "deleted", "restore", CLAIRE, str(by_cause["folder"]), "999999")
    assert "1 message(s) restauré(s) sur 2" in out, out
    # Its folder is gone: the Inbox takes it.
    assert subjects(m, "INBOX") == ["Bulletin confidentiel de Léa"]
    out = server.admin("message", "deleted", "restore", CLAIRE, "--since", time.strftime("%Y-%m-%d", time.gmtime()))
    assert "1 message(s) restauré(s)" in out, out
    assert sorted(subjects(m, "INBOX")) == ["Bulletin confidentiel de Léa", "Réunion parents-professeurs"]
    assert deleted(server) == []
    # Nothing left: a clear refusal, and the audit log has every step.
    out = server.admin("message", "deleted", "restore", CLAIRE, check=False)
    assert "restauré" not in out
    audit = server.admin("audit", "list")
    assert audit.count("message.deleted.restore") == 2 and "message.deleted.list" in audit, audit
    m.logout()


def test_trash_and_junk_retention_then_purge(server):
    with open(server.config, "a") as f:
        f.write("\n[mail]\ntrash_days = 30\njunk_days = 10\nundelete_days = 60\n")
    server.create("claire.martin", password=PASSWORD)
    server.start()
    m = imap(server)
    append(m, "Corbeille", "Ancienne circulaire", body="Corbeille " + "x" * 5000 + "\r\n")
    append(m, "Indésirables", "Gagnez un voyage", body="Pourriel " + "y" * 5000 + "\r\n")
    append(m, "INBOX", "À garder")
    now = time.time()
    files = server.blob_stats()["files"]

    assert housekeeping(server)["corbeille"] == 0
    assert subjects(m, "Corbeille") == ["Ancienne circulaire"]
    counts = housekeeping(server, now + 11 * DAY)
    assert (counts["corbeille"], counts["indésirables"]) == (0, 1), counts
    assert subjects(m, "Indésirables") == []
    counts = housekeeping(server, now + 31 * DAY)
    assert (counts["corbeille"], counts["indésirables"], counts["purgés"]) == (1, 0, 0), counts
    assert subjects(m, "Corbeille") == []
    assert subjects(m, "INBOX") == ["À garder"]
    assert sorted(d["cause"] for d in deleted(server)) == ["retention", "retention"]
    # Still restorable: the collector leaves their files.
    server.admin("blob", "gc", "--grace", "0")
    assert server.blob_stats()["files"] == files

    # Past the undelete delay they are forgotten, and their files collected.
    counts = housekeeping(server, now + 61 * DAY)
    assert counts["purgés"] == 2, counts
    assert deleted(server) == []
    server.admin("blob", "gc", "--grace", "0")
    assert server.blob_stats()["files"] == files - 2
    assert subjects(m, "INBOX") == ["À garder"]
    m.logout()


def test_old_inbox_mail_is_archived_by_year_as_chosen_in_settings(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    m = imap(server)
    append(m, "INBOX", "Rentrée 2023", when=time.mktime((2023, 9, 4, 9, 0, 0, 0, 0, -1)))
    append(m, "INBOX", "Bac 2024", when=time.mktime((2024, 6, 17, 9, 0, 0, 0, 0, -1)))
    append(m, "INBOX", "Cette semaine")
    # The installation's default is never: nothing moves.
    assert housekeeping(server)["archivés"] == 0

    web_login(browser, server, CLAIRE, PASSWORD)
    wait_path(browser, "/courrier")
    browser.get(base(server) + "/courrier/reglages")
    browser.find_element(By.ID, "lien-archivage").click()
    wait_path(browser, "/courrier/reglages/archivage")
    Select(browser.find_element(By.ID, "jours")).select_by_value("365")
    browser.find_element(By.ID, "enregistrer-archivage").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".alerte"), "enregistré"))
    assert Select(browser.find_element(By.ID, "jours")).first_selected_option.get_attribute("value") == "365"

    assert housekeeping(server)["archivés"] == 2
    assert subjects(m, "INBOX") == ["Cette semaine"]
    assert subjects(m, "Archives/2023") == ["Rentrée 2023"]
    assert subjects(m, "Archives/2024") == ["Bac 2024"]
    # Idempotent: a second run moves nothing and duplicates nothing.
    assert housekeeping(server)["archivés"] == 0
    assert subjects(m, "Archives/2023") == ["Rentrée 2023"]
    typ, data = m.list(quoted("Archives"), "*")
    assert typ == "OK" and any(b"\\Archive" in line for line in data), data
    m.logout()


def test_quota_warnings_once_per_crossing(server):
    server.create("claire.martin", password=PASSWORD, quota="300K")
    server.start()
    m = imap(server)
    body = ("z" * 1000 + "\r\n") * 10  # about 10 KB a message: 3.3 % of the quota

    def fill(folder, n, tag):
        for i in range(n):
            append(m, folder, f"{tag} {i}", body=body)

    def warnings():
        return [s for s in subjects(m, "INBOX") if "pleine à" in s]

    typ, _ = m.create(quoted("Projets"))
    assert typ == "OK"
    fill("Projets", 22, "projet")  # about 73 %
    assert housekeeping(server)["quota"] == 0
    fill("INBOX", 3, "note")  # about 83 %
    assert housekeeping(server)["quota"] == 1
    assert housekeeping(server)["quota"] == 0, "warned twice"
    assert warnings() == ["Votre boîte aux lettres est pleine à 80 % / Mailbox 80% full"]
    fill("INBOX", 3, "encore")  # about 93 %
    assert housekeeping(server)["quota"] == 1
    assert warnings()[1] == "Votre boîte aux lettres est pleine à 90 % / Mailbox 90% full"
    # Cleaning up lowers the level without a mail; crossing 80 % again warns again.
    m.select(quoted("Projets"))
    m.store("1:*", "+FLAGS", "(\\Deleted)")
    m.expunge()
    assert housekeeping(server)["quota"] == 0
    assert len(warnings()) == 2
    fill("INBOX", 20, "retour")  # about 87 %
    assert housekeeping(server)["quota"] == 1
    assert len(warnings()) == 3 and "80 %" in warnings()[2], warnings()
    m.logout()


def test_a_units_archiving_delay_applies_below_it_unless_the_account_chose(server, tmp_path):
    import smtplib
    import subprocess

    from conftest import binary

    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    server.admin("unit", "add", "DSDEN 57", "--kind", "dsden", "--parent", "Académie de test")
    server.admin("unit", "add", "Collège A", "--kind", "etablissement", "--parent", "DSDEN 57", "--uai", "0571234A")
    csv = tmp_path / "rh.csv"
    csv.write_text("numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n"
                   "12E0000001ABC;M.;Martin;Jean;enseignant;actif;0571234A;;\n", encoding="utf-8")
    out = subprocess.run([binary(), "directory", "--config", str(server.config), "sync", str(csv)],
                         capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    jean = f"jean.martin@{DOMAIN}"
    server.create("claire.martin", password=PASSWORD)
    server.start()
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        for to in (jean, CLAIRE):
            assert s.sendmail("direction@ac-test.fr", [to], raw("Note de service")) == {}

    refused = subprocess.run([binary(), "admin", "--config", str(server.config), "archiving", "set", "-3",
                              "--dsden", "57"], capture_output=True, timeout=60)
    assert refused.returncode != 0
    server.admin("archiving", "set", "30", "--dsden", "57")
    assert "DSDEN 57\t30" in server.admin("archiving", "list")
    later = time.time() + 40 * DAY
    assert housekeeping(server, at=later)["archivés"] == 1, "Jean's (below the DSDEN), not Claire's"
    assert [m["mailbox"] for m in server.messages(jean)][0].startswith("Archives/")
    assert [m["mailbox"] for m in server.messages(CLAIRE)] == ["INBOX"]

    # The collège says never: its accounts keep their Inbox; removing it restores the DSDEN's.
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        assert s.sendmail("direction@ac-test.fr", [jean], raw("Deuxième note")) == {}
    server.admin("archiving", "set", "0", "--unit", "0571234A")
    assert housekeeping(server, at=later)["archivés"] == 0
    server.admin("archiving", "remove", "--unit", "0571234A")
    assert housekeeping(server, at=later)["archivés"] == 1
    audit = server.admin("audit", "list")
    assert "archiving.set" in audit and "archiving.remove" in audit
