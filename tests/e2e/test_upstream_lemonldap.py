"""The web login delegated to Debian's LemonLDAP::NG (issue 27, item 2), the identity provider of many
French public administrations, instead of a second Ardoise as in test_upstream.py.

Each test starts a private LemonLDAP::NG portal (Debian's liblemonldap-ng-portal-perl, run as a PSGI
application by Starman on 127.0.0.1, with its ini file, its File configuration `lmConf-1.json`, its
sessions and caches all in tmp_path: nothing of /etc or /var/lib/lemonldap-ng is read or written). The
portal authenticates against a small user table (its DBI backend over SQLite) and is at once:
- an OpenID Connect provider (issuer = the portal's URL, an RS256 key pair made by the test, one
  relying party: Ardoise, with its redirect URI `<public_url>/connexion/externe/lemonldap/retour`,
  PKCE required; the email claim comes from userinfo, as LemonLDAP::NG does by default);
- a CAS server, where Ardoise's `/connexion/externe/` prefix is the one registered service, the
  account named by the `mail` attribute (CAS 3.0 attributes on /cas/p3/serviceValidate).

Ardoise (http://localhost:<port>, another host than the portal's so that the browser keeps their
cookies apart) delegates to it with `ardoise admin upstream add-oidc` / `add-cas`. Chromium logs
Claire in through LemonLDAP::NG's own login form and lands in the webmail; plain HTTP clients then
check that an account suspended in Ardoise is refused although LemonLDAP::NG authenticates it, that a
person LemonLDAP::NG knows and Ardoise does not is refused, that a replayed code or ticket is refused
by LemonLDAP::NG and so by Ardoise, and that all of it is in Ardoise's connection journal."""

import html
import json
import os
import re
import sqlite3
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

from conftest import DOMAIN, IN_CI, Server, require_tool
from test_upstream import free_port, journal, listen_at
from test_web_identity import browser, wait_path  # noqa: F401

try:
    import requests
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover
    if IN_CI:
        raise
    pytest.skip(f"requests/cryptography/selenium not installed: {e}", allow_module_level=True)

# What Debian's packages install (scripts/test-setup.sh): the portal's Perl modules and its page
# templates and static files.
PORTAL_MODULE = Path("/usr/share/perl5/Lemonldap/NG/Portal/Main.pm")
PORTAL_SHARE = Path("/usr/share/lemonldap-ng/portal")

CLAIRE = f"claire.martin@{DOMAIN}"
PAUL = f"paul.durand@{DOMAIN}"
INCONNU = f"inconnu.ailleurs@{DOMAIN}"
# LemonLDAP::NG's users: (login there, password there, mail, display name).
USERS = [
    ("cmartin", "Craie-Blanche-Tableau-31", CLAIRE, "Claire Martin"),
    ("pdurand", "Cartable-Rouge-Preau-58", PAUL, "Paul Durand"),
    ("iailleurs", "Boussole-Nord-Sextant-12", INCONNU, "Ignace Ailleurs"),
]
PASSWORDS = {login: password for login, password, _, _ in USERS}
PASSWORD_ARDOISE = "Mot-De-Passe-Local-Ardoise-77"


def require_lemonldap():
    # Starman, a preforking PSGI server: plackup's default one serves one connection at a time, and
    # Chromium's idle preconnections then stall Ardoise's token request.
    starman = require_tool("starman")
    missing = [str(p) for p in (PORTAL_MODULE, PORTAL_SHARE / "templates") if not p.exists()]
    if missing:
        message = f"LemonLDAP::NG is not installed (missing {', '.join(missing)}): see scripts/test-setup.sh"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return starman


