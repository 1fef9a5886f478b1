"""Delegation in the webmail (issue 22) on the real binary, in headless Chromium:
Paul, member of the secrétariat's functional mailbox, reads its mail in the
webmail (a second mailbox below his folders, with its own unread count) and
answers « de la part de » it: the recipient sees From: secrétariat and
Sender: Paul, the copy is in the secrétariat's Envoyés (read over IMAP).
Claire shares a folder read-only with Paul from « Partager ce dossier »; Paul
sees it and cannot delete from it (no button, and a forged POST is refused
by the server); Claire revokes in Réglages → Délégations and Paul's view is
gone. axe-core finds no serious violation on the new pages."""

import urllib.parse

import pytest

from conftest import DOMAIN, IN_CI

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium not installed: {e}", allow_module_level=True)

from test_web_identity import PASSWORD, base, browser, wait_path  # noqa: F401
from test_webmail_audit import axe_source, axe_violations
from test_webmail_compose import CLAIRE, PAUL, SECRETARIAT, alert_says, deliver, fill, http, imap_fetch, login

PARENT = f"parent.eleve@{DOMAIN}"
SENT = "Envoy&AOk-s"


def no_serious_violation(driver, source, where):
    bad = [(v["id"], v["nodes"]) for v in axe_violations(driver, source) if v["impact"] in ("serious", "critical")]
    assert not bad, f"{where}: {bad}"


def mail(subject, body, sender=PARENT, to=SECRETARIAT):
    return (f"From: Famille Dupont <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@{DOMAIN}>\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


def sidebar_link(driver, heading_text, name):
    """The link of folder `name` under the shared mailbox heading `heading_text`."""
    xpath = (f"//nav[contains(@class,'dossiers')]//h2[contains(normalize-space(), '{heading_text}')]"
             f"/following-sibling::ul[1]//a[.//span[@class='nom-dossier'][normalize-space()='{name}']]")
    return WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.XPATH, xpath)))


def folder_id(link):
    return urllib.parse.urlparse(link.get_attribute("href")).path.rsplit("/", 1)[1]


@pytest.fixture
def college(server):
    server.create("claire.martin", password=PASSWORD)
    server.create("paul.durand", password=PASSWORD)
    server.create("parent.eleve", password=PASSWORD)
    secretariat = server.create("secretariat.0541234a", role="fonctionnel")
    server.admin("mailbox", "members", secretariat, "add", PAUL, "--on-behalf")
    server.start()
    deliver(server, PARENT, SECRETARIAT, mail("Certificat de scolarité", "Pourriez-vous m'envoyer un certificat ?"))
    return server


def test_paul_reads_the_secretariat_and_answers_on_its_behalf(college, browser):
    server = college
    source = axe_source()
    login(browser, server, PAUL)
    link = sidebar_link(browser, "secretariat.0541234a", "Boîte de réception")
    assert link.find_element(By.CSS_SELECTOR, ".compteur").text.startswith("1"), link.text
    link.click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "boite-partagee"), SECRETARIAT))
    no_serious_violation(browser, source, "shared list")
    browser.find_element(By.XPATH, "//table[@id='messages']//a[normalize-space()='Certificat de scolarité']").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "repondre")))
    no_serious_violation(browser, source, "shared message")
    browser.find_element(By.ID, "repondre").click()
    wait_path(browser, "/courrier/ecrire")
    chosen = Select(browser.find_element(By.ID, "de")).first_selected_option
    assert chosen.get_attribute("value") == f"pour:{SECRETARIAT}", chosen.text
    assert "de la part de" in chosen.text
    fill(browser, "body", "Bonjour, le certificat est en pièce jointe du prochain envoi.")
    browser.find_element(By.ID, "envoyer").click()
    assert alert_says(browser, "envoyé")
    # The parent sees the secrétariat as author and Paul as sender.
    received = imap_fetch(server, PARENT)
    assert len(received) == 1, received
    _, answer = received[0]
    assert SECRETARIAT in answer["From"] and PAUL in answer["Sender"], (answer["From"], answer["Sender"])
    assert answer["Subject"] == "Re: Certificat de scolarité"
    # Filed in the secrétariat's Envoyés, not in Paul's.
    sent = [m for m in server.messages(SECRETARIAT) if m["mailbox"] == "Envoyés"]
    assert [m["subject"] for m in sent] == ["Re: Certificat de scolarité"], sent
    assert not [m for m in server.messages(PAUL) if m["mailbox"] == "Envoyés"]
    journal = server.admin("mailbox", "journal", SECRETARIAT)
    assert f"{PAUL}\tlecture" in journal and f"{PAUL}\tenvoi\tde la part de" in journal, journal


