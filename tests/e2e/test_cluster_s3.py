"""Two nodes sharing PostgreSQL, NATS and one S3 bucket for message contents (issue 28, `[blob] url`):
a message delivered on one node is read whole and by ranges (IMAP partial FETCH) on the other; the
blob collector of one node keeps what was just stored, and removes what is old and unreferenced;
an unreachable bucket makes SMTP answer 4xx (temporary), never 250 for a message not stored.

Real servers only: `s3s-fs` (the s3s project's S3 server over a folder, built from crates.io by
scripts/test-setup.sh into ~/.cache/ardoise-tools, or ARDOISE_S3S_FS) started by the test with an
access key, the tests' PostgreSQL and a `nats-server`. Runs in the PostgreSQL pass (POSTGRES_E2E);
under CI=true a missing s3s-fs fails the test."""

import json
import os
import pathlib
import smtplib
import socket
import subprocess
import time

import pytest

from conftest import DOMAIN, IN_CI
from test_cluster import PASSWORD, cluster, deliver, free_port  # noqa: F401 (cluster: a fixture)
from test_outbound import wait_for

ACCESS_KEY = "ardoise-e2e"
SECRET_KEY = "secret-e2e-jamais-journalise"
BUCKET = "ardoise-messages"


def s3s_fs() -> str:
    candidates = [os.environ.get("ARDOISE_S3S_FS", ""),
                  str(pathlib.Path.home() / ".cache/ardoise-tools/bin/s3s-fs")]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    if IN_CI:
        pytest.fail("s3s-fs is required under CI: run scripts/test-setup.sh (or set ARDOISE_S3S_FS)")
    pytest.skip("s3s-fs not installed (scripts/test-setup.sh installs it)")


class S3:
    """An s3s-fs serving one bucket from a folder, on a fixed port so that it can be stopped and
    started again in place."""

    def __init__(self, root: pathlib.Path):
        self.binary = s3s_fs()
        self.root = root / "s3"
        (self.root / BUCKET).mkdir(parents=True)
        self.port = free_port()
        self.log = root / "s3s-fs.log"
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "--host", "127.0.0.1", "--port", str(self.port),
             "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, str(self.root)],
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False

        wait_for(listening, timeout=15, what="s3s-fs listening")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def objects(self) -> dict:
        """The blobs in the bucket, by name, with their file."""
        folder = self.root / BUCKET / "objects"
        return {p.name: p for p in folder.iterdir() if len(p.name) == 64} if folder.exists() else {}


@pytest.fixture
def bucket(tmp_path):
    s3 = S3(tmp_path)
    credentials = tmp_path / "s3.cle"
    credentials.write_text(f"access_key_id = {ACCESS_KEY}\nsecret_access_key = {SECRET_KEY}\n")
    credentials.chmod(0o600)
    section = (f'url = "s3://{BUCKET}?endpoint=http://127.0.0.1:{s3.port}"\n'
               f'credentials = "{credentials}"')
    yield s3, section
    s3.stop()


def big_message(rcpt: str, msgid: str) -> bytes:
    lines = "".join(f"Ligne {n:05d} du compte rendu du conseil de classe.\r\n" for n in range(6000))
    return (f"From: <sender@example.org>\r\nTo: <{rcpt}>\r\nSubject: Compte rendu\r\n"
            f"Message-ID: {msgid}\r\n\r\n{lines}").encode()


def stats(node) -> dict:
    return json.loads(node.admin("blob", "stats", "--json"))


