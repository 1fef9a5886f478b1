"""Live updates of shared mail in the webmail (issue 22: a functional mailbox « in the webmail as a
second mailbox with its own unread counts and live updates »), on the real binary in headless
Chromium. Paul's page is never reloaded between a change and its showing (a marker set in the page
survives):
- on the secrétariat's functional mailbox, of which he and Claire are members: a message delivered
  over SMTP appears at the top of its list with its unread count; Claire, over IMAP (imapclient),
  marks a message read and moves another to « Archives »: the counts follow, and a message she moves
  into the folder Paul has open appears there;
- on a folder Claire shared with him read-only: what she files there over IMAP appears, her flag
  changes the count, and what arrives in her own Inbox (not shared) never shows in Paul's page."""

import time

import imapclient
import pytest

from conftest import DOMAIN, IN_CI

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium not installed: {e}", allow_module_level=True)

from test_delegation import tls_context
from test_web_identity import PASSWORD, browser  # noqa: F401
from test_webmail_compose import CLAIRE, PAUL, SECRETARIAT, deliver, login
from test_webmail_delegation import sidebar_link

PARENT = f"parent.eleve@{DOMAIN}"
SHARED = "Partages/secretariat.0541234a"


def imap(server, address):
    """imapclient over TLS, logged in with the webmail tests' password."""
    c = imapclient.IMAPClient("127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=tls_context(), timeout=30)
    c.login(address, PASSWORD)
    c.capabilities()  # cached: a UTF-8 SEARCH sends a literal
    return c


def mail(subject, to):
    return (f"From: Famille Dupont <{PARENT}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}.{time.time_ns()}@{DOMAIN}>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour.\r\n").encode()


def count(link):
    """The unread count shown beside a folder's link (0 without a badge)."""
    badges = link.find_elements(By.CSS_SELECTOR, ".compteur")
    return int(badges[0].text.split()[0]) if badges else 0


def count_becomes(driver, heading, name, n, timeout=15):
    WebDriverWait(driver, timeout).until(lambda d: count(sidebar_link(d, heading, name)) == n,
                                         f"{heading}/{name} never showed {n} unread")


def subjects(driver):
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "table#messages tbody td.objet a")]


def first_row_becomes(driver, subject, timeout=15):
    WebDriverWait(driver, timeout).until(lambda d: subjects(d)[:1] == [subject],
                                         f"{subject!r} never came to the top of the list")


def not_reloaded(driver):
    assert driver.execute_script("return window.sansRechargement") == 42, "the page was reloaded"


def uid_of(client, subject):
    found = client.search(["SUBJECT", subject], charset="UTF-8")
    assert len(found) == 1, (subject, found)
    return found[0]


def test_paul_sees_the_secretariat_change_live(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.create("paul.durand", password=PASSWORD)
    server.create("parent.eleve", password=PASSWORD)
    server.create("secretariat.0541234a", role="fonctionnel")
    server.admin("mailbox", "members", SECRETARIAT, "add", PAUL)
    server.admin("mailbox", "members", SECRETARIAT, "add", CLAIRE, "--rights", "lrswipte")
    server.start()
    deliver(server, PARENT, SECRETARIAT, mail("Certificat de scolarité", SECRETARIAT))
    claire = imap(server, CLAIRE)
    try:
        login(browser, server, PAUL)
        sidebar_link(browser, "secretariat.0541234a", "Boîte de réception").click()
        first_row_becomes(browser, "Certificat de scolarité")
        count_becomes(browser, "secretariat.0541234a", "Boîte de réception", 1)
        browser.execute_script("window.sansRechargement = 42;")

        # Delivered over SMTP: the row comes to the top, the count goes up.
        deliver(server, PARENT, SECRETARIAT, mail("Inscription en sixième", SECRETARIAT))
        first_row_becomes(browser, "Inscription en sixième")
        count_becomes(browser, "secretariat.0541234a", "Boîte de réception", 2)
        # Paul's own Inbox is untouched.
        own = browser.find_element(By.XPATH, "//nav[contains(@class,'dossiers')]/ul[1]//a[.//span[@class='nom-dossier']"
                                              "[normalize-space()='Boîte de réception']]")
        assert count(own) == 0
        not_reloaded(browser)

        # Claire reads one over IMAP: one unread left.
        claire.select_folder(f"{SHARED}/INBOX")
        claire.add_flags([uid_of(claire, "Certificat de scolarité")], [imapclient.SEEN])
        count_becomes(browser, "secretariat.0541234a", "Boîte de réception", 1)
        # She moves the unread one to « Archives »: the counts move with it.
        claire.move([uid_of(claire, "Inscription en sixième")], f"{SHARED}/Archives")
        count_becomes(browser, "secretariat.0541234a", "Boîte de réception", 0)
        count_becomes(browser, "secretariat.0541234a", "Archives", 1)
        not_reloaded(browser)

        # Paul opens « Archives » (a new page); what Claire moves there then shows up in it.
        sidebar_link(browser, "secretariat.0541234a", "Archives").click()
        first_row_becomes(browser, "Inscription en sixième")
        browser.execute_script("window.sansRechargement = 42;")
        claire.select_folder(f"{SHARED}/INBOX")
        claire.move([uid_of(claire, "Certificat de scolarité")], f"{SHARED}/Archives")
        first_row_becomes(browser, "Certificat de scolarité")
        assert sorted(subjects(browser)) == ["Certificat de scolarité", "Inscription en sixième"]
        count_becomes(browser, "secretariat.0541234a", "Archives", 1)
        not_reloaded(browser)
    finally:
        claire.logout()


def test_paul_sees_what_claire_files_in_the_folder_she_shared_and_nothing_else(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.create("paul.durand", password=PASSWORD)
    server.create("parent.eleve", password=PASSWORD)
    server.start()
    claire = imap(server, CLAIRE)
    try:
        claire.create_folder("Conseils")
        server.admin("delegate", "grant", CLAIRE, PAUL, "--folder", "Conseils", "--rights", "lr")
        deliver(server, PARENT, CLAIRE, mail("Compte rendu du conseil", CLAIRE))
        claire.select_folder("INBOX")
        claire.move([uid_of(claire, "Compte rendu du conseil")], "Conseils")

        login(browser, server, PAUL)
        sidebar_link(browser, "claire.martin", "Conseils").click()
        first_row_becomes(browser, "Compte rendu du conseil")
        count_becomes(browser, "claire.martin", "Conseils", 1)
        browser.execute_script("window.sansRechargement = 42;")

        # Mail to Claire's own Inbox is hers alone: never in Paul's page, not even announced.
        deliver(server, PARENT, CLAIRE, mail("Rendez-vous médical", CLAIRE))
        deliver(server, PARENT, CLAIRE, mail("Conseil de classe de 3e B", CLAIRE))
        # She files the second one in « Conseils » over IMAP: it appears in Paul's open list.
        claire.select_folder("INBOX")
        claire.move([uid_of(claire, "Conseil de classe de 3e B")], "Conseils")
        first_row_becomes(browser, "Conseil de classe de 3e B")
        count_becomes(browser, "claire.martin", "Conseils", 2)
        # She reads both there: the count drops to nothing.
        claire.select_folder("Conseils")
        claire.add_flags(claire.search(["ALL"]), [imapclient.SEEN])
        count_becomes(browser, "claire.martin", "Conseils", 0)
        not_reloaded(browser)
        page = browser.page_source
        assert "Rendez-vous médical" not in page
        announced = browser.find_element(By.ID, "annonces").get_attribute("textContent")
        assert "Rendez-vous" not in announced, announced
    finally:
        claire.logout()
