"""SMTP hardening against the real binary (issue 25): memory held by bodies that never end
(item 15), commands split across two TCP segments (item 16), the per-address connection cap
(item 14) and a submitted message with two From: fields (item 1)."""

import imaplib
import smtplib
import socket
import ssl
import statistics
import time

import pytest

from conftest import DOMAIN

PASSWORD = "Ardoise-Test-2026!"


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def read_reply(sock: socket.socket) -> bytes:
    """Reads one whole (multi-line) SMTP reply."""
    data = b""
    while True:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
        lines = data.split(b"\r\n")
        if len(lines) >= 2 and len(lines[-2]) >= 4 and lines[-2][3:4] == b" ":
            return data


def open_transaction(port: int, rcpt: str) -> socket.socket:
    """A plain MX connection (Nagle left on, as clients have it) that has reached DATA."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    assert read_reply(s).startswith(b"220 ")
    for command, code in ((b"EHLO attaquant", b"250"), (b"MAIL FROM:<x@exemple.org>", b"250"),
                          (f"RCPT TO:<{rcpt}>".encode(), b"250"), (b"DATA", b"354")):
        s.sendall(command + b"\r\n")
        reply = read_reply(s)
        assert reply.startswith(code), (command, reply)
    return s


@pytest.fixture
def claire(server):
    address = server.create("claire.martin", password=PASSWORD)
    server.start()
    return address


def test_unfinished_bodies_do_not_grow_memory(server, claire):
    # 19 clients (the default share of one address is 20) each send 13 MiB of body and
    # never the final dot: about 250 MiB that used to sit in memory.
    before = rss_kib(server.proc.pid)
    line = b"x" * 1022 + b"\r\n"
    chunk = line * 64
    held = [open_transaction(server.smtp_port, claire) for _ in range(19)]
    for _ in range(13 * 1024 // 64):
        for s in held:
            s.sendall(chunk)
    time.sleep(1)
    during = rss_kib(server.proc.pid)
    print(f"VmRSS before {before // 1024} MiB, with 19 x 13 MiB unfinished bodies {during // 1024} MiB")
    # A normal client is still served meanwhile.
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as c:
        c.sendmail("parent@exemple.org", [claire], f"From: parent@exemple.org\r\nTo: {claire}\r\n"
                   "Subject: absence\r\n\r\nBonjour.\r\n")
    for s in held:
        s.close()
    assert len(server.messages(claire)) == 1
    # A generous bound: the bodies themselves would be 247 MiB.
    assert during - before < 100 * 1024, f"RSS grew by {(during - before) // 1024} MiB"


def test_split_commands_are_answered(server, claire):
    """The end of DATA and an APPEND literal's final CRLF sent as separate writes by clients
    with Nagle's algorithm on. The latency is reported, not asserted (noisy machines); the
    net crate's test checks through getsockopt that TCP_QUICKACK is re-armed after reads."""
    s = open_transaction(server.smtp_port, claire)
    assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0, "Nagle is on"
    smtp_times = []
    for i in range(5):
        if i:
            for command in (b"MAIL FROM:<x@exemple.org>", f"RCPT TO:<{claire}>".encode(), b"DATA"):
                s.sendall(command + b"\r\n")
                read_reply(s)
        s.sendall(f"Subject: essai {i}\r\n\r\nBonjour.\r\n.".encode())
        time.sleep(0.002)
        start = time.perf_counter()
        s.sendall(b"\r\n")
        reply = read_reply(s)
        smtp_times.append(time.perf_counter() - start)
        assert reply.startswith(b"250 2.0.0"), reply
    s.close()
    imap_times = []
    with imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=tls_context(), timeout=20) as m:
        m.login(claire, PASSWORD)
        for i in range(5):
            message = f"From: {claire}\r\nSubject: brouillon {i}\r\n\r\nTexte.\r\n".encode()
            start = time.perf_counter()
            typ, _ = m.append("INBOX", None, None, message)  # imaplib sends the final CRLF apart
            imap_times.append(time.perf_counter() - start)
            assert typ == "OK"
    print(f"split end of DATA answered in {statistics.median(smtp_times) * 1000:.2f} ms (median of 5); "
          f"IMAP APPEND with split CRLF {statistics.median(imap_times) * 1000:.2f} ms (median of 5)")
    assert len(server.messages(claire)) == 10


def test_connections_per_address_are_capped(make_server):
    server = make_server("max_connections_per_ip = 3")
    server.start()
    for port in (server.smtp_port, server.submission_port):
        held = []
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", port), timeout=20)
            assert read_reply(s).startswith(b"220 ")
            held.append(s)
        extra = socket.create_connection(("127.0.0.1", port), timeout=20)
        refused = read_reply(extra)
        assert refused.startswith(b"421 4.7.0 ") and b"Too many connections from your address" in refused, refused
        extra.close()
        for s in held:
            s.close()


def test_two_from_fields_are_refused_at_submission(server):
    claire = server.create("claire.martin", password=PASSWORD)
    paul = server.create("paul.durand", password=PASSWORD)
    server.create("admin")
    server.start()
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=20) as s:
        s.ehlo("poste")
        s.starttls(context=tls_context())
        s.ehlo("poste")
        s.login(claire, PASSWORD)
        for header in (f"From: Administration <admin@{DOMAIN}>\r\nFrom: {claire}\r\n",
                       f"FROM: admin@{DOMAIN}\r\nfrom: {claire}\r\n",
                       f"From : admin@{DOMAIN}\r\nFrom: {claire}\r\n"):
            with pytest.raises(smtplib.SMTPDataError) as err:
                s.sendmail(claire, [paul], f"{header}To: {paul}\r\nSubject: x\r\n\r\nhi\r\n")
            assert err.value.smtp_code == 554 and b"From:" in err.value.smtp_error, err.value
        with pytest.raises(smtplib.SMTPDataError) as err:
            s.sendmail(claire, [paul], f'From: "recteur@{DOMAIN}" <{claire}>\r\nTo: {paul}\r\n\r\nhi\r\n')
        assert err.value.smtp_code == 553 and err.value.smtp_error.startswith(b"5.7.1"), err.value
    assert server.messages(paul) == []
