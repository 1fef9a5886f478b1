"""Two `ardoise serve` nodes, on 127.0.0.2 and 127.0.0.3, sharing one PostgreSQL database, one
blob folder and one cluster bus (issue 28): a message delivered on one reaches an IMAP IDLE session
on the other, over NATS and over PostgreSQL LISTEN/NOTIFY; the bus survives a NATS restart; a
suspension closes the session on the other node; `kill -9` of one node during a stream of SMTP
deliveries loses nothing acknowledged while the other keeps serving; two nodes drain one outbound
queue and every message is sent once.

Real servers only: the PostgreSQL of the tests (ARDOISE_TEST_POSTGRES) and a `nats-server` (Debian's
package) started by the test on a port of its own. Runs in the PostgreSQL pass (POSTGRES_E2E);
under CI=true a missing psql or nats-server fails the test."""

import shutil
import smtplib
import socket
import ssl
import subprocess
import threading
import time

import imapclient
import pytest

from conftest import DOMAIN, STORE, Server, binary, create_database, drop_database, require_tool
from test_outbound import FakeMx, outbound, wait_for

if STORE != "postgres":
    pytest.skip("nodes share a PostgreSQL store: run with ARDOISE_E2E_STORE=postgres (POSTGRES_E2E)",
                allow_module_level=True)

