"""The HR directory sync on the real binary: dry run, idempotence, clear
errors, immediate suspension of an open IMAP IDLE session (and of an open
submission session), mail refused to a
closed account, scopes of a DSDEN administrator, and a tampered audit log."""

import json
import re
import smtplib
import sqlite3
import ssl
import subprocess
import time

import imapclient
import pytest

from conftest import DOMAIN, binary

HEADER = "numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n"
PEOPLE = {
    "jean": "12E0000001ABC;M.;Martin;Jean;enseignant;{statut};0541234A;jean@example.org;2026-09-01\n",
    "helene": "12E0000002ABC;Mme;Lefèvre-Dupré;Hélène;enseignant;actif;0570456C;;\n",
    "lucas": "12E0000003ABC;M.;Petit;Lucas;élève;actif;0541234A;;\n",
    "zoe": "12E0000004ABC;Mme;Faure;Zoé;administratif;{zoe};0570456C;;{zoe_date}\n",
}


def hr_file(path, jean="actif", zoe="actif", zoe_date=""):
    text = HEADER + "".join(
        line.format(statut=jean, zoe=zoe, zoe_date=zoe_date) for line in PEOPLE.values())
    path.write_text(text, encoding="utf-8")
    return path


def directory(server, *args, check=True):
    out = subprocess.run([binary(), "directory", "--config", str(server.config), *args],
                         capture_output=True, timeout=120)
    if check and out.returncode != 0:
        raise AssertionError(f"directory {args} failed: {out.stderr.decode(errors='replace')}")
    return out


def org_tree(server):
    server.admin("unit", "add", "Académie de test", "--kind", "academie")
    server.admin("unit", "add", "DSDEN A", "--kind", "dsden", "--parent", "Académie de test")
    server.admin("unit", "add", "DSDEN B", "--kind", "dsden", "--parent", "Académie de test")
    server.admin("unit", "add", "Collège A", "--kind", "etablissement", "--parent", "DSDEN A", "--uai", "0541234A")
    server.admin("unit", "add", "Lycée B", "--kind", "etablissement", "--parent", "DSDEN B", "--uai", "0570456C")


def imap(server):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return imapclient.IMAPClient("127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=ctx, timeout=10)


def seconds_until_closed(client, since):
    """Waits (5 s at most) for the server to end an IDLE session; returns the delay."""
    deadline = since + 5
    while time.monotonic() < deadline:
        try:
            responses = client.idle_check(timeout=0.2)
        except Exception:  # the server hung up: EOF or reset
            return time.monotonic() - since
        if any(b"BYE" in repr(r).encode() for r in responses):
            return time.monotonic() - since
    raise AssertionError("the IDLE session of the suspended account stayed open")


def account(server, address):
    return json.loads(server.admin("account", "show", address))


def test_dry_run_then_sync_then_nothing_to_do(server, tmp_path):
    org_tree(server)
    csv = hr_file(tmp_path / "rh.csv")
    dry = directory(server, "sync", str(csv), "--dry-run").stdout.decode()
    assert re.search(r"^créé +jean\.martin@ac-test\.fr", dry, re.M), dry
    assert "helene.lefevre-dupre@ac-test.fr" in dry
    assert "simulation" in dry
    assert server.admin("account", "list").strip() == ""

    report = tmp_path / "rapport.json"
    applied = directory(server, "sync", str(csv), "--report", str(report)).stdout.decode()
    assert [l for l in applied.splitlines() if l.startswith("créé")] == \
        [l for l in dry.splitlines() if l.startswith("créé")]
    data = json.loads(report.read_text())
    assert data["applied"] is True and len(data["changes"]) == 4
    assert account(server, "jean.martin@ac-test.fr")["status"] == "provisional"
    assert "12E0000001ABC" not in applied + report.read_text()

    again = directory(server, "sync", str(csv), "--report", str(tmp_path / "r2.csv")).stdout.decode()
    assert "aucun changement" in again, again
    assert (tmp_path / "r2.csv").read_text().strip() == "changement;ligne;adresse;detail"


def test_bad_files_are_refused_with_their_lines(server, tmp_path):
    org_tree(server)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes((HEADER + PEOPLE["helene"]).encode("latin-1"))
    out = directory(server, "sync", str(latin1), check=False)
    assert out.returncode == 2
    assert "ligne 2" in out.stderr.decode() and "UTF-8" in out.stderr.decode()

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + PEOPLE["helene"] + PEOPLE["helene"].replace("Hélène", "Léa")
                   + "12E0000009ABC;M.;Neuf;Paul;professeur;actif;12345;;\n", encoding="utf-8")
    out = directory(server, "sync", str(bad), check=False)
    err = out.stderr.decode()
    assert out.returncode == 2
    assert "ligne 3, colonne « numen » : NUMEN en double (déjà ligne 2)" in err, err
    assert "ligne 4, colonne « role »" in err and "ligne 4, colonne « uai »" in err
    assert "12E0000002ABC" not in err
    assert server.admin("account", "list").strip() == "", "nothing applied"


