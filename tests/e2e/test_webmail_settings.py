"""The webmail's settings page on the real binary, in headless Chromium: Claire
sets her vacation reply in the page (clear errors first), then mail from
outside and from a colleague gets the automatic reply; she switches to English
and the dark theme, which follow her to her next login; the quota gauge shows
what her deliveries weigh and warns when nearly full; the administrators'
banner set with `ardoise admin banner` shows on every webmail page."""

import smtplib
import subprocess
import time

import pytest

from conftest import DOMAIN, IN_CI, binary

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium not installed: {e}", allow_module_level=True)

from test_vacation import queue_list, subjects, vacation, wait_for
from test_web_identity import PASSWORD, base, browser, wait_path, web_login  # noqa: F401
from test_webmail import get_with_cookies, login, post_with_cookies

CLAIRE = f"claire.martin@{DOMAIN}"
PAUL = f"paul.durand@{DOMAIN}"


def send(server, sender, to, subject, body="Bonjour.\r\n"):
    msg = (f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
           f"Message-ID: <{subject.replace(' ', '-')}@dehors.example>\r\n\r\n{body}").encode()
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=20) as s:
        assert s.sendmail(sender, [to], msg) == {}


def open_settings(driver):
    driver.find_element(By.ID, "lien-reglages").click()
    wait_path(driver, "/courrier/reglages")


def set_value(driver, element_id, value):
    """Date fields are typed differently by each locale: set them directly."""
    driver.execute_script("document.getElementById(arguments[0]).value = arguments[1];", element_id, value)


def test_vacation_reply_set_in_the_page_answers_outside_and_local_mail(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.create("paul.durand", password=PASSWORD)
    # Outside mail waits in the queue (a closed port) instead of depending on DNS.
    server.config.write_text(server.config.read_text() + '\n[outbound]\nmx_override = ["*=127.0.0.1:9"]\n')
    server.start()
    login(browser, server, CLAIRE)
    open_settings(browser)
    assert "désactivée" in browser.find_element(By.ID, "etat-absence").text

    # Switched on without a text, and with the last day before the first: both said clearly.
    browser.find_element(By.ID, "absence").click()
    set_value(browser, "debut", "2099-01-10")
    set_value(browser, "fin", "2099-01-03")
    assert browser.find_element(By.ID, "intervalle").get_attribute("value") == "7"
    browser.find_element(By.ID, "enregistrer-absence").click()
    errors = WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "erreurs-reglages"))).text
    assert "Indiquez le texte de la réponse automatique" in errors
    assert "précède le premier" in errors
    # The browser refuses an interval out of 1-365 by itself; the server does too, for any client.
    token = browser.find_element(By.CSS_SELECTOR, "form input[name=csrf]").get_attribute("value")
    resp, text = post_with_cookies(browser, server, "/courrier/reglages",
                                   {"csrf": token, "section": "absence", "absence": "1", "texte": "x",
                                    "intervalle": "0"})
    assert resp.status == 400 and "Intervalle invalide" in text.decode(), resp.status
    assert browser.find_element(By.ID, "absence").is_selected(), "what was typed is kept"
    # Without the CSRF token nothing is saved.
    resp, _ = post_with_cookies(browser, server, "/courrier/reglages",
                                {"section": "absence", "absence": "1", "texte": "Pirate"})
    assert resp.status == 403

    # Now a valid reply, with no dates: active at once.
    set_value(browser, "debut", "")
    set_value(browser, "fin", "")
    set_value(browser, "intervalle", "3")
    browser.find_element(By.ID, "objet-absence").send_keys("Absente jusqu'au 4 janvier")
    browser.find_element(By.ID, "texte-absence").send_keys("Bonjour,\nje suis absente jusqu'au 4 janvier.\nClaire")
    browser.find_element(By.ID, "enregistrer-absence").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".alerte.info"), "enregistrée"))
    assert "active" in browser.find_element(By.ID, "etat-absence").text
    assert browser.find_element(By.ID, "texte-absence").get_attribute("value").startswith("Bonjour,\nje suis absente")
    assert browser.find_element(By.ID, "intervalle").get_attribute("value") == "3"
    assert "intervalle / days : 3" in vacation(server, "show", CLAIRE)
    assert "reponse-automatique" in browser.find_element(By.ID, "absence-sieve").text
    assert not browser.find_elements(By.ID, "absence-script-propre"), "her (no) filter script has no reply of its own"

    # Mail from outside: the reply is queued to the outside sender with the null return path.
    send(server, "parent@dehors.example", CLAIRE, "Absence de Lucas")
    listing = wait_for(lambda: next((out for out in [queue_list(server)] if "<>" in out), None), "the queued reply")
    assert len([line for line in listing.splitlines() if "<>" in line]) == 1, listing
    # Mail from a colleague: the reply lands in his Inbox, with her subject and text.
    send(server, PAUL, CLAIRE, "Conseil de classe")
    wait_for(lambda: "Absente jusqu'au 4 janvier" in subjects(server, PAUL), "the local reply")
    uid = str(server.messages(PAUL)[0]["uid"])
    raw = server.admin_bytes("message", "get", PAUL, uid).decode()
    assert "Auto-Submitted: auto-replied" in raw and "absente jusqu'au 4 janvier" in raw, raw

    # Switched off in the page: a new sender gets nothing.
    browser.find_element(By.ID, "absence").click()
    browser.find_element(By.ID, "enregistrer-absence").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "etat-absence"), "désactivée"))
    server.create("direction")
    send(server, f"direction@{DOMAIN}", CLAIRE, "Apres les vacances")
    wait_for(lambda: "Apres les vacances" in subjects(server, CLAIRE), "the last delivery")
    time.sleep(1)
    assert server.messages(f"direction@{DOMAIN}") == []


