"""A list's archive and its `List-Archive` field (issue 22, RFC 2369) on the
real binary: a parent posts a hostile HTML message to a discussion group over
SMTP (smtplib, the MX); Claire, a member, fetches it over IMAP (imaplib) and
finds `List-Archive: <https://HOST/listes/ADDRESS/archives>`; signed in to the
web (the e2e HTTP login helper) she sees the post in that archive and reads
it, its HTML cleaned in the sandboxed frame with its own CSP (no `<script`
of the post anywhere). Paul, no member, gets the 404 page for the archive,
the post and its frame, as for a list that does not exist. An institutional
list adds no `List-Archive` and archives nothing until `ardoise admin list
archive ADDRESS on`; `list show` says so."""

import email
import email.policy
import imaplib
import json
import re
import smtplib
import time
import urllib.parse

from conftest import DOMAIN
from test_imap import tls_context
from test_lists import wait_for
from test_web_identity import PASSWORD, Http

CLAIRE = f"claire.martin@{DOMAIN}"
PAUL = f"paul.durand@{DOMAIN}"
GROUP = f"sorties@{DOMAIN}"
STAFF = f"personnels@{DOMAIN}"
HOSTILE = ("<p>Rendez-vous au musée <b>jeudi</b>.</p><script>alert('archive')</script>"
           "<img src=x onerror=\"alert('img')\"><a href=\"javascript:alert('lien')\">ici</a>")


def post(server, to, subject, html=HOSTILE):
    msg = (f"From: Parent <parent@example.org>\r\nTo: {to}\r\nSubject: {subject}\r\n"
           f"Message-ID: <{subject.replace(' ', '-')}.{time.time_ns()}@example.org>\r\n"
           f"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n").encode()
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as s:
        assert s.sendmail("parent@example.org", [to], msg) == {}


def fetched(server, user):
    """Every message of a user's INBOX, parsed, read over IMAP."""
    with imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=tls_context()) as m:
        m.login(user, PASSWORD)
        m.select("INBOX", readonly=True)
        _, data = m.search(None, "ALL")
        out = []
        for num in data[0].split():
            _, parts = m.fetch(num, "(BODY.PEEK[])")
            out.append(email.message_from_bytes(parts[0][1], policy=email.policy.compat32))
        return out


def inline_scripts(page):
    """The `<script` tags of a page that are not our own files (`src=`)."""
    return re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page)


def signed_in(server, user):
    web = Http(server)
    resp, text = web.login(user, PASSWORD)
    assert resp.status == 303, text
    return web


def test_a_member_follows_list_archive_to_the_post_and_a_stranger_gets_404(server):
    server.create("claire.martin", password=PASSWORD)
    server.create("paul.durand", password=PASSWORD)
    server.admin("list", "create", GROUP, "--name", "Sorties", "--discussion", "--tag", "Sorties")
    server.admin("list", "add", GROUP, CLAIRE)
    shown = json.loads(server.admin("list", "show", GROUP, "--json"))
    assert shown["archive"] is True and shown["archived"] == 0, shown
    server.start()

    post(server, GROUP, "Sortie au musee")
    messages = wait_for(lambda: fetched(server, CLAIRE), "Claire's copy")
    got = messages[0]
    fields = got.get_all("List-Archive")
    assert fields == [f"<https://mx.{DOMAIN}/listes/{GROUP}/archives>"], got.as_string()[:2000]
    assert got["Subject"] == "[Sorties] Sortie au musee"
    path = urllib.parse.urlsplit(fields[0].strip("<>")).path

    # Claire, signed in, finds the post in the archive and reads it.
    claire = signed_in(server, CLAIRE)
    resp, page = claire.request("GET", path)
    assert resp.status == 200, page
    link = re.search(rf'href="({re.escape(path)}/(\d+))"', page)
    assert link and "Sortie au musee" in page, page
    assert inline_scripts(page) == [] and "alert(" not in page
    resp, reading = claire.request("GET", link.group(1))
    assert resp.status == 200, reading
    assert "Sortie au musee" in reading and f'src="{link.group(1)}/contenu"' in reading, reading
    assert inline_scripts(reading) == [] and "alert(" not in reading and "onerror" not in reading
    resp, frame = claire.request("GET", link.group(1) + "/contenu")
    assert resp.status == 200
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    assert "Rendez-vous au musée" in frame, frame
    assert "alert(" not in frame and "onerror" not in frame and "javascript:" not in frame, frame
    # Our one height script is the only script, under the CSP's nonce.
    assert frame.count("<script") == 1 and re.search(r'<script nonce="[0-9a-f]{32}">', frame), frame

    # Paul, no member: every archive path is the 404 page, with nothing of the list.
    paul = signed_in(server, PAUL)
    for p in (path, link.group(1), link.group(1) + "/contenu", f"/listes/inconnue@{DOMAIN}/archives"):
        resp, text = paul.request("GET", p)
        assert resp.status == 404, (p, resp.status)
        assert "Sortie au musee" not in text and "Rendez-vous" not in text, p
    assert json.loads(server.admin("list", "show", GROUP, "--json"))["archived"] == 1


def test_an_institutional_list_archives_only_once_switched_on(server):
    server.create("claire.martin", password=PASSWORD)
    server.admin("list", "create", STAFF, "--name", "Personnels")
    server.admin("list", "add", STAFF, CLAIRE)
    assert "archive      non, 0 message(s)" in server.admin("list", "show", STAFF)
    server.start()

    post(server, STAFF, "Note de service", "<p>Note.</p>")
    first = wait_for(lambda: fetched(server, CLAIRE), "Claire's copy")[0]
    assert first.get_all("List-Archive") is None and first["List-Id"], first.as_string()[:2000]
    claire = signed_in(server, CLAIRE)
    resp, page = claire.request("GET", f"/listes/{STAFF}/archives")
    assert resp.status == 200 and 'id="aucune-archive"' in page, page

    server.admin("list", "archive", STAFF, "on")
    post(server, STAFF, "Convocation", "<p>Conseil.</p>")
    second = wait_for(lambda: [m for m in fetched(server, CLAIRE) if m["Subject"] == "Convocation"], "the second")[0]
    assert second.get_all("List-Archive") == [f"<https://mx.{DOMAIN}/listes/{STAFF}/archives>"]
    resp, page = claire.request("GET", f"/listes/{STAFF}/archives")
    assert resp.status == 200 and "Convocation" in page and "Note de service" not in page, page
    server.admin("list", "archive", STAFF, "off")
    shown = json.loads(server.admin("list", "show", STAFF, "--json"))
    assert (shown["archive"], shown["archived"]) == (False, 1), shown
