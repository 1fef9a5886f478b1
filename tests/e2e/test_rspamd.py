"""Ardoise with an académie's own rspamd (issue 20, `[hygiene] rspamd_url`), against Debian's
rspamd run from a private configuration: its own ports on 127.0.0.1, pid, log and database
files in the test's folder, no network (every module that would ask DNS, Redis or a download
is off, its resolver points at a closed port). Two local rules of ours give known verdicts by
subject word (add header; soft reject through force_actions); GTUBE is rspamd's own. Mail goes
in with smtplib, comes out with imaplib; rspamd stopped, the built-in scorer stands in."""

import signal
import smtplib
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import DOMAIN, require_tool
from test_hygiene import GTUBE, JUNK, folder, message, refused, send, start, wait_for_message
from test_metrics import scrape, start_with_metrics, value

# rspamd modules that reach the network (DNS lists, Redis, downloads, fuzzy hashes)
OFF = ("rbl surbl spf dkim dmarc arc asn emails mx_check fuzzy_check phishing multimap rspamd_update "
       "url_redirector greylist ratelimit reputation neural history_redis dcc p0f hfilter replies "
       "dkim_signing arc_signing bimi clickhouse elastic metadata_exporter").split()

LOCAL_RULES = r"""
-- Ardoise's test rules: a word of the subject gives a known verdict.
local function subject_has(word)
  return function(task)
    local subject = task:get_subject()
    return subject ~= nil and subject:find(word, 1, true) ~= nil
  end
end
rspamd_config.ARDOISE_TEST_JUNK = { callback = subject_has('ardoise-junk'), score = 8.0,
  description = 'Ardoise test: add header' }
rspamd_config.ARDOISE_TEST_LATER = { callback = subject_has('ardoise-later'), score = 0.5,
  description = 'Ardoise test: soft reject' }
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Rspamd:
    """Debian's rspamd from a private configuration folder."""

    def __init__(self, root):
        self.binary = require_tool("rspamd")
        self.root = root
        self.port = free_port()
        self.proc = None
        for d in ("db", "run", "log", "local.d"):
            (root / d).mkdir(parents=True, exist_ok=True)
        (root / "rspamd.conf").write_text(f"""
.include "$CONFDIR/common.conf"
options {{
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
}}
logging {{
    type = "file";
    filename = "$LOGDIR/rspamd.log";
    level = "info";
}}
worker "normal" {{
    bind_socket = "127.0.0.1:{self.port}";
    mime = true;
    count = 1;
}}
""")
        local = root / "local.d"
        # No DNS: the one nameserver is a closed port, asked once, briefly.
        (local / "options.inc").write_text(
            'dns { nameserver = ["127.0.0.1:1"]; timeout = 0.2s; retransmits = 1; }\n'
        )
        for module in OFF:
            (local / f"{module}.conf").write_text("enabled = false;\n")
        (local / "force_actions.conf").write_text(
            'rules { ARDOISE_LATER { action = "soft reject"; expression = "ARDOISE_TEST_LATER"; '
            'message = "Try again later"; } }\n'
        )
        (root / "rspamd.local.lua").write_text(LOCAL_RULES)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        r = self.root
        variables = {"CONFDIR": "/etc/rspamd", "LOCAL_CONFDIR": r, "DBDIR": r / "db", "RUNDIR": r / "run",
                     "LOGDIR": r / "log"}
        args = [self.binary, "-f", "-c", str(r / "rspamd.conf")]
        for k, v in variables.items():
            args += ["--var", f"{k}={v}"]
        # rspamd refuses to run its workers as root unless told; the tests may run as root.
        args += ["-i"]
        self.proc = subprocess.Popen(args, stdout=open(r / "stdout.log", "wb"), stderr=subprocess.STDOUT)
        deadline = time.time() + 90
        while True:
            try:
                req = urllib.request.Request(f"{self.url}/checkv2", data=b"Subject: ping\r\n\r\nping\r\n")
                with urllib.request.urlopen(req, timeout=5) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                log = (r / "log" / "rspamd.log").read_text(errors="replace")[-3000:]
                raise AssertionError(f"rspamd did not start: {(r / 'stdout.log').read_text()}\n{log}")
            time.sleep(0.3)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        # rspamd's workers follow their main process; wait until the port is free
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                time.sleep(0.2)
            except OSError:
                return


@pytest.fixture
def rspamd(tmp_path):
    r = Rspamd(tmp_path / "rspamd")
    r.start()
    yield r
    r.stop()


def rules_of(m) -> list:
    """The rule names of our X-Spam-Status field."""
    return m["X-Spam-Status"].split("tests=", 1)[1].split(",")


