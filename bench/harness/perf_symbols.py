"""Top functions of a `perf record` of the Ardoise server, when `perf report` cannot resolve our binary's
symbols (seen on this machine with the release build: it prints bare addresses for the `ardoise` dso).

    python3 -m bench.harness.perf_symbols PERF_DATA BINARY [N]

Takes `perf report --no-children --sort dso,symbol`, maps the binary's unresolved addresses with
`addr2line` (perf prints file offsets; the text segment's virtual addresses are 0x1000 above them in our
builds: check with `readelf -lW BINARY`), and prints the N heaviest functions (default 30) with the share of
samples, other dsos (libc, kernel) by symbol."""

import collections
import os
import subprocess
import sys


def main() -> None:
    data, binary = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,symbol",
                          "-g", "none"], capture_output=True, text=True).stdout
    name = os.path.basename(binary)
    rows, per_dso = [], collections.Counter()
    for line in rep.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split()
        share, dso = float(parts[0].rstrip("%")), parts[1]
        sym = parts[3] if len(parts) > 3 else "?"
        per_dso[dso] += share
        rows.append((share, dso, sym))
    ours = [(p, s) for p, d, s in rows if d == name and s.startswith("0x")]
    names = subprocess.run(["addr2line", "-f", "-C", "-e", binary] + [hex(int(s, 16) + 0x1000) for _, s in ours],
                           capture_output=True, text=True).stdout.split("\n")[0::2]
    top = collections.Counter()
    for (p, _), f in zip(ours, names):
        top["ardoise: " + f[:110]] += p
    for p, d, s in rows:
        if d != name:
            top[f"{d}: {s[:100]}"] += p
    print("by dso:", {k: round(v, 1) for k, v in per_dso.most_common(5)})
    for f, p in top.most_common(n):
        print(f"{p:6.2f} {f}")


if __name__ == "__main__":
    main()
