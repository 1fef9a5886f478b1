"""Incoming SMTP (the MX role) against the running binary, with smtplib and swaks."""

import smtplib
import socket
import ssl
import subprocess

import pytest

from conftest import DOMAIN, require_tool


def message(subject: str, body: str = "Bonjour,\r\n\r\nCeci est un test.\r\n", to: str = "x") -> bytes:
    return (
        f"From: Parent <parent@example.org>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@example.org>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}"
    ).encode()


def stored_body(server, address: str, uid: int) -> bytes:
    raw = server.admin_bytes("message", "get", address, str(uid))
    assert raw.startswith(b"Received: "), raw[:200]
    return raw


def test_one_recipient_is_stored_faithfully(server):
    claire = server.create("claire.martin")
    server.start()
    sent = message("Réunion parents-professeurs", "Réunion jeudi à 18 h, salle 12.\r\n")
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        s.ehlo("parents.example.org")
        assert s.has_extn("pipelining") and s.has_extn("chunking") and s.has_extn("8bitmime")
        assert s.has_extn("smtputf8") and s.has_extn("enhancedstatuscodes") and s.has_extn("starttls")
        refused = s.sendmail("parent@example.org", [claire], sent)
        assert refused == {}
    rows = server.messages(claire)
    inbox = [r for r in rows if r["mailbox"] == "INBOX"]
    assert len(inbox) == 1 and inbox[0]["uid"] == 1
    assert inbox[0]["subject"] == "Réunion parents-professeurs"
    raw = stored_body(server, claire, 1)
    # Everything after our Received: header is byte-for-byte what was sent.
    assert raw.endswith(sent), raw
    assert b"from parents.example.org" in raw.split(b"\r\n", 3)[0] + raw.split(b"\r\n", 3)[1]


def test_two_hundred_recipients_share_one_blob(server):
    addresses = [server.create(f"prof{i:03}") for i in range(200)]
    server.start()
    before = server.blob_stats()
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        assert s.sendmail("drh@rectorat.example.org", addresses, message("Note de service n°12")) == {}
    after = server.blob_stats()
    assert after["files"] == before["files"] + 1
    assert after["rows"] == before["rows"] + 1
    for a in (addresses[0], addresses[99], addresses[199]):
        rows = server.messages(a)
        assert [r["subject"] for r in rows] == ["Note de service n°12"]
    blobs = {server.messages(a)[0]["blob"] for a in addresses[:20]}
    assert len(blobs) == 1


def expect_rcpt_code(port: int, rcpt: str, code: int, enhanced: str, size: int | None = None):
    with smtplib.SMTP("127.0.0.1", port) as s:
        s.ehlo("client.example.org")
        opts = [f"SIZE={size}"] if size else []
        s.mail("parent@example.org", opts)
        got, text = s.rcpt(rcpt)
        assert got == code, (got, text)
        assert text.decode().startswith(enhanced), text


def test_unknown_local_recipient_is_550_511(server):
    server.start()
    expect_rcpt_code(server.smtp_port, f"personne@{DOMAIN}", 550, "5.1.1")


def test_relaying_is_554_571(server):
    server.start()
    expect_rcpt_code(server.smtp_port, "quelquun@gmail.example", 554, "5.7.1")


def test_over_quota_is_452_422_until_raised(server):
    paul = server.create("paul.durand", quota="20K")
    server.start()
    big = message("Pièce jointe", "x" * 15000 + "\r\n")
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        assert s.sendmail("parent@example.org", [paul], big) == {}
    # 15 KB used of 20 KB: a second 15 KB message (announced with SIZE) does not fit.
    expect_rcpt_code(server.smtp_port, paul, 452, "4.2.2", size=len(big))
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
            s.sendmail("parent@example.org", [paul], big)
    assert refused.value.recipients[paul][0] == 452
    server.admin("account", "quota", paul, "1M")
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        assert s.sendmail("parent@example.org", [paul], big) == {}
    assert len(server.messages(paul)) == 2


def test_too_large_is_552_534(make_server):
    server = make_server('max_message_size = "64K"')
    claire = server.create("claire.martin")
    server.start()
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        s.ehlo("client.example.org")
        code, text = s.mail("parent@example.org", ["SIZE=10000000"])
        assert code == 552 and text.decode().startswith("5.3.4")
    # smtplib announces SIZE itself: refused at MAIL FROM.
    with pytest.raises(smtplib.SMTPSenderRefused) as err:
        with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
            s.sendmail("parent@example.org", [claire], message("Énorme", "y" * 100_000 + "\r\n"))
    assert err.value.smtp_code == 552
    # Without SIZE the limit is enforced while reading DATA.
    with socket.create_connection(("127.0.0.1", server.smtp_port), timeout=10) as sock:
        read_replies(sock, 1)
        sock.sendall(f"EHLO x\r\nMAIL FROM:<parent@example.org>\r\nRCPT TO:<{claire}>\r\nDATA\r\n".encode())
        assert [r[:3] for r in read_replies(sock, 4)] == ["250", "250", "250", "354"]
        sock.sendall(message("Énorme") + b"y" * 100_000 + b"\r\n.\r\n")
        reply = read_replies(sock, 1)[0]
        assert reply.startswith("552 5.3.4"), reply
    assert server.messages(claire) == []


