"""The administration console (issue 24): an académie administrator logs in with
password and TOTP, reaches the console from the header's « Administration » link
(which a teacher does not have), finds Paul, ends his web and IMAP sessions, suspends him (his IMAP login is then
refused), reactivates him, gives him a provisional password shown once, deletes a
message stuck in the outbound queue, and reads the audit log, where every action
names the administrator. axe-core checks every console page.

Then quotas « augmentées sur demande », lists and functional mailboxes: Paul
asks for more space in Réglages, the administrator approves it in « Demandes
d'espace » and Paul's IMAP quota grows; a member added to a list from the
console receives the next post (smtplib, imaplib); a member added to a
functional mailbox from the console is one for the CLI too."""

import imaplib
import json
import re
import subprocess
import time

import pytest

from conftest import DOMAIN, binary
from test_web_identity import (PASSWORD, Http, SourceIMAP4SSL, base, browser, error_text,  # noqa: F401
                               imap_login, next_step_code, wait_path, web_login)
from test_submission import starttls_client
from test_webmail_audit import axe_source, axe_violations

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


def enrol_and_log_in(browser, server, address, password):
    """An administrator's first login: the console wants TOTP set up first,
    then a login again with the password and a code."""
    web_login(browser, server, address, password)
    wait_path(browser, "/2fa/activer")
    secret = browser.find_element(By.ID, "totp-secret").text.strip()
    enrol_step = int(time.time()) // 30
    submit_code(browser, pyotp.TOTP(secret).now())
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "codes")))
    click(browser, "#continuer")
    browser.get(base(server) + "/admin")
    log_out(browser)
    web_login(browser, server, address, password)
    wait_path(browser, "/connexion/code")
    submit_code(browser, next_step_code(secret, enrol_step))
    WebDriverWait(browser, 20).until(lambda d: "/connexion" not in d.current_url)


def log_out(browser):
    click(browser, "form[action='/deconnexion'] button")
    wait_path(browser, "/connexion")


def axe_serious(browser, server, paths) -> dict:
    """axe-core's serious and critical violations on `paths`, at a desktop and a phone width."""
    source = axe_source()
    browser.set_script_timeout(60)
    found = {}
    for width in (1280, 390):
        browser.set_window_size(width, 900)
        for path in paths:
            browser.get(path if path.startswith("http") else base(server) + path)
            WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
            serious = [v for v in axe_violations(browser, source) if v["impact"] in ("serious", "critical")]
            if serious:
                found[f"{path} @{width}"] = serious
    browser.set_window_size(1280, 900)
    return found


