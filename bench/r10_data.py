"""R10's data and requests: the calendar (with the number of events each month of 2027 must
return, known from the generator), the vCards, and the REPORT/PROPFIND bodies of each workload.

Timed events lie between 08:00 and 19:00 Paris time and all-day events avoid the first and last days
of a month, so that no event touches a month's edge: the expected counts do not depend on how a
server reads floating dates or time zones at a boundary."""

import datetime as dt
import random

MIX_NOTE = ("70 % single timed events (08:00-19:00 Europe/Paris), 20 % weekly with COUNT 2-10, 10 % all-day; "
            "every object carries the VTIMEZONE Europe/Paris; vCards 3.0 with FN, N, ORG, EMAIL, TEL, ADR")
YEAR = 2027

VTIMEZONE = """BEGIN:VTIMEZONE\r
TZID:Europe/Paris\r
BEGIN:DAYLIGHT\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
TZNAME:CEST\r
DTSTART:19700329T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
END:DAYLIGHT\r
BEGIN:STANDARD\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
TZNAME:CET\r
DTSTART:19701025T030000\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
END:STANDARD\r
END:VTIMEZONE\r
"""

SUBJECTS = ["Conseil de classe", "Réunion parents-professeurs", "Conseil pédagogique", "Sortie au musée",
            "Formation numérique", "Réunion d'équipe", "Oral blanc", "Permanence CDI", "Jury du brevet"]
PLACES = ["Salle 104", "Salle des professeurs", "CDI", "Gymnase", "Amphithéâtre", "Visioconférence"]


def _event(uid: str, lines: list[str], rng: random.Random) -> bytes:
    body = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Ardoise bench r10//FR", "CALSCALE:GREGORIAN",
    ]
    text = "\r\n".join(body) + "\r\n" + VTIMEZONE
    ev = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261201T090000Z", *lines,
          f"SUMMARY:{rng.choice(SUBJECTS)} n°{uid.split('-')[-1]}", f"LOCATION:{rng.choice(PLACES)}",
          "DESCRIPTION:Ordre du jour : bilan\\, projets\\, questions diverses.", "END:VEVENT", "END:VCALENDAR"]
    return (text + "\r\n".join(ev) + "\r\n").encode()


def calendar(n: int) -> tuple[list[tuple[str, bytes]], list[int]]:
    """(file name, iCalendar) for n events, and the number of events with an occurrence in each month."""
    rng = random.Random(21)
    out, months = [], [set() for _ in range(12)]
    start_year = dt.date(YEAR, 1, 1)
    for i in range(n):
        uid = f"r10-{i:05d}"
        kind = i % 10  # 0-6 single, 7-8 weekly, 9 all-day
        day = start_year + dt.timedelta(days=rng.randrange(365))
        if kind == 9:
            day = day.replace(day=min(max(day.day, 2), 27))
            end = day + dt.timedelta(days=1)
            lines = [f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{end:%Y%m%d}", "TRANSP:TRANSPARENT"]
            dates = [day]
        else:
            hour = rng.randrange(8, 17)
            length = rng.choice([1, 1, 2])
            lines = [f"DTSTART;TZID=Europe/Paris:{day:%Y%m%d}T{hour:02d}{rng.choice([0, 30]):02d}00",
                     f"DTEND;TZID=Europe/Paris:{day:%Y%m%d}T{hour + length:02d}{0:02d}00"]
            dates = [day]
            if kind in (7, 8):
                count = rng.randrange(2, 11)
                lines.append(f"RRULE:FREQ=WEEKLY;COUNT={count}")
                dates = [day + dt.timedelta(weeks=k) for k in range(count)]
        for d in dates:
            if d.year == YEAR:
                months[d.month - 1].add(uid)
        out.append((f"{uid}.ics", _event(uid, lines, rng)))
    return out, [len(m) for m in months]


FIRST = ["Claire", "Paul", "Léa", "Hugo", "Inès", "Lucas", "Chloé", "Nathan", "Manon", "Théo", "Zoé", "Étienne"]
LAST = ["Martin", "Durand", "Petit", "Lefèvre", "Moreau", "Girard", "Bonnet", "Rousseau", "Faure", "Mercier"]


def cards(n: int) -> list[tuple[str, bytes]]:
    rng = random.Random(2110)
    out = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        uid = f"r10-card-{i:05d}"
        v = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{first} {last} {i}", f"N:{last};{first};;;",
             f"ORG:Collège {rng.choice(LAST)}", f"EMAIL;TYPE=work:{first.lower()}.{last.lower()}{i}@ac-test.fr",
             f"TEL;TYPE=cell:+33 6 {rng.randrange(10**7, 10**8)}",
             f"ADR;TYPE=work:;;{rng.randrange(1, 200)} rue de la République;Lyon;;6900{i % 10};France",
             "END:VCARD"]
        out.append((f"{uid}.vcf", ("\r\n".join(v) + "\r\n").encode()))
    return out


MKCALENDAR = b"""<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>
<D:displayname>Agenda</D:displayname>
<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
</D:prop></D:set></C:mkcalendar>"""

MKCOL_BOOK = b"""<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>
<D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:displayname>Contacts</D:displayname>
</D:prop></D:set></D:mkcol>"""

QUERY = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:prop><D:getetag/><C:calendar-data/></D:prop>
<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
<C:time-range start="{start}" end="{end}"/>
</C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""

SYNC = """<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>
<D:prop><D:getetag/></D:prop></D:sync-collection>"""

PROPFIND = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontenttype/></D:prop></D:propfind>"""


def month_query(m: int) -> bytes:
    start = dt.date(YEAR, m + 1, 1)
    end = dt.date(YEAR + (m == 11), 1 if m == 11 else m + 2, 1)
    return QUERY.format(start=f"{start:%Y%m%d}T000000Z", end=f"{end:%Y%m%d}T000000Z").encode()


def workloads(expected: list[int], n_events: int, n_cards: int) -> dict:
    """Per workload: method, which collection, the bodies clients rotate through, and the item count
    each body must give (None: the token is taken from a full sync first, see r10_load)."""
    return {
        "calendar-query": {"method": "REPORT", "target": "calendar", "depth": "1",
                           "bodies": [month_query(m) for m in range(12)], "items": expected},
        "sync-full": {"method": "REPORT", "target": "book", "depth": None,
                      "bodies": [SYNC.format(token="").encode()], "items": [n_cards]},
        "sync-incremental": {"method": "REPORT", "target": "book", "depth": None, "bodies": "latest-token",
                             "items": [0]},
        "propfind": {"method": "PROPFIND", "target": "calendar", "depth": "1", "bodies": [PROPFIND],
                     "items": [n_events + 1]},
    }
