"""R10's clients: loading by PUT, the unmeasured check of each workload's answers, and the measured
run (client processes, one keep-alive http.client connection each, a common start and deadline)."""

import base64
import http.client
import multiprocessing
import os
import re
import resource
import statistics
import threading
import time

from .harness import procmon

RESPONSE = re.compile(rb"<(?:[\w.-]+:)?response[\s>]")
TOKEN = re.compile(rb"<(?:[\w.-]+:)?sync-token>\s*([^<\s]+)\s*<")


class Conn:
    """One keep-alive HTTP/1.1 connection with Basic auth; reconnects after a failure."""

    def __init__(self, port: int, user: str, password: str):
        self.port = port
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.c = None

    def send(self, method: str, path: str, body: bytes | None, headers: dict | None = None,
             retry: bool = True) -> tuple[int, bytes]:
        h = {"Authorization": self.auth, **(headers or {})}
        for attempt in ((0, 1) if retry else (1,)):
            if self.c is None:
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.c.request(method, path, body=body, headers=h)
                r = self.c.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, data
            except (http.client.HTTPException, OSError):
                self.close()
                # A keep-alive connection the server closed while idle is retried once, a fresh one is not.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def connect(self) -> int:
        """Opens the connection ahead of the measured requests (a client keeps it), retrying a refused or
        reset connect (a listen backlog overflowing when 20 clients connect at once); returns the retries."""
        for retries in range(10):
            try:
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                self.c.connect()
                return retries
            except OSError:
                self.close()
                time.sleep(0.1 * (retries + 1))
        raise OSError(f"cannot connect to 127.0.0.1:{self.port}")

    def close(self) -> None:
        if self.c is not None:
            self.c.close()
            self.c = None


def load(side, user: str, password: str, events: list, cards: list, threads: int = 8, files: bool = False) -> dict:
    """Everything by PUT (If-None-Match: *), `threads` at a time; every status must be 201 or 204.
    With `files`, the side writes the objects into its storage itself (Radicale: one file per item)."""
    side.prepare(Conn(side.port, user, password))
    if files:
        t0 = time.monotonic()
        side.write_files(events, cards)
        wall = time.monotonic() - t0
        return {"method": "files written into the collection folders", "events": len(events), "cards": len(cards),
                "seconds": round(wall, 2)}
    out = {"method": f"PUT, {threads} connections"}
    for what, base, items, ctype in (("events", side.calendar, events, "text/calendar; charset=utf-8"),
                                     ("cards", side.book, cards, "text/vcard; charset=utf-8")):
        todo = list(enumerate(items))
        lock, failures = threading.Lock(), []

        def put_some():
            conn = Conn(side.port, user, password)
            while True:
                with lock:
                    if not todo or failures:
                        return
                    _, (name, body) = todo.pop()
                try:
                    status, text = conn.send("PUT", base + name, body, {"Content-Type": ctype, "If-None-Match": "*"})
                except OSError as e:
                    status, text = 0, str(e).encode()
                if status not in (201, 204):
                    with lock:
                        failures.append(f"PUT {name}: {status} {text[:300]!r}")

        t0 = time.monotonic()
        ts = [threading.Thread(target=put_some) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if failures:
            raise RuntimeError(f"{side.name}: loading {what} failed: {failures[0]}")
        wall = time.monotonic() - t0
        out[what] = {"count": len(items), "seconds": round(wall, 2), "per_s": round(len(items) / wall, 1)}
    return out


def count_items(body: bytes) -> int:
    return len(RESPONSE.findall(body))


def check(side, user: str, password: str, spec: dict) -> list[bytes]:
    """Sends each body once, unmeasured, and checks the status and item count; returns the bodies to
    rotate through (for the incremental sync: one carrying the token of a full sync made here)."""
    conn = Conn(side.port, user, password)
    path = side.calendar if spec["target"] == "calendar" else side.book
    bodies = spec["bodies"]
    if bodies == "latest-token":
        from .r10_data import SYNC
        status, text = conn.send("REPORT", path, SYNC.format(token="").encode(), {"Content-Type": "application/xml"})
        m = TOKEN.search(text)
        if status != 207 or not m:
            raise RuntimeError(f"{side.name}: full sync-collection gave {status} and no token: {text[:300]!r}")
        bodies = [SYNC.format(token=m.group(1).decode()).encode()]
    for body, want in zip(bodies, spec["items"]):
        status, text = conn.send(spec["method"], path, body, headers(spec))
        got = count_items(text)
        if status != 207 or got != want:
            raise RuntimeError(f"{side.name}: {spec['method']} {path} gave {status} with {got} items, {want} "
                               f"expected; body {body[:400]!r}; answer {text[:600]!r}")
    conn.close()
    return bodies


def headers(spec: dict) -> dict:
    h = {"Content-Type": "application/xml; charset=utf-8"}
    if spec["depth"] is not None:
        h["Depth"] = spec["depth"]
    return h


def _client(job: tuple) -> dict:
    port, user, password, method, path, hdrs, bodies, first, start_at, deadline = job
    conn = Conn(port, user, password)
    lat, errors, first_error = [], 0, None
    i = first
    connect_retries = conn.connect()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < deadline:
        body = bodies[i % len(bodies)]
        i += 1
        t0 = time.perf_counter()
        # A request still running at the deadline is abandoned, neither counted nor an error: the run
        # lasts `seconds`, whatever a slow side's latency.
        if conn.c is not None and conn.c.sock is not None:
            conn.c.sock.settimeout(max(0.001, deadline - time.time()))
        try:
            status, text = conn.send(method, path, body, hdrs, retry=False)
        except OSError as e:
            if time.time() >= deadline - 0.01:
                break
            status, text = 0, str(e).encode()
        lat.append((time.perf_counter() - t0) * 1000)
        if status != 207:
            errors += 1
            first_error = first_error or f"{status} {text[:200]!r}"
    conn.close()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu": ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime, "lat": lat, "errors": errors,
            "first_error": first_error, "connect_retries": connect_retries}


