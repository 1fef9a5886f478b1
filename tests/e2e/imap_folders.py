"""What several e2e files need of IMAP folders through imaplib (which leaves names to the caller):
modified UTF-7 names (RFC 3501 section 5.1.3), quoting, a TLS context for the servers' own
self-signed certificates (loopback only), and a folder's messages as comparable values."""

import base64
import datetime
import imaplib
import re
import ssl


def mutf7(name: str) -> str:
    out, run = [], []

    def flush():
        if run:
            b64 = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            out.append("&" + b64 + "-")
            run.clear()

    for c in name:
        if " " <= c <= "~":
            flush()
            out.append("&-" if c == "&" else c)
        else:
            run.append(c)
    flush()
    return "".join(out)


def quoted(name: str) -> str:
    return '"' + mutf7(name).replace("\\", "\\\\").replace('"', '\\"') + '"'


def no_verify() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


FETCH_ITEMS = re.compile(rb"FLAGS \(([^)]*)\)|INTERNALDATE \"([^\"]+)\"")


def folder_messages(conn: imaplib.IMAP4, folder: str) -> list:
    """Every message of a folder as (bytes, flags without \\Recent, internal date in unix seconds),
    sorted; read with BODY.PEEK[] on a read-only selection, so nothing changes."""
    typ, data = conn.select(quoted(folder), readonly=True)
    assert typ == "OK", (folder, data)
    if int(data[0]) == 0:
        return []
    typ, data = conn.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
    assert typ == "OK", data
    out = []
    i = 0
    while i < len(data):
        item = data[i]
        if isinstance(item, tuple):
            text, body = item[0], item[1]
            if i + 1 < len(data) and isinstance(data[i + 1], bytes):
                text += data[i + 1]
                i += 1
            flags, date = None, None
            for m in FETCH_ITEMS.finditer(text):
                if m.group(1) is not None:
                    flags = tuple(sorted(f for f in m.group(1).decode().split() if f.lower() != "\\recent"))
                if m.group(2) is not None:
                    stamp = datetime.datetime.strptime(m.group(2).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
                    date = int(stamp.timestamp())
            out.append((body, flags, date))
        i += 1
    return sorted(out)
