"""The webmail's second layer on the real binary, in headless Chromium:
search across every folder with operators, live updates over server-sent
events, keyboard shortcuts, drag and drop onto a folder, and the phone
layout."""

import http.client
import json
import socket
import time
import urllib.parse

import pytest

from conftest import DOMAIN, IN_CI

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium not installed: {e}", allow_module_level=True)

from test_web_identity import PASSWORD, base, browser, wait_path  # noqa: F401
from test_webmail import deliver, folder_link, login, open_message, path

CLAIRE = f"claire.martin@{DOMAIN}"
PAUL = f"paul.durand@{DOMAIN}"


def mail(sender, subject, body, date="Mon, 23 Nov 2026 10:00:00 +0000", attachment=None):
    head = (f"From: {sender}\r\nTo: {CLAIRE}\r\nSubject: {subject}\r\nDate: {date}\r\nMIME-Version: 1.0\r\n")
    if attachment is None:
        return (head + f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()
    return (head + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b\r\n"
            f"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"{attachment}\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n").encode()


def search(driver, text):
    box = driver.find_element(By.ID, "recherche")
    box.clear()
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    wait_path(driver, "/courrier/recherche")
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.ID, "recherche").get_attribute("value") == text)


def result_subjects(driver):
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "table#resultats td.objet a")]


def move_to(driver, folder):
    Select(driver.find_element(By.ID, "dossier")).select_by_visible_text(folder)
    driver.find_element(By.ID, "deplacer").click()
    WebDriverWait(driver, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".alerte"), "déplacé"))


def new_folder(driver, name):
    driver.find_element(By.ID, "nom-dossier").send_keys(name)
    driver.find_element(By.CSS_SELECTOR, "form.nouveau-dossier button").click()
    WebDriverWait(driver, 10).until(EC.text_to_be_present_in_element((By.ID, "titre-dossier"), name))


def test_search_across_folders_with_operators(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    deliver(server, f"secretariat@{DOMAIN}", CLAIRE, mail(
        f"Secrétariat <secretariat@{DOMAIN}>", "Conseil de classe 3e B", "Le conseil aura lieu jeudi.",
        date="Tue, 10 Nov 2026 09:00:00 +0000"))
    deliver(server, f"paul.durand@{DOMAIN}", CLAIRE, mail(
        f"Paul Durand <paul.durand@{DOMAIN}>", "Sortie au musée", "Le programme de la sortie est joint.",
        attachment="programme.pdf"))
    deliver(server, f"paul.durand@{DOMAIN}", CLAIRE, mail(
        f"Paul Durand <paul.durand@{DOMAIN}>", "Budget du conseil", "Le budget sera voté au conseil."))
    login(browser, server, CLAIRE)
    # One of them goes to a folder of its own: the search still finds it there.
    new_folder(browser, "Projets")
    folder_link(browser, "Boîte de réception").click()
    open_message(browser, "Budget du conseil")
    move_to(browser, "Projets")

    search(browser, "conseil")
    assert sorted(result_subjects(browser)) == ["Budget du conseil", "Conseil de classe 3e B"]
    folders = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "table#resultats td.dossier")]
    assert sorted(folders) == ["Boîte de réception", "Projets"]
    assert "2" in browser.find_element(By.ID, "resume").text

    search(browser, "de:paul conseil")
    assert result_subjects(browser) == ["Budget du conseil"]
    search(browser, "objet:conseil dans:projets")
    assert result_subjects(browser) == ["Budget du conseil"]
    search(browser, "pj:oui")
    assert result_subjects(browser) == ["Sortie au musée"]
    search(browser, "pj:non de:\"Paul Durand\"")
    assert result_subjects(browser) == ["Budget du conseil"]
    search(browser, "avant:2026-11-11 conseil")
    assert browser.find_element(By.ID, "aucun-resultat"), "the messages were received today, not before"
    search(browser, f"après:01/01/2020 à:{CLAIRE.split('@')[0]} musee")
    assert result_subjects(browser) == ["Sortie au musée"]

    # A result opens the message in its folder.
    browser.find_element(By.LINK_TEXT, "Sortie au musée").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "objet"), "Sortie au musée"))

    # Mistakes are explained, not searched for.
    for text, words in [
        ("expediteur:paul", ["Opérateur inconnu", "expediteur:"]),
        ("avant:31/02/2026", ["Date invalide", "31/02/2026"]),
        ("pj:peut-etre", ["oui ou non"]),
        ("dans:Nulle-part x", ["Aucun dossier", "Nulle-part"]),
        ("de:", ["Il manque une valeur"]),
    ]:
        search(browser, text)
        error = browser.find_element(By.CSS_SELECTOR, ".alerte.erreur").text
        for w in words:
            assert w in error, (text, error)
        assert not browser.find_elements(By.ID, "resultats")

    # Without a query, the page explains the operators.
    browser.get(base(server) + "/courrier/recherche")
    assert browser.find_element(By.ID, "aide-recherche").get_attribute("open") is not None
    # Signed out, the search answers nothing.
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
    conn.request("GET", "/courrier/recherche?q=conseil")
    resp = conn.getresponse()
    assert resp.status == 303 and b"Conseil" not in resp.read()


