"""Outbound mail between two Ardoise instances on 127.0.0.2 and 127.0.0.3 (static MX
routes), plus scripted remote servers: DKIM verified by the receiver, retries after
4xx, a DSN for a 5xx recipient, exactly-once delivery after kill -9, and SPF/DKIM/DMARC
pass and fail cases with a static DNS table."""

import json
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import threading
import time

import pytest

from conftest import DOMAIN, Server, binary

PASSWORD = "Ardoise-Test-2026!"
REMOTE = "ac-autre.fr"
SENDER_IP = "127.0.0.2"
RECEIVER_IP = "127.0.0.3"
FAKE_IP = "127.0.0.4"


def free_port(ip: str) -> int:
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Node(Server):
    """A Server whose listeners sit on one loopback address, with extra sections."""

    def __init__(self, root, ip: str, extra: str = "", smtp_port: int = 0):
        super().__init__(root)
        text = self.config.read_text().replace("127.0.0.1:0", f"{ip}:0")
        text = text.replace(f'[smtp]\nlisten = ["{ip}:0"]', f'[smtp]\nlisten = ["{ip}:{smtp_port}"]')
        self.base_text = text
        self.config.write_text(text + extra)

    def reconfigure(self, extra: str):
        self.config.write_text(self.base_text + extra)

    def queue(self, *args) -> str:
        out = subprocess.run([binary(), "queue", "--config", str(self.config), *args], capture_output=True, timeout=60)
        assert out.returncode == 0, out.stderr.decode(errors="replace")
        return out.stdout.decode(errors="replace")


def outbound(routes: list[str], extra: str = "") -> str:
    quoted = ", ".join(f'"{r}"' for r in routes)
    return (
        f'\n[outbound]\nmx_override = [{quoted}]\nretry_first = "1s"\nretry_max = "2s"\n'
        f'poll_interval = "1s"\ntimeout = "10s"\n{extra}'
    )


def submit(node: Node, sender: str, rcpts: list[str], subject: str, msgid: str = None) -> None:
    msgid = msgid or f"<{subject.replace(' ', '-')}@{DOMAIN}>"
    body = (
        f"From: Claire Martin <{sender}>\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n"
        f"Message-ID: {msgid}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n.point en debut de ligne\r\nCordialement\r\n"
    ).encode()
    with smtplib.SMTP_SSL(SENDER_IP, node.submissions_port, context=tls_context(), timeout=30) as s:
        s.login(sender, PASSWORD)
        assert s.sendmail(sender, rcpts, body) == {}


def wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class FakeMx:
    """A scripted remote SMTP server: `answer(rcpt)` for RCPT, `data_reply(n)` after the
    n-th DATA (0-based). Records every accepted transaction."""

    def __init__(self, ip: str, rcpt_reply=None, data_reply=None):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.rcpt_reply = rcpt_reply or (lambda rcpt: "250 2.1.5 ok")
        self.data_reply = data_reply or (lambda n: "250 2.0.0 ok")
        self.datas = 0
        self.delivered = []  # (rcpts, data)
        self.stop = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        self.sock.settimeout(0.5)
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        f = conn.makefile("rb")
        send = lambda line: conn.sendall(line.encode() + b"\r\n")
        send("220 fake.example ESMTP")
        rcpts, accepted = [], []
        try:
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.decode(errors="replace").strip()
                verb = cmd.split(" ")[0].upper()
                if verb in ("EHLO", "HELO"):
                    send("250-fake.example\r\n250 8BITMIME")
                elif verb == "MAIL":
                    rcpts, accepted = [], []
                    send("250 2.1.0 ok")
                elif verb == "RCPT":
                    rcpt = cmd.split("<", 1)[1].split(">", 1)[0]
                    reply = self.rcpt_reply(rcpt)
                    if reply.startswith("2"):
                        accepted.append(rcpt)
                    send(reply)
                elif verb == "DATA":
                    send("354 go")
                    data = b""
                    while True:
                        chunk = f.readline()
                        if chunk in (b".\r\n", b""):
                            break
                        data += chunk
                    reply = self.data_reply(self.datas)
                    self.datas += 1
                    if reply.startswith("2"):
                        self.delivered.append((accepted, data))
                    send(reply)
                elif verb == "QUIT":
                    send("221 bye")
                    return
                else:
                    send("250 ok")
        finally:
            conn.close()

    def close(self):
        self.stop = True
        self.sock.close()


@pytest.fixture
def nodes(tmp_path):
    made = []
    yield made
    for n in made:
        n.stop()


def sender_node(tmp_path, nodes, routes, extra="") -> tuple[Node, str]:
    node = Node(tmp_path / "sender", SENDER_IP, outbound(routes, extra))
    nodes.append(node)
    claire = node.create("claire.martin", password=PASSWORD)
    return node, claire


