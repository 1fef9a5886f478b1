"""Two académies in one installation (issue 28, tenants): « Académie de test » (Jean Martin and
Hélène Lefèvre-Dupré, collège 0541234A) and « Autre académie » (Marc Blanc, lycée 0570456C), loaded
by the HR sync, all in one mail domain. Mail still flows between them; nothing else crosses:
directory (CardDAV), the composer's autocomplete (even for a correspondent), free/busy (the
CalDAV outbox), IMAP ACL grants, `admin delegate grant`, calendar shares (by address, by UAI,
by a unit's name), full-text search. Each refusal is checked beside the same request inside one
académie, which succeeds, so a broken request cannot pass for a refusal. And a mutation: Jean moved
by the other académie's HR file keeps his mail, flags and calendar under a new address.

Runs on SQLite and PostgreSQL (POSTGRES_E2E)."""

import re
import smtplib
import ssl
import subprocess

import imapclient
import pytest

from conftest import DOMAIN, IN_CI, binary
from test_annuaire import BOOK, HELENE, JEAN, PASSWORD, academie, card_query, dav  # noqa: F401
from test_directory import directory

try:
    import requests
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"requests not installed: {e}", allow_module_level=True)

MARC = f"marc.blanc@{DOMAIN}"


def base(server):
    return f"http://127.0.0.1:{server.http_port}"


def activate(server, address):
    server.admin("account", "password", address, "--password-stdin", stdin=PASSWORD.encode())
    server.admin("account", "activate", address)


@pytest.fixture
def two(academie):
    """The `academie` fixture's installation, with Hélène and Marc able to log in too."""
    for who in (HELENE, MARC):
        activate(academie, who)
    return academie


def web(server, address):
    s = requests.Session()
    page = s.get(base(server) + "/connexion").text
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    resp = s.post(base(server) + "/connexion", data={"csrf": token, "login": address, "password": PASSWORD},
                  allow_redirects=False)
    assert resp.status_code == 303, resp.status_code
    return s


