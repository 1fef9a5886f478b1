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
import smtplib
import time

import pytest

from conftest import DOMAIN
from s3server import SECRET_KEY, bucket  # noqa: F401 (bucket: a fixture)
from test_cluster import PASSWORD, cluster, deliver  # noqa: F401 (cluster: a fixture)
from test_outbound import wait_for


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
    (s3.objects_folder() / pending).write_bytes(b"pas encore reference")
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
