"""The R4 and R7 part of BENCHMARKS.md and their plots, from bench/out/latest-r47-<mode>.json."""

import math
import os
import statistics

OURS, REF, SCAN = "ardoise", "dovecot", "dovecot-scan"


def pct(v: list[float], p: float) -> float:
    v = sorted(v)
    return v[min(len(v), max(1, math.ceil(p * len(v)))) - 1] if v else 0.0


def search_samples(runs: list[dict]) -> list[float]:
    return [ms for r in runs for lst in r["per_word_ms"].values() for ms in lst]


def check(doc: dict) -> list[str]:
    problems = []
    if "r7" in doc:
        r7 = doc["r7"]
        for side in (OURS, REF):
            ld = r7["load"].get(side)
            if not ld or not ld.get("load_per_second"):
                problems.append(f"R7: no load figure for {side}")
            elif ld["errors"]:
                problems.append(f"R7 load {side}: {ld['errors'][:2]}")
            if not r7["fetchall"].get(side) or not search_samples(r7["search"].get(side, [])):
                problems.append(f"R7: no FETCH/SEARCH figure for {side}")
            for r in r7["fetchall"].get(side, []) + r7["search"].get(side, []):
                if r["errors"]:
                    problems.append(f"R7 {r['workload']} {side}: {r['errors'][:2]}")
    if "r4" in doc:
        for r in doc["r4"]["rows"]:
            if not r["established"] or not r["exists_latency"].get("count"):
                problems.append(f"R4 {r['label']}: no connections or no EXISTS measured")
    return problems


def _bars(ax, labels, values, colors, title):
    ax.bar(range(len(values)), values, 0.6, color=colors)
    ax.set_xticks(range(len(values)), labels, fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.grid(axis="y", alpha=0.3)


COLORS = {"ardoise": "#2b6cb0", "dovecot": "#c05621", "dovecot-scan": "#dd6b20", "hib": "#9c4221",
          "hib-hp": "#7b341e"}


def plots(doc: dict, plot_dir: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(plot_dir, exist_ok=True)
    when = f"({doc['machine']['date'][:10]}, {doc['machine']['nproc']} cores)"
    if "r7" in doc:
        r7 = doc["r7"]
        fig, axes = plt.subplots(1, 3, figsize=(12, 4), dpi=90)
        _bars(axes[0], ["Ardoise", "Dovecot\n+fts-xapian"],
              [r7["load"][s]["searchable_per_second"] for s in (OURS, REF)], [COLORS[OURS], COLORS[REF]],
              "load + index, msg/s until searchable\n(higher is better)")
        _bars(axes[1], ["Ardoise", "Dovecot"],
              [statistics.median(r["median_seconds"] for r in r7["fetchall"][s]) for s in (OURS, REF)],
              [COLORS[OURS], COLORS[REF]], "SELECT + UID FETCH 1:* (FLAGS ENVELOPE), s\n(lower is better)")
        sides = [s for s in (OURS, REF, SCAN) if r7["search"].get(s)]
        names = {OURS: "Ardoise", REF: "Dovecot\n+fts-xapian", SCAN: "Dovecot\nno fts (scan)"}
        x = range(len(sides))
        for off, p, alpha in ((-0.2, 0.5, 1.0), (0.2, 0.99, 0.5)):
            axes[2].bar([i + off for i in x], [pct(search_samples(r7["search"][s]), p) for s in sides], 0.4,
                        color=[COLORS[s] for s in sides], alpha=alpha, label=f"p{int(p * 100)}")
        axes[2].set_xticks(list(x), [names[s] for s in sides], fontsize=7)
        axes[2].set_yscale("log")
        axes[2].set_title("UID SEARCH TEXT latency, ms (log; lower is better)\nsolid p50, light p99", fontsize=9)
        axes[2].grid(axis="y", alpha=0.3)
        fig.suptitle(f"R7 large mailbox, {r7['messages']:,} messages {when}", fontsize=10)
        fig.tight_layout()
        fig.savefig(os.path.join(plot_dir, "r7-bigbox.png"))
    if "r4" in doc:
        rows = doc["r4"]["rows"]
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4), dpi=90)
        labels = [r["label"].replace(", ", "\n").replace(" (", "\n(") for r in rows]
        colors = [COLORS[OURS] if r is rows[0] else COLORS["hib-hp"] if "high-performance" in r["label"]
                  else COLORS["hib"] if "hibernat" in r["label"] else COLORS[REF] for r in rows]
        _bars(a1, labels, [r["kib_per_connection"] for r in rows], colors,
              "server PSS per idle TLS connection, KiB (lower is better)")
        a1.axhline(16, color="gray", ls="--", lw=1)
        _bars(a2, labels, [r["exists_latency"].get("p99_ms", 0) for r in rows], colors,
              "EXISTS after APPEND, p99 ms (lower is better)")
        a2.axhline(1000, color="gray", ls="--", lw=1)
        fig.suptitle(f"R4 {doc['r4']['connections']:,} connections in IDLE {when}", fontsize=10)
        fig.tight_layout()
        fig.savefig(os.path.join(plot_dir, "r4-idle.png"))


