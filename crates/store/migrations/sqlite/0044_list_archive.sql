-- Ardoise metadata schema, version 44: list archives (issue 22).
-- A list whose `archive` is on keeps every post it distributes, as its
-- members got it (the decorated message), one row per post holding one
-- reference on the message's blob, like a held post: one blob however many
-- members. Discussion groups archive by default (existing ones too),
-- institutional lists do not. The archive is kept as long as the list;
-- deleting the list releases the references.
ALTER TABLE lists ADD COLUMN archive BIGINT NOT NULL DEFAULT 0;
UPDATE lists SET archive = discussion;

CREATE TABLE list_archive (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id      BIGINT NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    blob         TEXT NOT NULL,
    size         BIGINT NOT NULL,
    from_addr    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    received_at  BIGINT NOT NULL
);
CREATE INDEX list_archive_newest ON list_archive (list_id, id);
CREATE INDEX list_archive_msgid ON list_archive (list_id, message_id);
