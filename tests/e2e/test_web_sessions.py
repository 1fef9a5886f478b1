"""Web session lifetime (issue 25, item 7): `session_ttl` is an idle timeout
(each use moves the expiry on) and `session_max_age` an absolute lifetime.
Time is moved by shifting every time the server stored for the session back
in the database, as if that much time had passed since."""

import http.client
import re
import sqlite3
import urllib.parse

from conftest import DOMAIN

PASSWORD = "Ardoise-Demo-2026"


class Http:
    """A cookie jar and CSRF tokens by hand."""

    def __init__(self, server):
        self.port = server.http_port
        self.cookies = {}

    def request(self, method, path, form=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", errors="replace")
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return resp, text

    def login(self, login, password):
        _, text = self.request("GET", "/connexion")
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', text).group(1)
        resp, _ = self.request("POST", "/connexion", {"csrf": token, "login": login, "password": password})
        assert resp.status in (302, 303), resp.status

    def signed_in(self) -> bool:
        resp, _ = self.request("GET", "/accueil")
        return resp.status == 200


def time_passes(server, seconds: int):
    """Moves every stored session time `seconds` into the past."""
    with sqlite3.connect(server.data / "ardoise.db", timeout=30) as db:
        db.execute(
            "UPDATE web_sessions SET created_at = created_at - ?, last_seen = last_seen - ?, "
            "expires_at = expires_at - ?",
            (seconds, seconds, seconds),
        )
    db.close()


def configured(server):
    # [web] is the last section of the test configuration.
    server.config.write_text(server.config.read_text() + 'session_ttl = "1h"\nsession_max_age = "12h"\n')
    server.create("claire.martin", password=PASSWORD)
    server.start()
    return f"claire.martin@{DOMAIN}"


def test_activity_keeps_a_session_until_its_maximum_age(server):
    claire = configured(server)
    web = Http(server)
    web.login(claire, PASSWORD)
    assert web.signed_in()
    # Used every 40 minutes for 11 hours: longer than the idle timeout in
    # total, never idle that long at once.
    for step in range(16):
        time_passes(server, 40 * 60)
        assert web.signed_in(), f"signed out after {(step + 1) * 40} minutes of steady use"
    time_passes(server, 40 * 60)
    assert web.signed_in(), "signed out after 11 h 20 of steady use"
    # 12 h 10 after login, last used 50 minutes ago: over, however busy.
    time_passes(server, 50 * 60)
    assert not web.signed_in(), "a session outlived its maximum age"


def test_an_idle_session_ends(server):
    claire = configured(server)
    web = Http(server)
    web.login(claire, PASSWORD)
    assert web.signed_in()
    time_passes(server, 50 * 60)
    assert web.signed_in()
    time_passes(server, 61 * 60)
    assert not web.signed_in(), "idle for 61 minutes, still signed in"
