"""`ardoise backup` with message contents in an S3 bucket (`[blob] url`, docs/backup.md): the
snapshot copies every referenced content from the bucket (checked against its hash), `verify`
finds it intact, and an account's restore puts the contents back through the bucket.

One node with SQLite metadata (the PostgreSQL procedure, with pg_dump, is test_backup.py's);
`s3s-fs` as in test_cluster_s3.py."""

import subprocess

import pytest

from conftest import DOMAIN, STORE, binary
from s3server import bucket  # noqa: F401 (a fixture)

if STORE != "sqlite":
    pytest.skip("the SQLite snapshot; the PostgreSQL procedure is test_backup.py's",
                allow_module_level=True)

PASSWORD = "Ardoise-Test-2026!"


def backup(server, *args) -> str:
    out = subprocess.run([binary(), "backup", "--config", str(server.config), *map(str, args)],
                         capture_output=True, timeout=300)
    assert out.returncode == 0, (args, out.stdout.decode(errors="replace"), out.stderr.decode(errors="replace"))
    return out.stdout.decode(errors="replace") + out.stderr.decode(errors="replace")


def test_a_snapshot_copies_the_bucket_and_restores_into_it(server, bucket, tmp_path):
    import smtplib

    s3, section = bucket
    with open(server.config, "a") as config:
        config.write(f"\n[blob]\n{section}\n")
    claire = server.create("claire.martin", password=PASSWORD)
    server.start()
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as s:
        for n in range(3):
            raw = (f"From: <parent@example.org>\r\nTo: <{claire}>\r\nSubject: Sauvegarde {n}\r\n"
                   f"Message-ID: <s3-sauvegarde-{n}@{DOMAIN}>\r\n\r\nBonjour {n}.\r\n").encode()
            assert s.sendmail("parent@example.org", [claire], raw) == {}
    in_bucket = s3.objects()
    assert len(in_bucket) == 3, in_bucket
    dest = tmp_path / "sauvegardes"
    backup(server, "create", dest)
    copied = {p.name: p.read_bytes() for p in (dest / "objects").glob("*/*")}
    assert copied == {name: path.read_bytes() for name, path in in_bucket.items()}
    assert "intact" in backup(server, "verify", dest)
    out = backup(server, "restore", dest, "--account", claire)
    assert ": 3 restauré(s)" in out, out
