"""`ardoise directory import-passwords` (issue 23): hashes another server keeps, made here by Dovecot's
own `doveadm pw` (Debian's dovecot-core), imported as a Dovecot passwd-file; each user logs in over
imaplib with the old password, which is then re-hashed to argon2id; a wrong password is refused;
malformed lines are reported with their line number."""

import imaplib
import sqlite3
import ssl
import subprocess

import pytest

from conftest import DOMAIN, STORE, binary, require_tool

SCHEMES = ["SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT", "SSHA", "SSHA512", "ARGON2ID"]


def doveadm_pw(scheme: str, password: str) -> str:
    out = subprocess.run(
        [require_tool("doveadm"), "pw", "-s", scheme, "-p", password], capture_output=True, timeout=60, check=True
    )
    hashed = out.stdout.decode().strip()
    assert hashed.startswith("{" + scheme + "}"), hashed
    return hashed


def imap_login(server, user: str, password: str) -> bool:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=ctx, timeout=30)
    try:
        conn.login(user, password)
        conn.logout()
        return True
    except imaplib.IMAP4.error:
        return False


def stored_hash(server, address: str) -> str:
    if STORE != "sqlite":
        pytest.skip("reads the SQLite file")
    db = sqlite3.connect(f"file:{server.data / 'ardoise.db'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT password_hash FROM accounts WHERE address = ?", (address,)).fetchone()[0]
    finally:
        db.close()


def import_passwords(server, path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [binary(), "directory", "--config", str(server.config), "import-passwords", str(path), *args],
        capture_output=True,
        timeout=120,
    )


def test_old_passwords_log_in_once_then_become_argon2id(server, tmp_path):
    users = {}
    lines = ["# exporté de l'ancien serveur"]
    for n, scheme in enumerate(SCHEMES):
        local = f"ancien{n}"
        address = server.create(local)
        password = f"Ancien-{scheme}-2024!"
        users[address] = (scheme, password)
        # Dovecot passwd-file: user:password:uid:gid:gecos:home:shell:extra
        user = address if n % 2 == 0 else local  # an address or a short login
        lines.append(f"{user}:{doveadm_pw(scheme, password)}:1000:1000::/home/{local}::")
    already = server.create("deja", password="Nouveau-Mot-De-Passe-2026")
    lines.append(f"{already}:{doveadm_pw('SSHA', 'ancien')}")
    lines += [
        f"inconnu@{DOMAIN}:{doveadm_pw('SSHA', 'x')}",
        f"ancien0@{DOMAIN}:{{MD5}}1a2b3c",
        f"ancien1@{DOMAIN}:{{SHA512-CRYPT}}$6$sel$",
        "pas de deux-points",
    ]
    passwd = tmp_path / "users"
    passwd.write_text("\n".join(lines) + "\n")

    # A dry run checks everything and writes nothing.
    dry = import_passwords(server, passwd, "--dry-run")
    assert dry.returncode == 1
    assert "simulation" in dry.stdout.decode()
    assert stored_hash(server, next(iter(users))) is None

    out = import_passwords(server, passwd)
    err = out.stderr.decode()
    assert out.returncode == 1, err
    assert f"ligne {len(SCHEMES) + 3} : inconnu@{DOMAIN} : pas de compte" in err, err
    assert f"ligne {len(SCHEMES) + 4} : ancien0@{DOMAIN} : schéma {{MD5}} non pris en charge" in err, err
    assert f"ligne {len(SCHEMES) + 5} : ancien1@{DOMAIN} : hachage {{SHA512-CRYPT}} mal formé" in err, err
    assert f"ligne {len(SCHEMES) + 6} : identifiant manquant" in err, err
    assert f"{len(SCHEMES)} hachage(s) importé(s), 1 laissé(s), 4 erreur(s)" in out.stdout.decode()
    # A password already chosen in Ardoise is not reverted.
    assert stored_hash(server, already).startswith("$argon2id$")

    server.start()
    for address, (scheme, password) in users.items():
        assert stored_hash(server, address).startswith("{" + scheme + "}")
        assert not imap_login(server, address, password + "x"), f"{scheme}: wrong password accepted"
        assert stored_hash(server, address).startswith("{" + scheme + "}"), "a failed login changed the hash"
        assert imap_login(server, address, password), f"{scheme}: old password refused"
        upgraded = stored_hash(server, address)
        assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), f"{scheme}: not re-hashed: {upgraded[:30]}"
        # Still the same password, now checked by argon2id; a wrong one is still refused.
        assert imap_login(server, address, password)
        assert not imap_login(server, address, "Ancien-mauvais")
    assert imap_login(server, already, "Nouveau-Mot-De-Passe-2026")
    assert not imap_login(server, already, "ancien")
