"""postmaster@ and abuse@ of every local domain reach its administrators (issue 25 item 19):
delivered over SMTP with smtplib, read back over IMAP from each administrator's Inbox."""

import imaplib
import smtplib
import ssl

from conftest import DOMAIN
from test_smtp_delivery import expect_rcpt_code, message

PASSWORD = "Ardoise-Test-2026"


def inbox_subjects(server, address: str) -> list:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=ctx, timeout=20) as m:
        m.login(address, PASSWORD)
        m.select("INBOX", readonly=True)
        typ, data = m.search(None, "ALL")
        assert typ == "OK"
        subjects = []
        for num in data[0].split():
            typ, parts = m.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            assert typ == "OK"
            subjects.append(parts[0][1].decode().strip().removeprefix("Subject: "))
        return sorted(subjects)


def test_postmaster_and_abuse_reach_every_academie_administrator(server):
    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    chef = server.create("chef.dsi", password=PASSWORD)
    adjointe = server.create("adjointe.dsi", password=PASSWORD)
    helpdesk = server.create("assistance", password=PASSWORD)
    for who in (chef, adjointe):
        server.admin("grant", "add", who, "admin-academie", "--unit", "Académie de test")
    server.admin("grant", "add", helpdesk, "assistance", "--unit", "Académie de test")
    server.start()
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        s.ehlo("rapports.example.org")
        assert s.sendmail("dmarc@example.org", [f"postmaster@{DOMAIN}"], message("Rapport DMARC")) == {}
        assert s.sendmail("cert@example.org", [f"Abuse@{DOMAIN.upper()}"], message("Signalement abus")) == {}
        # RCPT TO:<postmaster>, with no domain (RFC 5321 section 4.5.1): the server's host name,
        # mx.ac-test.fr, is not a local domain, so it stands for postmaster@ac-test.fr.
        s.mail("mailer-daemon@example.org")
        assert s.rcpt("postmaster")[0] == 250
        code, _ = s.data(message("Sans domaine"))
        assert code == 250
    want = ["Rapport DMARC", "Sans domaine", "Signalement abus"]
    assert inbox_subjects(server, chef) == want
    assert inbox_subjects(server, adjointe) == want
    assert inbox_subjects(server, helpdesk) == [], "a helpdesk role is not an administrator"


def test_without_administrators_admin_receives_and_without_admin_it_is_refused(server):
    server.start()
    expect_rcpt_code(server.smtp_port, f"postmaster@{DOMAIN}", 550, "5.1.1")
    expect_rcpt_code(server.smtp_port, f"abuse@{DOMAIN}", 550, "5.1.1")
    admin = server.create("admin", password=PASSWORD)
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        assert s.sendmail("dmarc@example.org", [f"postmaster@{DOMAIN}"], message("Rapport DMARC")) == {}
    assert inbox_subjects(server, admin) == ["Rapport DMARC"]


def test_postmaster_of_another_domain_is_still_relaying(server):
    server.create("admin", password=PASSWORD)
    server.start()
    expect_rcpt_code(server.smtp_port, "postmaster@gmail.example", 554, "5.7.1")
    expect_rcpt_code(server.smtp_port, "abuse@gmail.example", 554, "5.7.1")


def test_a_local_user_writes_to_the_postmaster_over_submission(server):
    """Submission resolves postmaster@ and abuse@ as the MX does: the administrator receives them."""
    admin = server.create("admin", password=PASSWORD)
    claire = server.create("claire.martin", password=PASSWORD)
    server.start()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=20) as s:
        s.ehlo("poste.ac-test.fr")
        s.starttls(context=ctx)
        s.ehlo("poste.ac-test.fr")
        s.login(claire, PASSWORD)
        for to, subject in ((f"postmaster@{DOMAIN}", "Question au postmaster"), (f"abuse@{DOMAIN}", "Signalement abus")):
            body = f"From: {claire}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nBonjour.\r\n".encode()
            assert s.sendmail(claire, [to], body) == {}
    assert inbox_subjects(server, admin) == ["Question au postmaster", "Signalement abus"]
