"""Ardoise as an OpenID Connect provider and CAS server (issue 27, item 1), on the real binary.

The relying party is authlib's OAuth2Session in this process (code flow with PKCE S256,
client_secret_basic), the ID token is verified with authlib's JWT against /oidc/jwks; the
user's browser is a `requests` session posting the real login form (and TOTP step). A CAS
service validates its tickets with plain requests on /cas/p3/serviceValidate. Then the bad
input of the brief: redirect URIs off by a character, open redirects, code replay, PKCE
downgrade, wrong secrets, another client's code, expired codes, `alg: none`, reused refresh
tokens, a suspended account, CSRF on the consent page, forged and replayed CAS tickets."""

import base64
import html
import json
import re
import socket
import sqlite3
import subprocess
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from conftest import DOMAIN, IN_CI, STORE, binary, require_tool

try:
    import pyotp
    import requests
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.jose import JsonWebKey, jwt
    from authlib.oauth2.rfc7636 import create_s256_code_challenge
except ImportError as e:  # pragma: no cover
    if IN_CI:
        raise
    pytest.skip(f"authlib/requests/pyotp not installed: {e}", allow_module_level=True)

PASSWORD = "Cheval-Agrafe-Correct-42"
CLAIRE = f"claire.martin@{DOMAIN}"
# Nothing listens there: the browser stops at the redirect and hands the URL to the client.
CB = "http://127.0.0.1:9/cb"
CAS_PREFIX = "http://127.0.0.1:9/ent/"
CAS_NS = {"cas": "http://www.yale.edu/tp/cas"}
HR = (
    "numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n"
    "12E0000001ABC;Mme;Martin;Claire;enseignant;actif;0541234A;;\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sql(server, statement: str):
    """Runs one statement on the server's own database (SQLite or PostgreSQL)."""
    if STORE == "sqlite":
        with sqlite3.connect(server.data / "ardoise.db", timeout=30) as db:
            db.execute(statement)
        db.close()
    else:
        out = subprocess.run([require_tool("psql"), server.store_url, "-v", "ON_ERROR_STOP=1", "-qAtc", statement],
                             capture_output=True, timeout=60)
        assert out.returncode == 0, out.stderr


class Provider:
    """The server with Claire (from the HR file, établissement 0541234A) and a registered ENT."""

    def __init__(self, server, tmp_path):
        self.server = server
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        text = server.config.read_text().replace('[web]\nlisten = ["127.0.0.1:0"]',
                                                 f'[web]\nlisten = ["127.0.0.1:{port}"]\npublic_url = "{self.base}"')
        server.config.write_text(text)
        server.admin("unit", "add", "Académie de test", "--kind", "academie")
        server.admin("unit", "add", "DSDEN A", "--kind", "dsden", "--parent", "Académie de test")
        server.admin("unit", "add", "Collège Jules Ferry", "--kind", "etablissement", "--parent", "DSDEN A",
                     "--uai", "0541234A")
        hr = tmp_path / "rh.csv"
        hr.write_text(HR, encoding="utf-8")
        out = subprocess.run([binary(), "directory", "--config", str(server.config), "sync", str(hr)],
                             capture_output=True, timeout=120)
        assert out.returncode == 0, out.stderr
        server.admin("account", "activate", CLAIRE)
        server.admin("account", "password", CLAIRE, "--password-stdin", stdin=PASSWORD.encode())
        self.ent_id, self.ent_secret = self.register("ENT", "--academie-app")
        server.start()
        self.meta = requests.get(f"{self.base}/.well-known/openid-configuration", timeout=10).json()

    def register(self, name, *flags):
        out = self.server.admin("oidc", "client", "add", name, "--redirect-uri", CB, *flags)
        client_id = re.search(r"client_id: (\S+)", out).group(1)
        secret = re.search(r"client_secret: (\S+)", out)
        return client_id, secret.group(1) if secret else None

    def rp(self, client_id=None, secret=None, scope="openid profile email academie"):
        return OAuth2Session(client_id or self.ent_id, secret or self.ent_secret, scope=scope, redirect_uri=CB,
                             code_challenge_method="S256", token_endpoint_auth_method="client_secret_basic")

    def jwks(self):
        return JsonWebKey.import_key_set(requests.get(self.meta["jwks_uri"], timeout=10).json())


class Browser:
    """The user's browser: follows the provider's redirects, fills the login and TOTP forms."""

    def __init__(self, provider):
        self.p = provider
        self.web = requests.Session()
        self.totp_secret = None

    def csrf(self, html):
        return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)

    def get(self, url):
        return self.web.get(urllib.parse.urljoin(self.p.base, url), allow_redirects=False, timeout=20)

    def post(self, url, form):
        return self.web.post(urllib.parse.urljoin(self.p.base, url), data=form, allow_redirects=False, timeout=20)

    def login(self, password=PASSWORD):
        page = self.get("/connexion").text
        r = self.post("/connexion", {"csrf": self.csrf(page), "login": CLAIRE, "password": password})
        assert r.status_code == 303, r.text
        return r.headers["Location"]

    def code_step(self):
        page = self.get("/connexion/code").text
        r = self.post("/connexion/code", {"csrf": self.csrf(page), "code": next_code(self.totp_secret)})
        assert r.status_code == 303, (r.status_code, re.findall(r'class="erreur"[^>]*>([^<]*)<', r.text), r.text[-300:])
        return r.headers["Location"]

    def until(self, url, stop):
        """Follows redirects from `url`, through the login, until one starts with `stop`."""
        for _ in range(10):
            r = self.get(url)
            if r.status_code != 303:
                return r
            url = r.headers["Location"]
            if url.startswith(stop):
                return url
            if url == "/connexion":
                url = self.login()
            if url == "/connexion/code":
                url = self.code_step()
        raise AssertionError("too many redirects")

    def enrol_totp(self):
        page = self.get("/2fa/activer").text
        secret = re.search(r'id="totp-secret"[^>]*>([^<]+)<', page).group(1).replace(" ", "").strip()
        r = self.post("/2fa/activer", {"csrf": self.csrf(page), "code": pyotp.TOTP(secret).now(),
                                       "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.totp_secret = secret
        self.enrolled_at = int(time.time()) // 30


def signed_out(browser):
    r = browser.get("/accueil")
    return r.status_code == 303 and r.headers["Location"] in ("/", "/connexion")


_used_steps = {}


def next_code(secret):
    """A TOTP code of a step not used yet (a used step is refused as a replay): waits for it."""
    totp = pyotp.TOTP(secret)
    while int(time.time()) // 30 <= _used_steps.get(secret, 0):
        time.sleep(0.5)
    _used_steps[secret] = int(time.time()) // 30
    return totp.now()


@pytest.fixture
def provider(server, tmp_path):
    return Provider(server, tmp_path)


def code_flow(p, browser, rp=None, **params):
    """Runs authlib's authorization request through the browser; returns (rp, token, nonce)."""
    rp = rp or p.rp()
    verifier = base64.urlsafe_b64encode(b"v" * 40).decode().rstrip("=")
    nonce = "n-" + str(time.time_ns())
    uri, state = rp.create_authorization_url(p.meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce,
                                             **params)
    back = browser.until(uri, CB)
    assert isinstance(back, str), back.text
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)
    assert query["state"] == [state] and query["iss"] == [p.base], back
    token = rp.fetch_token(p.meta["token_endpoint"], authorization_response=back, code_verifier=verifier)
    return rp, token, nonce


def id_claims(p, token, client_id=None, nonce=None):
    options = {"iss": {"essential": True, "value": p.base}, "aud": {"essential": True, "value": client_id or p.ent_id}}
    if nonce:
        options["nonce"] = {"essential": True, "value": nonce}
    claims = jwt.decode(token["id_token"], p.jwks(), claims_options=options)
    claims.validate()
    assert jwt_header(token["id_token"])["alg"] == "ES256"
    return claims


def jwt_header(token):
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def test_discovery_and_jwks_describe_the_provider(provider):
    m = provider.meta
    assert m["issuer"] == provider.base
    assert m["code_challenge_methods_supported"] == ["S256"]
    assert m["id_token_signing_alg_values_supported"] == ["ES256"]
    assert "none" not in m["id_token_signing_alg_values_supported"]
    keys = requests.get(m["jwks_uri"], timeout=10).json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "EC" and keys[0]["kid"] and "d" not in keys[0]
    key_file = next((provider.server.data / "oidc").glob("es256-*.p8"))
    assert key_file.stat().st_mode & 0o777 == 0o600
    # Rotation by the CLI: the running server publishes the new key and the previous one.
    provider.server.admin("oidc", "rotate-key")
    kids = [k["kid"] for k in requests.get(m["jwks_uri"], timeout=10).json()["keys"]]
    assert len(kids) == 2 and kids[1] == keys[0]["kid"]


def test_code_flow_with_pkce_claims_refresh_and_suspension(provider):
    p = provider
    browser = Browser(p)
    rp, token, nonce = code_flow(p, browser)
    claims = id_claims(p, token, nonce=nonce)
    assert claims["email"] == CLAIRE
    assert claims["name"] == "Claire Martin"
    assert (claims["given_name"], claims["family_name"]) == ("Claire", "Martin")
    assert claims["uai"] == "0541234A" and claims["unit"] == "Collège Jules Ferry"
    assert claims["role"] == "enseignant"
    assert claims["acr"] == "urn:ardoise:acr:pwd" and claims["amr"] == ["pwd"]
    info = rp.get(p.meta["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["uai"] == "0541234A"
    # The sub is stable for this client, and another client sees another one.
    _, again, _ = code_flow(p, browser)
    assert id_claims(p, again)["sub"] == claims["sub"]
    other_id, other_secret = p.register("Autre application", "--academie-app")
    _, other, _ = code_flow(p, browser, rp=p.rp(other_id, other_secret))
    assert id_claims(p, other, client_id=other_id)["sub"] != claims["sub"]
    # Refresh: new tokens, the old refresh token spent.
    refreshed = rp.refresh_token(p.meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert id_claims(p, refreshed)["sub"] == claims["sub"]
    # Suspended through the CLI: the live tokens stop at once.
    p.server.admin("account", "suspend", CLAIRE)
    r = requests.get(p.meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {refreshed['access_token']}"},
                     timeout=10)
    assert r.status_code == 401 and "invalid_token" in r.headers["WWW-Authenticate"]
    r = requests.post(p.meta["token_endpoint"], data={"grant_type": "refresh_token",
                                                      "refresh_token": refreshed["refresh_token"]},
                      auth=(p.ent_id, p.ent_secret), timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # And the browser's session is over too.
    assert signed_out(browser)


def test_totp_gives_acr_2fa_and_a_client_requiring_it_refuses_a_password_only_session(provider):
    p = provider
    strict_id, strict_secret = p.register("Colibris", "--academie-app", "--require-2fa")
    browser = Browser(p)
    verifier = "v" * 43
    rp = p.rp(strict_id, strict_secret)
    uri, state = rp.create_authorization_url(p.meta["authorization_endpoint"], code_verifier=verifier)
    back = browser.until(uri, CB)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)
    assert query["error"] == ["access_denied"] and query["state"] == [state], back
    # prompt=none answers interaction_required rather than asking.
    uri, _ = rp.create_authorization_url(p.meta["authorization_endpoint"], code_verifier=verifier, prompt="none")
    back = browser.until(uri, CB)
    assert "error=access_denied" in back or "error=interaction_required" in back, back
    browser.enrol_totp()
    _used_steps[browser.totp_secret] = browser.enrolled_at
    # A new browser: password, then the code, then back to the application.
    fresh = Browser(p)
    fresh.totp_secret = browser.totp_secret
    _, token, _ = code_flow(p, fresh, rp=p.rp(strict_id, strict_secret))
    claims = id_claims(p, token, client_id=strict_id)
    assert claims["acr"] == "urn:ardoise:acr:2fa"
    assert "otp" in claims["amr"] and "mfa" in claims["amr"]
    _, token, _ = code_flow(p, fresh)
    assert id_claims(p, token)["acr"] == "urn:ardoise:acr:2fa"


def hidden_fields(page):
    return {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page)}


def test_consent_page_with_csrf_for_an_application_outside_the_academie(provider):
    p = provider
    ext_id, ext_secret = p.register("Application externe", "--scopes", "email")
    browser = Browser(p)
    rp = p.rp(ext_id, ext_secret, scope="openid email academie")
    uri, state = rp.create_authorization_url(p.meta["authorization_endpoint"], code_verifier="c" * 43)
    page = browser.until(uri, CB)
    assert page.status_code == 200 and "Application externe" in page.text and "Autoriser" in page.text
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    fields = hidden_fields(page.text)
    forged = dict(fields, csrf="0" * 64, decision="accepter")
    assert browser.post("/oidc/autoriser", forged).status_code == 403
    ok = browser.post("/oidc/autoriser", dict(fields, decision="accepter"))
    assert ok.status_code == 303 and ok.headers["Location"].startswith(CB + "?code="), ok.headers
    token = rp.fetch_token(p.meta["token_endpoint"], authorization_response=ok.headers["Location"],
                           code_verifier="c" * 43)
    assert token["scope"] == "openid email", "academie was not allowed to this client"
    assert "uai" not in id_claims(p, token, client_id=ext_id)
    # Consent remembered: the next request goes straight back.
    back = browser.until(rp.create_authorization_url(p.meta["authorization_endpoint"], code_verifier="c" * 43)[0], CB)
    assert isinstance(back, str) and "code=" in back
    # Refused: access_denied back to the client.
    page = browser.until(rp.create_authorization_url(p.meta["authorization_endpoint"], code_verifier="c" * 43,
                                                      prompt="consent")[0], CB)
    fields = hidden_fields(page.text)
    no = browser.post("/oidc/autoriser", dict(fields, decision="refuser"))
    assert "error=access_denied" in no.headers["Location"]


def authorize_url(p, client_id, redirect_uri=CB, **extra):
    params = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code", "scope": "openid email",
              "state": "etat", "code_challenge": create_s256_code_challenge("v" * 43), "code_challenge_method": "S256"}
    params.update(extra)
    return p.meta["authorization_endpoint"] + "?" + urllib.parse.urlencode({k: v for k, v in params.items()
                                                                            if v is not None})


def code_of(browser, url):
    back = browser.until(url, CB)
    assert isinstance(back, str), back.text
    return urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)


def exchange(p, code, client=None, verifier="v" * 43, redirect_uri=CB):
    client_id, secret = client or (p.ent_id, p.ent_secret)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        form["code_verifier"] = verifier
    return requests.post(p.meta["token_endpoint"], data=form, auth=(client_id, secret), timeout=10)


def test_bad_redirect_uris_are_pages_never_redirects(provider):
    p = provider
    browser = Browser(p)
    browser.login()
    for uri in [CB + "/", CB[:-1] + "B", CB + "?x=1", "http://127.0.0.1:9/cb#f", "https://evil.example/cb",
                "http://127.0.0.1:90/cb", None]:
        r = browser.get(authorize_url(p, p.ent_id, redirect_uri=uri))
        assert r.status_code == 400 and "Location" not in r.headers, uri
        assert "adresse de retour" in r.text
    r = browser.get(authorize_url(p, "client-inconnu"))
    assert r.status_code == 400 and "Location" not in r.headers
    # Once the URI is proven, problems go back to the client.
    r = browser.get(authorize_url(p, p.ent_id, code_challenge_method="plain"))
    assert r.headers["Location"].startswith(CB + "?error=invalid_request")
    r = browser.get(authorize_url(p, p.ent_id, response_type="token"))
    assert "error=unsupported_response_type" in r.headers["Location"]
    # Logout never sends anywhere unregistered.
    r = browser.get(f"/oidc/logout?client_id={p.ent_id}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F")
    assert r.status_code == 400 and "Location" not in r.headers
    r = browser.get("/cas/login?service=" + urllib.parse.quote("https://evil.example/ent/"))
    assert r.status_code == 400 and "Location" not in r.headers


def test_codes_pkce_secrets_and_refresh_tokens_refuse_bad_input(provider):
    p = provider
    browser = Browser(p)
    browser.login()
    other = p.register("Autre", "--academie-app")
    public_id, _ = p.register("Application mobile", "--public", "--academie-app")
    err = lambda r: (r.status_code, r.json()["error"])  # noqa: E731

    # Wrong secret, and no secret at all.
    code = code_of(browser, authorize_url(p, p.ent_id))["code"][0]
    assert err(exchange(p, code, client=(p.ent_id, "faux"))) == (401, "invalid_client")
    # A code presented by another client, then without PKCE, then with a wrong verifier: each refused,
    # and a code once spent stays spent.
    assert err(exchange(p, code, client=other)) == (400, "invalid_grant")
    assert err(exchange(p, code, verifier=None)) == (400, "invalid_grant")
    assert err(exchange(p, code)) == (400, "invalid_grant")
    code = code_of(browser, authorize_url(p, p.ent_id))["code"][0]
    assert err(exchange(p, code, verifier="w" * 43)) == (400, "invalid_grant")
    code = code_of(browser, authorize_url(p, p.ent_id))["code"][0]
    assert err(exchange(p, code, redirect_uri=CB + "/")) == (400, "invalid_grant")

    # Replay: the second use is refused and what the first gave is revoked.
    code = code_of(browser, authorize_url(p, p.ent_id))["code"][0]
    first = exchange(p, code)
    assert first.status_code == 200
    assert err(exchange(p, code)) == (400, "invalid_grant")
    tokens = first.json()
    r = requests.get(p.meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens['access_token']}"},
                     timeout=10)
    assert r.status_code == 401
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert requests.post(p.meta["token_endpoint"], data=refresh, auth=(p.ent_id, p.ent_secret),
                         timeout=10).status_code == 400

    # A PKCE downgrade: no challenge for a public client is refused at the authorization.
    r = browser.get(authorize_url(p, public_id, code_challenge=None, code_challenge_method=None))
    assert "error=invalid_request" in r.headers["Location"]
    # A confidential client without PKCE in the request cannot add a verifier later.
    code = code_of(browser, authorize_url(p, p.ent_id, code_challenge=None, code_challenge_method=None))["code"][0]
    assert err(exchange(p, code)) == (400, "invalid_grant")
    # A public client: PKCE, client_id in the body, no secret.
    code = code_of(browser, authorize_url(p, public_id))["code"][0]
    r = requests.post(p.meta["token_endpoint"], data={"grant_type": "authorization_code", "code": code,
                                                      "redirect_uri": CB, "code_verifier": "v" * 43,
                                                      "client_id": public_id}, timeout=10)
    assert r.status_code == 200, r.text

    # An expired code.
    code = code_of(browser, authorize_url(p, p.ent_id))["code"][0]
    sql(p.server, "UPDATE sso_grants SET expires_at = 0 WHERE kind = 'code'")
    assert err(exchange(p, code)) == (400, "invalid_grant")

    # A rotated refresh token presented again revokes the family.
    code = code_of(browser, authorize_url(p, p.ent_id))["code"][0]
    tokens = exchange(p, code).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    second = requests.post(p.meta["token_endpoint"], data=refresh, auth=(p.ent_id, p.ent_secret), timeout=10)
    assert second.status_code == 200
    again = requests.post(p.meta["token_endpoint"], data=refresh, auth=(p.ent_id, p.ent_secret), timeout=10)
    assert err(again) == (400, "invalid_grant")
    newest = {"grant_type": "refresh_token", "refresh_token": second.json()["refresh_token"]}
    assert requests.post(p.meta["token_endpoint"], data=newest, auth=(p.ent_id, p.ent_secret),
                         timeout=10).status_code == 400
    # client_secret_post works as well as basic; both at once is refused.
    code = code_of(browser, authorize_url(p, p.ent_id))["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CB, "code_verifier": "v" * 43,
            "client_id": p.ent_id, "client_secret": p.ent_secret}
    assert requests.post(p.meta["token_endpoint"], data=form, auth=(p.ent_id, p.ent_secret),
                         timeout=10).status_code == 401
    assert requests.post(p.meta["token_endpoint"], data=form, timeout=10).status_code == 200


