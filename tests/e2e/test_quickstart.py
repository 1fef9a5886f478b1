"""`ardoise quickstart` (issue 24, item 8): from nothing to a configuration that passes
`config check`, a database holding the domain, a DKIM key, and every DNS record printed; it
never overwrites a configuration, and bad or missing answers are refused with a clear message."""

import subprocess

from conftest import binary


def quickstart(tmp_path, *args):
    return subprocess.run([binary(), "quickstart", "--config", str(tmp_path / "etc" / "ardoise.toml"),
                           "--data", str(tmp_path / "data"), *args],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_quickstart_writes_a_working_configuration(tmp_path):
    out = quickstart(tmp_path, "--domain", "ac-exemple.fr", "--yes")
    assert out.returncode == 0, out.stderr
    config = tmp_path / "etc" / "ardoise.toml"
    text = config.read_text()
    assert 'hostname = "mail.ac-exemple.fr"' in text and 'public_url = "https://mail.ac-exemple.fr"' in text
    check = subprocess.run([binary(), "config", "check", "--config", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    # The database exists and holds the domain.
    domains = subprocess.run([binary(), "admin", "--config", str(config), "domain", "list"],
                             capture_output=True, text=True, timeout=60)
    assert domains.stdout.split() == ["ac-exemple.fr"], domains.stderr
    # Every record a domain needs, the DKIM key from the file quickstart made.
    for record in ["ac-exemple.fr.\tIN MX\t10 mail.ac-exemple.fr.", "ardoise._domainkey.ac-exemple.fr.\tIN TXT\t\"v=DKIM1;",
                   "_dmarc.ac-exemple.fr.", "_imaps._tcp.ac-exemple.fr.", "_submissions._tcp.ac-exemple.fr."]:
        assert record in out.stdout, record
    assert any((tmp_path / "data" / "dkim").iterdir())
    assert "ardoise serve --config" in out.stdout

    # A second run overwrites nothing.
    before = config.read_text()
    again = quickstart(tmp_path, "--domain", "ac-autre.fr", "--yes")
    assert again.returncode != 0 and "existe déjà" in again.stderr
    assert config.read_text() == before


def test_quickstart_refuses_bad_or_missing_answers(tmp_path):
    missing = quickstart(tmp_path, "--yes")
    assert missing.returncode != 0 and "--yes" in missing.stderr
    bad = quickstart(tmp_path, "--domain", "pas un domaine", "--yes")
    assert bad.returncode != 0 and "pas un domaine" in bad.stderr
    bad_host = quickstart(tmp_path, "--domain", "ac-exemple.fr", "--hostname", "mail", "--yes")
    assert bad_host.returncode != 0 and "mail" in bad_host.stderr
    assert not (tmp_path / "etc" / "ardoise.toml").exists()
