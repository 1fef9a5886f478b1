"""« Partage de fichiers » with the antivirus (issue 22: « scanned by the antivirus of the hygiene
issue when it is configured »), on the real binary and Debian's real clamd, run from a private
folder with our own signature database (test_hygiene's EICAR signature; no download).

Claire uploads over tus (driven by `requests`) a file with the EICAR test string across two
pieces: the last PATCH answers 422, the upload is gone, no link is made, Paul is never mailed, and
the audit log names it. A clean file is shared and downloaded by an outsider; an infected new
version of it is refused the same way while the link keeps serving the clean one. A file larger
than clamd reads is refused at creation (413). With clamd down, the file is received but held
« en attente d'analyse »: no link until the real clamd comes back, then the same upload is shared.
In the composer (Chromium), a file too large for a message met with clamd down is a sentence, not
a bare « 503 »; the message is saved in Brouillons, and « Réessayer » once clamd is back writes
the link into the message."""

import json
import os
import time

import requests

from test_hygiene import EICAR, free_port
from test_hygiene import run_clamd as start_clamd
from test_sharing import CLAIRE, PAUL, create, head, patch, session, share, upload
from test_web_identity import PASSWORD, base, browser  # noqa: F401

SCAN_LIMIT = 20 * 1024 * 1024


def start(server, clamd_port):
    with open(server.config, "a") as f:
        f.write('\n[sharing]\nmax_file_size = "100M"\n'
                f'\n[hygiene]\nclamd = "tcp:127.0.0.1:{clamd_port}"\nclamd_max_size = "20M"\n'
                'clamd_timeout = "10s"\n')
    server.create("claire.martin", password=PASSWORD)
    server.create("paul.durand", password=PASSWORD)
    return server.start()


def run_clamd(folder, port):
    """Debian's clamd on `port`, with the EICAR signature of test_hygiene only; returns the process."""
    return start_clamd(folder, port, {"Ardoise.Test.EICAR": EICAR}, "StreamMaxLength 20M\n")


def stop(proc):
    proc.terminate()
    proc.wait(timeout=20)


