# Sourced by scripts/test before anything runs: installs or starts what the
# test suite needs on a Debian machine, so that `./scripts/test` works on a
# fresh one by itself. Every step first checks whether its work is already
# done, so a machine with everything present spends about a second here.
#
# What it sets up (details in the README's Tests section):
# - s3s-fs (crates.io, cargo install into ~/.cache/ardoise-tools): the S3 server of the tests
# - Debian packages (apt): a C linker, PostgreSQL, nats-server, swaks, clamd, rspamd, pebble, headless Chromium
#   and its driver, Python's venv module, node and npm, LemonLDAP::NG's portal and Starman;
# - PostgreSQL on 127.0.0.1:5432, started if stopped; where the postgres role
#   cannot log in over TCP without a password, it gets one, and
#   ARDOISE_TEST_POSTGRES is exported accordingly;
# - a Python virtual environment with tests/e2e/requirements.txt
#   ($ARDOISE_VENV, default ~/.cache/ardoise-venv; Debian's own Python
#   refuses system-wide pip installs), exported as ARDOISE_PYTHON;
# - axe-core for the accessibility audit ($ARDOISE_AXE_DIR);
# - cargo-nextest, rustfmt and clippy.
# Set ARDOISE_SKIP_SETUP=1 to skip all of this (nothing is then checked).

if [ "${ARDOISE_SKIP_SETUP:-}" = 1 ]; then
    export ARDOISE_PYTHON="${ARDOISE_PYTHON:-python3}"
    return 0
fi

export DEBIAN_FRONTEND=noninteractive
_SUDO=""
if [ "$(id -u)" != 0 ]; then _SUDO="sudo"; fi

# Debian packages: the missing ones are installed together, in one apt run.
_missing=()
command -v cc >/dev/null || _missing+=(build-essential)
command -v swaks >/dev/null || _missing+=(swaks)
# Dovecot imapd: the reference the IMAP differential test compares answers with, and the
# source server test_migrate.py migrates from
command -v dovecot >/dev/null || _missing+=(dovecot-imapd)
# openssl: test_migrate.py makes the certificate of its Dovecot source
command -v openssl >/dev/null || _missing+=(openssl)
# systemd-analyze: test_packaging.py verifies and scores the systemd unit
command -v systemd-analyze >/dev/null || _missing+=(systemd)
# clamd: test_hygiene.py runs ClamAV's daemon with a signature database of its own (no freshclam)
command -v clamd >/dev/null || _missing+=(clamav-daemon)
# rspamd: test_rspamd.py runs Debian's rspamd from a private configuration (no network)
command -v rspamd >/dev/null || _missing+=(rspamd)
# pebble: test_acme.py obtains the server's certificate from this ACME test CA (with
# pebble-challtestsrv, in the same package, as its DNS)
command -v pebble >/dev/null || _missing+=(pebble)
# podman (with runc) and mmdebstrap: test_packaging.py builds the container file's runtime stage
# on a Debian base made by mmdebstrap (no image registry is reachable) and runs it
command -v podman >/dev/null || _missing+=(podman)
command -v runc >/dev/null || _missing+=(runc)
command -v mmdebstrap >/dev/null || _missing+=(mmdebstrap)
[ -x /usr/bin/chromium ] || _missing+=(chromium)
[ -x /usr/bin/chromedriver ] || _missing+=(chromium-driver)
# nats-server: test_cluster.py runs its own NATS server as the bus between two nodes (Debian's
# package installs it in /usr/sbin, outside an ordinary user's PATH)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || _missing+=(nats-server)
command -v pg_ctlcluster >/dev/null || _missing+=(postgresql)
command -v psql >/dev/null || _missing+=(postgresql-client)
python3 -c 'import venv, ensurepip' 2>/dev/null || _missing+=(python3-venv)
command -v npm >/dev/null || _missing+=(nodejs npm)
if [ "${#_missing[@]}" -gt 0 ]; then
    echo "scripts/test: installation de / installing ${_missing[*]}" >&2
    if [ -n "$_SUDO" ] && ! command -v sudo >/dev/null; then
        echo "scripts/test: installez-les en root (ou installez sudo) / install them as root (or install sudo)" >&2
        return 1
    fi
    $_SUDO apt-get update -qq
    $_SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${_missing[@]}" >/dev/null