def _cmd(r: dict) -> str:
    words = r["command"].split()
    words[0] = "imapload"
    return " ".join("127.0.0.1:PORT" if w.startswith("127.0.0.1:") else w for w in words)


def _bulk_rows(r7: dict, lo: dict) -> list[str]:
    """When Dovecot got part of the mailbox as Maildir files: say so, and give its indexing rate;
    and both sides' indexing alone (`doveadm index`, `ardoise search reindex`)."""
    b, o = r7.get("bulk", {}).get(REF), r7.get("bulk", {}).get(OURS)
    rows = []
    if b:
        shown = b["command"].replace(b["command"].split()[2], "dovecot.conf").replace(
            "mail_plugins=fts fts_xapian", "'mail_plugins=fts fts_xapian'")
        rows.append(
            f"| (the rows above are Dovecot's first {b['first']:,} messages, by APPEND; the other {b['messages']:,} "
            f"were written as Maildir files and indexed by `{shown}`) | | | | |")
    if o:
        ours_rate = o["messages_per_cpu_second"]
        verdict = "met" if ours_rate >= 1000 else "**missed**"
        what = (f"| indexing alone, msg per CPU-second: Ardoise rebuilds its whole index from the stored messages "
                f"(`{o['command']}`, server stopped, {o['messages']:,} messages, {o['index_seconds']:.1f} s wall)")
        if b:
            what += f"; Dovecot: Maildir sync + fts-xapian of {b['messages']:,} messages, {b['index_seconds']:.0f} s wall"
            cells = f" | {ours_rate:.0f} | {b['messages_per_cpu_second']:.0f} | " \
                    f"**{ours_rate / b['messages_per_cpu_second']:.2f}x** | >= 1,000: {verdict} |"
        else:
            cells = f" | {ours_rate:.0f} | | | >= 1,000: {verdict} |"
        rows.append(what + cells)
    elif b:
        rows.append(
            f"| Dovecot bulk indexing (Maildir sync + fts-xapian, no fsync, no IMAP): msg per CPU-second, "
            f"{b['index_seconds']:.0f} s wall | | {b['messages_per_cpu_second']:.0f} | "
            f"**{lo['messages_per_cpu_second'] / b['messages_per_cpu_second']:.2f}x** (ours by APPEND) | |")
    return rows