def test_logout_ends_the_session_and_alg_none_is_never_accepted(provider):
    p = provider
    browser = Browser(p)
    _, token, _ = code_flow(p, browser)
    # A hint with alg none (same claims, no signature) or HS256: not ours, so the visitor is asked.
    payload = token["id_token"].split(".")[1]
    for alg in ["none", "HS256"]:
        head = base64.urlsafe_b64encode(json.dumps({"alg": alg, "typ": "JWT"}).encode()).decode().rstrip("=")
        forged = f"{head}.{payload}."
        r = browser.get("/oidc/logout?" + urllib.parse.urlencode({"id_token_hint": forged,
                                                                  "post_logout_redirect_uri": CB}))
        assert "Location" not in r.headers, alg
        assert browser.get("/accueil").status_code == 200, "still signed in"
    # With the real hint: back to the registered URI with the state, the webmail session ended.
    r = browser.get("/oidc/logout?" + urllib.parse.urlencode({"id_token_hint": token["id_token"],
                                                              "post_logout_redirect_uri": CB, "state": "s1"}))
    assert r.status_code == 303 and r.headers["Location"] == CB + "?state=s1"
    assert signed_out(browser)
    # Logging out of the webmail ends single sign-on: the next request goes through the login.
    code_flow(p, browser)
    page = browser.get("/accueil").text
    assert browser.post("/deconnexion", {"csrf": browser.csrf(page)}).status_code == 303
    r = browser.get(authorize_url(p, p.ent_id, prompt="none"))
    assert "error=login_required" in r.headers["Location"]


