"""The demo contract: `ardoise demo` on fixed ports, seeded once, mail to Claire."""

import base64
import hashlib
import imaplib
import json
import re
import smtplib
import ssl
import subprocess
import time

import imapclient
import pytest
import requests

from conftest import IN_CI, binary, port_free


def test_demo_starts_and_accepts_mail_for_claire(tmp_path):
    if not all(port_free(p) for p in (2525, 2143, 2993, 4190)):
        if IN_CI:
            pytest.fail("port 2525 is taken: the demo test needs the demo's fixed port")
        pytest.skip("port 2525 taken (a demo is probably running)")
    data = tmp_path / "demo"
    log = open(tmp_path / "demo.log", "wb")
    proc = subprocess.Popen([binary(), "demo", "--data", str(data)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while not (data / "listeners.json").exists():
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()
            assert time.time() < deadline, "demo did not start"
            time.sleep(0.1)
        assert json.loads((data / "listeners.json").read_text())["smtp"] == "127.0.0.1:2525"
        with smtplib.SMTP("127.0.0.1", 2525) as s:
            assert s.sendmail("parent@example.org", ["claire.martin@ac-demo.fr"],
                              "Subject: Bonjour Madame Martin\r\n\r\nMerci !\r\n".encode()) == {}
        printed = (tmp_path / "demo.log").read_text()
        for account in ("claire.martin@ac-demo.fr", "paul.durand@ac-demo.fr", "secretariat.0541234a@ac-demo.fr",
                        "admin@ac-demo.fr", "eleve.test@ac-demo.fr", "Ardoise-Demo-2026", "NUMEN"):
            assert account in printed, printed
        cfg = str(data / "ardoise.toml")
        accounts = json.loads(subprocess.run([binary(), "admin", "--config", cfg, "account", "list", "--json"],
                                             capture_output=True, check=True).stdout)
        assert len([a for a in accounts if a["role"] not in ("eleve",)]) >= 40
        assert any(a["role"] == "eleve" for a in accounts)
        assert sum(a["status"] == "provisional" for a in accounts) >= 1
        claire = json.loads(subprocess.run([binary(), "admin", "--config", cfg, "message", "list",
                                            "claire.martin@ac-demo.fr", "--json"], capture_output=True, check=True).stdout)
        subjects = [m["subject"] for m in claire]
        assert "Bonjour Madame Martin" in subjects
        assert len(claire) >= 10, subjects
        # The secrétariat's functional mailbox is run by Claire and Paul.
        members = subprocess.run([binary(), "admin", "--config", cfg, "mailbox", "members",
                                  "secretariat.0541234a@ac-demo.fr", "show"], capture_output=True, check=True).stdout
        for member in (b"claire.martin@ac-demo.fr", b"paul.durand@ac-demo.fr"):
            assert member + b"\t*\tlrswipte +envoi-en-tant-que +envoi-de-la-part-de" in members, members
        # Claire reads her seeded mail over IMAP with implicit TLS, as Thunderbird would.
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with imaplib.IMAP4_SSL("127.0.0.1", 2993, ssl_context=ctx, timeout=20) as m:
            assert m.login("claire.martin@ac-demo.fr", "Ardoise-Demo-2026")[0] == "OK"
            typ, shared = m.list("Partages/", "*")
            assert typ == "OK" and any(b"Partages/secretariat.0541234a/INBOX" in line for line in shared), shared
            typ, resp = m.select("INBOX")
            exists = int(resp[0])
            assert typ == "OK" and exists == sum(r["mailbox"] == "INBOX" for r in claire) >= 10
            typ, resp = m.fetch("1:*", "(UID)")
            assert typ == "OK" and len(resp) == exists
            assert m.fetch("1:*", "(ENVELOPE BODYSTRUCTURE)")[0] == "OK"
            # She searches her seeded mail, accents folded, through the full-text index.
            typ, resp = m.search(None, "TEXT", "treves")
            assert typ == "OK" and len(resp[0].split()) == 1, resp
            typ, resp = m.fetch(resp[0].split()[0].decode(), "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            assert b"eTwinning" in resp[0][1], resp
        # New mail reaches her IDLE session live.
        with imapclient.IMAPClient("127.0.0.1", port=2993, ssl=True, ssl_context=ctx, timeout=20) as c:
            c.login("claire.martin@ac-demo.fr", "Ardoise-Demo-2026")
            c.select_folder("INBOX")
            c.idle()
            with smtplib.SMTP("127.0.0.1", 2525) as s:
                s.sendmail("parent@example.org", ["claire.martin@ac-demo.fr"],
                           "Subject: En direct\r\n\r\nArrive pendant IDLE\r\n".encode())
            seen = []
            deadline = time.time() + 10
            while not any(r[1] == b"EXISTS" for r in seen) and time.time() < deadline:
                seen += c.idle_check(timeout=1)
            c.idle_done()
            assert any(r[1] == b"EXISTS" for r in seen), seen
        # Issue 20's first step: a Sieve rule put over ManageSieve on 4190 files her « réunion » mail.
        assert json.loads((data / "listeners.json").read_text())["managesieve"] == "127.0.0.1:4190"
        import sievelib.managesieve
        sieve = sievelib.managesieve.Client("127.0.0.1", 4190)
        original = ssl.create_default_context
        sievelib.managesieve.ssllib.create_default_context = lambda: ctx
        try:
            assert sieve.connect("claire.martin@ac-demo.fr", "Ardoise-Demo-2026", starttls=True, authmech="PLAIN")
        finally:
            sievelib.managesieve.ssllib.create_default_context = original
        rule = 'require ["fileinto", "mailbox"];\nif header :contains "subject" "réunion" {\n  fileinto :create "Réunions";\n}\n'
        assert sieve.putscript("réunions", rule) and sieve.setactive("réunions"), sieve.errmsg
        sieve.logout()
        with smtplib.SMTP("127.0.0.1", 2525) as s:
            s.sendmail("direction@example.org", ["claire.martin@ac-demo.fr"],
                       "Subject: =?utf-8?q?R=C3=A9union_parents-professeurs?=\r\n\r\nJeudi 18 h.\r\n".encode())
        with imapclient.IMAPClient("127.0.0.1", port=2993, ssl=True, ssl_context=ctx, timeout=20) as c:
            c.login("claire.martin@ac-demo.fr", "Ardoise-Demo-2026")
            deadline = time.time() + 10
            while not c.folder_exists("Réunions") and time.time() < deadline:
                time.sleep(0.1)
            assert c.folder_status("Réunions", ["MESSAGES"])[b"MESSAGES"] == 1
        ent_signs_claire_in(printed)
        admin_opens_the_console(printed)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    # A restart keeps the data and does not seed twice.
    log = open(tmp_path / "demo2.log", "wb")
    (data / "listeners.json").unlink()
    proc = subprocess.Popen([binary(), "demo", "--data", str(data)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while not (data / "listeners.json").exists():
            assert proc.poll() is None and time.time() < deadline
            time.sleep(0.1)
        cfg = str(data / "ardoise.toml")
        claire = json.loads(subprocess.run([binary(), "admin", "--config", cfg, "message", "list",
                                            "claire.martin@ac-demo.fr", "--json"], capture_output=True, check=True).stdout)
        assert sum(m["subject"] == "Bonjour Madame Martin" for m in claire) == 1
        assert "Préparation" not in (tmp_path / "demo2.log").read_text()
        # The sample ENT's credentials are printed again, the same.
        again = (tmp_path / "demo2.log").read_text()
        assert re.search(r"client_secret (\S+)", again).group(1) == re.search(r"client_secret (\S+)", printed).group(1)
        # And the administrator's TOTP seed, the same.
        assert totp_seed(again) == totp_seed(printed)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def ent_signs_claire_in(printed):
    """The sample « ENT » the demo prints signs Claire in with OpenID Connect and reads her name and collège."""
    client_id = re.search(r"client_id +(\S+)", printed).group(1)
    secret = re.search(r"client_secret (\S+)", printed).group(1)
    redirect_uri = re.search(r"redirect_uri +(\S+)", printed).group(1)
    assert "/cas/login?service=" in printed
    base = "http://127.0.0.1:8080"
    web = requests.Session()
    page = web.get(f"{base}/connexion", timeout=10).text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    web.post(f"{base}/connexion", data={"csrf": csrf, "login": "claire.martin@ac-demo.fr",
                                        "password": "Ardoise-Demo-2026"}, allow_redirects=False, timeout=10)
    verifier = "demo-" + "v" * 43
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    r = web.get(f"{base}/oidc/authorize", params={
        "client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
        "scope": "openid profile academie", "state": "s", "code_challenge": challenge,
        "code_challenge_method": "S256"}, allow_redirects=False, timeout=10)
    code = re.search(r"[?&]code=([^&]+)", r.headers["Location"]).group(1)
    tokens = requests.post(f"{base}/oidc/token", data={"grant_type": "authorization_code", "code": code,
                                                       "redirect_uri": redirect_uri, "code_verifier": verifier},
                           auth=(client_id, secret), timeout=10).json()
    info = requests.get(f"{base}/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"},
                        timeout=10).json()
    assert info["name"] == "Claire Martin" and info["uai"] == "0541234A", info
    assert info["unit"].startswith("Collège"), info


def totp_seed(printed):
    return re.search(r"secret TOTP \(démo uniquement / demo only\) : (\S+)", printed).group(1)


def admin_opens_the_console(printed):
    """Issue 24: the administrator logs in with the password and a code of the printed
    TOTP seed, and finds Paul in the console."""
    import pyotp
    base = "http://127.0.0.1:8080"
    web = requests.Session()
    page = web.get(f"{base}/connexion", timeout=10).text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    r = web.post(f"{base}/connexion", data={"csrf": csrf, "login": "admin@ac-demo.fr",
                                            "password": "Ardoise-Demo-2026"}, timeout=10)
    assert r.url.endswith("/connexion/code"), r.url
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', r.text).group(1)
    web.post(f"{base}/connexion/code", data={"csrf": csrf, "code": pyotp.TOTP(totp_seed(printed)).now()},
             timeout=10)
    r = web.get(f"{base}/admin/comptes", params={"q": "paul"}, timeout=10)
    assert r.status_code == 200 and "paul.durand@ac-demo.fr" in r.text, r.text
