"""Réglages → Lecture (issue 19), on the real binary in headless Chromium:
the reader's own time zone for every date the webmail shows (list, reader,
the « … a écrit » line of a reply, invitations, search days); the reading
pane beside the list on a desktop while a phone keeps its own reading view;
browser notifications of new mail, priority ones only when so chosen (marked
so by the sender, or sent by the direction of the reader's own school); the
message waiting to be sent reachable from the list."""

import datetime
import imaplib
import smtplib
import ssl
import subprocess
import urllib.parse
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest

from conftest import DOMAIN, IN_CI, binary

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium not installed: {e}", allow_module_level=True)

from test_web_identity import PASSWORD, base, browser, wait_path  # noqa: F401
from test_webmail import alert_says, login
from test_webmail_audit import axe_source, axe_violations
from test_webmail_daily import desktop, screen
from test_submission import tls_context
from test_webmail_reading import INVITE, deliver
from test_webmail_undo_send import send, with_delay

CLAIRE = f"claire.martin@{DOMAIN}"
PAUL = f"paul.durand@{DOMAIN}"
REUNION = ZoneInfo("Indian/Reunion")


def mail(subject, text, date=None, headers=()):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = f"Paul Durand <{PAUL}>", CLAIRE, subject
    if date:
        m["Date"] = date
    for k, v in headers:
        m[k] = v
    m.set_content(text)
    return m


def loaded(driver):
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")


def choose(driver, server, fuseau=None, volet=None, notifications=None):
    """Réglages → Lecture, as a person would: a zone, a pane, notifications."""
    driver.get(base(server) + "/courrier/reglages")
    driver.find_element(By.ID, "lien-lecture").click()
    wait_path(driver, "/courrier/reglages/lecture")
    if fuseau:
        driver.find_element(By.CSS_SELECTOR, f"#fuseau option[value='{fuseau}']").click()
    if volet:
        driver.find_element(By.ID, f"volet-{volet}").click()
    if notifications:
        driver.find_element(By.ID, f"notifications-{notifications}").click()
    driver.find_element(By.ID, "enregistrer-lecture").click()
    assert alert_says(driver, "enregistrés")


def list_date(driver, subject):
    return driver.find_element(
        By.XPATH, f"//table[@id='messages']//tr[.//a[normalize-space()='{subject}']]/td[@class='date']/span")


