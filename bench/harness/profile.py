"""Cheap profile of Ardoise under the R5 load (used for the analysis in bench/notes.md):

    python3 -m bench.harness.profile --binary PATH [--size 5120] [--sessions 20] [--messages 2000]

Runs the R5 cell against a fresh Ardoise: plain (baseline), under `strace -T` for
fsync/fdatasync latency (`--fsync-only` stops there), under `strace -c -f` (syscall
counts and time per message), and under `perf record -g` (top symbols, if perf is usable). Writes bench/out/profile-*.txt.

    python3 -m bench.harness.profile --binary PATH --hygiene [--size 76800]

profiles Ardoise with hygiene on as bench.r5_hygiene runs it (scorer, ten Sieve rules, clamd): perf only."""

import argparse
import os
import shutil
import subprocess
import tempfile
import time

from . import r5, servers

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--size", type=int, default=5120)
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--messages", type=int, default=2000)
    p.add_argument("--fsync-only", action="store_true", help="only the fsync latency step")
    p.add_argument("--dwarf", action="store_true",
                   help="call graphs from DWARF (for a `cargo build --profile profiling` binary, which has line tables "
                        "but no frame pointers); the report then shows callers")
    p.add_argument("--hygiene", action="store_true",
                   help="Ardoise with hygiene on, as bench.r5_hygiene runs it (scorer, ten Sieve rules, clamd); perf only")
    a = p.parse_args()
    out = os.path.join(HERE, "out")
    os.makedirs(out, exist_ok=True)
    tag = f"{a.size}x{a.sessions}" + ("-hygiene" if a.hygiene else "")
    users = servers.accounts(20)
    work = tempfile.mkdtemp(prefix="ardoise-profile-", dir="/var/tmp")
    clamd = None
    if a.hygiene:
        from .. import r5_hygiene  # the same clamd and server set-up as the benchmark
        clamd = r5_hygiene.Clamd(work)
        clamd.start()
        srv = r5_hygiene.ArdoiseHygiene(work, a.binary, users, clamd)
    else:
        srv = servers.Ardoise(work, a.binary, users)
    try:
        srv.setup()
        srv.start()
        base = r5.one_rep(srv, users, a.size, a.sessions, a.messages, 300)
        print("baseline", base)
        if a.hygiene:
            perf(srv, users, a, out, tag)
            return
        # fsync latency: how much of the single-session wall time is spent waiting for the disk
        lat = f"{out}/profile-fsync-{tag}.log"
        st = subprocess.Popen(["strace", "-f", "-T", "-e", "trace=fsync,fdatasync", "-o", lat, "-p", str(srv.proc.pid)],
                              stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        n_lat = max(a.sessions, a.messages // 4)
        timed = r5.one_rep(srv, users, a.size, a.sessions, n_lat, 600)
        st.terminate()
        st.wait()
        durs = sorted(float(l.rsplit("<", 1)[1].rstrip(">\n")) for l in open(lat) if l.rstrip().endswith(">"))
        if durs:
            summary = (f"{len(durs)} fsync/fdatasync for {n_lat} messages ({len(durs) / n_lat:.1f} per message); "
                       f"p50 {durs[len(durs) // 2] * 1000:.2f} ms, p99 {durs[int(len(durs) * 0.99)] * 1000:.2f} ms, "
                       f"total {sum(durs):.2f} s of {timed['seconds']} s wall ({timed['messages_per_second']} msg/s under strace)")
            print("fsync:", summary)
            with open(f"{out}/profile-fsync-{tag}.txt", "w") as f:
                f.write(summary + "\n")
        if a.fsync_only:
            return
        st = subprocess.Popen(["strace", "-c", "-f", "-o", f"{out}/profile-strace-{tag}.txt", "-p", str(srv.proc.pid)])
        time.sleep(0.5)
        traced = r5.one_rep(srv, users, a.size, a.sessions, a.messages, 600)
        st.terminate()
        st.wait()
        print("under strace", traced)
        perf(srv, users, a, out, tag)
    finally:
        srv.stop()
        if clamd:
            clamd.stop()
        shutil.rmtree(work, ignore_errors=True)


def perf(srv, users: list[str], a, out: str, tag: str) -> None:
    """`perf record -g` of the server under one more repetition: top symbols, self and children."""
    if not shutil.which("perf"):
        print("perf not found: no profile")
        return
    data = f"{out}/profile-perf-{tag}.data"
    graph = ["--call-graph", "dwarf,32768", "-F", "299"] if a.dwarf else ["-g", "-F", "999"]
    pr = subprocess.Popen(["perf", "record", *graph, "-o", data, "-p", str(srv.proc.pid)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    perfed = r5.one_rep(srv, users, a.size, a.sessions, a.messages, 600)
    pr.send_signal(2)
    pr.wait()
    print("under perf", perfed)
    with open(f"{out}/profile-perf-{tag}.txt", "w") as f:
        subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,symbol",
                        "--stdio", "-g", "none", "--percent-limit", "0.7"], stdout=f, stderr=subprocess.DEVNULL)
    with open(f"{out}/profile-perf-children-{tag}.txt", "w") as f:
        subprocess.run(["perf", "report", "-i", data, "--children", "--sort", "symbol",
                        "--stdio", "-g", "none", "--percent-limit", "2"], stdout=f, stderr=subprocess.DEVNULL)
    if a.dwarf:
        with open(f"{out}/profile-perf-callers-{tag}.txt", "w") as f:
            subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "symbol", "--stdio",
                            "-g", "caller,0.5,callee,function,percent", "--percent-limit", "1.5"],
                           stdout=f, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
