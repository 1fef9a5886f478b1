"""Réglages → Filtres on the real binary: Claire makes the « réunion » rule in
headless Chromium, mail sent with smtplib lands in « Réunions » (read back with
imapclient), the script she gets over ManageSieve (sievelib) is the rule as
readable Sieve; edited by hand over ManageSieve, the page shows it as text and
never rewrites it unasked. A rule made from a list message is tried on the
Inbox first. Forwarding outside the académie is refused by policy, in the page,
at ManageSieve's PUTSCRIPT and CHECKSCRIPT, and again at delivery."""

import json
import smtplib
import subprocess

import pytest

from conftest import DOMAIN, IN_CI, binary

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium not installed: {e}", allow_module_level=True)

from test_sieve import PASSWORD as SIEVE_PASSWORD
from test_sieve import counts, sieve, sieve_server, wait_for  # noqa: F401
from test_vacation import queue_list, subjects
from test_web_identity import PASSWORD, base, browser, wait_path, web_login  # noqa: F401
from test_webmail import login, open_message, post_with_cookies

CLAIRE = f"claire.martin@{DOMAIN}"


def send(server, subject, sender="parent@example.org", extra=""):
    msg = (f"From: <{sender}>\r\nTo: <{CLAIRE}>\r\nSubject: {subject}\r\n{extra}"
           f"Message-ID: <{abs(hash(subject + extra))}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n"
           f"Content-Transfer-Encoding: 8bit\r\n\r\nBonjour.\r\n").encode()
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=20) as s:
        assert s.sendmail(sender, [CLAIRE], msg) == {}


def sign_in(driver, server):
    """Claire as `sieve_server` made her (the ManageSieve tests' password)."""
    driver.delete_all_cookies()
    web_login(driver, server, CLAIRE, SIEVE_PASSWORD)
    wait_path(driver, "/courrier")


def restart(server, config_text):
    """Restarts with a new configuration; ManageSieve's port is a new ephemeral one."""
    server.stop()
    server.config.write_text(config_text)
    server.start()
    addrs = json.loads((server.data / "listeners.json").read_text())
    server.sieve_port = int(addrs["managesieve"].rsplit(":", 1)[1])


def open_filters(driver):
    driver.find_element(By.ID, "lien-reglages").click()
    wait_path(driver, "/courrier/reglages")
    driver.find_element(By.ID, "lien-filtres").click()
    wait_path(driver, "/courrier/reglages/filtres")


def fill(driver, element_id, text):
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def errors(driver, element_id="erreurs-regle"):
    return WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.ID, element_id))).text


