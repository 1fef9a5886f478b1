-- Ardoise metadata schema, version 13: status changes numbered in commit order.
-- The revocation watcher told changes apart by status_changed_at, in seconds:
-- an account suspended, reactivated and suspended again within one second
-- looked unchanged and its second suspension went unseen (issue 25, item 9).
-- A transaction that changes an account's status first takes the next number
-- of this one-row counter and stamps it on the account; the counter's row
-- stays locked until the commit, so numbers follow commit order and a watcher
-- that remembers the last number it saw misses nothing.
CREATE TABLE status_sequence (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL
);
INSERT INTO status_sequence (id, seq) VALUES (1, 0);
ALTER TABLE accounts ADD COLUMN status_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX accounts_status_seq ON accounts(status_seq);
