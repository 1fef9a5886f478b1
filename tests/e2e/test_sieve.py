"""Sieve filter rules on the running binary: scripts put over ManageSieve
(RFC 5804) with sievelib's client over STARTTLS, then mail sent with smtplib
(the MX and submission) and read back with imapclient."""

import smtplib
import ssl
import subprocess
import time

import imapclient
import pytest
import sievelib.managesieve
from sievelib.managesieve import Client

from conftest import DOMAIN

PASSWORD = "Ardoise-Test-2026"

REUNIONS = """require ["fileinto", "mailbox"];
# Les convocations à une réunion vont dans leur dossier.
if header :contains "subject" "réunion" {
  fileinto :create "Réunions";
}
"""


def no_verify() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@pytest.fixture
def sieve_server(server, monkeypatch):
    """A server with ManageSieve on an ephemeral port, Claire and Paul."""
    return start_with_sieve(server, monkeypatch)


def start_with_sieve(server, monkeypatch, extra: str = ""):
    server.create("claire.martin", password=PASSWORD)
    server.create("paul.durand", password=PASSWORD)
    server.config.write_text(server.config.read_text() + '\n[managesieve]\nlisten = ["127.0.0.1:0"]\n' + extra)
    server.start()
    import json

    addrs = json.loads((server.data / "listeners.json").read_text())
    server.sieve_port = int(addrs["managesieve"].rsplit(":", 1)[1])
    # sievelib verifies the certificate: trust the server's own (self-signed,
    # named after its host name), and check the name.
    cert = str(server.data / "tls" / "cert.pem")
    original = ssl.create_default_context
    monkeypatch.setattr(sievelib.managesieve.ssllib, "create_default_context", lambda: original(cafile=cert))
    return server


def sieve(server, user: str, password: str = PASSWORD) -> Client:
    c = Client("127.0.0.1", server.sieve_port, srvhostname=f"mx.{DOMAIN}")
    assert c.connect(f"{user}@{DOMAIN}", password, starttls=True, authmech="PLAIN"), c.errmsg
    return c


def send(server, subject: str, to: str = "claire.martin") -> None:
    msg = (
        f"From: Parent <parent@example.org>\r\nTo: <{to}@{DOMAIN}>\r\nSubject: {subject}\r\n"
        f"Message-ID: <{abs(hash(subject))}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\nBonjour.\r\n"
    ).encode()
    with smtplib.SMTP("127.0.0.1", server.smtp_port) as s:
        assert s.sendmail("parent@example.org", [f"{to}@{DOMAIN}"], msg) == {}


