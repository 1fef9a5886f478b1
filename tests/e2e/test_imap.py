"""IMAP against the running binary, with Python's imaplib and the PyPI
package imapclient: logins, folders, fetching what SMTP delivered, flags
seen by a second session, APPEND, MOVE, EXPUNGE and IDLE."""

import imaplib
import re
import smtplib
import socket
import ssl
import time

import imapclient
import pytest

PASSWORD = "Ardoise-Test-2026"


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(server) -> imaplib.IMAP4_SSL:
    return imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=tls_context(), timeout=20)


def message(subject: str, body: str = "Bonjour,\r\n\r\nCeci est un test.\r\n") -> bytes:
    return (
        f"From: Parent <parent@example.org>\r\nTo: claire@example.org\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@example.org>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}"
    ).encode()


def smtp_send(server, to: str, raw: bytes):
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        assert s.sendmail("parent@example.org", [to], raw) == {}


@pytest.fixture
def claire(server):
    address = server.create("claire.martin", password=PASSWORD)
    server.start()
    return address


def test_login_ok_and_wrong_password(server, claire):
    with connect(server) as m:
        assert "AUTH=PLAIN" in m.capabilities and "IDLE" in m.capabilities
        typ, _ = m.login(claire, PASSWORD)
        assert typ == "OK"
        m.logout()
    with connect(server) as m:
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            m.login(claire, "wrong password")


def test_cleartext_port_requires_starttls(server, claire):
    m = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=20)
    assert "LOGINDISABLED" in m.capabilities and "STARTTLS" in m.capabilities
    with pytest.raises(imaplib.IMAP4.error, match="PRIVACYREQUIRED"):
        m.login(claire, PASSWORD)
    m.starttls(ssl_context=tls_context())
    assert m.login(claire, PASSWORD)[0] == "OK"
    m.logout()


def test_suspended_and_student_accounts_are_refused(server):
    paul = server.create("paul.durand", password=PASSWORD)
    eleve = server.create("eleve.test", password=PASSWORD, role="eleve")
    server.admin("account", "suspend", paul)
    server.start()
    with connect(server) as m:
        with pytest.raises(imaplib.IMAP4.error, match="AUTHORIZATIONFAILED"):
            m.login(paul, PASSWORD)
    with connect(server) as m:
        with pytest.raises(imaplib.IMAP4.error, match="AUTHORIZATIONFAILED"):
            m.login(eleve, PASSWORD)


def test_list_shows_special_use_folders(server, claire):
    with connect(server) as m:
        m.login(claire, PASSWORD)
        typ, lines = m.list()
        assert typ == "OK"
        text = b"\n".join(lines).decode()
        assert re.search(r'\) "/" "?INBOX"?$', text, re.M), text
        for attr, name in [("\\Sent", "Envoy&AOk-s"), ("\\Trash", "Corbeille"), ("\\Drafts", "Brouillons"),
                           ("\\Junk", "Ind&AOk-sirables"), ("\\Archive", "Archives")]:
            assert f'(\\HasNoChildren {attr}) "/" "{name}"' in text, text


def test_smtp_delivery_is_fetched_byte_for_byte(server, claire):
    sent = message("Réunion parents-professeurs", "Réunion jeudi à 18 h, salle 12.\r\n")
    smtp_send(server, claire, sent)
    with connect(server) as m:
        m.login(claire, PASSWORD)
        typ, data = m.select("INBOX")
        assert typ == "OK" and data == [b"1"]
        typ, data = m.fetch("1", "(UID FLAGS ENVELOPE BODYSTRUCTURE)")
        assert typ == "OK"
        # The non-ASCII Message-ID comes as a literal: join the pieces back.
        head = b"".join(part if isinstance(part, bytes) else b"".join(part) for part in data)
        # RFC 3501 §2.3.2: \Recent: "this is the first session to have been notified about this
        # message"; imaplib speaks IMAP4rev1, and this SELECT is the first since the delivery.
        assert b"UID 1" in head and b"FLAGS (\\Recent)" in head
        assert m.response("RECENT") == ("RECENT", [b"1"]), "SELECT said it was recent"
        assert b'"=?UTF-8?B?' in head  # the subject, encoded for an IMAP4rev1 client
        assert b'("Parent" NIL "parent" "example.org")' in head
        assert b'BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") NIL NIL "8BIT"' in head
        typ, data = m.fetch("1", "(BODY.PEEK[])")
        body = data[0][1]
        assert body.startswith(b"Received: ") and body.endswith(sent)
        # Partial FETCHes of the whole message (read as a range from the blob store), the last
        # one past its end, and a NUL-free literal of exactly what was asked.
        for start, length in ((0, 9), (len(body) - 12, 100), (len(body) + 3, 5)):
            typ, data = m.fetch("1", f"(BODY.PEEK[]<{start}.{length}>)")
            assert typ == "OK" and data[0][1] == body[start:start + length], (start, length, data)
            assert f"BODY[]<{start}>".encode() in data[0][0]
        typ, data = m.fetch("1", "(BODY[TEXT])")
        assert data[0][1] == "Réunion jeudi à 18 h, salle 12.\r\n".encode()
        typ, data = m.fetch("1", "(FLAGS)")
        assert b"\\Seen" in data[0]


