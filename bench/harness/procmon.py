"""Server-side resource accounting from /proc, identical for every server.

CPU: for each process in the server's tree, utime+stime+cutime+cstime. A parent's
cutime/cstime holds the CPU of the children it has reaped (recursively), so the sum
over the live tree covers processes that came and went (Postfix's smtpd/cleanup,
Dovecot's lmtp) without counting anything twice. Delta of two snapshots = CPU spent.

Memory: a sampler thread sums PSS (proportional set size, from smaps_rollup) and RSS
over the tree every 200 ms and keeps the peak. PSS is the fair figure for a
multi-process server (shared libraries are split between processes); RSS-sum is
given too and over-counts shared pages for the multi-process side. The peak of
Pss_Anon (private heap and stacks) is kept apart: RSS and PSS also count the pages of
files a process maps (SQLite's and tantivy's memory-mapped files are page cache the
kernel may drop, which a server that read()s its files never has in its RSS), so
anonymous memory is the figure to compare with such a server.
"""

import os
import threading
import time

CLK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    rest = s[s.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state); ppid is field 4 -> rest[1]; utime 14 -> rest[11]
    return int(rest[1]), sum(int(x) for x in rest[11:15])


def name(pid: int) -> str:
    """The process's command name and pid, `clamd[1234]`."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f"{f.read().strip()}[{pid}]"
    except OSError:
        return f"?[{pid}]"


def tree(roots: list[int]) -> list[int]:
    """The roots and all their descendants (one /proc scan)."""
    parent: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                parent[int(d)] = _stat(int(d))[0]
            except (OSError, ValueError, IndexError):
                pass
    children: dict[int, list[int]] = {}
    for p, pp in parent.items():
        children.setdefault(pp, []).append(p)
    out, todo = [], [r for r in roots if r in parent]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(roots: list[int]) -> float:
    total = 0
    for p in tree(roots):
        try:
            total += _stat(p)[1]
        except (OSError, ValueError, IndexError):
            pass
    return total / CLK


def _mem_kib(pid: int) -> tuple[int, int, int]:
    """PSS, RSS and anonymous PSS of one process, KiB."""
    pss = rss = anon = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss_Anon:"):
                    anon = int(line.split()[1])
    except OSError:
        pass
    return pss, rss, anon


class MemSampler:
    def __init__(self, roots_fn, period: float = 0.2):
        self.roots_fn, self.period = roots_fn, period
        self.peak_pss = self.peak_rss = self.peak_anon = self.peak_procs = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        pids = tree(self.roots_fn())
        pss = rss = anon = 0
        for p in pids:
            a, b, c = _mem_kib(p)
            pss += a
            rss += b
            anon += c
        self.peak_pss = max(self.peak_pss, pss)
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_anon = max(self.peak_anon, anon)
        self.peak_procs = max(self.peak_procs, len(pids))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.period)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.sample()


def wait_for(pred, timeout: float, period: float = 0.02) -> float:
    """Polls pred() until true; returns the monotonic time it became true."""
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(period)
