"""An S3-compatible server for the end-to-end tests: `s3s-fs` (the s3s project's server over a
folder, built from crates.io by scripts/test-setup.sh into ~/.cache/ardoise-tools, or
ARDOISE_S3S_FS), started with an access key on a port of its own, serving one bucket. Under CI=true
a missing s3s-fs fails the test, elsewhere it skips it."""

import os
import pathlib
import socket
import subprocess
import time

import pytest

from conftest import IN_CI

ACCESS_KEY = "ardoise-e2e"
SECRET_KEY = "secret-e2e-jamais-journalise"
BUCKET = "ardoise-messages"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


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

    def objects_folder(self) -> pathlib.Path:
        return self.root / BUCKET / "objects"


@pytest.fixture
def bucket(tmp_path):
    """An S3 server with its bucket, and the `[blob]` lines that name it (URL and key file)."""
    s3 = S3(tmp_path)
    credentials = tmp_path / "s3.cle"
    credentials.write_text(f"access_key_id = {ACCESS_KEY}\nsecret_access_key = {SECRET_KEY}\n")
    credentials.chmod(0o600)
    section = (f'url = "s3://{BUCKET}?endpoint=http://127.0.0.1:{s3.port}"\n'
               f'credentials = "{credentials}"')
    yield s3, section
    s3.stop()