def imap(server, address):
    c = imapclient.IMAPClient("127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=insecure(), timeout=20)
    c.login(address, PASSWORD)
    return c


def insecure():
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx


def send(server, sender, rcpt, subject, text):
    body = (f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@{DOMAIN}>\r\n\r\n{text}\r\n").encode()
    with smtplib.SMTP_SSL("127.0.0.1", server.submissions_port, context=insecure(), timeout=20) as s:
        s.login(sender, PASSWORD)
        assert s.sendmail(sender, [rcpt], body) == {}


def free_busy(server, asker, attendees):
    body = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//tenants//FR\r\nMETHOD:REQUEST\r\n"
            "BEGIN:VFREEBUSY\r\nUID:fb-tenants\r\nDTSTAMP:20261207T080000Z\r\n"
            "DTSTART:20261207T000000Z\r\nDTEND:20261214T000000Z\r\n"
            f"ORGANIZER:mailto:{asker}\r\n"
            + "".join(f"ATTENDEE:mailto:{a}\r\n" for a in attendees)
            + "END:VFREEBUSY\r\nEND:VCALENDAR\r\n")
    status, text = dav(server, "POST", f"/dav/calendars/{asker}/outbox/", body,
                       {"Content-Type": "text/calendar; charset=utf-8"}, user=asker)
    assert status == 200, (status, text)
    answers = {}
    for response in re.findall(r"<c:response>(.*?)</c:response>", text, re.S):
        who = re.search(r"mailto:([^<]+)<", response).group(1)
        answers[who] = re.search(r"<c:request-status>([0-9.]+);", response).group(1)
    return answers


def test_mail_flows_between_academies_and_nothing_else_crosses(two):
    server = two
    # Mail is mail: Marc writes to Jean, Jean answers; both messages arrive.
    send(server, MARC, JEAN, "Echange inter academies", "le mot zephyrmarc")
    send(server, JEAN, MARC, "Reponse inter academies", "le mot zephyrjean")
    send(server, HELENE, JEAN, "Meme academie", "le mot zephyrhelene")

    # Directory (CardDAV): Jean finds Hélène, not Marc; Marc finds neither.
    status, found = dav(server, "REPORT", BOOK, card_query("FN", "Lefèvre"), {"Depth": "1"})
    assert status == 207 and "Lefèvre-Dupré" in found, found
    status, found = dav(server, "REPORT", BOOK, card_query("FN", "Blanc"), {"Depth": "1"})
    assert status == 207 and "Blanc" not in found and "marc.blanc" not in found, found
    status, found = dav(server, "REPORT", f"/dav/addressbooks/{MARC}/annuaire/", card_query("FN", "Martin"),
                        {"Depth": "1"}, user=MARC)
    assert status == 207 and "jean.martin" not in found, found

    # The composer's autocomplete: Marc wrote to Jean, yet Jean is offered Hélène only.
    s = web(server, JEAN)
    hel = s.get(base(server) + "/courrier/destinataires", params={"q": "Lefèvre"}).json()
    assert [p["adresse"] for p in hel] == [HELENE], hel
    marc = s.get(base(server) + "/courrier/destinataires", params={"q": "marc"}).json()
    assert all(p["adresse"] != MARC for p in marc), marc

    # Free/busy through the CalDAV outbox: Hélène answers, Marc is no calendar user of Jean's.
    answers = free_busy(server, JEAN, [HELENE, MARC])
    assert answers == {HELENE: "2.0", MARC: "3.7"}, answers
    assert free_busy(server, MARC, [JEAN]) == {JEAN: "3.7"}

    # IMAP ACL: Jean may share a folder with Hélène, not with Marc.
    c = imap(server, JEAN)
    c.create_folder("Conseils")
    c.setacl("Conseils", HELENE, "lr")
    with pytest.raises(imapclient.exceptions.IMAPClientError):
        c.setacl("Conseils", MARC, "lr")
    acl = dict(c.getacl("Conseils"))
    assert HELENE.encode() in acl and MARC.encode() not in acl, acl
    # Full-text search is per account: Jean finds his mail, not Marc's.
    c.select_folder("INBOX", readonly=True)
    assert len(c.search(["TEXT", "zephyrmarc"])) == 1
    assert c.search(["TEXT", "zephyrjean"]) == []
    c.logout()
    m = imap(server, MARC)
    m.select_folder("INBOX", readonly=True)
    assert len(m.search(["TEXT", "zephyrjean"])) == 1
    assert m.search(["TEXT", "zephyrmarc"]) == [] and m.search(["TEXT", "zephyrhelene"]) == []
    # Nor does Marc see Jean's folders.
    assert not any("Conseils" in f[2] for f in m.list_folders())
    m.logout()

    # An administrator's account-wide grant: within one académie only.
    server.admin("delegate", "grant", JEAN, HELENE, "--rights", "lr")
    refused = subprocess.run([binary(), "admin", "--config", str(server.config), "delegate", "grant", JEAN, MARC,
                              "--rights", "lr"], capture_output=True)
    assert refused.returncode != 0, refused
    assert "académie" in refused.stderr.decode(), refused.stderr.decode()
    shown = server.admin("delegate", "show", JEAN)
    assert "helene" in shown and "marc" not in shown, shown

    # Calendar shares: a colleague, the collège (UAI) and its name, yes; Marc and the lycée, no.
    page = s.get(base(server) + "/agenda/partager", params={"agenda": "agenda"}).text
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)

    def share(who):
        resp = s.post(base(server) + "/agenda/partager", allow_redirects=False,
                      data={"csrf": token, "agenda": "agenda", "action": "partager", "qui": who,
                            "droit": "read"})
        return resp.status_code, resp.headers.get("location", "")

    for ok in (HELENE, "0541234A", "Collège Jean Moulin"):
        status, location = share(ok)
        assert status == 303 and "info=partage" in location, (ok, status, location)
    for no in (MARC, "0570456C", "Lycée Lointain"):
        status, location = share(no)
        assert "info=partage" not in location, (no, status, location)
    listing = s.get(base(server) + "/agenda/partager", params={"agenda": "agenda"}).text
    shares = re.findall(r'<span class="partage-qui">([^<]*)</span>', listing)
    assert shares == [HELENE, "Collège Jean Moulin (0541234A)"], shares


