"""The identity journey on the real binary, in headless Chromium (Debian's
chromium + chromium-driver, driven by selenium) and with imaplib:
login, wrong password, first login with the NUMEN -> forced change -> TOTP
enrolment (codes computed with pyotp) -> IMAP with an app password, students
refused on the web and on IMAP, brute force from 127.0.0.2 that does not lock
the owner out from 127.0.0.1, the security headers and CSRF refusals."""

import http.client
import imaplib
import json
import os
import re
import shutil
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import time
import urllib.parse

import pytest

from conftest import DOMAIN, IN_CI, binary

PASSWORD = "Ardoise-Demo-2026"
NUMEN = "12E0000001ABC"
NEW_PASSWORD = "Tableau-Noir-Craie-2026!"

try:
    import pyotp
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium/pyotp not installed: {e}", allow_module_level=True)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser():
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(tool):
            message = f"{tool} is required (apt install chromium chromium-driver)"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--lang=fr-FR", "--window-size=1280,900"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"intl.accept_languages": "fr-FR,fr"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def base(server):
    return f"http://127.0.0.1:{server.http_port}"


def wait_path(driver, path, timeout=15):
    WebDriverWait(driver, timeout).until(lambda d: urllib.parse.urlparse(d.current_url).path == path)


def web_login(driver, server, login, password):
    driver.get(base(server) + "/connexion")
    driver.find_element(By.ID, "login").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.formulaire button[type=submit]").click()


def error_text(driver):
    # Visible, not just present: the login, code and Sécurité pages carry a hidden
    # « .alerte.erreur » of their own for the passkey script, which the page being
    # left would otherwise offer before the answer arrives (then a stale element).
    return WebDriverWait(driver, 10).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, ".alerte.erreur"))).text


# ----- a tiny HTTP client that can choose its source address -----

class Http:
    """Cookies and CSRF tokens by hand, from a chosen source address."""

    def __init__(self, server, source="127.0.0.1"):
        self.port = server.http_port
        self.source = source
        self.cookies = {}

    def request(self, method, path, form=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20, source_address=(self.source, 0))
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", errors="replace")
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return resp, text

    def csrf(self, path="/connexion"):
        _, text = self.request("GET", path)
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', text)
        assert m, text
        return m.group(1)

    def login(self, login, password):
        token = self.csrf()
        return self.request("POST", "/connexion", {"csrf": token, "login": login, "password": password})


class SourceIMAP4SSL(imaplib.IMAP4_SSL):
    """imaplib over TLS from a chosen loopback address."""

    def __init__(self, host, port, source):
        self._source = source
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        super().__init__(host, port, ssl_context=ctx, timeout=15)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout, source_address=(self._source, 0))
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def imap_login(server, user, password, source="127.0.0.1"):
    client = SourceIMAP4SSL("127.0.0.1", server.imaps_port, source)
    try:
        client.login(user, password)
        client.select("INBOX")
        return True
    except imaplib.IMAP4.error as e:
        return str(e)
    finally:
        try:
            client.logout()
        except Exception:
            pass


# ----- tests -----

