#!/usr/bin/env python3
"""Screenshots of the webmail's main pages for the README (issue 19), into
docs/screenshots/: the Inbox on a desktop (1366x768) with the reading pane,
a message read on its own page, the composer, Réglages and its Lecture page,
and the Inbox on a phone (390x844). The mail is demo-like (a collège's daily mail), filed
over IMAP on a server the script starts on ephemeral ports of 127.0.0.1.

Each PNG is re-deflated at the highest zlib level, its rows unfiltered when
that is smaller (the image itself is unchanged), and must stay under 150 KB.

Usage: python3 scripts/screenshots.py [--bin PATH] [--out DIR]
The binary defaults to $ARDOISE_BIN, else $CARGO_TARGET_DIR/debug/ardoise.
"""

import argparse
import os
import email.utils
import imaplib
import ssl
import struct
import sys
import tempfile
import time
import zlib
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

PASSWORD = "Captures-2026!"
LIMIT = 150_000
MAIL = [
    ("Direction du collège", "direction", "Conseil pédagogique de jeudi",
     "Bonjour à toutes et à tous,\n\nLe conseil pédagogique se tiendra jeudi à 17 h en salle 12.\n"
     "Ordre du jour : projets de sortie du deuxième trimestre, devoirs communs de 3e.\n\nBien cordialement,\n"
     "La principale"),
    ("Paul Durand", "paul.durand", "Sortie au musée : autorisations parentales",
     "Bonjour Claire,\n\nJ'ai reçu 22 autorisations sur 26 pour la sortie du 12. Peux-tu relancer "
     "les familles de ta classe ?\n\nMerci,\nPaul"),
    ("Secrétariat 0541234A", "secretariat.0541234a", "Planning des salles de la semaine 50",
     "Bonjour,\n\nVous trouverez ci-dessous le planning des salles.\nLa salle informatique est réservée "
     "mardi matin pour les 4e.\n\nLe secrétariat"),
    ("Vie scolaire", "vie.scolaire", "Absences de la 4e B",
     "Bonjour,\n\nTrois élèves de 4e B sont absents ce matin.\nMerci de faire l'appel dans Pronote.\n"),
    ("DSDEN 54", "dsden54", "Note de service : formation continue",
     "Madame, Monsieur,\n\nLes inscriptions au plan académique de formation sont ouvertes "
     "jusqu'au 18 décembre.\n"),
    ("Paul Durand", "paul.durand", "Re: Devoir commun de mathématiques",
     "D'accord pour mardi 15, en 2 heures.\n\n> On le fait la semaine du 14 ?\n"),
    ("Gestionnaire", "gestion", "Commande de manuels",
     "Bonjour,\n\nLa commande de manuels de sciences est partie ; livraison prévue en janvier.\n"),
    ("Association sportive", "as.college", "Tournoi de handball mercredi",
     "Le tournoi inter-collèges a lieu mercredi après-midi au gymnase. Accompagnateurs bienvenus !\n"),
]


def unfilter(raw: bytes, width: int, height: int, bpp: int) -> bytes:
    """The pixels of PNG image data (each row after its filter byte, RFC 2083 section 6)."""
    stride, out, prev, pos = width * bpp, bytearray(), bytearray(width * bpp), 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a, b = (line[i - bpp] if i >= bpp else 0), prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return bytes(out)


def smaller_png(data: bytes) -> bytes:
    """The same image, deflated at level 9 with the rows' filters as they
    were or with none (flat screens of a web page often deflate better
    unfiltered): whichever is smaller."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos, idat = [], 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IDAT":
            idat += body
            if not any(k == b"IDAT" for k, _ in chunks):
                chunks.append((b"IDAT", None))
        else:
            chunks.append((kind, body))
    width, height, depth, color = struct.unpack(">IIBB", dict(chunks)[b"IHDR"][:10])
    raw = zlib.decompress(idat)
    best = zlib.compress(raw, 9)
    if depth == 8 and color in (2, 6):
        bpp = 3 if color == 2 else 4
        pixels, stride = unfilter(raw, width, height, bpp), width * bpp
        plain = zlib.compress(b"".join(b"\0" + pixels[y * stride:(y + 1) * stride] for y in range(height)), 9)
        best = min(best, plain, key=len)
    out = [data[:8]]
    for kind, body in chunks:
        if kind == b"IDAT":
            body = best
        out.append(struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    return b"".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.environ.get("ARDOISE_BIN"))
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = p.parse_args()
    if args.bin:
        os.environ["ARDOISE_BIN"] = args.bin
    import conftest

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ardoise-captures-") as tmp:
        server = conftest.Server(Path(tmp) / "srv")
        claire = server.create("claire.martin", password=PASSWORD)
        server.start()
        try:
            # Filed over IMAP, as a migration would: colleagues' mail that did
            # not come through the MX (so no « usurpée » warning on it).
            imap = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=ssl._create_unverified_context())
            imap.login(claire, PASSWORD)
            now = time.time()
            for i, (name, local, subject, text) in enumerate(reversed(MAIL)):
                m = EmailMessage()
                m["From"], m["To"], m["Subject"] = f"{name} <{local}@{conftest.DOMAIN}>", claire, subject
                m["Date"] = email.utils.formatdate(now - (len(MAIL) - i) * 2400, localtime=True)
                m.set_content(text)
                flags = "(\\Seen)" if i < 5 else ""
                imap.append("INBOX", flags, imaplib.Time2Internaldate(now - (len(MAIL) - i) * 2400), m.as_bytes())
            imap.logout()
            base = f"http://127.0.0.1:{server.http_port}"
            opts = Options()
            opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
            for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                        "--lang=fr-FR", "--window-size=1366,768", "--hide-scrollbars"):
                opts.add_argument(arg)
            opts.add_experimental_option("prefs", {"intl.accept_languages": "fr-FR,fr"})
            driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")),
                                      options=opts)
            try:
                driver.get(base + "/connexion")
                driver.find_element(By.ID, "login").send_keys(claire)
                driver.find_element(By.ID, "password").send_keys(PASSWORD)
                driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
                WebDriverWait(driver, 30).until(lambda d: "/courrier" in d.current_url)
                inbox = driver.current_url.split("?")[0]

                def shot(name, width, height, url):
                    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
                    driver.get(url)
                    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
                    png = smaller_png(driver.get_screenshot_as_png())
                    (out / name).write_bytes(png)
                    assert len(png) < LIMIT, f"{name}: {len(png)} bytes"
                    print(f"{name}: {len(png) // 1024} KB")

                first = driver.find_element(By.CSS_SELECTOR, "table#messages tbody tr td.objet a").get_attribute("href")
                uid = first.rsplit("/", 1)[1]
                shot("lecture-bureau.png", 1366, 768, first)
                shot("redaction-bureau.png", 1366, 768, base + "/courrier/ecrire")
                shot("reglages-bureau.png", 1366, 768, base + "/courrier/reglages")
                shot("reglages-lecture-bureau.png", 1366, 768, base + "/courrier/reglages/lecture")
                shot("boite-telephone.png", 390, 844, inbox)
                # The Inbox with the reading pane on the right (Réglages → Lecture).
                driver.get(base + "/courrier/reglages/lecture")
                driver.find_element(By.ID, "volet-droite").click()
                driver.find_element(By.ID, "enregistrer-lecture").click()
                WebDriverWait(driver, 10).until(lambda d: "info=enregistre" in d.current_url)
                shot("boite-bureau.png", 1366, 768, f"{inbox}?lire={uid}")
            finally:
                driver.quit()
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
