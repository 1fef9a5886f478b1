//! Credentials: passwords, policy, TOTP, recovery codes, app passwords, throttling, journal.
