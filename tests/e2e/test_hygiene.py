"""Mail hygiene on the running binary (issue 20): spam to Indésirables or refused,
lookalike phishing scored with its reasons, viruses refused by Debian's clamd run
from a private folder with a signature database of our own (no download), and a
scanner that is down. Mail goes in with smtplib, comes out with imaplib."""

import email
import imaplib
import json
import smtplib
import socket
import subprocess
import time

import pytest

from conftest import DOMAIN, require_tool
from imap_folders import no_verify, quoted
from test_web_identity import browser, web_login, wait_path  # noqa: F401

PASSWORD = "Ardoise-Test-2026"
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# A custom signature of ours, matched anywhere in a scanned stream.
CUSTOM = "ARDOISE-TEST-VIRUS-7f3a"
JUNK = "Indésirables"


def start(make_server, hygiene: str = ""):
    s = make_server(smtp_extra=f"\n[hygiene]\n{hygiene}\n")
    s.create("claire.martin", password=PASSWORD)
    return s.start()


def message(subject: str, body: str, sender: str = "Parent <parent@example.org>", extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: <claire.martin@{DOMAIN}>\r\nSubject: {subject}\r\n"
        f"Date: Sun, 06 Dec 2026 08:00:00 +0100\r\nMessage-ID: <{abs(hash(subject + body))}@example.org>\r\n"
        f"{extra}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    ).encode()


def send(server, raw: bytes, sender: str = "parent@example.org"):
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        return s.sendmail(sender, [f"claire.martin@{DOMAIN}"], raw)


def refused(server, raw: bytes) -> tuple:
    with pytest.raises(smtplib.SMTPDataError) as e:
        send(server, raw)
    return e.value.smtp_code, e.value.smtp_error.decode()


def imap(server, user: str = "claire.martin") -> imaplib.IMAP4_SSL:
    m = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=no_verify(), timeout=20)
    m.login(f"{user}@{DOMAIN}", PASSWORD)
    return m


def folder(server, name: str, user: str = "claire.martin") -> list:
    """The messages of a folder, parsed."""
    m = imap(server, user)
    try:
        typ, _ = m.select(quoted(name), readonly=True)
        assert typ == "OK", name
        _, data = m.search(None, "ALL")
        out = []
        for num in data[0].split():
            _, parts = m.fetch(num, "(BODY.PEEK[])")
            out.append(email.message_from_bytes(parts[0][1]))
        return out
    finally:
        m.logout()


def wait_for_message(server, name: str, subject: str, timeout: float = 10, user: str = "claire.martin"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = [m for m in folder(server, name, user) if subject in str(m["Subject"])]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no « {subject} » in {name}")


def test_gtube_lands_in_indesirables(make_server):
    server = start(make_server)
    assert send(server, message("Offre exceptionnelle", f"Bonjour. {GTUBE}")) == {}
    spam = wait_for_message(server, JUNK, "Offre exceptionnelle")
    assert spam["X-Spam-Status"].startswith("Yes, score="), spam["X-Spam-Status"]
    assert "GTUBE" in spam["X-Spam-Status"]
    assert float(spam["X-Spam-Score"]) >= 10
    assert not any("Offre" in str(m["Subject"]) for m in folder(server, "INBOX"))
    # An ordinary message from outside stays in the Inbox, marked clean.
    send(server, message("Sortie au musée", "La sortie est confirmée pour jeudi."))
    ham = wait_for_message(server, "INBOX", "Sortie au mus")
    assert ham["X-Spam-Status"].startswith("No, score="), ham["X-Spam-Status"]
    assert float(ham["X-Spam-Score"]) < 1


def test_above_the_refusal_threshold_is_refused_at_smtp(make_server):
    server = start(make_server, "junk_threshold = 4\nreject_threshold = 8.5")
    code, text = refused(server, message("Offre exceptionnelle", GTUBE))
    assert code == 550, text
    assert text.startswith("5.7.1"), text
    # The reply says nothing of the rules that fired.
    assert "GTUBE" not in text
    assert all("Offre" not in str(m["Subject"]) for m in folder(server, JUNK) + folder(server, "INBOX"))


def phishing_in_junk(make_server):
    """A lookalike phishing message, checked in Indésirables; the server and the domain."""
    server = start(make_server)
    lookalike = DOMAIN.replace("test", "te5t")  # ac-te5t.fr
    raw = (
        f"From: Service informatique <dsi@{lookalike}>\r\nTo: <claire.martin@{DOMAIN}>\r\n"
        f"Subject: Messagerie\r\nDate: Sun, 06 Dec 2026 08:00:00 +0100\r\nMessage-ID: <p1@{lookalike}>\r\n"
        # A sender's own verdict is never believed: removed, ours written.
        f"X-Spam-Status: No, score=-100\r\nX-Spam-Score: -100\r\n"
        f"Content-Type: text/html; charset=utf-8\r\n\r\n"
        f'<p>Bonjour, votre nouvelle messagerie : <a href="https://login.example.net/x">https://webmail.{DOMAIN}</a></p>\r\n'
    ).encode()
    send(server, raw, sender=f"dsi@{lookalike}")
    spam = wait_for_message(server, JUNK, "Messagerie")
    statuses = spam.get_all("X-Spam-Status")
    assert len(statuses) == 1 and statuses[0].startswith("Yes"), statuses
    assert "LOOKALIKE_DOMAIN" in statuses[0] and "LINK_MISMATCH" in statuses[0], statuses
    report = " ".join(spam["X-Spam-Report"].split())
    assert f"LOOKALIKE_DOMAIN 6.0 {lookalike}" in report, report
    assert f"webmail.{DOMAIN} -> login.example.net" in report, report
    scores = spam.get_all("X-Spam-Score")
    assert len(scores) == 1 and 8.5 <= float(scores[0]) < 15, scores
    return server, lookalike


def test_lookalike_phishing_is_scored_and_explained(make_server):
    phishing_in_junk(make_server)


def test_the_reader_explains_the_verdict(make_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from test_webmail import folder_link, open_message

    server, lookalike = phishing_in_junk(make_server)
    web_login(browser, server, f"claire.martin@{DOMAIN}", PASSWORD)
    wait_path(browser, "/courrier")
    folder_link(browser, JUNK).click()
    open_message(browser, "Messagerie")
    verdict = WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "verdict-spam")))
    text = verdict.text
    assert "classé comme indésirable" in text, text
    assert f"Le domaine de l'expéditeur imite celui de l'académie ({lookalike})" in text, text
    assert "Le texte d'un lien annonce un autre site" in text, text
    # A message with nothing to explain shows no verdict.
    send(server, message("Sortie au musée", "La sortie est confirmée pour jeudi."))
    folder_link(browser, "Boîte de réception").click()
    open_message(browser, "Sortie au musée")
    assert browser.find_elements(By.ID, "verdict-spam") == []


