"""The académie directory on the real binary (issue 21): people and units
loaded by the HR CSV sync, the collège's secrétariat as a list; CardDAV
reads of the read-only « annuaire » address book with raw requests; and in
headless Chromium the Annuaire page (search by name, function or UAI,
accents ignored), a card, « Écrire », « Ajouter à mes contacts », the
Contacts page, axe-core and the phone width."""

import base64
import http.client
import re
import time

import pytest

from conftest import DOMAIN, IN_CI
from test_directory import directory

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium not installed: {e}", allow_module_level=True)

from test_web_identity import base, browser, wait_path, web_login  # noqa: F401
from test_webmail_audit import axe_source, axe_violations

PASSWORD = "Cheval-Agrafe-Correct-42"
JEAN = f"jean.martin@{DOMAIN}"
HELENE = f"helene.lefevre-dupre@{DOMAIN}"
SECRETARIAT = f"secretariat.0541234a@{DOMAIN}"
HEADER = "numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n"
PEOPLE = (
    "12E0000001ABC;M.;Martin;Jean;enseignant;actif;0541234A;;\n"
    "12E0000002ABC;Mme;Lefèvre-Dupré;Hélène;enseignant;actif;0541234A;;\n"
    "12E0000003ABC;M.;Petit;Lucas;élève;actif;0541234A;;\n"
    "12E0000004ABC;Mme;Faure;Zoé;administratif;actif;0541234A;;\n"
    "12E0000005ABC;M.;Blanc;Marc;enseignant;actif;0570456C;;\n"
)


@pytest.fixture
def academie(server, tmp_path):
    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    server.admin("unit", "add", "DSDEN A", "--kind", "dsden", "--parent", "Académie de test")
    server.admin("unit", "add", "Collège Jean Moulin", "--kind", "etablissement", "--parent", "DSDEN A",
                 "--uai", "0541234A")
    server.admin("unit", "add", "Autre académie", "--kind", "academie")
    server.admin("unit", "add", "Lycée Lointain", "--kind", "etablissement", "--parent", "Autre académie",
                 "--uai", "0570456C")
    csv = tmp_path / "rh.csv"
    csv.write_text(HEADER + PEOPLE, encoding="utf-8")
    directory(server, "sync", str(csv))
    # Jean has been through his first login: active, with a password of his own.
    server.admin("account", "password", JEAN, "--password-stdin", stdin=PASSWORD.encode())
    server.admin("account", "activate", JEAN)
    server.admin("list", "create", SECRETARIAT, "--name", "Secrétariat du collège Jean Moulin",
                 "--dynamic", "--unit", "0541234A", "--role", "administratif")
    server.start()
    return server


def dav(server, method, path, body="", headers=None, user=JEAN, password=PASSWORD):
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=30)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    h = {"Authorization": f"Basic {token}", "Content-Type": "application/xml; charset=utf-8"}
    h.update(headers or {})
    conn.request(method, path, body=body.encode(), headers=h)
    resp = conn.getresponse()
    text = resp.read().decode()
    conn.close()
    return resp.status, text


BOOK = f"/dav/addressbooks/{JEAN}/annuaire/"
NS = 'xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"'


def card_query(prop, text):
    return (f'<card:addressbook-query {NS}><d:prop><d:getetag/><card:address-data/></d:prop>'
            f'<card:filter><card:prop-filter name="{prop}"><card:text-match>{text}</card:text-match>'
            '</card:prop-filter></card:filter></card:addressbook-query>')


def test_carddav_reads_the_read_only_directory(academie):
    server = academie
    status, body = dav(server, "PROPFIND", f"/dav/addressbooks/{JEAN}/", headers={"Depth": "1"})
    assert status == 207 and f"<d:href>{BOOK}</d:href>" in body, body
    assert "Annuaire de l'académie" in body

    status, body = dav(server, "PROPFIND", BOOK, headers={"Depth": "1"},
                       body=f'<d:propfind {NS}><d:prop><d:getetag/><card:address-data/></d:prop></d:propfind>')
    assert status == 207
    for present in (JEAN, HELENE, f"zoe.faure@{DOMAIN}", SECRETARIAT, "ORG:Collège Jean Moulin;0541234A",
                    "KIND:group"):
        assert present in body, present
    for absent in ("lucas.petit", "marc.blanc"):
        assert absent not in body, f"{absent} listed"

    # The secrétariat, by name with its accent; the collège's people, by UAI.
    status, body = dav(server, "REPORT", BOOK, card_query("FN", "secrétariat"))
    assert status == 207 and SECRETARIAT in body and body.count("<d:response>") == 1, body
    status, body = dav(server, "REPORT", BOOK, card_query("ORG", "0541234A"))
    assert HELENE in body and JEAN in body and "lucas.petit" not in body, body

    href = re.search(r"<d:href>([^<]*compte-\d+\.vcf)</d:href>", body).group(1)
    status, card = dav(server, "GET", href)
    assert status == 200 and card.startswith("BEGIN:VCARD") and "UID:urn:ardoise:annuaire:compte-" in card
    status, body = dav(server, "PUT", href, card)
    assert status == 403 and "need-privileges" in body
    status, body = dav(server, "DELETE", href)
    assert status == 403

    # Hélène suspended: gone from the next listing.
    server.admin("account", "suspend", HELENE)
    status, body = dav(server, "PROPFIND", BOOK, headers={"Depth": "1"})
    assert HELENE not in body and JEAN in body