PASSWORD = "Ardoise-Test-2026!"
A_IP, B_IP = "127.0.0.2", "127.0.0.3"
REMOTE = "ac-autre.fr"


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def free_port(ip: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


class Nats:
    """A nats-server of the test's own, on a fixed port so that it can be restarted in place."""

    def __init__(self, root):
        # Debian installs it in /usr/sbin, outside an ordinary user's PATH.
        self.binary = shutil.which("nats-server") or shutil.which("nats-server", path="/usr/sbin") \
            or require_tool("nats-server")
        self.port = free_port()
        self.log = root / "nats.log"
        self.proc = None
        self.url = f"nats://127.0.0.1:{self.port}"
        self.start()

    def start(self):
        self.proc = subprocess.Popen([self.binary, "-a", "127.0.0.1", "-p", str(self.port)],
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False

        wait_for(listening, timeout=15, what="nats-server listening")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


class Node(Server):
    """One node: its own data folder and loopback address, the cluster's database, blob folder
    and bus. Built without Server.__init__, which would make a database of its own."""

    def __init__(self, root, ip: str, store_url: str, blobs, extra: str = "", submission: str = "",
                 blob_section: str = None):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.data = root / "data"
        self.config = root / "ardoise.toml"
        self.store_url = store_url
        self.ip = ip
        self.config.write_text(f"""
[server]
hostname = "{ip}.{DOMAIN}"
data_dir = "{self.data}"

[store]
url = "{store_url}"

[blob]
{blob_section or f'path = "{blobs}"'}

[smtp]
listen = ["{ip}:0"]
idle_timeout = "20s"

[imap]
listen = ["{ip}:0"]
listen_tls = ["{ip}:0"]

[log]
level = "info"

[submission]
listen = ["{ip}:0"]
listen_tls = ["{ip}:0"]
{submission}
{extra}
""")
        self.proc = None

    def cleanup(self):
        # The database is the cluster's: the fixture drops it once.
        self.stop()

    def queue(self, *args) -> str:
        out = subprocess.run([binary(), "queue", "--config", str(self.config), *args], capture_output=True, timeout=60)
        assert out.returncode == 0, out.stderr.decode(errors="replace")
        return out.stdout.decode(errors="replace")

    def log_text(self) -> str:
        return (self.root / "server.log").read_text(errors="replace")

    def imap(self, address: str) -> imapclient.IMAPClient:
        c = imapclient.IMAPClient(self.ip, port=self.imaps_port, ssl=True, ssl_context=tls_context(), timeout=30)
        c.login(address, PASSWORD)
        return c


def share_keys(first: Node, second: Node):
    """Every node of a cluster holds the same keys (NUMEN hash, TOTP seal, web cookies, DKIM...):
    the second node starts from a copy of the first one's data folder, as the README says."""
    skip = {"search", "tmp", "listeners.json"}
    shutil.copytree(first.data, second.data, ignore=lambda d, names: [n for n in names if n in skip]
                    if d == str(first.data) else [], dirs_exist_ok=True)


@pytest.fixture
def cluster(tmp_path):
    """Starts two nodes on `bus` ("nats" or "postgres"), sharing a blob folder, or the bucket that
    `blob_section` names (test_cluster_s3.py); returns (a, b, nats or None)."""
    made, databases, buses = [], [], []

    def make(bus: str = "nats", extra: str = "", submission: str = "", blob_section: str = None):
        url = create_database()
        databases.append(url)
        nats = None
        if bus == "nats":
            nats = Nats(tmp_path)
            buses.append(nats)
            extra = f'\n[cluster]\nnats = "{nats.url}"\n' + extra
        blobs = tmp_path / "blobs"
        a = Node(tmp_path / "a", A_IP, url, blobs, extra, submission, blob_section)
        b = Node(tmp_path / "b", B_IP, url, blobs, extra, submission, blob_section)
        made.extend([a, b])
        a.admin("domain", "add", DOMAIN)
        a.start()
        share_keys(a, b)
        b.start()
        for node in (a, b):
            wait_for(lambda node=node: "cluster bus joined" in node.log_text(), timeout=15,
                     what=f"node {node.ip} on the bus")
        return a, b, nats

    yield make
    for node in made:
        node.stop()
    for nats in buses:
        nats.stop()
    for url in databases:
        drop_database(url)


def deliver(node: Node, rcpt: str, subject: str, msgid: str, text: str = "Bonjour."):
    body = (f"From: <sender@example.org>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n"
            f"Message-ID: {msgid}\r\n\r\n{text}\r\n").encode()
    with smtplib.SMTP(node.ip, node.smtp_port, timeout=20) as s:
        assert s.sendmail("sender@example.org", [rcpt], body) == {}


def idle_until_exists(client: imapclient.IMAPClient, count: int, seconds: float = 10):
    """Waits in IDLE until the server reports `count` messages (EXISTS)."""
    deadline = time.time() + seconds
    seen = []
    while time.time() < deadline:
        for response in client.idle_check(timeout=max(0.1, deadline - time.time())):
            seen.append(response)
            if len(response) >= 2 and response[1] == b"EXISTS" and response[0] >= count:
                return
    raise AssertionError(f"no EXISTS {count} heard in IDLE; heard {seen}")


def check_delivery_reaches_idle_on_the_other_node(a: Node, b: Node, paul: str, n: int):
    c = b.imap(paul)
    c.select_folder("INBOX")
    c.idle()
    deliver(a, paul, f"Sur le nœud A {n}", f"<cluster-{n}@{DOMAIN}>")
    idle_until_exists(c, n)
    c.idle_done()
    # The other node reads it too: same database, same blob folder.
    uids = c.search(["HEADER", "Message-ID", f"<cluster-{n}@{DOMAIN}>"])
    assert len(uids) == 1
    fetched = c.fetch(uids, ["BODY[]"])
    assert b"Bonjour." in fetched[uids[0]][b"BODY[]"]
    c.logout()


@pytest.mark.parametrize("bus", ["nats", "postgres"])
def test_delivery_on_one_node_reaches_idle_on_the_other(cluster, bus):
    a, b, _ = cluster(bus)
    paul = a.create("paul.durand", password=PASSWORD)
    check_delivery_reaches_idle_on_the_other_node(a, b, paul, 1)
    # And the other way round.
    c = a.imap(paul)
    c.select_folder("INBOX")
    c.idle()
    deliver(b, paul, "Sur le nœud B", f"<cluster-b@{DOMAIN}>")
    idle_until_exists(c, 2)
    c.idle_done()
    c.logout()
    joined = [line for line in a.log_text().splitlines() if "cluster bus joined" in line]
    assert joined and bus in joined[0], joined


def test_a_restarted_nats_is_joined_again_and_the_node_rescans(cluster):
    a, b, nats = cluster("nats")
    paul = a.create("paul.durand", password=PASSWORD)
    check_delivery_reaches_idle_on_the_other_node(a, b, paul, 1)
    # IDLE on B while the bus is away: the message delivered meanwhile is found by B's rescan
    # once NATS is back, not lost with the event.
    c = b.imap(paul)
    c.select_folder("INBOX")
    c.idle()
    nats.stop()
    wait_for(lambda: "NATS connection lost" in b.log_text(), timeout=15, what="B noticing the lost bus")
    deliver(a, paul, "Pendant la coupure", f"<cluster-gap@{DOMAIN}>")
    nats.start()
    idle_until_exists(c, 2, seconds=30)
    c.idle_done()
    c.logout()
    assert "rescanning the watched accounts" in b.log_text()
    # And the bus carries events again.
    check_delivery_reaches_idle_on_the_other_node(a, b, paul, 3)


def test_suspension_through_one_node_closes_the_session_on_the_other(cluster):
    a, b, _ = cluster("nats")
    paul = a.create("paul.durand", password=PASSWORD)
    c = b.imap(paul)
    c.select_folder("INBOX")
    c.idle()
    a.admin("account", "suspend", paul)
    # The server ends the session: BYE, then the connection closes.
    deadline = time.time() + 10
    closed = False
    while time.time() < deadline and not closed:
        try:
            for response in c.idle_check(timeout=1):
                if response and response[0] == b"BYE":
                    closed = True
        except (OSError, imapclient.exceptions.IMAPClientError):
            closed = True
    assert closed, "the IMAP session on the other node stayed open"
    with pytest.raises(imapclient.exceptions.LoginError):
        b.imap(paul)


def test_kill_9_of_one_node_during_deliveries_loses_nothing_acknowledged(cluster):
    a, b, _ = cluster("nats")
    paul = a.create("paul.durand", password=PASSWORD)
    acknowledged, refused = [], []
    stop = threading.Event()

    def stream(node: Node, tag: str):
        i = 0
        while not stop.is_set():
            msgid = f"<{tag}-{i}@{DOMAIN}>"
            try:
                deliver(node, paul, f"Flux {tag} {i}", msgid)
                acknowledged.append(msgid)
            except (OSError, smtplib.SMTPException):
                refused.append(msgid)
                time.sleep(0.05)
            i += 1

    threads = [threading.Thread(target=stream, args=(node, tag)) for node, tag in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    wait_for(lambda: sum(m.startswith("<a-") for m in acknowledged) >= 10, timeout=60, what="10 deliveries on A")
    a.kill9()
    after_kill = len([m for m in acknowledged if m.startswith("<b-")])
    wait_for(lambda: len([m for m in acknowledged if m.startswith("<b-")]) >= after_kill + 10, timeout=60,
             what="B serving on after the kill")
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert any(m.startswith("<a-") for m in refused), "A never refused: it was not killed mid-stream"
    c = b.imap(paul)
    c.select_folder("INBOX")
    fetched = c.fetch(c.search(["ALL"]), ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    present = {v[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().split(":", 1)[1].strip() for v in fetched.values()}
    missing = [m for m in acknowledged if m not in present]
    assert not missing, f"acknowledged but lost: {missing}"
    c.logout()


def test_a_search_on_one_node_finds_what_the_other_just_acknowledged(cluster):
    """Each node keeps its own full-text index. A message acknowledged on A (250 to DATA) is found
    by an IMAP SEARCH TEXT on B sent right after, not 2 s later; and while eight SMTP sessions
    deliver on A at once (PostgreSQL may commit a higher row id before a lower one) and B keeps
    searching, no message is skipped for good."""
    a, b, _ = cluster("nats")
    paul = a.create("paul.durand", password=PASSWORD)
    c = b.imap(paul)
    c.select_folder("INBOX", readonly=True)
    for i in range(5):
        deliver(a, paul, f"Recherche {i}", f"<search-{i}@{DOMAIN}>", f"mot{i}unique rapport")
        # A session searches the messages it was told of: NOOP reads the store and reports EXISTS.
        c.noop()
        assert len(c.search(["TEXT", f"mot{i}unique"])) == 1, f"message {i} not found on B at once"

    words = [f"rafale{i}x" for i in range(80)]
    stop = threading.Event()
    searches = []

    def search_meanwhile():
        d = b.imap(paul)
        d.select_folder("INBOX", readonly=True)
        while not stop.is_set():
            searches.append(len(d.search(["TEXT", "rapport"])))
        d.logout()

    def send(chunk):
        for w in chunk:
            deliver(a, paul, f"Rafale {w}", f"<{w}@{DOMAIN}>", f"{w} rapport")

    searcher = threading.Thread(target=search_meanwhile)
    searcher.start()
    senders = [threading.Thread(target=send, args=(words[k::8],)) for k in range(8)]
    for t in senders:
        t.start()
    for t in senders:
        t.join(timeout=120)
    stop.set()
    searcher.join(timeout=60)
    assert searches, "B searched during the deliveries"
    c.noop()
    missing = [w for w in words if len(c.search(["TEXT", w])) != 1]
    assert not missing, f"acknowledged on A, not found on B: {missing}"
    assert len(c.search(["TEXT", "rapport"])) == 85
    c.logout()


def test_two_nodes_drain_one_queue_and_send_each_message_once(cluster):
    held = threading.Event()
    held.set()
    fake = FakeMx("127.0.0.4", data_reply=lambda n: "451 4.3.0 plus tard" if held.is_set() else "250 2.0.0 ok")
    try:
        a, b, _ = cluster("nats", outbound([f"{REMOTE}=127.0.0.4:{fake.port}"]))
        claire = a.create("claire.martin", password=PASSWORD)
        paul = f"paul.durand@{REMOTE}"
        sent = []
        for node in (a, b):
            for i in range(8):
                msgid = f"<file-{node.ip}-{i}@{DOMAIN}>"
                body = (f"From: <{claire}>\r\nTo: <{paul}>\r\nSubject: File {i}\r\nMessage-ID: {msgid}\r\n"
                        "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nBonjour.\r\n").encode()
                with smtplib.SMTP_SSL(node.ip, node.submissions_port, context=tls_context(), timeout=30) as s:
                    s.login(claire, PASSWORD)
                    assert s.sendmail(claire, [paul], body) == {}
                sent.append(msgid)
        # Both nodes have tried (and been deferred) before the remote server accepts.
        wait_for(lambda: fake.datas >= len(sent), timeout=60, what="first attempts")
        held.clear()
        wait_for(lambda: len(fake.delivered) >= len(sent) and "vide" in a.queue("list"), timeout=90,
                 what="the queue drained")
        time.sleep(3)  # a duplicate would show up here
        ids = []
        for _, data in fake.delivered:
            for line in data.decode(errors="replace").splitlines():
                if line.lower().startswith("message-id:"):
                    ids.append(line.split(":", 1)[1].strip())
        assert sorted(ids) == sorted(sent), (sorted(ids), sorted(sent))
    finally:
        fake.close()


def test_the_sending_allowance_is_counted_across_nodes(cluster):
    a, b, _ = cluster("nats", submission="max_messages_per_hour = 3")
    claire = a.create("claire.martin", password=PASSWORD)
    paul = a.create("paul.durand", password=PASSWORD)

    def send(node: Node, i: int):
        body = (f"From: <{claire}>\r\nTo: <{paul}>\r\nSubject: Envoi {i}\r\nMessage-ID: <envoi-{i}@{DOMAIN}>\r\n"
                "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nBonjour.\r\n").encode()
        with smtplib.SMTP_SSL(node.ip, node.submissions_port, context=tls_context(), timeout=30) as s:
            s.login(claire, PASSWORD)
            s.sendmail(claire, [paul], body)

    send(a, 0)
    send(b, 1)
    send(a, 2)
    # Three per hour in all: the fourth is refused whichever node it reaches.
    for node, i in ((b, 3), (a, 4)):
        with pytest.raises(smtplib.SMTPDataError) as err:
            send(node, i)
        assert err.value.smtp_code == 450 and b"3 messages" in err.value.smtp_error, err.value