def queue(server, *args) -> str:
    out = subprocess.run([binary(), "queue", "--config", str(server.config), *args], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out.stdout.decode(errors="replace")


def test_admin_suspends_reactivates_and_resets_paul(server, browser):
    # Remote mail goes to a closed port, so it stays queued (retried in an hour).
    server.config.write_text(server.config.read_text()
                             + '\n[outbound]\nmx_override = ["exemple.org=127.0.0.1:9"]\nretry_first = "1h"\n')
    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    paul = server.create("paul.durand", password=PASSWORD)
    teacher = server.create("claire.martin", password=PASSWORD)
    admin = server.create("rectorat", password=ADMIN_PASSWORD)
    server.admin("grant", "add", admin, "admin-academie", "--unit", "Académie de test")
    server.start()
    assert imap_login(server, paul, PASSWORD) is True
    # Claire writes to a parent: the message waits in the outbound queue.
    with starttls_client(server) as s:
        s.login(teacher, PASSWORD)
        s.sendmail(teacher, ["parent.eleve@exemple.org"],
                   (f"From: {teacher}\r\nTo: parent.eleve@exemple.org\r\nSubject: Sortie scolaire\r\n"
                    f"Message-ID: <sortie@{DOMAIN}>\r\n\r\nBonjour.\r\n").encode())
    waiting = queue(server, "list")
    assert teacher in waiting, waiting
    entry = waiting.split()[0]

    # A teacher finds no console, and no link to it.
    web_login(browser, server, teacher, PASSWORD)
    wait_path(browser, "/courrier")
    assert not browser.find_elements(By.ID, "lien-administration")
    browser.get(base(server) + "/admin")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Page introuvable"
    log_out(browser)

    # The administrator must set up TOTP before anything else.
    enrol_and_log_in(browser, server, admin, ADMIN_PASSWORD)

    # The header leads an administrator to the console, whose own menu lists its pages.
    WebDriverWait(browser, 10).until(EC.element_to_be_clickable((By.ID, "lien-administration"))).click()
    wait_path(browser, "/admin")
    menu = [a.get_attribute("id") for a in browser.find_elements(By.CSS_SELECTOR, "nav.console-nav a")]
    assert menu == ["console-organisation", "console-comptes", "console-file", "console-stockage",
                    "console-demandes", "console-listes", "console-boites", "console-quarantaine",
                    "console-politiques", "console-annuaire", "console-journal"], menu

    # Search Paul, open his page.
    browser.get(base(server) + "/admin/comptes")
    browser.find_element(By.ID, "q").send_keys("paul")
    before = browser.find_element(By.TAG_NAME, "main")
    click(browser, "form.recherche-comptes button[type=submit]")
    # The results page replaces this one (whose list may already name Paul): wait for it first.
    WebDriverWait(browser, 10).until(EC.staleness_of(before))
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.LINK_TEXT, paul))).click()
    assert browser.find_element(By.ID, "etat-compte").text == "actif"

    # Paul is signed in on the web and in IMAP: « Fermer toutes les sessions » ends both.
    paul_web = Http(server)
    resp, _ = paul_web.login(paul, PASSWORD)
    assert resp.status == 303, resp.status
    assert paul_web.request("GET", "/courrier")[0].status == 200
    paul_imap = SourceIMAP4SSL("127.0.0.1", server.imaps_port, "127.0.0.1")
    paul_imap.login(paul, PASSWORD)
    paul_imap.select("INBOX")
    browser.refresh()
    assert browser.find_element(By.ID, "nombre-sessions").text == "1"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#sessions tbody tr")) == 1
    click(browser, "#confirmer-fermeture")
    click(browser, "#fermer-sessions")
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "nombre-sessions"), "0"))
    resp, page = paul_web.request("GET", "/courrier")
    for _ in range(3):  # signed out: sent on to the login page
        if resp.status != 303:
            break
        resp, page = paul_web.request("GET", resp.getheader("Location"))
    assert resp.status == 200 and 'name="password"' in page, page
    closed = False
    for _ in range(20):
        try:
            paul_imap.noop()
        except (imaplib.IMAP4.abort, imaplib.IMAP4.error, OSError):
            closed = True
            break
        time.sleep(0.25)
    assert closed, "Paul's IMAP connection was closed"
    assert imap_login(server, paul, PASSWORD) is True, "the password still works"

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

    # The outbound queue: Claire's message, deleted with the keyboard once « Je confirme » is ticked.
    click(browser, "#console-file")
    wait_path(browser, "/admin/file")
    card = browser.find_element(By.ID, f"file-{entry}")
    assert teacher in card.text and "parent.eleve@exemple.org" in card.text, card.text
    browser.find_element(By.ID, f"confirmer-suppression-{entry}").send_keys(" ")
    browser.find_element(By.ID, f"supprimer-{entry}").send_keys("\n")
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"),
                                                                      "Message supprimé de la file."))
    assert not browser.find_elements(By.ID, f"file-{entry}")
    assert teacher not in queue(server, "list")

    # The audit log: the chain verifies, each action names the administrator.
    browser.get(base(server) + "/admin/journal?cible=paul")
    assert "Chaîne vérifiée" in browser.find_element(By.ID, "chaine").text
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")]
    for action in ("session.end-all", "account.suspend", "account.activate", "account.reset-password"):
        assert any(action in r and admin in r for r in rows), rows
    assert provisional not in browser.page_source
    browser.get(base(server) + "/admin/journal?cible=file")
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")]
    assert any("queue.delete" in r and admin in r and teacher in r for r in rows), rows

    # axe-core on every console page, at a desktop and a phone width.
    browser.get(base(server) + "/admin/comptes?q=paul")
    paul_page = browser.find_element(By.LINK_TEXT, paul).get_attribute("href")
    found = axe_serious(browser, server, ("/admin", "/admin/comptes?q=paul", paul_page, "/admin/file",
                                          "/admin/stockage", "/admin/quarantaine", "/admin/politiques",
                                          "/admin/annuaire", "/admin/journal"))
    assert not found, found


