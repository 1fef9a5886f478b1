"""Regenerates BENCHMARKS.md and bench/plots/*.png from bench/out/latest-*.json.

A full run writes BENCHMARKS.md and bench/plots/; a quick run (the CI smoke check) only
checks that both sides produced numbers and writes bench/out/report-quick.md and
bench/out/plots/, so a smoke run never overwrites the published figures.
Hand-written analysis lives in bench/notes.md and is included verbatim."""

import argparse
import json
import os
import sys

from .. import append_split
from . import report_before_after, report_imap, report_r47

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/
ROOT = os.path.dirname(HERE)
OURS, REF = "ardoise", "postfix+dovecot"


def size_label(n: int) -> str:
    return f"{n // 1024} KiB" if n >= 1024 else f"{n} B"


def check(doc: dict) -> list[str]:
    problems = []
    for c in doc["cells"]:
        for side in (OURS, REF):
            m = c["servers"].get(side, {}).get("median", {})
            if not m.get("messages_per_second"):
                problems.append(f"R5 {c['size']}/{c['sessions']}: no number for {side}")
            for r in c["servers"].get(side, {}).get("reps", []):
                if r["delivered"] < r["messages"]:
                    problems.append(f"R5 {c['size']}/{c['sessions']}: {side} delivered {r['delivered']}/{r['messages']}")
    return problems