def test_flags_stored_by_one_session_are_seen_by_another(server, claire):
    smtp_send(server, claire, message("Flags"))
    with connect(server) as a, connect(server) as b:
        a.login(claire, PASSWORD)
        b.login(claire, PASSWORD)
        a.select("INBOX")
        b.select("INBOX")
        typ, data = a.store("1", "+FLAGS", "(\\Flagged $Important)")
        assert typ == "OK" and b"\\Flagged" in data[0]
        typ, _ = b.noop()
        assert typ == "OK"
        fetched = b.untagged_responses.get("FETCH", [])
        assert any(b"\\Flagged" in f for f in fetched), b.untagged_responses
        typ, data = b.fetch("1", "(FLAGS)")
        assert b"\\Flagged" in data[0] and b"$Important" in data[0]


def test_messages_expunged_by_another_session(server, claire):
    """RFC 2180: what a session sees of messages another one expunged before
    it was told: FETCH and STORE answer NO [EXPUNGEISSUED] for them and still
    serve or change the others; EXPUNGE reports every message that is gone."""
    for i in range(4):
        smtp_send(server, claire, message(f"Concurrent {i}"))
    with connect(server) as a, connect(server) as b:
        a.login(claire, PASSWORD)
        b.login(claire, PASSWORD)
        a.select("INBOX")
        b.select("INBOX")
        assert a.store("2", "+FLAGS.SILENT", "(\\Deleted)")[0] == "OK"
        typ, data = a.expunge()
        assert (typ, data) == ("OK", [b"2"])

        typ, data = b.fetch("1:3", "(UID)")
        assert typ == "NO" and b"[EXPUNGEISSUED]" in data[0], data
        assert sorted(b.untagged_responses.pop("FETCH", [])) == [b"1 (UID 1)", b"3 (UID 3)"]
        typ, data = b.store("1:3", "+FLAGS", "(\\Flagged)")
        assert typ == "NO" and b"[EXPUNGEISSUED]" in data[0], data
        b.untagged_responses.pop("FETCH", None)

        # B marks UID 4 deleted and A expunges it: B's EXPUNGE, which removes
        # nothing itself, reports both removals (its view was UIDs 1 to 4).
        assert b.store("4", "+FLAGS.SILENT", "(\\Deleted)")[0] == "OK"
        a.noop()
        assert a.expunge() == ("OK", [b"3"])
        assert b.expunge() == ("OK", [b"4", b"2"])
        typ, data = b.fetch("1:*", "(UID FLAGS)")
        assert typ == "OK" and len(data) == 2, data
        assert all(b"\\Flagged" in d for d in data), data


def test_append_then_fetch_and_search(server, claire):
    raw = message("Brouillon", "Texte du brouillon.\r\n")
    with connect(server) as m:
        m.login(claire, PASSWORD)
        typ, data = m.append("Brouillons", "(\\Draft \\Seen)", imaplib.Time2Internaldate(time.time()), raw)
        assert typ == "OK" and b"APPENDUID" in data[0], data
        m.select("Brouillons")
        typ, data = m.fetch("1", "(FLAGS BODY.PEEK[])")
        assert data[0][1] == raw
        assert b"\\Draft" in data[0][0]
        typ, data = m.search(None, "SUBJECT", "brouillon")
        assert data == [b"1"]
        typ, data = m.search(None, "UNSEEN")
        assert data == [b""]
        typ, data = m.search(None, "TEXT", "brouillon")
        assert (typ, data) == ("OK", [b"1"])