class LemonLDAP:
    """A private LemonLDAP::NG portal: OpenID Connect provider and CAS server for one application."""

    def __init__(self, root: Path, port: int, ardoise_url: str, client_secret: str):
        self.starman = require_lemonldap()
        self.root = root
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        for d in ("conf", "sessions/lock", "psessions/lock", "cache"):
            (root / d).mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(root / "users.db") as db:
            db.execute("CREATE TABLE users (uid TEXT PRIMARY KEY, password TEXT, mail TEXT, cn TEXT)")
            db.executemany("INSERT INTO users VALUES (?, ?, ?, ?)", USERS)
        db.close()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
        public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        # The ini file that LLNG_DEFAULTCONFFILE names: where the configuration is (a File backend,
        # lmConf-<n>.json), and where the portal finds its templates.
        (root / "lemonldap-ng.ini").write_text(f"""[all]
logLevel = notice
[configuration]
type = File
dirName = {root}/conf
localStorage = Cache::FileCache
localStorageOptions = {{ 'namespace' => 'lemonldap-ng-config', 'default_expires_in' => 600, \\
    'cache_root' => '{root}/cache' }}
[portal]
staticPrefix = /static
templateDir = {PORTAL_SHARE}/templates
languages = fr, en
""")
        # The portal as a PSGI application, with its static files (CSS, scripts) served beside it.
        (root / "portal.psgi").write_text(f"""use Plack::Builder;
use Lemonldap::NG::Portal::Main;
my $portal = Lemonldap::NG::Portal::Main->run({{}});
builder {{
    enable "Static", path => qr{{^/static/}}, root => "{PORTAL_SHARE}/htdocs/";
    $portal;
}};
""")
        redirect = f"{ardoise_url}/connexion/externe/lemonldap/retour"
        conf = {
            "cfgNum": 1, "cfgVersion": "2.16.1", "cfgAuthor": "test_upstream_lemonldap.py",
            "cfgDate": str(int(time.time())),
            "portal": f"{self.url}/", "domain": "127.0.0.1", "cookieName": "lemonldap", "securedCookie": 0,
            # Users: a table of the DBI backend (SQLite here; the académie's LDAP in production).
            "authentication": "DBI", "userDB": "Same", "passwordDB": "DBI", "registerDB": "Null",
            "dbiAuthChain": f"dbi:SQLite:dbname={root}/users.db", "dbiAuthUser": "", "dbiAuthPassword": "",
            "dbiAuthTable": "users", "dbiAuthLoginCol": "uid", "dbiAuthPasswordCol": "password",
            "dbiAuthPasswordHash": "",
            "dbiExportedVars": {"uid": "uid", "mail": "mail", "cn": "cn"},
            "exportedVars": {}, "macros": {}, "groups": {}, "locationRules": {}, "exportedHeaders": {},
            "whatToTrace": "uid", "notification": 0, "loginHistoryEnabled": 0,
            "globalStorage": "Apache::Session::File",
            "globalStorageOptions": {"Directory": f"{root}/sessions", "LockDirectory": f"{root}/sessions/lock",
                                     "generateModule": "Lemonldap::NG::Common::Apache::Session::Generate::SHA256"},
            "persistentStorage": "Apache::Session::File",
            "persistentStorageOptions": {"Directory": f"{root}/psessions",
                                         "LockDirectory": f"{root}/psessions/lock"},
            "localSessionStorage": "Cache::FileCache",
            "localSessionStorageOptions": {"cache_root": f"{root}/cache", "namespace": "lemonldap-ng-sessions",
                                           "default_expires_in": 600},
            # OpenID Connect provider, Ardoise its one relying party.
            "issuerDBOpenIDConnectActivation": 1,
            "oidcServiceMetaDataIssuer": self.url,
            "oidcServicePrivateKeySig": private_pem,
            "oidcServicePublicKeySig": public_pem,
            "oidcServiceKeyIdSig": "ardoise-test",
            "oidcRPMetaDataOptions": {"ardoise": {
                "oidcRPMetaDataOptionsDisplayName": "Ardoise",
                "oidcRPMetaDataOptionsClientID": "ardoise",
                "oidcRPMetaDataOptionsClientSecret": client_secret,
                "oidcRPMetaDataOptionsRedirectUris": redirect,
                "oidcRPMetaDataOptionsIDTokenSignAlg": "RS256",
                "oidcRPMetaDataOptionsRequirePKCE": 1,
                "oidcRPMetaDataOptionsBypassConsent": 1,
            }},
            "oidcRPMetaDataExportedVars": {"ardoise": {"email": "mail", "name": "cn", "preferred_username": "uid"}},
            # CAS server: Ardoise's service prefix is the one allowed.
            "issuerDBCASActivation": 1,
            "casAccessControlPolicy": "error",
            "casAppMetaDataOptions": {"ardoise": {
                "casAppMetaDataOptionsService": f"{ardoise_url}/connexion/externe/"}},
            "casAppMetaDataExportedVars": {"ardoise": {"mail": "mail", "cn": "cn"}},
        }
        (root / "conf" / "lmConf-1.json").write_text(json.dumps(conf, indent=1))
        self.proc = None

    def start(self):
        self.log = open(self.root / "portal.log", "ab")
        env = dict(os.environ, LLNG_DEFAULTCONFFILE=str(self.root / "lemonldap-ng.ini"))
        self.proc = subprocess.Popen([self.starman, "--listen", f"127.0.0.1:{self.port}", "--workers", "3",
                                      "--preload-app", str(self.root / "portal.psgi")],
                                     cwd=self.root, env=env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"LemonLDAP::NG exited early:\n{self.log_text()}")
            try:
                r = requests.get(f"{self.url}/.well-known/openid-configuration", timeout=5)
                if r.status_code == 200:
                    assert r.json()["issuer"] == self.url, r.text
                    return self
                # A configuration the portal refuses gives « Initialization failed » for good.
                raise AssertionError(f"LemonLDAP::NG answers {r.status_code}:\n{self.log_text()}")
            except requests.ConnectionError:
                time.sleep(0.2)
        raise AssertionError(f"LemonLDAP::NG did not start within 60 s:\n{self.log_text()}")

    def log_text(self) -> str:
        return (self.root / "portal.log").read_text(errors="replace")[-4000:]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Setup:
    """Ardoise (with Claire and Paul) delegating its web login to a LemonLDAP::NG portal."""

    def __init__(self, tmp_path):
        port_a, port_l = free_port(), free_port()
        self.url_a = f"http://localhost:{port_a}"
        secret = "ardoise-" + os.urandom(16).hex()
        self.lemon = LemonLDAP(tmp_path / "lemonldap", port_l, self.url_a, secret)
        self.url_l = self.lemon.url
        self.a = Server(tmp_path / "ardoise")
        listen_at(self.a, self.url_a, port_a)
        for who in (CLAIRE, PAUL):
            self.a.create(who.split("@")[0], password=PASSWORD_ARDOISE)
        secret_file = tmp_path / "secret-lemonldap"
        secret_file.write_text(secret + "\n")
        try:
            self.lemon.start()
            out = self.a.admin("upstream", "add-oidc", "lemonldap", "--issuer", self.url_l, "--client-id", "ardoise",
                               "--client-secret-file", str(secret_file), "--claim", "email",
                               "--scopes", "email", "profile", "--label", "LemonLDAP::NG de l'académie")
            assert secret not in out
            self.a.admin("upstream", "add-cas", "lemoncas", "--url", f"{self.url_l}/cas", "--claim", "mail",
                         "--label", "le CAS de LemonLDAP::NG")
            self.a.start()
        except BaseException:
            self.cleanup()
            raise

    def cleanup(self):
        self.a.cleanup()
        self.lemon.stop()