def test_two_nodes_read_one_bucket_whole_and_by_ranges(cluster, bucket):
    s3, section = bucket
    a, b, _ = cluster("nats", blob_section=section)
    paul = a.create("paul.durand", password=PASSWORD)
    raw = big_message(paul, f"<s3-gros@{DOMAIN}>")
    with smtplib.SMTP(a.ip, a.smtp_port, timeout=60) as s:
        assert s.sendmail("sender@example.org", [paul], raw) == {}
    # The content is in the bucket, not in a node's folder.
    assert len(s3.objects()) == 1, s3.objects()
    assert not (a.data / "blobs").exists() and not (b.data / "blobs").exists()
    c = b.imap(paul)
    c.select_folder("INBOX", readonly=True)
    [uid] = c.search(["HEADER", "Message-ID", f"<s3-gros@{DOMAIN}>"])
    whole = c.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
    assert b"Ligne 05999" in whole and len(whole) > 300_000
    stored = whole  # as the server stored it (with its Received: line)
    for start, length in ((0, 100), (123_456, 1_000), (len(stored) - 10, 500), (len(stored) + 5, 10)):
        part = c.fetch([uid], [f"BODY.PEEK[]<{start}.{length}>"])[uid]
        got = part[f"BODY[]<{start}>".encode()]
        assert got == stored[start:start + length], (start, length, got[:40])
    c.logout()
    assert stats(b)["files"] == 1


def test_the_collector_keeps_what_another_node_just_stored(cluster, bucket):
    s3, section = bucket
    a, b, _ = cluster("nats", blob_section=section)
    paul = a.create("paul.durand", password=PASSWORD)
    deliver(b, paul, "Gardé", f"<s3-garde@{DOMAIN}>")
    # A put on node B that no row names yet (a delivery between its write and its commit),
    # as an object of the bucket written a moment ago.
    pending = "ab" * 32
    (s3.root / BUCKET / "objects" / pending).write_bytes(b"pas encore reference")
    assert len(s3.objects()) == 2
    report = a.admin("blob", "gc", "--grace", "60")
    assert "orphans_deleted: 0" in report, report
    assert set(s3.objects()) >= {pending}, "node A's collector deleted a fresh object of node B"
    # Older than the grace period and still unnamed: removed; the delivered message stays.
    old = time.time() - 7200
    os.utime(s3.objects()[pending], (old, old))
    report = a.admin("blob", "gc", "--grace", "60")
    assert "orphans_deleted: 1" in report, report
    assert pending not in s3.objects() and len(s3.objects()) == 1
    c = a.imap(paul)
    c.select_folder("INBOX", readonly=True)
    [uid] = c.search(["HEADER", "Message-ID", f"<s3-garde@{DOMAIN}>"])
    assert b"Bonjour." in c.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
    c.logout()


def test_an_unreachable_bucket_gets_a_temporary_refusal_never_a_250(cluster, bucket):
    s3, section = bucket
    a, b, _ = cluster("nats", blob_section=section)
    paul = a.create("paul.durand", password=PASSWORD)
    deliver(a, paul, "Avant", f"<s3-avant@{DOMAIN}>")
    s3.stop()
    body = (f"From: <sender@example.org>\r\nTo: <{paul}>\r\nSubject: Pendant\r\n"
            f"Message-ID: <s3-pendant@{DOMAIN}>\r\n\r\nBonjour.\r\n").encode()
    started = time.time()
    with pytest.raises(smtplib.SMTPDataError) as refused:
        with smtplib.SMTP(b.ip, b.smtp_port, timeout=90) as s:
            s.sendmail("sender@example.org", [paul], body)
    assert 400 <= refused.value.smtp_code < 500, refused.value
    assert time.time() - started < 60
    assert SECRET_KEY not in a.log_text() + b.log_text()
    s3.start()
    # Back: the sender's retry is accepted, and only then is the message there.
    deliver(b, paul, "Après", f"<s3-apres@{DOMAIN}>")
    c = a.imap(paul)
    c.select_folder("INBOX", readonly=True)
    assert c.search(["HEADER", "Message-ID", f"<s3-pendant@{DOMAIN}>"]) == []
    assert len(c.search(["HEADER", "Message-ID", f"<s3-apres@{DOMAIN}>"])) == 1
    c.logout()
    wait_for(lambda: len(s3.objects()) == 2, timeout=5, what="two contents in the bucket")
