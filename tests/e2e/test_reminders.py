"""Calendar reminders (VALARM, issue 21) on the real binary: an alarm written
by a CalDAV client (the PyPI `caldav` library) fires at its time in Claire's
open webmail (headless Chromium, the live stream), is dismissed there and
stays dismissed; an EMAIL alarm reaches her Inbox once, and a restart does
not send it again; the agenda's form writes the reminder chosen; the
« Rappels » page changes a calendar's default; Paul reaches none of Claire's
reminders; no serious axe-core violation."""

import datetime as dt
import imaplib
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import DOMAIN, IN_CI, binary

try:
    import caldav
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium or caldav not installed: {e}", allow_module_level=True)

from test_web_identity import PASSWORD, base, browser, wait_path  # noqa: F401
from test_webmail import alert_says, login
from test_webmail_audit import axe_source, axe_violations

CLAIRE = f"claire.martin@{DOMAIN}"
PAUL = f"paul.durand@{DOMAIN}"
UTC = dt.timezone.utc


def stamp(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def event(uid, summary, start, lead_seconds, action="DISPLAY", location="Salle 12"):
    """An event at `start` whose alarm fires `lead_seconds` before it."""
    extra = "SUMMARY:Rappel\r\nATTENDEE:mailto:dehors@example.org\r\n" if action == "EMAIL" else ""
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//reminders//FR\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:{stamp(dt.datetime.now(UTC))}\r\nDTSTART:{stamp(start)}\r\n"
        f"DTEND:{stamp(start + dt.timedelta(hours=1))}\r\nSUMMARY:{summary}\r\nLOCATION:{location}\r\n"
        f"BEGIN:VALARM\r\nACTION:{action}\r\nDESCRIPTION:Rappel\r\n{extra}TRIGGER:-PT{lead_seconds}S\r\n"
        "END:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def calendar_of(server, address):
    client = caldav.DAVClient(url=base(server) + "/.well-known/caldav", username=address, password=PASSWORD)
    return client, client.principal().calendars()[0]


def reminder_mails(server, subject_part):
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE  # the test server's own self-signed certificate
    imap = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=tls, timeout=30)
    try:
        imap.login(CLAIRE, PASSWORD)
        imap.select("INBOX", readonly=True)
        typ, data = imap.search("UTF-8", "SUBJECT", f'"{subject_part}"'.encode())
        assert typ == "OK", data
        return data[0].split()
    finally:
        imap.logout()


def wait_for(what, check, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = check()
        if got:
            return got
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout} s")


def post_as(browser, server, fields, csrf=None):
    """POSTs the form to /agenda/rappels with the browser's session; the status."""
    if csrf is None:
        csrf = browser.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    body = urllib.parse.urlencode({"csrf": csrf, **fields}).encode()
    req = urllib.request.Request(f"{base(server)}/agenda/rappels", data=body, headers={"Cookie": cookies})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture
def two(server):
    server.create("claire.martin", password=PASSWORD)
    server.create("paul.durand", password=PASSWORD)
    server.start()
    return server


