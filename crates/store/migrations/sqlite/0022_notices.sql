-- Ardoise metadata schema, version 22: maintenance notices (issue 24, item 2).
-- Announcements scheduled by the administrators, each shown from starts_at
-- (unix seconds) until ends_at (excluded; open-ended when NULL) on the login
-- page, every webmail page and to IMAP clients at login (`* OK [ALERT]`).
-- severity is info, maintenance or incident. The one banner of version 10
-- becomes the first notice, and its table goes.
CREATE TABLE notices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    text_fr     TEXT NOT NULL,
    text_en     TEXT NOT NULL DEFAULT '',
    severity    TEXT NOT NULL DEFAULT 'info',
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX notices_window ON notices (starts_at, ends_at);
INSERT INTO notices (text_fr, severity, starts_at, ends_at, created_at)
    SELECT text, 'info', set_at, until_at, set_at FROM web_banner;
DROP TABLE web_banner;