def test_reporting_phishing_forwards_it_to_security_and_moves_it_to_junk(make_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from test_webmail import open_message

    # High thresholds: the message stays in the Inbox, where Claire spots it herself.
    server = make_server(
        smtp_extra=f'\n[hygiene]\nsecurity_address = "rssi@{DOMAIN}"\njunk_threshold = 50\nreject_threshold = 100\n'
    )
    server.create("claire.martin", password=PASSWORD)
    server.create("rssi", password=PASSWORD)
    server.start()
    send(server, message("Vérification de votre compte", "Confirmez votre mot de passe ici.", sender="it@example.net"))
    wait_for_message(server, "INBOX", "rification de votre compte")
    web_login(browser, server, f"claire.martin@{DOMAIN}", PASSWORD)
    wait_path(browser, "/courrier")
    open_message(browser, "Vérification de votre compte")
    browser.find_element(By.ID, "hameconnage").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".alerte.info"), "sécurité"))
    report = wait_for_message(server, "INBOX", "Signalement", user="rssi")
    assert f"claire.martin@{DOMAIN}" in report["From"], report["From"]
    attached = [p for p in report.walk() if p.get_content_type() == "message/rfc822"]
    assert len(attached) == 1
    assert "rification de votre compte" in str(attached[0].get_payload(0)["Subject"])
    assert wait_for_message(server, JUNK, "rification de votre compte")
    assert not [m for m in folder(server, "INBOX") if "de votre compte" in str(m["Subject"])]


def test_no_security_address_no_report_button(make_server, browser):
    from selenium.webdriver.common.by import By

    from test_webmail import open_message

    server = start(make_server)
    send(server, message("Sortie", "Bonjour."))
    wait_for_message(server, "INBOX", "Sortie")
    web_login(browser, server, f"claire.martin@{DOMAIN}", PASSWORD)
    wait_path(browser, "/courrier")
    open_message(browser, "Sortie")
    assert browser.find_elements(By.ID, "hameconnage") == []


def test_credential_requests_in_french_raise_the_score(make_server):
    # 4.5 points: under a threshold of 6 it stays in the Inbox, so the tag shows.
    server = start(make_server, 'subject_tag = "[EXTERNE]"\njunk_threshold = 6')
    send(
        server,
        message(
            "Votre compte sera suspendu",
            "Merci de confirmer votre mot de passe en répondant à ce message.",
            sender="Support <support@example.net>",
        ),
    )
    m = wait_for_message(server, "INBOX", "Votre compte sera suspendu")
    assert "CREDENTIAL_REQUEST" in m["X-Spam-Status"] and "ACCOUNT_THREAT" in m["X-Spam-Status"], m["X-Spam-Status"]
    # IMAP users see where it came from.
    assert str(m["Subject"]).startswith("[EXTERNE] "), m["Subject"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_clamd(folder, port, signatures, extra=""):
    """Debian's clamd on `port` with only `signatures` (name: text to find), configured in `folder`
    (`extra`: more clamd.conf lines); returns the process once it answers PING."""
    binary = require_tool("clamd")
    db = folder / "clamav-db"
    db.mkdir(parents=True, exist_ok=True)
    (db / "ardoise.ndb").write_text("".join(f"{name}:0:*:{text.encode().hex()}\n" for name, text in signatures.items()))
    conf = folder / "clamd.conf"
    conf.write_text(
        f"Foreground yes\nDatabaseDirectory {db}\nTCPSocket {port}\nTCPAddr 127.0.0.1\n"
        f"{extra}LogFile {folder / 'clamd.log'}\nPidFile {folder / 'clamd.pid'}\n"
    )
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"zPING\0")
                if s.recv(16).startswith(b"PONG"):
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise AssertionError(f"clamd did not start: {(folder / 'clamd.log').read_text(errors='replace')}")
        time.sleep(0.2)


