"""Scheduling (RFC 6638, iMIP RFC 6047) against the real binary: Claire's
CalDAV client (the PyPI `caldav` library) invites Paul, the « Salle du
conseil » (a resource made by `ardoise admin resource create`) and a parent
outside the académie. Paul finds the event in his calendar and the invitation
in his Inbox, accepts it from the webmail (headless Chromium), and Claire's
copy says so; the room accepted by itself and declines an overlapping
booking; the parent's invitation leaves through the outbound queue (captured
by `[outbound] capture_to`), and the parent's REPLY mail, sent back over
SMTP, updates Claire's copy, while a forged one does not."""

import re
import smtplib
import time
from email.message import EmailMessage

import caldav
import pytest

from conftest import DOMAIN, IN_CI

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium not installed: {e}", allow_module_level=True)

from test_web_identity import PASSWORD, base, browser  # noqa: F401
from test_webmail import login, open_message

CLAIRE = f"claire.martin@{DOMAIN}"
PAUL = f"paul.durand@{DOMAIN}"
ROOM = f"salle-du-conseil.0541234a@{DOMAIN}"
PARENT = "parent.eleve@example.org"
CAPTURE = f"sortant@{DOMAIN}"


def meeting(uid, organizer, attendees, start="20261126T160000Z", end="20261126T173000Z", sequence=0):
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//e2e//FR", "BEGIN:VEVENT", f"UID:{uid}",
        "DTSTAMP:20261101T100000Z", f"SEQUENCE:{sequence}", f"DTSTART:{start}", f"DTEND:{end}",
        "SUMMARY:Conseil pédagogique", f"ORGANIZER;CN=Organisateur:mailto:{organizer}",
    ]
    for a in attendees:
        cutype = "ROOM" if a.startswith("salle") else "INDIVIDUAL"
        lines.append(f"ATTENDEE;CUTYPE={cutype};PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{a}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(lines) + "\r\n"


def unfolded(text):
    return re.sub(r"\r?\n[ \t]", "", text)


def partstat(text, who):
    for line in unfolded(text).splitlines():
        if line.startswith("ATTENDEE") and line.lower().endswith(f"mailto:{who}"):
            m = re.search(r"PARTSTAT=([A-Z-]+)", line)
            return m.group(1) if m else "NEEDS-ACTION"
    return None


def event_of(client_user, server, uid):
    # Closed on return: polling with clients left to the garbage collector
    # piles up idle connections until the per-address cap refuses new ones.
    with caldav.DAVClient(url=f"{base(server)}/.well-known/caldav", username=client_user, password=PASSWORD) as client:
        for cal in client.principal().calendars():
            for e in cal.events():
                if f"UID:{uid}" in unfolded(e.data):
                    return e.data
    return None


def wait_for(what, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.2)
    return what()


def subjects(server, address):
    return [m["subject"] for m in server.messages(address)]


@pytest.fixture
def school(server):
    server.config.write_text(server.config.read_text() + f'\n[outbound]\ncapture_to = "{CAPTURE}"\n')
    for local in ("claire.martin", "paul.durand", "sortant"):
        server.create(local, password=PASSWORD)
    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    server.admin("unit", "add", "DSDEN A", "--kind", "dsden", "--parent", "Académie de test")
    server.admin("unit", "add", "Collège A", "--kind", "etablissement", "--parent", "DSDEN A", "--uai", "0541234A")
    made = server.admin("resource", "create", "--name", "Salle du conseil", "--uai", "0541234A", "--domain", DOMAIN)
    assert made.split("\t")[0] == ROOM
    assert ROOM in server.admin("resource", "list")
    server.start()
    return server


def test_claire_invites_paul_the_room_and_a_parent(school, browser):
    server = school
    claire = caldav.DAVClient(url=f"{base(server)}/.well-known/caldav", username=CLAIRE, password=PASSWORD)
    agenda = claire.principal().calendars()[0]
    agenda.save_event(meeting("conseil-e2e", CLAIRE, [CLAIRE, PAUL, ROOM, PARENT]))

    # Paul's calendar holds the event, waiting for his answer; his Inbox the invitation.
    pauls = event_of(PAUL, server, "conseil-e2e")
    assert pauls is not None and partstat(pauls, PAUL) == "NEEDS-ACTION"
    assert wait_for(lambda: "Invitation : Conseil pédagogique" in subjects(server, PAUL))
    # The room answered at once; Claire's copy records the deliveries.
    claires = event_of(CLAIRE, server, "conseil-e2e")
    assert partstat(claires, ROOM) == "ACCEPTED"
    assert "SCHEDULE-STATUS=1.2" in unfolded(claires)
    # The parent's invitation went out through the queue (captured here).
    assert wait_for(lambda: "Invitation : Conseil pédagogique" in subjects(server, CAPTURE))

    # Paul accepts from the webmail.
    login(browser, server, PAUL)
    open_message(browser, "Invitation : Conseil pédagogique")
    section = browser.find_element(By.CSS_SELECTOR, "section.invitation")
    assert "Conseil pédagogique" in section.text
    section.find_element(By.CSS_SELECTOR, "button.accepter").click()
    WebDriverWait(browser, 10).until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, "p.reponse-invitation"), "Vous avez accepté"))
    assert browser.find_element(By.CSS_SELECTOR, "button.accepter").get_attribute("aria-pressed") == "true"
    assert partstat(event_of(CLAIRE, server, "conseil-e2e"), PAUL) == "ACCEPTED"
    assert partstat(event_of(PAUL, server, "conseil-e2e"), PAUL) == "ACCEPTED"

    # A second booking of the room at an overlapping time is declined.
    pauls_agenda = caldav.DAVClient(url=f"{base(server)}/dav/", username=PAUL, password=PASSWORD).principal().calendars()[0]
    pauls_agenda.save_event(meeting("autre-e2e", PAUL, [ROOM], start="20261126T170000Z", end="20261126T180000Z"))
    assert partstat(event_of(PAUL, server, "autre-e2e"), ROOM) == "DECLINED"

    # Claire cancels: Paul's copy goes and he is told.
    for cal in claire.principal().calendars():
        for e in cal.events():
            if "UID:conseil-e2e" in unfolded(e.data):
                e.delete()
    assert event_of(PAUL, server, "conseil-e2e") is None
    assert wait_for(lambda: "Annulé : Conseil pédagogique" in subjects(server, PAUL))