def test_a_reader_in_la_reunion_reads_every_date_in_her_zone(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    # « 10:00 +0100 » is 13:00 in La Réunion (UTC+4, no summer time).
    deliver(server, mail("Conseil pédagogique", "Ordre du jour.", "Thu, 19 Nov 2026 10:00:00 +0100"), CLAIRE)
    # Sent a minute ago: the list gives its time only (today or « hier » in her zone).
    sent = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(minutes=1)
    deliver(server, mail("Tout récent", "Bonjour.", sent.astimezone(ZoneInfo("Europe/Paris")).strftime(
        "%a, %d %b %Y %H:%M:%S %z")), CLAIRE)
    invite = mail("Invitation : conseil de classe", "Vous êtes invitée.", "Thu, 19 Nov 2026 10:00:00 +0100")
    invite.add_attachment(INVITE.encode(), maintype="text", subtype="calendar", filename="invitation.ics",
                          params={"method": "REQUEST"})
    deliver(server, invite, CLAIRE)
    # Received (internal date) on 22/11 at 21:00 UTC: still the 22nd in Paris, already the 23rd in La Réunion.
    imap = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=ssl._create_unverified_context(), timeout=20)
    imap.login(CLAIRE, PASSWORD)
    late = mail("Arrivé tard le soir", "Compte rendu.", "Sun, 22 Nov 2026 21:00:00 +0000")
    when = datetime.datetime(2026, 11, 22, 21, 0, tzinfo=datetime.timezone.utc)
    assert imap.append("INBOX", None, imaplib.Time2Internaldate(when), late.as_bytes())[0] == "OK"
    imap.logout()

    login(browser, server, CLAIRE)
    # The default: Paris.
    assert list_date(browser, "Conseil pédagogique").get_attribute("title") == "19/11/2026 10:00:00 (UTC+01:00)"

    def found(q):
        browser.get(base(server) + "/courrier/recherche?q=" + urllib.parse.quote(q))
        loaded(browser)
        return "Arrivé tard le soir" in browser.find_element(By.ID, "contenu").text

    assert found("avant:23/11/2026") and not found("après:2026-11-23"), "in Paris it came on the 22nd"

    choose(browser, server, fuseau="Indian/Reunion")
    assert "(Indian/Reunion)" in browser.find_element(By.ID, "heure-actuelle").text

    browser.get(base(server) + "/courrier")
    loaded(browser)
    span = list_date(browser, "Conseil pédagogique")
    assert span.text == "19/11/2026" and span.get_attribute("title") == "19/11/2026 13:00:00 (UTC+04:00)"
    here, now = sent.astimezone(REUNION), datetime.datetime.now(REUNION)
    expected = here.strftime("%H:%M") if here.date() == now.date() else "hier " + here.strftime("%H:%M")
    assert list_date(browser, "Tout récent").text == expected
    # The reader says it relatively too, the exact time on hover.
    browser.find_element(By.LINK_TEXT, "Tout récent").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "objet"), "Tout récent"))
    date = browser.find_element(By.XPATH, "//dt[normalize-space()='Date']/following-sibling::dd[1]")
    word = "aujourd'hui" if here.date() == now.date() else "hier"
    assert date.text == f"{word} {here.strftime('%H:%M')}", date.text
    assert date.find_element(By.TAG_NAME, "span").get_attribute("title") == here.strftime("%d/%m/%Y %H:%M:%S (UTC+04:00)")
    browser.get(base(server) + "/courrier")

    # The reader: the date, and on hover the exact time with its offset.
    browser.find_element(By.LINK_TEXT, "Conseil pédagogique").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "objet"), "Conseil pédagogique"))
    date = browser.find_element(By.XPATH, "//dt[normalize-space()='Date']/following-sibling::dd[1]")
    assert date.text == "19/11/2026 13:00", date.text
    assert date.find_element(By.TAG_NAME, "span").get_attribute("title") == "19/11/2026 13:00:00 (UTC+04:00)"

    # A reply's « … a écrit » line.
    browser.find_element(By.ID, "repondre").click()
    wait_path(browser, "/courrier/ecrire")
    body = browser.find_element(By.ID, "body").get_attribute("value")
    assert "19/11/2026 13:00 Paul Durand a écrit" in body, body

    # An invitation set in Paris time: her time, and the event's own zone named.
    browser.get(base(server) + "/courrier")
    browser.find_element(By.LINK_TEXT, "Invitation : conseil de classe").click()
    start = WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "section.invitation .debut")))
    assert start.text == "26/11/2026 20:00 (17:00 Europe/Paris)", start.text

    # Search days are her days.
    assert not found("avant:23/11/2026") and found("après:2026-11-23"), "in La Réunion it came on the 23rd"

    # Back to the académie's zone.
    choose(browser, server, fuseau="defaut")
    browser.get(base(server) + "/courrier")
    assert list_date(browser, "Conseil pédagogique").get_attribute("title") == "19/11/2026 10:00:00 (UTC+01:00)"


def visible(driver, element):
    """The element is on the first screen, without scrolling."""
    return driver.execute_script(
        "var r = arguments[0].getBoundingClientRect();"
        "return r.width > 0 && r.height > 0 && r.top >= 0 && r.top < window.innerHeight && r.left < window.innerWidth;",
        element)