def settle(side, timeout: float = 300.0) -> float:
    """Waits until the server is idle (under 5 % of a core over 0.5 s): abandoned requests finish
    before the next run starts. Returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        c0 = procmon.cpu_seconds(side.roots())
        time.sleep(0.5)
        if procmon.cpu_seconds(side.roots()) - c0 < 0.025:
            break
    return round(time.monotonic() - t0, 2)


def run_workload(side, user: str, password: str, spec: dict, clients: int, seconds: float) -> dict:
    """`clients` processes for `seconds`; requests/s = completed requests / (last answer - start)."""
    bodies = check(side, user, password, spec)
    path = side.calendar if spec["target"] == "calendar" else side.book
    start_at = time.time() + 1.0
    jobs = [(side.port, user, password, spec["method"], path, headers(spec), bodies, k, start_at, start_at + seconds)
            for k in range(clients)]
    ctx = multiprocessing.get_context("fork")
    cpu0 = procmon.cpu_seconds(side.roots())
    with ctx.Pool(clients) as pool, procmon.MemSampler(side.roots) as mem:
        res = pool.map(_client, jobs, chunksize=1)
    cpu = procmon.cpu_seconds(side.roots()) - cpu0
    lat = sorted(x for r in res for x in r["lat"])
    wall = seconds
    settled = settle(side)
    errors = sum(r["errors"] for r in res)
    return {
        "requests": len(lat), "seconds": round(wall, 3), "requests_per_s": round(len(lat) / wall, 2),
        "p50_ms": round(statistics.median(lat), 2) if lat else 0.0,
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2) if lat else 0.0,
        "errors": errors, "connect_retries": sum(r["connect_retries"] for r in res),
        "first_error": next((r["first_error"] for r in res if r["first_error"]), None),
        "peak_rss_kib": mem.peak_rss, "peak_pss_kib": mem.peak_pss, "peak_anon_kib": mem.peak_anon, "cpu_s": round(cpu, 2),
        # The clients share the machine: when they use most of a core the server may be starved of one.
        "client_cpu_s": round(sum(r["cpu"] for r in res), 2), "settle_s": settled,
        "loadavg_1min": round(os.getloadavg()[0], 2),
    }
