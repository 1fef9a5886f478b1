"""The statistical spam classifier on the running binary (issue 20): an IMAP client
(imapclient) moves messages into Indésirables and out of it, which trains the
owner's own model; then a new spam like the ones junked, sent with smtplib to her
and to an untrained colleague, lands in her Indésirables and in his Inbox (read
with imaplib). The reporting folder forwards, trains and junks; the webmail's
« Indésirable » and « Pas indésirable » (headless Chromium) train as well."""

import json
import ssl
import time

import imapclient

from conftest import DOMAIN
from test_hygiene import JUNK, PASSWORD, folder, wait_for_message
from test_web_identity import browser  # noqa: F401

SPAM_WORDS = (
    "gagnez gratuit offre exceptionnelle cliquez maintenant promotion casino bonus cadeau urgent félicitations "
    "sélectionné remboursement crédit investissement bitcoin rendement garanti livraison pharmacie réduction "
    "limitée inscrivez"
).split()
HAM_WORDS = (
    "réunion conseil classe élèves parents bulletin trimestre emploi temps salle professeur principal inspection "
    "programme devoirs sortie scolaire collège cantine absence convocation examen brevet pédagogique"
).split()
REPORT = "Signaler hameçonnage"


def words(vocabulary, seed, n, offset=0):
    return " ".join(vocabulary[(seed * 7 + i * 13 + i * i) % len(vocabulary)] for i in range(offset, offset + n))


def subject(kind: str, seed: int) -> str:
    """A marker that finds each message, then words of its kind."""
    return f"{kind}-{seed} {words(SPAM_WORDS if kind == 'spam' else HAM_WORDS, seed, 3, 50)}"


def message(kind: str, seed: int, to: str) -> bytes:
    vocabulary, sender = (
        (SPAM_WORDS, "Promo <offres@promo-cadeaux.example>")
        if kind == "spam"
        else (HAM_WORDS, "Parent <parent@famille.example>")
    )
    return (
        f"From: {sender}\r\nTo: <{to}>\r\nSubject: {subject(kind, seed)}\r\n"
        f"Date: Sun, 06 Dec 2026 08:00:00 +0100\r\nMessage-ID: <{kind}.{seed}@example.org>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{words(vocabulary, seed, 40)}\r\n"
    ).encode()


def send(server, raw: bytes, to: list):
    import smtplib

    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        assert s.sendmail("offres@promo-cadeaux.example", to, raw) == {}


