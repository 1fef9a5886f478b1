"""IMAP scenarios with imapclient (PyPI) and hostile raw clients: folder
hierarchy and special-use, BINARY and charsets, UID EXPUNGE and MOVE, and
bad input (huge literals, 10,000 pipelined commands, a client vanishing in
the middle of APPEND, odd sequence sets, broken mailbox names) that must not
disturb another session nor leave anything half-appended."""

import base64
import smtplib
import socket
import ssl
import threading
import time

import imapclient
import pytest

PASSWORD = "Ardoise-Test-2026"


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def client(server, claire) -> imapclient.IMAPClient:
    c = imapclient.IMAPClient("127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=tls_context(), timeout=30)
    c.login(claire, PASSWORD)
    c.capabilities()  # imapclient needs them cached to send LITERAL+ literals
    return c


def smtp_send(server, to: str, raw: bytes):
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        assert s.sendmail("parent@example.org", [to], raw) == {}


def simple(subject: str) -> bytes:
    return (f"From: Parent <parent@example.org>\r\nTo: claire@example.org\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@example.org>\r\n\r\nBonjour.\r\n").encode()


@pytest.fixture
def claire(server):
    address = server.create("claire.martin", password=PASSWORD)
    server.start()
    return address


def test_folder_hierarchy_rename_delete_and_special_use(server, claire):
    with client(server, claire) as c:
        delim = c.list_folders()[0][1].decode()
        c.create_folder(f"Projets{delim}2026{delim}Sorties")
        names = {f[2] for f in c.list_folders()}
        assert {"Projets", f"Projets{delim}2026", f"Projets{delim}2026{delim}Sorties"} <= names, names
        c.rename_folder("Projets", "Anciens projets")
        names = {f[2] for f in c.list_folders()}
        assert f"Anciens projets{delim}2026{delim}Sorties" in names, names
        assert not any(n.startswith("Projets") for n in names), names
        # RFC 9051: deleting a folder with children keeps the children.
        c.delete_folder(f"Anciens projets{delim}2026{delim}Sorties")
        assert f"Anciens projets{delim}2026{delim}Sorties" not in {f[2] for f in c.list_folders()}
        # CREATE-SPECIAL-USE: one folder per use (RFC 6154), found by its use.
        assert c.find_special_folder(imapclient.imapclient.ARCHIVE) == "Archives"
        typ, data = c._imap._simple_command("CREATE", '"Mes archives"', "(USE (\\Archive))")
        assert typ == "NO" and b"[USEATTR]" in data[0], data
        c.delete_folder("Archives")
        typ, data = c._imap._simple_command("CREATE", '"Mes archives"', "(USE (\\Archive))")
        assert typ == "OK", data
        assert c.find_special_folder(imapclient.imapclient.ARCHIVE) == "Mes archives"
        assert c.find_special_folder(imapclient.imapclient.TRASH)
        with pytest.raises(imapclient.exceptions.IMAPClientError):
            c.delete_folder("INBOX")


# No NUL byte, so the server may answer BINARY with a plain literal, which
# imaplib understands (a literal8 `~{n}` is only needed for NUL: RFC 3516).
PDF = b"%PDF-1.4\n" + bytes(range(1, 256)) * 8 + b"\n%%EOF\n"


def latin1_with_attachment() -> bytes:
    b64 = base64.encodebytes(PDF).replace(b"\n", b"\r\n")
    return (
        b"From: =?ISO-8859-1?Q?H=E9l=E8ne_Lef=E8vre?= <helene@example.org>\r\n"
        b"To: claire@example.org\r\nSubject: =?ISO-8859-1?Q?Conseil_p=E9dagogique?=\r\n"
        b"Message-ID: <latin1@example.org>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"frontiere\"\r\n\r\n"
        b"--frontiere\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Ordre du jour : r=E9partition des heures, s=E9ance de d=E9cembre.\r\n"
        b"--frontiere\r\nContent-Type: application/pdf; name=\"bilan-trimestriel.pdf\"\r\n"
        b"Content-Disposition: attachment; filename=\"bilan-trimestriel.pdf\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64 + b"--frontiere--\r\n"
    )


def test_binary_bodystructure_and_latin1_search(server, claire):
    smtp_send(server, claire, latin1_with_attachment())
    with client(server, claire) as c:
        c.select_folder("INBOX")
        [uid] = c.search("ALL")
        resp = c.fetch([uid], ["BODYSTRUCTURE", "BINARY[2]", "BINARY.SIZE[2]", "BODY.PEEK[1]"])[uid]
        bs = resp[b"BODYSTRUCTURE"]
        assert bs.is_multipart
        text, pdf = bs[0]
        assert (text[0], text[1]) == (b"text", b"plain") and (b"charset", b"iso-8859-1") in zip(text[2][::2], text[2][1::2])
        assert (pdf[0], pdf[1]) == (b"application", b"pdf")
        assert resp[b"BINARY[2]"] == PDF, "BINARY undoes base64 exactly"
        assert resp[b"BINARY.SIZE[2]"] == len(PDF)
        assert b"r=E9partition" in resp[b"BODY[1]"], "BODY[] parts are served undecoded"
        # The index decodes the charset and folds accents; the file name is searchable.
        for word in ("pedagogique", "repartition", "séance", "decembre", "trimestriel", "Hélène", "lefevre"):
            assert c.search(["TEXT", word], charset="UTF-8") == [uid], word
        assert c.search(["TEXT", "absent"], charset="UTF-8") == []


def test_move_and_uid_expunge(server, claire):
    for i in range(3):
        smtp_send(server, claire, simple(f"Message {i}"))
    with client(server, claire) as c:
        c.create_folder("Classe")
        c.select_folder("INBOX")
        uids = c.search("ALL")
        assert len(uids) == 3
        c.move([uids[0]], "Classe")
        c.add_flags(uids[1:], [imapclient.DELETED])
        c.uid_expunge([uids[1]])
        assert c.search("ALL") == [uids[2]], "UID EXPUNGE removes only the given UID"
        assert imapclient.DELETED in c.get_flags([uids[2]])[uids[2]]
        assert c.folder_status("Classe", ["MESSAGES"])[b"MESSAGES"] == 1


class Raw:
    """A TLS socket speaking IMAP by hand."""

    def __init__(self, server, claire):
        sock = socket.create_connection(("127.0.0.1", server.imaps_port), timeout=30)
        self.s = tls_context().wrap_socket(sock)
        self.buf = b""
        self.line()  # greeting
        self.send(f'a LOGIN "{claire}" "{PASSWORD}"\r\n'.encode())
        assert self.until(b"a ").startswith(b"a OK")

    def send(self, data: bytes):
        self.s.sendall(data)

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError(self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def until(self, tag: bytes) -> bytes:
        """The tagged line of `tag` (untagged lines before it are dropped)."""
        while True:
            line = self.line()
            if line.startswith(tag):
                return line


def inbox_count(server, claire) -> int:
    with client(server, claire) as c:
        return c.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"]


def test_huge_literal_and_odd_input_get_answers(server, claire):
    smtp_send(server, claire, simple("Seul message"))
    r = Raw(server, claire)
    r.send(b"b APPEND INBOX {4294967296}\r\n")
    reply = r.line()
    assert reply.startswith((b"b NO", b"b BAD")), reply
    r.send(b"c SELECT INBOX\r\n")
    assert r.until(b"c ").startswith(b"c OK")
    r.send(b"d FETCH 1:*,*:1,4294967295 (FLAGS)\r\n")
    assert r.until(b"d ").startswith((b"d OK", b"d NO", b"d BAD"))
    r.send(b'e CREATE "&Jjo"\r\n')  # broken modified UTF-7
    assert r.until(b"e ").startswith((b"e NO", b"e BAD"))
    r.send(b"f FETCH 1 (FLAGS (BODY[\r\n")  # unbalanced parentheses
    assert r.until(b"f ").startswith(b"f BAD")
    r.send(b"g NOOP\r\n")
    assert r.until(b"g ").startswith(b"g OK"), "the session survives bad commands"
    assert inbox_count(server, claire) == 1


def test_ten_thousand_pipelined_commands_without_reading(server, claire):
    smtp_send(server, claire, simple("Avant le flot"))
    r = Raw(server, claire)
    r.send(b"s SELECT INBOX\r\n")
    assert r.until(b"s ").startswith(b"s OK")
    flood = b"".join(b"n%d NOOP\r\n" % i for i in range(10_000))
    sender = threading.Thread(target=lambda: r.send(flood), daemon=True)
    sender.start()
    time.sleep(1)
    # Another session is served normally while this one does not read.
    smtp_send(server, claire, simple("Pendant le flot"))
    assert inbox_count(server, claire) == 2
    # The flooding session gets every answer, in order, or is closed cleanly.
    try:
        last = r.until(b"n9999 ")
        assert last.startswith(b"n9999 OK")
    except ConnectionError as closed:
        assert b"BYE" in closed.args[0] or closed.args[0] == b"", closed
    sender.join(timeout=30)


def test_client_vanishing_mid_append_leaves_nothing(server, claire):
    smtp_send(server, claire, simple("Deja la"))
    r = Raw(server, claire)
    r.send(b"b APPEND INBOX (\\Seen) {100000}\r\n")
    assert r.line().startswith(b"+")
    r.send(b"Subject: coupe\r\n\r\n" + b"x" * 50_000)
    r.s.close()
    time.sleep(1)
    assert inbox_count(server, claire) == 1, "nothing half-appended"
    # Same with a non-synchronising literal (LITERAL+).
    r = Raw(server, claire)
    r.send(b"c APPEND INBOX {100000+}\r\nSubject: coupe\r\n\r\n" + b"y" * 30_000)
    r.s.close()
    time.sleep(1)
    assert inbox_count(server, claire) == 1