def test_the_reading_pane_on_a_desktop_and_the_phone_flow_unchanged(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    for i in range(12):
        deliver(server, mail(f"Sortie scolaire, point {i}", f"Texte du point {i}.\nDeuxième ligne."), CLAIRE)
    login(browser, server, CLAIRE)
    choose(browser, server, volet="droite")
    screen(browser, 1366, 768)
    try:
        browser.get(base(server) + "/courrier")
        loaded(browser)
        assert not browser.find_elements(By.CSS_SELECTOR, "#volet article"), "nothing read yet"
        browser.find_element(By.LINK_TEXT, "Sortie scolaire, point 7").click()
        WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "objet"), "point 7"))
        # One page, list and message: works without script (a plain link with ?lire=).
        url = urllib.parse.urlparse(browser.current_url)
        assert url.path.count("/") == 2 and "lire=" in url.query, browser.current_url
        body = browser.find_element(By.CSS_SELECTOR, "#volet #corps")
        assert "Texte du point 7" in body.text
        first_row = browser.find_element(By.CSS_SELECTOR, "table#messages tbody tr")
        assert visible(browser, first_row) and visible(browser, body), "list and body in the first screen"
        pane, table = (browser.find_element(By.ID, "volet").rect, browser.find_element(By.ID, "messages").rect)
        assert pane["x"] >= table["x"] + table["width"] - 1, ("beside the list", pane, table)
        current = browser.find_element(By.CSS_SELECTOR, "table#messages tr.courant")
        assert "point 7" in current.text and "non-lu" not in current.get_attribute("class"), "read, and marked"
        assert {m["subject"]: m["flags"] for m in server.messages(CLAIRE)}["Sortie scolaire, point 7"] & 1

        # The keyboard: j goes on from the row shown, Enter opens it in the pane, v into it, u back.
        browser.find_element(By.TAG_NAME, "body").send_keys("j")
        focused = browser.switch_to.active_element
        assert focused.text == "Sortie scolaire, point 6", focused.text
        focused.send_keys(Keys.ENTER)
        WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "objet"), "point 6"))
        browser.find_element(By.TAG_NAME, "body").send_keys("v")
        assert browser.switch_to.active_element.get_attribute("id") == "objet"
        browser.switch_to.active_element.send_keys("u")
        assert browser.switch_to.active_element.text == "Sortie scolaire, point 6"

        # An action in the pane comes back to the list with the message.
        browser.find_element(By.CSS_SELECTOR, "#volet #suivre").click()
        WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#volet #ne-plus-suivre")))
        assert "lire=" in browser.current_url and browser.find_element(By.ID, "messages"), browser.current_url

        source = axe_source()
        for theme in ("clair", "sombre"):
            browser.get(base(server) + "/courrier/reglages")
            browser.find_element(By.ID, f"theme-{theme}").click()
            browser.find_element(By.ID, "enregistrer-affichage").click()
            wait_path(browser, "/courrier/reglages")
            for width, height in ((1366, 768), (390, 844)):
                screen(browser, width, height)
                for page in ("/courrier/reglages/lecture", f"{url.path}?{url.query}"):
                    browser.get(base(server) + page)
                    loaded(browser)
                    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                           for v in axe_violations(browser, source)]
                    assert not bad, (theme, width, page, bad)

        # Under the list: the message below it, its body still on the first screen.
        screen(browser, 1366, 768)
        choose(browser, server, volet="dessous")
        browser.get(base(server) + f"{url.path}?{url.query}")
        loaded(browser)
        pane, table = (browser.find_element(By.ID, "volet").rect, browser.find_element(By.CLASS_NAME, "liste").rect)
        assert pane["y"] >= table["y"] + table["height"] - 1, ("under the list", pane, table)
        assert visible(browser, browser.find_element(By.CSS_SELECTOR, "#volet #corps")), "the body on the first screen"
        assert visible(browser, browser.find_element(By.CSS_SELECTOR, "table#messages tr.courant")), "the row read shown"

        # A phone ignores the pane: the row opens the message's own page, as before.
        screen(browser, 390, 844)
        browser.get(base(server) + "/courrier")
        loaded(browser)
        assert not browser.find_element(By.ID, "volet").is_displayed()
        link = browser.find_element(By.XPATH, "//table[@id='messages']//a[normalize-space()='Sortie scolaire, point 3' and not(contains(@class, 'ouvrir-volet'))]")
        assert link.is_displayed() and not browser.find_element(
            By.XPATH, "//table[@id='messages']//a[normalize-space()='Sortie scolaire, point 3' and contains(@class, 'ouvrir-volet')]").is_displayed()
        first = browser.find_element(By.CSS_SELECTOR, "table#messages tbody tr")
        assert visible(browser, first), "the first message row in the first screen"
        link.click()
        WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "objet"), "point 3"))
        assert urllib.parse.urlparse(browser.current_url).path.count("/") == 3, browser.current_url
    finally:
        desktop(browser)


SPY = """
window.notesVues = [];
(function () {
  var Real = window.Notification;
  function Spy(title, options) {
    window.notesVues.push({ title: title, body: (options || {}).body || "" });
    this.close = function () {};
  }
  Object.defineProperty(Spy, "permission", { get: function () { return Real ? Real.permission : "denied"; } });
  Spy.requestPermission = function () { return Real.requestPermission(); };
  window.Notification = Spy;
}());
"""


def test_notifications_for_priority_messages_only(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    deliver(server, mail("Bienvenue", "Bonne rentrée."), CLAIRE)
    login(browser, server, CLAIRE)
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": SPY})
    try:
        # Off by default: nothing asked, nothing shown.
        browser.get(base(server) + "/courrier/reglages/lecture")
        assert browser.find_element(By.ID, "notifications-non").is_selected()
        browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": base(server), "permissions": ["notifications"]})
        browser.get(base(server) + "/courrier")
        WebDriverWait(browser, 10).until(lambda d: d.title.startswith("(1) "))  # the stream is open
        deliver(server, mail("Urgent : sortie annulée", "Car en panne.", headers=[("X-Priority", "1 (Highest)")]), CLAIRE)
        WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.LINK_TEXT, "Urgent : sortie annulée"))
        assert browser.execute_script("return window.notesVues") == [], "off: no notification"

        choose(browser, server, notifications="prioritaires")
        assert "afficher" in browser.find_element(By.ID, "notif-etat").text, "the browser allows them"
        browser.get(base(server) + "/courrier")
        WebDriverWait(browser, 10).until(lambda d: d.title.startswith("(2) "))
        deliver(server, mail("Menu de la cantine", "Frites vendredi."), CLAIRE)
        WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.LINK_TEXT, "Menu de la cantine"))
        deliver(server, mail("Alerte intrusion", "Confinement.", headers=[("Importance", "high")]), CLAIRE)
        WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.LINK_TEXT, "Alerte intrusion"))
        WebDriverWait(browser, 5).until(lambda d: d.execute_script("return window.notesVues.length") >= 1)
        notes = browser.execute_script("return window.notesVues")
        assert notes == [{"title": "Message prioritaire", "body": "Paul Durand : Alerte intrusion"}], notes

        choose(browser, server, notifications="tous")
        browser.get(base(server) + "/courrier")
        WebDriverWait(browser, 10).until(lambda d: d.title.startswith("(4) "))
        deliver(server, mail("Menu de la semaine", "Poisson lundi."), CLAIRE)
        WebDriverWait(browser, 15).until(lambda d: d.execute_script("return window.notesVues.length") >= 1)
        notes = browser.execute_script("return window.notesVues")
        assert notes == [{"title": "Nouveau message", "body": "Paul Durand : Menu de la semaine"}], notes
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})
        browser.execute_cdp_cmd("Browser.resetPermissions", {})