def test_suspension_closes_the_idle_session_at_once(server, tmp_path):
    org_tree(server)
    server.start()
    csv = hr_file(tmp_path / "rh.csv")
    directory(server, "sync", str(csv))
    jean = "jean.martin@ac-test.fr"
    server.admin("account", "activate", jean)
    server.admin("account", "password", jean, "--password-stdin", stdin=b"Un-Mot-De-Passe-2026")
    # Students are refused even with the right password.
    server.admin("account", "activate", "lucas.petit@ac-test.fr")
    server.admin("account", "password", "lucas.petit@ac-test.fr", "--password-stdin", stdin=b"Eleve-2026-xyz")
    with pytest.raises(imapclient.exceptions.LoginError) as refused:
        imap(server).login("lucas.petit@ac-test.fr", "Eleve-2026-xyz")
    assert "PRIVACYREQUIRED" not in str(refused.value)

    client = imap(server)
    client.login(jean, "Un-Mot-De-Passe-2026")
    client.select_folder("INBOX")
    client.idle()

    hr_file(csv, jean="suspendu")
    out = directory(server, "sync", str(csv)).stdout.decode()
    assert "suspendu" in out and jean in out, out
    waited = seconds_until_closed(client, time.monotonic())
    assert waited < 1.5, f"closed {waited:.2f} s after the sync"

    with pytest.raises(imapclient.exceptions.LoginError) as refused:
        imap(server).login(jean, "Un-Mot-De-Passe-2026")
    assert "PRIVACYREQUIRED" not in str(refused.value)
    # Mail to a suspended account is still accepted.
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=20) as s:
        assert s.sendmail("rh@example.org", [jean], b"Subject: test\r\n\r\nbonjour\r\n") == {}

    # Back to "actif": reactivated, the login works again.
    hr_file(csv, jean="actif")
    assert "réactivé" in directory(server, "sync", str(csv)).stdout.decode()
    c = imap(server)
    c.login(jean, "Un-Mot-De-Passe-2026")
    c.logout()


def test_departure_past_retention_closes_the_account(server, tmp_path):
    org_tree(server)
    server.start()
    csv = hr_file(tmp_path / "rh.csv")
    directory(server, "sync", str(csv))
    hr_file(csv, zoe="parti", zoe_date="2020-01-31")
    out = directory(server, "sync", str(csv), "--retention-days", "30").stdout.decode()
    assert "fermé" in out and "zoe.faure@ac-test.fr" in out, out
    assert account(server, "zoe.faure@ac-test.fr")["status"] == "closed"
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=20) as s:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            s.sendmail("rh@example.org", ["zoe.faure@ac-test.fr"], b"Subject: test\r\n\r\nbonjour\r\n")
        code, text = refused.value.recipients["zoe.faure@ac-test.fr"]
        assert code == 550 and b"5.1.1" in text


