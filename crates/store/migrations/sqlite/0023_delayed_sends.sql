-- Ardoise metadata schema, version 23: undo send (issue 19, item 1).
-- A message sent from the webmail first waits as a draft (mailbox_id, uid
-- in the Drafts folder) until send_at (unix seconds). Whoever claims the row
-- first wins, once: the sender sets claimed_at (and deletes the row when the
-- message is out), "Annuler l'envoi" deletes the row while claimed_at is
-- still NULL. A row claimed long ago belongs to a node that died while
-- sending: it is claimed again. undo_send_secs is the account's chosen
-- delay (NULL: the installation's [web] undo_send_delay).
CREATE TABLE delayed_sends (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    mailbox_id  BIGINT NOT NULL,
    uid         BIGINT NOT NULL,
    send_at     BIGINT NOT NULL,
    claimed_at  BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX delayed_sends_due ON delayed_sends (send_at);
CREATE INDEX delayed_sends_account ON delayed_sends (account_id);
ALTER TABLE web_prefs ADD COLUMN undo_send_secs BIGINT;
