"""The server's certificate from an ACME server (issue 24, item 4), end to end against
Debian's pebble (RFC 8555 test CA) with pebble-challtestsrv as its DNS (every name
resolves to 127.0.0.1). Pebble really fetches the HTTP-01 answer from Ardoise's web
listener and rejects 5 % of nonces, as it does by default.

- at start Ardoise orders a certificate for mx.ac-test.fr and every TLS port presents
  it, its chain verifying up to pebble's root;
- restarted with pebble gone, the kept certificate is served at once, without a new order;
- an unreachable ACME server: the server starts with its own certificate, logs the
  failure, keeps serving;
- the challenge path answers 404 for a token no order asked for;
- TLS-ALPN-01 (RFC 8737): pebble checks the names on Ardoise's HTTPS listener (its
  `tlsPort`) with ALPN `acme-tls/1`, its HTTP-01 port left closed; chosen by
  `challenge = "tls-alpn-01"`, or by `auto` on a server with no plain web listener
  (renewing a kept certificate near its end); other HTTPS clients are served as before.
"""

import json
import socket
import ssl
import subprocess
import time
import urllib.request

import pytest

from conftest import Server, require_tool

HOST = "mx.ac-test.fr"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc, what: str, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited: {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{what} did not listen on {port}")


def make_ca(root):
    """A CA and a leaf for 127.0.0.1/localhost: pebble's own HTTPS listener."""
    openssl = require_tool("openssl")
    ca_key, ca, key, csr, cert = (root / n for n in ("ca.key", "ca.pem", "key.pem", "leaf.csr", "cert.pem"))
    run = lambda *a: subprocess.run([openssl, *map(str, a)], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key,
        "-out", ca, "-days", "2", "-subj", "/CN=Ardoise test ACME listener CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=localhost")
    ext = root / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
        "-extfile", ext)
    return ca, cert, key


class Pebble:
    def __init__(self, root, http_port: int, tls_port: int = None):
        require_tool("pebble")
        require_tool("pebble-challtestsrv")
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.ca, cert, key = make_ca(root)
        self.port, self.mgmt, dns, chall_mgmt = free_port(), free_port(), free_port(), free_port()
        self.dns = dns
        (root / "pebble.json").write_text(json.dumps({"pebble": {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.mgmt}",
            "certificate": str(cert), "privateKey": str(key),
            "httpPort": http_port, "tlsPort": tls_port or free_port(),
            "ocspResponderURL": "", "externalAccountBindingRequired": False,
        }}))
        self.log = open(root / "pebble.log", "ab")
        self.dns_proc = subprocess.Popen(
            ["pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", f"127.0.0.1:{dns}",
             "-http01", "", "-https01", "", "-tlsalpn01", "", "-management", f"127.0.0.1:{chall_mgmt}"],
            stdout=self.log, stderr=self.log)
        wait_port(chall_mgmt, self.dns_proc, "pebble-challtestsrv")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["pebble", "-config", str(self.root / "pebble.json"), "-dnsserver", f"127.0.0.1:{self.dns}",
             "-strict", "false"],
            stdout=self.log, stderr=self.log, env={"PEBBLE_VA_NOSLEEP": "1", "PATH": "/usr/bin:/bin"})
        wait_port(self.port, self.proc, "pebble")

    @property
    def directory(self) -> str:
        return f"https://127.0.0.1:{self.port}/dir"

    def root_pem(self) -> str:
        """The root of the chains pebble issues (random at each start)."""
        ctx = ssl.create_default_context(cafile=str(self.ca))
        with urllib.request.urlopen(f"https://127.0.0.1:{self.mgmt}/roots/0", context=ctx, timeout=10) as r:
            return r.read().decode()

    def stop(self):
        for p in (self.proc, self.dns_proc):
            if p and p.poll() is None:
                p.terminate()
                p.wait(10)


@pytest.fixture
def pebble_and_server(tmp_path):
    http_port = free_port()
    pebble = Pebble(tmp_path / "pebble", http_port)
    server = Server(tmp_path / "ardoise")
    # The web listener on the port pebble validates HTTP-01 at (port 80 in production).
    text = server.config.read_text().replace('[web]\nlisten = ["127.0.0.1:0"]', f'[web]\nlisten = ["127.0.0.1:{http_port}"]')
    text += (f'\n[acme]\ndirectory = "{pebble.directory}"\nroot_certificate = "{pebble.ca}"\n'
             f'contact = ["postmaster@ac-test.fr"]\nnames = ["{HOST}"]\n')
    server.config.write_text(text)
    yield pebble, server
    server.cleanup()
    pebble.stop()


def presented(port: int, cafile: str = None, cadata: str = None):
    """The certificate presented on `port` for HOST, verified against the given root
    when one is given (else not verified): (subject, issuer) or the DER bytes."""
    ctx = ssl.create_default_context(cafile=cafile, cadata=cadata)
    if cafile is None and cadata is None:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), 5) as raw:
        with ctx.wrap_socket(raw, server_hostname=HOST) as tls:
            return tls.getpeercert(binary_form=True), tls.getpeercert()


def wait_for_pebble_certificate(port: int, root: str, timeout: float = 90):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            return presented(port, cadata=root)
        except (ssl.SSLError, OSError) as e:
            last = e
            time.sleep(0.5)
    raise AssertionError(f"no certificate from pebble on {port} within {timeout} s: {last}")


