"""R5: inbound SMTP delivered into mailboxes, Ardoise vs Postfix -> Dovecot LMTP -> Maildir.

Each cell (message size x concurrent sessions) sends N messages with Debian's
smtp-source: S parallel lanes, lane i sending N/S messages to its own recipient agentNN
over one session at a time (`-d`: one transaction after another on the same connection),
reconnecting every PER_CONNECTION messages. The clock starts before the first connection and stops when the server's
mailboxes hold all N new messages (Maildir new/+cur/ file count for Dovecot; rows in
`messages` for Ardoise), polled every 20 ms. One unmeasured warm-up of WARMUP_MESSAGES first. Cells are interleaved (ours, reference,
ours, ...) so that drift on a shared machine hits both sides alike.
"""

import os
import statistics
import subprocess
import threading
import time

from . import procmon

SENDER = "drh@rectorat.example.org"
# Messages per SMTP connection before the client reconnects. Both servers see the same
# pattern; it also stays under Ardoise's default [smtp] max_commands = 1000 per session.
PER_CONNECTION = 100
WARMUP_MESSAGES = 200


def one_rep(server, users: list[str], size: int, sessions: int, messages: int, timeout: float) -> dict:
    base = server.delivered()
    per = [messages // sessions + (1 if i < messages % sessions else 0) for i in range(sessions)]
    cpu0 = procmon.cpu_seconds(server.roots())
    each0 = {r: procmon.cpu_seconds([r]) for r in server.roots()}
    with procmon.MemSampler(server.roots) as mem:
        t0 = time.monotonic()
        errs: list[str] = []

        def lane(i: int, n: int) -> None:
            # one session at a time per lane, reconnecting every PER_CONNECTION messages
            while n > 0 and not errs:
                k = min(n, PER_CONNECTION)
                p = subprocess.run(
                    ["smtp-source", "-d", "-s", "1", "-l", str(size), "-m", str(k), "-M", "bench-client.example.org",
                     "-f", SENDER, "-t", users[i % len(users)], f"127.0.0.1:{server.smtp_port}"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                if p.returncode != 0:
                    errs.append(p.stderr.strip())
                n -= k

        lanes = [threading.Thread(target=lane, args=(i, n)) for i, n in enumerate(per) if n]
        for t in lanes:
            t.start()
        for t in lanes:
            t.join()
        t_accepted = time.monotonic()
        if errs:
            raise RuntimeError(f"smtp-source failed against {server.name}: {errs[:3]}")
        t_done = procmon.wait_for(lambda: server.delivered() - base >= messages, timeout)
    cpu = procmon.cpu_seconds(server.roots()) - cpu0
    # Each root's own share (with its children): which process of a side spent the CPU.
    each = {procmon.name(r): round(procmon.cpu_seconds([r]) - c0, 3) for r, c0 in each0.items()}
    got = server.delivered() - base
    secs = t_done - t0
    return {
        "messages": messages, "delivered": got, "seconds": round(secs, 3),
        "accepted_seconds": round(t_accepted - t0, 3),
        "messages_per_second": round(messages / secs, 1),
        "cpu_seconds": round(cpu, 3), "cpu_seconds_per_1000": round(cpu * 1000 / messages, 3),
        "cpu_seconds_by_process": each,
        "loadavg_1min": round(os.getloadavg()[0], 2),
        "peak_pss_kib": mem.peak_pss, "peak_rss_kib": mem.peak_rss, "peak_processes": mem.peak_procs,
    }


def median_of(reps: list[dict]) -> dict:
    keys = ["seconds", "accepted_seconds", "messages_per_second", "cpu_seconds", "cpu_seconds_per_1000",
            "peak_pss_kib", "peak_rss_kib", "peak_processes"]
    return {k: statistics.median(r[k] for r in reps) for k in keys}


def run(servers: list, users: list[str], cells: list[tuple[int, int, int]], reps: int, log) -> list[dict]:
    results = []
    # Unmeasured warm-up on each side (Postfix spawns its daemons, Dovecot its lmtp, caches fill).
    for s in servers:
        one_rep(s, users, 5120, 20, WARMUP_MESSAGES, timeout=120.0)
    for size, sessions, messages in cells:
        per_server = {s.name: [] for s in servers}
        for rep in range(reps):
            for s in servers:
                r = one_rep(s, users, size, sessions, messages, timeout=max(120.0, messages * 0.5))
                per_server[s.name].append(r)
                log(f"R5 size={size} sessions={sessions} n={messages} rep={rep + 1} {s.name}: "
                    f"{r['messages_per_second']} msg/s, {r['cpu_seconds_per_1000']} cpu-s/1000, "
                    f"peak PSS {r['peak_pss_kib'] // 1024} MiB")
        results.append({
            "workload": "R5", "size": size, "sessions": sessions, "messages": messages,
            "servers": {name: {"median": median_of(reps_), "reps": reps_} for name, reps_ in per_server.items()},
        })
    return results