def test_search_open_write_and_add_to_contacts_in_the_browser(academie, browser):
    server = academie
    source = axe_source()
    browser.set_script_timeout(60)
    web_login(browser, server, JEAN, PASSWORD)
    wait_path(browser, "/courrier")
    violations = {}

    def audit(name):
        WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
        found = axe_violations(browser, source)
        violations[name] = [v for v in found if v["impact"] in ("serious", "critical")]

    browser.find_element(By.ID, "lien-annuaire").click()
    wait_path(browser, "/annuaire")
    audit("annuaire")

    def search(text):
        field = browser.find_element(By.ID, "q")
        field.clear()
        field.send_keys(text)
        before = browser.find_element(By.TAG_NAME, "main")
        browser.find_element(By.ID, "rechercher").click()
        # The previous search's page also has #resultats: wait for it to go first.
        WebDriverWait(browser, 10).until(EC.staleness_of(before))
        WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "resultats"))
        return browser.find_element(By.TAG_NAME, "main").text

    text = search("secrétariat")
    assert "Secrétariat du collège Jean Moulin" in text and "Liste de diffusion" in text, text
    text = search("0541234A")
    assert "Hélène Lefèvre-Dupré" in text and "Lucas" not in text, text
    audit("annuaire (résultats)")
    text = search("helene")
    assert "Hélène Lefèvre-Dupré" in text, text
    assert "Marc Blanc" not in search("marc")

    search("helene")
    browser.find_element(By.LINK_TEXT, "Hélène Lefèvre-Dupré").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "fiche-uai"))
    assert browser.find_element(By.ID, "fiche-uai").text == "0541234A"
    assert browser.find_element(By.ID, "fiche-unite").text == "Collège Jean Moulin"
    card_url = browser.current_url
    audit("fiche")

    browser.find_element(By.ID, "ecrire").click()
    wait_path(browser, "/courrier/ecrire")
    assert HELENE in browser.find_element(By.ID, "to").get_attribute("value")

    browser.get(card_url)
    browser.find_element(By.ID, "ajouter-contact").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".alerte.info"))
    browser.find_element(By.ID, "onglet-contacts").click()
    wait_path(browser, "/contacts")
    assert HELENE in browser.find_element(By.ID, "liste-contacts").text
    audit("contacts")
    browser.find_element(By.ID, "nouveau-contact").click()
    wait_path(browser, "/contacts/nouveau")
    audit("nouveau contact")
    browser.find_element(By.ID, "nom").send_keys("<script>alert(1)</script> Parent d'élève")
    browser.find_element(By.ID, "adresses").send_keys("parent@example.org")
    browser.find_element(By.ID, "groupes").send_keys("Parents, Sortie")
    browser.find_element(By.ID, "enregistrer-contact").click()
    wait_path(browser, "/contacts")
    assert "<script>alert(1)</script> Parent d'élève" in browser.find_element(By.ID, "liste-contacts").text
    # The contact is a card of the personal book, over CardDAV too.
    # (address-data is a REPORT property, RFC 6352 section 8.6: an addressbook-query returns the cards.)
    status, body = dav(server, "REPORT", f"/dav/addressbooks/{JEAN}/contacts/", headers={"Depth": "1"},
                       body=f'<card:addressbook-query {NS}><d:prop><card:address-data/></d:prop></card:addressbook-query>')
    assert status == 207 and "CATEGORIES:Parents,Sortie" in body and HELENE in body, body

    # A phone gets no horizontal scroll.
    browser.get(base(server) + "/annuaire?q=0541234A")
    browser.set_window_size(375, 800)
    time.sleep(0.3)
    wide = browser.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not wide, "the directory is wider than a phone"
    browser.set_window_size(1280, 900)
    report = {name: v for name, v in violations.items() if v}
    assert not report, report