def infected(size=3 * 1024 * 1024):
    """`size` bytes of noise with the EICAR string in the middle."""
    half = os.urandom(size // 2)
    return half + EICAR.encode() + os.urandom(size - len(half) - len(EICAR))


def told(server, address, within=3.0):
    """Subjects of the « Fichier partagé » mails `address` received within `within` seconds."""
    deadline = time.time() + within
    while True:
        got = [m["subject"] for m in server.messages(address) if "Fichier partagé" in m["subject"]]
        if got or time.time() > deadline:
            return got
        time.sleep(0.2)


def test_an_infected_file_is_refused_and_a_clean_one_shared(server, tmp_path):
    port = free_port()
    clamd = run_clamd(tmp_path / "clamd", port)
    try:
        start(server, port)
        claire = session(server, CLAIRE)
        page = claire.get(base(server) + "/courrier/partage").text
        assert 'id="partage-antivirus"' in page and "20,0 Mo" in page
        options = requests.options(base(server) + "/partage/televersement/")
        assert options.headers["Tus-Max-Size"] == str(SCAN_LIMIT)

        # The EICAR string, cut in two by the pieces: clamd sees the whole file.
        data = infected()
        cut = len(data) // 2 + len(EICAR) // 2
        url = create(server, claire, "Bulletin trimestriel.pdf", len(data))
        assert patch(claire, url, 0, data[:cut]).status_code == 204
        resp = patch(claire, url, cut, data[cut:])
        assert resp.status_code == 422, (resp.status_code, resp.text)
        assert "virus" in resp.text and "supprimé" in resp.text and "deleted" in resp.text
        assert claire.head(url).status_code == 404
        upload_id = url.rsplit("/", 1)[1]
        resp = claire.post(base(server) + "/courrier/partage",
                           data={"csrf": claire.csrf, "upload": upload_id, "recipients": PAUL},
                           allow_redirects=False)
        assert resp.status_code == 400, resp.status_code
        assert 'id="partage-aucun"' in claire.get(base(server) + "/courrier/partage").text
        assert not (server.data / "partage" / "televersements" / upload_id).exists()
        log = [json.loads(line) for line in server.admin("audit", "list", "--json").splitlines()]
        virus = [r for r in log if r["action"] == "account.share.virus"]
        assert len(virus) == 1 and virus[0]["actor"] == CLAIRE, log
        assert "Bulletin trimestriel.pdf" in virus[0]["detail"] and "Ardoise.Test.EICAR" in virus[0]["detail"]

        assert told(server, PAUL) == [], "no recipient is mailed a link to an infected file"

        # A clean file goes through, Paul is told, an outsider downloads it.
        clean = os.urandom(2 * 1024 * 1024)
        detail, link = share(server, claire, upload(server, claire, "Compte rendu.bin", clean), recipients=PAUL)
        assert any("Compte rendu.bin" in s for s in told(server, PAUL, within=15))
        file_url = base(server) + link + "/fichier"
        assert requests.get(file_url).content == clean

        # An infected new version is refused; the link keeps serving the clean first one.
        share_id = int(detail.rsplit("/", 1)[1])
        v2 = data
        url = create(server, claire, "Compte rendu v2.bin", len(v2), share=share_id)
        resp = patch(claire, url, 0, v2)
        assert resp.status_code == 422, (resp.status_code, resp.text)
        resp = claire.post(base(server) + detail + "/version",
                           data={"csrf": claire.csrf, "upload": url.rsplit("/", 1)[1]}, allow_redirects=False)
        assert resp.status_code == 404, resp.status_code
        assert requests.get(file_url).content == clean
        assert requests.get(file_url + "?v=2").status_code == 404

        # Larger than clamd reads: refused before a byte is sent, saying why.
        meta = "filename " + __import__("base64").b64encode(b"film.mp4").decode()
        resp = claire.post(base(server) + "/partage/televersement/", headers={
            "X-CSRF-Token": claire.csrf, "Upload-Length": str(SCAN_LIMIT + 1), "Upload-Metadata": meta})
        assert resp.status_code == 413 and "antivirale" in resp.text, (resp.status_code, resp.text)
    finally:
        stop(clamd)


def test_clamd_down_holds_the_file_until_it_is_scanned(server, tmp_path):
    port = free_port()
    start(server, port)
    claire = session(server, CLAIRE)
    data = os.urandom(1024 * 1024)
    url = create(server, claire, "Emploi du temps.bin", len(data))
    resp = patch(claire, url, 0, data)
    assert resp.status_code == 503 and "en attente d'analyse" in resp.text, (resp.status_code, resp.text)
    assert resp.headers["Retry-After"] == "60"
    assert head(claire, url) == len(data), "every byte is kept"
    upload_id = url.rsplit("/", 1)[1]
    resp = claire.post(base(server) + "/courrier/partage",
                       data={"csrf": claire.csrf, "upload": upload_id, "recipients": PAUL}, allow_redirects=False)
    assert resp.status_code == 503 and "antivirus" in resp.text, resp.status_code
    assert 'id="partage-aucun"' in claire.get(base(server) + "/courrier/partage").text
    assert told(server, PAUL) == []

    # clamd comes back: the same upload is scanned when it is shared again, then served.
    clamd = run_clamd(tmp_path / "clamd", port)
    try:
        detail, link = share(server, claire, upload_id, recipients=PAUL)
        assert any("Emploi du temps.bin" in s for s in told(server, PAUL, within=15))
        assert requests.get(base(server) + link + "/fichier").content == data
    finally:
        stop(clamd)


def test_the_composer_says_the_antivirus_is_down_and_keeps_the_message(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from test_webmail import login
    from test_webmail_compose import fill, imap_fetch

    port = free_port()
    with open(server.config, "a") as f:
        f.write('\n[sharing]\nmax_file_size = "100M"\n'
                f'\n[hygiene]\nclamd = "tcp:127.0.0.1:{port}"\nclamd_max_size = "50M"\nclamd_timeout = "5s"\n')
    server.create("claire.martin", password=PASSWORD)
    server.create("paul.durand", password=PASSWORD)
    server.start()
    big = tmp_path / "Film de la kermesse.bin"
    big.write_bytes(os.urandom(21 * 1024 * 1024))

    login(browser, server, CLAIRE)
    browser.get(base(server) + "/courrier/ecrire")
    fill(browser, "to", PAUL)
    fill(browser, "subject", "Film de la kermesse")
    fill(browser, "body", "Bonjour Paul,\nvoici le film.")
    browser.find_element(By.ID, "pj").send_keys(str(big))
    status = WebDriverWait(browser, 120).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#pj-liens .antivirus-indisponible"))
    text = browser.find_element(By.ID, "pj-liens").text
    assert ("l'antivirus est momentanément indisponible ; réessayez dans quelques minutes. "
            "Votre message est conservé.") in text, text
    assert "503" not in text, text
    # What was typed is still there, and saved as a draft.
    assert browser.find_element(By.ID, "body").get_attribute("value").startswith("Bonjour Paul,\nvoici le film.")
    drafts = WebDriverWait(browser, 20).until(
        lambda d: [m for _, m in imap_fetch(server, CLAIRE, "Brouillons") if m["Subject"] == "Film de la kermesse"])
    assert "voici le film" in drafts[0].get_body(preferencelist=("plain",)).get_content()

    # clamd comes back: « Réessayer » shares the same upload and writes the link.
    clamd = start_clamd(tmp_path / "clamd", port, {"Ardoise.Test.EICAR": EICAR}, "StreamMaxLength 50M\n")
    try:
        status.find_element(By.TAG_NAME, "button").click()
        WebDriverWait(browser, 60).until(lambda d: "/partage/" in d.find_element(By.ID, "body").get_attribute("value"))
        assert "sera envoyé comme lien" in browser.find_element(By.ID, "pj-liens").text
    finally:
        stop(clamd)
