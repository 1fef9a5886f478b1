"""`ardoise import ics|vcf FILE --to ADDRESS` (issue 23, calendars and contacts migrated as files): an
export from another platform, with events sharing a UID (a recurrence and its override), a time zone,
a malformed entry and a truncated end, is imported into the account's calendar or address book
through the groupware domain; the malformed entries are reported by line, the rest is read back over
CalDAV/CardDAV with Python's requests; a second run adds nothing; `--calendar`/`--addressbook` name
(and make) another collection."""

import re
import subprocess

import requests

from conftest import DOMAIN, binary

PASSWORD = "Ardoise-Test-2026"

ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Zimbra//FR\r
METHOD:PUBLISH\r
BEGIN:VTIMEZONE\r
TZID:Europe/Paris\r
BEGIN:STANDARD\r
DTSTART:19701025T030000\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
END:STANDARD\r
BEGIN:DAYLIGHT\r
DTSTART:19700329T020000\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
END:DAYLIGHT\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
UID:conseil-de-classe\r
DTSTAMP:20260901T000000Z\r
DTSTART;TZID=Europe/Paris:20261005T170000\r
DTEND;TZID=Europe/Paris:20261005T190000\r
RRULE:FREQ=WEEKLY;COUNT=4\r
SUMMARY:Conseil de classe de 3e\r
  B\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:conseil-de-classe\r
RECURRENCE-ID;TZID=Europe/Paris:20261012T170000\r
DTSTAMP:20260901T000000Z\r
DTSTART;TZID=Europe/Paris:20261012T180000\r
DTEND;TZID=Europe/Paris:20261012T200000\r
SUMMARY:Conseil de classe (décalé)\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTAMP:20260901T000000Z\r
DTSTART:20261101T080000Z\r
SUMMARY:Sans identifiant\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:reunion-parents\r
DTSTAMP:20260901T000000Z\r
DTSTART:20261110T160000Z\r
DTEND:20261110T180000Z\r
SUMMARY:Réunion parents-professeurs\r
END:VEVENT\r
BEGIN:VTODO\r
UID:copies-a-rendre\r
DTSTAMP:20260901T000000Z\r
SUMMARY:Rendre les copies\r
END:VTODO\r
END:VCALENDAR\r
"""

VCF = """BEGIN:VCARD\r
VERSION:3.0\r
UID:paul-durand\r
FN:Paul Durand\r
EMAIL:paul.durand@ac-demo.fr\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:3.0\r
FN:Sans UID\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:4.0\r
UID:urn:uuid:5f1c1b7e-0000-4000-8000-000000000001\r
FN:Léa Martin\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:3.0\r
UID:tronque\r
FN:Tronqué"""


def run(server, *args):
    return subprocess.run([binary(), "import", *args, "--config", str(server.config)],
                          capture_output=True, timeout=120)


def out(p):
    return p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def test_ics_and_vcf_files_import_once_per_uid_with_clear_errors(server, tmp_path):
    claire = server.create("claire.martin", password=PASSWORD)
    server.start()
    ics, vcf = tmp_path / "agenda.ics", tmp_path / "contacts.vcf"
    ics.write_text(ICS, encoding="utf-8")
    vcf.write_text(VCF, encoding="utf-8")
    dav, auth = f"http://127.0.0.1:{server.http_port}/dav", (claire, PASSWORD)

    first = run(server, "ics", str(ics), "--to", claire)
    assert first.returncode != 0, "a malformed entry is a failure of the run"
    assert "3 importé(s), 0 déjà présent(s), 1 en échec" in out(first), out(first)
    assert "ligne 37" in out(first) and "sans UID" in out(first), out(first)
    conseil = requests.get(f"{dav}/calendars/{claire}/agenda/conseil-de-classe.ics", auth=auth)
    assert conseil.status_code == 200
    assert conseil.text.count("BEGIN:VEVENT") == 2 and "TZID:Europe/Paris" in conseil.text
    assert "METHOD" not in conseil.text and "SUMMARY:Conseil de classe de 3e B" in conseil.text
    assert requests.get(f"{dav}/calendars/{claire}/agenda/copies-a-rendre.ics", auth=auth).status_code == 200
    # The CalDAV time-range query finds the moved occurrence.
    report = """<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
      <d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">
      <c:time-range start="20261012T160000Z" end="20261012T170000Z"/></c:comp-filter></c:comp-filter></c:filter>
      </c:calendar-query>"""
    found = requests.request("REPORT", f"{dav}/calendars/{claire}/agenda/", data=report, auth=auth,
                             headers={"Depth": "1", "Content-Type": "application/xml"})
    assert found.status_code == 207 and "conseil-de-classe.ics" in found.text, found.text

    again = run(server, "ics", str(ics), "--to", claire)
    assert "0 importé(s), 3 déjà présent(s), 1 en échec" in out(again), out(again)

    other = run(server, "ics", str(ics), "--to", claire, "--calendar", "Conseils 2026")
    assert "« Conseils 2026 » créé" in out(other) and "3 importé(s)" in out(other), out(other)
    assert requests.get(f"{dav}/calendars/{claire}/Conseils-2026/reunion-parents.ics", auth=auth).status_code == 200

    # Contacts: one already there over CardDAV under another name is not doubled.
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:paul-durand\r\nFN:Paul D.\r\nEND:VCARD\r\n"
    assert requests.put(f"{dav}/addressbooks/{claire}/contacts/paul.vcf", data=card.encode(),
                        auth=auth).status_code == 201
    cards = run(server, "vcf", str(vcf), "--to", claire)
    assert "1 importé(s), 1 déjà présent(s), 2 en échec" in out(cards), out(cards)
    assert "VCARD sans UID" in out(cards) and "sans END" in out(cards), out(cards)
    listing = requests.request("PROPFIND", f"{dav}/addressbooks/{claire}/contacts/", auth=auth,
                               headers={"Depth": "1"})
    assert listing.status_code == 207 and listing.text.count(".vcf<") == 2, listing.text
    hrefs = re.findall(r"href>([^<]+\.vcf)<", listing.text)
    texts = [requests.get(f"http://127.0.0.1:{server.http_port}{h}", auth=auth).text for h in hrefs]
    assert any("FN:Léa Martin" in t for t in texts) and any("FN:Paul D." in t for t in texts), texts
    cards = run(server, "vcf", str(vcf), "--to", claire, "--addressbook", "Collègues")
    assert "« Collègues » créé" in out(cards) and "2 importé(s), 0 déjà présent(s), 2 en échec" in out(cards)

    # Bad input: no such account, no such file.
    nobody = run(server, "vcf", str(vcf), "--to", f"personne@{DOMAIN}")
    assert nobody.returncode != 0 and "pas de compte" in out(nobody)
    missing = run(server, "ics", str(tmp_path / "absent.ics"), "--to", claire)
    assert missing.returncode != 0 and "absent.ics" in out(missing)
