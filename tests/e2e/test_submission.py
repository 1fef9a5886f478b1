"""Message submission (ports 587/465 in production, ephemeral here) with smtplib:
STARTTLS then AUTH, implicit TLS, sender checks, sending limits, DKIM on what leaves."""

import json
import smtplib
import ssl
import subprocess

import pytest

from conftest import DOMAIN, binary

PASSWORD = "Ardoise-Test-2026!"


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def mail(sender: str, to: str, subject: str, from_header: str = None) -> bytes:
    return (
        f"From: {from_header or sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@{DOMAIN}>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Bonjour,\r\n\r\nVoici le compte rendu du conseil pédagogique.\r\n"
    ).encode()


def starttls_client(server) -> smtplib.SMTP:
    s = smtplib.SMTP("127.0.0.1", server.submission_port, timeout=20)
    s.ehlo("poste.ac-test.fr")
    s.starttls(context=tls_context())
    s.ehlo("poste.ac-test.fr")
    return s


def queue(server, *args) -> str:
    out = subprocess.run(
        [binary(), "queue", "--config", str(server.config), *args], capture_output=True, timeout=60
    )
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out.stdout.decode(errors="replace")


def raw(server, address: str, uid: int) -> bytes:
    return server.admin_bytes("message", "get", address, str(uid))


@pytest.fixture
def users(make_server):
    server = make_server()
    text = server.config.read_text().replace(
        '[submission]\nlisten = ["127.0.0.1:0"]',
        '[submission]\nmax_messages_per_hour = 3\nlisten = ["127.0.0.1:0"]',
    )
    assert "max_messages_per_hour = 3" in text
    # Remote mail goes to a closed port, so it stays queued (retried in an hour).
    text += '\n[outbound]\nmx_override = ["exemple.org=127.0.0.1:9"]\nretry_first = "1h"\n'
    server.config.write_text(text)
    claire = server.create("claire.martin", password=PASSWORD)
    paul = server.create("paul.durand", password=PASSWORD)
    server.admin("account", "alias", f"cdi.jules-ferry@{DOMAIN}", claire)
    server.start()
    return server, claire, paul


def test_starttls_port_delivers_locally_and_queues_remote(users):
    server, claire, paul = users
    with starttls_client(server) as s:
        assert s.has_extn("auth") and "PLAIN" in s.esmtp_features["auth"]
        s.login(claire, PASSWORD)
        refused = s.sendmail(claire, [paul, "parent.eleve@exemple.org"], mail(claire, paul, "Conseil pedagogique"))
        assert refused == {}
    msgs = server.messages(paul)
    assert len(msgs) == 1
    stored = raw(server, paul, msgs[0]["uid"])
    assert b"DKIM-Signature: v=1; a=rsa-sha256; s=ardoise; d=" + DOMAIN.encode() in stored
    assert b"with ESMTPSA" in stored
    # The remote recipient waits in the queue (no route to exemple.org here).
    listing = queue(server, "list")
    assert claire in listing, listing
    entry = listing.split()[0]
    shown = queue(server, "show", entry)
    assert "parent.eleve@exemple.org" in shown and "pending" in shown, shown
    # No copy was filed in the sender's own folders (clients save to Sent themselves).
    assert server.messages(claire) == []
    assert "relancée" in queue(server, "retry", entry)
    assert "Entrée" in queue(server, "delete", entry)
    assert "vide" in queue(server, "list")


def test_implicit_tls_port_and_alias_sender(users):
    server, claire, paul = users
    alias = f"cdi.jules-ferry@{DOMAIN}"
    with smtplib.SMTP_SSL("127.0.0.1", server.submissions_port, context=tls_context(), timeout=20) as s:
        s.login(claire, PASSWORD)
        assert s.sendmail(alias, [paul], mail(alias, paul, "Depuis alias")) == {}
    assert len(server.messages(paul)) == 1


def test_auth_needs_tls_and_good_credentials(users):
    server, claire, _ = users
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=20) as s:
        s.ehlo("poste")
        assert not s.has_extn("auth"), "AUTH is not offered before TLS"
        code, text = s.docmd("AUTH", "PLAIN AGNsYWlyZQBwdw==")
        assert code == 538 and text.startswith(b"5.7.11"), (code, text)
        code, _ = s.docmd("MAIL", f"FROM:<{claire}>")
        assert code == 530
    with starttls_client(server) as s:
        with pytest.raises(smtplib.SMTPAuthenticationError) as err:
            s.login(claire, "mauvais-mot-de-passe")
        assert err.value.smtp_code == 535
        s.login(claire, PASSWORD)  # AUTH LOGIN or PLAIN, whichever smtplib picks
        assert s.noop()[0] == 250


