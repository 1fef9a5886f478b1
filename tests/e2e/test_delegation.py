"""Functional mailboxes and delegation (issue 22) through real clients: imapclient
reads the secrétariat's mailbox under « Partages/ » and round-trips the ACL,
smtplib sends « de la part de » it, and a folder shared read-only refuses a delete."""

import email
import imaplib
import smtplib
import ssl

import imapclient
import pytest

from conftest import DOMAIN

PASSWORD = "Ardoise-Test-2026!"
SHARED = "Partages/secretariat.0541234a/INBOX"


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def imap(server, address: str) -> imapclient.IMAPClient:
    c = imapclient.IMAPClient("127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=tls_context(), timeout=30)
    c.login(address, PASSWORD)
    c.capabilities()
    return c


def submit(server, login: str, envelope_from: str, to: str, message: bytes):
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=20) as s:
        s.ehlo("poste.ac-test.fr")
        s.starttls(context=tls_context())
        s.ehlo("poste.ac-test.fr")
        s.login(login, PASSWORD)
        return s.sendmail(envelope_from, [to], message)


def message(from_header: str, to: str, subject: str, sender: str = None) -> bytes:
    head = f"From: {from_header}\r\n" + (f"Sender: {sender}\r\n" if sender else "")
    return (
        f"{head}To: {to}\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ', '-')}@{DOMAIN}>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n\r\nLa réunion est reportée.\r\n"
    ).encode()


@pytest.fixture
def college(server):
    claire = server.create("claire.martin", password=PASSWORD)
    paul = server.create("paul.durand", password=PASSWORD)
    # The functional mailbox has no password: its members use their own.
    secretariat = server.create("secretariat.0541234a", role="fonctionnel")
    server.admin("mailbox", "members", secretariat, "add", paul, "--on-behalf")
    server.admin("mailbox", "members", secretariat, "add", claire, "--rights", "lrs")
    server.start()
    submit(server, claire, claire, secretariat, message(claire, secretariat, "Demande de rendez-vous"))
    return server, claire, paul, secretariat


def test_a_member_reads_the_functional_mailbox_over_imap(college):
    server, claire, paul, secretariat = college
    shown = server.admin("mailbox", "members", secretariat, "show")
    assert f"{paul}\t*\tlrswipte +envoi-de-la-part-de" in shown, shown
    assert f"{claire}\t*\tlrs" in shown, shown
    c = imap(server, paul)
    assert b"ACL" in c.capabilities()
    personal, other, public = c.namespace()
    assert personal[0][0] == "" and other[0][0] == "Partages/", (personal, other)
    names = [name for _, _, name in c.list_folders("Partages/", "*")]
    assert SHARED in names and "Partages/secretariat.0541234a/Envoyés" in names, names
    # Its special folders are not Paul's own.
    assert all(b"\\Sent" not in flags for flags, _, name in c.list_folders("Partages/", "*")), names
    assert c.folder_status(SHARED, ["MESSAGES", "UNSEEN"]) == {b"MESSAGES": 1, b"UNSEEN": 1}
    c.select_folder(SHARED)
    rights = c._command_and_check("myrights", c._normalise_folder(SHARED), unpack=True)
    assert b"lrswipte" in rights, rights
    uids = c.search("ALL")
    fetched = c.fetch(uids, ["BODY[]", "FLAGS"])
    body = email.message_from_bytes(fetched[uids[0]][b"BODY[]"])
    assert body["Subject"] == "Demande de rendez-vous"
    assert b"\\Seen" in c.get_flags(uids)[uids[0]]
    with pytest.raises(imapclient.exceptions.IMAPClientError, match="NOPERM"):
        c.getacl(SHARED)
    # Claire reads only: she sees Paul's \Seen, and cannot delete.
    k = imap(server, claire)
    k.select_folder(SHARED)
    assert b"\\Seen" in k.get_flags(uids)[uids[0]]
    with pytest.raises(imapclient.exceptions.IMAPClientError):
        k.delete_messages(uids)
    # The secrétariat's own login does not exist.
    with pytest.raises(imapclient.exceptions.LoginError):
        imap(server, secretariat)
    journal = server.admin("mailbox", "journal", secretariat)
    assert f"{paul}\tlecture" in journal, journal
    c.logout()
    k.logout()


def test_a_member_sends_on_behalf_and_the_copy_is_filed_in_envoyes(college):
    server, claire, paul, secretariat = college
    parent = server.create("parent.delegue", password=PASSWORD)
    on_behalf = message(f"Secrétariat <{secretariat}>", parent, "Report de la reunion", sender=paul)
    assert submit(server, paul, paul, parent, on_behalf) == {}
    received = server.messages(parent)
    assert len(received) == 1
    raw = server.admin_bytes("message", "get", parent, str(received[0]["uid"]))
    assert f"Sender: {paul}".encode() in raw and secretariat.encode() in raw
    # Filed in the secrétariat's Envoyés, seen.
    sent = [m for m in server.messages(secretariat) if m["mailbox"] == "Envoyés"]
    assert [m["subject"] for m in sent] == ["Report de la reunion"], sent
    journal = server.admin("mailbox", "journal", secretariat)
    assert f"{paul}\tenvoi\tde la part de" in journal, journal
    # Without Sender: it would be « send as », which Paul was not given.
    with pytest.raises(smtplib.SMTPResponseException) as refused:
        submit(server, paul, paul, parent, message(secretariat, parent, "Sans Sender"))
    assert refused.value.smtp_code == 553
    # Claire has no sending right at all, with or without Sender:.
    with pytest.raises(smtplib.SMTPResponseException) as refused:
        submit(server, claire, claire, parent, message(secretariat, parent, "Claire essaie", sender=claire))
    assert refused.value.smtp_code == 553
    # An outsider to the mailbox is refused at MAIL FROM too.
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        submit(server, parent, secretariat, paul, message(secretariat, paul, "Usurpation"))
    assert refused.value.smtp_code == 553


