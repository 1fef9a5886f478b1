"""Behind a reverse proxy (issue 24, item 5): `[web] trusted_proxies`.

The server is reached from 127.0.0.1, which plays the TLS proxy: every
request names its client in `X-Forwarded-For` (or `Forwarded`) and its
scheme in `X-Forwarded-Proto`, as nginx or HAProxy would. Believed from the
proxy, those headers make the login slow-down count each client on its own:
the owner is not locked out by someone else's guesses, and a spray of
accounts from one client is still slowed. The control server, which does not
trust 127.0.0.1, shows what happened before: everyone is the proxy. Forged
headers from an address that is not a trusted proxy change nothing."""

import http.client
import re
import urllib.parse

from conftest import DOMAIN

PASSWORD = "Ardoise-Demo-2026"


class Client:
    """A browser behind the proxy: its own cookies, the headers the proxy adds."""

    def __init__(self, server, forwarded_for=None, proto=None, extra=None):
        self.port = server.http_port
        self.cookies = {}
        self.headers = dict(extra or {})
        if forwarded_for:
            self.headers["X-Forwarded-For"] = forwarded_for
        if proto:
            self.headers["X-Forwarded-Proto"] = proto
        self.last_set_cookies = []

    def request(self, method, path, form=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(self.headers)
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", errors="replace")
        self.last_set_cookies = resp.headers.get_all("Set-Cookie") or []
        for value in self.last_set_cookies:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return resp, text

    def login(self, login, password):
        _, text = self.request("GET", "/connexion")
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', text).group(1)
        return self.request("POST", "/connexion", {"csrf": token, "login": login, "password": password})


def start(server, trusted):
    # [web] is the last section of the test configuration.
    server.config.write_text(server.config.read_text() + f"trusted_proxies = {trusted}\n")
    claire = server.create("claire.martin", password=PASSWORD)
    paul = server.create("paul.durand", password=PASSWORD)
    server.start()
    return claire, paul


def guesses(client, login, n):
    return [client.login(login, f"essai-{i}")[0].status for i in range(n)]


def test_behind_a_trusted_proxy_each_client_is_counted_on_its_own(make_server):
    server = make_server()
    claire, paul = start(server, '["127.0.0.1/32"]')
    attacker = Client(server, forwarded_for="203.0.113.7")
    statuses = guesses(attacker, claire, 7)
    assert statuses[-1] == 429, statuses
    resp, _ = attacker.login(claire, PASSWORD)
    assert resp.status == 429, "the attacker is slowed down, even with the right password"
    # The owner, from her own address behind the same proxy, gets in.
    owner = Client(server, forwarded_for="198.51.100.20")
    resp, _ = owner.login(claire, PASSWORD)
    assert resp.status == 303, resp.status
    # Her journal names the attacker's address, not the proxy's.
    _, page = owner.request("GET", "/securite")
    journal = page[page.index('id="journal"'):]
    assert "203.0.113.7" in journal and "198.51.100.20" in journal, journal[:2000]
    # A spray over many identifiers from one client is still slowed down...
    sprayer = Client(server, forwarded_for="192.0.2.99")
    statuses = [sprayer.login(f"inconnu{i}@{DOMAIN}", "Printemps2026!")[0].status for i in range(22)]
    assert statuses[-1] == 429, statuses
    resp, _ = sprayer.login(paul, PASSWORD)
    assert resp.status == 429, "the sprayer's address is slowed down whatever the account"
    # ...while another client of the same proxy is not.
    resp, _ = Client(server, forwarded_for="198.51.100.21").login(paul, PASSWORD)
    assert resp.status == 303


def test_without_trusting_the_proxy_everyone_is_the_proxy(make_server):
    """The control: the same guesses lock the owner out when 127.0.0.1 is not trusted."""
    server = make_server()
    claire, _ = start(server, '["10.0.0.0/8"]')
    # Forged headers from an untrusted address: each guess claims another client.
    statuses = [Client(server, forwarded_for=f"203.0.113.{i}").login(claire, f"essai-{i}")[0].status for i in range(7)]
    assert statuses[-1] == 429, statuses
    resp, _ = Client(server, forwarded_for="198.51.100.20").login(claire, PASSWORD)
    assert resp.status == 429, "not believed: the owner shares the proxy's count"


def test_https_through_the_proxy_gets_secure_cookies_and_hsts(make_server):
    server = make_server()
    claire, _ = start(server, '["127.0.0.1/32"]')
    secure = Client(server, forwarded_for="198.51.100.20", proto="https")
    resp, _ = secure.login(claire, PASSWORD)
    assert resp.status == 303
    session = [c for c in secure.last_set_cookies if "ardoise_session=" in c]
    assert session and session[0].startswith("__Host-ardoise_session=") and "; Secure" in session[0], session
    assert resp.getheader("Strict-Transport-Security") == "max-age=31536000"
    resp, _ = secure.request("GET", "/courrier")
    assert resp.status == 200, "the __Host- cookie is read back"
    # Plain HTTP through the proxy: no Secure, no HSTS.
    plain = Client(server, forwarded_for="198.51.100.20", proto="http")
    resp, _ = plain.login(claire, PASSWORD)
    assert resp.status == 303
    assert all("Secure" not in c and not c.startswith("__Host-") for c in plain.last_set_cookies), plain.last_set_cookies
    assert resp.getheader("Strict-Transport-Security") is None


def test_an_untrusted_address_cannot_claim_https(make_server):
    server = make_server()
    claire, _ = start(server, '["10.0.0.0/8"]')
    forger = Client(server, forwarded_for="198.51.100.20", proto="https",
                    extra={"Forwarded": "for=198.51.100.20;proto=https"})
    resp, _ = forger.login(claire, PASSWORD)
    assert resp.status == 303
    assert all("Secure" not in c for c in forger.last_set_cookies), forger.last_set_cookies
    assert resp.getheader("Strict-Transport-Security") is None
