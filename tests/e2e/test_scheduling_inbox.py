"""The scheduling inbox and the Schedule-Tag (RFC 6638 sections 2.2 and
3.2.10) against the real binary, driven by the PyPI `caldav` library's own
scheduling API: Claire invites Paul; Paul's client finds the invitation in
`principal.schedule_inbox()`, reads it with `get_items()` (a sync-collection
REPORT, then a GET per message) and answers with `accept_invite()` (which
stores his copy under `<UID>.ics` in his first calendar); Claire's copy then
says ACCEPTED and her own inbox holds the REPLY. Bad input: Claire reading or
deleting Paul's inbox message (404), Paul's PUT under a stale
`If-Schedule-Tag-Match` (412) after Claire moved the meeting."""

import re

import caldav
from caldav.elements import cdav

from conftest import DOMAIN

CLAIRE = f"claire.martin@{DOMAIN}"
PAUL = f"paul.durand@{DOMAIN}"
PASSWORD = "Ardoise-Demo-2026"
UID = "conseil-boite-e2e"


def meeting(start="20261126T160000Z", sequence=0):
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//e2e//FR", "BEGIN:VEVENT", f"UID:{UID}",
        "DTSTAMP:20261101T100000Z", f"SEQUENCE:{sequence}", f"DTSTART:{start}", "DTEND:20261126T173000Z",
        "SUMMARY:Conseil pédagogique", f"ORGANIZER;CN=Claire Martin:mailto:{CLAIRE}",
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{CLAIRE}",
        f"ATTENDEE;CUTYPE=INDIVIDUAL;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{PAUL}",
        "END:VEVENT", "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def unfolded(text):
    return re.sub(r"\r?\n[ \t]", "", text)


def partstat(text, who):
    for line in unfolded(text).splitlines():
        if line.startswith("ATTENDEE") and line.lower().endswith(f"mailto:{who}"):
            return re.search(r"PARTSTAT=([A-Z-]+)", line).group(1)
    return None


def find(calendar, uid):
    # calendar-query by UID (a prop-filter) is not offered: list and look.
    found = [e for e in calendar.events() if f"UID:{uid}" in unfolded(e.data)]
    assert len(found) == 1, [e.data for e in calendar.events()]
    return found[0]


def client(server, user):
    return caldav.DAVClient(url=f"http://127.0.0.1:{server.http_port}/.well-known/caldav",
                            username=user, password=PASSWORD)


def test_an_invitation_is_read_from_the_inbox_and_accepted_with_python_caldav(server):
    for local in ("claire.martin", "paul.durand"):
        server.create(local, password=PASSWORD)
    server.start()
    with client(server, CLAIRE) as claire, client(server, PAUL) as paul:
        claires_agenda = claire.principal().calendars()[0]
        claires_agenda.save_event(meeting())

        # Paul's client reads his inbox with the library's own calls.
        paul_principal = paul.principal()
        inbox = paul_principal.schedule_inbox()
        assert str(inbox.url).endswith(f"/dav/calendars/{PAUL}/inbox/")
        items = list(inbox.get_items())
        invites = [i for i in items if i.is_invite_request() and f"UID:{UID}" in unfolded(i.data)]
        assert len(invites) == 1, [i.data for i in items]
        invite = invites[0]

        # Claire may neither read nor delete it.
        assert claire.request(str(invite.url)).status == 404
        assert claire.delete(str(invite.url)).status == 404
        assert paul.request(str(invite.url)).status == 200, "still there"

        # python-caldav 1.4.0 reads `client.principal_address`, which only its
        # later versions define; None makes it ask our server for the
        # principal's calendar-user-address-set, as those versions do.
        paul.principal_address = None
        invite.accept_invite()
        event = find(claires_agenda, UID)
        assert partstat(event.data, PAUL) == "ACCEPTED", event.data
        pauls = find(paul_principal.calendars()[0], UID)
        assert partstat(pauls.data, PAUL) == "ACCEPTED"

        # Claire's inbox holds Paul's REPLY; Paul deletes the processed invitation.
        replies = [i for i in claire.principal().schedule_inbox().get_items() if f"UID:{UID}" in unfolded(i.data)]
        assert len(replies) == 1 and "METHOD:REPLY" in replies[0].data
        assert partstat(replies[0].data, PAUL) == "ACCEPTED"
        invite.delete()
        assert paul.request(str(invite.url)).status == 404
        assert not [i for i in paul_principal.schedule_inbox().get_items() if f"UID:{UID}" in unfolded(i.data)]

        # Schedule-Tag: Paul's client holds his copy's tag; Claire moves the meeting.
        copy_url = str(pauls.url)
        got = paul.request(copy_url)
        tag = got.headers["Schedule-Tag"]
        assert tag and got.headers["ETag"]
        props = pauls.get_properties([cdav.ScheduleTag()])
        assert list(props.values()) == [tag], props
        moved = find(claires_agenda, UID)
        moved.data = unfolded(moved.data).replace("DTSTART:20261126T160000Z", "DTSTART:20261126T150000Z")
        moved.save()
        fresh = paul.request(copy_url)
        assert "DTSTART:20261126T150000Z" in unfolded(fresh.raw)
        assert fresh.headers["Schedule-Tag"] != tag, "the organiser's change is a new tag"

        # His answer to the old version is refused; to the new one, taken.
        stale = unfolded(got.raw).replace("PARTSTAT=ACCEPTED", "PARTSTAT=DECLINED")
        r = paul.put(copy_url, stale, {"Content-Type": "text/calendar", "If-Schedule-Tag-Match": tag})
        assert r.status == 412
        assert "DTSTART:20261126T150000Z" in unfolded(paul.request(copy_url).raw), "the move stands"
        current = unfolded(fresh.raw)
        answer = re.sub(rf"PARTSTAT=[A-Z-]+(;RSVP=TRUE)?:mailto:{re.escape(PAUL)}",
                        f"PARTSTAT=TENTATIVE:mailto:{PAUL}", current, flags=re.I)
        r = paul.put(copy_url, answer,
                     {"Content-Type": "text/calendar", "If-Schedule-Tag-Match": fresh.headers["Schedule-Tag"]})
        assert r.status == 204, r.raw
        assert partstat(find(claires_agenda, UID).data, PAUL) == "TENTATIVE"
