"""The web login delegated to the académie's own identity provider (issue 27, item 2), with two real
`ardoise` servers: B (http://127.0.0.1:<port>) is the académie's provider, an OpenID Connect provider
and CAS server where A is registered as an application; A (http://localhost:<port>, another host so
that the browser keeps the two servers' cookies apart) delegates its web login to B
(`ardoise admin upstream add-oidc` / `add-cas`).

Chromium logs Claire into A through B's login page (OpenID Connect: discovery, PKCE, state, nonce, ID
token checked against B's JWKS) and lands in A's webmail. Then, with plain HTTP clients following the
same redirects: an account suspended on A is refused although B vouches for it; a person B knows and A
does not is refused with a clear French page; a tampered state, an answer without the browser's
pending login and a replayed code are refused; the same through B's CAS server (ticket validated on
/cas/p3/serviceValidate, a replayed ticket refused); `[upstream] only` hides and refuses A's password
form; every attempt is in A's connection journal (protocol `externe`)."""

import html
import imaplib
import re
import socket
import sqlite3
import subprocess
import urllib.parse

import pytest

from conftest import DOMAIN, IN_CI, STORE, Server, require_tool
from test_imap import tls_context
from test_web_identity import browser, wait_path  # noqa: F401

try:
    import requests
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover
    if IN_CI:
        raise
    pytest.skip(f"requests/selenium not installed: {e}", allow_module_level=True)

PASSWORD_B = "Cheval-Agrafe-Correct-42"
PASSWORD_A = "Autre-Mot-De-Passe-Local-77"
CLAIRE = f"claire.martin@{DOMAIN}"
PAUL = f"paul.durand@{DOMAIN}"
INCONNU = f"inconnu.ailleurs@{DOMAIN}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listen_at(server, url: str, port: int, extra: str = ""):
    text = server.config.read_text().replace('[web]\nlisten = ["127.0.0.1:0"]',
                                             f'[web]\nlisten = ["127.0.0.1:{port}"]\npublic_url = "{url}"')
    server.config.write_text(text + extra)


def journal(server) -> list:
    """A's connection journal for upstream logins: (login, result) rows, oldest first."""
    query = "SELECT login, result FROM login_journal WHERE protocol = 'externe' ORDER BY id"
    if STORE == "sqlite":
        with sqlite3.connect(server.data / "ardoise.db", timeout=30) as db:
            rows = db.execute(query).fetchall()
        db.close()
        return rows
    out = subprocess.run([require_tool("psql"), server.store_url, "-v", "ON_ERROR_STOP=1", "-qAtc", query],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [tuple(line.split("|")) for line in out.stdout.decode().splitlines() if line]


class Pair:
    """B, the académie's provider, and A, which delegates its web login to B."""

    def __init__(self, tmp_path, a_extra=""):
        self.b = Server(tmp_path / "b")
        self.a = Server(tmp_path / "a")
        port_b, port_a = free_port(), free_port()
        self.url_b = f"http://127.0.0.1:{port_b}"
        self.url_a = f"http://localhost:{port_a}"
        listen_at(self.b, self.url_b, port_b)
        listen_at(self.a, self.url_a, port_a, a_extra)
        for who in (CLAIRE, PAUL, INCONNU):
            self.b.create(who.split("@")[0], password=PASSWORD_B)
        for who in (CLAIRE, PAUL):
            self.a.create(who.split("@")[0], password=PASSWORD_A)
        out = self.b.admin("oidc", "client", "add", "Messagerie A", "--academie-app",
                           "--redirect-uri", f"{self.url_a}/connexion/externe/academie/retour")
        client_id = re.search(r"client_id: (\S+)", out).group(1)
        secret = re.search(r"client_secret: (\S+)", out).group(1)
        self.b.admin("cas", "service", "add", f"{self.url_a}/connexion/externe/", "Messagerie A")
        secret_file = tmp_path / "secret-academie"
        secret_file.write_text(secret + "\n")
        out = self.a.admin("upstream", "add-oidc", "academie", "--issuer", self.url_b, "--client-id", client_id,
                           "--client-secret-file", str(secret_file), "--label", "Mon compte académique")
        assert secret not in out, "the secret is never printed"
        self.a.admin("upstream", "add-cas", "cas", "--url", f"{self.url_b}/cas", "--label", "le CAS académique")
        self.b.start()
        self.a.start()

    def cleanup(self):
        self.a.cleanup()
        self.b.cleanup()


@pytest.fixture
def pair(tmp_path):
    p = Pair(tmp_path)
    yield p
    p.cleanup()


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def through_b(pair, provider: str, login: str):
    """A browser of plain requests: from A's button to B's login form, then back to A's callback,
    which is returned unfollowed (with the session holding A's pending-login cookie)."""
    web = requests.Session()
    r = web.get(f"{pair.url_a}/connexion/externe/{provider}", allow_redirects=False, timeout=20)
    assert r.status_code == 303, r.text
    to_b = r.headers["Location"]
    assert to_b.startswith(pair.url_b), to_b
    r = web.get(to_b, timeout=20)  # B's authorize (or CAS login) sends to its login page
    assert "/connexion" in r.url, r.url
    r = web.post(f"{pair.url_b}/connexion", data={"csrf": csrf(r.text), "login": login, "password": PASSWORD_B},
                 allow_redirects=False, timeout=20)
    while r.status_code in (302, 303) and not r.headers["Location"].startswith(pair.url_a):
        r = web.get(urllib.parse.urljoin(pair.url_b, r.headers["Location"]), allow_redirects=False, timeout=20)
    back = r.headers["Location"]
    assert back.startswith(f"{pair.url_a}/connexion/externe/{provider}/retour?"), back
    return web, back


def test_chromium_logs_claire_into_a_through_b(pair, browser):  # noqa: F811
    browser.get(pair.url_a + "/connexion")
    button = browser.find_element(By.ID, "externe-academie")
    assert button.text == "Se connecter avec Mon compte académique"
    assert browser.find_element(By.ID, "externe-cas").text == "Se connecter avec le CAS académique"
    assert browser.find_elements(By.ID, "password"), "the password form stays without [upstream] only"
    button.click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url.startswith(pair.url_b + "/connexion"))
    browser.find_element(By.ID, "login").send_keys(CLAIRE)
    browser.find_element(By.ID, "password").send_keys(PASSWORD_B)
    browser.find_element(By.CSS_SELECTOR, "form[action='/connexion'] button[type=submit]").click()
    wait_path(browser, "/courrier")
    assert browser.current_url.startswith(pair.url_a), browser.current_url
    # An ordinary session of A: the security page lists it, under A's account.
    browser.get(pair.url_a + "/securite")
    assert "claire" in browser.page_source.lower()
    assert journal(pair.a) == [(CLAIRE, "ok")]