def wait_for(check, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {timeout} s")


def imap_quota(server, user) -> str:
    client = SourceIMAP4SSL("127.0.0.1", server.imaps_port, "127.0.0.1")
    try:
        client.login(user, PASSWORD)
        return str(client.getquotaroot("INBOX"))
    finally:
        client.logout()


def test_space_requests_lists_and_functional_mailboxes_from_the_console(server, browser):
    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    paul = server.create("paul.durand", quota="1M", password=PASSWORD)
    claire = server.create("claire.martin", password=PASSWORD)
    admin = server.create("rectorat", password=ADMIN_PASSWORD)
    secretariat = server.create("secretariat.0541234a", role="fonctionnel")
    equipe = f"equipe@{DOMAIN}"
    server.admin("list", "create", equipe, "--name", "Équipe pédagogique")
    server.admin("list", "add", equipe, paul)
    server.admin("grant", "add", admin, "admin-academie", "--unit", "Académie de test")
    server.start()
    assert re.search(r"STORAGE \d+ 1024\)", imap_quota(server, paul)), imap_quota(server, paul)

    # Paul asks for more space in Réglages, under his gauge.
    web_login(browser, server, paul, PASSWORD)
    wait_path(browser, "/courrier")
    browser.get(base(server) + "/courrier/reglages")
    browser.find_element(By.ID, "raison-espace").send_keys("Les bulletins du trimestre en pièces jointes")
    click(browser, "#demander-espace")
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "etat-demande-espace"),
                                                                      "en cours d'examen"))
    assert not browser.find_elements(By.ID, "form-espace"), "one open request at a time"
    log_out(browser)

    # The administrator finds it in « Demandes d'espace » and approves 2 Go.
    enrol_and_log_in(browser, server, admin, ADMIN_PASSWORD)
    browser.get(base(server) + "/admin")
    click(browser, "#console-demandes")
    wait_path(browser, "/admin/demandes")
    card = browser.find_element(By.CSS_SELECTOR, "article.demande")
    assert paul in card.text and "Les bulletins du trimestre" in card.text, card.text
    request = card.get_attribute("id").split("-")[1]
    field = browser.find_element(By.ID, f"quota-{request}")
    field.clear()
    field.send_keys("2G")
    click(browser, f"#accepter-{request}")
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"),
                                                                      "La demande a été acceptée"))
    assert not browser.find_elements(By.CSS_SELECTOR, "article.demande")
    # Paul's quota changed: his IMAP client sees 2 GiB (in KiB), and a notice is in his Inbox.
    assert re.search(r"STORAGE \d+ 2097152\)", imap_quota(server, paul)), imap_quota(server, paul)
    notices = wait_for(lambda: [m for m in server.messages(paul) if "Demande d'espace acceptée" in str(m)],
                       "notice to Paul")
    assert notices

    # « Listes »: the list's page; Claire added as a member receives the next post.
    click(browser, "#console-listes")
    wait_path(browser, "/admin/listes")
    browser.find_element(By.LINK_TEXT, equipe).click()
    members = browser.find_element(By.ID, "membres").text
    assert paul in members and claire not in members, members
    browser.find_element(By.ID, "nouveau-membre").send_keys(claire)
    click(browser, "#ajouter-membre")
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "membres"), claire))
    list_page = browser.current_url
    with starttls_client(server) as s:
        s.login(paul, PASSWORD)
        s.sendmail(paul, [equipe], (f"From: {paul}\r\nTo: {equipe}\r\nSubject: Conseil de classe\r\n"
                                    f"Message-ID: <conseil@{DOMAIN}>\r\n\r\nJeudi 17 h.\r\n").encode())
    client = SourceIMAP4SSL("127.0.0.1", server.imaps_port, "127.0.0.1")
    client.login(claire, PASSWORD)

    def claire_has_it():
        client.select("INBOX")
        return client.search(None, "SUBJECT", '"Conseil de classe"')[1][0].split()
    assert wait_for(claire_has_it, "post in Claire's Inbox")
    client.logout()

    # « Boîtes fonctionnelles »: Claire becomes a member of the secretariat, read only.
    click(browser, "#console-boites")
    wait_path(browser, "/admin/boites")
    browser.find_element(By.LINK_TEXT, secretariat).click()
    mailbox_page = browser.current_url
    browser.find_element(By.ID, "membre").send_keys(claire)
    rights = browser.find_element(By.ID, "droits")
    rights.clear()
    rights.send_keys("lr")
    click(browser, "#ajouter-membre-boite")
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "membres-boite"), claire))
    shown = server.admin("mailbox", "members", secretariat, "show")
    assert f"{claire}\t*\tlr" in shown, shown

    # Every change names the administrator in the audit log.
    browser.get(base(server) + "/admin/journal")
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")]
    for action, target in (("quota-request.approve", paul), ("list.add", equipe),
                           ("mailbox.member.add", secretariat)):
        assert any(action in r and admin in r and target in r for r in rows), (action, rows)

    # axe-core on the new pages, at a desktop and a phone width.
    source = axe_source()
    browser.set_script_timeout(60)
    found = {}
    for width in (1280, 390):
        browser.set_window_size(width, 900)
        for path in ("/admin/demandes", "/admin/listes", list_page, "/admin/boites", mailbox_page):
            browser.get(path if path.startswith("http") else base(server) + path)
            WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
            serious = [v for v in axe_violations(browser, source) if v["impact"] in ("serious", "critical")]
            if serious:
                found[f"{path} @{width}"] = serious
    browser.set_window_size(1280, 900)
    assert not found, found
    log_out(browser)
    # Réglages tells Paul, and offers to ask again.
    web_login(browser, server, paul, PASSWORD)
    wait_path(browser, "/courrier")
    browser.get(base(server) + "/courrier/reglages")
    assert "a été acceptée" in browser.find_element(By.ID, "etat-demande-espace").text
    assert browser.find_elements(By.ID, "form-espace")
