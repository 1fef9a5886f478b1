"""List moderation in the webmail (issue 22) on the real binary, in headless
Chromium: Claire, no member of the « Conseil pédagogique », posts to it over
SMTP submission (smtplib) and her post is held; the moderator sees « Listes ·
À modérer » with a count in the sidebar, opens the post (a preview of its
text), approves it in the browser, and the members Paul and Léa receive it
(read over IMAP with imapclient) while Claire is told. A second post is
refused with a reason, which Claire receives; the members get nothing. Paul,
a member but no moderator, has no « À modérer », the post's page is a 404
for him and his « decision » decides nothing. A moderator who clicks
« Diffuser » on a post approved meanwhile elsewhere is told it no longer
waits, and it goes out once. axe-core finds no serious violation on the new
pages."""

import email
import email.policy
import json
import re
import smtplib
import time

import pytest

from conftest import DOMAIN, IN_CI

try:
    from imapclient import IMAPClient
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium or imapclient not installed: {e}", allow_module_level=True)

from test_imap import tls_context
from test_web_identity import PASSWORD, base, browser  # noqa: F401
from test_lists import wait_for
from test_webmail_audit import axe_source
from test_webmail_compose import CLAIRE, PAUL, http, login
from test_webmail_delegation import no_serious_violation

LEA = f"lea.moreau@{DOMAIN}"
MODO = f"moderatrice@{DOMAIN}"
CONSEIL = f"conseil@{DOMAIN}"


def submit(server, user, subject, body):
    msg = (f"From: {user}\r\nTo: {CONSEIL}\r\nSubject: {subject}\r\n"
           f"Message-ID: <{subject.replace(' ', '-')}.{time.time_ns()}@{DOMAIN}>\r\n"
           f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=30) as s:
        s.starttls(context=tls_context())
        s.login(user, PASSWORD)
        assert s.sendmail(user, [CONSEIL], msg) == {}


def inbox(server, user):
    """(subject, text) of every message in a user's INBOX, read with imapclient."""
    with IMAPClient("127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=tls_context(), timeout=20) as c:
        c.login(user, PASSWORD)
        c.select_folder("INBOX", readonly=True)
        out = []
        for _, data in sorted(c.fetch(c.search("ALL"), ["BODY.PEEK[]"]).items()):
            msg = email.message_from_bytes(data[b"BODY[]"], policy=email.policy.default)
            out.append((str(msg["Subject"]), msg.get_body(preferencelist=("plain",)).get_content()))
        return out


def held(server):
    return json.loads(server.admin("list", "moderation", CONSEIL, "--json"))


@pytest.fixture
def conseil(server):
    for local in ("claire.martin", "paul.durand", "lea.moreau"):
        server.create(local, password=PASSWORD)
    server.create("moderatrice", password=PASSWORD, role="direction")
    server.admin("list", "create", CONSEIL, "--name", "Conseil pédagogique")
    server.admin("list", "add", CONSEIL, PAUL)
    server.admin("list", "add", CONSEIL, LEA)
    server.admin("list", "post-policy", CONSEIL, "members")
    server.admin("list", "moderators", CONSEIL, "add", MODO)
    server.start()
    return server


def test_the_moderator_approves_in_the_browser_and_the_members_receive_it(conseil, browser):
    server = conseil
    source = axe_source()
    submit(server, CLAIRE, "Sortie au musée", "Je propose une sortie au musée le 12.")
    wait_for(lambda: held(server), "the held post")
    assert [s for s, _ in inbox(server, PAUL)] == []

    login(browser, server, MODO)
    link = WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "lien-moderation")))
    assert browser.find_element(By.ID, "compteur-moderation").text.startswith("1")
    link.click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "titre-moderation")))
    no_serious_violation(browser, source, "moderation queue")
    row = browser.find_element(By.XPATH, "//table[contains(@class,'a-moderer')]//tr[td[normalize-space()='"
                                         f"{CLAIRE}']]")
    row.find_element(By.LINK_TEXT, "Sortie au musée").click()
    body = WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "corps")))
    assert "sortie au musée le 12" in body.text
    assert CLAIRE in browser.find_element(By.ID, "expediteur").text
    no_serious_violation(browser, source, "held post")
    browser.find_element(By.ID, "diffuser").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.TAG_NAME, "main"), "Message diffusé"))
    assert browser.find_elements(By.ID, "compteur-moderation") == []

    for member in (PAUL, LEA):
        got = wait_for(lambda m=member: inbox(server, m), f"{member}'s copy")
        assert [s for s, _ in got] == ["Sortie au musée"], member
    told = wait_for(lambda: inbox(server, CLAIRE), "Claire's notice")
    assert "accepté" in told[0][1] or "diffus" in told[0][0], told
    assert held(server) == []

    # Refused with a reason: Claire is told why, the members get nothing.
    submit(server, CLAIRE, "Publicité", "Achetez nos stylos.")
    post = wait_for(lambda: held(server), "the second held post")[0]
    browser.get(base(server) + f"/courrier/moderation/{post['id']}")
    browser.find_element(By.ID, "motif").send_keys("Hors sujet pour ce conseil")
    browser.find_element(By.ID, "refuser").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.TAG_NAME, "main"), "Message refusé"))
    told = wait_for(lambda: len(inbox(server, CLAIRE)) == 2 and inbox(server, CLAIRE), "the refusal notice")
    assert "Hors sujet pour ce conseil" in told[1][1], told
    assert [s for s, _ in inbox(server, PAUL)] == ["Sortie au musée"]

    # Paul, a member but no moderator: no link, and a held post is a 404 for him.
    submit(server, CLAIRE, "Encore", "Troisième essai.")
    post = wait_for(lambda: held(server), "the third held post")[0]
    login(browser, server, PAUL)
    assert browser.find_elements(By.ID, "lien-moderation") == []
    resp, _ = http(server, "GET", f"/courrier/moderation/{post['id']}", browser)
    assert resp.status == 404
    _, page = http(server, "GET", "/courrier", browser)
    csrf = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
    form = {"csrf": csrf, "decision": "diffuser"}
    resp, _ = http(server, "POST", f"/courrier/moderation/{post['id']}", browser, form)
    # Sent back to his (empty) queue, told the post no longer waits; nothing decided.
    assert resp.status == 303 and resp.getheader("Location") == "/courrier/moderation?info=parti", resp.status
    assert len(held(server)) == 1

    # Two moderators at once: the page is open in the moderator's browser
    # when the post is approved elsewhere (here by the CLI); her « Diffuser »
    # then sends nothing twice and says the post no longer waits.
    login(browser, server, MODO)
    browser.get(base(server) + f"/courrier/moderation/{post['id']}")
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "diffuser")))
    server.admin("list", "approve", str(post["id"]))
    browser.find_element(By.ID, "diffuser").click()
    WebDriverWait(browser, 10).until(
        EC.text_to_be_present_in_element((By.TAG_NAME, "main"), "n'attend plus de décision"))
    wait_for(lambda: len(inbox(server, PAUL)) == 2, "the approved copy")
    time.sleep(1)
    assert [s for s, _ in inbox(server, PAUL)] == ["Sortie au musée", "Encore"], "distributed once"