@pytest.fixture
def setup(tmp_path):
    s = Setup(tmp_path)
    yield s
    s.cleanup()


def hidden_fields(page: str) -> dict:
    return dict(re.findall(r'<input[^>]*type="hidden" name="(\w+)" value="([^"]*)"', page))


def through_lemonldap(setup, provider: str, login: str, password: str = None):
    """A browser of plain requests: from Ardoise's button to LemonLDAP::NG's login form, filled and
    posted, and LemonLDAP::NG's redirect back to Ardoise's callback, returned unfollowed (with the
    session holding Ardoise's pending-login cookie)."""
    web = requests.Session()
    r = web.get(f"{setup.url_a}/connexion/externe/{provider}", allow_redirects=False, timeout=20)
    assert r.status_code == 303, r.text
    to_lemon = r.headers["Location"]
    assert to_lemon.startswith(setup.url_l + ("/oauth2/authorize?" if provider == "lemonldap" else "/cas/login?"))
    r = web.get(to_lemon, timeout=20)
    assert r.status_code == 200 and 'name="password"' in r.text, r.text[:2000]
    # The form posts to the page's own address (action="#"), which carries the request.
    r = web.post(r.url, data={**hidden_fields(r.text), "user": login, "password": password or PASSWORDS[login]},
                 allow_redirects=False, timeout=20)
    assert r.status_code == 302, f"LemonLDAP::NG did not send back to Ardoise: {r.status_code} {r.text[:2000]}"
    back = r.headers["Location"]
    assert back.startswith(f"{setup.url_a}/connexion/externe/{provider}/retour?"), back
    return web, back


def test_chromium_logs_claire_in_through_lemonldap(setup, browser):  # noqa: F811
    browser.get(setup.url_a + "/connexion")
    button = browser.find_element(By.ID, "externe-lemonldap")
    assert button.text == "Se connecter avec LemonLDAP::NG de l'académie"
    button.click()
    WebDriverWait(browser, 20).until(lambda d: d.current_url.startswith(setup.url_l + "/oauth2/authorize"))
    # LemonLDAP::NG's own login form.
    browser.find_element(By.ID, "userfield").send_keys("cmartin")
    browser.find_element(By.ID, "passwordfield").send_keys(PASSWORDS["cmartin"])
    browser.find_element(By.CSS_SELECTOR, "form#lform button[type=submit]").click()
    wait_path(browser, "/courrier", timeout=30)
    assert browser.current_url.startswith(setup.url_a), browser.current_url
    # An ordinary session of Ardoise, under Claire's account.
    browser.get(setup.url_a + "/securite")
    assert "claire" in browser.page_source.lower()
    assert journal(setup.a) == [(CLAIRE, "ok")]


