#!/usr/bin/env python3
"""The webmail on an old computer over a slow line (issue 19, "Performance on
old computers"): headless Chromium driven through the DevTools protocol, CPU
slowed 4x (Emulation.setCPUThrottlingRate) and the network shaped like a slow
school line (Network.emulateNetworkConditions: 400 ms round trip, 1.6 Mbit/s
down, 750 kbit/s up). Measured, each as the median of RUNS page loads:

- inbox usable: from the start of the navigation to the end of
  DOMContentLoaded (the rows are in the server's HTML; the deferred script
  that makes them interactive has run by then), with the first row checked
  present and its link focusable;
- message readable: the same for a message's page, plus its body present;
- bytes transferred (HTML + CSS + JS, Resource Timing's transferSize, so
  what came from the cache counts 0) on a first visit (cache emptied) and on
  a repeat visit (cache kept).

Usage: python3 bench/webmail_slow.py [--bin PATH] [--runs N] [--messages N] [--json FILE]
The binary defaults to $ARDOISE_BIN, else $CARGO_TARGET_DIR/debug/ardoise.
It starts its own server (ephemeral ports, a temporary data folder, SQLite),
fills an Inbox over SMTP, and only talks to 127.0.0.1.
"""

import argparse
import json
import os
import smtplib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CPU_SLOWDOWN = 4
NETWORK = {
    "offline": False,
    "latency": 400,  # ms, round trip
    "downloadThroughput": 1_600_000 / 8,  # bytes/s
    "uploadThroughput": 750_000 / 8,
}
PASSWORD = "Banc-Lent-2026!"

TIMING = """
const nav = performance.getEntriesByType('navigation')[0];
const all = [nav].concat(performance.getEntriesByType('resource'));
const kinds = {html: 0, css: 0, js: 0, other: 0};
for (const e of all) {
  const t = e.transferSize || 0;
  const name = e.name.split('?')[0];
  if (e === nav) kinds.html += t;
  else if (name.endsWith('.css')) kinds.css += t;
  else if (name.endsWith('.js')) kinds.js += t;
  else kinds.other += t;
}
return {dcl: nav.domContentLoadedEventEnd - nav.startTime, load: nav.loadEventEnd - nav.startTime,
        bytes: kinds, decoded: all.reduce((s, e) => s + (e.decodedBodySize || 0), 0)};
"""


def make_driver():
    opts = Options()
    opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--lang=fr-FR", "--window-size=1366,768"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=opts)


def slow_down(driver):
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", NETWORK)


def full_speed(driver):
    driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": 1})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                           {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def visit(driver, url, check):
    driver.get(url)
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")
    check(driver)
    return driver.execute_script(TIMING)


def inbox_ready(driver):
    row = driver.find_element(By.CSS_SELECTOR, "table#messages tbody tr td.objet a")
    driver.execute_script("arguments[0].focus()", row)
    assert driver.switch_to.active_element == row, "the first row's link takes the focus"


def message_ready(driver):
    body = driver.find_element(By.ID, "corps")
    assert body.text.strip(), "the body is shown"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.environ.get("ARDOISE_BIN"))
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--messages", type=int, default=120)
    p.add_argument("--json")
    args = p.parse_args()
    if args.bin:
        os.environ["ARDOISE_BIN"] = args.bin
    import conftest  # the e2e tests' Server: same config, ephemeral ports

    with tempfile.TemporaryDirectory(prefix="ardoise-lent-") as tmp:
        server = conftest.Server(Path(tmp) / "srv")
        claire = server.create("claire.martin", password=PASSWORD)
        server.start()
        try:
            with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=60) as s:
                for i in range(args.messages):
                    body = ("Bonjour,\r\n\r\nVoici le point %d de l'ordre du jour du conseil de classe.\r\n" % i) * 4
                    raw = (f"From: Paul Durand <paul.durand@{conftest.DOMAIN}>\r\nTo: {claire}\r\n"
                           f"Subject: Conseil de classe, point {i}\r\nMIME-Version: 1.0\r\n"
                           f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}").encode()
                    s.sendmail(f"paul.durand@{conftest.DOMAIN}", [claire], raw)
            base = f"http://127.0.0.1:{server.http_port}"
            driver = make_driver()
            try:
                driver.get(base + "/connexion")
                driver.find_element(By.ID, "login").send_keys(claire)
                driver.find_element(By.ID, "password").send_keys(PASSWORD)
                driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
                WebDriverWait(driver, 30).until(lambda d: d.current_url.rstrip("/").endswith("/courrier"))
                message = driver.find_element(By.CSS_SELECTOR, "table#messages tbody tr td.objet a").get_attribute("href")
                slow_down(driver)
                first, repeat, read = [], [], []
                for _ in range(args.runs):
                    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
                    first.append(visit(driver, base + "/courrier", inbox_ready))
                    repeat.append(visit(driver, base + "/courrier", inbox_ready))
                    read.append(visit(driver, message, message_ready))
                full_speed(driver)
            finally:
                driver.quit()
        finally:
            server.cleanup()

    def med(runs, key):
        return statistics.median(r[key] for r in runs)

    def total(r):
        return sum(r["bytes"].values())

    result = {
        "profile": {"cpu_slowdown": CPU_SLOWDOWN, "latency_ms": NETWORK["latency"],
                    "down_kbit_s": NETWORK["downloadThroughput"] * 8 / 1000,
                    "up_kbit_s": NETWORK["uploadThroughput"] * 8 / 1000},
        "runs": args.runs,
        "messages_in_inbox": args.messages,
        "inbox_usable_first_ms": round(med(first, "dcl")),
        "inbox_usable_repeat_ms": round(med(repeat, "dcl")),
        "message_readable_ms": round(med(read, "load")),
        "inbox_bytes_first": round(statistics.median(total(r) for r in first)),
        "inbox_bytes_repeat": round(statistics.median(total(r) for r in repeat)),
        "inbox_bytes_first_by_kind": first[len(first) // 2]["bytes"],
        "inbox_bytes_repeat_by_kind": repeat[len(repeat) // 2]["bytes"],
        "inbox_decoded_bytes": round(statistics.median(r["decoded"] for r in first)),
        "message_bytes_repeat": round(statistics.median(total(r) for r in read)),
        "binary": os.environ.get("ARDOISE_BIN", "(conftest default)"),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    ok = result["inbox_usable_repeat_ms"] < 1000 and result["inbox_bytes_repeat"] < 100_000
    print("targets (inbox usable < 1 s, < 100 KB after the first visit):", "met" if ok else "missed")


if __name__ == "__main__":
    main()
