"""Attached messages read inline (issue 19), on the real binary in headless
Chromium: a message forwarded as an attachment from the webmail opens with
« Lire » in the reader's layout (its From, To, Date, Subject, its body, its
own files downloadable); a hostile HTML message attached to a mail from
outside shows cleaned in the sandboxed frame, its script never runs and its
remote images stay blocked; nested messages open in turn; another account
gets the 404 page."""

import re
import urllib.parse
from email.message import EmailMessage

import pytest

from conftest import DOMAIN, IN_CI

try:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium not installed: {e}", allow_module_level=True)

from test_web_identity import PASSWORD, base, browser, wait_path  # noqa: F401
from test_webmail import get_with_cookies, login, open_message
from test_webmail_compose import fill, send_now
from test_webmail_reading import CLAIRE, PAUL, deliver, start

HOSTILE = ('<p id="texte">Veuillez confirmer vos identifiants.</p>'
           '<script>window.pirate = 1; parent.document.title = "pirate"; alert("script")</script>'
           '<img src="https://pisteur.example/oeil.png" alt="pisteur" onerror="window.pirate = 2; alert(\'img\')">'
           '<a href="javascript:alert(\'lien\')">Confirmer</a>')


def path_of(driver):
    return urllib.parse.urlparse(driver.current_url).path


def no_alert(driver):
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - reading it is the check


def read_link(driver, name):
    return driver.find_element(
        By.XPATH, f"//ul[@id='pieces-jointes']/li[a[normalize-space()='{name}']]/a[@class='lire-pj']")


def test_a_message_forwarded_as_attachment_reads_inline_with_its_own_files(server, browser):
    start(server)
    original = EmailMessage()
    original["From"], original["To"] = f"Direction <direction@{DOMAIN}>", PAUL
    original["Subject"] = "Sortie au musée"
    original["Date"] = "Thu, 19 Nov 2026 10:00:00 +0100"
    original.set_content("Départ à 8 h devant le collège.\n")
    original.add_attachment(b"Liste des eleves\n", maintype="text", subtype="plain", filename="liste.txt")
    deliver(server, original, PAUL)

    # Paul forwards it to Claire as an attachment, from the webmail.
    login(browser, server, PAUL)
    open_message(browser, "Sortie au musée")
    browser.find_element(By.ID, "transferer-pj").click()
    wait_path(browser, "/courrier/ecrire")
    fill(browser, "to", CLAIRE)
    fill(browser, "subject", "Tr: Sortie au musée")
    send_now(browser)

    login(browser, server, CLAIRE)
    open_message(browser, "Tr: Sortie au musée")
    outer = path_of(browser)
    files = browser.find_elements(By.CSS_SELECTOR, "#pieces-jointes > li")
    assert len(files) == 1, [f.text for f in files]
    link = files[0].find_element(By.CLASS_NAME, "lire-pj")
    assert link.text.startswith("Lire")
    # « Lire » sits beside the download, which stays.
    assert files[0].find_element(By.CSS_SELECTOR, "a[download]")
    link.click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "objet").text == "Sortie au musée")
    assert path_of(browser) == f"{outer}/joint/0"
    assert browser.find_element(By.ID, "de").text == f"Direction <direction@{DOMAIN}>"
    assert browser.find_element(By.ID, "a").text == PAUL
    date = browser.find_element(By.XPATH, "//dt[normalize-space()='Date']/following-sibling::dd[1]")
    assert date.text == "19/11/2026 10:00", "in the reader's zone, like any message"
    assert "Départ à 8 h devant le collège." in browser.find_element(By.ID, "corps").text
    # Its own file downloads, and the attached message as a whole too.
    inner_file = browser.find_element(By.XPATH, "//ul[@id='pieces-jointes']//a[normalize-space()='liste.txt']")
    resp, body = get_with_cookies(browser, server, urllib.parse.urlparse(inner_file.get_attribute("href")).path)
    assert resp.status == 200 and body == b"Liste des eleves\n"
    assert resp.getheader("Content-Disposition").startswith("attachment;")
    assert not browser.find_elements(By.CLASS_NAME, "lire-pj"), "a text file is not a message"
    whole = browser.find_element(By.ID, "telecharger-joint").get_attribute("href")
    resp, body = get_with_cookies(browser, server, urllib.parse.urlparse(whole).path)
    assert resp.status == 200 and f"From: Direction <direction@{DOMAIN}>".encode() in body
    # Back to the message it came with.
    browser.find_element(By.ID, "retour-message").click()
    WebDriverWait(browser, 10).until(lambda d: path_of(d) == outer)

    # Paul cannot open Claire's attached message.
    login(browser, server, PAUL)
    for path in (f"{outer}/joint/0", f"{outer}/joint/0/contenu", f"{outer}/joint/0/pj/0"):
        resp, body = get_with_cookies(browser, server, path)
        assert resp.status == 404, path
        assert "Sortie au mus".encode() not in body and b"Liste des eleves" not in body