def test_a_member_granted_send_as_sends_as_the_functional_address(college):
    """« send as »: Léa, given that right, sends with From: the secrétariat (no Sender:), with
    her own address or the secrétariat's as envelope sender: accepted, delivered, filed in the
    secrétariat's Envoyés, journaled. Claire (read only) still gets 553 5.7.1."""
    server, claire, paul, secretariat = college
    lea = server.create("lea.moreau", password=PASSWORD)
    parent = server.create("parent.delegue", password=PASSWORD)
    server.admin("mailbox", "members", secretariat, "add", lea, "--rights", "lrs", "--send-as")
    shown = server.admin("mailbox", "members", secretariat, "show")
    assert f"{lea}\t*\tlrs +envoi-en-tant-que" in shown, shown
    assert submit(server, lea, lea, parent, message(f"Secrétariat <{secretariat}>", parent, "Convocation")) == {}
    assert submit(server, lea, secretariat, parent, message(secretariat, parent, "Rappel")) == {}
    received = {m["subject"]: m for m in server.messages(parent)}
    assert set(received) == {"Convocation", "Rappel"}, received
    raw = server.admin_bytes("message", "get", parent, str(received["Convocation"]["uid"]))
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert f"<{secretariat}>".encode() in head
    assert b"\nSender:" not in head, head
    sent = sorted(m["subject"] for m in server.messages(secretariat) if m["mailbox"] == "Envoyés")
    assert sent == ["Convocation", "Rappel"], sent
    journal = server.admin("mailbox", "journal", secretariat)
    assert f"{lea}\tenvoi\ten tant que" in journal, journal
    # Claire, a member without a sending right: refused as before, with 5.7.1.
    with pytest.raises(smtplib.SMTPResponseException) as refused:
        submit(server, claire, claire, parent, message(secretariat, parent, "Claire essaie"))
    assert refused.value.smtp_code == 553 and b"5.7.1" in refused.value.smtp_error, refused.value
    assert {m["subject"] for m in server.messages(parent)} == {"Convocation", "Rappel"}


def test_claire_shares_a_folder_read_only_and_pauls_delete_fails(college):
    server, claire, paul, _ = college
    k = imap(server, claire)
    k.create_folder("Conseils")
    k.append("Conseils", message(claire, claire, "Compte rendu du conseil"))
    k.setacl("Conseils", paul, "lr")
    acl = dict(k.getacl("Conseils"))
    assert acl[paul.encode()] == b"lr" and acl[claire.encode()] == b"lrswipkxtea", acl
    with pytest.raises(imapclient.exceptions.IMAPClientError, match="z"):
        k.setacl("Conseils", paul, "lrz")
    assert dict(k.getacl("Conseils"))[paul.encode()] == b"lr"

    p = imap(server, paul)
    folder = "Partages/claire.martin/Conseils"
    assert folder in [name for _, _, name in p.list_folders("Partages/", "*")]
    assert "Partages/claire.martin/INBOX" not in [name for _, _, name in p.list_folders("Partages/", "*")]
    # A folder Paul may not change opens read-only, even with SELECT (imaplib refuses to go on).
    with pytest.raises(imaplib.IMAP4.readonly):
        p.select_folder(folder)
    p.select_folder(folder, readonly=True)
    uids = p.search("ALL")
    assert len(uids) == 1
    with pytest.raises(imapclient.exceptions.IMAPClientError):
        p.delete_messages(uids)
    with pytest.raises(imapclient.exceptions.IMAPClientError, match="READ-ONLY"):
        p.expunge()
    # With « s » (keep \Seen) it opens read-write, and the delete is refused by the rights.
    k.setacl("Conseils", paul, "+s")
    p.select_folder(folder)
    with pytest.raises(imapclient.exceptions.IMAPClientError, match="NOPERM"):
        p.delete_messages(uids)
    # Another folder of Claire's is answered exactly like one that does not exist.
    with pytest.raises(imapclient.exceptions.IMAPClientError, match="NONEXISTENT"):
        p.select_folder("Partages/claire.martin/INBOX")
    with pytest.raises(imapclient.exceptions.IMAPClientError, match="NONEXISTENT"):
        p.select_folder("Partages/claire.martin/Nulle-part")
    # Claire still has the message.
    k.select_folder("Conseils")
    assert len(k.search("ALL")) == 1
    p.logout()
    k.logout()