def test_starttls_with_smtplib(server):
    claire = server.create("claire.martin")
    server.start()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        s.ehlo("client.example.org")
        s.starttls(context=ctx)
        s.ehlo("client.example.org")
        assert not s.has_extn("starttls")
        assert s.sendmail("parent@example.org", [claire], message("Chiffré")) == {}
    raw = stored_body(server, claire, 1)
    assert b"ESMTPS" in raw.split(b"\r\n\r\n", 1)[0]


def read_replies(sock: socket.socket, count: int) -> list[str]:
    """Reads `count` complete SMTP replies (multi-line aware)."""
    buf = b""
    replies = []
    while len(replies) < count:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {replies}"
        buf += chunk
        while b"\r\n" in buf and len(replies) < count:
            line, buf = buf.split(b"\r\n", 1)
            if len(line) >= 4 and line[3:4] == b"-":
                continue
            replies.append(line.decode())
    return replies


def test_pipelined_transaction(server):
    claire = server.create("claire.martin")
    paul = server.create("paul.durand")
    server.start()
    with socket.create_connection(("127.0.0.1", server.smtp_port), timeout=10) as sock:
        read_replies(sock, 1)
        sock.sendall(b"EHLO client.example.org\r\n")
        read_replies(sock, 1)
        sock.sendall(
            f"MAIL FROM:<parent@example.org>\r\nRCPT TO:<{claire}>\r\nRCPT TO:<nobody@{DOMAIN}>\r\n"
            f"RCPT TO:<{paul}>\r\nDATA\r\n".encode()
        )
        replies = read_replies(sock, 5)
        assert [r[:3] for r in replies] == ["250", "250", "550", "250", "354"], replies
        sock.sendall(message("Pipeline") + b".\r\nQUIT\r\n")
        replies = read_replies(sock, 2)
        assert [r[:3] for r in replies] == ["250", "221"], replies
    assert len(server.messages(claire)) == 1 and len(server.messages(paul)) == 1


def test_bdat_chunks(server):
    claire = server.create("claire.martin")
    server.start()
    body = message("Convocation conseil de classe", "Lundi 14 h.\r\n.Ligne qui commence par un point\r\n")
    first, second = body[:50], body[50:]
    with socket.create_connection(("127.0.0.1", server.smtp_port), timeout=10) as sock:
        read_replies(sock, 1)
        sock.sendall(b"EHLO client.example.org\r\n")
        read_replies(sock, 1)
        sock.sendall(f"MAIL FROM:<parent@example.org>\r\nRCPT TO:<{claire}>\r\n".encode())
        read_replies(sock, 2)
        sock.sendall(f"BDAT {len(first)}\r\n".encode() + first)
        assert read_replies(sock, 1)[0].startswith("250")
        sock.sendall(f"BDAT {len(second)} LAST\r\n".encode() + second)
        assert read_replies(sock, 1)[0].startswith("250")
    raw = stored_body(server, claire, 1)
    assert raw.endswith(body)  # BDAT is not dot-stuffed: the leading dot is kept


def test_swaks_delivers_over_starttls(server):
    swaks = require_tool("swaks")
    claire = server.create("claire.martin")
    server.start()
    out = subprocess.run(
        [swaks, "--server", f"127.0.0.1:{server.smtp_port}", "--to", claire, "--from", "parent@example.org",
         "--tls", "--pipeline", "--header", "Subject: Envoyé par swaks", "--body", "Bonjour"],
        capture_output=True, timeout=60,
    )
    assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()
    assert [r["subject"] for r in server.messages(claire)] == ["Envoyé par swaks"]


def test_config_check_reports_every_problem(tmp_path):
    from conftest import binary
    bad = tmp_path / "bad.toml"
    bad.write_text('[server]\nhostname = ""\n\n[smtp]\nlisten = ["nowhere"]\nmax_recipients = -3\n[nope]\n')
    out = subprocess.run([binary(), "config", "check", "--config", str(bad)], capture_output=True, timeout=30)
    assert out.returncode == 2
    err = out.stderr.decode()
    for line in ("ligne 2", "ligne 5", "ligne 6", "ligne 7"):
        assert line in err, err
