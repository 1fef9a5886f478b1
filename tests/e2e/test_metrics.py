"""Observability (issue 24, item 7): Prometheus `/metrics` on a listener of its own, behind a bearer
token, read with the Prometheus project's own text-format parser (prometheus_client); JSON logs, one
object per line, that never carry a password.

The counters are compared before and after real clients act (smtplib, imaplib, an HTTP GET), so each
assertion is about what those actions did, not about what the server happened to have counted."""

import imaplib
import json
import secrets
import smtplib
import ssl
import subprocess
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from conftest import DOMAIN, binary

PASSWORD = "Tableau-Noir-Craie-42"


def tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def start_with_metrics(server, token: str):
    token_file = server.root / "metrics.token"
    token_file.write_text(token + "\n")
    text = server.config.read_text().replace('level = "info"', 'level = "info"\njson = true', 1)
    text += f'\n[metrics]\nlisten = ["127.0.0.1:0"]\ntoken_file = "{token_file}"\n'
    server.config.write_text(text)
    server.start()
    addrs = json.loads((server.data / "listeners.json").read_text())
    return int(addrs["metrics"].rsplit(":", 1)[1])


def fetch(port: int, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain")
        return resp.read().decode()


def scrape(port: int, token: str) -> dict:
    """Every sample as {(name, ((label, value), ...)): value}."""
    samples = {}
    for family in text_string_to_metric_families(fetch(port, token)):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_the_token(server):
    token = secrets.token_hex(16)
    claire = server.create("claire.martin", password=PASSWORD)
    port = start_with_metrics(server, token)
    body = b"Subject: Conseil de classe\r\n\r\nJeudi 17 h.\r\n"
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        smtp.sendmail("parent@example.org", [claire, claire], body)
    samples = scrape(port, token)
    # One message, one file (with our Received: line on top).
    assert value(samples, "ardoise_blob_files") == 1
    assert value(samples, "ardoise_blob_bytes") > len(body)
    for token in (None, "faux-jeton-0123456789"):
        try:
            fetch(port, token)
            raise AssertionError("a scrape without the right token was answered")
        except urllib.error.HTTPError as e:
            assert e.code == 401
            assert e.headers["WWW-Authenticate"].startswith("Bearer")
    # The public web port does not serve them at all.
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}/metrics", timeout=10)
        raise AssertionError("/metrics answered on the web port")
    except urllib.error.HTTPError as e:
        assert e.code == 404


def test_metrics_count_what_clients_did(server):
    token = secrets.token_hex(16)
    claire = server.create("claire.martin", password=PASSWORD)
    port = start_with_metrics(server, token)
    before = scrape(port, token)

    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        smtp.ehlo("parent.example.org")
        smtp.sendmail("parent@example.org", [claire], b"Subject: Sortie\r\n\r\nBonjour\r\n")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        smtp.ehlo("parent.example.org")
        smtp.mail("parent@example.org")
        code, _ = smtp.rcpt(f"personne@{DOMAIN}")
        assert code == 550
    imap = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=tls())
    try:
        imap.login(claire, "pas-le-bon-mot-de-passe")
        raise AssertionError("a wrong password was accepted")
    except imaplib.IMAP4.error:
        pass
    imap.logout()
    imap = imaplib.IMAP4("127.0.0.1", server.imap_port)
    imap.starttls(ssl_context=tls())
    imap.login(claire, PASSWORD)
    imap.select("INBOX")
    typ, data = imap.fetch("1", "(FLAGS)")
    assert typ == "OK"
    imap.logout()
    with urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}/connexion", timeout=10) as resp:
        assert resp.status == 200

    # Connections are counted until their task ends, just after the client saw BYE.
    deadline = time.time() + 10
    while True:
        after = scrape(port, token)
        if value(after, "ardoise_connections", protocol="imap") == 0 or time.time() > deadline:
            break
        time.sleep(0.1)

    def grew(name, by, **labels):
        delta = value(after, name, **labels) - value(before, name, **labels)
        assert delta == by, f"{name}{labels}: {value(before, name, **labels)} -> {value(after, name, **labels)}"

    grew("ardoise_logins_total", 1, protocol="imap", result="ok")
    grew("ardoise_logins_total", 1, protocol="imap", result="bad")
    grew("ardoise_login_seconds_count", 2, protocol="imap")
    grew("ardoise_smtp_messages_total", 1, role="mx")
    grew("ardoise_smtp_refusals_total", 1, role="mx", reason="unknown_user")
    grew("ardoise_messages_filed_total", 1, kind="delivery")
    grew("ardoise_connections_total", 2, protocol="imap")  # implicit TLS and STARTTLS alike
    grew("ardoise_connections_total", 2, protocol="smtp")
    assert value(after, "ardoise_connections", protocol="imap") == 0
    assert value(after, "ardoise_connections", protocol="smtp") == 0
    grew("ardoise_imap_command_seconds_count", 1, command="SELECT")
    grew("ardoise_imap_command_seconds_count", 1, command="FETCH")
    grew("ardoise_http_request_seconds_count", 1, route="/connexion", method="GET", status="2xx")

    # A histogram's buckets are cumulative and end with +Inf = its count.
    buckets = sorted(
        (float(dict(labels)["le"]), v)
        for (name, labels), v in after.items()
        if name == "ardoise_imap_command_seconds_bucket" and dict(labels).get("command") == "SELECT"
    )
    assert buckets and buckets[-1][0] == float("inf")
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
    assert buckets[-1][1] == value(after, "ardoise_imap_command_seconds_count", command="SELECT")

    # Questions asked at scrape time: nothing waits to go out; the files' totals are read at most once a
    # minute, so they still say what the first scrape saw (an empty server).
    assert value(after, "ardoise_queue_messages") == 0
    assert value(after, "ardoise_queue_oldest_age_seconds") == 0
    assert value(before, "ardoise_blob_files") == 0 and value(after, "ardoise_blob_files") == 0
    assert value(after, "process_start_time_seconds") > 1.7e9

    # JSON logs: every line the server wrote is one object; the login is there; no password anywhere.
    server.stop()
    lines = (server.root / "server.log").read_text().splitlines()
    events = [json.loads(line) for line in lines if line.strip()]
    logins = [e for e in events if e.get("message") == "login attempt"]
    assert {e.get("result") for e in logins} >= {"ok", "bad"}, logins
    text = "\n".join(lines)
    assert PASSWORD not in text and "pas-le-bon-mot-de-passe" not in text
    assert token not in text


def test_a_public_metrics_listener_needs_a_token(server):
    server.config.write_text(server.config.read_text() + '\n[metrics]\nlisten = ["0.0.0.0:0"]\n')
    checked = subprocess.run([binary(), "config", "check", "--config", str(server.config)], capture_output=True)
    assert checked.returncode != 0
    assert "metrics.token_file" in (checked.stdout + checked.stderr).decode()
