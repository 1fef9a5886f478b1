"""End-to-end fixtures: run the real `ardoise` binary on ephemeral ports with its
own data folder, and drive it with clients none of us wrote (smtplib, swaks,
imaplib)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
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


class Server:
    """One ardoise instance: a config file, a data folder, a process."""

    def __init__(self, root: Path, smtp_extra: str = ""):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.data = root / "data"
        self.config = root / "ardoise.toml"
        self.config.write_text(
            f"""
[server]
hostname = "mx.{DOMAIN}"
data_dir = "{self.data}"

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

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def make_server(tmp_path):
    made = []

    def make(smtp_extra: str = ""):
        s = Server(tmp_path / f"s{len(made)}", smtp_extra)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


def port_free(port: int) -> bool:
    with socket.socket() as s:
        # Like the server (tokio sets SO_REUSEADDR), ignore connections in TIME_WAIT.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
