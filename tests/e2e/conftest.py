"""End-to-end fixtures: run the real `ardoise` binary on ephemeral ports with its
own data folder, and drive it with clients none of us wrote (smtplib, swaks,
imaplib)."""

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

try:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support import wait as _selenium_wait

    # Chromium reports a node of a page being replaced by the next one either as a stale element
    # (which the waits' conditions handle) or, in a race, as the generic "Node with given id does
    # not belong to the document". Waits poll again on both: a wait that never succeeds still fails
    # at its timeout.
    _selenium_wait.IGNORED_EXCEPTIONS = (*_selenium_wait.IGNORED_EXCEPTIONS, WebDriverException)
except ImportError:  # the web tests report a missing selenium themselves
    pass

DOMAIN = "ac-test.fr"
IN_CI = os.environ.get("CI") == "true"
# With ARDOISE_E2E_STORE=postgres every server keeps its metadata in a PostgreSQL database of
# its own, created on the server named by ARDOISE_TEST_POSTGRES (as the store's Rust tests) and
# dropped after the test; otherwise in SQLite in its data folder (the default).
STORE = os.environ.get("ARDOISE_E2E_STORE", "sqlite")
POSTGRES = os.environ.get("ARDOISE_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test")
_databases = itertools.count()
_live_databases = set()


def binary() -> str:
    path = os.environ.get("ARDOISE_BIN")
    if not path:
        target = os.environ.get("CARGO_TARGET_DIR", str(Path(__file__).resolve().parents[2] / "target"))
        path = os.path.join(target, "debug", "ardoise")
    if not os.path.exists(path):
        message = f"ardoise binary not found at {path}: build it first (cargo build)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required under CI but is not installed")
        pytest.skip(f"{name} not installed")
    return path


