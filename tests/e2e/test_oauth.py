"""OAuth for mail clients (issue 27, item 4), on the real binary.

A Thunderbird-style public client (PKCE, no secret, the `mail` scope) gets its access token by
the code flow (authlib's OAuth2Session, the user's browser a `requests` session posting the real
login form, as in test_sso.py); then Python's imaplib signs in with AUTHENTICATE OAUTHBEARER and
XOAUTH2, smtplib submits with AUTH XOAUTH2 and OAUTHBEARER, sievelib with OAUTHBEARER, and DAV
takes `Authorization: Bearer`. Refused: a garbage token (with the RFC 7628 JSON error challenge),
an expired one, one without the `mail` scope, one naming another user, and one of a suspended
account."""

import imaplib
import json
import re
import sqlite3
import smtplib
import ssl
import subprocess
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from conftest import DOMAIN, IN_CI, STORE, require_tool

try:
    import requests
    import sievelib.managesieve
    from authlib.integrations.requests_client import OAuth2Session

    import test_sso as sso_e2e
except ImportError as e:  # pragma: no cover
    if IN_CI:
        raise
    pytest.skip(f"authlib/requests/sievelib not installed: {e}", allow_module_level=True)

CLAIRE = sso_e2e.CLAIRE
SCOPE = "openid email mail"


def tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class MailClient:
    """The provider (test_sso's: Claire, a registered ENT) plus a public client allowed `mail`."""

    def __init__(self, server, tmp_path):
        self.p = sso_e2e.Provider(server, tmp_path)
        out = server.admin("oidc", "client", "add", "Thunderbird", "--redirect-uri", sso_e2e.CB, "--public",
                           "--academie-app", "--scopes", "email", "mail")
        self.client_id = sso_e2e.re.search(r"client_id: (\S+)", out).group(1)
        assert "mail" in self.p.meta["scopes_supported"]

    def rp(self):
        return OAuth2Session(self.client_id, None, scope=SCOPE, redirect_uri=sso_e2e.CB,
                             code_challenge_method="S256", token_endpoint_auth_method="none")

    def token(self, browser=None):
        _, token, _ = sso_e2e.code_flow(self.p, browser or sso_e2e.Browser(self.p), rp=self.rp())
        assert "mail" in token["scope"].split()
        return token["access_token"]


@pytest.fixture
def mail(server, tmp_path):
    return MailClient(server, tmp_path)


def oauthbearer(user, token):
    return f"n,a={user},\x01host=127.0.0.1\x01auth=Bearer {token}\x01\x01"


def xoauth2(user, token):
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def journal(server):
    """Claire's connection journal: (protocol, result, client) rows, from the server's own database."""
    statement = ("SELECT protocol, result, client FROM login_journal WHERE login = '" + CLAIRE + "' ORDER BY id")
    if STORE == "sqlite":
        with sqlite3.connect(server.data / "ardoise.db", timeout=30) as db:
            rows = db.execute(statement).fetchall()
        db.close()
        return rows
    out = subprocess.run([require_tool("psql"), server.store_url, "-qAtF", "\t", "-c", statement],
                         capture_output=True, timeout=60, text=True)
    assert out.returncode == 0, out.stderr
    return [tuple(line.split("\t")) for line in out.stdout.splitlines()]


class Sasl:
    """imaplib's and smtplib's authobject: the response first, then 0x01 to an error challenge,
    which it keeps (decoded) for the test to read."""

    def __init__(self, response):
        self.response = response
        self.challenges = []

    def __call__(self, challenge=None):
        if challenge:
            self.challenges.append(challenge)
            return "\x01"
        return self.response


def imap(server):
    return imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=tls(), timeout=30)


def imap_refused(server, mechanism, response):
    sasl = Sasl(response)
    conn = imap(server)
    try:
        with pytest.raises(imaplib.IMAP4.error) as refused:
            conn.authenticate(mechanism, sasl)
    finally:
        conn.shutdown()
    return sasl, str(refused.value)


