"""Mail clients set up without typing (issue 24, item 3).

Each answer is read the way its client reads it, then used: the settings that
Thunderbird's autoconfig, Outlook's autodiscover and the Apple profile give are
the ones this test connects with (imaplib and smtplib, each port and security
announced), so a wrong port or security fails here, not on a teacher's
computer. Bad input: a domain the server does not host, a malformed or
oversized Outlook request, another response schema or protocol."""

import http.client
import imaplib
import json
import plistlib
import re
import smtplib
import ssl
import time
import urllib.parse
import xml.etree.ElementTree as ET

from conftest import DOMAIN
from test_web_sessions import Http

PASSWORD = "Ardoise-Demo-2026"
OUTLOOK_REQUEST = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
OUTLOOK_RESPONSE = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
AUTODISCOVER = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"


def started(server):
    # [web] is the last section of the test configuration.
    server.config.write_text(server.config.read_text() + 'mail_host = "127.0.0.1"\n')
    address = server.create("claire.martin", password=PASSWORD)
    server.start()
    return address


def fetch(server, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=20)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def tls():
    return ssl._create_unverified_context()  # the test server's certificate is self-signed


def imap_works(host, port, security, user):
    if security == "SSL":
        imap = imaplib.IMAP4_SSL(host, port, ssl_context=tls())
    else:
        assert security == "STARTTLS", security
        imap = imaplib.IMAP4(host, port)
        imap.starttls(ssl_context=tls())
    imap.login(user, PASSWORD)
    status, _ = imap.select("INBOX")
    imap.logout()
    return status == "OK"


def smtp_sends(host, port, security, user, to, subject):
    if security == "SSL":
        smtp = smtplib.SMTP_SSL(host, port, context=tls(), timeout=20)
    else:
        assert security == "STARTTLS", security
        smtp = smtplib.SMTP(host, port, timeout=20)
        smtp.starttls(context=tls())
    smtp.login(user, PASSWORD)
    smtp.sendmail(user, [to], f"From: {user}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nBonjour.\r\n".encode())
    smtp.quit()


def arrived(server, address, subject):
    deadline = time.time() + 20
    while time.time() < deadline:
        if any(m.get("subject") == subject for m in server.messages(address)):
            return True
        time.sleep(0.2)
    return False


def test_thunderbird_autoconfig_gives_settings_that_work(server):
    address = started(server)
    for path in ("/.well-known/autoconfig/mail/config-v1.1.xml", "/mail/config-v1.1.xml"):
        resp, body = fetch(server, "GET", f"{path}?emailaddress={urllib.parse.quote(address)}")
        assert resp.status == 200, body
        assert resp.getheader("Content-Type").startswith("application/xml")
        root = ET.fromstring(body)
        assert root.tag == "clientConfig" and root.get("version") == "1.1"
        provider = root.find("emailProvider")
        assert [d.text for d in provider.findall("domain")] == [DOMAIN]
        incoming = [(s.findtext("port"), s.findtext("socketType")) for s in provider.findall("incomingServer")]
        outgoing = [(s.findtext("port"), s.findtext("socketType")) for s in provider.findall("outgoingServer")]
        # Implicit TLS first (RFC 8314), then STARTTLS; the ports actually bound.
        assert incoming == [(str(server.imaps_port), "SSL"), (str(server.imap_port), "STARTTLS")]
        assert outgoing == [(str(server.submissions_port), "SSL"), (str(server.submission_port), "STARTTLS")]
    for s in provider.findall("incomingServer"):
        assert s.get("type") == "imap" and s.findtext("authentication") == "password-cleartext"
        user = s.findtext("username").replace("%EMAILADDRESS%", address)
        assert imap_works(s.findtext("hostname"), int(s.findtext("port")), s.findtext("socketType"), user)
    for n, s in enumerate(provider.findall("outgoingServer")):
        assert s.get("type") == "smtp"
        user = s.findtext("username").replace("%EMAILADDRESS%", address)
        subject = f"autoconfig {n}"
        smtp_sends(s.findtext("hostname"), int(s.findtext("port")), s.findtext("socketType"), user, address, subject)
        assert arrived(server, address, subject)
    # Without an address: every hosted domain; with another domain's: not ours.
    resp, body = fetch(server, "GET", "/mail/config-v1.1.xml")
    assert resp.status == 200 and [d.text for d in ET.fromstring(body).iter("domain")] == [DOMAIN]
    resp, body = fetch(server, "GET", "/mail/config-v1.1.xml?emailaddress=quelquun@ailleurs.fr")
    assert resp.status == 404 and b"Page introuvable" in body
    # An address that does not exist gets the domain's answer: nothing tells accounts apart.
    _, known = fetch(server, "GET", f"/mail/config-v1.1.xml?emailaddress={address}")
    _, unknown = fetch(server, "GET", f"/mail/config-v1.1.xml?emailaddress=personne@{DOMAIN}")
    assert known == unknown


def outlook_request(address, schema=OUTLOOK_RESPONSE):
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{OUTLOOK_REQUEST}"><Request>'
        f"<EMailAddress>{address}</EMailAddress><AcceptableResponseSchema>{schema}</AcceptableResponseSchema>"
        "</Request></Autodiscover>"
    ).encode()