@pytest.fixture
def clamd(tmp_path):
    """Debian's clamd on a free port, with our own two signatures only."""
    port = free_port()
    proc = run_clamd(tmp_path, port, {"Ardoise.Test.EICAR": EICAR, "Ardoise.Test.Custom": CUSTOM})
    yield port
    proc.terminate()
    proc.wait(timeout=20)


def test_eicar_is_refused_with_554_and_clean_mail_marked(make_server, clamd):
    server = start(make_server, f'clamd = "tcp:127.0.0.1:{clamd}"')
    code, text = refused(server, message("Document", f"Ci-joint.\r\n{EICAR}"))
    assert (code, text[:5]) == (554, "5.7.0"), text
    # The signature's name is for the log, never for the sender.
    assert "EICAR" not in text and "Ardoise.Test" not in text, text
    assert "Ardoise.Test.EICAR" in (server.root / "server.log").read_text(errors="replace")
    code, text = refused(server, message("Autre", f"Bonjour {CUSTOM}"))
    assert (code, text[:5]) == (554, "5.7.0"), text
    send(server, message("Propre", "Rien à signaler."))
    clean = wait_for_message(server, "INBOX", "Propre")
    assert clean["X-Virus-Status"] == "clean"
    assert [m for m in folder(server, "INBOX") if m["Subject"] in ("Document", "Autre")] == []


def quarantined(server) -> list:
    return json.loads(server.admin("quarantine", "list", "--json"))


def test_refused_messages_are_quarantined_then_released_or_deleted(make_server, clamd):
    server = start(make_server, f'clamd = "tcp:127.0.0.1:{clamd}"\nreject_threshold = 8')
    refused(server, message("Document piégé", f"Ci-joint.\r\n{EICAR}"))
    refused(server, message("Offre exceptionnelle", GTUBE))
    kept = quarantined(server)
    assert [(q["reason"], q["subject"]) for q in kept] == [("spam", "Offre exceptionnelle"), ("virus", "Document piégé")]
    virus = kept[1]
    assert virus["detail"].startswith("Ardoise.Test.EICAR"), virus
    assert virus["recipients"] == [f"claire.martin@{DOMAIN}"] and virus["from"] == "parent@example.org"
    assert EICAR.encode() in server.admin_bytes("quarantine", "show", str(virus["id"]))
    # Released into the Inbox as it came (the administrator decided), once.
    server.admin("quarantine", "release", str(kept[0]["id"]))
    assert wait_for_message(server, "INBOX", "Offre exceptionnelle")
    assert [q["id"] for q in quarantined(server)] == [virus["id"]]
    assert "released" not in server.admin("quarantine", "release", str(kept[0]["id"]), check=False)
    server.admin("quarantine", "delete", str(virus["id"]))
    assert quarantined(server) == []
    audit = server.admin("audit", "list")
    assert "quarantine.release" in audit and "quarantine.delete" in audit and "quarantine.show" in audit, audit


def test_clamd_down_defers_with_451_or_accepts_by_policy(make_server):
    port = free_port()  # nobody listens there
    server = start(make_server, f'clamd = "tcp:127.0.0.1:{port}"\nclamd_timeout = "2s"')
    code, text = refused(server, message("Bulletin", "Bonjour."))
    assert (code, text[:5]) == (451, "4.7.1"), text
    log = (server.root / "server.log").read_text(errors="replace")
    assert "NO VIRUS SCAN" in log
    server.stop()
    server.config.write_text(server.config.read_text().replace("[hygiene]\n", "[hygiene]\naccept_unscanned = true\n"))
    server.start()
    assert send(server, message("Bulletin", "Bonjour.")) == {}
    m = wait_for_message(server, "INBOX", "Bulletin")
    assert m["X-Virus-Status"] == "unknown"


def test_clamd_answering_garbage_or_nothing_defers(make_server):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    import threading

    def babble():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n\x00")
            conn.close()

    threading.Thread(target=babble, daemon=True).start()
    try:
        server = start(make_server, f'clamd = "tcp:127.0.0.1:{port}"\nclamd_timeout = "2s"')
        code, text = refused(server, message("Bulletin", "Bonjour."))
        assert (code, text[:5]) == (451, "4.7.1"), text
    finally:
        listener.close()