def test_login_lands_on_the_inbox_with_strict_headers(server, browser):
    claire = server.create("claire.martin", password=PASSWORD)
    server.start()
    web_login(browser, server, claire, PASSWORD)
    wait_path(browser, "/courrier")
    # « Accueil » stays one link away.
    browser.get(base(server) + "/accueil")
    assert browser.find_element(By.ID, "adresse").text == claire
    assert browser.find_element(By.ID, "non-lus").text.isdigit()
    # The page works without any inline script or style: the CSP is strict.
    resp, _ = Http(server).request("GET", "/connexion")
    csp = resp.getheader("Content-Security-Policy")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert resp.getheader("X-Content-Type-Options") == "nosniff"
    assert resp.getheader("X-Frame-Options") == "DENY"
    cookie = resp.getheader("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # English on request, and the language switch.
    browser.get(base(server) + "/accueil?lang=en")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert "Home" in browser.find_element(By.TAG_NAME, "h1").text


def test_wrong_password_is_refused_and_journaled(server, browser):
    claire = server.create("claire.martin", password=PASSWORD)
    server.start()
    web_login(browser, server, claire, "pas-le-bon")
    assert "Identifiant ou mot de passe incorrect" in error_text(browser)
    assert urllib.parse.urlparse(browser.current_url).path == "/connexion"
    # Hostile input: 1 MB password, control characters, SQL: the same refusal, no leak.
    http = Http(server)
    for login, password in ((claire, "x" * (1 << 20)), ("a\x00b\r\nc", "p"), ("' OR 1=1; --", "' OR '1'='1")):
        resp, text = http.login(login, password)
        assert resp.status == 401, (resp.status, text[:200])
        assert "Identifiant ou mot de passe incorrect" in text
        assert "sqlx" not in text and "panic" not in text.lower()
    # Then the right password: the journal shows the failures.
    web_login(browser, server, claire, PASSWORD)
    wait_path(browser, "/courrier")
    browser.get(base(server) + "/securite")
    journal = browser.find_element(By.ID, "journal").text
    assert "échec" in journal and "réussie" in journal


def test_post_without_csrf_token_is_refused(server):
    claire = server.create("claire.martin", password=PASSWORD)
    server.start()
    http = Http(server)
    http.csrf()  # gets the pre-session cookie
    resp, _ = http.request("POST", "/connexion", {"login": claire, "password": PASSWORD})
    assert resp.status == 403
    resp, _ = http.request("POST", "/connexion", {"csrf": "0" * 64, "login": claire, "password": PASSWORD})
    assert resp.status == 403
    # Another visitor's token is worthless too.
    other = Http(server)
    token = other.csrf()
    resp, _ = http.request("POST", "/connexion", {"csrf": token, "login": claire, "password": PASSWORD})
    assert resp.status == 403
    # A session identifier planted before login is never the one logged in.
    http.cookies["ardoise_session"] = "plantedplantedplantedplantedplan"
    resp, _ = http.login(claire, PASSWORD)
    assert resp.status == 303 and resp.getheader("Location") == "/courrier"
    assert http.cookies["ardoise_session"] != "plantedplantedplantedplantedplan"
    assert http.request("GET", "/accueil")[0].status == 200


def hr_sync(server, tmp_path):
    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    server.admin("unit", "add", "Collège A", "--kind", "etablissement", "--parent", "Académie de test",
                 "--uai", "0541234A")
    csv = tmp_path / "rh.csv"
    csv.write_text(
        "numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n"
        f"{NUMEN};M.;Martin;Jean;enseignant;actif;0541234A;jean@example.org;2026-09-01\n",
        encoding="utf-8")
    out = subprocess.run([binary(), "directory", "--config", str(server.config), "sync", str(csv)],
                         capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return f"jean.martin@{DOMAIN}"


def next_step_code(secret, after_step):
    """The TOTP code of the first step after `after_step` (waits for it)."""
    totp = pyotp.TOTP(secret)
    while int(time.time()) // 30 <= after_step:
        time.sleep(0.5)
    return totp.now()


def test_first_login_change_totp_then_imap_with_app_password(server, browser, tmp_path):
    jean = hr_sync(server, tmp_path)
    server.start()
    # The provisional password (the NUMEN) opens only the web, to change it.
    assert "CONTACTADMIN" in str(imap_login(server, jean, NUMEN))
    web_login(browser, server, jean, NUMEN)
    wait_path(browser, "/premiere-connexion")
    # A new password containing the NUMEN is refused.
    for field, value in (("current", NUMEN), ("new", "Ab-" + NUMEN + "-x!"), ("confirm", "Ab-" + NUMEN + "-x!")):
        browser.find_element(By.ID, field).send_keys(value)
    browser.find_element(By.CSS_SELECTOR, "form.formulaire button[type=submit]").click()
    assert "NUMEN" in error_text(browser)
    for field, value in (("current", NUMEN), ("new", NEW_PASSWORD), ("confirm", NEW_PASSWORD)):
        browser.find_element(By.ID, field).send_keys(value)
    browser.find_element(By.CSS_SELECTOR, "form.formulaire button[type=submit]").click()
    wait_path(browser, "/2fa/activer")
    # The QR code is an SVG served by us; the key is shown for typing.
    qr = browser.find_element(By.CSS_SELECTOR, ".qr img")
    assert browser.execute_script("return arguments[0].naturalWidth", qr) > 0
    secret = browser.find_element(By.ID, "totp-secret").text.strip()
    code = pyotp.TOTP(secret).now()
    enrol_step = int(time.time()) // 30
    # Enrolling from a signed-in session asks for the password again.
    browser.find_element(By.ID, "enrol-current").send_keys(NEW_PASSWORD)
    browser.find_element(By.ID, "code").send_keys(code)
    browser.find_element(By.CSS_SELECTOR, "form.formulaire button[type=submit]").click()
    codes = WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "codes"))).text.split()
    assert len(codes) == 10
    browser.find_element(By.ID, "continuer").click()
    wait_path(browser, "/courrier")

    # App password for IMAP; the main password no longer opens IMAP.
    browser.get(base(server) + "/securite")
    browser.find_element(By.ID, "app-name").send_keys("Thunderbird")
    # Lasting access needs the password and, with TOTP on, a code (here a recovery code).
    browser.find_element(By.ID, "app-current").send_keys(NEW_PASSWORD)
    browser.find_element(By.ID, "app-code").send_keys(codes[0])
    browser.find_element(By.ID, "creer-application").click()
    app_password = WebDriverWait(browser, 10).until(
        EC.presence_of_element_located((By.ID, "mot-de-passe-application"))).text.strip()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", app_password), app_password
    assert imap_login(server, jean, app_password) is True
    assert "mot de passe d'application" in str(imap_login(server, jean, NEW_PASSWORD))

    # Log out; logging in again asks for a code; the enrolment code is not accepted twice.
    browser.find_element(By.CSS_SELECTOR, "form[action='/deconnexion'] button").click()
    wait_path(browser, "/connexion")
    web_login(browser, server, jean, NEW_PASSWORD)
    wait_path(browser, "/connexion/code")
    if int(time.time()) // 30 <= enrol_step + 1:
        browser.find_element(By.ID, "code").send_keys(code)
        browser.find_element(By.CSS_SELECTOR, "form.formulaire button[type=submit]").click()
        assert "déjà utilisé" in error_text(browser)
    browser.find_element(By.ID, "code").send_keys(next_step_code(secret, enrol_step))
    browser.find_element(By.CSS_SELECTOR, "form.formulaire button[type=submit]").click()
    wait_path(browser, "/courrier", timeout=20)

    # Every credential change was mailed to the user's Inbox.
    subjects = [m.get("subject", "") for m in server.messages(jean)]
    assert any("mot de passe a été changé" in s for s in subjects), subjects
    assert any("deux étapes activée" in s for s in subjects), subjects
    assert any("mot de passe d'application" in s for s in subjects), subjects


