"""An HTML mail at its own height (issue 19, item 2), in headless Chromium:
the sandboxed frame's one script of ours (nonce'd, opaque origin) posts the
mail's height and the reading page sizes the frame to it. A short mail gets a
small frame; a long newsletter gets no scrollbar of its own; a mail made to
follow the frame's height (100vh) does not grow without end; a height posted
by a window other than the frame is ignored."""

import time

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
from test_webmail_audit import html_mail
from test_webmail_compose import CLAIRE, deliver, login

NEWSLETTER = (
    "<h1>Lettre d'information de l'académie</h1>"
    + "".join(f"<h2>Rubrique {i}</h2><p>{'Actualité des établissements et des formations. ' * 12}</p>"
              f"<table><tr><td>Date</td><td>{i}/12</td></tr></table>" for i in range(60))
)


def frame_height(driver):
    frame = driver.find_element(By.CSS_SELECTOR, "iframe#corps")
    WebDriverWait(driver, 10).until(lambda d: "ajuste" in frame.get_attribute("class"))
    time.sleep(0.5)  # later reports (fonts, layout) settle
    return frame, frame.size["height"]


def inside(driver, frame, script):
    driver.switch_to.frame(frame)
    try:
        return driver.execute_script(script)
    finally:
        driver.switch_to.default_content()


def test_the_frame_takes_the_mail_height(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    deliver(server, "lettre@example.org", CLAIRE, html_mail("Court", b"<p>Bonjour, <b>merci</b>.</p>"))
    deliver(server, "lettre@example.org", CLAIRE, html_mail("Lettre longue", NEWSLETTER.encode()))
    deliver(server, "lettre@example.org", CLAIRE,
            html_mail("Toujours plus haut", b"<div style=\"height:120vh\">grandit avec le cadre</div>"))
    login(browser, server, CLAIRE)
    viewport = browser.execute_script("return window.innerHeight")

    browser.get(base(server) + "/courrier")
    open_message(browser, "Court")
    frame, height = frame_height(browser)
    assert height < 150, f"a short mail gets a small frame, not {height} px (viewport {viewport})"
    # A height posted by another window (the page itself here) is ignored.
    browser.execute_script("window.postMessage({ardoiseHauteur: 5000}, '*')")
    time.sleep(0.5)
    assert frame.size["height"] == height

    browser.get(base(server) + "/courrier")
    open_message(browser, "Lettre longue")
    frame, height = frame_height(browser)
    assert height > 2 * viewport, (height, viewport)
    inner, shown = inside(browser, frame, "return [document.documentElement.scrollHeight, window.innerHeight]")
    assert inner <= shown + 1, f"no scrollbar inside the frame: {inner} px in {shown} px"
    assert "Rubrique 59" in inside(browser, frame, "return document.body.innerText")

    browser.get(base(server) + "/courrier")
    open_message(browser, "Toujours plus haut")
    frame, _ = frame_height(browser)
    time.sleep(2)
    first = frame.size["height"]
    time.sleep(1)
    assert frame.size["height"] == first <= 60000, "bounded, and it stops"
