"""The same scripted IMAP sessions against Ardoise and against Dovecot from Debian, answers compared
(issue 26, "Verified by"): a transcript written by the hand that wrote the server proves little
about SEARCH dates, SORT, THREAD or subscriptions; a peer server that millions of users run is an
independent reading of the RFCs.

Dovecot runs from a private configuration (its own base_dir, port, users file and Maildir, with
`/` as separator like Ardoise), started and stopped by the test; the system instance is untouched.
Both servers get the same messages by APPEND with the same INTERNALDATE and flags, then each
script runs on both and the answers are compared after normalisation (tags, response text,
UIDVALIDITY and MODSEQ values, which are each server's own). Every difference must be in
KNOWN with its reason; a new difference fails, and so does a known one that disappears."""

import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

from conftest import IN_CI, require_tool

PASSWORD = "Ardoise-Test-2026"

DOVECOT_CONF = """\
instance_name = ardoise-differential
base_dir = {root}/run
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%n/Maildir
# NOTIFY needs the mailbox list index.
mailbox_list_index = yes
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Dovecot:
    def __init__(self):
        if os.geteuid() != 0:
            if IN_CI:
                pytest.fail("the Dovecot differential test runs Dovecot as root under CI")
            pytest.skip("Dovecot needs root to start from a private configuration")
        require_tool("dovecot")
        # Under /var/tmp with open permissions: Dovecot's mail processes run as nobody.
        self.root = tempfile.mkdtemp(prefix="ardoise-dovecot-", dir="/var/tmp")
        os.chmod(self.root, 0o755)
        os.makedirs(os.path.join(self.root, "mail"))
        shutil.chown(os.path.join(self.root, "mail"), "nobody", "nogroup")
        self.port = free_port()
        with open(os.path.join(self.root, "users"), "w") as f:
            f.write(f"claire:{{PLAIN}}{PASSWORD}:65534:65534::{self.root}/mail/claire::\n")
        self.conf = os.path.join(self.root, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(DOVECOT_CONF.format(root=self.root, port=self.port))
        # SEARCH reads internal dates in the server's zone: Dovecot in TZ, Ardoise in its
        # `[web] time_zone` (Europe/Paris by default). This test first found Ardoise reading
        # them in UTC (mail of 00:10 in Paris fell on the day before).
        env = dict(os.environ, TZ="Europe/Paris")
        # Its output to a file: the daemon keeps the descriptors it was given.
        with open(os.path.join(self.root, "start.log"), "w") as out:
            subprocess.run(["dovecot", "-c", self.conf], check=True, env=env, stdout=out, stderr=out,
                           stdin=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"dovecot did not start; see {self.root}/dovecot.log")

    def stop(self):
        subprocess.run(["dovecot", "-c", self.conf, "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.2)
        shutil.rmtree(self.root, ignore_errors=True)


class Raw:
    """A line-level IMAP client: sends a command as written, returns the untagged lines (with
    literals inlined) and the tagged status word."""

    def __init__(self, port: int, tls: bool = False):
        self.port, self.tls = port, tls
        self.sock = socket.create_connection(("127.0.0.1", port), 20)
        if tls:
            # Ardoise's implicit-TLS port with its self-signed certificate (only loopback here).
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.sock = ctx.wrap_socket(self.sock)
        self.buf = b""
        self.n = 0
        self.line()  # greeting

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        # Inline a literal: {n}\r\n<n bytes> continue the same response.
        m = re.search(rb"\{(\d+)\}$", line)
        if m:
            size = int(m.group(1))
            while len(self.buf) < size:
                self.buf += self.sock.recv(65536)
            data, self.buf = self.buf[:size], self.buf[size:]
            return line + b"\r\n" + data + self.line()
        return line

    def cmd(self, text: str, literal: bytes = None) -> tuple[list[str], str]:
        self.n += 1
        tag = f"t{self.n}"
        if literal is None:
            self.sock.sendall(f"{tag} {text}\r\n".encode())
        else:
            self.sock.sendall(f"{tag} {text} {{{len(literal)}}}\r\n".encode())
            assert self.line().startswith(b"+"), text
            self.sock.sendall(literal + b"\r\n")
        lines = []
        while True:
            line = self.line().decode("utf-8", "replace")
            if line.startswith(tag + " "):
                return lines, line.split(" ", 2)[1]
            lines.append(line)


# The corpus: French subjects with reply and forward prefixes, accents, threads through
# References and through subjects only, Date headers around midnight in several zones, and a
# quoted-printable part. (internal date, flags, message).
def msg(subject, date, frm="Claire Martin <claire.martin@ac-demo.fr>", extra="", body="Bonjour.\r\n"):
    return (f"From: {frm}\r\nTo: paul.durand@ac-demo.fr\r\nSubject: {subject}\r\nDate: {date}\r\n{extra}"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}").encode()


CORPUS = [
    ("14-Sep-2026 23:30:00 +0200", "", msg("Conseil de classe", "Mon, 14 Sep 2026 23:30:00 +0200",
                                          extra="Message-ID: <c1@ac-demo.fr>\r\n")),
    ("15-Sep-2026 00:10:00 +0200", "\\Seen", msg("Re: Conseil de classe", "Tue, 15 Sep 2026 00:10:00 +0200",
                                                 frm="Paul Durand <paul.durand@ac-demo.fr>",
                                                 extra="Message-ID: <c2@ac-demo.fr>\r\nIn-Reply-To: <c1@ac-demo.fr>\r\nReferences: <c1@ac-demo.fr>\r\n")),
    ("14-Sep-2026 22:10:00 -0200", "", msg("RE: [Collège] Élections", "Mon, 14 Sep 2026 22:10:00 -0200",
                                           frm="\"Élodie Bernard\" <elodie.bernard@ac-demo.fr>")),
    ("16-Sep-2026 12:00:00 +0000", "\\Flagged", msg("Fwd: Réunion parents-professeurs", "Wed, 16 Sep 2026 01:00:00 +1100",
                                                    frm="Zoé Arnaud <zoe.arnaud@ac-demo.fr>",
                                                    extra="Message-ID: <r1@ac-demo.fr>\r\n")),
    ("16-Sep-2026 23:59:59 +0000", "", msg("élections", "Wed, 16 Sep 2026 23:59:59 +0000",
                                           frm="andré <andre.petit@ac-demo.fr>")),
    ("17-Sep-2026 08:00:00 +0200", "\\Answered", msg("Re: Re: Conseil de classe", "Thu, 17 Sep 2026 08:00:00 +0200",
                                                     extra="Message-ID: <c3@ac-demo.fr>\r\nReferences: <c1@ac-demo.fr> <c2@ac-demo.fr>\r\n")),
    ("17-Sep-2026 09:00:00 +0200", "", msg("Sortie au musée", "Thu, 17 Sep 2026 09:00:00 +0200",
                                           extra="Content-Transfer-Encoding: quoted-printable\r\n",
                                           body="Le mus=C3=A9e ouvre =C3=A0 9 h.=\r\nFin de ligne douce.\r\n")),
    ("18-Sep-2026 10:00:00 +0200", "", msg("[Collège] Élections (fin)", "Fri, 18 Sep 2026 10:00:00 +0200",
                                           frm="Bruno <bruno@ac-demo.fr>")),
]

# Each script: commands run in order after SELECT of the folder holding the corpus.
SCRIPTS = {
    "search_dates": [
        "UID SEARCH SENTON 14-Sep-2026",
        "UID SEARCH SENTON 15-Sep-2026",
        "UID SEARCH SENTBEFORE 15-Sep-2026",
        "UID SEARCH SENTSINCE 16-Sep-2026",
        "UID SEARCH ON 14-Sep-2026",
        "UID SEARCH ON 15-Sep-2026",
        "UID SEARCH ON 16-Sep-2026",
        "UID SEARCH BEFORE 15-Sep-2026",
        "UID SEARCH SINCE 17-Sep-2026",
        "UID SEARCH OR SEEN FLAGGED",
        "UID SEARCH NOT ANSWERED SINCE 16-Sep-2026",
    ],
    "sort": [
        "UID SORT (SUBJECT) UTF-8 ALL",
        "UID SORT (REVERSE SUBJECT) UTF-8 ALL",
        "UID SORT (FROM) UTF-8 ALL",
        "UID SORT (DATE) UTF-8 ALL",
        "UID SORT (ARRIVAL) UTF-8 ALL",
        "UID SORT (SUBJECT DATE) UTF-8 SINCE 15-Sep-2026",
        "UID SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) UTF-8 ALL",
        "SORT RETURN (COUNT) (DATE) UTF-8 UNSEEN",
    ],
    "thread": [
        "UID THREAD REFERENCES UTF-8 ALL",
        "UID THREAD ORDEREDSUBJECT UTF-8 ALL",
    ],
    "binary": [
        "UID FETCH 7 (BINARY.SIZE[1])",
        "UID FETCH 7 (BINARY.PEEK[1])",
        "UID FETCH 7 (BINARY.PEEK[1]<3.5>)",
    ],
    "condstore": [
        "UID STORE 1 +FLAGS.SILENT (\\Seen)",
        "UID FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq})",
        "UID STORE 1:3 (UNCHANGEDSINCE {modseq}) +FLAGS.SILENT (\\Flagged)",
        "UID FETCH 1:* (FLAGS)",
    ],
    # CONTEXT=SEARCH/SORT (RFC 5267): PARTIAL windows, and a search kept up to date through this
    # session's own flag changes ({tag-N}: the tag of the command N before this one).
    "context": [
        "UID SEARCH RETURN (PARTIAL 2:4) ALL",
        "UID SEARCH RETURN (COUNT PARTIAL 6:20) ALL",
        "UID SEARCH RETURN (PARTIAL 30:40) ALL",
        "SEARCH RETURN (PARTIAL 1:3) UNSEEN",
        "UID SORT RETURN (PARTIAL 1:3) (SUBJECT) UTF-8 ALL",
        "UID SEARCH RETURN (UPDATE COUNT) DELETED",
        "UID STORE 2,4 +FLAGS.SILENT (\\Deleted)",
        "UID STORE 2 -FLAGS.SILENT (\\Deleted)",
        "CANCELUPDATE \"{tag-3}\"",
        "UID STORE 4 -FLAGS.SILENT (\\Deleted)",
    ],
}

# Subscriptions and hierarchy, run before SELECT, on names under the folder "Diff".
FOLDER_SCRIPT = [
    "CREATE Diff/Projets/2026",
    "LIST \"\" \"Diff*\"",
    "LIST \"\" \"Diff/%\"",
    "SUBSCRIBE Diff/Projets/2026",
    "LSUB \"\" \"Diff/%\"",
    "LSUB \"\" \"Diff*\"",
    "LIST (SUBSCRIBED) \"\" \"Diff*\"",
    "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"Diff/%\"",
    "LIST \"\" \"Diff*\" RETURN (SUBSCRIBED CHILDREN)",
    "DELETE Diff/Projets/2026",
    "LIST (SUBSCRIBED) \"\" \"Diff*\"",
    "LIST \"\" \"Diff*\"",
    "UNSUBSCRIBE Diff/Projets/2026",
    "LIST (SUBSCRIBED) \"\" \"Diff*\"",
    "LIST (RECURSIVEMATCH) \"\" \"*\"",
]

# Differences we know of and keep, by (script, command): each with its reason.
# Implied parents: Ardoise's are placeholder mailboxes it lists \Noselect in every form of LIST;
# Dovecot's Maildir++ has no row for them and says \NonExistent when LIST-EXTENDED options are
# used (RFC 5258 section 3.4: \NonExistent implies \Noselect, both are conformant).
PLACEHOLDER = "implied parents: \\Noselect (a placeholder mailbox) where Dovecot says \\NonExistent"
KNOWN = {
    # RFC 5258 section 4: \HasChildren/\HasNoChildren are returned even when CHILDREN is not asked
    # (a server MAY); Dovecot returns them only when asked in the extended form.
    ("folders", "LIST (SUBSCRIBED) \"\" \"Diff*\""): "children attributes sent unasked",
    ("folders", "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"Diff/%\""): PLACEHOLDER,
    ("folders", "LIST \"\" \"Diff*\" RETURN (SUBSCRIBED CHILDREN)"): PLACEHOLDER,
    # Dovecot 2.3 sends the same STATUS twice for one APPEND elsewhere; Ardoise once.
    ("notify", "APPEND INBOX elsewhere"): "Dovecot repeats the STATUS line",
    # RFC 5465 section 5.1: the unsolicited FETCH for a flag change "MUST include UID and FLAGS";
    # Dovecot 2.3 leaves the UID out.
    ("notify", "STORE elsewhere"): "Dovecot's flag-change FETCH lacks the UID RFC 5465 requires",
}


def normalise(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        # Each server's own numbers.
        line = re.sub(r"MODSEQ \(\d+\)", "MODSEQ (n)", line)
        line = re.sub(r"\(MODSEQ \d+\)", "(MODSEQ n)", line)
        # LIST/LSUB attributes as a set, in a fixed order; a name quoted or as an atom alike.
        m = re.match(r"^\* (LIST|LSUB) \(([^)]*)\) \"/\" (\"[^\"]*\"|\S+)(.*)$", line)
        if m:
            attrs = " ".join(sorted(a.lower() for a in m.group(2).split()))
            extra = m.group(4).replace('"CHILDINFO"', "CHILDINFO")
            line = f"* {m.group(1)} ({attrs}) \"/\" {m.group(3).strip(chr(34))}{extra}"
        # Flags in any order.
        line = re.sub(r"FLAGS \(([^)]*)\)", lambda f: "FLAGS (" + " ".join(sorted(f.group(1).split())) + ")", line)
        # A literal or a literal8 for the same bytes (RFC 9051 allows either for BINARY[]).
        line = re.sub(r"~\{(\d+)\}", r"{\1}", line)
        # ESEARCH return data in any order (RFC 4731 section 3.1).
        # A value may be a parenthesised list (PARTIAL, ADDTO, REMOVEFROM: RFC 5267).
        m = re.match(r'^\* ESEARCH (\(TAG "[^"]*"\))( UID)?((?: \S+ (?:\([^)]*\)|\S+))*)$', line)
        if m:
            pairs = re.findall(r" (\S+ (?:\([^)]*\)|\S+))", m.group(3))
            line = f"* ESEARCH{m.group(2) or ''} {' '.join(sorted(pairs))}"
        line = re.sub(r"UIDVALIDITY \d+", "UIDVALIDITY n", line)
        line = re.sub(r"HIGHESTMODSEQ \d+", "HIGHESTMODSEQ n", line)
        # STATUS items in any order.
        m = re.match(r"^\* STATUS (\S+) \(([^)]*)\)$", line)
        if m:
            items = re.findall(r"(\S+ \S+)", m.group(2))
            line = f"* STATUS {m.group(1).strip(chr(34))} ({' '.join(sorted(items))})"
        # Untagged answers that are state, not results (EXISTS after STORE etc.) are kept.
        out.append(line)
    return out


def run_script(raw: Raw, commands: list[str], modseq: str = "") -> list[tuple[str, list[str], str]]:
    answers = []
    for command in commands:
        command = command.replace("{modseq}", modseq)
        command = re.sub(r"\{tag-(\d+)\}", lambda m: f"t{raw.n + 1 - int(m.group(1))}", command)
        lines, status = raw.cmd(command)
        answers.append((command, normalise(lines), status))
    return answers


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from conftest import Server

    dovecot = Dovecot()
    server = Server(tmp_path_factory.mktemp("differential"))
    try:
        address = server.create("claire", password=PASSWORD)
        server.start()
        sides = {}
        for name, port, login in (("ardoise", server.imaps_port, address), ("dovecot", dovecot.port, "claire")):
            raw = Raw(port, tls=name == "ardoise")
            assert raw.cmd(f"LOGIN {login} {PASSWORD}")[1] == "OK", (name, "login")
            assert raw.cmd("CREATE Corpus")[1] == "OK", name
            for date, flags, message in CORPUS:
                lines, status = raw.cmd(f"APPEND Corpus ({flags}) \"{date}\"", message)
                assert status == "OK", (name, lines, message[:80])
            raw.login = login
            sides[name] = raw
        yield sides
    finally:
        server.cleanup()
        dovecot.stop()


def without_recent(lines: list[str]) -> list[str]:
    """A new message is \\Recent in exactly one of the sessions that have its mailbox selected
    (RFC 3501 section 2.3.2), and which one is the server's choice: Dovecot gives it to the
    session that appended, Ardoise to the first session told of it, which can be either. NOTIFY
    is what is compared here, so \\Recent is left out of both answers."""
    out = [l for l in lines if not re.fullmatch(r"\* \d+ RECENT", l)]
    return [re.sub(r" ?\\Recent", "", l).replace("FLAGS ( ", "FLAGS (") for l in out]


def compare(script: str, ours: list, theirs: list):
    differences = {}
    for (command, a_lines, a_status), (_, d_lines, d_status) in zip(ours, theirs):
        if (a_lines, a_status) != (d_lines, d_status):
            differences[(script, command)] = (a_status, a_lines, d_status, d_lines)
    expected = {k for k in KNOWN if k[0] == script}
    unexpected = {k: v for k, v in differences.items() if k not in expected}
    report = "\n".join(f"{cmd}\n  ardoise {v[0]}: {v[1]}\n  dovecot {v[2]}: {v[3]}" for (_, cmd), v in unexpected.items())
    assert not unexpected, f"answers differ from Dovecot's:\n{report}"
    gone = expected - set(differences)
    assert not gone, f"known differences no longer differ (take them out of KNOWN): {gone}"


def test_folders_and_subscriptions(pair):
    compare("folders", run_script(pair["ardoise"], FOLDER_SCRIPT), run_script(pair["dovecot"], FOLDER_SCRIPT))


@pytest.mark.parametrize("script", ["search_dates", "sort", "thread", "binary", "condstore", "context"])
def test_selected_scripts(pair, script):
    answers = {}
    for name, raw in pair.items():
        lines, status = raw.cmd("SELECT Corpus (CONDSTORE)")
        assert status == "OK", (name, lines)
        highest = next(re.search(r"HIGHESTMODSEQ (\d+)", l).group(1) for l in lines if "HIGHESTMODSEQ" in l)
        answers[name] = run_script(raw, SCRIPTS[script], modseq=highest)
        raw.cmd("UNSELECT")
    compare(script, answers["ardoise"], answers["dovecot"])


def pushed(raw: Raw, quiet: float = 1.5) -> list[str]:
    """The lines a server sends on its own, until it has been quiet for `quiet` seconds."""
    lines = []
    raw.sock.settimeout(quiet)
    try:
        while True:
            lines.append(raw.line().decode("utf-8", "replace"))
    except (socket.timeout, TimeoutError):
        pass
    finally:
        raw.sock.settimeout(20)
    return normalise(lines)


def test_notify(pair):
    """NOTIFY (RFC 5465) against Dovecot's: what a watching session is told, with no command
    running, when another session files mail in the selected mailbox and in another one, then
    flags and expunges it."""
    answers = {}
    for name, raw in pair.items():
        watcher = raw
        other = Raw(raw.port, tls=raw.tls)
        assert other.cmd(f"LOGIN {raw.login} {PASSWORD}")[1] == "OK"
        got = []
        assert watcher.cmd("SELECT Corpus")[1] == "OK"
        lines, status = watcher.cmd(
            "NOTIFY SET STATUS (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange)) "
            "(mailboxes INBOX (MessageNew MessageExpunge))")
        # RFC 5465 section 5.1 (STATUS indicator): a STATUS for each mailbox of the set. Ardoise's
        # is checked here against the RFC; Dovecot 2.3 sends it on some runs and not on others, so
        # this one answer is left out of the comparison (only its status is compared).
        lines = normalise(lines) + pushed(watcher)
        if name == "ardoise":
            assert any(re.fullmatch(r"\* STATUS INBOX \(.*\bMESSAGES 0\b.*\)", l) for l in lines), lines
        got.append(("NOTIFY SET STATUS", [], status))
        assert other.cmd("APPEND INBOX", msg("Cantine", "Fri, 18 Sep 2026 11:00:00 +0200"))[1] == "OK"
        got.append(("APPEND INBOX elsewhere", pushed(watcher), ""))
        assert other.cmd("SELECT Corpus")[1] == "OK"
        assert other.cmd("APPEND Corpus", msg("Cantine", "Fri, 18 Sep 2026 11:00:00 +0200"))[1] == "OK"
        got.append(("APPEND Corpus elsewhere", without_recent(pushed(watcher)), ""))
        assert other.cmd("UID STORE 9 +FLAGS.SILENT (\\Deleted)")[1] == "OK"
        got.append(("STORE elsewhere", pushed(watcher), ""))
        assert other.cmd("UID EXPUNGE 9")[1] == "OK"
        got.append(("EXPUNGE elsewhere", pushed(watcher), ""))
        lines, status = watcher.cmd("NOTIFY NONE")
        got.append(("NOTIFY NONE", normalise(lines), status))
        assert other.cmd("APPEND INBOX", msg("Cantine 2", "Fri, 18 Sep 2026 11:00:00 +0200"))[1] == "OK"
        got.append(("APPEND INBOX after NONE", pushed(watcher, 1.0), ""))
        watcher.cmd("UNSELECT")
        other.cmd("LOGOUT")
        answers[name] = got
    compare("notify", answers["ardoise"], answers["dovecot"])