def test_student_is_refused_on_web_and_imap(server, browser):
    eleve = server.create("eleve.test", password=PASSWORD, role="eleve")
    server.start()
    web_login(browser, server, eleve, PASSWORD)
    assert "élèves" in error_text(browser)
    assert "AUTHORIZATIONFAILED" in str(imap_login(server, eleve, PASSWORD))


def test_brute_force_from_one_address_does_not_lock_out_the_owner(server, browser):
    paul = server.create("paul.durand", password=PASSWORD)
    server.start()
    # The owner logged in from here before: a known device.
    assert imap_login(server, paul, PASSWORD) is True
    # An attacker on 127.0.0.2 guesses on IMAP then on the web: counted together.
    for i in range(3):
        assert "AUTHENTICATIONFAILED" in str(imap_login(server, paul, f"devine-{i}", source="127.0.0.2"))
    attacker = Http(server, source="127.0.0.2")
    statuses = [attacker.login(paul, f"essai-{i}")[0].status for i in range(6)]
    assert statuses[-1] == 429, statuses
    # Even the right password is not looked at from the attacker's address now.
    resp, text = attacker.login(paul, PASSWORD)
    assert resp.status == 429 and "Connexion ralentie" in text
    assert "UNAVAILABLE" in str(imap_login(server, paul, PASSWORD, source="127.0.0.2"))
    # The owner, from 127.0.0.1, gets in on the web and on IMAP.
    web_login(browser, server, paul, PASSWORD)
    wait_path(browser, "/courrier")
    assert imap_login(server, paul, PASSWORD) is True
    # The complete login made the browser a known device (issue 25, items 5
    # and 11): a signed, long-lived, HttpOnly cookie.
    device = browser.get_cookie("ardoise_appareil")
    assert device and device["httpOnly"] and device.get("expiry", 0) > time.time() + 300 * 86400, device
    browser.find_element(By.CSS_SELECTOR, "form[action='/deconnexion'] button").click()
    # Now someone behind the owner's own address (a school NAT) guesses.
    neighbour = Http(server)
    statuses = [neighbour.login(paul, f"voisin-{i}")[0].status for i in range(7)]
    assert statuses[-1] == 429, statuses
    resp, _ = neighbour.login(paul, PASSWORD)
    assert resp.status == 429, "no device cookie: slowed down like the guesser"
    # The owner's browser, with its device cookie, still gets in from there.
    web_login(browser, server, paul, PASSWORD)
    wait_path(browser, "/courrier")


