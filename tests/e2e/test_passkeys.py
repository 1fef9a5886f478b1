"""Passkeys (issue 27, item 3) on the real binary, in headless Chromium with the WebDriver
virtual authenticator (CTAP2, resident keys, user verification): Claire registers a passkey
on « Sécurité », logs out, logs in without her password; her password login then asks for the
passkey as second factor; she revokes it and it opens nothing. Then the bad input: an answer
replayed, another origin, an unknown credential, a cloned authenticator (its counter set
back), a suspended account: each refused with a French message and journaled. Last, the
helpdesk's « réinitialiser les clés d'accès » from the CLI.

The web answers at http://localhost:<port> (`public_url`): WebAuthn needs a secure context
and a domain for its RP ID, which localhost is."""

import base64
import html
import json
import re
import socket
import sqlite3
import subprocess
import urllib.parse

import pytest

from conftest import DOMAIN, IN_CI, STORE, require_tool
from test_web_identity import PASSWORD, browser, wait_path  # noqa: F401

try:
    import requests
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.virtual_authenticator import Credential, VirtualAuthenticatorOptions
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium/requests not installed: {e}", allow_module_level=True)

CLAIRE = f"claire.martin@{DOMAIN}"

# Keeps what cle.js would post instead of posting it (WebDriver's scripts are not held to the CSP).
CAPTURE = """
HTMLFormElement.prototype.submit = function () {
  window.capture = Object.fromEntries(new FormData(this));
};
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(server) -> str:
    """Starts the server answering at http://localhost:<port>; returns that address."""
    port = free_port()
    url = f"http://localhost:{port}"
    text = server.config.read_text().replace('[web]\nlisten = ["127.0.0.1:0"]',
                                             f'[web]\nlisten = ["127.0.0.1:{port}"]\npublic_url = "{url}"')
    server.config.write_text(text)
    server.start()
    return url


def journal(server, address=None) -> list:
    """The connection journal's (protocol, result) rows, oldest first."""
    where = f"WHERE login = '{address}'" if address else ""
    query = f"SELECT protocol, result FROM login_journal {where} ORDER BY id"
    if STORE == "sqlite":
        with sqlite3.connect(server.data / "ardoise.db", timeout=30) as db:
            rows = db.execute(query).fetchall()
        db.close()
        return rows
    out = subprocess.run([require_tool("psql"), server.store_url, "-v", "ON_ERROR_STOP=1", "-qAtc", query],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [tuple(line.split("|")) for line in out.stdout.decode().splitlines() if line]


@pytest.fixture
def authenticator(browser):  # noqa: F811
    browser.add_virtual_authenticator(VirtualAuthenticatorOptions(
        protocol=VirtualAuthenticatorOptions.Protocol.CTAP2,
        transport=VirtualAuthenticatorOptions.Transport.INTERNAL,
        has_resident_key=True, has_user_verification=True, is_user_verified=True, is_user_consenting=True))
    return browser


def click(driver, css):
    WebDriverWait(driver, 10).until(EC.element_to_be_clickable((By.CSS_SELECTOR, css))).click()


def password_login(driver, url, login, password):
    driver.get(url + "/connexion")
    driver.find_element(By.ID, "login").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form[action='/connexion'] button[type=submit]").click()


def logout(driver, url):
    driver.get(url + "/securite")
    click(driver, "form[action='/deconnexion'] button")
    wait_path(driver, "/connexion")


def register(driver, url, name):
    driver.get(url + "/securite")
    driver.find_element(By.ID, "cle-nom").send_keys(name)
    driver.find_element(By.ID, "cle-mdp").send_keys(PASSWORD)
    click(driver, "#ajouter-cle")
    WebDriverWait(driver, 15).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".alerte.info"),
                                                                      "Clé d'accès ajoutée"))


def passkey_names(driver):
    return [r.find_element(By.TAG_NAME, "td").text for r in driver.find_elements(By.CSS_SELECTOR, "#cles tbody tr")]


def error_text(driver):
    return WebDriverWait(driver, 15).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, ".alerte.erreur"))).text


def captured_answer(driver, url):
    """A passwordless answer made by the authenticator for a fresh challenge, not posted."""
    driver.get(url + "/connexion")
    driver.execute_script(CAPTURE)
    click(driver, "#connexion-cle")
    WebDriverWait(driver, 15).until(lambda d: d.execute_script("return window.capture || null"))
    return driver.execute_script("return window.capture")


