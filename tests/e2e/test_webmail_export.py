"""Réglages → « Exporter mes données » on the real binary (issue 23): Claire asks for her export in
headless Chromium; it is built in the background while the page reloads itself with its progress;
the archive is offered once, opened with zipfile, and holds her messages; Paul, logged in too, gets
404 for her link; the second download is refused; requests and downloads are in the audit log. An
export beyond `[export] max_size` is refused with a clear French message; a POST without its CSRF
token does nothing."""

import email
import io
import smtplib
import zipfile

import pytest

from conftest import DOMAIN, IN_CI

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium not installed: {e}", allow_module_level=True)

from test_web_identity import PASSWORD, Http, base, browser, wait_path  # noqa: F401
from test_webmail import get_with_cookies, login, post_with_cookies

CLAIRE = f"claire.martin@{DOMAIN}"
PAUL = f"paul.durand@{DOMAIN}"


def deliver(server, to, n, size=0):
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=20) as s:
        for i in range(n):
            body = "Bonjour,\r\n" + ("x" * 70 + "\r\n") * (size // 72) + "Claire\r\n"
            msg = (f"From: <parent{i}@dehors.example>\r\nTo: <{to}>\r\nSubject: Export message {i}\r\n"
                   f"Message-ID: <export-{i}@dehors.example>\r\n\r\n{body}").encode()
            assert s.sendmail(f"parent{i}@dehors.example", [to], msg) == {}


def test_export_is_built_in_the_background_offered_once_and_only_to_its_owner(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.create("paul.durand", password=PASSWORD)
    server.start()
    deliver(server, CLAIRE, 40)
    login(browser, server, CLAIRE)
    browser.find_element(By.ID, "lien-reglages").click()
    wait_path(browser, "/courrier/reglages")
    browser.find_element(By.ID, "lien-export").click()
    wait_path(browser, "/courrier/reglages/export")

    # Without the CSRF token nothing starts.
    resp, _ = post_with_cookies(browser, server, "/courrier/reglages/export", {})
    assert resp.status == 403
    assert not browser.find_elements(By.ID, "export-etat")

    browser.find_element(By.ID, "preparer-export").click()
    # The page reloads itself (a Refresh header, no script) until the archive is ready.
    link = WebDriverWait(browser, 60).until(
        EC.presence_of_element_located((By.ID, "telecharger-export"))).get_attribute("href")
    path = link.replace(base(server), "")
    assert path.startswith("/courrier/reglages/export/") and len(path) > 60, path
    page, _ = get_with_cookies(browser, server, "/courrier/reglages/export")
    csp = page.getheader("Content-Security-Policy")
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp

    # Paul, logged in, asks for Claire's link: the 404 page, and the link still works for her.
    paul = Http(server)
    resp, _ = paul.login(PAUL, PASSWORD)
    assert resp.status == 303, resp.status
    resp, text = paul.request("GET", path)
    assert resp.status == 404 and "Export message" not in text
    resp, text = Http(server).request("GET", path)
    assert resp.status in (303, 401) and "Export message" not in text

    resp, body = get_with_cookies(browser, server, path)
    assert resp.status == 200, resp.status
    assert resp.getheader("Content-Type") == "application/zip"
    assert resp.getheader("Content-Disposition").startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(body))
    names = archive.namelist()
    emls = [n for n in names if n.startswith("messages/INBOX/") and n.endswith(".eml")]
    assert len(emls) == 40, names
    subjects = {email.message_from_bytes(archive.read(n))["Subject"] for n in emls}
    assert subjects == {f"Export message {i}" for i in range(40)}
    assert "courrier/INBOX.mbox" in names and "journal.csv" in names
    assert archive.read("courrier/INBOX.mbox").count(b"\nFrom MAILER-DAEMON ") == 39

    # Once only.
    resp, _ = get_with_cookies(browser, server, path)
    assert resp.status == 404
    browser.refresh()
    assert browser.find_elements(By.ID, "preparer-export")
    assert not browser.find_elements(By.ID, "telecharger-export")
    audit = server.admin("audit", "list")
    assert "account.export.request" in audit and "account.export.download" in audit, audit


def test_an_export_over_the_cap_is_refused_with_a_clear_message(server):
    server.create("claire.martin", password=PASSWORD)
    server.config.write_text(server.config.read_text() + '\n[export]\nmax_size = "20K"\n')
    server.start()
    deliver(server, CLAIRE, 3, size=12_000)
    claire = Http(server)
    resp, _ = claire.login(CLAIRE, PASSWORD)
    assert resp.status == 303
    token = claire.csrf("/courrier/reglages/export")
    resp, _ = claire.request("POST", "/courrier/reglages/export", {"csrf": token})
    assert resp.status == 303
    resp, text = claire.request("GET", "/courrier/reglages/export")
    assert resp.status == 200
    assert "dépasse la taille maximale autorisée" in text and "20,0 Ko" in text, text
    assert "telecharger-export" not in text
