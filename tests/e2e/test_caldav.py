"""CalDAV and CardDAV against the real binary: discovery, calendars, events
and time-range queries through the PyPI `caldav` library; a CardDAV flow in
raw HTTP (`requests`, which caldav brings); another account and a wrong
password refused."""

import datetime as dt
import re

import caldav
import pytest
import requests
from conftest import DOMAIN

PASSWORD = "Ardoise-Test-2026"
UTC = dt.timezone.utc

WEEKLY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//e2e//FR
BEGIN:VEVENT
UID:conseil-de-classe
DTSTAMP:20260801T000000Z
DTSTART:20260907T150000Z
DTEND:20260907T170000Z
RRULE:FREQ=WEEKLY;COUNT=6
EXDATE:20260914T150000Z
SUMMARY:Conseil de classe
END:VEVENT
END:VCALENDAR
"""

ALL_DAY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//e2e//FR
BEGIN:VEVENT
UID:journee-pedagogique
DTSTAMP:20260801T000000Z
DTSTART;VALUE=DATE:20260916
DTEND;VALUE=DATE:20260917
SUMMARY:Journée pédagogique
END:VEVENT
END:VCALENDAR
"""

SINGLE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//e2e//FR
BEGIN:VEVENT
UID:reunion-parents
DTSTAMP:20260801T000000Z
DTSTART:20261005T160000Z
DTEND:20261005T180000Z
SUMMARY:Réunion parents-professeurs
END:VEVENT
END:VCALENDAR
"""


def uids(events):
    out = set()
    for e in events:
        m = re.search(r"^UID:(.*)$", e.data, re.M)
        out.add(m.group(1).strip())
    return out


def day(y, m, d):
    return dt.datetime(y, m, d, tzinfo=UTC)


@pytest.fixture
def dav(server):
    claire = server.create("claire.martin", password=PASSWORD)
    paul = server.create("paul.durand", password=PASSWORD)
    server.start()
    return server, f"http://127.0.0.1:{server.http_port}", claire, paul


def test_caldav_library_discovers_creates_queries_edits_and_syncs(dav):
    server, base, claire, paul = dav
    client = caldav.DAVClient(url=f"{base}/.well-known/caldav", username=claire, password=PASSWORD)
    principal = client.principal()
    assert str(principal.url).endswith(f"/dav/principals/{claire}/")
    assert [c.name for c in principal.calendars()] == ["Agenda"]

    cal = principal.make_calendar(name="Conseils et réunions", cal_id="conseils")
    assert sorted(c.name for c in principal.calendars()) == ["Agenda", "Conseils et réunions"]
    weekly = cal.save_event(WEEKLY)
    cal.save_event(ALL_DAY)
    single = cal.save_event(SINGLE)

    def search(start, end):
        return uids(cal.search(start=start, end=end, event=True, expand=False))

    assert search(day(2026, 9, 7), day(2026, 9, 8)) == {"conseil-de-classe"}
    assert search(day(2026, 9, 14), day(2026, 9, 15)) == set(), "the EXDATE week"
    assert search(day(2026, 9, 16), day(2026, 9, 17)) == {"journee-pedagogique"}
    assert search(day(2026, 10, 5), day(2026, 10, 6)) == {"conseil-de-classe", "reunion-parents"}
    assert search(day(2026, 11, 1), day(2026, 12, 1)) == set(), "after COUNT"

    before = cal.objects_by_sync_token()
    token = before.sync_token
    assert len(list(before)) == 3

    # Edit with the etag: a stale one is refused, the current one accepted.
    auth = (claire, PASSWORD)
    got = requests.get(str(single.url), auth=auth)
    assert got.status_code == 200 and "Réunion parents-professeurs" in got.text
    etag = got.headers["ETag"]
    moved = SINGLE.replace("20261005T16", "20261012T16").replace("20261005T18", "20261012T18")
    stale = requests.put(str(single.url), data=moved.encode(), auth=auth, headers={"If-Match": '"perime"'})
    assert stale.status_code == 412
    put = requests.put(str(single.url), data=moved.encode(), auth=auth, headers={"If-Match": etag})
    assert put.status_code == 204 and put.headers["ETag"] != etag
    assert search(day(2026, 10, 12), day(2026, 10, 13)) == {"conseil-de-classe", "reunion-parents"}

    after = cal.objects_by_sync_token(sync_token=token)
    assert after.sync_token != token
    assert [str(o.url) for o in after] == [str(single.url)], "only the edited event changed"

    weekly.delete()
    assert search(day(2026, 9, 7), day(2026, 9, 8)) == set()
    assert requests.get(str(weekly.url), auth=auth).status_code == 404

    # Paul sees nothing of Claire's, whatever the method.
    for method, url in [
        ("PROPFIND", str(cal.url)),
        ("GET", str(single.url)),
        ("PUT", str(single.url)),
        ("DELETE", str(single.url)),
        ("PROPFIND", f"{base}/dav/principals/{claire}/"),
    ]:
        r = requests.request(method, url, auth=(paul, PASSWORD), headers={"Depth": "1"}, data=SINGLE.encode())
        assert r.status_code == 404, (method, url, r.status_code)
        assert "parents" not in r.text
    assert requests.get(str(single.url), auth=auth).status_code == 200
    paul_client = caldav.DAVClient(url=f"{base}/dav/", username=paul, password=PASSWORD)
    assert [c.name for c in paul_client.principal().calendars()] == ["Agenda"]

    # A wrong password: 401 with the Basic challenge, and the library says so.
    r = requests.request("PROPFIND", f"{base}/dav/", auth=(claire, "faux"), headers={"Depth": "0"})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Ardoise", charset="UTF-8"'
    with pytest.raises(caldav.lib.error.AuthorizationError):
        caldav.DAVClient(url=f"{base}/dav/", username=claire, password="faux").principal()


def vcard(uid, name):
    return f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nEMAIL:{uid}@{DOMAIN}\r\nEND:VCARD\r\n"


MULTIGET = """<?xml version="1.0" encoding="utf-8"?>
<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">
  <D:prop><D:getetag/><C:address-data/></D:prop>
  {hrefs}