def _r7(doc: dict, plot_prefix: str) -> list[str]:
    r7 = doc["r7"]
    n = r7["messages"]
    lo, lr = r7["load"][OURS], r7["load"][REF]
    fo = [r["median_seconds"] for r in r7["fetchall"][OURS]]
    fr = [r["median_seconds"] for r in r7["fetchall"][REF]]
    so, sr = search_samples(r7["search"][OURS]), search_samples(r7["search"][REF])
    ss = search_samples(r7["search"].get(SCAN, []))
    rounds = len(r7["search"][OURS])
    nq = r7["search"][OURS][0]["queries"]
    fm, frm = statistics.median(fo), statistics.median(fr)
    verdict = lambda ok: "met" if ok else "**missed**"
    out = [
        f"### R7: large mailbox, {n:,} messages (date {r7.get('date', doc['machine']['date'])})\n",
        f"One account, `bigbox@ac-test.fr`, loaded on both sides with the same {n:,} messages "
        f"({lo['corpus_bytes'] / 1e6:.0f} MB; `imapload bigbox`: 4 connections, 32 APPENDs in flight each with "
        "LITERAL+): French subjects and bodies drawn from a 330-word school-administration vocabulary with a "
        "Zipf-like frequency, accents included (UTF-8, 8bit), one message in five with a base64 PDF attachment "
        "named after two words (`reunion-bulletin-17.pdf`). Dovecot: Debian's `dovecot-fts-xapian` "
        "(`fts = xapian`, `fts_xapian = partial=3 full=20`, `fts_autoindex = yes`, `fts_enforced = yes`), the "
        "rest as in R1-R3; the last SEARCH row restarts it without the fts plugins, so that it scans the "
        "messages (Dovecot's built-in behaviour). Ardoise: its defaults (tantivy index fed at delivery).\n",
        f"![R7 plot]({plot_prefix}r7-bigbox.png)\n",
        "| measure | Ardoise | Dovecot + fts-xapian | **ratio** (Ardoise speed / Dovecot's) | target |",
        "|---|---|---|---|---|",
        f"| load: APPEND rate, msg/s (wall) | {lo['load_per_second']:.0f} | {lr['load_per_second']:.0f} | "
        f"**{lo['load_per_second'] / lr['load_per_second']:.2f}x** | |",
        f"| first SEARCH after the load (index catch-up), s | {lo['first_search']['seconds']:.2f} | "
        f"{lr['first_search']['seconds']:.2f} | | |",
        f"| until searchable: msg/s (load + catch-up) | {lo['searchable_per_second']:.0f} | "
        f"{lr['searchable_per_second']:.0f} | **{lo['searchable_per_second'] / lr['searchable_per_second']:.2f}x** | |",
        f"| messages stored and indexed per server CPU-second (= per core) | {lo['messages_per_cpu_second']:.0f} | "
        f"{lr['messages_per_cpu_second']:.0f} | **{lo['messages_per_cpu_second'] / lr['messages_per_cpu_second']:.2f}x**"
        + (" | (durable APPENDs over IMAP; indexing alone is judged below) |" if OURS in r7.get("bulk", {})
           else f" | >= 1,000: {verdict(lo['messages_per_cpu_second'] >= 1000)} |"),
        f"| peak PSS during the load, MiB | {lo['peak_pss_kib'] / 1024:.0f} | {lr['peak_pss_kib'] / 1024:.0f} | | |",
        *_bulk_rows(r7, lo),
        f"| SELECT INBOX + `UID FETCH 1:* (FLAGS ENVELOPE)`, s, median of {len(fo)} ({min(fo):.2f}–{max(fo):.2f} / "
        f"{min(fr):.2f}–{max(fr):.2f}) | {fm:.2f} | {frm:.2f} | **{frm / fm:.2f}x** | >= Dovecot: "
        f"{verdict(fm <= frm)} |",
        f"| `UID SEARCH TEXT` p50, ms ({nq} words x {rounds} rounds) | {pct(so, .5):.1f} | {pct(sr, .5):.1f} | "
        f"**{pct(sr, .5) / max(pct(so, .5), 1e-9):.1f}x** | < 50 ms: {verdict(pct(so, .5) < 50)} |",
        f"| `UID SEARCH TEXT` p99, ms | {pct(so, .99):.1f} | {pct(sr, .99):.1f} | "
        f"**{pct(sr, .99) / max(pct(so, .99), 1e-9):.1f}x** | < 200 ms: {verdict(pct(so, .99) < 200)} |",
    ]
    if ss:
        out.append(f"| `UID SEARCH TEXT` p50 / p99, ms, **Dovecot without fts (scans)**, 1 round | "
                   f"{pct(so, .5):.1f} / {pct(so, .99):.1f} | {pct(ss, .5):.1f} / {pct(ss, .99):.1f} | "
                   f"**{pct(ss, .5) / max(pct(so, .5), 1e-9):.0f}x** / **{pct(ss, .99) / max(pct(so, .99), 1e-9):.0f}x**"
                   " | |")
    out.append("")
    # Result counts, word by word.
    co = r7["search"][OURS][0]["counts"]
    cr = r7["search"][REF][0]["counts"]
    cs = r7["search"][SCAN][0]["counts"] if r7["search"].get(SCAN) else {}
    same = sum(1 for w in co if co[w] == cr.get(w))
    same_s = sum(1 for w in co if co[w] == cs.get(w))
    out.append(f"Result counts (every UID returned was checked to exist; each word gives the same count in every "
               f"round): Ardoise and Dovecot + fts-xapian agree on {same} of {len(co)} words"
               + (f", Ardoise and the scanning Dovecot on {same_s}" if cs else "") + ". Every word, "
               "`word: Ardoise / xapian" + (" / scan" if cs else "") + "` (words without accents that stand "
               "for accented ones are the accent-folding check):\n")
    out.append(", ".join(f"`{w}`: {co[w]} / {cr.get(w, '?')}" + (f" / {cs.get(w, '?')}" if cs else "")
                         for w in co) + "\n")
    return out