def test_outlook_autodiscover_gives_settings_that_work(server):
    address = started(server)
    xml_type = {"Content-Type": "text/xml"}
    resp, body = fetch(server, "POST", "/autodiscover/autodiscover.xml", outlook_request(address), xml_type)
    assert resp.status == 200, body
    ns = {"a": AUTODISCOVER, "o": OUTLOOK_RESPONSE}
    account = ET.fromstring(body).find("o:Response/o:Account", ns)
    assert account.findtext("o:AccountType", namespaces=ns) == "email"
    assert account.findtext("o:Action", namespaces=ns) == "settings"
    protocols = {p.findtext("o:Type", namespaces=ns): p for p in account.findall("o:Protocol", ns)}
    assert sorted(protocols) == ["IMAP", "SMTP"]
    for kind, p in protocols.items():
        host, port = p.findtext("o:Server", namespaces=ns), int(p.findtext("o:Port", namespaces=ns))
        assert p.findtext("o:LoginName", namespaces=ns) == address
        # Outlook: Encryption SSL = TLS from the first byte, TLS = STARTTLS.
        security = {"SSL": "SSL", "TLS": "STARTTLS"}[p.findtext("o:Encryption", namespaces=ns)]
        if kind == "IMAP":
            assert (port, security) == (server.imaps_port, "SSL")
            assert imap_works(host, port, security, address)
        else:
            assert (port, security) == (server.submissions_port, "SSL")
            smtp_sends(host, port, security, address, address, "autodiscover")
            assert arrived(server, address, "autodiscover")
    # The capitalised path Outlook also uses, and the JSON service newer Outlook asks first.
    resp, _ = fetch(server, "POST", "/Autodiscover/Autodiscover.xml", outlook_request(address), xml_type)
    assert resp.status == 200
    resp, body = fetch(server, "GET", f"/autodiscover/autodiscover.json/v1.0/{address}?Protocol=AutodiscoverV1")
    assert resp.status == 200 and json.loads(body)["Url"].endswith("/autodiscover/autodiscover.xml")


def test_outlook_autodiscover_refuses_what_is_not_a_request(server):
    address = started(server)

    def post(body):
        return fetch(server, "POST", "/autodiscover/autodiscover.xml", body, {"Content-Type": "text/xml"})

    for bad in (b"", b"<Autodiscover", b"pas du XML", b"<Autodiscover><Request/></Autodiscover>",
                outlook_request(address, "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006")):
        resp, body = post(bad)
        assert resp.status == 400, (bad, resp.status)
        assert ET.fromstring(body).findtext(f".//{{{AUTODISCOVER}}}ErrorCode") == "600", body
    resp, body = post(outlook_request("quelquun@ailleurs.fr"))
    assert resp.status == 404
    resp, _ = post(b"<Autodiscover>" + b" " * 100_000 + b"</Autodiscover>")
    assert resp.status == 413
    resp, body = fetch(server, "GET", f"/autodiscover/autodiscover.json/v1.0/{address}?Protocol=ActiveSync")
    assert resp.status == 400 and json.loads(body)["ErrorCode"] == "ProtocolNotSupported"


def test_signed_in_guide_and_apple_profile(server):
    address = started(server)
    resp, _ = fetch(server, "GET", "/aide/configuration")
    assert resp.status == 303, "signed out: to the login page"
    web = Http(server)
    web.login(address, PASSWORD)
    resp, page = web.request("GET", "/aide/configuration")
    assert resp.status == 200
    rows = re.findall(r'<tr class="(imap|envoi)"><th scope="row">[^<]*</th><td>([^<]*)</td><td>(\d+)</td><td>([^<]*)</td>', page)
    assert rows == [
        ("imap", "127.0.0.1", str(server.imaps_port), "SSL/TLS"),
        ("imap", "127.0.0.1", str(server.imap_port), "STARTTLS"),
        ("envoi", "127.0.0.1", str(server.submissions_port), "SSL/TLS"),
        ("envoi", "127.0.0.1", str(server.submission_port), "STARTTLS"),
    ], page
    assert f'<dd id="identifiant">{address}</dd>' in page
    resp, _ = web.request("GET", "/aide/configuration/ardoise.mobileconfig")
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "application/x-apple-aspen-config"
    # http.client's text decoding is fine here: the profile is UTF-8 XML.
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=20)
    conn.request("GET", "/aide/configuration/ardoise.mobileconfig",
                 headers={"Cookie": "; ".join(f"{k}={v}" for k, v in web.cookies.items())})
    profile = plistlib.loads(conn.getresponse().read())
    assert profile["PayloadType"] == "Configuration" and profile["PayloadVersion"] == 1
    (mail,) = profile["PayloadContent"]
    assert mail["PayloadType"] == "com.apple.mail.managed" and mail["EmailAccountType"] == "EmailTypeIMAP"
    assert mail["EmailAddress"] == mail["IncomingMailServerUsername"] == address
    assert "IncomingPassword" not in mail, "no password in a downloaded file"
    assert imap_works(mail["IncomingMailServerHostName"], mail["IncomingMailServerPortNumber"],
                      "SSL" if mail["IncomingMailServerUseSSL"] else "none", address)
    smtp_sends(mail["OutgoingMailServerHostName"], mail["OutgoingMailServerPortNumber"],
               "SSL" if mail["OutgoingMailServerUseSSL"] else "none", address, address, "profil")
    assert arrived(server, address, "profil")
    # The same profile when downloaded again (it replaces itself on the device).
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=20)
    conn.request("GET", "/aide/configuration/ardoise.mobileconfig",
                 headers={"Cookie": "; ".join(f"{k}={v}" for k, v in web.cookies.items())})
    again = plistlib.loads(conn.getresponse().read())
    assert again["PayloadUUID"] == profile["PayloadUUID"]


def test_health_and_readiness_answer_without_a_session(server):
    started(server)
    resp, body = fetch(server, "GET", "/healthz")
    assert (resp.status, body) == (200, b"ok\n")
    resp, body = fetch(server, "GET", "/readyz")
    assert (resp.status, body) == (200, b"ready\n")
    assert resp.getheader("Cache-Control") == "no-store"
