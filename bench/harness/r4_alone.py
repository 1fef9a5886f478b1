"""R4 for Ardoise alone, at sizes the side-by-side run cannot reach here (Dovecot's defaults take
~1.8 MiB per idle TLS connection: ~18 GiB for 10,000 on this 23 GiB machine):

    python3 -m bench.harness.r4_alone --binary PATH --imapload PATH [--connections 10000]

Same procedure and accounting as `bench/run --only r4` (r47.run_idle: N TLS connections over 100
accounts in IDLE, PSS before, at N/2 and at N, then 5 rounds of APPENDs to 1% of the mailboxes timed
until each IDLE connection reports EXISTS); prints the row as JSON on stdout."""

import argparse
import json
import resource
import shutil
import sys
import tempfile

from . import r47
from .servers import accounts


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--imapload", required=True)
    p.add_argument("--connections", type=int, default=10_000)
    a = p.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = tempfile.mkdtemp(prefix="ardoise-r4-alone-", dir="/var/tmp")
    srv = r47.ArdoiseR47(work, a.binary, accounts(r47.IDLE_ACCOUNTS), a.connections + 1000)
    try:
        srv.setup()
        srv.start()
        row = r47.run_idle(srv, "Ardoise", a.imapload, a.connections, 5, 12.0,
                           lambda m: print(m, file=sys.stderr, flush=True))
    finally:
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