def _r4(doc: dict, plot_prefix: str) -> list[str]:
    r4 = doc["r4"]
    rows = r4["rows"]
    out = [
        f"### R4: {r4['connections']:,} connections in IDLE over TLS (date {r4.get('date', doc['machine']['date'])})\n",
        f"`imapload idle`: {r4['connections']:,} connections over {r4['accounts']} accounts (agent01..agent"
        f"{r4['accounts']}), implicit TLS on both sides (self-signed certificates), each LOGIN, SELECT INBOX, "
        "IDLE, at most 8 set-ups at a time. Memory: PSS summed over the server's whole process tree (procmon), "
        "before the first connection, after half of them and after all (each 12 s after the stage's last "
        "connection, on every row: Dovecot hibernates an imap process after 5 s without a command, Ardoise "
        "frees its argon2id buffers 10 s after the last login). \"per connection\" = (all - "
        "before) / N; \"marginal\" = (all - half) / (N/2), which leaves out fixed costs such as allocator "
        "arenas grown by the argon2id logins. Then 5 rounds: 1% of the mailboxes (one APPEND each, from "
        "another connection) and the time from sending the APPEND until each IDLE connection on that mailbox "
        "reports `* N EXISTS`. Limits raised on both sides so that N fits (Ardoise: `max_connections`, "
        "`max_connections_per_ip`, `max_connections_per_user`; Dovecot: `process_limit` of imap-login and "
        "imap, `default_client_limit`, `mail_max_userip_connections`; and the kernel's "
        "`fs.inotify.max_user_instances`, since each Dovecot imap process in IDLE holds an inotify instance and, "
        "past the default cap of 128 per user, falls back to polling every 30 s); Dovecot otherwise runs its defaults "
        "(imap-login in high-security mode: one login process per TLS connection, which proxies the TLS), "
        "except in the last row: hibernation plus imap-login in high-performance mode (`service_count = 0`, "
        "`process_min_avail` = cores, `client_limit` raised): a few login processes proxy the TLS of all clients.\n",
        f"![R4 plot]({plot_prefix}r4-idle.png)\n",
        "| server | connections (failed) | PSS per connection, KiB | marginal, KiB | RSS-sum per connection, KiB | "
        "processes | **ratio** PSS/conn (Dovecot / Ardoise) | EXISTS p50 / p99 / max, ms | EXISTS missed | "
        "target <= 16 KiB, p99 <= 1 s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    ours = rows[0]["kib_per_connection"]
    for r in rows:
        e = r["exists_latency"]
        out.append(
            f"| {r['label']} | {r['established']:,} ({r['failed']}) | {r['kib_per_connection']:.1f} | "
            f"{r['marginal_kib_per_connection']:.1f} | {r['rss_kib_per_connection']:.1f} | "
            f"{r['full']['processes']:,} | "
            + ("" if r is rows[0] else f"**{r['kib_per_connection'] / max(ours, 1e-9):.1f}x**") + " | "
            f"{e.get('p50_ms', 0):.1f} / {e.get('p99_ms', 0):.1f} / {e.get('max_ms', 0):.1f} | "
            f"{r['exists_missed']} of {r['exists_expected']} | "
            + ((f"memory {'met' if r['kib_per_connection'] <= 16 else '**missed**'}, EXISTS "
                f"{'met' if e.get('p99_ms', 1e9) <= 1000 else '**missed**'}") if r is rows[0] else "(reference)")
            + " |")
    for r in r4.get("skipped", []):
        out.append(f"| {r['label']} | {r['reason']} | | | | | | | | |")
    out.append("")
    return out


def section(doc: dict, plot_prefix: str, kept_r4: str = "", kept_idle_cmd: str = "", kept_r7: str = "",
            kept_r7_cmds: tuple[str, ...] = ()) -> str:
    """The R4/R7 part of the page. A run of R7 alone keeps the page's R4 subsection (`kept_r4`) and its
    command line (`kept_idle_cmd`) when the results file has no R4 of its own; a run of R4 alone keeps
    the R7 subsection (`kept_r7`) and its command lines (`kept_r7_cmds`) likewise."""
    m = doc["machine"]
    out = [
        "<!-- r47:begin -->",
        "## R4 and R7: idle connections and the large mailbox, against Dovecot imapd\n",
        f"Run of {m['date']} ({doc['mode']} mode), {m['cpu']}, `nproc` = {m['nproc']}, Linux {m['kernel']}; "
        f"Ardoise {doc['versions'][OURS]}, commit {doc['commit']} (release build); {doc['versions'][REF]} and "
        "dovecot-fts-xapian (Debian). 1-minute load average during the run: "
        + " to ".join(f"{x:.1f}" for x in _loads(doc)) + " on 2 cores (the load generator runs beside the "
        "servers): absolute times are noisy, ratios less so.\n",
    ]
    if "r7" in doc:
        out += _r7(doc, plot_prefix)
    elif kept_r7:
        out.append(kept_r7.rstrip("\n") + "\n")
    if "r4" in doc:
        out += _r4(doc, plot_prefix)
    elif kept_r4:
        out.append(kept_r4.rstrip("\n") + "\n")
    out.append("Exact commands (PORT: Ardoise's ephemeral port or Dovecot's 1143, TLS 1993; the password in "
               "`$IMAPLOAD_PASSWORD`):\n")
    out.append("```sh")
    seen = []
    if "r7" in doc:
        r7 = doc["r7"]
        for r in [r7["load"][OURS], r7["fetchall"][OURS][0], r7["search"][OURS][0]]:
            seen.append(_cmd(r))
    else:
        seen += kept_r7_cmds
    if "r4" in doc:
        seen.append(_cmd(doc["r4"]["rows"][0]) + "   # prints `imapload: ready N` after N/2 and N; "
                    "answer with a newline")
    elif kept_idle_cmd:
        seen.append(kept_idle_cmd)
    out += seen
    out.append("```\n")
    out.append("<!-- r47:end -->")
    return "\n".join(out)


def _loads(doc: dict) -> list[float]:
    v = []
    if "r7" in doc:
        for k in ("load", "fetchall", "search"):
            for side, x in doc["r7"][k].items():
                v += [r.get("loadavg_1min", 0) for r in (x if isinstance(x, list) else [x])]
    if "r4" in doc:
        v += [r.get("loadavg_1min", 0) for r in doc["r4"]["rows"]]
    return [min(v), max(v)] if v else []
