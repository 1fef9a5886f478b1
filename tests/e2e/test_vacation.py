"""Vacation auto-reply on the running binary: set with `ardoise vacation`,
answered once per sender, never to lists, threaded, and queued with the null
return path for outside senders."""

import smtplib
import subprocess
import time

from conftest import DOMAIN, binary


def vacation(server, *args) -> str:
    out = subprocess.run([binary(), "vacation", "--config", str(server.config), *args], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out.stdout.decode(errors="replace")


def send(server, sender: str, to: str, subject: str, extra: str = "") -> None:
    msg = (f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ', '-')}@x>\r\n"
           f"{extra}\r\nBonjour.\r\n").encode()
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        assert s.sendmail(sender, [to], msg) == {}


def subjects(server, address: str) -> list:
    return [m["subject"] for m in server.messages(address)]


def wait_for(predicate, what: str, timeout: float = 10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_vacation_reply_once_per_sender_and_never_to_lists(server, tmp_path):
    claire = server.create("claire.martin")
    paul = server.create("paul.durand")
    direction = server.create("direction")
    # Outside mail waits in the queue (a closed port) instead of depending on DNS.
    server.config.write_text(server.config.read_text() + '\n[outbound]\nmx_override = ["*=127.0.0.1:9"]\n')
    server.start()
    text = tmp_path / "absence.txt"
    text.write_text("Bonjour,\n\nJe suis absente jusqu'au 4 janvier. Pour une urgence : secretariat.\n\nClaire Martin\n")
    vacation(server, "set", claire, "--body-file", str(text), "--from", "2020-01-01", "--until", "2099-01-01")
    assert "absente jusqu'au 4 janvier" in vacation(server, "show", claire)

    send(server, paul, claire, "Conseil de classe")
    reply = wait_for(lambda: [s for s in subjects(server, paul) if s.startswith("Réponse automatique")], "the reply")
    assert reply == ["Réponse automatique : Conseil de classe"]
    raw = server.admin_bytes("message", "get", paul, str(server.messages(paul)[0]["uid"])).decode()
    assert "Auto-Submitted: auto-replied" in raw and "In-Reply-To: <Conseil-de-classe@x>" in raw, raw
    assert "absente jusqu'au 4 janvier" in raw
    # From the owner by name, and the accented subject as RFC 2047 words (it
    # left as raw 8-bit header text, and from the bare address, before).
    head = raw.split("\r\n\r\n", 1)[0]
    assert f'From: "Claire Martin" <{claire}>' in head, head
    assert head.isascii() and "Subject: =?utf-8?" in head, head

    # The same sender is not answered twice; a list and an auto-reply never are.
    send(server, paul, claire, "Deuxieme message")
    send(server, f"liste@{DOMAIN}", claire, "Liste des profs", "List-Id: <profs.ac-test.fr>\r\n")
    send(server, paul, claire, "Absent moi aussi", "Auto-Submitted: auto-replied\r\n")
    wait_for(lambda: len(server.messages(claire)) == 4, "the four deliveries")
    time.sleep(1)
    assert len(server.messages(paul)) == 1, subjects(server, paul)

    # An outside sender's reply is queued with the null return path.
    send(server, "parent@example.org", claire, "Absence de Lucas")
    listing = wait_for(lambda: next((out for out in [queue_list(server)] if "<>" in out), None), "the queued reply")
    assert len([line for line in listing.splitlines() if "<>" in line]) == 1, listing

    # Switched off: a new sender gets nothing.
    vacation(server, "off", claire)
    send(server, direction, claire, "Apres les vacances")
    wait_for(lambda: len(server.messages(claire)) == 6, "the last delivery")
    time.sleep(1)
    assert server.messages(direction) == []


def queue_list(server) -> str:
    out = subprocess.run([binary(), "queue", "--config", str(server.config), "list"], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.decode(errors="replace")
