"""The two sides of every comparison, each in a private folder under one work dir,
on loopback ports of their own, with the same accounts and the same durability:

- Ardoise: release binary, SQLite store (synchronous=FULL), blobs fsync'd before 250.
- reference: Postfix (Debian defaults; queue is fsync'd before 250) delivering through
  Dovecot LMTP into Maildir with mail_fsync = always. Both run from their own config
  directories (`postfix -c`, `dovecot -c`); the system instances and port 25 are untouched.
"""

import glob
import json
import os
import shutil
import sqlite3
import subprocess
import time

DOMAIN = "ac-test.fr"
PASSWORD = "Bench-Ardoise-2026"


def accounts(n: int) -> list[str]:
    return [f"agent{i:02d}@{DOMAIN}" for i in range(1, n + 1)]


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


class Ardoise:
    name = "ardoise"
    label = "Ardoise"

    def __init__(self, work: str, binary: str, users: list[str]):
        self.root = os.path.join(work, "ardoise")
        self.bin, self.users = binary, users
        self.conf = os.path.join(self.root, "ardoise.toml")
        self.data = os.path.join(self.root, "data")
        self.proc = None
        self.smtp_port = 0

    def setup(self) -> None:
        os.makedirs(self.root, exist_ok=True)
        with open(self.conf, "w") as f:
            # Defaults everywhere (log level info included) except paths, ports and quota.
            f.write(
                f'[server]\nhostname = "bench-ardoise.{DOMAIN}"\ndata_dir = "{self.data}"\n'
                f'[smtp]\nlisten = ["127.0.0.1:0"]\nmax_connections_per_ip = 1000\n[submission]\nlisten = ["127.0.0.1:0"]\nlisten_tls = ["127.0.0.1:0"]\n[quota]\ndefault = "0"\n'
            )
        run(self.bin, "admin", "-c", self.conf, "domain", "add", DOMAIN)
        for u in self.users:
            run(self.bin, "admin", "-c", self.conf, "account", "create", u, "--name", u.split("@")[0],
                "--password-stdin", input=PASSWORD + "\n")

    def start(self) -> None:
        lj = os.path.join(self.data, "listeners.json")
        # A restart must not read the previous run's ports (they are ephemeral).
        if os.path.exists(lj):
            os.remove(lj)
        self.log = open(os.path.join(self.root, "server.log"), "a")
        self.proc = subprocess.Popen([self.bin, "serve", "-c", self.conf], stdout=self.log, stderr=self.log)
        for _ in range(200):
            if os.path.exists(lj):
                try:
                    self.smtp_port = int(json.load(open(lj))["smtp"].rsplit(":", 1)[1])
                    break
                except (ValueError, KeyError):
                    pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"ardoise serve exited: see {self.root}/server.log")
            time.sleep(0.05)
        else:
            raise RuntimeError("ardoise did not write listeners.json")
        dbs = glob.glob(os.path.join(self.data, "*.db"))
        if not dbs:
            raise RuntimeError(f"no SQLite file in {self.data}")
        self.db = sqlite3.connect(f"file:{dbs[0]}?mode=ro", uri=True)

    def roots(self) -> list[int]:
        return [self.proc.pid] if self.proc else []

    def delivered(self) -> int:
        """Messages in mailboxes (a row in `messages` exists only once the blob is durable
        and the transaction committed)."""
        return self.db.execute("SELECT count(*) FROM messages").fetchone()[0]

    def version(self) -> str:
        return run(self.bin, "--version").stdout.strip()

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None


