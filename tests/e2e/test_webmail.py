"""The webmail's first slice on the real binary, in headless Chromium: Claire
reads a seeded message and writes to Paul with an attachment; Paul finds it,
opens it, downloads the attachment, replies, files it in a new folder and
searches it; a hostile HTML message delivered over SMTP runs nothing and is
shown in a sandboxed frame with its own CSP."""

import http.client
import re
import smtplib
import time
import urllib.parse

import pytest

from conftest import DOMAIN, IN_CI

try:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium not installed: {e}", allow_module_level=True)

# The browser fixture (fails under CI when Chromium is missing) and the login helpers.
from test_web_identity import PASSWORD, base, browser, wait_path, web_login  # noqa: F401

CLAIRE = f"claire.martin@{DOMAIN}"
PAUL = f"paul.durand@{DOMAIN}"
SECRETARIAT = f"secretariat.0541234a@{DOMAIN}"


def deliver(server, sender, to, raw: bytes):
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=20) as s:
        assert s.sendmail(sender, [to], raw) == {}


def path(driver):
    return urllib.parse.urlparse(driver.current_url).path


def login(driver, server, address):
    driver.delete_all_cookies()
    web_login(driver, server, address, PASSWORD)
    wait_path(driver, "/courrier")


def open_message(driver, subject):
    link = WebDriverWait(driver, 10).until(
        EC.element_to_be_clickable((By.XPATH, f"//table[@id='messages']//a[normalize-space()='{subject}']")))
    link.click()
    WebDriverWait(driver, 10).until(EC.text_to_be_present_in_element((By.ID, "objet"), subject))


def folder_link(driver, name):
    return driver.find_element(By.XPATH, f"//nav[@class='dossiers']//a[.//span[@class='nom-dossier' and normalize-space()='{name}']]")


def alert_says(driver, *words):
    """Waits for the page's message to say `words` (the old page may still be shown)."""
    for w in words:
        WebDriverWait(driver, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".alerte"), w))
    return True


def get_with_cookies(driver, server, url_path):
    """GET with the browser's cookies (headers and bytes the browser hides)."""
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=20)
    conn.request("GET", url_path, headers={"Cookie": cookies})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp, body