def test_an_agent_moved_to_another_academie_keeps_mail_flags_and_calendar(two):
    """Mutation: the HR file of « Autre académie » (its own domain, ac-autre.fr) places Jean in its
    lycée. The same account goes on: every message and flag, the calendar event, the password;
    jean.martin@ac-autre.fr is now primary and the old address still delivers (an alias for the
    configured days); Jean moves from one académie's directory to the other's."""
    server = two
    server.admin("domain", "add", "ac-autre.fr")
    for i in range(3):
        send(server, HELENE, JEAN, f"Avant mutation {i}", f"message {i}")
    c = imap(server, JEAN)
    c.select_folder("INBOX")
    uids = c.search(["ALL"])
    assert len(uids) >= 3  # and the notices of his first login
    kept = len(uids)
    c.add_flags(uids[:1], [imapclient.SEEN, imapclient.FLAGGED])
    c.logout()
    event = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//tenants//FR\r\nBEGIN:VEVENT\r\n"
             "UID:conseil-mutation\r\nDTSTAMP:20261207T080000Z\r\nDTSTART:20261215T170000Z\r\n"
             "DTEND:20261215T180000Z\r\nSUMMARY:Conseil de classe\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    status, _ = dav(server, "PUT", f"/dav/calendars/{JEAN}/agenda/conseil-mutation.ics", event,
                    {"Content-Type": "text/calendar; charset=utf-8"})
    assert status == 201, status

    moved = "12E0000001ABC;M.;Martin;Jean;enseignant;actif;0570456C;;\n"
    csv = server.data / "rh-autre.csv"
    csv.write_text("numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n" + moved,
                   encoding="utf-8")
    out = directory(server, "sync", str(csv), "--domain", "ac-autre.fr", "--transfer-alias-days", "30")
    text = out.stdout.decode()
    assert "muté" in text and "jean.martin@ac-autre.fr" in text and "30 jours" in text, text

    new = "jean.martin@ac-autre.fr"
    c = imap(server, new)
    c.select_folder("INBOX")
    uids = c.search(["ALL"])
    assert len(uids) == kept, uids
    flags = c.get_flags(uids)
    assert [sorted(flags[u]) for u in uids].count(sorted([imapclient.SEEN, imapclient.FLAGGED])) == 1, flags
    c.logout()
    # The old address is an alias: mail to it lands in the same Inbox.
    send(server, HELENE, JEAN, "Apres mutation", "toujours distribue")
    c = imap(server, new)
    c.select_folder("INBOX")
    assert len(c.search(["ALL"])) == kept + 1
    c.logout()
    status, text = dav(server, "GET", f"/dav/calendars/{new}/agenda/conseil-mutation.ics", user=new)
    assert status == 200 and "Conseil de classe" in text, (status, text)
    # The directories: Marc's académie lists Jean now, Hélène's no more.
    status, found = dav(server, "REPORT", f"/dav/addressbooks/{MARC}/annuaire/", card_query("FN", "Martin"),
                        {"Depth": "1"}, user=MARC)
    assert status == 207 and new in found, found
    status, found = dav(server, "REPORT", f"/dav/addressbooks/{HELENE}/annuaire/", card_query("FN", "Martin"),
                        {"Depth": "1"}, user=HELENE)
    assert status == 207 and "jean.martin" not in found, found


def test_an_academie_administrator_stays_in_the_academie_and_the_national_one_governs(two):
    """With two académies, what belongs to no unit (here: a mail domain) is the national
    administrator's; an académie administrator acts within their académie only."""
    server = two
    zoe = f"zoe.faure@{DOMAIN}"
    activate(server, zoe)
    server.admin("grant", "add", HELENE, "admin-academie", "--unit", "Académie de test")
    server.admin("grant", "add", zoe, "admin-national", "--unit", "Académie de test")

    def as_(who, *args):
        return subprocess.run([binary(), "admin", "--config", str(server.config), "--as", who, *args],
                              capture_output=True)

    assert as_(HELENE, "account", "suspend", JEAN).returncode == 0
    refused = as_(HELENE, "account", "suspend", MARC)
    assert refused.returncode != 0 and "refusé" in refused.stderr.decode(), refused
    refused = as_(HELENE, "domain", "add", "ac-nouveau.fr")
    assert refused.returncode != 0 and "refusé" in refused.stderr.decode(), refused
    assert as_(zoe, "domain", "add", "ac-nouveau.fr").returncode == 0
    assert as_(zoe, "account", "suspend", MARC).returncode == 0
    log = server.admin("audit", "list")
    assert "ac-nouveau.fr" in log and zoe in log, log
