"""On a phone (390x844) the reading view starts with the message (issue 19,
item 3, its phone part): compact headers, the folders after the message, the
actions behind one « Actions sur le message » button; on a computer nothing
is folded. axe finds nothing serious in either theme."""

import pytest

from conftest import IN_CI

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium not installed: {e}", allow_module_level=True)

from test_web_identity import PASSWORD, base, browser  # noqa: F401
from test_webmail import open_message
from test_webmail_audit import axe_source, axe_violations
from test_webmail_compose import CLAIRE, PAUL, deliver, login
from test_webmail_daily import desktop, mail, screen
from test_webmail_density import choose

TOP = "return Math.round(document.querySelector(arguments[0]).getBoundingClientRect().top)"


def test_on_a_phone_the_message_comes_first(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    deliver(server, PAUL, CLAIRE, mail("Conseil de classe", "Ordre du jour : les bulletins.\n" * 20))
    login(browser, server, CLAIRE)
    source = axe_source()
    try:
        screen(browser, 390, 844)
        open_message(browser, "Conseil de classe")
        WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "plier-actions").is_displayed())
        assert browser.execute_script(TOP, "#corps") < 600, "the message's text is on the first screen"
        assert browser.execute_script(TOP, "#corps") < browser.execute_script(TOP, "nav.dossiers")
        reply = browser.find_element(By.ID, "repondre")
        assert not reply.is_displayed()
        toggle = browser.find_element(By.ID, "plier-actions")
        assert toggle.get_attribute("aria-expanded") == "false" and toggle.text.startswith("Actions")
        toggle.click()
        assert reply.is_displayed() and toggle.get_attribute("aria-expanded") == "true"
        reply.click()
        WebDriverWait(browser, 10).until(lambda d: "/courrier/ecrire" in d.current_url)
        for theme in ("theme-clair", "theme-sombre"):
            choose(browser, server, theme=theme)
            browser.get(base(server) + "/courrier")
            open_message(browser, "Conseil de classe")
            WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
            bad = [(v["id"], v["nodes"]) for v in axe_violations(browser, source) if v["impact"] in ("serious", "critical")]
            assert not bad, (theme, bad)
        # On a computer: nothing folded, no button.
        screen(browser, 1366, 768)
        browser.get(base(server) + "/courrier")
        open_message(browser, "Conseil de classe")
        assert browser.find_element(By.ID, "repondre").is_displayed()
        assert not browser.find_element(By.ID, "plier-actions").is_displayed()
    finally:
        desktop(browser)