def test_language_and_dark_theme_follow_the_account(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    login(browser, server, CLAIRE)
    open_settings(browser)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    light = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    browser.find_element(By.ID, "langue-en").click()
    browser.find_element(By.ID, "theme-sombre").click()
    browser.find_element(By.ID, "densite-compacte").click()
    browser.find_element(By.ID, "enregistrer-affichage").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "titre-reglages"), "Settings"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    classes = browser.find_element(By.TAG_NAME, "body").get_attribute("class").split()
    assert "theme-sombre" in classes and "densite-compacte" in classes, classes
    dark = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    text = browser.execute_script("return getComputedStyle(document.querySelector('main')).color")
    assert dark != light and dark == "rgb(18, 18, 18)", dark
    assert text == "rgb(238, 238, 238)", text
    # Invalid choices are refused, not stored.
    csrf = browser.find_element(By.CSS_SELECTOR, "#form-affichage input[name=csrf]").get_attribute("value")
    resp, page = post_with_cookies(browser, server, "/courrier/reglages", {
        "csrf": csrf, "section": "affichage", "densite": "compacte", "langue": "de", "theme": "sombre"})
    assert resp.status == 400 and b"Unknown display choice" in page

    # A new login from a browser that asks for French: the saved English and dark theme win.
    browser.delete_all_cookies()
    browser.get(base(server) + "/connexion?lang=fr")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    web_login(browser, server, CLAIRE, PASSWORD)
    wait_path(browser, "/courrier")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert "theme-sombre" in browser.find_element(By.TAG_NAME, "body").get_attribute("class")
    assert browser.find_element(By.ID, "lien-reglages").text == "Settings"


def test_quota_gauge_matches_deliveries_and_warns(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.create("paul.durand", password=PASSWORD, quota="20K")
    server.start()
    for i in range(3):
        send(server, "lettre@dehors.example", CLAIRE, f"Lettre {i}", "x" * (1000 * (i + 1)) + "\r\n")
    wait_for(lambda: len(server.messages(CLAIRE)) == 3, "three deliveries")
    used = sum(m["size"] for m in server.messages(CLAIRE))
    login(browser, server, CLAIRE)
    open_settings(browser)
    meter = browser.find_element(By.ID, "quota")
    assert int(float(meter.get_attribute("value"))) == used
    assert int(float(meter.get_attribute("max"))) == 1 << 30
    assert browser.find_element(By.ID, "quota-texte").get_attribute("data-octets") == str(used)
    assert "utilisés sur 1024,0 Mo" in browser.find_element(By.ID, "quota-texte").text
    assert not browser.find_elements(By.ID, "quota-alerte")

    # Paul's small mailbox, nearly full: the gauge warns.
    send(server, "lettre@dehors.example", PAUL, "Gros message", "y" * 19000 + "\r\n")
    wait_for(lambda: len(server.messages(PAUL)) == 1, "the delivery")
    login(browser, server, PAUL)
    open_settings(browser)
    assert int(float(browser.find_element(By.ID, "quota").get_attribute("value"))) == server.messages(PAUL)[0]["size"]
    assert "presque pleine" in browser.find_element(By.ID, "quota-alerte").text
    browser.get(base(server) + "/courrier")
    assert "presque pleine" in browser.find_element(By.ID, "quota-alerte").text, "said on every webmail page"
    browser.find_element(By.CSS_SELECTOR, "#quota-alerte a").click()
    wait_path(browser, "/courrier/reglages")
    # The links to the other settings.
    assert browser.find_element(By.ID, "lien-securite").get_attribute("href").endswith("/securite")
    assert browser.find_element(By.ID, "lien-identites").get_attribute("href").endswith("/courrier/reglages/identites")


def test_banner_set_by_the_cli_shows_on_every_webmail_page(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    login(browser, server, CLAIRE)
    assert not browser.find_elements(By.ID, "annonce")
    server.admin("banner", "set", "Maintenance samedi de 8 h à 10 h : la messagerie sera indisponible.",
                 "--until", "2099-12-31")
    for page in ("/courrier", "/courrier/reglages", "/courrier/ecrire"):
        browser.get(base(server) + page)
        banner = browser.find_element(By.ID, "annonce")
        assert banner.get_attribute("role") == "status"
        assert "Maintenance samedi" in banner.text, page
    # A date already over is refused; the audit log has the change.
    late = subprocess.run([binary(), "admin", "--config", str(server.config), "banner", "set", "Trop tard",
                           "--until", "2020-01-01"], capture_output=True, timeout=60)
    assert late.returncode != 0 and "déjà passé" in late.stderr.decode(errors="replace")
    assert "banner.set" in server.admin("audit", "list")
    server.admin("banner", "clear")
    browser.get(base(server) + "/courrier")
    assert not browser.find_elements(By.ID, "annonce")
    assert "banner.clear" in server.admin("audit", "list")
    # Markup in the text is shown as text, never as HTML.
    server.admin("banner", "set", "<b>gras</b> & <script>alert(1)</script>")
    browser.get(base(server) + "/courrier")
    assert browser.find_element(By.ID, "annonce").text == "<b>gras</b> & <script>alert(1)</script>"
    resp, page = get_with_cookies(browser, server, "/courrier")
    assert resp.status == 200 and b"<script>alert" not in page and b"<b>gras" not in page