def post_with_cookies(driver, server, url_path, form):
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=20)
    conn.request("POST", url_path, body=urllib.parse.urlencode(form),
                 headers={"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp, body


def compose(driver, to, subject, body, files=(), cc=""):
    driver.find_element(By.ID, "to").clear()
    driver.find_element(By.ID, "to").send_keys(to)
    driver.find_element(By.ID, "cc").clear()
    driver.find_element(By.ID, "cc").send_keys(cc)
    driver.find_element(By.ID, "subject").clear()
    driver.find_element(By.ID, "subject").send_keys(subject)
    driver.find_element(By.ID, "body").send_keys(body)
    for f in files:
        driver.find_element(By.ID, "pj").send_keys(str(f))
    driver.find_element(By.ID, "envoyer").click()


def test_claire_writes_paul_reads_replies_files_and_searches(server, browser, tmp_path):
    server.create("claire.martin", password=PASSWORD)
    server.create("paul.durand", password=PASSWORD)
    server.create("secretariat.0541234a", password=PASSWORD)
    server.start()
    deliver(server, f"secretariat@{DOMAIN}", CLAIRE,
            "From: Secrétariat <secretariat@ac-test.fr>\r\nTo: claire.martin@ac-test.fr\r\n"
            "Subject: Conseil de classe\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Le conseil de classe de 3e B aura lieu jeudi.\r\nOrdre du jour : https://ent.ac-test.fr/odj\r\n".encode())

    # Claire reads the seeded message: plain text, a clickable link, marked read.
    login(browser, server, CLAIRE)
    assert browser.find_element(By.CSS_SELECTOR, "nav.dossiers a.courant").text.startswith("Boîte de réception")
    assert browser.find_elements(By.CSS_SELECTOR, "tr.non-lu")
    open_message(browser, "Conseil de classe")
    claire_message = path(browser)
    body = browser.find_element(By.ID, "corps")
    assert "aura lieu jeudi" in body.text
    link = body.find_element(By.TAG_NAME, "a")
    assert link.get_attribute("href") == "https://ent.ac-test.fr/odj"
    assert "noopener" in link.get_attribute("rel")
    browser.find_element(By.PARTIAL_LINK_TEXT, "Retour à la liste").click()
    assert not browser.find_elements(By.CSS_SELECTOR, "tr.non-lu")

    # Clear errors for a bad address and for an unknown one; then the real message.
    browser.find_element(By.ID, "ecrire").click()
    wait_path(browser, "/courrier/ecrire")
    compose(browser, "pas une adresse", "Essai", "x")
    assert alert_says(browser, "Adresse invalide", "pas une adresse")
    compose(browser, f"personne@{DOMAIN}", "Essai", "")
    assert alert_says(browser, "n'existe pas", f"personne@{DOMAIN}")
    attachment = tmp_path / "programme sortie.txt"
    attachment.write_bytes("Départ 8 h 30, retour 17 h.\n".encode())
    browser.find_element(By.ID, "body").clear()
    compose(browser, PAUL, "Sortie au musée", "Bonjour Paul,\nvoici le programme de la sortie.\nClaire",
            [attachment], cc=SECRETARIAT)
    wait_path(browser, "/courrier")
    assert alert_says(browser, "envoyé")
    claire_mail = server.messages(CLAIRE)
    assert any(m["subject"] == "Sortie au musée" and m["mailbox"] == "Envoyés" for m in claire_mail), claire_mail
    assert any(m["subject"] == "Sortie au musée" for m in server.messages(SECRETARIAT))

    # Paul finds it, opens it, downloads the attachment as a download.
    login(browser, server, PAUL)
    # Claire's folders and messages are not his, whatever the address says.
    claire_folder = claire_message.rsplit("/", 1)[0]
    for other in (claire_message, claire_message + "/contenu", claire_message + "/pj/0", claire_folder):
        resp, page = get_with_cookies(browser, server, other)
        assert resp.status == 404, (other, resp.status)
        assert b"Conseil de classe" not in page
    # A state change without the CSRF token is refused.
    resp, _ = post_with_cookies(browser, server, claire_message, {"action": "supprimer"})
    assert resp.status == 403
    open_message(browser, "Sortie au musée")
    assert "voici le programme" in browser.find_element(By.ID, "corps").text
    assert CLAIRE in browser.find_element(By.ID, "de").text
    pj = browser.find_element(By.CSS_SELECTOR, "#pieces-jointes a")
    assert pj.text == "programme sortie.txt"
    resp, data = get_with_cookies(browser, server, urllib.parse.urlparse(pj.get_attribute("href")).path)
    assert resp.status == 200
    assert data == attachment.read_bytes()
    assert resp.getheader("Content-Disposition").startswith("attachment;")
    assert resp.getheader("X-Content-Type-Options") == "nosniff"
    message_path = path(browser)

    # Reply to all keeps the others in copy, never himself.
    browser.find_element(By.ID, "repondre-tous").click()
    wait_path(browser, "/courrier/ecrire")
    assert browser.find_element(By.ID, "to").get_attribute("value") == CLAIRE
    assert browser.find_element(By.ID, "cc").get_attribute("value") == SECRETARIAT
    browser.get(base(server) + message_path)

    # He replies: the form is filled in, and Claire gets the answer.
    browser.find_element(By.ID, "repondre").click()
    wait_path(browser, "/courrier/ecrire")
    assert browser.find_element(By.ID, "to").get_attribute("value") == CLAIRE
    assert browser.find_element(By.ID, "subject").get_attribute("value") == "Re: Sortie au musée"
    assert "> voici le programme" in browser.find_element(By.ID, "body").get_attribute("value")
    browser.find_element(By.ID, "envoyer").click()
    wait_path(browser, "/courrier")
    assert any(m["subject"] == "Re: Sortie au musée" and m["mailbox"] == "INBOX" for m in server.messages(CLAIRE))

    # He files it in a new folder.
    browser.find_element(By.ID, "nom-dossier").send_keys("Sorties scolaires")
    browser.find_element(By.CSS_SELECTOR, "form.nouveau-dossier button").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "titre-dossier"), "Sorties scolaires"))
    browser.get(base(server) + message_path)
    Select(browser.find_element(By.ID, "dossier")).select_by_visible_text("Sorties scolaires")
    browser.find_element(By.ID, "deplacer").click()
    assert alert_says(browser, "déplacé")
    assert not browser.find_elements(By.XPATH, "//table[@id='messages']//a[normalize-space()='Sortie au musée']")
    folder_link(browser, "Sorties scolaires").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "titre-dossier"), "Sorties scolaires"))

    # And searches it there, by a word of the body with its accent left out.
    browser.find_element(By.ID, "q").send_keys("programme musee")
    browser.find_element(By.CSS_SELECTOR, "form.recherche button").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "titre-dossier"), "Résultats"))
    assert browser.find_element(By.XPATH, "//table[@id='messages']//a[normalize-space()='Sortie au musée']")
    search = browser.find_element(By.ID, "q")
    search.clear()
    search.send_keys("introuvablexyz")
    browser.find_element(By.CSS_SELECTOR, "form.recherche button").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "aucun")))