def test_gtube_is_refused_as_rspamd_says_and_clean_mail_delivered(make_server, rspamd):
    server = start(make_server, f'rspamd_url = "{rspamd.url}"')
    # The built-in scorer alone files GTUBE in Indésirables (10 < 15): rspamd's reject decides here.
    code, text = refused(server, message("Offre exceptionnelle", f"Bonjour. {GTUBE}"))
    assert (code, text[:5]) == (550, "5.7.1"), text
    assert "GTUBE" not in text
    assert all("Offre" not in str(m["Subject"]) for m in folder(server, JUNK) + folder(server, "INBOX"))
    send(server, message("Sortie au musée", "La sortie est confirmée pour jeudi."))
    ham = wait_for_message(server, "INBOX", "Sortie au mus")
    assert ham["X-Spam-Status"].startswith("No, score="), ham["X-Spam-Status"]
    # rspamd's symbols, not ours: MIME_GOOD is rspamd's name for a known content type.
    assert "MIME_GOOD" in rules_of(ham), ham["X-Spam-Status"]
    log = (rspamd.root / "log" / "rspamd.log").read_text(errors="replace")
    # The envelope went along: the client's address and our queue id.
    assert "ip: 127.0.0.1" in log and "qid: <" in log, log[-2000:]


def test_add_header_junks_and_soft_reject_defers(make_server, rspamd):
    server = start(make_server, f'rspamd_url = "{rspamd.url}"')
    send(server, message("Bulletin ardoise-junk", "Bonjour."))
    junk = wait_for_message(server, JUNK, "Bulletin ardoise-junk")
    assert junk["X-Spam-Status"].startswith("Yes, score="), junk["X-Spam-Status"]
    assert "ARDOISE_TEST_JUNK" in rules_of(junk)
    assert not any("ardoise-junk" in str(m["Subject"]) for m in folder(server, "INBOX"))
    code, text = refused(server, message("Bulletin ardoise-later", "Bonjour."))
    assert code == 451, (code, text)
    assert all("ardoise-later" not in str(m["Subject"]) for m in folder(server, JUNK) + folder(server, "INBOX"))


def test_add_mode_sums_both_verdicts(make_server, rspamd):
    # High thresholds: the message stays in the Inbox whatever the sum, which is what is checked.
    server = start(make_server, f'rspamd_url = "{rspamd.url}"\nrspamd_mode = "add"\n'
                                'junk_threshold = 50\nreject_threshold = 100')
    raw = message("Sans identifiant", "Bonjour.").replace(b"Message-ID:", b"X-Old-Id:")
    send(server, raw)
    m = wait_for_message(server, "INBOX", "Sans identifiant")
    tests = rules_of(m)
    # Ours (MISSING_MESSAGE_ID) and rspamd's (MISSING_MID) for the same defect, both counted.
    assert "MISSING_MESSAGE_ID" in tests and "MISSING_MID" in tests, m["X-Spam-Status"]
    report = {line.split()[0]: float(line.split()[1]) for line in m["X-Spam-Report"].split(";")}
    assert abs(float(m["X-Spam-Score"]) - sum(report.values())) < 0.3, (m["X-Spam-Score"], report)


def test_rspamd_down_falls_back_to_the_built_in_scorer(make_server, rspamd):
    server = make_server(smtp_extra=f'\n[hygiene]\nrspamd_url = "{rspamd.url}"\nrspamd_timeout = "3s"\n')
    server.create("claire.martin", password="Ardoise-Test-2026")
    port = start_with_metrics(server, "t" * 32)
    rspamd.stop()
    started = time.time()
    # GTUBE is not refused (rspamd's verdict) but junked (the built-in scorer's, 10 < 15).
    assert send(server, message("Offre exceptionnelle", f"Bonjour. {GTUBE}")) == {}
    assert time.time() - started < 10
    spam = wait_for_message(server, JUNK, "Offre exceptionnelle")
    # The built-in scorer's reasons only: none of rspamd's symbols.
    assert "GTUBE" in rules_of(spam) and "MIME_GOOD" not in rules_of(spam), spam["X-Spam-Status"]
    log = (server.root / "server.log").read_text(errors="replace")
    assert "rspamd failed, built-in scorer used instead" in log
    samples = scrape(port, "t" * 32)
    assert value(samples, "ardoise_rspamd_failures_total", reason="connect") >= 1, [
        k for k in samples if "rspamd" in k[0]
    ]


def test_an_rspamd_that_never_answers_is_bounded_by_the_deadline(make_server):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    try:
        server = start(make_server, f'rspamd_url = "http://127.0.0.1:{port}"\nrspamd_timeout = "2s"')
        started = time.time()
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as s:
            assert s.sendmail("parent@example.org", [f"claire.martin@{DOMAIN}"],
                              message("Silence", "Bonjour.")) == {}
        assert 1.5 < time.time() - started < 15
        assert wait_for_message(server, "INBOX", "Silence")
    finally:
        listener.close()
