"""imapclient's own live test suite (`python -m imapclient.livetest`, from PyPI), run against a
fresh server: a peer's suite that no one here wrote (issue 26, item 15).

Every case must pass or be skipped for an extension we do not offer, except the ones named in
KNOWN, each with its reason; the set of failures must be exactly KNOWN, so a new failure fails
here and so does a fixed one (then take it out of KNOWN)."""

import re
import ssl
import subprocess
import sys

from imapclient import IMAPClient

PASSWORD = "Ardoise-Test-2026"


def insecure():
    """The test server's certificate is self-signed."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx

KNOWN = {
    # imapclient 3.0.1's own test: it compares its `Envelope` (a plain class since 3.0, no longer
    # a namedtuple) with assertSequenceEqual, which fails before looking at what the server sent
    # ("First sequence has no length. Non-sequence?"), whatever the server.
    "LiveTest.test_fetch",
    # imapclient 3.0.1's own test, run since we advertise ACL: it reads `conf['username']` from an
    # argparse Namespace (TypeError: 'Namespace' object is not subscriptable) before asking the server
    # anything. What it means to check, that GETACL on a new folder names its owner, is checked below.
    "LiveTest.test_getacl",
}


def test_imapclient_livetest(server, tmp_path):
    claire = server.create("claire.martin", password=PASSWORD)
    server.start()
    ini = tmp_path / "livetest.ini"
    ini.write_text(
        "[DEFAULT]\n"
        "host = 127.0.0.1\n"
        f"port = {server.imaps_port}\n"
        "ssl = true\n"
        "ssl_check_hostname = false\n"
        "ssl_verify_cert = false\n"
        f"username = {claire}\n"
        f"password = {PASSWORD}\n"
    )
    run = subprocess.run([sys.executable, "-m", "imapclient.livetest", str(ini), "-v"],
                         capture_output=True, timeout=900)
    report = run.stderr.decode(errors="replace")
    results = re.findall(r"^(test_\w+) \(__main__\.(?:createUidTestClass\.<locals>\.)?(\w+)\.\w+\) \.\.\. (ok|FAIL|ERROR|skipped.*)$",
                         report, re.M)
    assert len(results) >= 50, report[-3000:]
    failed = {f"{cls}.{name}" for name, cls, outcome in results if outcome in ("FAIL", "ERROR")}
    passed = [r for r in results if r[2] == "ok"]
    assert failed == KNOWN, report[-8000:]
    assert len(passed) >= 40, report[-3000:]
    # Skips are for extensions we do not offer, never for something the suite could not do.
    for name, cls, outcome in results:
        if outcome.startswith("skipped"):
            assert "support" in outcome, f"{cls}.{name}: {outcome}"

    # test_getacl's intent, which its own bug keeps from running: the owner is in a new folder's ACL.
    with IMAPClient("127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=insecure()) as client:
        client.login(claire, PASSWORD)
        assert b"ACL" in client.capabilities()
        client.create_folder("test_acl_owner")
        rights = dict(client.getacl("test_acl_owner"))
        assert set(rights.get(claire.encode(), b"").decode()) >= set("lrswipkxtea"), rights