def test_suspended_unknown_tampered_and_replayed_are_refused_and_journaled(pair):
    # Suspended on A: refused although B says yes.
    pair.a.admin("account", "suspend", PAUL)
    web, back = through_b(pair, "academie", PAUL)
    r = web.get(back, allow_redirects=False, timeout=20)
    assert r.status_code == 403, r.text
    assert "suspendu" in r.text
    assert "ardoise_session" not in r.headers.get("Set-Cookie", "")

    # Known to B, unknown to A: a clear French page.
    web, back = through_b(pair, "academie", INCONNU)
    r = web.get(back, allow_redirects=False, timeout=20)
    assert r.status_code == 403
    assert "aucun compte de messagerie ne correspond" in html.unescape(r.text)

    # Tampered state: refused, and the pending login is spent.
    web, back = through_b(pair, "academie", CLAIRE)
    tampered = re.sub(r"state=([^&]+)", lambda m: "state=" + m.group(1)[:-2] + "xx", back)
    r = web.get(tampered, allow_redirects=False, timeout=20)
    assert r.status_code == 400, r.text
    r = web.get(back, allow_redirects=False, timeout=20)
    assert r.status_code == 400, "the pending login was single use"

    # The right answer taken to another browser (no pending login there): refused.
    web, back = through_b(pair, "academie", CLAIRE)
    r = requests.get(back, allow_redirects=False, timeout=20)
    assert r.status_code == 400
    # The browser that asked gets in, once; the code replayed later is refused by B.
    r = web.get(back, allow_redirects=False, timeout=20)
    assert r.status_code == 303 and r.headers["Location"] == "/courrier", r.text
    r = web.get(back, allow_redirects=False, timeout=20)
    assert r.status_code == 400

    rows = journal(pair.a)
    assert (PAUL, "suspended") in rows
    assert (INCONNU, "unknown-account") in rows
    assert ("(academie)", "upstream-state") in rows
    assert (CLAIRE, "ok") in rows


def test_cas_upstream_through_b(pair):
    web, back = through_b(pair, "cas", CLAIRE)
    assert "etat=" in back and "ticket=ST-" in back
    r = web.get(back, allow_redirects=False, timeout=20)
    assert r.status_code == 303 and r.headers["Location"] == "/courrier", r.text
    assert web.get(f"{pair.url_a}/courrier", timeout=20).url.endswith("/courrier")

    # A forged ticket, with a genuine pending login: B refuses it, so does A.
    web2 = requests.Session()
    r = web2.get(f"{pair.url_a}/connexion/externe/cas", allow_redirects=False, timeout=20)
    etat = urllib.parse.parse_qs(urllib.parse.urlparse(
        urllib.parse.parse_qs(urllib.parse.urlparse(r.headers["Location"]).query)["service"][0]).query)["etat"][0]
    r = web2.get(f"{pair.url_a}/connexion/externe/cas/retour?etat={etat}&ticket=ST-forge", allow_redirects=False,
                 timeout=20)
    assert r.status_code == 400

    pair.a.admin("account", "suspend", CLAIRE)
    web, back = through_b(pair, "cas", CLAIRE)
    r = web.get(back, allow_redirects=False, timeout=20)
    assert r.status_code == 403 and "suspendu" in r.text
    rows = journal(pair.a)
    assert rows[0] == (CLAIRE, "ok")
    assert ("(cas)", "upstream-cas-INVALID_TICKET") in rows
    assert rows[-1] == (CLAIRE, "suspended")


def test_upstream_only_hides_and_refuses_the_password_form(tmp_path):
    p = Pair(tmp_path, a_extra="\n[upstream]\nonly = true\n")
    try:
        web = requests.Session()
        page = web.get(f"{p.url_a}/connexion", timeout=20).text
        assert 'id="externe-academie"' in page
        assert 'id="password"' not in page
        r = web.post(f"{p.url_a}/connexion", data={"csrf": csrf(page), "login": CLAIRE, "password": PASSWORD_A},
                     allow_redirects=False, timeout=20)
        assert r.status_code == 403
        assert "fournisseur d'identité de l'académie" in html.unescape(r.text)
        # IMAP keeps the local password.
        imap = imaplib.IMAP4_SSL("127.0.0.1", p.a.imaps_port, ssl_context=tls_context(), timeout=20)
        assert imap.login(CLAIRE, PASSWORD_A)[0] == "OK"
        imap.logout()
    finally:
        p.cleanup()