def test_a_hostile_attached_message_runs_nothing_and_nested_ones_open_in_turn(server, browser):
    start(server)
    hostile = EmailMessage()
    hostile["From"], hostile["To"] = "Support <support@banque.example>", CLAIRE
    hostile["Subject"] = "Vérification de votre compte"
    hostile.set_content(HOSTILE, subtype="html")
    middle = EmailMessage()
    middle["From"], middle["To"] = f"Paul Durand <{PAUL}>", CLAIRE
    middle["Subject"] = "Regarde ce message"
    middle.set_content("Reçu ce matin, ci-joint.\n")
    middle.add_attachment(hostile)
    outer = EmailMessage()
    outer["From"], outer["To"] = "Inconnu <inconnu@ailleurs.example>", CLAIRE
    outer["Subject"] = "Transfert en cascade"
    outer.set_content("Deux messages l'un dans l'autre.\n")
    outer.add_attachment(middle)
    outer.add_attachment(b"%PDF-1.4\n", maintype="application", subtype="pdf", filename="note.pdf")
    deliver(server, outer, CLAIRE)

    login(browser, server, CLAIRE)
    open_message(browser, "Transfert en cascade")
    outer_path = path_of(browser)
    assert len(browser.find_elements(By.CLASS_NAME, "lire-pj")) == 1, "the PDF is not a message"
    browser.find_element(By.CLASS_NAME, "lire-pj").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "objet").text == "Regarde ce message")
    assert "Reçu ce matin" in browser.find_element(By.ID, "corps").text

    browser.find_element(By.CLASS_NAME, "lire-pj").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "objet").text == "Vérification de votre compte")
    assert path_of(browser) == f"{outer_path}/joint/0.0"
    assert browser.find_element(By.ID, "images-masquees"), "remote images are blocked"
    frame = browser.find_element(By.ID, "corps")
    assert frame.tag_name == "iframe"
    # Scripts only for our nonce'd height script (the frame's CSP); never the page's origin.
    assert frame.get_attribute("sandbox") == "allow-scripts allow-popups allow-popups-to-escape-sandbox"
    frame_path = urllib.parse.urlparse(frame.get_attribute("src")).path
    assert frame_path == f"{outer_path}/joint/0.0/contenu"
    browser.switch_to.frame(frame)
    assert "Veuillez confirmer" in browser.find_element(By.TAG_NAME, "body").text
    # One script only, ours (its nonce is the CSP's); none of the mail's ran.
    assert len(browser.find_elements(By.TAG_NAME, "script")) == 1
    assert browser.find_elements(By.CSS_SELECTOR, "head > script")
    assert browser.execute_script("return typeof window.pirate") == "undefined"
    assert not browser.find_elements(By.CSS_SELECTOR, "img[src^='https:']")
    assert not browser.find_elements(By.CSS_SELECTOR, "[onerror]")
    assert not browser.find_elements(By.CSS_SELECTOR, "a[href^='javascript:']")
    browser.switch_to.default_content()
    no_alert(browser)
    assert browser.title != "pirate"

    # The frame has its own CSP: nothing runs, even opened on its own.
    resp, body = get_with_cookies(browser, server, frame_path)
    assert resp.status == 200
    csp = resp.getheader("Content-Security-Policy")
    assert csp.startswith("default-src 'none'") and "https:" not in csp, csp
    nonce = re.search(r"script-src 'nonce-([0-9a-f]{32})';", csp).group(1)
    assert "unsafe" not in csp.split("script-src", 1)[1].split(";", 1)[0] and "allow-same-origin" not in csp, csp
    assert body.count(b"<script") == 1 and f'<script nonce="{nonce}">'.encode() in body
    browser.get(base(server) + frame_path)
    no_alert(browser)

    # Past the nesting or beside it: the 404 page.
    for path in (f"{outer_path}/joint/1", f"{outer_path}/joint/0.1", f"{outer_path}/joint/0.0.0.0"):
        resp, _ = get_with_cookies(browser, server, path)
        assert resp.status == 404, path
