"""RFC 6578 sync-collection on the read-only « annuaire » address book
(issue 21), against the real binary with raw HTTP: a full sync, a change
made by the HR CSV sync seen alone by the next incremental sync, a
suspension made with the admin CLI coming back as a 404 entry, and tokens
that are not the book's refused with DAV:valid-sync-token."""

import base64
import http.client
import re

import pytest

from conftest import DOMAIN
from test_directory import directory

PASSWORD = "Cheval-Agrafe-Correct-42"
JEAN = f"jean.martin@{DOMAIN}"
HELENE = f"helene.lefevre-dupre@{DOMAIN}"
ZOE = f"zoe.faure@{DOMAIN}"
HEADER = "numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n"
PEOPLE = (
    "12E0000001ABC;M.;Martin;Jean;enseignant;actif;0541234A;;\n"
    "12E0000002ABC;Mme;Lefèvre-Dupré;Hélène;enseignant;actif;0541234A;;\n"
    "12E0000003ABC;M.;Petit;Lucas;élève;actif;0541234A;;\n"
    "12E0000004ABC;Mme;Faure;Zoé;{zoe};actif;0541234A;;\n"
    "12E0000005ABC;M.;Blanc;Marc;enseignant;actif;0570456C;;\n"
)
BOOK = f"/dav/addressbooks/{JEAN}/annuaire/"
NS = 'xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"'


def hr(tmp_path, zoe):
    csv = tmp_path / "rh.csv"
    csv.write_text(HEADER + PEOPLE.format(zoe=zoe), encoding="utf-8")
    return str(csv)


@pytest.fixture
def academie(server, tmp_path):
    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    server.admin("unit", "add", "Collège Jean Moulin", "--kind", "etablissement", "--parent", "Académie de test",
                 "--uai", "0541234A")
    server.admin("unit", "add", "Autre académie", "--kind", "academie")
    server.admin("unit", "add", "Lycée Lointain", "--kind", "etablissement", "--parent", "Autre académie",
                 "--uai", "0570456C")
    directory(server, "sync", hr(tmp_path, "administratif"))
    server.admin("account", "password", JEAN, "--password-stdin", stdin=PASSWORD.encode())
    server.admin("account", "activate", JEAN)
    server.start()
    return server


def dav(server, method, path, body="", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=60)
    token = base64.b64encode(f"{JEAN}:{PASSWORD}".encode()).decode()
    h = {"Authorization": f"Basic {token}", "Content-Type": "application/xml; charset=utf-8"}
    h.update(headers or {})
    conn.request(method, path, body=body.encode(), headers=h)
    resp = conn.getresponse()
    text = resp.read().decode()
    conn.close()
    return resp.status, text


def sync(server, token):
    body = (f'<d:sync-collection {NS}><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level>'
            '<d:prop><d:getetag/><card:address-data/></d:prop></d:sync-collection>')
    return dav(server, "REPORT", BOOK, body)


def responses(body):
    """(href, status line or None for a propstat answer, whole response) of each response."""
    out = []
    for r in re.findall(r"<d:response>(.*?)</d:response>", body, re.S):
        href = re.search(r"<d:href>([^<]*)</d:href>", r).group(1)
        status = re.match(r"<d:href>[^<]*</d:href><d:status>([^<]*)</d:status>", r)
        out.append((href, status.group(1) if status else None, r))
    return out


def token_of(body):
    return re.findall(r"<d:sync-token>([^<]*)</d:sync-token>", body)[-1]


def test_full_then_incremental_sync_follows_hr_and_admin_changes(academie, tmp_path):
    server = academie
    status, body = dav(server, "PROPFIND", BOOK, headers={"Depth": "0"},
                       body=f'<d:propfind {NS}><d:prop><d:sync-token/></d:prop></d:propfind>')
    assert status == 207 and "<d:sync-token>urn:ardoise:annuaire:" in body, body

    status, body = sync(server, "")
    assert status == 207, body
    full = responses(body)
    cards = {r[2].split("EMAIL;TYPE=work:")[1].split("\r")[0].split("&")[0]: r[0] for r in full if r[1] is None}
    assert {JEAN, HELENE, ZOE} <= set(cards), cards
    assert not any("lucas.petit" in a or "marc.blanc" in a for a in cards), cards
    first = token_of(body)

    status, body = sync(server, first)
    assert status == 207 and responses(body) == [], body
    assert token_of(body) == first

    # The HR sync changes Zoé's function: that card alone comes back.
    directory(server, "sync", hr(tmp_path, "enseignant"))
    status, body = sync(server, first)
    changed = responses(body)
    assert [(h, s) for h, s, _ in changed] == [(cards[ZOE], None)], body
    assert "TITLE:Enseignant" in changed[0][2] or "ROLE:enseignant" in changed[0][2], changed[0][2]
    second = token_of(body)
    assert second != first

    # Hélène suspended with the admin CLI: a 404 entry for her card.
    server.admin("account", "suspend", HELENE)
    status, body = sync(server, second)
    assert [(h, s) for h, s, _ in responses(body)] == [(cards[HELENE], "HTTP/1.1 404 Not Found")], body

    # Tokens that are not this book's.
    scope, counter = second[len("urn:ardoise:annuaire:"):].rsplit("-", 1)
    for bad in ("nimportequoi", "urn:ardoise:sync:1-1", f"urn:ardoise:annuaire:{scope}-{int(counter) + 1000}",
                f"urn:ardoise:annuaire:a999999-{counter}"):
        status, body = sync(server, bad)
        assert status == 403 and "<d:valid-sync-token/>" in body, (bad, status, body)