def test_an_alarm_fires_in_the_webmail_and_by_mail_once(two, browser):
    server = two
    login(browser, server, CLAIRE)
    now = dt.datetime.now(UTC).replace(microsecond=0)
    start = now + dt.timedelta(minutes=10)
    client, cal = calendar_of(server, CLAIRE)
    # Fires 12 s from now: 10 minutes minus 588 s before the start.
    cal.save_event(event("conseil-rappel", "Conseil de classe 3e B", start, 588))
    cal.save_event(event("courriel-rappel", "Réunion parents-professeurs", start, 588, action="EMAIL"))
    client.close()

    # The open webmail shows both as they fire (the stream's « rappels »).
    browser.get(f"{base(server)}/courrier")
    box = WebDriverWait(browser, 60).until(EC.visibility_of_element_located((By.ID, "rappels-direct")))
    WebDriverWait(browser, 30).until(lambda d: "Réunion parents-professeurs" in box.text
                                     and "Conseil de classe 3e B" in box.text)
    assert "Salle 12" in box.text
    # Dismissed from the box: gone for good.
    button = browser.find_element(By.CSS_SELECTOR, "#rappels-direct button[aria-label$='Conseil de classe 3e B']")
    button.click()
    WebDriverWait(browser, 10).until(lambda d: "Conseil de classe 3e B" not in d.find_element(By.ID, "rappels-direct").text)
    browser.get(f"{base(server)}/agenda/rappels")
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "titre-rappels")))
    pending = browser.find_element(By.CSS_SELECTOR, "section.agenda-rappels").text
    assert "Réunion parents-professeurs" in pending and "Conseil de classe 3e B" not in pending
    claires = browser.find_element(By.CSS_SELECTOR, "li.rappel").get_attribute("id").removeprefix("rappel-")

    # Paul cannot dismiss Claire's reminder, even with a valid form of his own.
    login(browser, server, PAUL)
    browser.get(f"{base(server)}/agenda/rappels")
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "aucun-rappel")))
    assert post_as(browser, server, {"action": "fermer", "rappel": claires}) == 404
    login(browser, server, CLAIRE)
    browser.get(f"{base(server)}/agenda/rappels")
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, f"rappel-{claires}")))

    # The EMAIL alarm reached the Inbox, once; its outside ATTENDEE got nothing.
    found = wait_for("the reminder mail", lambda: reminder_mails(server, "Réunion parents-professeurs"))
    assert len(found) == 1
    queue = subprocess.run([binary(), "queue", "--config", str(server.config), "list"], capture_output=True,
                           timeout=60, check=True)
    assert b"queue is empty" in queue.stdout, queue.stdout
    server.stop()
    server.start()
    time.sleep(25)  # two and a half turns of the reminder runner
    assert len(reminder_mails(server, "Réunion parents-professeurs")) == 1, "sent once, even across a restart"
    assert len(reminder_mails(server, "Conseil de classe 3e B")) == 0, "a displayed alarm is not mailed"


def test_the_form_and_the_settings_write_reminders_and_paul_reaches_none(two, browser):
    server = two
    source = axe_source()
    login(browser, server, CLAIRE)
    browser.get(f"{base(server)}/agenda/nouveau?date=2026-09-07&heure=17:00")
    title = browser.find_element(By.ID, "titre")
    title.send_keys("Conseil pédagogique")
    browser.find_element(By.CSS_SELECTOR, "#rappel option[value='30']").click()
    browser.find_element(By.ID, "enregistrer-evenement").click()
    wait_path(browser, "/agenda")
    client, cal = calendar_of(server, CLAIRE)
    texts = [e.data for e in cal.events()]
    client.close()
    written = [t for t in texts if "Conseil pédagogique" in t]
    assert len(written) == 1 and "TRIGGER:-PT30M" in written[0], texts

    # The default of the calendar: none, and mailed.
    browser.get(f"{base(server)}/agenda/rappels")
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "titre-reglages-rappels")))
    serious = [v for v in axe_violations(browser, source) if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    assert browser.find_element(By.CSS_SELECTOR, "#defaut-1 option[selected]").get_attribute("value") == "15"
    browser.find_element(By.CSS_SELECTOR, "#defaut-1 option[value='aucun']").click()
    browser.find_element(By.ID, "courriel-1").click()
    browser.find_element(By.ID, "enregistrer-rappels-1").click()
    alert_says(browser, "Rappels enregistrés")
    assert browser.find_element(By.CSS_SELECTOR, "#defaut-1 option[selected]").get_attribute("value") == "aucun"
    assert browser.find_element(By.ID, "courriel-1").is_selected()

    # Paul may not change Claire's calendar (a shared calendar's key is no segment of his), nor
    # set a reminder the form does not offer.
    login(browser, server, PAUL)
    browser.get(f"{base(server)}/agenda/rappels")
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "aucun-rappel")))
    assert post_as(browser, server, {"action": "regler", "agenda": "claire.martin~agenda", "defaut": "5"}) == 404
    assert post_as(browser, server, {"action": "regler", "agenda": "agenda", "defaut": "7"}) == 400
    # Without the form's token: refused.
    assert post_as(browser, server, {"action": "tout"}, csrf="faux") in (400, 403)