def dns_table(path, entries: dict) -> str:
    path.write_text("".join(f'{name} TXT "{value}"\n' for name, value in entries.items()))
    return str(path)


def dkim_record(node: Node) -> str:
    out = subprocess.run([binary(), "dkim", "--config", str(node.config), "show", DOMAIN], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    return "".join(part for part in text.split("TXT", 1)[1].strip().split('"') if part.strip())


def test_mail_between_two_instances_is_dkim_verified(tmp_path, nodes):
    receiver_port = free_port(RECEIVER_IP)
    sender, claire = sender_node(tmp_path, nodes, [f"{REMOTE}={RECEIVER_IP}:{receiver_port}"])
    record = dkim_record(sender)  # generates the key before the sender starts
    table = dns_table(
        tmp_path / "dns.txt",
        {
            DOMAIN: "v=spf1 ip4:127.0.0.0/8 -all",
            f"ardoise._domainkey.{DOMAIN}": record,
            f"_dmarc.{DOMAIN}": "v=DMARC1; p=reject",
        },
    )
    receiver = Node(tmp_path / "receiver", RECEIVER_IP, f'\n[outbound]\ndns_override_file = "{table}"\n', receiver_port)
    nodes.append(receiver)
    receiver.admin("domain", "add", REMOTE)
    receiver.admin("account", "create", f"paul.durand@{REMOTE}", "--name", "Paul Durand")
    paul = f"paul.durand@{REMOTE}"
    receiver.start()
    sender.start()

    submit(sender, claire, [paul], "Conseil de classe")
    msgs = wait_for(lambda: receiver.messages(paul), what="delivery to the second instance")
    raw = receiver.admin_bytes("message", "get", paul, str(msgs[0]["uid"]))
    header = raw.split(b"\r\n\r\n", 1)[0].decode()
    assert header.startswith("Authentication-Results: mx.ac-test.fr;"), header[:300]
    assert "dkim=pass" in header and "spf=pass" in header and "dmarc=pass" in header, header
    assert f"d={DOMAIN}" in header
    assert b"\r\n.point en debut de ligne\r\n" in raw, "dot-stuffing undone on the way"
    # The verdict is also in the stored metadata, for the anti-spam work.
    with sqlite3.connect(f"file:{receiver.data / 'ardoise.db'}?mode=ro", uri=True) as db:
        metas = [json.loads(m) for (m,) in db.execute("SELECT meta FROM blobs WHERE subject = 'Conseil de classe'")]
    assert len(metas) == 1, metas
    verdict = metas[0].get("authentication") or {}
    assert [verdict.get(k) for k in ("server", "spf", "dkim", "dmarc")] == ["mx.ac-test.fr", "pass", "pass", "pass"], metas
    wait_for(lambda: "vide" in sender.queue("list"), what="an empty queue")


def test_dmarc_reject_refused_and_none_reported(tmp_path, nodes):
    table = dns_table(
        tmp_path / "dns.txt",
        {
            "ac-forge.fr": "v=spf1 ip4:192.0.2.1 -all",
            "_dmarc.ac-forge.fr": "v=DMARC1; p=reject",
            "ac-laxiste.fr": "v=spf1 ip4:192.0.2.1 -all",
            "_dmarc.ac-laxiste.fr": "v=DMARC1; p=none",
        },
    )
    receiver = Node(tmp_path / "receiver", RECEIVER_IP, f'\n[outbound]\ndns_override_file = "{table}"\n')
    nodes.append(receiver)
    paul = receiver.create("paul.durand")
    receiver.start()

    def send(domain: str):
        msg = (f"From: <directeur@{domain}>\r\nTo: {paul}\r\nSubject: Urgent {domain}\r\n\r\nVirement\r\n").encode()
        with smtplib.SMTP(RECEIVER_IP, receiver.smtp_port, timeout=20) as s:
            return s.sendmail(f"directeur@{domain}", [paul], msg)

    with pytest.raises(smtplib.SMTPDataError) as err:
        send("ac-forge.fr")
    assert err.value.smtp_code == 550 and err.value.smtp_error.startswith(b"5.7.1"), err.value
    assert receiver.messages(paul) == []
    assert send("ac-laxiste.fr") == {}
    msgs = receiver.messages(paul)
    raw = receiver.admin_bytes("message", "get", paul, str(msgs[0]["uid"])).decode(errors="replace")
    assert "spf=fail" in raw and "dmarc=fail" in raw and "policy.dmarc=none" in raw, raw[:600]
    assert "dkim=pass" not in raw


def test_retry_after_4xx(tmp_path, nodes):
    fake = FakeMx(FAKE_IP, data_reply=lambda n: "451 4.3.0 plus tard" if n < 2 else "250 2.0.0 ok")
    sender, claire = sender_node(tmp_path, nodes, [f"ac-lent.fr={FAKE_IP}:{fake.port}"])
    sender.start()
    submit(sender, claire, ["parent@ac-lent.fr"], "Retards")
    wait_for(lambda: fake.delivered, timeout=40, what="the third attempt")
    assert fake.datas == 3
    assert len(fake.delivered) == 1 and fake.delivered[0][0] == ["parent@ac-lent.fr"]
    assert b"DKIM-Signature:" in fake.delivered[0][1]
    wait_for(lambda: "vide" in sender.queue("list"), what="an empty queue")
    assert sender.messages(claire) == [], "no bounce for a message that got through"
    fake.close()


def test_5xx_for_one_recipient_makes_a_dsn(tmp_path, nodes):
    fake = FakeMx(FAKE_IP, rcpt_reply=lambda r: "550 5.1.1 utilisateur inconnu" if r.startswith("inconnu") else "250 ok")
    sender, claire = sender_node(tmp_path, nodes, [f"ac-lent.fr={FAKE_IP}:{fake.port}"])
    sender.start()
    rcpts = ["parent1@ac-lent.fr", "inconnu@ac-lent.fr", "parent2@ac-lent.fr"]
    submit(sender, claire, rcpts, "Sortie scolaire")
    inbox = wait_for(lambda: sender.messages(claire), what="the bounce")
    assert len(inbox) == 1
    dsn = sender.admin_bytes("message", "get", claire, str(inbox[0]["uid"])).decode(errors="replace")
    assert "multipart/report; report-type=delivery-status" in dsn
    assert "Final-Recipient: rfc822; inconnu@ac-lent.fr\r\nAction: failed\r\nStatus: 5.1.1" in dsn
    assert "parent1@ac-lent.fr" not in dsn.split("message/delivery-status", 1)[1].split("rfc822-headers")[0]
    assert "Subject: Sortie scolaire" in dsn
    assert [sorted(r) for r, _ in fake.delivered] == [["parent1@ac-lent.fr", "parent2@ac-lent.fr"]]
    wait_for(lambda: "vide" in sender.queue("list"), what="an empty queue")
    fake.close()


def test_kill_9_with_mail_queued_delivers_exactly_once(tmp_path, nodes):
    receiver_port = free_port(RECEIVER_IP)
    sender, claire = sender_node(tmp_path, nodes, [f"{REMOTE}={RECEIVER_IP}:{receiver_port}"])
    receiver = Node(tmp_path / "receiver", RECEIVER_IP, "", receiver_port)
    nodes.append(receiver)
    receiver.admin("domain", "add", REMOTE)
    receiver.admin("account", "create", f"paul.durand@{REMOTE}", "--name", "Paul Durand")
    paul = f"paul.durand@{REMOTE}"
    sender.start()
    # The receiver is down: everything stays queued.
    for i in range(5):
        submit(sender, claire, [paul], f"Message {i}", msgid=f"<kill9-{i}@{DOMAIN}>")
    listing = wait_for(lambda: sender.queue("list").count(claire) == 5 and sender.queue("list"), what="5 queued")
    assert listing
    sender.kill9()
    receiver.start()
    sender.start()
    wait_for(lambda: len(receiver.messages(paul)) >= 5 and "vide" in sender.queue("list"), timeout=40,
             what="delivery after restart")
    time.sleep(2)  # a duplicate would show up here
    msgs = receiver.messages(paul)
    subjects = sorted(m["subject"] for m in msgs)
    assert subjects == [f"Message {i}" for i in range(5)], subjects


def test_4xx_forever_warns_then_bounces_at_expiry(tmp_path, nodes):
    fake = FakeMx(FAKE_IP, rcpt_reply=lambda r: "451 4.2.1 boite temporairement indisponible")
    sender, claire = sender_node(
        tmp_path, nodes, [f"ac-lent.fr={FAKE_IP}:{fake.port}"], 'delay_warning = "2s"\ngive_up_after = "5s"\n'
    )
    sender.start()
    submit(sender, claire, ["parent@ac-lent.fr"], "Toujours en retard")
    inbox = wait_for(lambda: len(sender.messages(claire)) >= 2 and sender.messages(claire), timeout=40,
                     what="the delay warning and the bounce")
    reports = [sender.admin_bytes("message", "get", claire, str(m["uid"])).decode(errors="replace") for m in inbox]
    delayed = [r for r in reports if "Action: delayed" in r]
    failed = [r for r in reports if "Action: failed" in r]
    assert len(delayed) == 1 and len(failed) == 1, reports
    assert "Status: 4.2.1" in delayed[0] and "Will-Retry-Until:" in delayed[0]
    assert "Action: failed\r\nStatus: 4.2.1" in failed[0] and "451 4.2.1" in failed[0], failed[0]
    assert fake.delivered == []
    wait_for(lambda: "vide" in sender.queue("list"), what="an empty queue")
    fake.close()