def test_suspended_unknown_and_replayed_are_refused_and_journaled(setup):
    # A wrong password stays at LemonLDAP::NG: no code reaches Ardoise.
    web = requests.Session()
    r = web.get(f"{setup.url_a}/connexion/externe/lemonldap", allow_redirects=False, timeout=20)
    r = web.get(r.headers["Location"], timeout=20)
    r = web.post(r.url, data={**hidden_fields(r.text), "user": "cmartin", "password": "pas-le-bon"},
                 allow_redirects=False, timeout=20)
    assert "code=" not in r.headers.get("Location", ""), r.headers
    assert 'name="password"' in r.text, "LemonLDAP::NG shows its form again"

    # Suspended in Ardoise: refused although LemonLDAP::NG authenticates Paul.
    setup.a.admin("account", "suspend", PAUL)
    web, back = through_lemonldap(setup, "lemonldap", "pdurand")
    r = web.get(back, allow_redirects=False, timeout=20)
    assert r.status_code == 403, r.text
    assert "suspendu" in r.text
    assert "ardoise_session" not in r.headers.get("Set-Cookie", "")

    # Known to LemonLDAP::NG, unknown to Ardoise: a clear French page.
    web, back = through_lemonldap(setup, "lemonldap", "iailleurs")
    r = web.get(back, allow_redirects=False, timeout=20)
    assert r.status_code == 403
    assert "aucun compte de messagerie ne correspond" in html.unescape(r.text)

    # Claire gets in, once: the same code replayed, with a fresh pending login of Ardoise's, is refused
    # by LemonLDAP::NG's token endpoint, which spent the code at its first use.
    web, back = through_lemonldap(setup, "lemonldap", "cmartin")
    r = web.get(back, allow_redirects=False, timeout=20)
    assert r.status_code == 303 and r.headers["Location"] == "/courrier", r.text
    assert web.get(f"{setup.url_a}/courrier", timeout=20).url.endswith("/courrier")
    replay = requests.Session()
    r = replay.get(f"{setup.url_a}/connexion/externe/lemonldap", allow_redirects=False, timeout=20)
    state = urllib.parse.parse_qs(urllib.parse.urlparse(r.headers["Location"]).query)["state"][0]
    old = urllib.parse.parse_qs(urllib.parse.urlparse(back).query)
    r = replay.get(f"{setup.url_a}/connexion/externe/lemonldap/retour?"
                   + urllib.parse.urlencode({"code": old["code"][0], "state": state}), allow_redirects=False,
                   timeout=20)
    assert r.status_code == 400, r.text
    assert "Unable to find OIDC session" in setup.lemon.log_text(), "refused as spent, not for another reason"

    rows = journal(setup.a)
    assert rows == [(PAUL, "suspended"), (INCONNU, "unknown-account"), (CLAIRE, "ok"),
                    ("(lemonldap)", "upstream-token-invalid_grant")], rows


def test_cas_through_lemonldap(setup):
    web, back = through_lemonldap(setup, "lemoncas", "cmartin")
    assert "etat=" in back and "ticket=ST-" in back
    r = web.get(back, allow_redirects=False, timeout=20)
    assert r.status_code == 303 and r.headers["Location"] == "/courrier", r.text
    assert web.get(f"{setup.url_a}/courrier", timeout=20).url.endswith("/courrier")

    # The same ticket again, with a genuine pending login: LemonLDAP::NG refuses it, so does Ardoise.
    web2 = requests.Session()
    r = web2.get(f"{setup.url_a}/connexion/externe/lemoncas", allow_redirects=False, timeout=20)
    service = urllib.parse.parse_qs(urllib.parse.urlparse(r.headers["Location"]).query)["service"][0]
    etat = urllib.parse.parse_qs(urllib.parse.urlparse(service).query)["etat"][0]
    ticket = urllib.parse.parse_qs(urllib.parse.urlparse(back).query)["ticket"][0]
    r = web2.get(f"{setup.url_a}/connexion/externe/lemoncas/retour?etat={etat}&ticket={ticket}",
                 allow_redirects=False, timeout=20)
    assert r.status_code == 400, r.text

    setup.a.admin("account", "suspend", CLAIRE)
    web, back = through_lemonldap(setup, "lemoncas", "cmartin")
    r = web.get(back, allow_redirects=False, timeout=20)
    assert r.status_code == 403 and "suspendu" in r.text
    rows = journal(setup.a)
    assert rows[0] == (CLAIRE, "ok")
    assert ("(lemoncas)", "upstream-cas-INVALID_TICKET") in rows
    assert rows[-1] == (CLAIRE, "suspended")