def test_dsden_admin_stays_in_its_subtree_and_the_audit_log_detects_tampering(server, tmp_path):
    org_tree(server)
    directory(server, "sync", str(hr_file(tmp_path / "rh.csv")))
    admin_a = server.create("admin.a", password="Admin-A-2026")
    server.admin("grant", "add", admin_a, "admin-dsden", "--unit", "DSDEN A")

    # Jean is in DSDEN A (0541234A), Hélène in DSDEN B (0570456C).
    ok = server.admin("--as", admin_a, "account", "suspend", "jean.martin@ac-test.fr")
    assert "suspendu" in ok
    refused = subprocess.run([binary(), "admin", "--config", str(server.config), "--as", admin_a,
                              "account", "suspend", "helene.lefevre-dupre@ac-test.fr"], capture_output=True)
    assert refused.returncode != 0
    assert "refusé" in refused.stderr.decode()
    assert account(server, "helene.lefevre-dupre@ac-test.fr")["status"] == "provisional"
    # A DSDEN administrator may not read mail, nor grant roles.
    for args in (["message", "list", "jean.martin@ac-test.fr"],
                 ["grant", "add", admin_a, "admin-academie", "--unit", "Académie de test"]):
        out = subprocess.run([binary(), "admin", "--config", str(server.config), "--as", admin_a, *args],
                             capture_output=True)
        assert out.returncode != 0 and "refusé" in out.stderr.decode(), args

    verify = server.admin("audit", "verify")
    assert "intègre" in verify, verify
    log = [json.loads(l) for l in server.admin("audit", "list", "--json").splitlines()]
    suspend = [r for r in log if r["action"] == "account.suspend"]
    assert len(suspend) == 1 and suspend[0]["actor"] == admin_a and "admin-dsden" in suspend[0]["scope"]

    # Someone with SQL access rewrites history: verify names the row.
    db = sqlite3.connect(server.data / "ardoise.db")
    db.execute("UPDATE audit_log SET actor = 'personne@ac-test.fr' WHERE id = ?", (suspend[0]["id"],))
    db.commit()
    db.close()
    out = subprocess.run([binary(), "admin", "--config", str(server.config), "audit", "verify"], capture_output=True)
    assert out.returncode == 3
    assert f"ligne {suspend[0]['id']} : contenu modifié" in out.stdout.decode(), out.stdout.decode()


HELENE_PASSWORD = "Helene-2026-abc"


def synced_account_in_idle(server, tmp_path):
    """Hélène, synced from HR, activated with a password, and an IMAP session of hers in IDLE."""
    org_tree(server)
    server.start()
    directory(server, "sync", str(hr_file(tmp_path / "rh.csv")))
    helene = "helene.lefevre-dupre@ac-test.fr"
    server.admin("account", "activate", helene)
    server.admin("account", "password", helene, "--password-stdin", stdin=HELENE_PASSWORD.encode())
    client = imap(server)
    client.login(helene, HELENE_PASSWORD)
    client.select_folder("INBOX")
    client.idle()
    return helene, client


def test_admin_suspension_closes_the_idle_session_too(server, tmp_path):
    helene, client = synced_account_in_idle(server, tmp_path)
    # An authenticated submission session, waiting between two messages.
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    sub = smtplib.SMTP_SSL("127.0.0.1", server.submissions_port, context=ctx, timeout=20)
    sub.login(helene, HELENE_PASSWORD)
    server.admin("account", "suspend", helene)
    waited = seconds_until_closed(client, time.monotonic())
    assert waited < 1.5, f"closed {waited:.2f} s after the suspension"
    # The submission session got 421 and was closed, without a command from the client.
    sub.sock.settimeout(2)
    pending = sub.sock.recv(4096)
    assert pending.startswith(b"421 4.7.0 "), pending
    assert sub.sock.recv(4096) == b"", "closed after the 421"
    with pytest.raises(imapclient.exceptions.LoginError):
        imap(server).login(helene, HELENE_PASSWORD)


def test_helpdesk_reset_closes_the_open_sessions(server, tmp_path):
    """A helpdesk reset is done because the password may be known to someone
    else: the sessions opened with it end at once, as for a suspension."""
    helene, client = synced_account_in_idle(server, tmp_path)
    out = server.admin("account", "reset-password", helene)
    assert "mot de passe provisoire" in out
    waited = seconds_until_closed(client, time.monotonic())
    assert waited < 1.5, f"closed {waited:.2f} s after the reset"
    assert account(server, helene)["status"] == "provisional"
    with pytest.raises(imapclient.exceptions.LoginError):
        imap(server).login(helene, HELENE_PASSWORD)


def test_admin_password_change_closes_the_sessions_of_the_old_password(server, tmp_path):
    """Issue 25 item 3: `admin account password` (another process than the
    server) used to leave the sessions opened with the old password working."""
    helene, client = synced_account_in_idle(server, tmp_path)
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    sub = smtplib.SMTP_SSL("127.0.0.1", server.submissions_port, context=ctx, timeout=20)
    sub.login(helene, HELENE_PASSWORD)
    server.admin("account", "password", helene, "--password-stdin", stdin=b"Nouveau-Mot-De-Passe-2027!\n")
    waited = seconds_until_closed(client, time.monotonic())
    assert waited < 1.5, f"closed {waited:.2f} s after the change"
    sub.sock.settimeout(2)
    assert sub.sock.recv(4096).startswith(b"421 4.7.0 ")
    with pytest.raises(imapclient.exceptions.LoginError):
        imap(server).login(helene, HELENE_PASSWORD)
    c = imap(server)
    c.login(helene, "Nouveau-Mot-De-Passe-2027!")
    c.logout()