def cookie_header(driver):
    return "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())


def open_stream(server, cookies):
    """A raw HTTP/1.1 GET of the event stream; returns the socket file."""
    sock = socket.create_connection(("127.0.0.1", server.http_port), timeout=30)
    sock.sendall((f"GET /courrier/evenements HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookies}\r\n"
                  "Accept: text/event-stream\r\n\r\n").encode())
    return sock, sock.makefile("rb")


def read_event(f, name, deadline=30):
    """Reads lines until an event called `name`; returns its data (or None at the end of the stream)."""
    end = time.time() + deadline
    current = None
    while time.time() < end:
        line = f.readline()
        if not line:
            return None
        line = line.decode(errors="replace").strip()
        if line.startswith("event:"):
            current = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and current == name:
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {name} event within {deadline} s")


def test_live_updates_counts_rows_title_and_end_of_session(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    deliver(server, f"paul.durand@{DOMAIN}", CLAIRE, mail(f"Paul <{PAUL}>", "Premier message", "Bonjour."))
    login(browser, server, CLAIRE)
    # The script asks for the stream; the tab title shows the Inbox's unread count.
    WebDriverWait(browser, 10).until(lambda d: d.title.startswith("(1) "))
    browser.execute_script("window.sansRechargement = 42;")
    deliver(server, f"paul.durand@{DOMAIN}", CLAIRE, mail(f"Paul <{PAUL}>", "Arrivé en direct", "Tout frais."))
    WebDriverWait(browser, 15).until(lambda d: d.title.startswith("(2) "))
    first = WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "table#messages tbody tr:first-child td.objet a"))
    WebDriverWait(browser, 10).until(lambda d: d.find_element(
        By.CSS_SELECTOR, "table#messages tbody tr:first-child td.objet a").text == "Arrivé en direct")
    assert browser.execute_script("return window.sansRechargement") == 42, "the page was not reloaded"
    inbox = folder_link(browser, "Boîte de réception")
    assert inbox.find_element(By.CSS_SELECTOR, ".compteur").text.startswith("2")
    assert "Paul" in browser.find_element(By.CSS_SELECTOR,
                                          "table#messages tbody tr:first-child td.expediteur").text
    # The new row is a real link to the message.
    first = browser.find_element(By.CSS_SELECTOR, "table#messages tbody tr:first-child td.objet a")
    first.click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "objet"), "Arrivé en direct"))
    WebDriverWait(browser, 10).until(lambda d: d.title.startswith("(1) "))

    # Without a session: no stream.
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
    conn.request("GET", "/courrier/evenements")
    assert conn.getresponse().status == 401

    # A stream of its own: counts first, then a delivery, then the end when the session ends.
    sock, f = open_stream(server, cookie_header(browser))
    status = f.readline().decode()
    assert " 200 " in status, status
    state = json.loads(read_event(f, "etat"))
    assert state["inbox"] in [x["id"] for x in state["folders"]]
    deliver(server, f"paul.durand@{DOMAIN}", CLAIRE, mail(f"Paul <{PAUL}>", "Troisième", "Encore."))
    new = json.loads(read_event(f, "nouveau"))
    assert new["row"]["subject"] == "Troisième" and new["row"]["href"].startswith("/courrier/")
    assert new["mailbox"] == state["inbox"]
    # Logging out in the browser ends this session: the stream says so and closes.
    browser.find_element(By.CSS_SELECTOR, "form[action='/deconnexion'] button").click()
    assert read_event(f, "fin", deadline=30) == "{}"
    sock.close()