def chroot_files(queue: str) -> None:
    """What Debian's /usr/lib/postfix/configure-instance.sh copies into a queue dir so that
    chrooted daemons (the master.cf default) resolve names; done here for our own queues."""
    for f in ("etc/localtime", "etc/services", "etc/resolv.conf", "etc/hosts", "etc/host.conf",
              "etc/nsswitch.conf"):
        src = "/" + f
        if os.path.isfile(src):
            os.makedirs(os.path.join(queue, os.path.dirname(f)), exist_ok=True)
            shutil.copy(src, os.path.join(queue, f))
    libs = [p for name in ("gcc_s", "nss", "resolv") for p in glob.glob(f"/lib/*/lib{name}*.so*")]
    for p in libs:
        dst = os.path.join(queue, p.lstrip("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(p, dst)


POSTFIX_MAIN = """\
# Postfix for the Ardoise benchmark: Debian's defaults except ports, paths, and the
# virtual domain delivered through Dovecot LMTP. Nothing here trades durability for speed.
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = bench-postfix.{domain}
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
biff = no
append_dot_mydomain = no
readme_directory = no
smtpd_banner = $myhostname ESMTP
virtual_mailbox_domains = {domain}
virtual_mailbox_maps = texthash:{conf}/vmailbox
virtual_transport = lmtp:unix:private/dovecot-lmtp
maillog_file = {log}/postfix.log
"""

DOVECOT_CONF = """\
# Dovecot for the Ardoise benchmark: built-in defaults except paths, the accounts, and
# mail_fsync = always (the same durability promise as Ardoise's 250).
instance_name = ardoise-bench
base_dir = {run}
protocols = lmtp
listen = 127.0.0.1
ssl = no
log_path = {log}/dovecot.log
mail_location = maildir:{mail}/%d/%n/Maildir
mail_fsync = always
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {users}
}}
userdb {{
  driver = passwd-file
  args = {users}
}}
service lmtp {{
  unix_listener {queue}/private/dovecot-lmtp {{
    user = postfix
    group = postfix
    mode = 0600
  }}
}}
"""


class PostfixDovecot:
    name = "postfix+dovecot"
    label = "Postfix + Dovecot"
    smtp_port_default = 2626

    def __init__(self, work: str, users: list[str], smtp_port: int = 2626, domain: str = DOMAIN):
        """users: full addresses, all in `domain`. R5 keeps the defaults; R8 passes its own
        40,000 accounts and domain, so that both of its sides get the same addresses."""
        self.root = os.path.join(work, "ref")
        self.users, self.domain = users, domain
        self.smtp_port = smtp_port
        self.pf_conf = os.path.join(self.root, "postfix-etc")
        self.queue = os.path.join(self.root, "postfix-queue")
        self.dc_dir = os.path.join(self.root, "dovecot")
        self.dc_conf = os.path.join(self.dc_dir, "dovecot.conf")
        self.mail = os.path.join(self.root, "mail")
        self.log = os.path.join(self.root, "log")
        self.maildirs: list[str] = []

    def setup(self) -> None:
        for d in (self.pf_conf, self.queue, self.dc_dir, self.mail, self.log, os.path.join(self.root, "postfix-data")):
            os.makedirs(d, exist_ok=True)
        # postfix and nobody must traverse the work dir (mktemp makes it 0700)
        for d in (os.path.dirname(self.root), self.root, self.dc_dir, self.log):
            os.chmod(d, 0o755)
        with open(os.path.join(self.pf_conf, "main.cf"), "w") as f:
            f.write(POSTFIX_MAIN.format(queue=self.queue, data=os.path.join(self.root, "postfix-data"),
                                        domain=self.domain, conf=self.pf_conf, log=self.log))
        master = open("/etc/postfix/master.cf").read()
        master = master.replace("\nsmtp      inet  n       -       y       -       -       smtpd",
                                f"\n127.0.0.1:{self.smtp_port} inet  n       -       y       -       -       smtpd", 1)
        if f"127.0.0.1:{self.smtp_port} inet" not in master:
            raise RuntimeError("unexpected /etc/postfix/master.cf: no default smtp inet line")
        with open(os.path.join(self.pf_conf, "master.cf"), "w") as f:
            f.write(master)
        with open(os.path.join(self.pf_conf, "vmailbox"), "w") as f:
            f.writelines(f"{u} ok\n" for u in self.users)
        chroot_files(self.queue)
        with open(os.path.join(self.dc_dir, "users"), "w") as f:
            for u in self.users:
                local = u.split("@")[0]
                f.write(f"{u}:{PASSWORD}:65534:65534::{self.mail}/{self.domain}/{local}::\n")
        with open(self.dc_conf, "w") as f:
            f.write(DOVECOT_CONF.format(run=os.path.join(self.dc_dir, "run"), log=self.log, mail=self.mail,
                                        users=os.path.join(self.dc_dir, "users"), queue=self.queue))
        shutil.chown(self.mail, "nobody", "nogroup")
        shutil.chown(os.path.join(self.root, "postfix-data"), "postfix", "postfix")
        self.maildirs = [os.path.join(self.mail, self.domain, u.split("@")[0], "Maildir", sub)
                         for u in self.users for sub in ("new", "cur")]

    def start(self) -> None:
        # daemons inherit stdout: never capture it (the pipe would stay open)
        with open(os.path.join(self.log, "start.log"), "a") as out:
            for cmd in (["postfix", "-c", self.pf_conf, "check"], ["dovecot", "-c", self.dc_conf],
                        ["postfix", "-c", self.pf_conf, "start"]):
                subprocess.run(cmd, check=True, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        sock = os.path.join(self.queue, "private", "dovecot-lmtp")
        for _ in range(200):
            if os.path.exists(sock) and self._port_open():
                return
            time.sleep(0.05)
        raise RuntimeError(f"reference did not come up; see {self.log}")

    def _port_open(self) -> bool:
        import socket
        try:
            socket.create_connection(("127.0.0.1", self.smtp_port), 1).close()
            return True
        except OSError:
            return False

    def roots(self) -> list[int]:
        pids = []
        for pf in (os.path.join(self.queue, "pid", "master.pid"), os.path.join(self.dc_dir, "run", "master.pid")):
            try:
                pids.append(int(open(pf).read().split()[0]))
            except (OSError, ValueError, IndexError):
                pass
        return pids

    def delivered(self) -> int:
        n = 0
        for d in self.maildirs:
            try:
                n += sum(1 for _ in os.scandir(d))
            except FileNotFoundError:
                pass
        return n

    def version(self) -> str:
        pv = run("postconf", "-h", "mail_version").stdout.strip()
        dv = run("dovecot", "--version").stdout.strip()
        return f"Postfix {pv}, Dovecot {dv}"

    def stop(self) -> None:
        for cmd in (["postfix", "-c", self.pf_conf, "stop"], ["dovecot", "-c", self.dc_conf, "stop"]):
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        time.sleep(0.5)