def error_json(sasl):
    assert len(sasl.challenges) == 1, sasl.challenges
    return json.loads(sasl.challenges[0])


def test_imap_oauthbearer_and_xoauth2_with_a_token_of_the_code_flow(mail):
    server = mail.p.server
    token = mail.token()
    conn = imap(server)
    caps = conn.capabilities
    assert "AUTH=OAUTHBEARER" in caps and "AUTH=XOAUTH2" in caps, caps
    typ, _ = conn.authenticate("OAUTHBEARER", Sasl(oauthbearer(CLAIRE, token)))
    assert typ == "OK"
    assert conn.select("INBOX")[0] == "OK"
    conn.logout()
    conn = imap(server)
    assert conn.authenticate("XOAUTH2", Sasl(xoauth2(CLAIRE, token)))[0] == "OK"
    assert conn.select("INBOX")[0] == "OK"
    conn.logout()
    # Without naming the user (a= is optional in RFC 7628): the token's own account.
    conn = imap(server)
    assert conn.authenticate("OAUTHBEARER", Sasl(f"n,,\x01auth=Bearer {token}\x01\x01"))[0] == "OK"
    conn.logout()


def test_smtp_submission_with_xoauth2_and_oauthbearer(mail):
    server = mail.p.server
    token = mail.token()
    with smtplib.SMTP_SSL("127.0.0.1", server.submissions_port, context=tls(), timeout=30) as s:
        s.ehlo("client.test")
        mechanisms = s.esmtp_features["auth"].upper().split()
        assert "OAUTHBEARER" in mechanisms and "XOAUTH2" in mechanisms, mechanisms
        code, _ = s.auth("XOAUTH2", Sasl(xoauth2(CLAIRE, token)))
        assert code == 235
        s.sendmail(CLAIRE, [CLAIRE], f"From: {CLAIRE}\r\nTo: {CLAIRE}\r\nSubject: jeton OAuth\r\n\r\nEnvoye avec XOAUTH2.\r\n")
    with smtplib.SMTP_SSL("127.0.0.1", server.submissions_port, context=tls(), timeout=30) as s:
        s.ehlo("client.test")
        assert s.auth("OAUTHBEARER", Sasl(oauthbearer(CLAIRE, token)))[0] == 235
    deadline = time.time() + 20
    while time.time() < deadline:
        if any("jeton OAuth" in (m.get("subject") or "") for m in server.messages(CLAIRE)):
            break
        time.sleep(0.2)
    else:
        raise AssertionError(server.messages(CLAIRE))