def test_auth_login_mechanism(users):
    server, claire, paul = users
    with starttls_client(server) as s:
        s.user, s.password = claire, PASSWORD
        code, text = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
        assert code == 235, (code, text)
        assert s.sendmail(claire, [paul], mail(claire, paul, "Via LOGIN")) == {}


def test_forged_sender_is_553_571(users):
    server, claire, paul = users
    with starttls_client(server) as s:
        s.login(claire, PASSWORD)
        # Envelope sender of another staff member: refused at MAIL FROM.
        code, text = s.mail(paul)
        assert code == 553 and text.startswith(b"5.7.1"), (code, text)
        s.rset()
        # Own envelope but a forged From: header: refused after DATA.
        with pytest.raises(smtplib.SMTPDataError) as err:
            s.sendmail(claire, [paul], mail(claire, paul, "Usurpation", from_header=f"Direction <{paul}>"))
        assert err.value.smtp_code == 553 and err.value.smtp_error.startswith(b"5.7.1")
    assert server.messages(paul) == []


def test_sending_limit_is_450_471(users):
    server, claire, paul = users
    with starttls_client(server) as s:
        s.login(claire, PASSWORD)
        for i in range(3):
            assert s.sendmail(claire, [paul], mail(claire, paul, f"Message {i}")) == {}
        with pytest.raises(smtplib.SMTPDataError) as err:
            s.sendmail(claire, [paul], mail(claire, paul, "Message de trop"))
        assert err.value.smtp_code == 450 and err.value.smtp_error.startswith(b"4.7.1"), err.value
        assert b"3 messages" in err.value.smtp_error
    assert len(server.messages(paul)) == 3


def test_dns_and_dkim_records_are_printed(users):
    server, _, _ = users
    out = subprocess.run([binary(), "dns", "--config", str(server.config)], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    for needle in ["IN MX", "v=spf1", f"ardoise._domainkey.{DOMAIN}.", "v=DKIM1; k=rsa; p=", f"_dmarc.{DOMAIN}.",
                   f"_submission._tcp.{DOMAIN}.", f"autoconfig.{DOMAIN}."]:
        assert needle in text, (needle, text)
    out = subprocess.run([binary(), "dkim", "--config", str(server.config), "show"], capture_output=True, timeout=60)
    assert out.returncode == 0 and b"v=DKIM1" in out.stdout


def test_demo_captures_outside_mail_in_the_outbox(tmp_path):
    import json
    import time

    from conftest import IN_CI, port_free

    ports = (2525, 2143, 2993, 2587, 2465)
    if not all(port_free(p) for p in ports):
        if IN_CI:
            pytest.fail("the demo's fixed ports are taken")
        pytest.skip("demo ports taken (a demo is probably running)")
    data = tmp_path / "demo"
    log = open(tmp_path / "demo.log", "wb")
    proc = subprocess.Popen([binary(), "demo", "--data", str(data)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while not (data / "listeners.json").exists():
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()
            assert time.time() < deadline, "demo did not start"
            time.sleep(0.1)
        listeners = json.loads((data / "listeners.json").read_text())
        assert listeners["submission"] == "127.0.0.1:2587" and listeners["submissions"] == "127.0.0.1:2465"
        claire, paul, outbox = "claire.martin@ac-demo.fr", "paul.durand@ac-demo.fr", "boite-sortante@ac-demo.fr"
        with smtplib.SMTP("127.0.0.1", 2587, timeout=20) as s:
            s.starttls(context=tls_context())
            s.login(claire, "Ardoise-Demo-2026")
            assert s.sendmail(claire, ["parent.eleve@exemple.org", paul],
                              mail(claire, "parent.eleve@exemple.org", "Sortie au musee")) == {}
        assert outbox in (tmp_path / "demo.log").read_text()
        cfg = str(data / "ardoise.toml")

        def subjects(address):
            out = subprocess.run([binary(), "admin", "--config", cfg, "message", "list", address, "--json"],
                                 capture_output=True, check=True).stdout
            return [m["subject"] for m in json.loads(out)]

        assert "Sortie au musee" in subjects(outbox)
        assert "Sortie au musee" in subjects(paul)
        import imaplib

        with imaplib.IMAP4_SSL("127.0.0.1", 2993, ssl_context=tls_context(), timeout=20) as m:
            assert m.login(outbox, "Ardoise-Demo-2026")[0] == "OK"
            typ, resp = m.select("INBOX")
            assert typ == "OK" and int(resp[0]) >= 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