def plot_r5(doc: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = doc["cells"]
    labels = [f"{size_label(c['size'])}\n{c['sessions']} session{'s' if c['sessions'] > 1 else ''}" for c in cells]
    x = range(len(cells))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4), dpi=90)
    for ax, key, title in ((a1, "messages_per_second", "delivered messages/s (higher is better)"),
                           (a2, "cpu_seconds_per_1000", "server CPU s per 1,000 messages (lower is better)")):
        for off, side, name, color in ((-0.2, OURS, "Ardoise", "#2b6cb0"), (0.2, REF, "Postfix + Dovecot", "#c05621")):
            meds = [c["servers"][side]["median"][key] for c in cells]
            lo = [meds[i] - min(r[key] for r in c["servers"][side]["reps"]) for i, c in enumerate(cells)]
            hi = [max(r[key] for r in c["servers"][side]["reps"]) - meds[i] for i, c in enumerate(cells)]
            ax.bar([i + off for i in x], meds, 0.4, label=name, color=color, yerr=[lo, hi], capsize=3)
        ax.set_xticks(list(x), labels, fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    a1.legend(fontsize=8)
    fig.suptitle(f"R5 inbound SMTP into mailboxes, median of {doc['reps']} ({doc['machine']['date'][:10]}, "
                 f"{doc['machine']['nproc']} cores)", fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path)


def r5_section(doc: dict, plot_rel: str) -> str:
    out = [
        "## R5: inbound SMTP delivered into mailboxes\n",
        "Target: Ardoise >= 2x Postfix delivering through Dovecot LMTP into Maildir.\n",
        f"![R5 plot]({plot_rel})\n",
        "| size | sessions | messages | Ardoise msg/s | Postfix+Dovecot msg/s | **ratio** | target 2x | "
        "CPU s / 1,000 msg (ours / ref) | peak PSS MiB (ours / ref) | peak RSS-sum MiB (ours / ref) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in doc["cells"]:
        o, r = c["servers"][OURS]["median"], c["servers"][REF]["median"]
        ratio = o["messages_per_second"] / r["messages_per_second"]
        orng = [x["messages_per_second"] for x in c["servers"][OURS]["reps"]]
        rrng = [x["messages_per_second"] for x in c["servers"][REF]["reps"]]
        spread = lambda v: f" ({min(v):.0f}–{max(v):.0f})" if len(v) > 1 else ""
        out.append(
            f"| {size_label(c['size'])} | {c['sessions']} | {c['messages']:,} | {o['messages_per_second']:.0f}{spread(orng)} | "
            f"{r['messages_per_second']:.0f}{spread(rrng)} | **{ratio:.2f}x** | {'met' if ratio >= 2 else 'missed'} | "
            f"{o['cpu_seconds_per_1000']:.2f} / {r['cpu_seconds_per_1000']:.2f} | "
            f"{o['peak_pss_kib'] / 1024:.0f} / {r['peak_pss_kib'] / 1024:.0f} | "
            f"{o['peak_rss_kib'] / 1024:.0f} / {r['peak_rss_kib'] / 1024:.0f} |")
    out.append("")
    loads = [r.get("loadavg_1min") for c in doc["cells"] for side in (OURS, REF) for r in c["servers"][side]["reps"]]
    loads = [x for x in loads if x is not None]
    if loads:
        out.append(f"1-minute load average at the end of each repetition: {min(loads):.1f} to {max(loads):.1f} "
                   f"on {doc['machine']['nproc']} cores (above ~3 means other work shared the machine; the "
                   "sides are interleaved so both suffer it).\n")
    out.append("Ranges in parentheses are min–max over the repetitions. Time runs from the first connection "
               "until the mailboxes hold every message; Postfix answers 250 once its queue file is fsync'd and "
               "delivers afterwards, so its acceptance time is shorter than its delivery time "
               "(median seconds accepted / delivered: " + ", ".join(
                   f"{size_label(c['size'])}x{c['sessions']}: {c['servers'][REF]['median']['accepted_seconds']:.1f}/"
                   f"{c['servers'][REF]['median']['seconds']:.1f}" for c in doc["cells"]) + ").\n")
    return "\n".join(out)


def history_section() -> str:
    """Every full run kept in bench/out on this machine: the spread between runs is part of the result."""
    import glob
    rows = []
    for f in sorted(glob.glob(os.path.join(HERE, "out", "r5-full-*.json"))):
        d = json.load(open(f))
        cells = []
        for c in d["cells"]:
            o = c["servers"][OURS]["median"]["messages_per_second"]
            r = c["servers"][REF]["median"]["messages_per_second"]
            cells.append(f"{o:.0f} / {r:.0f} = **{o / r:.2f}x**")
        rows.append((d["machine"]["date"], d.get("commit", "?"), cells, d["cells"]))
    if len(rows) < 2:
        return ""
    head = rows[-1][3]
    out = ["### Every full R5 run kept on this machine (median msg/s, ours / reference = ratio)\n",
           "| date | commit | " + " | ".join(f"{size_label(c['size'])} x{c['sessions']}" for c in head) + " |",
           "|---|---|" + "---|" * len(head)]
    for date, commit, cells, _ in rows:
        out.append(f"| {date} | {commit} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def deliver_section(md_path: str = "") -> str:
    path = os.path.join(HERE, "out", "deliver.jsonl")
    lines = [l for l in open(path)] if os.path.exists(path) else []
    full = [json.loads(l) for l in lines 
            if json.loads(l)["result"]["messages"] >= 10000 and json.loads(l)["result"]["errors"] == 0]
    if not full:
        # No run on this machine (bench/out is per machine): keep the figures the page already shows.
        kept = preserved(md_path, "## bench/deliver", ["<!-- imap:begin -->"]) if md_path else ""
        if kept:
            return kept.rstrip("\n") + "\n"
        return "## bench/deliver (spine benchmark)\n\nNo full run recorded yet (`bench/deliver`).\n"
    d = full[-1]
    r = d["result"]
    return (
        "## bench/deliver (spine benchmark, Ardoise alone)\n\n"
        "`bench/deliver`: 10,000 messages of ~5 KB over 4 parallel connections (100 messages each, then a new "
        "connection) from Python's smtplib "
        "(`bench/smtp_load.py`), one recipient each, into a release build with fsync on.\n\n"
        "| date | commit | messages | errors | seconds | msg/s |\n|---|---|---|---|---|---|\n"
        f"| {d['date']} | {d['commit']} | {r['messages']:,} | {r['errors']} | {r['seconds']} | "
        f"**{r['messages_per_second']}** |\n\n"
        "The Python client is itself CPU-bound on a small machine, so this figure is a floor, not the "
        "server's ceiling; R5 (C client) is the comparison that counts.\n")


def preserved(md_path: str, start: str, ends: list[str]) -> str:
    """A block of the current page (from `start` to the first of `ends`), kept when this run did not
    measure it (e.g. `--only imap` keeps the last R5 figures)."""
    if not os.path.exists(md_path):
        return ""
    text = open(md_path).read()
    if start not in text:
        return ""
    block = text[text.index(start):]
    cut = min((block.index(e) for e in ends if e in block[1:]), default=len(block))
    return block[:cut]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["quick", "full"], default="full")
    args = p.parse_args()
    out_dir = os.path.join(HERE, "out")

    def load(name: str) -> dict | None:
        # bench/out (this machine's runs), else bench/results (the committed latest full results)
        for d in (out_dir, os.path.join(HERE, "results")):
            if os.path.exists(os.path.join(d, name)):
                return json.load(open(os.path.join(d, name)))
        return None

    doc, imap_doc = load(f"latest-r5-{args.mode}.json"), load(f"latest-imap-{args.mode}.json")
    r47_doc = load(f"latest-r47-{args.mode}.json")
    split_doc = load(f"latest-append-split-{args.mode}.json")
    r10_doc = load(f"latest-r10-{args.mode}.json")  # R10 (bench/r10_dav.py): its section is hand-written
    if doc is None and imap_doc is None and r47_doc is None and split_doc is None and r10_doc is None:
        sys.exit(f"no results in {out_dir} for mode {args.mode}")
    problems = ((check(doc) if doc else []) + (report_imap.check(imap_doc) if imap_doc else [])
                + (report_r47.check(r47_doc) if r47_doc else []))
    for c in doc["cells"] if doc else []:
        o, r = c["servers"][OURS]["median"], c["servers"][REF]["median"]
        print(f"R5 {size_label(c['size']):>6} x{c['sessions']:<2}: ours {o['messages_per_second']:7.1f} msg/s, "
              f"ref {r['messages_per_second']:7.1f} msg/s, ratio {o['messages_per_second'] / r['messages_per_second']:.2f}x")
    for c in imap_doc["cells"] if imap_doc else []:
        o, r = c["servers"]["ardoise"]["median"], c["servers"]["dovecot"]["median"]
        print(f"{c['name']}: ours {o['rate']:.1f}/s, ref {r['rate']:.1f}/s, ratio "
              f"{o['rate'] / r['rate'] if r['rate'] else float('inf'):.2f}x, errors ours "
              f"{o['protocol_errors']:.0f}/{o['consistency_errors']:.0f}, ref {r['protocol_errors']:.0f}/{r['consistency_errors']:.0f}")
    if r47_doc and "r7" in r47_doc:
        r7 = r47_doc["r7"]
        for side in ("ardoise", "dovecot"):
            ld = r7["load"][side]
            s7 = report_r47.search_samples(r7["search"][side])
            print(f"R7 {side}: load {ld['load_per_second']:.0f} msg/s, {ld['messages_per_cpu_second']:.0f} msg/CPU-s, "
                  f"SEARCH p50 {report_r47.pct(s7, .5):.1f} ms p99 {report_r47.pct(s7, .99):.1f} ms")
    for r in r47_doc["r4"]["rows"] if r47_doc and "r4" in r47_doc else []:
        print(f"R4 {r['label']}: {r['kib_per_connection']:.1f} KiB/conn, EXISTS p99 "
              f"{r['exists_latency'].get('p99_ms', 0):.1f} ms, missed {r['exists_missed']}")
    for side, v in split_doc["servers"].items() if split_doc else []:
        print(f"APPEND 5 KB {side}: p50 {v['imaplib']['p50_ms']:.2f} ms with imaplib (split), "
              f"{v['one write']['p50_ms']:.2f} ms in one write")
    for w, m in r10_doc["median"].items() if r10_doc else []:
        a, r = m["ardoise"], m["radicale"]
        ratio = r10_doc["ratios"][w]["rps_ardoise_over_radicale"]
        ratio = f"{ratio:.2f}x" if ratio is not None else "none (Radicale completed no request)"
        print(f"R10 {w}: ours {a['requests_per_s']:.1f} req/s, Radicale {r['requests_per_s']:.1f} req/s, ratio "
              f"{ratio}, peak RSS ours {a['peak_rss_kib'] // 1024} MiB, "
              f"Radicale {r['peak_rss_kib'] // 1024} MiB, errors {a['errors']:.0f}/{r['errors']:.0f}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    if args.mode == "quick":
        plot_dir, md_path, plot_rel = os.path.join(HERE, "out", "plots"), os.path.join(HERE, "out", "report-quick.md"), "plots/"
    else:
        plot_dir, md_path, plot_rel = os.path.join(HERE, "plots"), os.path.join(ROOT, "BENCHMARKS.md"), "bench/plots/"
    if doc:
        plot_r5(doc, os.path.join(plot_dir, "r5-smtp-inbound.png"))
        r5_block = r5_page(doc, args.mode, plot_rel + "r5-smtp-inbound.png")
    else:
        r5_block = preserved(md_path, "## Machine and run", ["<!-- imap:begin -->", "## Workloads not measured yet"])
        r5_block = r5_block.rstrip("\n") + "\n\n" if r5_block else ""
    if imap_doc:
        report_imap.plots(imap_doc, plot_dir)
        imap_block = report_imap.section(imap_doc, plot_rel) + "\n"
    else:
        imap_block = preserved(md_path, "<!-- imap:begin -->", ["<!-- imap:end -->"])
        imap_block += "<!-- imap:end -->\n" if imap_block else ""
    if r47_doc:
        report_r47.plots(r47_doc, plot_dir)
        kept_r4 = kept_cmd = kept_r7 = ""
        kept_r7_cmds: tuple[str, ...] = ()
        old = preserved(md_path, "<!-- r47:begin -->", ["<!-- r47:end -->"])
        if "r4" not in r47_doc:
            kept_r4 = preserved(md_path, "### R4:", ["Exact commands (PORT: Ardoise's ephemeral port"])
            kept_cmd = next((line for line in old.splitlines() if line.startswith("imapload idle")), "")
        if "r7" not in r47_doc:
            kept_r7 = preserved(md_path, "### R7:", ["### R4:", "Exact commands (PORT: Ardoise's ephemeral port"])
            kept_r7_cmds = tuple(line for line in old.splitlines()
                                 if line.startswith(("imapload bigbox", "imapload fetchall", "imapload search")))
        r47_block = report_r47.section(r47_doc, plot_rel, kept_r4, kept_cmd, kept_r7, kept_r7_cmds) + "\n"
    else:
        r47_block = preserved(md_path, "<!-- r47:begin -->", ["<!-- r47:end -->"])
        r47_block += "<!-- r47:end -->\n" if r47_block else ""
    if split_doc:
        split_block = append_split.section(split_doc) + "\n"
    else:
        split_block = preserved(md_path, "<!-- append-split:begin -->", ["<!-- append-split:end -->"])
        split_block += "<!-- append-split:end -->\n\n" if split_block else ""
    before_after = report_before_after.section() + "\n" if args.mode == "full" else ""
    notes_path = os.path.join(HERE, "notes.md")
    notes = open(notes_path).read() if os.path.exists(notes_path) else ""
    md = f"""# Benchmarks

<!-- generated by bench/run from bench/out/latest-r5-{args.mode}.json, latest-imap-{args.mode}.json and latest-r47-{args.mode}.json; edit bench/notes.md or bench/harness/report.py, not this file -->

Ardoise against the C servers académies run today, on the same machine, in the same run, with the same
accounts and the same durability (nothing is acknowledged before it is on disk). Absolute numbers depend on
the machine and its disk; the **ratios** are what this page is about. Run it yourself:

```sh
bench/run            # full: median of 3 per cell, then bench/deliver; rewrites this page and bench/plots/
bench/run --quick    # smoke check (1 repetition, small counts, ~5 minutes; .ci/run runs it); writes bench/out/report-quick.md only
bench/run --only imap --r1-seconds 120   # R1-R3 only (IMAP against Dovecot imapd)
bench/run --only r7 --r7-messages 100000  # R7 only (large mailbox: load, FETCH 1:*, SEARCH TEXT)
bench/run --only r4 --r4-connections 10000  # R4 only (idle TLS connections in IDLE)
```

Needs root on a Debian machine: it installs `postfix`, `dovecot-imapd`, `dovecot-lmtpd`, `dovecot-fts-xapian` if missing (and
matplotlib from pip), builds `ardoise` and `imapload` in release mode, and runs each server from a private folder under
`/var/tmp` on loopback ports of its own. Raw results: `bench/out/*.json` (per machine, not committed); the latest full results of each workload are also copied to `bench/results/` (committed), from which this page can be rebuilt on another machine.

{before_after}{r5_block}
{imap_block}
{r47_block}
{split_block}{notes}"""
    with open(md_path, "w") as f:
        f.write(md)
    print(f"wrote {os.path.relpath(md_path, ROOT)} and {os.path.relpath(plot_dir, ROOT)}/*.png")


def r5_page(doc: dict, mode: str, plot_rel: str) -> str:
    """Machine, configuration, commands and results of the R5 run."""
    m = doc["machine"]
    args = argparse.Namespace(mode=mode)
    return f"""## Machine and run

| | |
|---|---|
| date | {m['date']} ({args.mode} mode, {doc['reps']} repetition{'s' if doc['reps'] > 1 else ''} per cell, sides interleaved) |
| CPU | {m['cpu']}, `nproc` = {m['nproc']} |
| memory | {m['memory_gib']} GiB |
| kernel | Linux {m['kernel']} |
| disk | {doc.get('work_dir_fs', m['filesystem'])} (the servers' data folders; fsync reaches it) |
| Ardoise | {doc['versions'][OURS]}, commit {doc['commit']}{' plus uncommitted changes' if doc.get('dirty') else ''}, release build, SQLite store |
| reference | {doc['versions'][REF]} (Debian packages) |

## Configuration of the two sides

- **Ardoise**: `ardoise serve` with defaults (log level `info`, SQLite in WAL mode with `synchronous=FULL`);
  only the data folder, an ephemeral SMTP port and an unlimited quota are set. 250 after the blob file and
  its directory are fsync'd and the metadata transaction committed.
- **Postfix**: Debian's `master.cf` unchanged except the smtpd listener on `127.0.0.1:2626` (daemons
  chrooted as in Debian, the chroot populated as Debian's `configure-instance.sh` does); a `main.cf` with
  paths, `virtual_mailbox_domains = ac-test.fr`, `virtual_mailbox_maps` listing the accounts (so unknown
  recipients are refused in SMTP, as Ardoise does), `virtual_transport = lmtp:unix:private/dovecot-lmtp`,
  `maillog_file` (Ardoise logs too). Queue files are fsync'd before 250 (Postfix's default).
- **Dovecot**: built-in defaults, `protocols = lmtp`, `passwd-file` for the same 20 accounts,
  `mail_location = maildir:...`, and **`mail_fsync = always`**, matching our promise.
- Both sides: 20 accounts `agent01..agent20@ac-test.fr`, log files on, data on the same disk.
- Accounting is the same for both: CPU = utime+stime of every server process including exited children
  (via the parents' cutime/cstime in `/proc/<pid>/stat`); memory = peak over 200 ms samples of the sum of
  PSS (`/proc/<pid>/smaps_rollup`) over the server's process tree (PSS splits shared pages fairly
  between processes; the RSS sum is given too and over-counts the multi-process side).

## Exact commands

Each cell runs S lanes in parallel; lane i sends N/S messages to its own mailbox with Debian's
`smtp-source`, 100 messages per connection (then a new connection; both servers see the same pattern,
and it stays under Ardoise's default of 1,000 commands per session):

```sh
smtp-source -d -s 1 -l SIZE -m 100 -M bench-client.example.org -f drh@rectorat.example.org \\
    -t agentNN@ac-test.fr 127.0.0.1:PORT          # PORT: Ardoise's ephemeral port, or 2626 for Postfix
```

`SIZE` is the body length (5120 or 76800 bytes; smtp-source adds ~150 bytes of headers). The clock stops
when the mailboxes hold all N new messages: Maildir `new/`+`cur/` file count for Dovecot, rows of the
`messages` table for Ardoise, polled every 20 ms. Each side first gets an unmeasured warm-up of 200
messages over 20 sessions; then the cells run in the order of the table, repetitions alternating between
the sides.

{r5_section(doc, plot_rel)}
{history_section() if args.mode == "full" else ""}
{deliver_section(os.path.join(ROOT, "BENCHMARKS.md") if mode == "full" else "")}
"""


if __name__ == "__main__":
    main()