def read_reset_link(server, address, password):
    import email
    client = SourceIMAP4SSL("127.0.0.1", server.imaps_port, "127.0.0.1")
    try:
        client.login(address, password)
        client.select("INBOX")
        _, data = client.search(None, "SUBJECT", "initialisation")
        ids = data[0].split()
        if not ids:
            return None
        _, msg = client.fetch(ids[-1], "(RFC822)")
        body = email.message_from_bytes(msg[0][1]).get_payload(decode=True).decode("utf-8")
        m = re.search(r"(/mot-de-passe/reinitialiser\?jeton=[a-z0-9]+)", body)
        return m.group(1) if m else body
    finally:
        client.logout()


def test_reset_link_by_mail_single_use(server, browser, tmp_path):
    perso = server.create("jean.perso", password=PASSWORD)
    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    server.admin("unit", "add", "Collège A", "--kind", "etablissement", "--parent", "Académie de test",
                 "--uai", "0541234A")
    csv = tmp_path / "rh.csv"
    csv.write_text(
        "numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n"
        f"{NUMEN};M.;Martin;Jean;enseignant;actif;0541234A;{perso};2026-09-01\n", encoding="utf-8")
    out = subprocess.run([binary(), "directory", "--config", str(server.config), "sync", str(csv)],
                         capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    jean = f"jean.martin@{DOMAIN}"
    server.start()
    http = Http(server)
    answers = []
    for numen in ("12E9999999ZZZ", NUMEN):
        token = http.csrf("/mot-de-passe-oublie")
        resp, text = http.request("POST", "/mot-de-passe-oublie", {"csrf": token, "login": jean, "numen": numen})
        assert resp.status == 200
        answers.append(re.sub(r'value="[0-9a-f]+"', "", text))
        if numen != NUMEN:
            assert read_reset_link(server, perso, PASSWORD) is None, "no mail for a wrong NUMEN"
    assert answers[0] == answers[1], "the answer must not tell whether anything matched"
    link = read_reset_link(server, perso, PASSWORD)
    assert link and link.startswith("/mot-de-passe/reinitialiser?jeton="), link
    assert NUMEN not in (server.root / "server.log").read_text(errors="replace")

    browser.get(base(server) + link)
    for field in ("new", "confirm"):
        browser.find_element(By.ID, field).send_keys(NEW_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.formulaire button[type=submit]").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.TAG_NAME, "main"), "a été changé"))
    # The link works once.
    browser.get(base(server) + link)
    assert "plus valable" in browser.find_element(By.TAG_NAME, "main").text
    web_login(browser, server, jean, NEW_PASSWORD)
    wait_path(browser, "/courrier")


def test_suspension_ends_the_web_session_at_once(server, browser):
    claire = server.create("claire.martin", password=PASSWORD)
    server.start()
    web_login(browser, server, claire, PASSWORD)
    wait_path(browser, "/courrier")
    server.admin("account", "suspend", claire)
    browser.get(base(server) + "/securite")
    wait_path(browser, "/connexion")
    web_login(browser, server, claire, PASSWORD)
    assert "suspendu" in error_text(browser)


def test_the_user_ends_another_session(server, browser):
    claire = server.create("claire.martin", password=PASSWORD)
    server.start()
    other = Http(server)  # "the laptop left open at school"
    resp, _ = other.login(claire, PASSWORD)
    assert resp.status == 303
    assert other.request("GET", "/accueil")[0].status == 200
    web_login(browser, server, claire, PASSWORD)
    wait_path(browser, "/courrier")
    browser.get(base(server) + "/securite")
    buttons = browser.find_elements(By.CSS_SELECTOR, "form[action='/securite/sessions/fin'] button")
    assert len(buttons) == 1, "only the other session can be ended from here"
    buttons[0].click()
    # The answer is /securite again: wait for the old page to go before looking.
    WebDriverWait(browser, 15).until(EC.staleness_of(buttons[0]))
    wait_path(browser, "/securite")
    assert not browser.find_elements(By.CSS_SELECTOR, "form[action='/securite/sessions/fin'] button")
    resp, _ = other.request("GET", "/accueil")
    assert resp.status == 303 and resp.getheader("Location") == "/"


def test_https_listener_with_secure_cookies(server):
    import json
    text = server.config.read_text()
    server.config.write_text(text.replace('[web]\nlisten = ["127.0.0.1:0"]',
                                          '[web]\nlisten = ["127.0.0.1:0"]\nlisten_tls = ["127.0.0.1:0"]'))
    server.create("claire.martin", password=PASSWORD)
    server.start()
    port = int(json.loads((server.data / "listeners.json").read_text())["https"].rsplit(":", 1)[1])
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=20)
    conn.request("GET", "/connexion")
    resp = conn.getresponse()
    body = resp.read().decode()
    assert resp.status == 200 and "<form" in body
    cookie = resp.getheader("Set-Cookie")
    assert cookie.startswith("__Host-ardoise_pre=") and "Secure" in cookie and "HttpOnly" in cookie, cookie
    assert "default-src 'self'" in resp.getheader("Content-Security-Policy")
    assert resp.getheader("Strict-Transport-Security") == "max-age=31536000"


def provisional_password(output):
    m = re.search(r"mot de passe provisoire de \S+ : (\S+)", output)
    assert m, output
    return m.group(1)


def test_helpdesk_reset_prints_a_provisional_password_to_change_at_login(server, browser, tmp_path):
    jean = hr_sync(server, tmp_path)
    outsider = server.create("claire.martin", password=PASSWORD)  # no unit: outside the helpdesk's scope
    helpdesk = server.create("assistance.a", password="Assistance-A-2026")
    server.admin("grant", "add", helpdesk, "assistance", "--unit", "Collège A")
    # Within its scope the helpdesk resets; outside, it is refused.
    out = server.admin("--as", helpdesk, "account", "reset-password", jean)
    provisional = provisional_password(out)
    assert NUMEN not in out
    refused = subprocess.run([binary(), "admin", "--config", str(server.config), "--as", helpdesk,
                              "account", "reset-password", outsider], capture_output=True)
    assert refused.returncode != 0 and "refusé" in refused.stderr.decode()
    # The audit log names the reset and the actor, never the password.
    log = server.admin("audit", "list", "--json")
    resets = [json.loads(line) for line in log.splitlines() if "account.reset-password" in line]
    assert len(resets) == 1 and resets[0]["actor"] == helpdesk and resets[0]["target"] == jean
    assert provisional not in log
    assert "intègre" in server.admin("audit", "verify")

    server.start()
    # IMAP refuses the provisional password (first the web), and the NUMEN no longer works.
    assert "CONTACTADMIN" in str(imap_login(server, jean, provisional))
    assert "AUTHENTICATIONFAILED" in str(imap_login(server, jean, NUMEN))
    # The web takes it and forces a change.
    web_login(browser, server, jean, provisional)
    wait_path(browser, "/premiere-connexion")
    for field, value in (("current", provisional), ("new", NEW_PASSWORD), ("confirm", NEW_PASSWORD)):
        browser.find_element(By.ID, field).send_keys(value)
    browser.find_element(By.CSS_SELECTOR, "form.formulaire button[type=submit]").click()
    wait_path(browser, "/2fa/activer")
    assert imap_login(server, jean, NEW_PASSWORD) is True
    assert account_status(server, jean) == "active"
    subjects = [m["subject"] for m in server.messages(jean)]
    assert "Votre mot de passe a été réinitialisé par l'assistance" in subjects, subjects


def account_status(server, address):
    return json.loads(server.admin("account", "show", address))["status"]


def test_expiring_passwords_get_reminders_then_must_change(server, browser):
    with open(server.config, "a", encoding="utf-8") as f:
        f.write("password_max_age_days = 90\npassword_reminder_days = [14, 3]\n")
    claire = server.create("claire.martin", password=PASSWORD)
    created = int(time.time())
    # The daily task, run by hand at chosen dates: one mail per threshold.
    for days, expected in ((10, "0 rappel"), (80, "1 rappel"), (81, "0 rappel"), (88, "1 rappel")):
        out = server.admin("password-reminders", "--at", str(created + days * 86400))
        assert expected in out, (days, out)
    subjects = [m["subject"] for m in server.messages(claire)]
    assert subjects == ["Votre mot de passe expire dans 10 jours", "Votre mot de passe expire dans 2 jours"], subjects

    # Past the maximum age: IMAP refuses and points to the web, the web forces a change.
    db = sqlite3.connect(server.data / "ardoise.db")
    db.execute("UPDATE accounts SET created_at = ? WHERE address = ?", (created - 91 * 86400, claire))
    db.commit()
    db.close()
    server.start()
    refusal = str(imap_login(server, claire, PASSWORD))
    assert "EXPIRED" in refusal and "webmail" in refusal, refusal
    # Submission says so too (smtplib over implicit TLS).
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with smtplib.SMTP_SSL("127.0.0.1", server.submissions_port, context=ctx, timeout=20) as s:
        with pytest.raises(smtplib.SMTPAuthenticationError) as err:
            s.login(claire, PASSWORD)
    assert err.value.smtp_code == 535 and b"messagerie web" in err.value.smtp_error, err.value
    web_login(browser, server, claire, PASSWORD)
    wait_path(browser, "/premiere-connexion")
    for field, value in (("current", PASSWORD), ("new", NEW_PASSWORD), ("confirm", NEW_PASSWORD)):
        browser.find_element(By.ID, field).send_keys(value)
    browser.find_element(By.CSS_SELECTOR, "form.formulaire button[type=submit]").click()
    wait_path(browser, "/2fa/activer")
    assert imap_login(server, claire, NEW_PASSWORD) is True

    # Expired again; a password set by the helpdesk from the command line starts a new age.
    db = sqlite3.connect(server.data / "ardoise.db")
    db.execute("UPDATE credential_state SET password_changed_at = ? WHERE account_id = "
               "(SELECT id FROM accounts WHERE address = ?)", (created - 91 * 86400, claire))
    db.commit()
    db.close()
    third = "Troisieme-Mot-De-Passe-2026"
    assert "EXPIRED" in str(imap_login(server, claire, NEW_PASSWORD))
    server.admin("account", "password", claire, "--password-stdin", stdin=third.encode())
    assert imap_login(server, claire, third) is True


def test_totp_seed_is_encrypted_in_the_database(server, browser):
    claire = server.create("claire.martin", password=PASSWORD)
    server.start()
    web_login(browser, server, claire, PASSWORD)
    wait_path(browser, "/courrier")
    browser.get(base(server) + "/2fa/activer")
    secret = browser.find_element(By.ID, "totp-secret").text.replace(" ", "")
    db = sqlite3.connect(server.data / "ardoise.db")
    (stored,) = db.execute("SELECT totp_secret FROM credential_state").fetchone()
    db.close()
    assert stored.startswith("x1:") and secret not in stored
    assert (server.data / "totp.key").exists()


def test_a_stolen_session_cannot_guess_the_password_nor_get_lasting_access(server):
    paul = server.create("paul.durand", password=PASSWORD)
    server.start()
    # No app password and no second factor of the thief's without the password.
    other = Http(server, source="127.0.0.4")
    assert other.login(paul, PASSWORD)[0].status == 303
    token = other.csrf("/securite")
    resp, _ = other.request("POST", "/securite/applications", {"csrf": token, "name": "x", "imap": "1"})
    assert resp.status == 401
    other.request("GET", "/2fa/activer")
    resp, _ = other.request("POST", "/2fa/activer", {"csrf": token, "code": "123456"})
    assert resp.status == 401
    thief = Http(server, source="127.0.0.3")
    assert thief.login(paul, PASSWORD)[0].status == 303
    token = thief.csrf("/securite")
    # Ten guesses at the current password: slowed down after a few, each journaled.
    statuses = []
    for i in range(10):
        form = {"csrf": token, "current": f"devine-{i}", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        resp, text = thief.request("POST", "/securite/mot-de-passe", form)
        statuses.append(resp.status)
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}, statuses
    assert "ralenti" in text and "Réessayez dans" in text, text
    _, page = thief.request("GET", "/securite")
    journal = page.split('id="journal"', 1)[1]
    assert journal.count("confirmation du mot de passe") == 12, journal
    assert journal.count("ralentie (trop") == 4, journal
    # The password still opens IMAP; the owner was told.
    assert imap_login(server, paul, PASSWORD) is True
    subjects = [m.get("subject", "") for m in server.messages(paul)]
    assert any("Essais de mot de passe répétés" in s for s in subjects), subjects


def wait_for_bye(client, seconds=1.5):
    """How long until the server ends this idle imaplib session (None if it does not)."""
    start = time.monotonic()
    client.sock.settimeout(seconds + 1)
    data = b""
    try:
        while time.monotonic() - start < seconds + 1:
            chunk = client.sock.recv(4096)
            if not chunk:
                break
            data += chunk
            if b"* BYE" in data:
                return time.monotonic() - start, data
    except (socket.timeout, ssl.SSLError, OSError):
        pass
    return None, data


def test_password_change_and_app_password_revocation_end_their_sessions(server):
    """Issue 25 item 3: a revoked app password, and the old password after a
    change, used to keep their IMAP sessions working."""
    paul = server.create("paul.durand", password=PASSWORD)
    server.start()
    web = Http(server)
    assert web.login(paul, PASSWORD)[0].status == 303
    token = web.csrf("/securite")
    apps = []
    for name in ("Téléphone", "Tablette"):
        _, page = web.request("POST", "/securite/applications",
                              {"csrf": token, "name": name, "imap": "1", "password": PASSWORD})
        apps.append(re.search(r'id="mot-de-passe-application">([a-z2-9-]+)<', page).group(1))
    sessions = {}
    for label, secret in (("phone", apps[0]), ("tablet", apps[1]), ("password", PASSWORD)):
        c = SourceIMAP4SSL("127.0.0.1", server.imaps_port, "127.0.0.1")
        c.login(paul, secret)
        c.select("INBOX")
        sessions[label] = c
    # Revoking the phone's app password ends the phone's session, and only it.
    _, page = web.request("GET", "/securite")
    ids = re.findall(r'action="/securite/applications/(\d+)/revoquer"', page)
    assert len(ids) == 2, ids
    web.request("POST", f"/securite/applications/{min(ids, key=int)}/revoquer", {"csrf": token})
    waited, data = wait_for_bye(sessions.pop("phone"))
    assert waited is not None and waited < 1.5, (waited, data)
    for c in sessions.values():
        assert c.noop()[0] == "OK"
    # A password change with « révoquer aussi les mots de passe d'application »
    # ends the old password's session and the remaining app password's.
    form = {"csrf": token, "current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD,
            "revoquer_applications": "1"}
    resp, _ = web.request("POST", "/securite/mot-de-passe", form)
    assert resp.status in (200, 303), resp.status
    for label, c in sessions.items():
        waited, data = wait_for_bye(c)
        assert waited is not None and waited < 1.5, (label, waited, data)
    assert "AUTHENTICATIONFAILED" in str(imap_login(server, paul, apps[1]))
    assert imap_login(server, paul, NEW_PASSWORD) is True
