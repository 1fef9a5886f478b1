#!/usr/bin/env python3
"""SMTP delivery throughput with message contents in local files versus an S3 bucket (issue 28):
the same `ardoise serve` (SQLite metadata) run twice, once with `[blob] path` and once with
`[blob] url` on an `s3s-fs` started here on loopback, each loaded by smtp_load.py. A sanity
number for docs/cluster.md, not a benchmark row: loopback S3 hides the network's latency, and
with a debug binary the numbers say little about a release build.

    bench/s3_delivery.py --bin target/debug/ardoise --s3s-fs ~/.cache/ardoise-tools/bin/s3s-fs
"""

import argparse
import json
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
DOMAIN = "ac-bench.fr"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def run(binary: str, root: pathlib.Path, blob_section: str, args) -> dict:
    root.mkdir(parents=True)
    config = root / "ardoise.toml"
    config.write_text(f"""
[server]
hostname = "mx.{DOMAIN}"
data_dir = "{root / 'data'}"
[blob]
{blob_section}
[smtp]
listen = ["127.0.0.1:0"]
[log]
level = "warn"
""")
    admin = [binary, "admin", "--config", str(config)]
    subprocess.run([*admin, "domain", "add", DOMAIN], check=True, capture_output=True)
    rcpts = []
    for n in range(args.accounts):
        address = f"agent{n}@{DOMAIN}"
        subprocess.run([*admin, "account", "create", address, "--name", f"Agent {n}"], check=True, capture_output=True)
        rcpts += ["--rcpt", address]
    server = subprocess.Popen([binary, "serve", "--config", str(config)], stdout=subprocess.DEVNULL,
                              stderr=open(root / "server.log", "wb"))
    try:
        listeners = root / "data" / "listeners.json"
        deadline = time.time() + 30
        while not listeners.exists():
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit((root / "server.log").read_text())
            time.sleep(0.05)
        port = int(json.loads(listeners.read_text())["smtp"].rsplit(":", 1)[1])
        out = subprocess.run([sys.executable, str(HERE / "smtp_load.py"), "--port", str(port),
                              "--messages", str(args.messages), "--connections", str(args.connections),
                              "--size", str(args.size), *rcpts], check=True, capture_output=True)
        return json.loads(out.stdout)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", required=True)
    p.add_argument("--s3s-fs", required=True)
    p.add_argument("--messages", type=int, default=500)
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--size", type=int, default=20_000)
    p.add_argument("--accounts", type=int, default=10)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        local = run(args.bin, tmp / "local", f'path = "{tmp / "blobs"}"', args)
        (tmp / "s3" / "bucket").mkdir(parents=True)
        port = free_port()
        s3 = subprocess.Popen([args.s3s_fs, "--host", "127.0.0.1", "--port", str(port), "--access-key", "bench",
                               "--secret-key", "bench-secret", str(tmp / "s3")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port)
            (tmp / "cle").write_text("access_key_id = bench\nsecret_access_key = bench-secret\n")
            remote = run(args.bin, tmp / "remote",
                         f'url = "s3://bucket?endpoint=http://127.0.0.1:{port}"\ncredentials = "{tmp / "cle"}"',
                         args)
        finally:
            s3.terminate()
            s3.wait(timeout=10)
    print(json.dumps({"local": local, "s3": remote, "messages": args.messages, "size": args.size,
                      "connections": args.connections}, indent=1))


if __name__ == "__main__":
    main()