</C:addressbook-multiget>"""

SYNC = """<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:">
  <D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>
  <D:prop><D:getetag/></D:prop>
</D:sync-collection>"""


def test_carddav_flow_in_raw_requests(dav):
    server, base, claire, paul = dav
    auth = (claire, PASSWORD)
    r = requests.request("PROPFIND", f"{base}/.well-known/carddav", allow_redirects=False)
    assert (r.status_code, r.headers["Location"]) == (301, "/dav/")
    home = f"{base}/dav/addressbooks/{claire}/"
    r = requests.request("PROPFIND", home, auth=auth, headers={"Depth": "1"})
    assert r.status_code == 207 and "<d:displayname>Contacts</d:displayname>" in r.text
    book = f"{home}contacts/"

    r = requests.put(f"{book}paul.vcf", data=vcard("paul", "Paul Durand").encode(), auth=auth,
                     headers={"If-None-Match": "*", "Content-Type": "text/vcard"})
    assert r.status_code == 201
    r = requests.put(f"{book}paul.vcf", data=vcard("paul", "Paul Durand").encode(), auth=auth,
                     headers={"If-None-Match": "*"})
    assert r.status_code == 412
    r = requests.put(f"{book}casse.vcf", data=b"BEGIN:VCARD\r\nFN:sans uid\r\nEND:VCARD\r\n", auth=auth)
    assert r.status_code == 403 and "valid-address-data" in r.text

    hrefs = "".join(f"<D:href>/dav/addressbooks/{claire}/contacts/{n}</D:href>" for n in ["paul.vcf", "absent.vcf"])
    r = requests.request("REPORT", book, auth=auth, data=MULTIGET.format(hrefs=hrefs).encode(), headers={"Depth": "1"})
    assert r.status_code == 207
    assert "FN:Paul Durand" in r.text and r.text.count("404 Not Found") == 1

    r = requests.request("REPORT", book, auth=auth, data=SYNC.format(token="").encode())
    token = re.search(r"<d:sync-token>([^<]+)</d:sync-token>", r.text).group(1)
    assert "paul.vcf" in r.text
    requests.put(f"{book}lea.vcf", data=vcard("lea", "Léa Petit").encode(), auth=auth).raise_for_status()
    requests.delete(f"{book}paul.vcf", auth=auth).raise_for_status()
    r = requests.request("REPORT", book, auth=auth, data=SYNC.format(token=token).encode())
    assert r.status_code == 207
    responses = re.findall(r"<d:response>.*?</d:response>", r.text, re.S)
    assert len(responses) == 2, r.text
    assert any("lea.vcf" in x and "<d:getetag>" in x for x in responses)
    assert any("paul.vcf" in x and "404 Not Found" in x for x in responses)

    # Paul cannot read Claire's address book.
    r = requests.request("REPORT", book, auth=(paul, PASSWORD), data=SYNC.format(token="").encode())
    assert r.status_code == 404 and "lea" not in r.text


def test_put_is_capped_by_the_configured_size(server):
    with open(server.config, "a") as f:
        f.write('dav_max_object_size = "2K"\n')
    claire = server.create("claire.martin", password=PASSWORD)
    server.start()
    url = f"http://127.0.0.1:{server.http_port}/dav/calendars/{claire}/agenda/"
    auth = (claire, PASSWORD)
    small = requests.put(f"{url}petit.ics", data=SINGLE.encode(), auth=auth)
    assert small.status_code == 201
    big = SINGLE.replace("SUMMARY:", "DESCRIPTION:" + "x" * 3000 + "\nSUMMARY:").replace("reunion-parents", "gros")
    r = requests.put(f"{url}gros.ics", data=big.encode(), auth=auth)
    assert r.status_code == 413 and "max-resource-size" in r.text
    assert requests.get(f"{url}gros.ics", auth=auth).status_code == 404
