#!/usr/bin/env python3
"""SMTP delivery load against any server: N messages of about S bytes over C
connections, each connection reusing its session for up to --per-connection messages.
Reports messages/s as JSON on stdout. Reusable against Postfix or anything
else speaking SMTP: it only needs host, port and recipient addresses."""

import argparse
import json
import smtplib
import threading
import time


def make_message(i: int, size: int) -> bytes:
    head = (
        f"From: Rectorat <drh@rectorat.example.org>\r\nTo: staff\r\nSubject: Note de service {i}\r\n"
        f"Message-ID: <bench-{i}-{time.time_ns()}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode()
    line = "Objet : campagne de mutations, calendrier et pièces à fournir.\r\n".encode()
    body = (line * (size // len(line) + 1))[: max(0, size - len(head))]
    return head + body


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--messages", type=int, default=10_000)
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--size", type=int, default=5_000)
    p.add_argument("--per-connection", type=int, default=100, help="messages per connection before reconnecting")
    p.add_argument("--rcpt", action="append", required=True, help="recipient (repeat; messages rotate over them)")
    args = p.parse_args()

    counter = iter(range(args.messages))
    lock = threading.Lock()
    errors: list[str] = []
    done = [0]

    def connect() -> smtplib.SMTP:
        s = smtplib.SMTP(args.host, args.port, timeout=60)
        s.ehlo("bench.example.org")
        return s

    def worker() -> None:
        # A new connection every --per-connection messages (servers cap commands per session;
        # Ardoise's default is 1,000), and once more if the server closes the session anyway.
        s, sent_here = connect(), 0
        try:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                if sent_here >= args.per_connection:
                    s.quit()
                    s, sent_here = connect(), 0
                msg = make_message(i, args.size)
                rcpt = [args.rcpt[i % len(args.rcpt)]]
                try:
                    try:
                        s.sendmail("drh@rectorat.example.org", rcpt, msg)
                    except smtplib.SMTPServerDisconnected:
                        s, sent_here = connect(), 0
                        s.sendmail("drh@rectorat.example.org", rcpt, msg)
                    sent_here += 1
                    with lock:
                        done[0] += 1
                except smtplib.SMTPException as e:
                    with lock:
                        errors.append(str(e))
                    s, sent_here = connect(), 0
        finally:
            try:
                s.quit()
            except smtplib.SMTPException:
                pass

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    print(json.dumps({
        "messages": done[0], "errors": len(errors), "seconds": round(elapsed, 3),
        "messages_per_second": round(done[0] / elapsed, 1), "connections": args.connections, "size": args.size,
        "per_connection": args.per_connection,
    }))


if __name__ == "__main__":
    main()