HOSTILE = """From: Pirate <pirate@example.org>\r
To: paul.durand@ac-test.fr\r
Subject: Facture urgente\r
MIME-Version: 1.0\r
Content-Type: text/html; charset=utf-8\r
\r
<html><head><title>PWNED</title><script>top.document.title='PWNED';window.pwned=1;alert(1)</script>\r
<meta http-equiv="refresh" content="0;url=javascript:alert(2)"></head>\r
<body onload="window.pwned=3;alert(3)"><p>Veuillez <a href="javascript:alert(4)">payer</a> la facture.</p>\r
<img src="x" onerror="window.pwned=5;parent.postMessage({ardoiseHauteur:7},'*')"><svg onload="window.pwned=6"><script>window.pwned=7</script></svg>\r
<img src="https://tracker.example/pixel.gif" alt="pixel">\r
<a href="data:text/html,<script>alert(8)</script>">pdf</a>\r
<iframe src="javascript:alert(9)"></iframe><form action="https://evil.example"><input name=p></form>\r
<div style="background:url(https://tracker.example/bg.gif)">fond</div>\r
<math><mtext><table><mglyph><style><img src=x onerror=alert(10)></math>\r
</body></html>\r
"""


def only_our_script(csp, doc):
    """The frame's CSP allows one nonce and no other script source; the
    document's only script is ours, under that nonce, before the mail."""
    scripts = [d.strip() for d in csp.split(";") if d.strip().startswith("script-src")]
    assert len(scripts) == 1 and re.fullmatch(r"script-src 'nonce-[0-9a-f]{32}'", scripts[0]), csp
    nonce = scripts[0].split("'nonce-")[1].rstrip("'")
    assert "allow-scripts" in csp and "allow-same-origin" not in csp, csp
    assert doc.lower().count("<script") == 1 and f'<script nonce="{nonce}">' in doc, doc[:400]
    assert doc.index("<script") < doc.index("<body>")


def test_hostile_html_runs_nothing_and_stays_in_a_sandbox(server, browser):
    server.create("paul.durand", password=PASSWORD)
    server.start()
    deliver(server, "pirate@example.org", PAUL, HOSTILE.encode())
    login(browser, server, PAUL)
    open_message(browser, "Facture urgente")
    frame = browser.find_element(By.CSS_SELECTOR, "iframe#corps")
    sandbox = frame.get_attribute("sandbox")
    # Scripts are allowed in the sandbox only for our nonce'd height script
    # (the frame's CSP); never the page's origin.
    assert sandbox is not None and "allow-same-origin" not in sandbox and "allow-forms" not in sandbox
    assert "allow-top-navigation" not in sandbox and "allow-modals" not in sandbox
    # Let the frame load, then check that nothing ran, here or in the frame.
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(
        "return document.readyState") == "complete")
    time.sleep(1.0)
    try:
        alert = browser.switch_to.alert
        pytest.fail(f"an alert ran: {alert.text}")
    except NoAlertPresentException:
        pass
    assert "PWNED" not in browser.title and "Facture urgente" in browser.title
    assert browser.execute_script("return typeof window.pwned") == "undefined"
    assert path(browser).startswith("/courrier/")
    # In the frame: none of the mail's scripts or handlers ran; ours did (the
    # frame took the mail's height, not the 7 px a hostile handler posts).
    WebDriverWait(browser, 10).until(lambda d: "ajuste" in frame.get_attribute("class"))
    assert frame.size["height"] > 48, frame.size
    browser.switch_to.frame(frame)
    try:
        assert browser.execute_script("return typeof window.pwned") == "undefined"
        assert browser.execute_script("return window.origin") == "null", "an opaque origin"
    finally:
        browser.switch_to.default_content()
    # Remote images are hidden, with the offer to show them.
    assert browser.find_element(By.ID, "images-masquees")
    frame_path = urllib.parse.urlparse(frame.get_attribute("src")).path
    resp, html = get_with_cookies(browser, server, frame_path)
    doc = html.decode()
    html = doc.lower().split("<body>", 1)[1]
    csp = resp.getheader("Content-Security-Policy")
    assert csp.startswith("default-src 'none'") and "https:" not in csp
    only_our_script(csp, doc)
    assert resp.getheader("X-Content-Type-Options") == "nosniff"
    for bad in ("<script", "onerror", "onload", "javascript:", "data:text", "tracker.example", "<iframe", "<form",
                "<svg", "<math", "<meta"):
        assert bad not in html, (bad, html)
    assert "payer" in html and "facture" in html and "pwned" not in html
    # "Afficher les images": the frame is reloaded with HTTPS images allowed, still without scripts.
    browser.find_element(By.ID, "afficher-images").click()
    WebDriverWait(browser, 10).until(
        lambda d: "images=1" in d.find_element(By.CSS_SELECTOR, "iframe#corps").get_attribute("src"))
    src = browser.find_element(By.CSS_SELECTOR, "iframe#corps").get_attribute("src")
    resp, html = get_with_cookies(browser, server, urllib.parse.urlparse(src).path + "?images=1")
    assert "img-src data: https:" in resp.getheader("Content-Security-Policy")
    assert "https://tracker.example/pixel.gif" in html.decode()
    only_our_script(resp.getheader("Content-Security-Policy"), html.decode())
    try:
        browser.switch_to.alert
        pytest.fail("an alert ran after showing images")
    except NoAlertPresentException:
        pass
    assert browser.execute_script("return typeof window.pwned") == "undefined"
