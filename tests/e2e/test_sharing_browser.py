"""« Partage de fichiers » at full size in headless Chromium (issue 22, « Verified by »): Claire
uploads a 300 MB file of random bytes from the webmail's share page (partage.js, tus 1.0) through a
small TCP relay of the test's. A third of the way in, the relay cuts the connection the way a lost
network does: Chromium's side is reset and new connections refused for a few seconds, while the
server's side stays open (silent) a little longer, so the server is still writing the cut piece
when the page comes back (tus answers 423 then). The page says it is resuming, waits for the
server, and goes on from the offset the server gives (its answers, read on the wire), which lies
inside the cut piece: what arrived of it was kept, nothing was sent from zero again. An outsider
with no account downloads the file with curl, cut after 50 MB and resumed with `curl -C -`: the
sha256 matches. Claire's page then shows the download in its journal.

The size is ARDOISE_E2E_SHARE_MB (default 300, the issue's: about 20 s in a debug build)."""

import hashlib
import os
import re
import socket
import subprocess
import threading
import time

import pytest

from conftest import DOMAIN, IN_CI, require_tool

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # pragma: no cover - depends on the machine
    if IN_CI:
        raise
    pytest.skip(f"selenium not installed: {e}", allow_module_level=True)

from test_web_identity import PASSWORD, base, browser, web_login, wait_path  # noqa: F401

CLAIRE = f"claire.martin@{DOMAIN}"
MB = 1024 * 1024
SIZE = int(os.environ.get("ARDOISE_E2E_SHARE_MB", "300")) * MB
# The relay cuts once this many bytes went from Chromium to the server (a third of the file).
CUT_AT = SIZE // 3
# Chromium's side stays refused this long; the server's side of the cut connections stays open
# (silent) longer: the page's retries find the server still writing the cut piece.
DOWN_S, HELD_S = 2.5, 6.0
# SO_LINGER on, 0 s: close() resets the connection.
RESET = (1).to_bytes(4, "little") + (0).to_bytes(4, "little")
PATCH = re.compile(rb"PATCH (/partage/televersement/[0-9A-Za-z_-]+) HTTP/1\.1\r\n((?:[^\r\n]*\r\n){0,40}?)\r\n")
REPLY = re.compile(rb"HTTP/1\.1 (\d{3}) [^\r\n]*\r\n((?:[^\r\n]*\r\n){0,40}?)\r\n")


class Relay:
    """A TCP relay from a local port to the server's web port, which can cut every connection
    through it. It notes, in order, each PATCH request that goes up (its upload and Upload-Offset)
    and each answer that comes down (its status, and its Upload-Offset if any)."""

    def __init__(self, target_port: int):
        self.target = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.pairs = []
        self.up = True
        self.sent = 0  # bytes from the browser to the server
        self.events = []  # ("PATCH", upload path, offset) and ("reply", status, offset or None)
        self.cut_at_event = None
        # Sockets of cut connections: their pumps leave them to `cut` (no orderly shutdown).
        self.dropped = set()
        self.on_bytes = None
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                # Refused, as a dropped network would: reset at once.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)
                client.close()
                continue
            server = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _note(self, seen, tail_len, upward):
        """Notes the requests or answers that end in `seen` past its first `tail_len` bytes
        (the previous piece's end, kept so that a head split in two is still found)."""
        for m in (PATCH if upward else REPLY).finditer(seen):
            if m.end() <= tail_len:
                continue  # noted with the previous piece
            offset = re.search(rb"(?im)^upload-offset:\s*(\d+)", m.group(2))
            offset = int(offset.group(1)) if offset else None
            with self.lock:
                self.events.append(("PATCH" if upward else "reply", m.group(1).decode(), offset))

    def _pump(self, src, dst, upward):
        tail = b""
        try:
            while True:
                data = src.recv(256 * 1024)
                if not data:
                    break
                seen = tail + data
                self._note(seen, len(tail), upward)
                tail = seen[-400:]
                if upward:
                    with self.lock:
                        self.sent += len(data)
                    if self.on_bytes:
                        self.on_bytes(self.sent)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                if s in self.dropped:
                    continue
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self, held_s: float):
        """Drops the browser's side of every connection now (a reset), refuses new ones until
        `restore`, and closes the server's side only after `held_s` seconds."""
        with self.lock:
            self.up = False
            pairs, self.pairs = self.pairs, []
            self.cut_at_event = len(self.events)
            for pair in pairs:
                self.dropped.update(pair)
        for client, _ in pairs:
            try:
                # Wakes the pump reading it; closing with a zero linger then sends a reset.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)
                client.shutdown(socket.SHUT_RD)
                client.close()
            except OSError:
                pass

        def later():
            time.sleep(held_s)
            for _, server in pairs:
                try:
                    server.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                server.close()

        threading.Thread(target=later, daemon=True).start()

    def restore(self):
        self.up = True

    def close(self):
        self.closed = True
        self.listener.close()
        with self.lock:
            for pair in self.pairs:
                for s in pair:
                    s.close()