def test_autoconfig_advertises_oauth2_whose_endpoints_give_a_token_on_any_loopback_port(mail):
    """What Thunderbird reads (config-v1.1.xml) is enough to sign in with OAuth: the `<oAuth2>` endpoints and
    scope, a redirect to the loopback on a port other than the registered one (RFC 8252 section 7.3), then
    IMAP and SMTP on the servers the same file lists, with the method it lists."""
    p = mail.p
    server = p.server
    r = requests.get(f"{p.base}/.well-known/autoconfig/mail/config-v1.1.xml",
                     params={"emailaddress": CLAIRE}, timeout=20)
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    provider = root.find("emailProvider")
    servers = provider.findall("incomingServer") + provider.findall("outgoingServer")
    assert servers
    for s in servers:
        # The password stays first (every client can use it); OAuth2 is offered beside it.
        assert [a.text for a in s.findall("authentication")] == ["password-cleartext", "OAuth2"]
    oauth = root.find("oAuth2")
    assert oauth is not None, r.text
    assert oauth.findtext("issuer") == "127.0.0.1"
    assert oauth.findtext("authURL") == p.meta["authorization_endpoint"]
    assert oauth.findtext("tokenURL") == p.meta["token_endpoint"]
    scope = oauth.findtext("scope")
    assert set(scope.split()) == {"openid", "mail"}, scope

    # The client was registered with http://127.0.0.1:9/cb; it listens elsewhere today.
    port = sso_e2e.free_port()
    callback = f"http://127.0.0.1:{port}/cb"
    rp = OAuth2Session(mail.client_id, None, scope=scope, redirect_uri=callback, code_challenge_method="S256",
                       token_endpoint_auth_method="none")
    verifier = "w" * 43
    uri, state = rp.create_authorization_url(oauth.findtext("authURL"), code_verifier=verifier)
    back = sso_e2e.Browser(p).until(uri, callback)
    assert isinstance(back, str), back.text
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)["state"] == [state]
    token = rp.fetch_token(oauth.findtext("tokenURL"), authorization_response=back, code_verifier=verifier)
    access = token["access_token"]

    incoming = [s for s in provider.findall("incomingServer") if s.findtext("socketType") == "SSL"][0]
    # The file names the configured host (`mail_host`, not set here): the test reaches it on the loopback.
    conn = imaplib.IMAP4_SSL("127.0.0.1", int(incoming.findtext("port")), ssl_context=tls(), timeout=30)
    user = incoming.findtext("username").replace("%EMAILADDRESS%", CLAIRE)
    assert conn.authenticate("XOAUTH2", Sasl(xoauth2(user, access)))[0] == "OK"
    conn.logout()
    outgoing = [s for s in provider.findall("outgoingServer") if s.findtext("socketType") == "SSL"][0]
    with smtplib.SMTP_SSL("127.0.0.1", int(outgoing.findtext("port")), context=tls(), timeout=30) as smtp:
        smtp.ehlo("client.test")
        assert smtp.auth("OAUTHBEARER", Sasl(oauthbearer(user, access)))[0] == 235

    # Another path, another host or a non-loopback URI is still refused (a page, never a redirect).
    signed_in = sso_e2e.Browser(p)
    signed_in.login()
    for wrong in (f"http://127.0.0.1:{port}/ailleurs", f"http://localhost:{port}/cb", "https://evil.example/cb"):
        bad = OAuth2Session(mail.client_id, None, scope=scope, redirect_uri=wrong, code_challenge_method="S256")
        uri, _ = bad.create_authorization_url(oauth.findtext("authURL"), code_verifier=verifier)
        page = signed_in.get(uri)
        assert page.status_code == 400 and "Location" not in page.headers, (wrong, page.status_code)
        assert re.search("adresse de retour", page.text), page.text[:300]


def test_managesieve_and_dav_take_the_token(mail):
    server = mail.p.server
    server.stop()
    server.config.write_text(server.config.read_text() + '\n[managesieve]\nlisten = ["127.0.0.1:0"]\n')
    server.start()
    token = mail.token()
    port = int(json.loads((server.data / "listeners.json").read_text())["managesieve"].rsplit(":", 1)[1])
    sieve = sievelib.managesieve.Client("127.0.0.1", port)
    # sievelib's ssllib is the ssl module: the context is made before patching it.
    ctx = tls()
    original = sievelib.managesieve.ssllib.create_default_context
    sievelib.managesieve.ssllib.create_default_context = lambda: ctx
    try:
        assert sieve.connect(CLAIRE, token, starttls=True, authmech="OAUTHBEARER"), sieve.errmsg
    finally:
        sievelib.managesieve.ssllib.create_default_context = original
    assert "OAUTHBEARER" in sieve.get_sasl_mechanisms() or sieve.authenticated
    assert sieve.putscript("oauth", 'require ["fileinto"];\nif header :contains "subject" "x" { fileinto "INBOX"; }\n')
    sieve.logout()
    url = f"{mail.p.base}/dav/calendars/{CLAIRE}/"
    r = requests.request("PROPFIND", url, headers={"Authorization": f"Bearer {token}", "Depth": "1"}, timeout=20)
    assert r.status_code == 207, (r.status_code, r.text[:300])
    r = requests.request("PROPFIND", url, headers={"Authorization": "Bearer nimporte-quoi", "Depth": "1"},
                         timeout=20)
    assert r.status_code == 401
    challenges = r.headers.get("WWW-Authenticate", "")
    assert 'error="invalid_token"' in challenges, r.headers


