"""Cheap profile of Ardoise under the IMAP workloads (for the analysis in bench/notes.md):

    python3 -m bench.harness.profile_imap --binary PATH --imapload PATH [--workload append] [--clients 20] [--seconds 15]
        [--credential-cache 5m]

`perf stat -e instructions` is not available on this VM, so, as bench/harness/profile.py does for R5:
a plain run (baseline), a run under `strace -c -f` (syscalls per command), and a run under
`perf record -e cpu-clock -g` (where the CPU goes). Writes bench/out/profile-imap-<workload>-*.txt."""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

from . import imap, servers

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--imapload", required=True)
    p.add_argument("--workload", default="append", choices=["append", "mix", "login"])
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--credential-cache", default="0", help="Ardoise's [web] credential_cache (default 0: off)")
    a = p.parse_args()
    out = os.path.join(HERE, "out")
    os.makedirs(out, exist_ok=True)
    tag = f"{a.workload}x{a.clients}" + ("" if a.credential_cache == "0" else "-cache")
    extra = ["--size", "76800"] if a.workload == "append" else []
    work = tempfile.mkdtemp(prefix="ardoise-profile-imap-", dir="/var/tmp")
    srv = imap.ArdoiseImap(work, a.binary, servers.accounts(20))
    srv.credential_cache = a.credential_cache
    summary = []

    def note(name: str, r: dict) -> None:
        status = dict(l.split(":", 1) for l in open(f"/proc/{srv.proc.pid}/status") if ":" in l)
        line = (f"{name}: {r['commands_per_second']:.1f} commands/s, cpu {r['cpu_seconds']:.2f} s "
                f"({r['cpu_ms_per_command']:.2f} ms/command), peak PSS {r['peak_pss_kib'] // 1024} MiB, "
                f"errors {r['protocol_errors']}/{r['consistency_errors']}; afterwards the process has "
                f"{status['Threads'].strip()} threads and VmRSS {status['VmRSS'].strip()}")
        print(line, flush=True)
        summary.append(line)

    try:
        srv.setup()
        srv.start()
        imap.imapload(a.imapload, srv, "seed", 10, 1, ["--messages", "25", "--size", "4096"])
        note("baseline", imap.imapload(a.imapload, srv, a.workload, a.clients, a.seconds, extra))
        st = subprocess.Popen(["strace", "-c", "-f", "-o", f"{out}/profile-imap-strace-{tag}.txt", "-p",
                               str(srv.proc.pid)], stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        r = imap.imapload(a.imapload, srv, a.workload, a.clients, a.seconds, extra)
        st.terminate()
        st.wait()
        note("under strace -c -f", r)
        summary.append(f"commands under strace: {r['commands']}")
        if shutil.which("perf"):
            data = f"{out}/profile-imap-perf-{tag}.data"
            pr = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-g", "-F", "999", "-o", data, "-p",
                                   str(srv.proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            note("under perf", imap.imapload(a.imapload, srv, a.workload, a.clients, a.seconds, extra))
            pr.send_signal(2)
            pr.wait()
            with open(f"{out}/profile-imap-perf-{tag}.txt", "w") as f:
                subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,symbol", "--stdio",
                                "-g", "none", "--percent-limit", "0.7"], stdout=f, stderr=subprocess.DEVNULL)
            with open(f"{out}/profile-imap-perf-children-{tag}.txt", "w") as f:
                subprocess.run(["perf", "report", "-i", data, "--children", "--sort", "symbol", "--stdio",
                                "-g", "none", "--percent-limit", "2"], stdout=f, stderr=subprocess.DEVNULL)
    finally:
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)
    with open(f"{out}/profile-imap-{tag}.txt", "w") as f:
        f.write("\n".join(summary) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