def test_a_300_mb_upload_in_chromium_survives_a_cut_and_an_outsider_resumes_the_download(server, browser, tmp_path):
    curl = require_tool("curl")
    server.create("claire.martin", password=PASSWORD)
    server.start()
    relay = Relay(server.http_port)
    try:
        path = tmp_path / "Sujets du brevet blanc.bin"
        digest = hashlib.sha256()
        with open(path, "wb") as f:
            for _ in range(SIZE // MB):
                piece = os.urandom(MB)
                digest.update(piece)
                f.write(piece)
        expected = digest.hexdigest()

        front = f"http://127.0.0.1:{relay.port}"
        web_login(browser, server_at(front), CLAIRE, PASSWORD)
        wait_path(browser, "/courrier")
        browser.get(front + "/courrier/partage")
        browser.find_element(By.ID, "partage-fichier").send_keys(str(path))

        cut = threading.Event()

        def watch(sent):
            if sent >= CUT_AT and not cut.is_set():
                cut.set()
                relay.cut(HELD_S)

        relay.on_bytes = watch
        browser.find_element(By.ID, "partage-envoyer").click()
        assert cut.wait(300), f"only {relay.sent} bytes went up"
        assert int(browser.find_element(By.ID, "partage-barre").get_attribute("value")) >= 25
        before = [e for e in relay.events[:relay.cut_at_event] if e[0] == "PATCH"]
        assert before and before[0][2] == 0, before
        upload_path = before[-1][1]
        time.sleep(DOWN_S)
        # While the browser is cut off, the page says it is resuming.
        message = browser.find_element(By.ID, "partage-message").text
        assert "reprise" in message, message
        relay.restore()

        def finished(d):
            if re.search(r"/courrier/partage/\d+$", d.current_url):
                return True
            said = d.find_element(By.ID, "partage-message").text
            assert "échoué" not in said, f"the page gave up: {said}"
            return False

        WebDriverWait(browser, 600, poll_frequency=1).until(finished)
        after = relay.events[relay.cut_at_event:]
        # The server was still writing the cut piece when the page came back (423), and the page
        # waited for it rather than giving up.
        assert ("reply", "423", None) in after, after[:10]
        # The page's first piece after the cut starts where the server said it stood (the answer
        # to its HEAD just before), beyond the start of the cut piece: the server kept the part of
        # it that arrived. No piece after the cut starts at zero.
        first = next(i for i, e in enumerate(after) if e[0] == "PATCH")
        said = [e for e in after[:first] if e[0] == "reply" and e[1] == "200" and e[2] is not None]
        assert said, after[:first + 1]
        assert after[first][1] == upload_path and after[first][2] == said[-1][2] > before[-1][2], (
            before[-1], after[:first + 1])
        assert all(e[2] > 0 for e in after if e[0] == "PATCH"), after
        # In all, the browser sent about the file once (the cut piece's lost tail again), not twice.
        assert relay.sent < SIZE + 16 * MB, relay.sent
        log = (server.root / "server.log").read_text(errors="replace")
        assert "upload piece ended early; kept what arrived" in log

        assert browser.find_element(By.ID, "partage-etat").get_attribute("data-etat") == "actif"
        link = browser.find_element(By.ID, "partage-lien").get_attribute("value")
        file_url = base(server) + "/partage/" + link.rsplit("/partage/", 1)[1] + "/fichier"

        # An outsider: curl, cut after 50 MB, then `curl -C -` resumes.
        target = tmp_path / "telecharge.bin"
        subprocess.run([curl, "-sS", "-f", "-r", f"0-{50 * MB - 1}", "-o", str(target), file_url],
                       check=True, timeout=120)
        assert target.stat().st_size == 50 * MB
        out = subprocess.run([curl, "-sS", "-f", "-C", "-", "-D", "-", "-o", str(target), file_url],
                             check=True, timeout=600, capture_output=True, text=True)
        assert " 206 " in out.stdout.splitlines()[0], out.stdout
        assert "filename*=UTF-8''Sujets%20du%20brevet%20blanc.bin" in out.stdout, out.stdout
        digest = hashlib.sha256()
        with open(target, "rb") as f:
            for piece in iter(lambda: f.read(MB), b""):
                digest.update(piece)
        assert digest.hexdigest() == expected

        # Claire's page shows the download in its journal.
        browser.refresh()
        journal = WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "partage-journal"))
        assert "127.0.0.1" in journal.text, journal.text
    finally:
        relay.close()


class server_at:
    """What web_login needs of a server (`http_port`), for the relay's port."""

    def __init__(self, front):
        self.http_port = int(front.rsplit(":", 1)[1])