def test_a_garbage_token_gets_the_json_error_challenge_then_a_failure_and_is_journaled(mail):
    p = mail.p
    server = p.server
    token = mail.token()
    # IMAP: NO after the JSON error challenge, which names the discovery document.
    sasl, text = imap_refused(server, "OAUTHBEARER", oauthbearer(CLAIRE, "nimporte-quoi"))
    error = error_json(sasl)
    assert error["status"] == "invalid_token" and "mail" in error["scope"].split(), error
    assert error["openid-configuration"] == f"{p.base}/.well-known/openid-configuration", error
    assert "AUTHENTICATIONFAILED" in text, text
    sasl, _ = imap_refused(server, "XOAUTH2", xoauth2(CLAIRE, "nimporte-quoi"))
    assert error_json(sasl)["status"] == "401"
    # Malformed (no GS2 header): BAD, before any token is looked at.
    _, text = imap_refused(server, "OAUTHBEARER", f"auth=Bearer {token}\x01\x01")
    assert "Malformed" in text, text
    # SMTP: 334 with the error, then 535.
    with smtplib.SMTP_SSL("127.0.0.1", server.submissions_port, context=tls(), timeout=30) as s:
        s.ehlo("client.test")
        sasl = Sasl(xoauth2(CLAIRE, "nimporte-quoi"))
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            s.auth("XOAUTH2", sasl)
        assert refused.value.smtp_code == 535
        assert json.loads(sasl.challenges[0])["status"] == "401"
    # Journaled as failures (which the slow-down counts), never with a token.
    rows = journal(server)
    assert rows.count(("imap", "bad", "OAuth")) == 2 and ("smtp", "bad", "OAuth") in rows, rows
    log = (server.root / "server.log").read_text(errors="replace")
    assert "nimporte-quoi" not in log and token not in log


def test_expired_scopeless_foreign_and_suspended_tokens_are_refused(mail):
    p = mail.p
    server = p.server
    browser = sso_e2e.Browser(p)
    token = mail.token(browser)
    # A good token naming another user.
    server.create("paul.durand", password=sso_e2e.PASSWORD)
    imap_refused(server, "OAUTHBEARER", oauthbearer(f"paul.durand@{DOMAIN}", token))
    # A token of the ENT (no `mail` scope) opens nothing.
    _, ent_token, _ = sso_e2e.code_flow(p, browser)
    imap_refused(server, "XOAUTH2", xoauth2(CLAIRE, ent_token["access_token"]))
    # Expired: the token's time is up (set in the store, no waiting).
    sso_e2e.sql(server, "UPDATE sso_grants SET expires_at = 1 WHERE kind = 'access'")
    imap_refused(server, "OAUTHBEARER", oauthbearer(CLAIRE, token))
    # Suspended: a fresh token stops working at once, and the open session ends.
    fresh = mail.token(browser)
    conn = imap(server)
    assert conn.authenticate("OAUTHBEARER", Sasl(oauthbearer(CLAIRE, fresh)))[0] == "OK"
    server.admin("account", "suspend", CLAIRE)
    imap_refused(server, "OAUTHBEARER", oauthbearer(CLAIRE, fresh))
    with pytest.raises((imaplib.IMAP4.abort, imaplib.IMAP4.error, OSError)):
        for _ in range(50):
            conn.noop()
            time.sleep(0.1)
    # (The suspension revoked the token: refused as unknown, not as a suspended account's.)
    rows = journal(server)
    assert rows.count(("imap", "bad", "OAuth")) == 4 and ("imap", "ok", "OAuth") in rows, rows