def test_a_message_waiting_to_be_sent_is_reachable_from_the_list(server, browser):
    with_delay(server, "120s")
    server.create("claire.martin", password=PASSWORD)
    server.create("paul.durand", password=PASSWORD)
    server.start()
    login(browser, server, CLAIRE)
    browser.get(base(server) + "/courrier")
    assert not browser.find_elements(By.ID, "envoi-attente"), "nothing waits"
    send(browser, server, "Réunion de rentrée", "Bonjour Paul,")
    # She goes elsewhere; the list says a message waits, and leads back to its cancel.
    browser.get(base(server) + "/courrier")
    banner = browser.find_element(By.ID, "envoi-attente")
    assert "1 envoi en attente" in banner.text
    browser.find_element(By.ID, "lien-envoi-attente").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "annuler-envoi")))
    browser.find_element(By.ID, "annuler-envoi").click()
    wait_path(browser, "/courrier/ecrire")
    assert browser.find_element(By.ID, "subject").get_attribute("value") == "Réunion de rentrée"
    browser.get(base(server) + "/courrier")
    assert not browser.find_elements(By.ID, "envoi-attente"), "cancelled: nothing waits"


def test_mail_from_the_direction_of_her_own_school_is_a_priority(server, browser, tmp_path):
    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    for name, uai in (("Collège A", "0541234A"), ("Collège B", "0549999B")):
        server.admin("unit", "add", name, "--kind", "etablissement", "--parent", "Académie de test", "--uai", uai)
    csv = tmp_path / "rh.csv"
    csv.write_text(
        "numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n"
        "12E0000011ABC;Mme;Martin;Claire;enseignant;actif;0541234A;;\n"
        "12E0000012ABC;Mme;Proviseur;Anne;direction;actif;0541234A;;\n"
        "12E0000013ABC;M.;Autre;Bruno;direction;actif;0549999B;;\n", encoding="utf-8")
    out = subprocess.run([binary(), "directory", "--config", str(server.config), "sync", str(csv)],
                         capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    for local in ("claire.martin", "anne.proviseur", "bruno.autre"):
        server.admin("account", "password", f"{local}@{DOMAIN}", "--password-stdin", stdin=PASSWORD.encode())
        server.admin("account", "activate", f"{local}@{DOMAIN}")
    server.start()

    def send_as(local, subject):
        address = f"{local}@{DOMAIN}"
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = address, CLAIRE, subject
        m.set_content("Message de la direction.")
        with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=20) as s:
            s.starttls(context=tls_context())
            s.login(address, PASSWORD)
            s.send_message(m)

    deliver(server, mail("Bienvenue", "Bonne rentrée."), CLAIRE)
    login(browser, server, CLAIRE)
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": SPY})
    try:
        browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": base(server), "permissions": ["notifications"]})
        choose(browser, server, notifications="prioritaires")
        browser.get(base(server) + "/courrier")
        # Bienvenue and the notice that the helpdesk set her password: the stream is open.
        WebDriverWait(browser, 10).until(lambda d: d.title.startswith("(2) "))
        # Another school's head, then her own: only her own school's direction is a priority.
        send_as("bruno.autre", "Réunion des chefs d'établissement")
        WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.LINK_TEXT, "Réunion des chefs d'établissement"))
        send_as("anne.proviseur", "Exercice incendie demain")
        WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.LINK_TEXT, "Exercice incendie demain"))
        WebDriverWait(browser, 5).until(lambda d: d.execute_script("return window.notesVues.length") >= 1)
        notes = browser.execute_script("return window.notesVues")
        assert [n["title"] for n in notes] == ["Message prioritaire"] and "Exercice incendie" in notes[0]["body"], notes
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})
        browser.execute_cdp_cmd("Browser.resetPermissions", {})