HR_FILE = ("numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n"
           "41E0000001ABC;Mme;Lambert;Chloé;enseignant;actif;0571234A;;\n"
           "41E0000002ABC;M.;Morel;Hugo;administratif;actif;;;\n")


def test_hr_upload_dry_run_then_confirm_and_a_dsden_admin_refused(server, browser, tmp_path):
    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    server.admin("unit", "add", "DSDEN 57", "--kind", "dsden", "--parent", "Académie de test")
    server.admin("unit", "add", "Collège A", "--kind", "etablissement", "--parent", "DSDEN 57", "--uai", "0571234A")
    admin = server.create("rectorat", password=ADMIN_PASSWORD)
    server.admin("grant", "add", admin, "admin-academie", "--unit", "Académie de test")
    dsden = server.create("dsden57", password=ADMIN_PASSWORD)
    server.admin("grant", "add", dsden, "admin-dsden", "--unit", "DSDEN 57")
    server.start()
    hr = tmp_path / "rh.csv"
    hr.write_text(HR_FILE, encoding="utf-8")
    bad = tmp_path / "rh-latin1.csv"
    bad.write_bytes(HR_FILE.replace("Chloé", "Chlo\xe9").encode("latin-1"))
    chloe, hugo = f"chloe.lambert@{DOMAIN}", f"hugo.morel@{DOMAIN}"

    enrol_and_log_in(browser, server, admin, ADMIN_PASSWORD)
    browser.get(base(server) + "/admin")
    click(browser, "#console-annuaire")
    wait_path(browser, "/admin/annuaire")
    # A file in Latin-1: refused, in French, with its line; nothing applied.
    browser.find_element(By.ID, "fichier").send_keys(str(bad))
    click(browser, "#simuler-synchronisation")
    errors = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "hr-erreurs"))).text
    assert "UTF-8" in errors and "ligne 2" in errors, errors
    assert not browser.find_elements(By.ID, "hr-confirmer")

    # The real file: the dry run lists the arrivals and changes nothing.
    browser.find_element(By.ID, "fichier").send_keys(str(hr))
    click(browser, "#simuler-synchronisation")
    arrivals = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "hr-arrivees"))).text
    assert chloe in arrivals and hugo in arrivals and "0571234A" in arrivals, arrivals
    assert "2 ligne(s) lue(s)" in browser.find_element(By.ID, "hr-lignes").text
    assert chloe not in server.admin("account", "list"), "a dry run changes nothing"
    # Confirm (« Je confirme » ticked): applied, and Chloé's account exists, provisional.
    click(browser, "#confirmer-synchronisation")
    click(browser, "#appliquer-synchronisation")
    WebDriverWait(browser, 20).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"),
                                                                      "Synchronisation appliquée"))
    assert "Synchronisation appliquée" in browser.find_element(By.ID, "hr-resultat").text
    listed = server.admin("account", "list")
    assert chloe in listed and hugo in listed, listed
    assert json.loads(server.admin("account", "show", chloe))["status"] == "provisional"
    browser.get(base(server) + "/admin/journal")
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")]
    assert any("directory.sync" in r and admin in r for r in rows), rows
    found = axe_serious(browser, server, ("/admin/annuaire", "/admin/politiques"))
    assert not found, found
    log_out(browser)

    # A DSDEN administrator has no « Annuaire RH », and the page refuses them.
    enrol_and_log_in(browser, server, dsden, ADMIN_PASSWORD)
    browser.get(base(server) + "/admin")
    assert not browser.find_elements(By.ID, "console-annuaire")
    browser.get(base(server) + "/admin/annuaire")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Action non autorisée"
    assert not browser.find_elements(By.ID, "fichier")
