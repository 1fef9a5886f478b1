"""Where Ardoise's CPU goes while it stores and indexes R7's corpus (for bench/notes.md):

    python3 -m bench.harness.profile_r7 --binary PATH --imapload PATH [--messages 3000] [--no-strace]

Ardoise alone, `imapload bigbox` under `perf record -e cpu-clock -g` (then a first SEARCH, which
commits the index), `imapload fetchall --repeat 2` under perf too, then `strace -c -f` on a
second load of the same size (unless --no-strace). Writes
bench/out/profile-r7-*.txt."""

import argparse
import os
import shutil
import subprocess
import tempfile
import time

from . import procmon, r47

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--imapload", required=True)
    p.add_argument("--messages", type=int, default=3000)
    p.add_argument("--no-strace", action="store_true", help="skip the second load under strace (slow at 100,000)")
    a = p.parse_args()
    out = os.path.join(HERE, "out")
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="ardoise-profile-r7-", dir="/var/tmp")
    srv = r47.ArdoiseR47(work, a.binary, [r47.BIG_USER], 1000)
    summary = []
    load = lambda: r47.imapload(a.imapload, srv.imap_port, "bigbox", r47.BIG_USER, 1,
                                ["--messages", str(a.messages), "--clients", "4", "--window", "32"])
    try:
        srv.setup()
        srv.start()
        data = f"{out}/profile-r7-perf.data"
        pr = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-g", "-F", "499", "-o", data, "-p",
                               str(srv.proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        cpu0 = procmon.cpu_seconds(srv.roots())
        r = load()
        cpu = procmon.cpu_seconds(srv.roots()) - cpu0
        pr.send_signal(2)
        pr.wait()
        summary.append(f"under perf: {a.messages} messages, {r['load_per_second']:.0f} msg/s, server CPU {cpu:.1f} s "
                       f"({a.messages / cpu:.0f} msg per CPU-s), first search {r['first_search']['seconds']:.2f} s")
        for name, args in (("perf", ["--no-children", "--sort", "dso,symbol", "--percent-limit", "0.7"]),
                           ("perf-children", ["--children", "--sort", "symbol", "--percent-limit", "2"])):
            with open(f"{out}/profile-r7-{name}.txt", "w") as f:
                subprocess.run(["perf", "report", "-i", data, "--stdio", "-g", "none", *args], stdout=f,
                               stderr=subprocess.DEVNULL)
        # SELECT + UID FETCH 1:* (FLAGS ENVELOPE), twice, under perf.
        data = f"{out}/profile-r7-fetch-perf.data"
        pr = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-g", "-F", "499", "-o", data, "-p",
                               str(srv.proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        cpu0 = procmon.cpu_seconds(srv.roots())
        r = r47.imapload(a.imapload, srv.imap_port, "fetchall", r47.BIG_USER, 1, ["--repeat", "2"])
        cpu = procmon.cpu_seconds(srv.roots()) - cpu0
        pr.send_signal(2)
        pr.wait()
        summary.append(f"fetchall under perf: {[round(x['seconds'], 2) for x in r['runs']]} s for "
                       f"{r['runs'][0]['messages']} messages, server CPU {cpu:.1f} s for both")
        for name, args in (("fetch-perf", ["--no-children", "--sort", "dso,symbol", "--percent-limit", "0.7"]),
                           ("fetch-perf-children", ["--children", "--sort", "symbol", "--percent-limit", "2"])):
            with open(f"{out}/profile-r7-{name}.txt", "w") as f:
                subprocess.run(["perf", "report", "-i", data, "--stdio", "-g", "none", *args], stdout=f,
                               stderr=subprocess.DEVNULL)
        # UID SEARCH TEXT over the query list, under perf.
        data = f"{out}/profile-r7-search-perf.data"
        pr = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-g", "-F", "499", "-o", data, "-p",
                               str(srv.proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        cpu0 = procmon.cpu_seconds(srv.roots())
        r = r47.imapload(a.imapload, srv.imap_port, "search", r47.BIG_USER, 1, ["--repeat", "1"])
        cpu = procmon.cpu_seconds(srv.roots()) - cpu0
        pr.send_signal(2)
        pr.wait()
        summary.append(f"search under perf: p50 {r['latency']['p50_ms']:.1f} ms, p99 {r['latency']['p99_ms']:.1f} ms "
                       f"over {r['queries']} words, server CPU {cpu:.1f} s")
        for name, args in (("search-perf", ["--no-children", "--sort", "dso,symbol", "--percent-limit", "0.7"]),
                           ("search-perf-children", ["--children", "--sort", "symbol", "--percent-limit", "2"])):
            with open(f"{out}/profile-r7-{name}.txt", "w") as f:
                subprocess.run(["perf", "report", "-i", data, "--stdio", "-g", "none", *args], stdout=f,
                               stderr=subprocess.DEVNULL)
        if not a.no_strace:
            st = subprocess.Popen(["strace", "-c", "-f", "-o", f"{out}/profile-r7-strace.txt", "-p", str(srv.proc.pid)],
                                  stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            r = load()
            st.terminate()
            st.wait()
            summary.append(f"under strace -c -f: {a.messages} more messages, {r['load_per_second']:.0f} msg/s")
    finally:
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)
    with open(f"{out}/profile-r7.txt", "w") as f:
        f.write("\n".join(summary) + "\n")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
