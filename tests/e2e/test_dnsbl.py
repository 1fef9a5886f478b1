"""DNS blocklists (issue 20, `[hygiene] dnsbl` and `dnsbl_domains`) on the running binary,
answered by the static DNS table of `[outbound] dns_override_file` (no network). The client
connects from 127.0.0.2, every blocklist's test entry, or from 127.0.0.1, listed nowhere."""

import smtplib

from conftest import DOMAIN
from test_hygiene import JUNK, folder, message, wait_for_message

TABLE = """\
# zen-style list: 127.0.0.2 is listed, 127.0.0.1 is not
2.0.0.127.zen.example.test A 127.0.0.2
# dbl-style list: the From domain bulk.example.net is listed
bulk.example.net.dbl.example.test A 127.0.1.2
# the lists' own error code (query refused) means nothing
1.0.0.127.refusing.example.test A 127.255.255.254
"""


def start(make_server, tmp_path):
    table = tmp_path / "dns.txt"
    table.write_text(TABLE)
    hygiene = ('dnsbl = ["zen.example.test", "refusing.example.test"]\ndnsbl_domains = ["dbl.example.test"]\n'
               "dnsbl_points = 3.0\n")
    s = make_server(smtp_extra=f'\n[hygiene]\n{hygiene}\n[outbound]\ndns_override_file = "{table}"\n')
    s.create("claire.martin", password="Ardoise-Test-2026")
    return s.start()


def send_from(server, source: str, raw: bytes, sender: str):
    with smtplib.SMTP("127.0.0.1", server.smtp_port, source_address=(source, 0), timeout=30) as s:
        return s.sendmail(sender, [f"claire.martin@{DOMAIN}"], raw)


def rules_of(m) -> list:
    return m["X-Spam-Status"].split("tests=", 1)[1].split(",")


def test_listed_address_and_domain_add_points(make_server, tmp_path):
    server = start(make_server, tmp_path)
    # Listed address (3 points) and listed From domain (3 more): over the junk threshold (5).
    send_from(server, "127.0.0.2", message("Promotion", "Bonjour.", sender="Promo <offres@bulk.example.net>"),
              "offres@bulk.example.net")
    junk = wait_for_message(server, JUNK, "Promotion")
    assert "DNSBL_LISTED" in rules_of(junk) and "DBL_LISTED" in rules_of(junk), junk["X-Spam-Status"]
    assert "zen.example.test 127.0.0.2" in junk["X-Spam-Report"], junk["X-Spam-Report"]
    # Listed address alone: 3 points, still in the Inbox, the reason recorded.
    send_from(server, "127.0.0.2", message("Sortie", "Bonjour."), "parent@example.org")
    inbox = wait_for_message(server, "INBOX", "Sortie")
    assert rules_of(inbox).count("DNSBL_LISTED") == 1, inbox["X-Spam-Status"]
    # Listed nowhere (127.0.0.1; the refusing list's error code is not a listing).
    send_from(server, "127.0.0.1", message("Cantine", "Bonjour."), "parent@example.org")
    clean = wait_for_message(server, "INBOX", "Cantine")
    assert "DNSBL_LISTED" not in rules_of(clean) and "DBL_LISTED" not in rules_of(clean), clean["X-Spam-Status"]
    assert not any("Promotion" in str(m["Subject"]) for m in folder(server, "INBOX"))
