"""Maintenance notices (issue 24, item 2): scheduled with `ardoise admin notice`, shown on the login
page (French, or English with ?lang=en) and to IMAP clients at login as `* OK [ALERT]`, which imaplib
files under ALERT (RFC 9051 section 7.1: the text must be presented to the user)."""

import imaplib
import ssl
import subprocess
import urllib.request

from conftest import binary

PASSWORD = "Tableau-Noir-Craie-42"
FR = "Messagerie indisponible samedi de 8 h à 10 h (mise à jour)."
EN = "Mail unavailable Saturday 8-10 am (upgrade)."


def page(server, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}{path}", timeout=10) as resp:
        return resp.read().decode()


def tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def admin_fails(server, *args) -> str:
    out = subprocess.run([binary(), "admin", "--config", str(server.config), *args], capture_output=True)
    assert out.returncode != 0, out.stdout
    return out.stderr.decode()


def test_a_notice_shows_on_the_login_page_and_to_imap_clients(server):
    claire = server.create("claire.martin", password=PASSWORD)
    server.admin("notice", "add", "--text", FR, "--text-en", EN, "--severity", "maintenance")
    later = "tomorrow-is-not-a-date"
    assert "AAAA-MM-JJ" in admin_fails(server, "notice", "add", "--text", "x", "--from", later)
    assert "gravité" in admin_fails(server, "notice", "add", "--text", "x", "--severity", "grave")
    assert "--until" in admin_fails(
        server, "notice", "add", "--text", "x", "--from", "2030-01-02 10:00", "--until", "2030-01-02 09:00"
    )
    server.admin("notice", "add", "--text", "Nouvelle charte en 2030", "--from", "2030-01-02 10:00")
    listed = server.admin("notice", "list")
    assert "en cours" in listed and "à venir" in listed and "2030-01-02 10:00" in listed
    server.start()

    login = page(server, "/connexion")
    assert "Messagerie indisponible samedi de 8 h à 10 h" in login
    assert 'class="annonce-maintenance"' in login
    assert "Nouvelle charte" not in login, "a notice to come is not shown yet"
    assert EN in page(server, "/connexion?lang=en")

    imap = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=tls())
    imap.login(claire, PASSWORD)
    # imaplib files the response code (ALERT, no data) and the OK line itself, "[ALERT] <text>".
    typ, codes = imap.response("ALERT")
    assert typ == "ALERT" and codes, imap.untagged_responses
    lines = [line.decode("ascii") for line in imap.untagged_responses.get("OK", [])]
    expected = "[ALERT] Messagerie indisponible samedi de 8 h a 10 h (mise a jour). / " + EN
    assert expected in lines, lines
    imap.logout()

    notice_id = next(line.split()[0] for line in server.admin("notice", "list").splitlines() if "en cours" in line)
    server.admin("notice", "remove", notice_id)
    assert "Messagerie indisponible" not in page(server, "/connexion")
    assert "notice.add" in server.admin("audit", "list") and "notice.remove" in server.admin("audit", "list")
