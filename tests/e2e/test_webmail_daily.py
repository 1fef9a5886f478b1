"""The webmail as a daily mail client (issue 19), on the real binary in
headless Chromium: the login lands on the Inbox, one header on every
signed-in page, nothing wider than a 320 px screen."""


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

from test_web_identity import PASSWORD, Http, base, browser, wait_path, web_login  # noqa: F401
from test_webmail import deliver, open_message

CLAIRE = f"claire.martin@{DOMAIN}"
PAUL = f"paul.durand@{DOMAIN}"

HEADER = {"lien-courrier": "Courrier", "lien-reglages": "Réglages", "lien-securite": "Sécurité", "lien-aide": "Aide"}


def mail(subject, body, sender=f"Paul Durand <{PAUL}>", to=CLAIRE):
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


def screen(driver, width, height):
    """The viewport of a phone, exactly (a window cannot be made that narrow everywhere)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})


def desktop(driver):
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def overflow(driver):
    """How many pixels the page is wider than the screen (0 when it fits)."""
    return driver.execute_script(
        "return Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)")


def beyond_right_edge(driver, selector):
    """The visible elements matching `selector` whose right edge is off screen."""
    return driver.execute_script("""
        const w = document.documentElement.clientWidth;
        return Array.from(document.querySelectorAll(arguments[0]))
          .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > w + 0.5)
          .map(e => e.textContent.trim());""", selector)


def test_login_lands_on_the_inbox_and_every_page_has_one_header_and_fits_320_px(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    deliver(server, PAUL, CLAIRE, mail("Conseil de classe", "Le conseil de classe aura lieu jeudi."))
    # Another session and an app password, so that Sécurité has its buttons.
    other = Http(server)
    assert other.login(CLAIRE, PASSWORD)[0].status == 303
    browser.delete_all_cookies()
    web_login(browser, server, CLAIRE, PASSWORD)
    # Issue 19 item 8: « login lands on the Inbox », not on « Accueil ».
    wait_path(browser, "/courrier")
    assert browser.find_element(By.CSS_SELECTOR, "nav.dossiers a.courant").text.startswith("Boîte de réception")
    browser.get(base(server) + "/securite")
    browser.find_element(By.ID, "app-name").send_keys("Thunderbird du collège, poste de la salle des professeurs")
    browser.find_element(By.ID, "app-current").send_keys(PASSWORD)
    browser.find_element(By.ID, "creer-application").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "mot-de-passe-application")))
    browser.get(base(server) + "/courrier")
    open_message(browser, "Conseil de classe")
    reader = browser.current_url
    pages = ["/courrier", reader, "/courrier/ecrire", "/courrier/recherche?q=conseil", "/courrier/reglages",
             "/courrier/raccourcis", "/securite", "/securite/mot-de-passe", "/aide", "/accueil"]
    # « the same header everywhere with Courrier, …, Réglages, Sécurité, Aide ».
    for url in pages:
        browser.get(url if url.startswith("http") else base(server) + url)
        for link_id, text in HEADER.items():
            link = browser.find_element(By.CSS_SELECTOR, f"header nav.outils #{link_id}")
            assert link.text == text, (url, link_id, link.text)
    # Every header link leads somewhere that answers.
    browser.get(base(server) + "/aide")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Aide"
    # « no page wider than the screen at 320 px ».
    screen(browser, 320, 640)
    try:
        assert browser.execute_script("return document.documentElement.clientWidth") == 320
        wide = {}
        for url in pages:
            browser.get(url if url.startswith("http") else base(server) + url)
            WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
            if overflow(browser):
                wide[url] = overflow(browser)
        assert not wide, wide
        # Sécurité cut « Révoquer » and « Se déconnecter » off at 390 px.
        browser.get(base(server) + "/securite")
        cut = beyond_right_edge(browser, "main button, header button, header a")
        assert not cut, cut
        assert browser.find_elements(By.CSS_SELECTOR, "form[action$='/revoquer'] button")
        assert browser.find_elements(By.CSS_SELECTOR, "form[action='/securite/sessions/fin'] button")
    finally:
        desktop(browser)