def test_the_reunion_rule_made_in_the_builder_files_mail_and_round_trips(sieve_server, browser):
    server = sieve_server
    sign_in(browser, server)
    open_filters(browser)
    assert "Aucune règle" in browser.find_element(By.ID, "aucune-regle").text
    browser.find_element(By.ID, "nouvelle-regle").click()
    wait_path(browser, "/courrier/reglages/filtres/regle")

    # Nothing typed: every problem is said, nothing is saved.
    browser.find_element(By.ID, "nom-regle").clear()
    browser.find_element(By.ID, "enregistrer-regle").click()
    text = errors(browser)
    assert "Donnez un nom" in text and "au moins une condition" in text and "au moins une action" in text

    fill(browser, "nom-regle", "Réunions")
    Select(browser.find_element(By.ID, "c0_champ")).select_by_value("objet")
    Select(browser.find_element(By.ID, "c0_op")).select_by_value("contient")
    fill(browser, "c0_valeur", "réunion")
    fill(browser, "deplacer", "Réunions")
    browser.find_element(By.ID, "enregistrer-regle").click()
    wait_path(browser, "/courrier/reglages/filtres")
    rule = browser.find_element(By.ID, "regle-0").text
    assert "Réunions" in rule and "Si l'objet contient « réunion » : déplacer dans « Réunions »" in rule, rule

    send(server, "Convocation : réunion du conseil pédagogique")
    send(server, "Sortie au musée")
    got = wait_for(lambda: (c := counts(server)) and c.get("Réunions") == 1 and c, "the rule to file the mail")
    assert got["INBOX"] == 1, got

    # Over ManageSieve: the same rule, as readable Sieve, and the active script.
    c = sieve(server, "claire.martin")
    active, others = c.listscripts()
    assert active == "regles-webmail", (active, others)
    script = c.getscript("regles-webmail")
    assert 'if header :contains "subject" "réunion" {' in script and 'fileinto :create "Réunions";' in script, script

    # Edited by hand over ManageSieve: the page shows the text and keeps it.
    edited = script + '\r\n# Ajout à la main\r\nif header :contains "subject" "musée" { fileinto :create "Sorties"; }\r\n'
    assert c.putscript("regles-webmail", edited), c.errmsg
    c.logout()
    browser.get(base(server) + "/courrier/reglages/filtres")
    assert "écrit à la main" in browser.find_element(By.ID, "titre-script").text
    assert "Ajout à la main" in browser.find_element(By.ID, "texte-script").get_attribute("value")
    # A rule posted anyway (an old tab) is refused, the text untouched.
    token = browser.find_element(By.CSS_SELECTOR, "form input[name=csrf]").get_attribute("value")
    resp, body = post_with_cookies(browser, server, "/courrier/reglages/filtres/regle",
                                   {"csrf": token, "rev": "1", "nom": "X", "actif": "1", "c0_champ": "objet",
                                    "c0_op": "contient", "c0_valeur": "x", "lu": "1", "action": "enregistrer"})
    assert resp.status == 400 and "écrit à la main est actif" in body.decode(), resp.status
    c = sieve(server, "claire.martin")
    lf = lambda t: t.replace("\r\n", "\n").rstrip()  # noqa: E731 - sievelib drops the last line break
    assert lf(c.getscript("regles-webmail")) == lf(edited), "the hand-written text is untouched"
    c.logout()

    # A syntax error typed in the page is shown with its line, nothing saved.
    area = browser.find_element(By.ID, "texte-script")
    area.send_keys("\nfileinto \"oubli du point-virgule\"\n")
    browser.find_element(By.ID, "enregistrer-script").click()
    assert "ligne" in errors(browser, "erreurs-filtres")
    send(server, "Sortie au musée, suite")
    wait_for(lambda: counts(server).get("Sorties") == 1, "the hand-written rule to run")

    # Replaced by webmail rules only when asked: the rules come back, empty.
    browser.find_element(By.ID, "remplacer-script").click()
    # The same path before and after: wait for the new page's list, not for the address.
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "aucune-regle")))


def test_a_rule_from_a_list_message_is_tried_then_saved(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    list_id = "List-Id: Professeurs de maths <maths.ac-demo.fr>\r\n"
    send(server, "Programme de seconde", sender="liste@example.org", extra=list_id)
    send(server, "Rappel : conseil", sender="direction@example.org")
    send(server, "Sujets du bac blanc", sender="liste@example.org", extra=list_id)
    wait_for(lambda: len(server.messages(CLAIRE)) == 3, "three messages")
    login(browser, server, CLAIRE)
    open_message(browser, "Sujets du bac blanc")
    browser.find_element(By.ID, "creer-filtre").click()
    wait_path(browser, "/courrier/reglages/filtres/regle")
    assert Select(browser.find_element(By.ID, "c0_champ")).first_selected_option.get_attribute("value") == "liste"
    assert browser.find_element(By.ID, "c0_valeur").get_attribute("value") == "maths.ac-demo.fr"

    browser.find_element(By.ID, "essayer-regle").click()
    tried = WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "resultat-essai"))).text
    assert "Programme de seconde" in tried and "Sujets du bac blanc" in tried and "Rappel" not in tried, tried
    assert "(2 " in tried
    assert [m for m in server.messages(CLAIRE) if m.get("mailbox", "INBOX") != "INBOX"] == [], "a trial moves nothing"

    fill(browser, "deplacer", "Listes/Maths")
    browser.find_element(By.ID, "lu").click()
    browser.find_element(By.ID, "enregistrer-regle").click()
    wait_path(browser, "/courrier/reglages/filtres")
    send(server, "Réunion d'équipe", sender="liste@example.org", extra=list_id)
    moved = wait_for(lambda: [m for m in server.messages(CLAIRE) if m["subject"] == "Réunion d'équipe"], "delivery")
    assert moved[0]["mailbox"] == "Listes/Maths", moved