def test_claire_shares_a_folder_read_only_then_revokes(college, browser):
    server = college
    source = axe_source()
    deliver(server, PARENT, CLAIRE, mail("Compte rendu du conseil", "Le conseil s'est bien passé.", to=CLAIRE))
    login(browser, server, CLAIRE)
    # A folder « Conseils » holding the message.
    browser.find_element(By.ID, "nom-dossier").send_keys("Conseils")
    browser.find_element(By.CSS_SELECTOR, "form.nouveau-dossier button[type=submit]").click()
    alert_says(browser, "créé")
    browser.get(base(server) + "/courrier")
    row = WebDriverWait(browser, 10).until(EC.presence_of_element_located(
        (By.XPATH, "//table[@id='messages']//tr[.//a[normalize-space()='Compte rendu du conseil']]")))
    row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    Select(browser.find_element(By.ID, "lot-dossier")).select_by_visible_text("Conseils")
    browser.find_element(By.ID, "lot-deplacer").click()
    alert_says(browser, "déplacé")
    browser.find_element(By.XPATH, "//nav[contains(@class,'dossiers')]//a[.//span[normalize-space()='Conseils']]").click()
    browser.find_element(By.ID, "partager-dossier").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "titre-delegations"), "Conseils"))
    no_serious_violation(browser, source, "Délégations")
    # A student, an outside address, her own: each refused with its reason.
    for address, said in (("quelqu.un@example.org", "n'est pas de l'académie"),
                          (CLAIRE, "votre propre adresse"),
                          (f"inconnu@{DOMAIN}", "Aucun compte actif")):
        fill(browser, "adresse-delegue", address)
        browser.find_element(By.ID, "donner-delegation").click()
        WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".alerte.erreur"), said))
    fill(browser, "adresse-delegue", PAUL)
    browser.find_element(By.ID, "droits-lecture").click()
    browser.find_element(By.ID, "donner-delegation").click()
    alert_says(browser, "Délégation enregistrée")
    given = browser.find_element(By.ID, "delegations-donnees").text
    assert PAUL in given and "Conseils" in given and "lecture seule" in given, given

    # Paul sees it below his folders, read-only.
    login(browser, server, PAUL)
    link = sidebar_link(browser, "claire.martin", "Conseils")
    shared = folder_id(link)
    link.click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "boite-partagee"), "lecture seule"))
    assert not browser.find_elements(By.ID, "lot-supprimer")
    browser.find_element(By.XPATH, "//table[@id='messages']//a[normalize-space()='Compte rendu du conseil']").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "repondre")))
    assert not browser.find_elements(By.ID, "supprimer")
    message_path = urllib.parse.urlparse(browser.current_url).path
    # A forged POST with Paul's own session and token: refused by the server.
    token = browser.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")
    resp, body = http(server, "POST", message_path, browser, {"csrf": token, "action": "supprimer"})
    assert resp.status == 403, (resp.status, body[:300])
    assert "Vos droits sur cette boîte partagée" in body.decode()
    resp, _ = http(server, "POST", f"/courrier/{shared}/lot", browser,
                   {"csrf": token, "action": "supprimer", "portee": "dossier"})
    assert resp.status == 403
    conseils = [m for m in server.messages(CLAIRE) if m["mailbox"] == "Conseils"]
    assert len(conseils) == 1, "Claire still has it"

    # Claire revokes; Paul's view is gone (a 404 like a missing folder).
    login(browser, server, CLAIRE)
    browser.get(base(server) + "/courrier/reglages/delegations")
    browser.find_element(By.CSS_SELECTOR, "#delegations-donnees button.retirer-delegation").click()
    alert_says(browser, "Délégation retirée")
    login(browser, server, PAUL)
    assert not browser.find_elements(By.XPATH, "//nav[contains(@class,'dossiers')]//h2[contains(., 'claire.martin')]")
    resp, _ = http(server, "GET", message_path, browser)
    assert resp.status == 404
    resp, _ = http(server, "GET", f"/courrier/{shared}", browser)
    assert resp.status == 404
    browser.get(base(server) + "/courrier/reglages/delegations")
    received = browser.find_element(By.ID, "delegations-recues").text
    assert SECRETARIAT in received and CLAIRE not in received, received
