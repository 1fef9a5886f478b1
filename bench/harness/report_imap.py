"""The IMAP part of BENCHMARKS.md (R1, R2, R3) and its plots, from bench/out/latest-imap-<mode>.json."""

import os

OURS, REF = "ardoise", "dovecot"
TARGETS = {"R1": 1.5, "R3": 1.5, "R2": 1.0}


def check(doc: dict) -> list[str]:
    """Both sides ran and produced numbers (the only thing the smoke check asserts)."""
    problems = []
    for c in doc["cells"]:
        for side in (OURS, REF):
            m = c["servers"].get(side, {}).get("median", {})
            if not m.get("rate"):
                problems.append(f"{c['name']}: no number for {side}")
    return problems


def _plot(doc: dict, cells: list[dict], key: str, ylabel: str, title: str, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4), dpi=90)
    x = range(len(cells))
    labels = [c["name"].split(" ", 1)[1] for c in cells]
    for ax, k, t in ((a1, key, ylabel), (a2, "cpu_ms_per_command", "server CPU ms per command (lower is better)")):
        for off, side, name, color in ((-0.2, OURS, "Ardoise", "#2b6cb0"), (0.2, REF, "Dovecot", "#c05621")):
            meds = [c["servers"][side]["median"][k] for c in cells]
            vals = [[(r["by_command"].get(c["kind"], {}).get("per_second", 0) if k == "rate" and c["kind"]
                      else r["commands_per_second"] if k == "rate" else r[k]) for r in c["servers"][side]["reps"]]
                    for c in cells]
            lo = [max(0, m - min(v)) for m, v in zip(meds, vals)]
            hi = [max(0, max(v) - m) for m, v in zip(meds, vals)]
            ax.bar([i + off for i in x], meds, 0.4, label=name, color=color, yerr=[lo, hi], capsize=3)
        ax.set_xticks(list(x), labels, fontsize=8)
        ax.set_title(t, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    a1.legend(fontsize=8)
    fig.suptitle(f"{title}, median of {doc['reps']} ({doc['machine']['date'][:10]}, {doc['machine']['nproc']} cores)",
                 fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path)


PLOTS = [("R1", "r1-imap-mix.png", "commands/s (higher is better)", "R1 IMAP mixed load (imaptest mix)"),
         ("R2", "r2-imap-logins.png", "logins/s (higher is better)", "R2 IMAP logins, argon2id"),
         ("R3", "r3-imap-append.png", "APPENDs/s (higher is better)", "R3 durable APPEND of 75 KB")]


def plots(doc: dict, plot_dir: str) -> None:
    for wl, fname, ylabel, title in PLOTS:
        cells = [c for c in doc["cells"] if c["name"].startswith(wl + " ")]
        if cells:
            _plot(doc, cells, "rate", ylabel, title, os.path.join(plot_dir, fname))


def _row(c: dict, date: str, uncached: dict | None) -> str:
    o, r = c["servers"][OURS]["median"], c["servers"][REF]["median"]
    wl = c["name"].split(" ")[0]
    ratio = o["rate"] / r["rate"] if r["rate"] else float("inf")
    target = TARGETS[wl]
    met = "met" if ratio >= target else "missed"
    if "cache" in c["name"] and "no cache" not in c["name"] and uncached:
        u = lambda side: c["servers"][side]["median"]["rate"] / uncached["servers"][side]["median"]["rate"]
        met += (f"; cached >= 5x uncached: {'met' if u(OURS) >= 5 else 'missed'} (ours {u(OURS):.2f}x, "
                f"Dovecot {u(REF):.2f}x)")
    if wl == "R1":
        met += ", fewer CPU/cmd" if o["cpu_ms_per_command"] < r["cpu_ms_per_command"] else ", more CPU/cmd"
    spread = lambda side: (f" ({min(_rates(c, side)):.0f}–{max(_rates(c, side)):.0f})"
                           if len(_rates(c, side)) > 1 else "")
    unit = "cmd/s" if not c["kind"] else f"{c['kind']}/s"
    errs = lambda m: f"{m['protocol_errors']:.0f} / {m['consistency_errors']:.0f} / {m['aborted_sessions']:.0f}"
    when = f", {c['seconds']:.0f} s" + (f", run of {c['date']}" + (f", commit {c['commit']}" if c.get("commit") else "")
                                        if c.get("date", date) != date else "")
    return (f"| {c['name']}{when} | {o['rate']:.1f} {unit}{spread(OURS)} | {r['rate']:.1f}{spread(REF)} | "
            f"**{ratio:.2f}x** | {target}x: {met} | {o['cpu_ms_per_command']:.2f} / {r['cpu_ms_per_command']:.2f} | "
            f"{o['p50_ms']:.1f} / {r['p50_ms']:.1f} | {o['p99_ms']:.1f} / {r['p99_ms']:.1f} | "
            f"{o['peak_pss_kib'] / 1024:.0f} / {r['peak_pss_kib'] / 1024:.0f} | {errs(o)} | {errs(r)} |")


def _rates(c: dict, side: str) -> list[float]:
    k = c["kind"]
    return [r["by_command"].get(k, {}).get("per_second", 0) if k else r["commands_per_second"]
            for r in c["servers"][side]["reps"]]


def _kinds(rep: dict) -> dict:
    """Error counts by kind (numbers replaced by N); older reports only kept a sample of messages."""
    if "errors_by_kind" in rep:
        return rep["errors_by_kind"]
    import re
    out: dict = {}
    for m in rep.get("errors", []):
        k = re.sub(r"[0-9]+", "N", m) + " (sample)"
        out[k] = out.get(k, 0) + 1
    return out


def errors_section(doc: dict) -> str:
    lines = []
    for c in doc["cells"]:
        for side, label in ((OURS, "Ardoise"), (REF, "Dovecot")):
            total: dict = {}
            for r in c["servers"][side]["reps"]:
                for k, n in _kinds(r).items():
                    total[k] = total.get(k, 0) + n
            if total:
                top = sorted(total.items(), key=lambda kv: -kv[1])[:6]
                lines.append(f"- {c['name']}, {label}: " + "; ".join(f"`{k}` x{n}" for k, n in top))
    if not lines:
        return ""
    return ("Errors found, summed over the repetitions (most frequent kinds; numbers shown as N; the "
            "analysis below says which are real):\n\n" + "\n".join(lines) + "\n")


# The write commands of R1's mix, as imapload names them, and what each is.
WRITES = [("STORE", "STORE +/-FLAGS"), ("DELETE", "STORE +FLAGS \\Deleted"), ("EXPUNGE", "EXPUNGE"),
          ("APPEND", "APPEND")]


def _pcts(c: dict, side: str, kind: str) -> str:
    """Median over the repetitions of each of p50, p90 and p99 of one command kind, in ms."""
    import statistics
    reps = [r["by_command"][kind] for r in c["servers"][side]["reps"] if kind in r["by_command"]]
    if not reps:
        return "-"
    return " / ".join(f"{statistics.median(k[p] for k in reps):.1f}" for p in ("p50_ms", "p90_ms", "p99_ms"))


def write_latency(doc: dict) -> str:
    """R1's write commands: latency percentiles per command kind, both sides (issue 18 item 10)."""
    cells = [c for c in doc["cells"] if c["name"].startswith("R1 ")]
    rows = []
    for c in cells:
        for kind, label in WRITES:
            if any(kind in r["by_command"] for r in c["servers"][OURS]["reps"]):
                rows.append(f"| {c['name']} | {label} | {_pcts(c, OURS, kind)} | {_pcts(c, REF, kind)} |")
    if not rows:
        return ""
    return "\n".join([
        "Write commands under R1's mix, latency in ms (p50 / p90 / p99, each the median over the repetitions; "
        "the client waits for each answer, and an answer comes only once the change is durable on both sides):\n",
        "| cell | command | Ardoise p50 / p90 / p99 | Dovecot p50 / p90 / p99 |",
        "|---|---|---|---|",
        *rows,
        "",
    ])


def _loads(doc: dict) -> str:
    v = [r["loadavg_1min"] for c in doc["cells"] for s in (OURS, REF) for r in c["servers"][s]["reps"]]
    return f"{min(v):.1f} to {max(v):.1f}" if v else "?"


def section(doc: dict, plot_prefix: str) -> str:
    m = doc["machine"]
    out = [
        "<!-- imap:begin -->",
        "## R1, R2, R3: IMAP against Dovecot imapd\n",
        f"Run of {m['date']} ({doc['mode']} mode, {doc['reps']} repetition{'s' if doc['reps'] > 1 else ''} per "
        f"cell, sides interleaved), {m['cpu']}, `nproc` = {m['nproc']}, Linux {m['kernel']}; Ardoise "
        f"{doc['versions'][OURS]}, commit {doc['commit']} (release build); {doc['versions'][REF]} (Debian). "
        "The duration of each repetition is in the first column"
        + (f"; rows marked with another date were measured in an earlier run ({doc['earlier_run']}) with the "
           "same settings" if doc.get("earlier_run") else "") + ".\n",
        f"1-minute load average at the end of each repetition: {_loads(doc)} (the load generator and the "
        "server share the 2 cores; at 100 clients the runnable threads alone make a high load average). Absolute "
        "rates are noisy; the ratios of interleaved repetitions are what count.\n",
        "Load generator: `imapload` (crates/imapload, ours), imaptest's documented default mix: each session "
        "connects, LOGIN (100%), LIST (50%), STATUS (50%), SELECT INBOX, FETCH of up to 100 random messages with "
        "1-4 random items (ENVELOPE, BODYSTRUCTURE, FLAGS, header fields...), FETCH2 of one body or header (100%, "
        "again 30%), STORE +/-FLAGS (50%), STORE +FLAGS \\Deleted then EXPUNGE (100%), APPEND while the mailbox "
        "holds < 30 messages (100%, again 5%), LOGOUT. Not run: imaptest's COPY (33%). One command at a time per "
        "client (no pipelining). Every answer is checked: BAD, unexpected NO, missing BYE are protocol errors; "
        "EXISTS going down, EXPUNGE/FETCH of a message that is not there, a requested FETCH item missing, a STORE "
        "that does not show its flag, a `\\Deleted` message surviving EXPUNGE, no EXISTS after an APPEND into the "
        "selected mailbox, a body or size differing from what was APPENDed are consistency errors.\n",
        "Both sides: 20 accounts `agent01..agent20@ac-test.fr` with the **same argon2id hashes** (OWASP: m=19 MiB, "
        "t=2, p=1; Ardoise's own, copied into Dovecot's passwd-file as `{ARGON2ID}`), the same 25 seeded messages "
        "per INBOX (`imapload seed`), plain IMAP on loopback, durable writes (Ardoise: fsync + SQLite "
        "`synchronous=FULL`; Dovecot: `mail_fsync = always`, Maildir). Dovecot otherwise runs its built-in "
        "defaults (imap-login in its default high-security mode, one process per login).\n",
        f"![R1 plot]({plot_prefix}r1-imap-mix.png)\n",
        f"![R2 plot]({plot_prefix}r2-imap-logins.png)\n",
        f"![R3 plot]({plot_prefix}r3-imap-append.png)\n",
        "| cell | Ardoise (range) | Dovecot (range) | **ratio** | target | CPU ms/command (ours / ref) | "
        "p50 ms (ours / ref) | p99 ms (ours / ref) | peak PSS MiB (ours / ref) | errors ours: protocol / "
        "consistency / aborted sessions | errors Dovecot |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    uncached = next((c for c in doc["cells"] if "no cache" in c["name"]), None)
    out += [_row(c, m["date"], uncached) for c in doc["cells"]]
    out.append("")
    out.append("p50/p99 are of all commands for R1, of APPEND for R3 and of LOGIN for R2. R1, R3 and the first "
               "R2 row run Ardoise with its credential cache off (`[web] credential_cache = 0`): every LOGIN "
               "verifies argon2id on both sides. The second R2 row turns a cache on on both sides: Ardoise's "
               "default (a successful check remembered 5 minutes, keyed by a MAC of the secret) and Dovecot's "
               "`auth_cache_size = 10M` (which caches the passdb lookup and still verifies argon2id against the "
               "cached hash). The R2 cache target (cached >= 5x uncached) compares each side with itself.\n")
    writes = write_latency(doc)
    if writes:
        out.append(writes)
    errs = errors_section(doc)
    if errs:
        out.append(errs)
    out.append("Exact commands (PORT: Ardoise's ephemeral IMAP port or Dovecot's 1143; the password comes from "
               "`$IMAPLOAD_PASSWORD`):\n")
    out.append("```sh")
    seen = set()
    for c in doc["cells"]:
        cmd = c["servers"][OURS]["reps"][0]["command"]
        cmd = " ".join("imapload" if i == 0 else w for i, w in enumerate(cmd.split()))
        cmd = cmd.replace(cmd.split("--addr ")[1].split()[0], "127.0.0.1:PORT")
        if cmd not in seen:
            seen.add(cmd)
            out.append(cmd)
    out.append("imapload seed --addr 127.0.0.1:PORT --user 'agent{n:02}@ac-test.fr' --accounts 20 --clients 10 "
               "--seed 2026 --messages 25 --size 4096   # before the runs, on both sides")
    out.append("```\n")
    out.append("<!-- imap:end -->")
    return "\n".join(out)