def test_a_certificate_is_obtained_served_on_every_port_and_kept(pebble_and_server):
    pebble, server = pebble_and_server
    server.start()
    root = pebble.root_pem()
    der, info = wait_for_pebble_certificate(server.imaps_port, root)
    # Verified up to pebble's root for the host name, on every TLS port.
    names = [v for k, v in info["subjectAltName"] if k == "DNS"]
    assert names == [HOST], info
    issuer = dict(x[0] for x in info["issuer"])
    assert "Pebble" in issuer.get("commonName", ""), info
    assert presented(server.submissions_port, cadata=root)[0] == der
    # Kept in the data folder: the key private, the account for later orders.
    acme = server.data / "acme"
    assert (acme / "key.pem").stat().st_mode & 0o777 == 0o600
    assert (acme / "account.json").exists()
    log = (server.root / "server.log").read_text(errors="replace")
    assert "ACME: certificate in service" in log, log[-3000:]
    assert "BEGIN" not in log, "no key or certificate in the log"

    # Restarted with the ACME server gone: the kept certificate at once, no new order.
    server.stop()
    pebble.stop()
    server.start()
    assert presented(server.imaps_port)[0] == der
    log = (server.root / "server.log").read_text(errors="replace")
    assert log.count("ACME: ordering a certificate") == 1, log[-3000:]


def test_an_unreachable_acme_server_leaves_the_servers_own_certificate(pebble_and_server):
    pebble, server = pebble_and_server
    pebble.stop()
    server.start()
    # Serving, with the generated certificate, and saying why.
    der, _ = presented(server.imaps_port)
    own = (server.data / "tls" / "cert.pem").read_text()
    assert der == ssl.PEM_cert_to_DER_cert(own)
    deadline = time.time() + 30
    while "no new certificate" not in (server.root / "server.log").read_text(errors="replace"):
        assert time.time() < deadline, "the ACME failure was not logged"
        time.sleep(0.2)
    assert server.alive()
    # The challenge path: nothing asked for, nothing answered.
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}/.well-known/acme-challenge/abc", timeout=5)
    assert e.value.code == 404


def test_a_kept_certificate_near_its_end_is_renewed(pebble_and_server, tmp_path):
    pebble, server = pebble_and_server
    # renew_before is 30 days by default.
    old = keep_near_its_end(server)
    server.start()
    wait_for_pebble_certificate(server.imaps_port, pebble.root_pem())
    assert (server.data / "acme" / "cert.pem").read_text() != old


def https_presented(port: int, alpn=None):
    """The leaf presented on `port` for HOST to a client offering `alpn` (not verified),
    and the protocol negotiated."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), 5) as raw:
        with ctx.wrap_socket(raw, server_hostname=HOST) as tls:
            return tls.getpeercert(binary_form=True), tls.selected_alpn_protocol()


def keep_near_its_end(server):
    """What an earlier order left: a certificate for the host with 5 days left."""
    acme = server.data / "acme"
    acme.mkdir(parents=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(acme / "key.pem"), "-out", str(acme / "cert.pem"), "-days", "5",
                    "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}"], check=True, capture_output=True)
    return (acme / "cert.pem").read_text()


@pytest.mark.parametrize("challenge", ["tls-alpn-01", "auto"])
def test_tls_alpn_01_on_the_https_listener(tmp_path, challenge):
    https_port = free_port()
    # Nothing listens on pebble's HTTP-01 port: only TLS-ALPN-01 can prove the name.
    pebble = Pebble(tmp_path / "pebble", free_port(), tls_port=https_port)
    server = Server(tmp_path / "ardoise")
    try:
        plain = '["127.0.0.1:0"]' if challenge == "tls-alpn-01" else "[]"
        text = server.config.read_text().replace(
            '[web]\nlisten = ["127.0.0.1:0"]', f'[web]\nlisten = {plain}\nlisten_tls = ["127.0.0.1:{https_port}"]')
        text += (f'\n[acme]\ndirectory = "{pebble.directory}"\nroot_certificate = "{pebble.ca}"\n'
                 f'contact = ["postmaster@ac-test.fr"]\nnames = ["{HOST}"]\nchallenge = "{challenge}"\n')
        server.config.write_text(text)
        old = keep_near_its_end(server) if challenge == "auto" else None
        server.start()
        root = pebble.root_pem()
        der, info = wait_for_pebble_certificate(server.imaps_port, root)
        assert [v for k, v in info["subjectAltName"] if k == "DNS"] == [HOST]
        log = (server.root / "server.log").read_text(errors="replace")
        answered = [line for line in log.splitlines() if "ACME: challenge answered" in line]
        assert len(answered) == 1 and "tls-alpn-01" in answered[0], log[-3000:]
        if old is not None:
            assert (server.data / "acme" / "cert.pem").read_text() != old
        # The HTTPS listener presents it too, verified, with or without ALPN, and serves HTTP.
        assert presented(https_port, cadata=root)[0] == der
        assert https_presented(https_port, ["h2", "http/1.1"]) == (der, "http/1.1")
        assert https_presented(https_port) == (der, None)
        ctx = ssl.create_default_context(cadata=root)
        ctx.check_hostname = False
        with urllib.request.urlopen(f"https://127.0.0.1:{https_port}/healthz", context=ctx, timeout=5) as r:
            assert r.status == 200
        # The order is over: an acme-tls/1 hello finds no validation certificate.
        with pytest.raises(ssl.SSLError):
            https_presented(https_port, ["acme-tls/1"])
        assert server.alive()
    finally:
        server.cleanup()
        pebble.stop()