def psql(sql: str):
    """Runs one statement on the PostgreSQL server of the tests (as its administrator)."""
    out = subprocess.run([require_tool("psql"), POSTGRES, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                         capture_output=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(f"psql {sql!r} failed: {out.stderr.decode(errors='replace')}")


def create_database() -> str:
    """A fresh, empty PostgreSQL database; returns its URL."""
    name = f"ardoise_e2e_{os.getpid()}_{next(_databases)}"
    psql(f"CREATE DATABASE {name}")
    _live_databases.add(name)
    url = urllib.parse.urlsplit(POSTGRES)
    return urllib.parse.urlunsplit(url._replace(path=f"/{name}"))


def drop_database(url: str):
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    if name in _live_databases:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _live_databases.discard(name)


def pytest_sessionfinish(session, exitstatus):
    # Databases of servers that no fixture cleaned up (a test that made its own Server).
    for name in list(_live_databases):
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _live_databases.discard(name)


# Tests that read or edit the SQLite file of a server directly: they cannot run on PostgreSQL.
SQLITE_ONLY = {
    "test_web_identity.py::test_expiring_passwords_get_reminders_then_must_change",
    "test_web_identity.py::test_totp_seed_is_encrypted_in_the_database",
    "test_directory.py::test_dsden_admin_stays_in_its_subtree_and_the_audit_log_detects_tampering",
    "test_outbound.py::test_mail_between_two_instances_is_dkim_verified",
}


def pytest_collection_modifyitems(config, items):
    if STORE != "postgres":
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.nodeid.split("/")[-1] in SQLITE_ONLY else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_configure(config):
    # Marked tests are part of the suite; `-m "not slow"` leaves them out of a quick run.
    config.addinivalue_line("markers", "slow: takes over a minute in a debug build")


def pytest_report_header(config):
    return f"ardoise store: {STORE}" + (f" ({POSTGRES})" if STORE == "postgres" else "")


class Server:
    """One ardoise instance: a config file, a data folder, a process, and (with
    ARDOISE_E2E_STORE=postgres) a PostgreSQL database."""

    def __init__(self, root: Path, smtp_extra: str = ""):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.data = root / "data"
        self.config = root / "ardoise.toml"
        if STORE == "postgres":
            self.store_url = create_database()
        elif STORE == "sqlite":
            self.store_url = ""
        else:
            raise AssertionError(f"ARDOISE_E2E_STORE must be sqlite or postgres, not {STORE!r}")
        # [store] stays near the top: tests append keys meant for the last section ([web]).
        store = f'\n[store]\nurl = "{self.store_url}"\n' if self.store_url else ""
        self.config.write_text(
            f"""
[server]
hostname = "mx.{DOMAIN}"
data_dir = "{self.data}"
{store}
[smtp]
listen = ["127.0.0.1:0"]
idle_timeout = "20s"
{smtp_extra}

[imap]
listen = ["127.0.0.1:0"]
listen_tls = ["127.0.0.1:0"]

[log]
level = "info"

[submission]
listen = ["127.0.0.1:0"]
listen_tls = ["127.0.0.1:0"]

[web]
listen = ["127.0.0.1:0"]
# Messages sent from the webmail go at once here; test_webmail_undo_send.py
# turns the delay (« Annuler l'envoi ») back on.
undo_send_delay = "0s"
"""
        )
        self.proc = None
        self.smtp_port = None
        self.imap_port = None
        self.imaps_port = None
        self.admin("domain", "add", DOMAIN)

    def admin(self, *args, stdin=None, check=True) -> str:
        out = subprocess.run(
            [binary(), "admin", "--config", str(self.config), *args],
            input=stdin,
            capture_output=True,
            timeout=60,
        )
        if check and out.returncode != 0:
            raise AssertionError(f"admin {args} failed: {out.stderr.decode(errors='replace')}")
        return out.stdout.decode(errors="replace")

    def admin_bytes(self, *args) -> bytes:
        out = subprocess.run([binary(), "admin", "--config", str(self.config), *args], capture_output=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def create(self, local: str, quota: str = "1G", password: str = None, role: str = None) -> str:
        address = f"{local}@{DOMAIN}"
        args = ["account", "create", address, "--name", local.replace(".", " ").title(), "--quota", quota]
        if role:
            args += ["--role", role]
        if password is not None:
            args.append("--password-stdin")
        self.admin(*args, stdin=password.encode() if password is not None else None)
        return address

    def messages(self, address: str) -> list:
        return json.loads(self.admin("message", "list", address, "--json"))

    def blob_stats(self) -> dict:
        return json.loads(self.admin("blob", "stats", "--json"))

    def start(self):
        listeners = self.data / "listeners.json"
        if listeners.exists():
            listeners.unlink()
        self.log = open(self.root / "server.log", "ab")
        self.proc = subprocess.Popen([binary(), "serve", "--config", str(self.config)], stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited early:\n{(self.root / 'server.log').read_text(errors='replace')}")
            if listeners.exists():
                addrs = json.loads(listeners.read_text())
                self.smtp_port = int(addrs["smtp"].rsplit(":", 1)[1])
                if "imap" in addrs:
                    self.imap_port = int(addrs["imap"].rsplit(":", 1)[1])
                if "imaps" in addrs:
                    self.imaps_port = int(addrs["imaps"].rsplit(":", 1)[1])
                if "submission" in addrs:
                    self.submission_port = int(addrs["submission"].rsplit(":", 1)[1])
                if "submissions" in addrs:
                    self.submissions_port = int(addrs["submissions"].rsplit(":", 1)[1])
                if "http" in addrs:
                    self.http_port = int(addrs["http"].rsplit(":", 1)[1])
                return self
            time.sleep(0.05)
        raise AssertionError("server did not start within 30 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        """Stops the server and drops its PostgreSQL database, if it has one."""
        self.stop()
        if self.store_url:
            drop_database(self.store_url)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test, for the fixtures' teardown."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


def show_log_if_failed(request, servers):
    """A failed test prints the end of its servers' logs (shown by pytest
    with the failure): a CI run that fails once can still be read."""
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed:
        return
    for s in servers:
        log = s.root / "server.log"
        if log.exists():
            lines = log.read_text(errors="replace").splitlines()[-80:]
            print(f"--- last lines of {log} ---", *lines, sep="\n")


@pytest.fixture
def server(tmp_path, request):
    s = Server(tmp_path)
    yield s
    show_log_if_failed(request, [s])
    s.cleanup()


@pytest.fixture
def make_server(tmp_path, request):
    made = []

    def make(smtp_extra: str = ""):
        s = Server(tmp_path / f"s{len(made)}", smtp_extra)
        made.append(s)
        return s

    yield make
    show_log_if_failed(request, made)
    for s in made:
        s.cleanup()


def port_free(port: int) -> bool:
    with socket.socket() as s:
        # Like the server (tokio sets SO_REUSEADDR), ignore connections in TIME_WAIT.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