def client(server, user="claire.martin") -> imapclient.IMAPClient:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = imapclient.IMAPClient("127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=ctx, timeout=20)
    c.login(f"{user}@{DOMAIN}", PASSWORD)
    return c


def uids_by_marker(c, prefix: str) -> list:
    """UIDs of the selected folder whose subject starts with `prefix`."""
    found = c.fetch(c.search("ALL"), ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    return [
        uid
        for uid, data in found.items()
        if data[b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().split(":", 1)[1].strip().startswith(prefix)
    ]


def stats(server, address=None) -> dict:
    args = ["spam", "stats", "--json"] + ([address] if address else [])
    return json.loads(server.admin(*args))


def wait_trained(server, address, spam, ham, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = stats(server, address)
        if (s["spam"], s["ham"]) == (spam, ham):
            return s
        time.sleep(0.2)
    raise AssertionError(f"{address} trained {stats(server, address)}, not {spam}/{ham}")


def start(make_server):
    server = make_server(
        smtp_extra=f'\n[hygiene]\nsecurity_address = "rssi@{DOMAIN}"\nreport_folder = "{REPORT}"\n'
    )
    for who in ("claire.martin", "paul.durand", "rssi"):
        server.create(who, password=PASSWORD)
    return server.start()


def test_moves_in_and_out_of_junk_train_her_model_and_her_next_spam_is_junked(make_server):
    server = start(make_server)
    claire, paul = f"claire.martin@{DOMAIN}", f"paul.durand@{DOMAIN}"
    for i in range(25):
        send(server, message("spam", i, claire), [claire])
        send(server, message("ham", i, claire), [claire])
    wait_for_message(server, "INBOX", "ham-24 ")
    with client(server) as c:
        c.select_folder("INBOX")
        spam = uids_by_marker(c, "spam-")
        ham = uids_by_marker(c, "ham-")
        assert (len(spam), len(ham)) == (25, 25), (spam, ham)
        # The spam into Indésirables (MOVE); the good mail too, by mistake...
        c.move(spam, JUNK)
        c.move(ham, JUNK)
        wait_trained(server, claire, 50, 0)
        # ... and back out (UID MOVE from Indésirables): learnt again as good mail.
        c.select_folder(JUNK)
        c.move(uids_by_marker(c, "ham-"), "INBOX")
    s = wait_trained(server, claire, 25, 25)
    assert s["active"], s
    assert stats(server, paul) == {"address": paul, "spam": 0, "ham": 0, "active": False}
    platform = stats(server)
    assert (platform["spam"], platform["ham"], platform["accounts"]) == (25, 25, 1), platform
    assert not platform["active"], "one person's training does not decide for everyone"

    # A new spam like hers, to both: into her Indésirables, into his Inbox.
    send(server, message("spam", 1000, claire), [claire, paul])
    junked = wait_for_message(server, JUNK, "spam-1000 ")
    assert junked["X-Spam-Status"].startswith("No"), "the platform's verdict, stamped once for every copy"
    assert not [m for m in folder(server, "INBOX") if "spam-1000" in str(m["Subject"])]
    wait_for_message(server, "INBOX", "spam-1000 ", user="paul.durand")
    assert folder(server, JUNK, "paul.durand") == []
    # Good mail like hers stays in her Inbox.
    send(server, message("ham", 2000, claire), [claire])
    wait_for_message(server, "INBOX", "ham-2000 ")
    assert not [m for m in folder(server, JUNK) if "ham-2000" in str(m["Subject"])]


def test_the_reporting_folder_forwards_to_security_trains_and_junks(make_server):
    server = start(make_server)
    claire = f"claire.martin@{DOMAIN}"
    send(server, message("spam", 7, claire), [claire])
    wait_for_message(server, "INBOX", "spam-7 ")
    with client(server) as c:
        c.create_folder(REPORT)
        c.select_folder("INBOX")
        c.move(uids_by_marker(c, "spam-7"), REPORT)
    report = wait_for_message(server, "INBOX", "Signalement", user="rssi")
    assert claire in report["From"], report["From"]
    attached = [p for p in report.walk() if p.get_content_type() == "message/rfc822"]
    assert len(attached) == 1 and "spam-7" in str(attached[0].get_payload(0)["Subject"])
    wait_for_message(server, JUNK, "spam-7 ")
    assert folder(server, REPORT) == []
    wait_trained(server, claire, 1, 0)


def test_the_webmails_junk_and_not_junk_train_too(make_server, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from test_web_identity import wait_path, web_login
    from test_webmail import folder_link, open_message

    server = start(make_server)
    claire = f"claire.martin@{DOMAIN}"
    send(server, message("spam", 3, claire), [claire])
    wait_for_message(server, "INBOX", "spam-3 ")
    web_login(browser, server, claire, PASSWORD)
    wait_path(browser, "/courrier")
    open_message(browser, subject("spam", 3))
    browser.find_element(By.ID, "indesirable").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".alerte"), "Indésirables"))
    wait_trained(server, claire, 1, 0)
    folder_link(browser, JUNK).click()
    open_message(browser, subject("spam", 3))
    browser.find_element(By.ID, "pas-indesirable").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".alerte"), "réception"))
    wait_trained(server, claire, 0, 1)
    # Filed in Indésirables by the scorer (GTUBE), then reported as phishing
    # from there: forwarded, and learnt although it does not move.
    gtube = message("spam", 4, claire).replace(
        b"\r\n\r\n", b"\r\n\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n", 1
    )
    send(server, gtube, [claire])
    wait_for_message(server, JUNK, "spam-4 ")
    assert stats(server, claire)["spam"] == 0, "the scorer's filing teaches nothing"
    folder_link(browser, JUNK).click()
    open_message(browser, subject("spam", 4))
    browser.find_element(By.ID, "hameconnage").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".alerte.info"), "sécurité"))
    wait_for_message(server, "INBOX", "Signalement", user="rssi")
    wait_trained(server, claire, 1, 1)