def test_forwarding_outside_is_refused_by_policy(sieve_server, browser):
    server = sieve_server
    sign_in(browser, server)
    browser.get(base(server) + "/courrier/reglages/filtres/regle")
    fill(browser, "nom-regle", "Vers ma boîte perso")
    Select(browser.find_element(By.ID, "c0_champ")).select_by_value("objet")
    fill(browser, "c0_valeur", "urgent")
    fill(browser, "transferer", "claire.perso@gmail.com")
    browser.find_element(By.ID, "enregistrer-regle").click()
    text = errors(browser)
    assert "interdit par la politique de l'académie" in text and "claire.perso@gmail.com" in text, text
    # Inside the académie, forwarding is fine.
    fill(browser, "transferer", f"paul.durand@{DOMAIN}")
    browser.find_element(By.ID, "enregistrer-regle").click()
    wait_path(browser, "/courrier/reglages/filtres")

    outside = 'require "copy";\r\nredirect :copy "claire.perso@gmail.com";\r\n'
    c = sieve(server, "claire.martin")
    assert not c.checkscript(outside)
    assert not c.putscript("perso", outside)
    assert "interdit" in c.errmsg.decode() if isinstance(c.errmsg, bytes) else "interdit" in c.errmsg
    assert "perso" not in c.listscripts()[1]
    c.logout()

    # Stored while the policy allowed it, refused at delivery once it no longer does.
    restart(server, server.config.read_text()
            + '\n[outbound]\nmx_override = ["*=127.0.0.1:9"]\n'
            + '\n[forwarding]\npolicy = "domains"\ndomains = ["gmail.com"]\n')
    c = sieve(server, "claire.martin")
    assert c.putscript("perso", 'redirect "claire.perso@gmail.com";\r\n'), c.errmsg
    assert c.setactive("perso")
    c.logout()
    send(server, "Premier message transféré")
    # Queued for outside, Claire as envelope sender (bounces come back to her).
    wait_for(lambda: CLAIRE in queue_list(server), "the forward to be queued")
    assert "Premier message transféré" not in subjects(server, CLAIRE), "redirect without :copy keeps no copy"

    restart(server, server.config.read_text().replace('policy = "domains"', 'policy = "internal"'))
    send(server, "Deuxième message")
    send(server, "Troisième message")
    # The notice is filed by the second message's follow-up, after that message itself: the
    # third one may arrive in between (CI saw it), so wait for the notice too.
    def notices(s):
        return [x for x in s if x.startswith("Transfert automatique refusé")]

    got = wait_for(lambda: (s := subjects(server, CLAIRE)) and "Troisième message" in s and notices(s) and s,
                   "delivery and the notice")
    assert "Deuxième message" in got, "kept in the Inbox, not lost"
    assert len(notices(got)) == 1, got


def test_forwarding_policies_per_unit_from_the_cli(server):
    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    server.admin("unit", "add", "DSDEN 57", "--kind", "dsden", "--parent", "Académie de test")
    server.admin("unit", "add", "Collège A", "--kind", "etablissement", "--parent", "DSDEN 57", "--uai", "0571234A")
    server.admin("forwarding", "set", "domains", "--dsden", "57", "--domain", "education.gouv.fr")
    server.admin("forwarding", "set", "anywhere", "--unit", "0571234a")
    listed = server.admin("forwarding", "list")
    assert "DSDEN 57\tdomains\teducation.gouv.fr" in listed and "Collège A\tanywhere" in listed, listed
    # Bad input is refused with a reason, and nothing changes.
    for args, why in ((("set", "domains", "--academie"), "au moins un domaine"),
                      (("set", "internal", "--academie", "--domain", "x.fr"), "ne vont qu'avec"),
                      (("set", "anywhere", "--unit", "9999999Z"), "établissement inconnu"),
                      (("set", "partout", "--academie"), "invalid value")):
        out = subprocess.run([binary(), "admin", "--config", str(server.config), "forwarding", *args],
                             capture_output=True, timeout=60)
        assert out.returncode != 0 and why in out.stderr.decode(), (args, out.stderr)
    server.admin("forwarding", "remove", "--unit", "0571234A")
    assert "Collège A" not in server.admin("forwarding", "list")
    audit = server.admin("audit", "list")
    assert "forwarding.set" in audit and "forwarding.remove" in audit