def test_an_open_stream_does_not_hold_up_shutdown(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    login(browser, server, CLAIRE)
    sock, f = open_stream(server, cookie_header(browser))
    assert read_event(f, "etat") is not None
    browser.get("about:blank")
    started = time.time()
    server.proc.send_signal(15)
    server.proc.wait(timeout=12)
    assert server.proc.returncode == 0, server.proc.returncode
    assert time.time() - started < 12
    sock.close()


def test_keyboard_shortcuts(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    for n in range(3):
        deliver(server, f"paul.durand@{DOMAIN}", CLAIRE, mail(f"Paul <{PAUL}>", f"Message {n}", f"Texte {n}."))
    login(browser, server, CLAIRE)
    page = browser.find_element(By.TAG_NAME, "body")

    # ? opens the help dialog, Escape closes it; the same list is a page.
    page.send_keys("?")
    dialog = browser.find_element(By.ID, "raccourcis-dialogue")
    WebDriverWait(browser, 5).until(lambda d: dialog.get_attribute("open") is not None)
    assert "Répondre à tous" in dialog.text
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    WebDriverWait(browser, 5).until(lambda d: dialog.get_attribute("open") is None)
    browser.get(base(server) + "/courrier/raccourcis")
    assert "Raccourcis clavier" in browser.find_element(By.ID, "titre-raccourcis").text
    browser.get(base(server) + "/courrier")

    # / goes to the search box; letters typed there are text, not shortcuts.
    browser.find_element(By.TAG_NAME, "body").send_keys("/")
    assert browser.switch_to.active_element.get_attribute("id") == "recherche"
    browser.switch_to.active_element.send_keys("jkc")
    assert path(browser) == "/courrier"
    assert browser.find_element(By.ID, "recherche").get_attribute("value") == "jkc"
    browser.find_element(By.ID, "recherche").clear()

    # j / k choose rows (newest first) with a visible mark; Enter opens.
    # Leave the search box without clicking (a click in the middle of the page could land on a link).
    browser.execute_script("document.activeElement.blur()")
    browser.switch_to.active_element.send_keys("j")
    browser.switch_to.active_element.send_keys("j")
    browser.switch_to.active_element.send_keys("k")
    chosen = browser.find_element(By.CSS_SELECTOR, "table#messages tr.choisi")
    assert chosen.find_element(By.CSS_SELECTOR, "td.objet a").text == "Message 2"
    assert browser.switch_to.active_element.text == "Message 2"
    browser.switch_to.active_element.send_keys("j")
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "objet"), "Message 1"))

    # r replies, a replies to all, c composes.
    browser.find_element(By.TAG_NAME, "body").send_keys("r")
    wait_path(browser, "/courrier/ecrire")
    assert browser.find_element(By.ID, "subject").get_attribute("value") == "Re: Message 1"
    browser.back()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "objet"), "Message 1"))
    browser.find_element(By.TAG_NAME, "body").send_keys("a")
    wait_path(browser, "/courrier/ecrire")
    assert "tous=1" in browser.current_url
    browser.back()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "objet"), "Message 1"))

    # # deletes (to the Corbeille).
    browser.find_element(By.TAG_NAME, "body").send_keys("#")
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".alerte"), "corbeille"))
    assert any(m["subject"] == "Message 1" and m["mailbox"] == "Corbeille" for m in server.messages(CLAIRE))
    # # on a row chosen in the list deletes it too.
    browser.find_element(By.TAG_NAME, "body").send_keys("j")
    browser.switch_to.active_element.send_keys("#")
    WebDriverWait(browser, 10).until(
        lambda d: any(m["subject"] == "Message 2" and m["mailbox"] == "Corbeille" for m in server.messages(CLAIRE)))
    browser.find_element(By.TAG_NAME, "body").send_keys("c")
    wait_path(browser, "/courrier/ecrire")


DRAG = """
const [row, target] = arguments;
const data = new DataTransfer();
row.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: data}));
target.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: data}));
target.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: data}));
row.dispatchEvent(new DragEvent('dragend', {bubbles: true, dataTransfer: data}));
"""


def test_drag_a_row_onto_a_folder_moves_it(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    deliver(server, f"paul.durand@{DOMAIN}", CLAIRE, mail(f"Paul <{PAUL}>", "À classer", "Rangez-moi."))
    deliver(server, f"paul.durand@{DOMAIN}", CLAIRE, mail(f"Paul <{PAUL}>", "À garder", "Je reste."))
    login(browser, server, CLAIRE)
    new_folder(browser, "Archives du conseil")
    folder_link(browser, "Boîte de réception").click()
    row = WebDriverWait(browser, 10).until(lambda d: d.find_element(
        By.XPATH, "//table[@id='messages']//tr[.//a[normalize-space()='À classer']]"))
    assert row.get_attribute("draggable") == "true"
    browser.execute_script(DRAG, row, folder_link(browser, "Archives du conseil"))
    WebDriverWait(browser, 10).until(lambda d: not d.find_elements(
        By.XPATH, "//table[@id='messages']//a[normalize-space()='À classer']"))
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "annonces"), "déplacé"))
    mails = {m["subject"]: m["mailbox"] for m in server.messages(CLAIRE)}
    assert mails["À classer"] == "Archives du conseil" and mails["À garder"] == "INBOX", mails
    # The keyboard way is the move form on the message, which stays.
    open_message(browser, "À garder")
    assert browser.find_element(By.ID, "deplacer")


def test_phone_layout_is_one_column_with_folders_folded(server, browser):
    server.create("claire.martin", password=PASSWORD)
    server.start()
    deliver(server, f"paul.durand@{DOMAIN}", CLAIRE, mail(f"Paul <{PAUL}>", "Sur le téléphone", "Petit écran."))
    browser.set_window_size(390, 844)
    try:
        login(browser, server, CLAIRE)
        toggle = browser.find_element(By.CSS_SELECTOR, "button.plier-dossiers")
        assert toggle.is_displayed() and toggle.get_attribute("aria-expanded") == "false"
        folders = browser.find_element(By.CSS_SELECTOR, "nav.dossiers ul")
        assert not folders.is_displayed()
        row = browser.find_element(By.XPATH, "//table[@id='messages']//a[normalize-space()='Sur le téléphone']")
        assert row.is_displayed()
        # No horizontal scrolling.
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true" and folders.is_displayed()
        row.click()
        WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "objet"), "Sur le téléphone"))
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    finally:
        browser.set_window_size(1280, 900)