fi
# LemonLDAP::NG: test_upstream_lemonldap.py runs Debian's portal (a PSGI application, under Starman)
# as the upstream OpenID Connect provider and CAS server, its users in SQLite. Without the
# Recommends (lemonldap-ng-fastcgi-server, which satisfies the portal's need of a web server, would
# bring nginx, a system service on port 80): the modules the portal loads are named instead:
# XML::Simple (CAS, undeclared), IO::String, GD::SecurityImage with Image::Magick (the captcha
# module, loaded even when no captcha is asked), Crypt::OpenSSL::Bignum (the JWKS), DBD::SQLite.
# Starman serves it: plackup's default server takes one connection at a time (Chromium's idle
# preconnections then stall the other clients).
if [ ! -r /usr/share/perl5/Lemonldap/NG/Portal/Main.pm ] || ! command -v starman >/dev/null \
        || ! perl -MXML::Simple -MDBD::SQLite -MImage::Magick -MIO::String -MCrypt::OpenSSL::Bignum -e1 2>/dev/null; then
    echo "scripts/test: installation de / installing LemonLDAP::NG" >&2
    if [ -n "$_SUDO" ] && ! command -v sudo >/dev/null; then
        echo "scripts/test: installez-le en root (ou installez sudo) / install it as root (or install sudo)" >&2
        return 1
    fi
    [ "${#_missing[@]}" -gt 0 ] || $_SUDO apt-get update -qq
    $_SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends liblemonldap-ng-portal-perl \
        lemonldap-ng-fastcgi-server starman libxml-simple-perl libio-string-perl libgd-securityimage-perl \
        libimage-magick-perl libcrypt-openssl-bignum-perl libstring-random-perl libdbd-sqlite3-perl >/dev/null
fi

# Rust: the toolchain itself is the newcomer's (see rustup.rs); its test tools are ours.
if ! command -v cargo >/dev/null; then
    echo "scripts/test: cargo est introuvable : installez Rust avec rustup (https://rustup.rs) /" \
        "cargo not found: install Rust with rustup" >&2
    return 1
fi
if command -v rustup >/dev/null; then
    { cargo fmt --version && cargo clippy --version; } >/dev/null 2>&1 || rustup component add rustfmt clippy
fi
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
# s3s-fs: the S3-compatible server (the s3s project's, over a folder) that the blob crate's
# tests and test_cluster.py store message contents in; built once into a cache of our own.
# 0.14.1: the last release that builds with Rust 1.92 (later ones ask for 1.96).
export ARDOISE_TOOLS="${ARDOISE_TOOLS:-$HOME/.cache/ardoise-tools}"
[ -x "$ARDOISE_TOOLS/bin/s3s-fs" ] \
    || cargo install --locked --quiet --root "$ARDOISE_TOOLS" --features binary s3s-fs@0.14.1
export ARDOISE_S3S_FS="$ARDOISE_TOOLS/bin/s3s-fs"

# PostgreSQL on 127.0.0.1:5432: start the newest cluster if it is stopped.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    _version="$(ls /etc/postgresql | sort -V | tail -1)"
    $_SUDO pg_ctlcluster --skip-systemctl-redirect "$_version" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    pg_isready -h 127.0.0.1 -p 5432 >/dev/null
fi
# The tests connect as postgres over TCP, by default to the database "test"
# (created if missing); where trust authentication is not set up (a fresh
# Debian install asks for a password), that role gets one and the tests use it.
if [ -z "${ARDOISE_TEST_POSTGRES:-}" ]; then
    if psql "postgres://postgres@127.0.0.1:5432/postgres" -qAtc 'select 1' >/dev/null 2>&1; then
        psql "postgres://postgres@127.0.0.1:5432/test" -qAtc 'select 1' >/dev/null 2>&1 \
            || psql "postgres://postgres@127.0.0.1:5432/postgres" -qc 'CREATE DATABASE test'
    else
        if [ "$(id -u)" = 0 ]; then
            su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\""
        else
            sudo -u postgres psql -q -c "ALTER USER postgres PASSWORD 'postgres'"
        fi
        export ARDOISE_TEST_POSTGRES="postgres://postgres:postgres@127.0.0.1:5432/postgres"
    fi
fi

# Python clients and the test runner, in a virtual environment of their own,
# reinstalled only when tests/e2e/requirements.txt changes.
_venv="${ARDOISE_VENV:-$HOME/.cache/ardoise-venv}"
_wanted="$(sha256sum tests/e2e/requirements.txt | cut -d' ' -f1)"
if [ "$(cat "$_venv/.ardoise-requirements" 2>/dev/null)" != "$_wanted" ]; then
    python3 -m venv "$_venv"
    "$_venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/e2e/requirements.txt
    echo "$_wanted" >"$_venv/.ardoise-requirements"
fi
export ARDOISE_PYTHON="$_venv/bin/python"

# axe-core for the webmail's accessibility audit (tests/e2e/test_webmail_audit.py),
# kept outside the clone.
export ARDOISE_AXE_DIR="${ARDOISE_AXE_DIR:-$HOME/.cache/ardoise-axe}"
[ -f "$ARDOISE_AXE_DIR/node_modules/axe-core/axe.min.js" ] \
    || npm install --silent --no-audit --no-fund --prefix "$ARDOISE_AXE_DIR" axe-core@4 >/dev/null

unset _missing _version _venv _wanted