def test_move_to_created_folder_and_expunge(server, claire):
    for i in range(3):
        smtp_send(server, claire, message(f"Message {i}"))
    with imapclient.IMAPClient("127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=tls_context()) as c:
        c.login(claire, PASSWORD)
        c.create_folder("Projets")
        c.create_folder("Projets/2026")
        folders = {name: flags for flags, _, name in c.list_folders()}
        assert b"\\HasChildren" in folders["Projets"]
        c.select_folder("INBOX")
        c.move([2], "Projets/2026")
        assert sorted(c.search()) == [1, 3]
        c.set_flags([1], [imapclient.DELETED])
        c.expunge()
        assert c.search() == [3]
        status = c.folder_status("Projets/2026", ["MESSAGES", "UIDNEXT"])
        assert status[b"MESSAGES"] == 1 and status[b"UIDNEXT"] == 2
        c.select_folder("Projets/2026")
        envelope = c.fetch([1], ["ENVELOPE"])[1][b"ENVELOPE"]
        assert envelope.subject == b"Message 1"
        c.unselect_folder()
        c.rename_folder("Projets", "Anciens projets")
        assert "Anciens projets/2026" in {name for _, _, name in c.list_folders()}


def test_idle_is_woken_by_an_smtp_delivery(server, claire):
    with connect(server) as m:
        m.login(claire, PASSWORD)
        m.select("INBOX")
        tag = m._new_tag()
        m.send(tag + b" IDLE\r\n")
        assert m.readline().startswith(b"+")
        smtp_send(server, claire, message("Pendant IDLE"))
        m.sock.settimeout(10)
        line = m.readline()
        assert line == b"* 1 EXISTS\r\n", line
        # RFC 3501 §7.3.2: RECENT follows; this IMAP4rev1 session is the first told of the message.
        assert m.readline() == b"* 1 RECENT\r\n"
        m.send(b"DONE\r\n")
        assert m.readline().startswith(tag + b" OK")


def test_multipart_structure_and_parts_with_imapclient(server, claire):
    raw = (
        "From: =?utf-8?q?H=C3=A9l=C3=A8ne?= <helene@example.org>\r\nTo: claire@example.org\r\n"
        "Subject: =?utf-8?q?Compte-rendu_de_r=C3=A9union?=\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="sep"\r\n\r\n'
        "--sep\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Voir la pièce jointe.\r\n"
        '--sep\r\nContent-Type: application/pdf; name="cr.pdf"\r\n'
        'Content-Disposition: attachment; filename="cr.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        "JVBERi0xLjQK\r\n--sep--\r\n"
    ).encode()
    smtp_send(server, claire, raw)
    with imapclient.IMAPClient("127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=tls_context()) as c:
        c.login(claire, PASSWORD)
        c.select_folder("INBOX", readonly=True)
        data = c.fetch([1], ["BODYSTRUCTURE", "ENVELOPE", "BODY.PEEK[1]", "BODY.PEEK[2]", "BODY.PEEK[2.MIME]"])[1]
        structure = data[b"BODYSTRUCTURE"]
        assert structure.is_multipart
        parts, subtype = structure[0], structure[1]
        assert subtype == b"mixed" and len(parts) == 2
        assert parts[1][0:2] == (b"application", b"pdf")
        assert data[b"BODY[1]"] == "Voir la pièce jointe.".encode()
        assert data[b"BODY[2]"] == b"JVBERi0xLjQK"
        assert data[b"BODY[2.MIME]"].startswith(b"Content-Type: application/pdf")
        envelope = data[b"ENVELOPE"]
        assert envelope.from_[0].mailbox == b"helene" and envelope.from_[0].host == b"example.org"
        # A read-only session does not set \Seen.
        assert c.get_flags([1])[1] == ()