def test_cas_login_and_p3_service_validate_with_attributes(provider):
    p = provider
    p.server.admin("cas", "service", "add", CAS_PREFIX, "ENT (CAS)")
    assert CAS_PREFIX in p.server.admin("cas", "service", "list")
    service = CAS_PREFIX + "accueil?x=1"
    browser = Browser(p)
    back = browser.until("/cas/login?" + urllib.parse.urlencode({"service": service}), CAS_PREFIX)
    ticket = urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)["ticket"][0]
    assert ticket.startswith("ST-")

    def validate(path, service, ticket):
        r = requests.get(f"{p.base}{path}", params={"service": service, "ticket": ticket}, timeout=10)
        assert r.status_code == 200
        return ET.fromstring(r.text)

    doc = validate("/cas/p3/serviceValidate", service, ticket)
    assert doc.find("cas:authenticationSuccess/cas:user", CAS_NS).text == CLAIRE
    attrs = {e.tag.split("}")[1]: e.text for e in doc.find("cas:authenticationSuccess/cas:attributes", CAS_NS)}
    assert attrs["mail"] == CLAIRE and attrs["displayName"] == "Claire Martin"
    assert attrs["uai"] == "0541234A" and attrs["givenName"] == "Claire" and attrs["sn"] == "Martin"
    # Replayed, forged, or presented for another service: refused.
    failure = lambda d: d.find("cas:authenticationFailure", CAS_NS).get("code")  # noqa: E731
    assert failure(validate("/cas/p3/serviceValidate", service, ticket)) == "INVALID_TICKET"
    assert failure(validate("/cas/serviceValidate", service, "ST-" + "A" * 43)) == "INVALID_TICKET"
    ticket = urllib.parse.parse_qs(urllib.parse.urlsplit(
        browser.until("/cas/login?" + urllib.parse.urlencode({"service": service}), CAS_PREFIX)).query)["ticket"][0]
    assert failure(validate("/cas/serviceValidate", CAS_PREFIX + "autre", ticket)) == "INVALID_SERVICE"
    assert failure(validate("/cas/serviceValidate", service, ticket)) == "INVALID_TICKET", "spent by the attempt"
    # CAS 2.0 validation: the user without attributes.
    ticket = urllib.parse.parse_qs(urllib.parse.urlsplit(
        browser.until("/cas/login?" + urllib.parse.urlencode({"service": service}), CAS_PREFIX)).query)["ticket"][0]
    doc = validate("/cas/serviceValidate", service, ticket)
    assert doc.find("cas:authenticationSuccess/cas:user", CAS_NS).text == CLAIRE
    assert doc.find("cas:authenticationSuccess/cas:attributes", CAS_NS) is None
    # gateway without a session: back to the service without a ticket; logout to a registered service.
    r = browser.get("/cas/logout?" + urllib.parse.urlencode({"service": CAS_PREFIX}))
    assert r.status_code == 303 and r.headers["Location"] == CAS_PREFIX
    r = browser.get("/cas/login?" + urllib.parse.urlencode({"service": service, "gateway": "true"}))
    assert r.headers["Location"] == service
