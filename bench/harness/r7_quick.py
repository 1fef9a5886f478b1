"""R7 for Ardoise alone, for quick before/after comparisons while changing the code
(`bench/run --only r7` runs the side-by-side against Dovecot):

    python3 -m bench.harness.r7_quick --binary PATH --imapload PATH [--messages 20000] [--reps 3] [--reindex]

Loads `--messages` into bigbox@ (imapload bigbox), then times SELECT + `UID FETCH 1:* (FLAGS
ENVELOPE)` `--reps` times and one round of `UID SEARCH TEXT` over R7's 65 words; with
`--reindex`, then stops the server and times `ardoise search reindex` (the whole index rebuilt
from the stored messages: indexing alone, without APPEND, fsync or IMAP, like Dovecot's
`doveadm index`). Prints JSON (with the server's CPU seconds per phase) on stdout."""

import argparse
import json
import shutil
import statistics
import tempfile

from . import r47


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--imapload", required=True)
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--search-rounds", type=int, default=1)
    p.add_argument("--reindex", action="store_true", help="then time `ardoise search reindex` (server stopped)")
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="ardoise-r7-quick-", dir="/var/tmp")
    srv = r47.ArdoiseR47(work, a.binary, [r47.BIG_USER], 1000)
    out: dict = {"messages": a.messages, "binary": a.binary}
    try:
        srv.setup()
        srv.start()
        load = r47.measured(srv, lambda: r47.imapload(
            a.imapload, srv.imap_port, "bigbox", r47.BIG_USER, 1,
            ["--messages", str(a.messages), "--clients", "4", "--window", "32"]))
        out["load"] = {"per_second": load["load_per_second"], "cpu_seconds": load["cpu_seconds"],
                       "messages_per_cpu_second": a.messages / max(load["cpu_seconds"], 1e-9),
                       "first_search_s": load["first_search"]["seconds"], "loadavg": load["loadavg_1min"]}
        fetches = []
        for _ in range(a.reps):
            r = r47.measured(srv, lambda: r47.imapload(a.imapload, srv.imap_port, "fetchall", r47.BIG_USER, 1,
                                                      ["--repeat", "1", "--messages", str(a.messages)]))
            fetches.append({"seconds": r["median_seconds"], "cpu_seconds": r["cpu_seconds"],
                            "errors": r["errors"][:2], "loadavg": r["loadavg_1min"]})
        out["fetchall"] = fetches
        out["fetchall_median_s"] = statistics.median(f["seconds"] for f in fetches)
        searches = []
        for _ in range(a.search_rounds):
            r = r47.measured(srv, lambda: r47.imapload(a.imapload, srv.imap_port, "search", r47.BIG_USER, 1,
                                                      ["--repeat", "1"]))
            searches.append({"p50_ms": r["latency"]["p50_ms"], "p99_ms": r["latency"]["p99_ms"],
                             "cpu_seconds": r["cpu_seconds"], "errors": r["errors"][:2],
                             "counts": r.get("counts"), "loadavg": r["loadavg_1min"]})
        out["search"] = searches
        if a.reindex:
            srv.stop()
            out["reindex"] = r47.reindex(a.binary, srv.conf, a.messages)
    finally:
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
