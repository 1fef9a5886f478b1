"""The administration console (issue 24): an académie administrator logs in with
password and TOTP, finds Paul, suspends him (his IMAP login is then refused),
reactivates him, gives him a provisional password shown once, and reads the
audit log, where every action names the administrator."""

import re
import time

import pytest

from conftest import DOMAIN
from test_web_identity import (PASSWORD, base, browser, error_text, imap_login, next_step_code,  # noqa: F401
                               wait_path, web_login)

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

import pyotp

ADMIN_PASSWORD = "Console-Rectorat-2026!"


def click(driver, css):
    driver.find_element(By.CSS_SELECTOR, css).click()


def submit_code(driver, code):
    driver.find_element(By.ID, "code").send_keys(code)
    click(driver, "form.formulaire button[type=submit]")


def test_admin_suspends_reactivates_and_resets_paul(server, browser):
    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    paul = server.create("paul.durand", password=PASSWORD)
    teacher = server.create("claire.martin", password=PASSWORD)
    admin = server.create("rectorat", password=ADMIN_PASSWORD)
    server.admin("grant", "add", admin, "admin-academie", "--unit", "Académie de test")
    server.start()
    assert imap_login(server, paul, PASSWORD) is True

    # A teacher finds no console.
    web_login(browser, server, teacher, PASSWORD)
    wait_path(browser, "/courrier")
    browser.get(base(server) + "/admin")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Page introuvable"
    click(browser, "form[action='/deconnexion'] button")
    wait_path(browser, "/connexion")

    # The administrator must set up TOTP before anything else.
    web_login(browser, server, admin, ADMIN_PASSWORD)
    wait_path(browser, "/2fa/activer")
    secret = browser.find_element(By.ID, "totp-secret").text.strip()
    enrol_step = int(time.time()) // 30
    submit_code(browser, pyotp.TOTP(secret).now())
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "codes")))
    click(browser, "#continuer")
    # Then logs in again: password, then a code.
    browser.get(base(server) + "/admin")
    click(browser, "form[action='/deconnexion'] button")
    wait_path(browser, "/connexion")
    web_login(browser, server, admin, ADMIN_PASSWORD)
    wait_path(browser, "/connexion/code")
    submit_code(browser, next_step_code(secret, enrol_step))
    WebDriverWait(browser, 20).until(lambda d: "/connexion" not in d.current_url)

    # Search Paul, open his page.
    browser.get(base(server) + "/admin/comptes")
    browser.find_element(By.ID, "q").send_keys("paul")
    before = browser.find_element(By.TAG_NAME, "main")
    click(browser, "form.recherche-comptes button[type=submit]")
    # The results page replaces this one (whose list may already name Paul): wait for it first.
    WebDriverWait(browser, 10).until(EC.staleness_of(before))
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.LINK_TEXT, paul))).click()
    assert browser.find_element(By.ID, "etat-compte").text == "actif"

    # Suspend: the box must be ticked; then Paul's IMAP login is refused.
    click(browser, "#confirmer-suspension")
    click(browser, "#suspendre")
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "etat-compte"), "suspendu"))
    assert imap_login(server, paul, PASSWORD) is not True

    # Reactivate: Paul logs in again.
    click(browser, "#reactiver")
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "etat-compte"), "actif"))
    assert imap_login(server, paul, PASSWORD) is True

    # A provisional password, shown once; IMAP wants the web's first login first.
    click(browser, "#confirmer-reinitialisation")
    click(browser, "#reinitialiser")
    provisional = WebDriverWait(browser, 10).until(
        EC.presence_of_element_located((By.ID, "mot-de-passe-provisoire"))).text.strip()
    assert len(provisional) >= 16
    assert browser.find_element(By.ID, "etat-compte").text == "provisoire"
    assert "CONTACTADMIN" in str(imap_login(server, paul, provisional))
    browser.refresh()
    assert provisional not in browser.page_source

    # The audit log: the chain verifies, each action names the administrator.
    browser.get(base(server) + "/admin/journal?cible=paul")
    assert "Chaîne vérifiée" in browser.find_element(By.ID, "chaine").text
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")]
    for action in ("account.suspend", "account.activate", "account.reset-password"):
        assert any(action in r and admin in r for r in rows), rows
    assert provisional not in browser.page_source
