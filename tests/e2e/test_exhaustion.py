"""Resource exhaustion without logging in (issue 25, item 13): connections that
send half a request must not take the process's file descriptors from the other
services. The server runs under a lowered descriptor limit (256, soft and hard,
so it cannot raise it) and is sent more partial HTTP requests than that; a
normal client from another address must still get the login page, the SMTP
greeting and the IMAP greeting. The waits are generous: this checks service,
not speed."""

import http.client
import resource
import socket
import subprocess
import time
from unittest import mock

import conftest

NOFILE = 256
# More than the whole descriptor table of the server.
ATTACKERS = 320
# Long enough for a loaded machine; the server's header timeout is shorter.
PATIENCE = 60


def start_with_nofile(server, nofile: int):
    """Starts `server` with RLIMIT_NOFILE lowered to `nofile` (soft and hard)."""
    real_popen = subprocess.Popen

    def lower():
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    def popen(*args, **kwargs):
        kwargs.setdefault("preexec_fn", lower)
        return real_popen(*args, **kwargs)

    with mock.patch.object(conftest.subprocess, "Popen", popen):
        server.start()
    with open(f"/proc/{server.proc.pid}/limits") as f:
        line = next(l for l in f if l.startswith("Max open files"))
    assert line.split()[3:5] == [str(nofile), str(nofile)], line


def partial_requests(port: int, count: int) -> list:
    """Opens `count` connections that each send an unfinished request head."""
    held = []
    for i in range(count):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(f"GET /connexion?n={i} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode())
        except OSError:
            # The server refusing or closing is what it should do; keep going.
            pass
        held.append(s)
    return held


def until(what, check):
    """Retries `check` until it returns a true value or PATIENCE runs out."""
    deadline = time.time() + PATIENCE
    last = None
    while time.time() < deadline:
        try:
            got = check()
            if got:
                return got
        except OSError as e:
            last = e
        time.sleep(0.5)
    raise AssertionError(f"{what} not served within {PATIENCE} s (last error: {last!r})")


def login_page(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=("127.0.0.2", 0))
    try:
        conn.request("GET", "/connexion")
        resp = conn.getresponse()
        body = resp.read()
        return resp.status == 200 and b"<form" in body
    finally:
        conn.close()


def greeting(port: int) -> bytes:
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=("127.0.0.2", 0))
    try:
        return s.recv(512)
    finally:
        s.close()


def test_partial_http_requests_do_not_exhaust_descriptors(server):
    start_with_nofile(server, NOFILE)
    held = partial_requests(server.http_port, ATTACKERS)
    try:
        assert until("the login page", lambda: login_page(server.http_port))
        smtp = until("the SMTP greeting", lambda: greeting(server.smtp_port))
        assert smtp.startswith(b"220 "), smtp
        imap = until("the IMAP greeting", lambda: greeting(server.imap_port))
        assert imap.startswith(b"* OK"), imap
        assert server.alive()
    finally:
        for s in held:
            s.close()
    log = (server.root / "server.log").read_text(errors="replace")
    # Accept failures back off instead of spinning: a few warnings at most.
    assert log.count("accept failed") < 200, log[-2000:]