def test_an_outside_attendees_reply_by_mail_updates_the_organisers_copy(school):
    server = school
    claire = caldav.DAVClient(url=f"{base(server)}/.well-known/caldav", username=CLAIRE, password=PASSWORD)
    claire.principal().calendars()[0].save_event(meeting("conseil-e2e", CLAIRE, [CLAIRE, PARENT]))

    # The parent answers the version they were sent: python-caldav's save()
    # raised SEQUENCE on the way (increase_seqno), and RFC 5546 has an
    # organiser ignore a REPLY to an older SEQUENCE (checked last below).
    sent = int(re.search(r"SEQUENCE:(\d+)", unfolded(event_of(CLAIRE, server, "conseil-e2e"))).group(1))

    # The parent's answer comes back by mail: a forged one first, then theirs.
    def reply(sender, answer, sequence=sent):
        ics = (meeting("conseil-e2e", CLAIRE, [PARENT], sequence=sequence)
               .replace("VERSION:2.0", "VERSION:2.0\r\nMETHOD:REPLY")
               .replace("PARTSTAT=NEEDS-ACTION;RSVP=TRUE", f"PARTSTAT={answer}"))
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = sender, CLAIRE, f"Réponse : Conseil pédagogique"
        m.set_content("Réponse à votre invitation.\n")
        m.add_attachment(ics.encode(), maintype="text", subtype="calendar", params={"method": "REPLY"},
                         filename="reponse.ics")
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=20) as s:
            s.sendmail(sender, [CLAIRE], m.as_bytes())

    reply("intrus@example.net", "DECLINED")
    assert wait_for(lambda: len([s for s in subjects(server, CLAIRE) if s.startswith("Réponse")]) == 1)
    assert partstat(event_of(CLAIRE, server, "conseil-e2e"), PARENT) == "NEEDS-ACTION", "a forged reply is ignored"
    reply(PARENT, "ACCEPTED")
    assert wait_for(lambda: partstat(event_of(CLAIRE, server, "conseil-e2e"), PARENT) == "ACCEPTED")
    # A late answer to the version before is not believed: the mail stays a mail.
    reply(PARENT, "DECLINED", sequence=sent - 1)
    assert wait_for(lambda: len([s for s in subjects(server, CLAIRE) if s.startswith("Réponse")]) == 3)
    assert partstat(event_of(CLAIRE, server, "conseil-e2e"), PARENT) == "ACCEPTED"