def counts(server, user: str = "claire.martin") -> dict:
    """Messages per folder of `user`, read over IMAP."""
    with imapclient.IMAPClient("127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=no_verify(), timeout=20) as m:
        m.login(f"{user}@{DOMAIN}", PASSWORD)
        out = {}
        for _, _, name in m.list_folders():
            out[name] = m.folder_status(name, ["MESSAGES"])[b"MESSAGES"]
        return out


def wait_for(predicate, what: str, timeout: float = 10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_script_put_over_managesieve_files_reunions(sieve_server):
    c = sieve(sieve_server, "claire.martin")
    assert "fileinto" in c.get_sieve_capabilities() and "imap4flags" in c.get_sieve_capabilities()
    assert c.havespace("réunions", len(REUNIONS.encode()))
    assert c.putscript("réunions", REUNIONS), c.errmsg
    assert c.setactive("réunions"), c.errmsg
    assert c.listscripts() == ("réunions", [])
    assert c.getscript("réunions").replace("\r\n", "\n").strip() == REUNIONS.strip()
    c.logout()

    send(sieve_server, "Convocation : réunion du conseil pédagogique")
    send(sieve_server, "Sortie au musée")
    folders = wait_for(lambda: (f := counts(sieve_server)).get("Réunions") == 1 and f.get("INBOX") == 1 and f, "filing")
    assert folders["Réunions"] == 1 and folders["INBOX"] == 1

    # Mail a colleague submits is filtered too.
    with smtplib.SMTP("127.0.0.1", sieve_server.submission_port) as s:
        s.starttls(context=no_verify())
        s.login(f"paul.durand@{DOMAIN}", PASSWORD)
        msg = (
            f"From: Paul <paul.durand@{DOMAIN}>\r\nTo: <claire.martin@{DOMAIN}>\r\n"
            "Subject: =?utf-8?q?R=C3=A9union_de_rentr=C3=A9e?=\r\n\r\nA lundi.\r\n"
        )
        s.sendmail(f"paul.durand@{DOMAIN}", [f"claire.martin@{DOMAIN}"], msg.encode())
    wait_for(lambda: counts(sieve_server).get("Réunions") == 2, "the submitted message filed")
    assert counts(sieve_server, "paul.durand").get("INBOX") == 0, "Paul has no script: nothing was filed for him"


def test_a_syntax_error_is_refused_with_its_line(sieve_server):
    c = sieve(sieve_server, "claire.martin")
    bad = 'require "fileinto";\nif header :contains "subject" "x" {\n  fileinto "A"\n}\n'
    assert not c.checkscript(bad)
    assert c.errmsg.decode().startswith("ligne 4 : "), c.errmsg
    assert not c.putscript("faux", bad)
    assert b"ligne 4" in c.errmsg
    assert not c.putscript("boucle", 'require "vnd.stalwart.while";\nkeep;\n')
    assert "non prise en charge" in c.errmsg.decode(), c.errmsg
    assert c.listscripts() == (None, [])
    c.logout()


def test_wrong_password_and_someone_elses_scripts(sieve_server):
    c = Client("127.0.0.1", sieve_server.sieve_port, srvhostname=f"mx.{DOMAIN}")
    assert not c.connect(f"claire.martin@{DOMAIN}", "mauvais mot de passe", starttls=True, authmech="PLAIN")
    assert "incorrect" in c.errmsg.decode(), c.errmsg

    claire = sieve(sieve_server, "claire.martin")
    assert claire.putscript("privé", REUNIONS)
    paul = sieve(sieve_server, "paul.durand")
    assert paul.listscripts() == (None, [])
    assert paul.getscript("privé") is None
    assert paul.errcode == b"NONEXISTENT"
    assert not paul.deletescript("privé")
    assert claire.listscripts() == (None, ["privé"])


def test_failing_and_looping_scripts_still_deliver_to_the_inbox(sieve_server):
    c = sieve(sieve_server, "claire.martin")
    # Includes itself: stopped by the nesting limit at delivery.
    assert c.putscript("boucle", 'require "include";\ninclude :personal "boucle";\ndiscard;\n'), c.errmsg
    assert c.setactive("boucle")
    send(sieve_server, "Premier")
    # The message, and a notice telling Claire her script failed (once per version of it).
    wait_for(lambda: counts(sieve_server).get("INBOX") == 2, "the first message in the Inbox")
    send(sieve_server, "Premier bis")
    wait_for(lambda: counts(sieve_server).get("INBOX") == 3, "the next message, with no second notice")
    # Includes a script that does not exist: a failure at run time.
    assert c.putscript("manque", 'require "include";\ninclude "absent";\ndiscard;\n'), c.errmsg
    assert c.setactive("manque")
    send(sieve_server, "Deuxième")
    wait_for(lambda: counts(sieve_server).get("INBOX") == 5, "the second message in the Inbox, and a notice")
    # A folder that does not exist, without :create: the Inbox.
    assert c.putscript("dossier", 'require "fileinto";\nfileinto "Nulle part";\n'), c.errmsg
    assert c.setactive("dossier")
    send(sieve_server, "Troisième")
    folders = wait_for(lambda: (f := counts(sieve_server)).get("INBOX") == 6 and f, "the third message in the Inbox")
    notices = [m for m in sieve_server.messages(f"claire.martin@{DOMAIN}")
               if m["subject"].startswith("Votre filtre de messagerie a échoué")]
    assert len(notices) == 2, notices
    assert "Nulle part" not in folders
    c.logout()


def test_a_reject_by_every_recipient_is_a_550(sieve_server):
    c = sieve(sieve_server, "claire.martin")
    script = 'require "reject";\nif header :contains "subject" "publicité" {\n  reject "Pas de publicité, merci.";\n}\n'
    assert c.putscript("tri", script) and c.setactive("tri")
    with smtplib.SMTP("127.0.0.1", sieve_server.smtp_port) as s:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            s.sendmail("pub@example.org", [f"claire.martin@{DOMAIN}"], b"Subject: =?utf-8?q?Super_publicit=C3=A9?=\r\n\r\nx\r\n")
        assert refused.value.smtp_code == 550 and b"5.7.1 Pas de publicite, merci." in refused.value.smtp_error
    # With another recipient accepting, the message is accepted for them.
    msg = "Subject: =?utf-8?q?publicit=C3=A9?=\r\n\r\nx\r\n".encode()
    with smtplib.SMTP("127.0.0.1", sieve_server.smtp_port) as s:
        assert s.sendmail("pub@example.org", [f"claire.martin@{DOMAIN}", f"paul.durand@{DOMAIN}"], msg) == {}
    wait_for(lambda: counts(sieve_server, "paul.durand").get("INBOX") == 1, "Paul's copy")
    assert counts(sieve_server).get("INBOX") == 0


def test_refusals_are_reported_to_a_verified_or_local_sender_only(server, monkeypatch, tmp_path):
    """RFC 5429 2.1: a reject after the 250 becomes a delivery status
    notification, sent where it is not backscatter."""
    table = tmp_path / "dns.txt"
    table.write_text('ac-parent.fr TXT "v=spf1 ip4:127.0.0.0/8 -all"\nac-forge.fr TXT "v=spf1 ip4:192.0.2.1 -all"\n')
    s = start_with_sieve(server, monkeypatch,
                         f'\n[outbound]\ndns_override_file = "{table}"\nmx_override = ["*=127.0.0.1:9"]\n')
    c = sieve(s, "claire.martin")
    script = 'require "reject";\nif header :contains "subject" "publicité" {\n  reject "Pas de publicité, merci.";\n}\n'
    assert c.putscript("tri", script) and c.setactive("tri")
    c.logout()
    claire, paul = f"claire.martin@{DOMAIN}", f"paul.durand@{DOMAIN}"
    msg = "Subject: =?utf-8?q?publicit=C3=A9?=\r\n\r\nx\r\n".encode()
    # SPF passes for ac-parent.fr, fails for ac-forge.fr: one report, queued with <>.
    for sender in ("directeur@ac-parent.fr", "directeur@ac-forge.fr"):
        with smtplib.SMTP("127.0.0.1", s.smtp_port) as m:
            assert m.sendmail(sender, [claire, paul], msg) == {}
    wait_for(lambda: counts(s, "paul.durand").get("INBOX") == 2, "Paul's two copies")
    from conftest import binary
    from test_vacation import queue_list
    wait_for(lambda: "<>" in queue_list(s), "the queued report")
    time.sleep(1)
    listing = queue_list(s)
    assert len([line for line in listing.splitlines() if "<>" in line]) == 1, listing
    entry = subprocess.run([binary(), "queue", "--config", str(s.config), "show", listing.split()[0]],
                           capture_output=True, timeout=60).stdout.decode()
    assert "directeur@ac-parent.fr" in entry and "ac-forge.fr" not in entry, entry

    # A colleague's submission: the report lands in Paul's own Inbox, with the reason.
    with smtplib.SMTP("127.0.0.1", s.submission_port) as m:
        m.starttls(context=no_verify())
        m.login(paul, PASSWORD)
        m.sendmail(paul, [claire], f"From: <{paul}>\r\nTo: <{claire}>\r\n".encode() + msg)
    report = wait_for(lambda: [x for x in s.messages(paul) if x["subject"].startswith("Message non remis")], "the report")
    raw = s.admin_bytes("message", "get", paul, str(report[0]["uid"])).decode()
    assert "multipart/report; report-type=delivery-status" in raw and f"Final-Recipient: rfc822; {claire}" in raw, raw
    assert "Status: 5.7.1" in raw and "Pas de publicite, merci." in raw, raw


def test_redirect_inside_the_platform_and_a_sieve_vacation_reply(sieve_server):
    c = sieve(sieve_server, "claire.martin")
    script = """require ["copy", "vacation"];
if header :contains "subject" "transfert" {
  redirect "paul.durand@%s";
  stop;
}
vacation :days 7 :subject "Absente" "Je suis absente cette semaine.";
""" % DOMAIN
    assert c.putscript("regles", script) and c.setactive("regles"), c.errmsg
    c.logout()
    # A redirect to a colleague: Paul gets it, Claire keeps no copy.
    send(sieve_server, "A transfert au collegue")
    wait_for(lambda: counts(sieve_server, "paul.durand").get("INBOX") == 1, "the redirected copy")
    # (Forwarding outside the platform is the policy's: test_webmail_filters.py.)
    # The vacation reply goes to a local sender once per period.
    msg = (f"From: <paul.durand@{DOMAIN}>\r\nTo: <claire.martin@{DOMAIN}>\r\nSubject: Question\r\n"
           f"Message-ID: <q1@{DOMAIN}>\r\n\r\nBonjour.\r\n").encode()
    for _ in range(2):
        with smtplib.SMTP("127.0.0.1", sieve_server.smtp_port) as s:
            assert s.sendmail(f"paul.durand@{DOMAIN}", [f"claire.martin@{DOMAIN}"], msg) == {}
    wait_for(lambda: counts(sieve_server, "paul.durand").get("INBOX") == 2, "the vacation reply")
    wait_for(lambda: counts(sieve_server).get("INBOX") == 2, "both questions delivered")
    time.sleep(1)
    replies = [m for m in sieve_server.messages(f"paul.durand@{DOMAIN}") if m["subject"] == "Absente"]
    assert len(replies) == 1, sieve_server.messages(f"paul.durand@{DOMAIN}")
    raw = sieve_server.admin_bytes("message", "get", f"paul.durand@{DOMAIN}", str(replies[0]["uid"])).decode()
    assert "Auto-Submitted: auto-replied" in raw and "Je suis absente cette semaine." in raw, raw


DIFFUSIONS = """require ["fileinto", "mailbox"];
# Les notes de service de l'académie vont dans leur dossier, sans autre règle.
if header :contains "subject" "[DIFFUSION]" {
  fileinto :create "Diffusions";
  stop;
}
"""


def test_an_administrators_script_runs_before_the_users_own(sieve_server, tmp_path):
    from conftest import binary

    s = sieve_server
    s.admin("unit", "add", "Académie de test", "--kind", "academie")
    s.admin("unit", "add", "Collège A", "--kind", "etablissement", "--parent", "Académie de test", "--uai", "0541234A")
    csv = tmp_path / "rh.csv"
    csv.write_text("numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n"
                   "12E0000001ABC;M.;Martin;Jean;enseignant;actif;0541234A;;\n", encoding="utf-8")
    out = subprocess.run([binary(), "directory", "--config", str(s.config), "sync", str(csv)], capture_output=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    jean = f"jean.martin@{DOMAIN}"

    bad = tmp_path / "mauvais.sieve"
    bad.write_text('require "fileinto";\nif header :contains "subject" "x" {\n  fileinto "A"\n}\n')
    cli = subprocess.run([binary(), "admin", "--config", str(s.config), "sieve", "set", str(bad), "--unit", "0541234A"],
                         capture_output=True, timeout=60)
    assert cli.returncode != 0 and "ligne 4" in cli.stderr.decode(), cli.stderr
    assert s.admin("sieve", "list") == "", "a script that does not compile is not stored"

    good = tmp_path / "diffusions.sieve"
    good.write_text(DIFFUSIONS)
    s.admin("sieve", "set", str(good), "--unit", "0541234A")
    assert "Collège A\trévision 1" in s.admin("sieve", "list")
    assert s.admin("sieve", "show", "--unit", "0541234A").strip() == DIFFUSIONS.strip()

    # Claire (in no unit) has rules of her own, put over ManageSieve; Jean (a
    # provisional HR account, who cannot log in yet) has none: the collège's runs.
    c = sieve(s, "claire.martin")
    assert c.putscript("réunions", REUNIONS) and c.setactive("réunions"), c.errmsg
    c.logout()
    send(s, "[DIFFUSION] Note de service : réunion de rentrée", to="jean.martin")
    send(s, "Convocation : réunion du conseil", to="jean.martin")
    send(s, "[DIFFUSION] Note de service : réunion", to="claire.martin")
    folders = wait_for(lambda: (f := {m["subject"]: m["mailbox"] for m in s.messages(jean)}) and len(f) == 2 and f,
                       "Jean's two messages")
    assert folders == {"[DIFFUSION] Note de service : réunion de rentrée": "Diffusions",
                       "Convocation : réunion du conseil": "INBOX"}, folders
    claire = wait_for(lambda: s.messages(f"claire.martin@{DOMAIN}"), "Claire's message")
    assert [m["mailbox"] for m in claire] == ["Réunions"], "Claire is in no unit: her own rules alone"

    s.admin("sieve", "remove", "--unit", "0541234A")
    send(s, "[DIFFUSION] Après retrait", to="jean.martin")
    wait_for(lambda: len(s.messages(jean)) == 3, "the third message")
    assert {m["subject"]: m["mailbox"] for m in s.messages(jean)}["[DIFFUSION] Après retrait"] == "INBOX"
    audit = s.admin("audit", "list")
    assert "sieve.set" in audit and "sieve.remove" in audit


def test_the_vacation_reply_is_a_sieve_script_both_ways(sieve_server, tmp_path):
    """`ardoise vacation` (as Réglages) writes a script ManageSieve shows;
    the script put back in its own form changes the setting; deleting it
    turns the reply off; a hand edit is refused with a French reason."""
    from test_vacation import vacation

    s = sieve_server
    claire = f"claire.martin@{DOMAIN}"
    text = tmp_path / "absence.txt"
    text.write_text("Bonjour,\n.point en tête\nJe suis absente jusqu'au 4 janvier.\n")
    vacation(s, "set", claire, "--body-file", str(text), "--from", "2020-01-01", "--until", "2099-01-01", "--days", "7")
    c = sieve(s, "claire.martin")
    names = c.listscripts()[1]
    assert "reponse-automatique" in names, names
    script = c.getscript("reponse-automatique")
    assert 'currentdate :zone "+0000" :value "ge" "date" "2020-01-01"' in script, script
    assert "vacation :days 7 text:" in script and "..point en tête" in script, script

    edited = script.replace('"interval_days":7', '"interval_days":2').replace("vacation :days 7", "vacation :days 2")
    assert c.putscript("reponse-automatique", edited), c.errmsg
    assert "intervalle / days : 2" in vacation(s, "show", claire)
    hand = edited.replace("vacation :days 2", "vacation :days 3")
    assert not c.putscript("reponse-automatique", hand)
    assert "réponse automatique" in c.errmsg.decode(), c.errmsg
    assert "intervalle / days : 2" in vacation(s, "show", claire)

    # The reply goes out through the script, once.
    msg = (f"From: <paul.durand@{DOMAIN}>\r\nTo: <{claire}>\r\nSubject: Conseil\r\nMessage-ID: <c1@{DOMAIN}>\r\n\r\nx\r\n")
    with smtplib.SMTP("127.0.0.1", s.smtp_port) as m:
        assert m.sendmail(f"paul.durand@{DOMAIN}", [claire], msg.encode()) == {}
    reply = wait_for(lambda: s.messages(f"paul.durand@{DOMAIN}"), "the reply")
    assert [r["subject"] for r in reply] == ["Réponse automatique : Conseil"], reply

    assert c.deletescript("reponse-automatique"), c.errmsg
    assert "active / on       : non" in vacation(s, "show", claire)
    c.logout()