def post_answer(url, answer):
    """Posts an answer from another browser (its own pre-session and CSRF token): status and text."""
    web = requests.Session()
    page = web.get(url + "/connexion", timeout=20).text
    form = dict(answer, csrf=re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1))
    r = web.post(url + "/connexion/cle", data=form, allow_redirects=False, timeout=20)
    return r.status_code, html.unescape(r.text)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_claire_registers_a_passkey_logs_in_with_it_and_revokes_it(server, authenticator):
    driver = authenticator
    server.create("claire.martin", password=PASSWORD)
    url = start(server)
    password_login(driver, url, CLAIRE, PASSWORD)
    wait_path(driver, "/courrier")

    # « Sécurité »: a named passkey, discoverable, in the authenticator.
    register(driver, url, "Ordinateur du CDI")
    assert passkey_names(driver) == ["Ordinateur du CDI"]
    credentials = driver.get_credentials()
    assert len(credentials) == 1 and credentials[0].is_resident_credential
    assert credentials[0].rp_id == "localhost"

    # Passwordless: « Se connecter avec une clé d'accès », nothing typed.
    logout(driver, url)
    click(driver, "#connexion-cle")
    wait_path(driver, "/courrier")
    driver.get(url + "/securite")
    rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#journal tbody tr")]
    assert any("WEB (clé d'accès)" in r and "réussie" in r for r in rows), rows
    used = driver.find_element(By.CSS_SELECTOR, "#cles tbody tr").text
    assert "jamais" not in used, used

    # The password now leads to the passkey as second factor (no TOTP here: no code field).
    logout(driver, url)
    password_login(driver, url, CLAIRE, PASSWORD)
    wait_path(driver, "/connexion/code")
    assert not driver.find_elements(By.ID, "code")
    click(driver, "#code-cle")
    wait_path(driver, "/courrier")

    # Revoked on « Sécurité »: the authenticator's copy opens nothing any more.
    driver.get(url + "/securite")
    row = driver.find_element(By.CSS_SELECTOR, "#cles tbody tr")
    click(driver, "form[action$='/revoquer'][action^='/securite/cles/'] button")
    # The page answering the revocation is also /securite: wait for the old one to go.
    WebDriverWait(driver, 15).until(EC.staleness_of(row))
    wait_path(driver, "/securite")
    assert passkey_names(driver) == []
    logout(driver, url)
    click(driver, "#connexion-cle")
    assert "Clé d'accès inconnue" in error_text(driver)
    assert urllib.parse.urlparse(driver.current_url).path == "/connexion/cle", "the login page again, not signed in"
    # And the password alone opens the mailbox again (no second factor left).
    password_login(driver, url, CLAIRE, PASSWORD)
    wait_path(driver, "/courrier")


def test_replayed_foreign_unknown_cloned_and_suspended_are_refused_and_journaled(server, authenticator):
    driver = authenticator
    server.create("claire.martin", password=PASSWORD)
    url = start(server)
    password_login(driver, url, CLAIRE, PASSWORD)
    wait_path(driver, "/courrier")
    register(driver, url, "Téléphone")
    logout(driver, url)

    # A good answer works once; the same answer again finds its challenge spent.
    answer = captured_answer(driver, url)
    assert post_answer(url, answer)[0] == 303
    status, text = post_answer(url, answer)
    assert status == 401 and "expiré ou a déjà servi" in text

    # The page of another origin (a phishing copy relaying our challenge).
    answer = captured_answer(driver, url)
    client = json.loads(unb64(answer["client_data"]))
    client["origin"] = "https://ac-test.fr.connexion-securisee.example"
    status, text = post_answer(url, dict(answer, client_data=b64(json.dumps(client).encode())))
    assert status == 401 and "n'a pas été utilisée depuis la messagerie académique" in text

    # A credential nobody registered.
    answer = captured_answer(driver, url)
    status, text = post_answer(url, dict(answer, id=b64(b"\x01" * 32)))
    assert status == 401 and "Clé d'accès inconnue" in text

    # A cloned authenticator: the same key with its counter set back.
    original = driver.get_credentials()[0]
    assert original.sign_count > 0
    driver.remove_all_credentials()
    driver.add_credential(Credential.create_resident_credential(
        unb64(original.id), original.rp_id, unb64(original.user_handle), unb64(original.private_key), 0))
    driver.get(url + "/connexion")
    click(driver, "#connexion-cle")
    assert "semble avoir été copiée" in error_text(driver)

    # The real one (its counter ahead) still works, unless the account is suspended.
    driver.remove_all_credentials()
    driver.add_credential(Credential.create_resident_credential(
        unb64(original.id), original.rp_id, unb64(original.user_handle), unb64(original.private_key),
        original.sign_count + 10))
    server.admin("account", "suspend", CLAIRE)
    driver.get(url + "/connexion")
    click(driver, "#connexion-cle")
    assert "Votre compte est suspendu" in error_text(driver)
    server.admin("account", "activate", CLAIRE)
    driver.get(url + "/connexion")
    click(driver, "#connexion-cle")
    wait_path(driver, "/courrier")

    results = [r for p, r in journal(server) if p == "passkey"]
    for word in ("ok", "passkey-replayed", "passkey-origin", "passkey-unknown", "passkey-cloned", "suspended"):
        assert word in results, (word, results)

    # The helpdesk resets Claire's passkeys (a lost phone): audited, and they open nothing.
    out = server.admin("account", "reset-passkeys", CLAIRE)
    assert "1 clé(s) d'accès" in out, out
    log = [json.loads(line) for line in server.admin("audit", "list", "--json").splitlines()]
    assert any(e["action"] == "account.reset-passkeys" and e["target"] == CLAIRE for e in log), log
    # Any session may have been opened with the lost key: the reset ended them all.
    driver.get(url + "/securite")
    wait_path(driver, "/connexion")
    click(driver, "#connexion-cle")
    assert "Clé d'accès inconnue" in error_text(driver)
