-- Ardoise metadata schema, version 42: users' requests for more space
-- (issue 24, « augmentée sur demande »). A user asks from Réglages with a
-- short reason; the administrators whose scope covers the account approve
-- (with the quota set) or refuse (with a reason). One open request per
-- account, which the partial unique index enforces.
CREATE TABLE quota_requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    reason        TEXT NOT NULL,
    -- The quota and the usage when asked (NULL quota: none).
    quota_bytes   BIGINT,
    used_bytes    BIGINT NOT NULL,
    requested_at  BIGINT NOT NULL,
    -- `open`, `approved` or `refused`.
    status        TEXT NOT NULL DEFAULT 'open',
    decided_at    BIGINT,
    -- The deciding administrator's address (`opérateur` from the CLI).
    decided_by    TEXT,
    -- The quota set when approved (NULL: unlimited).
    granted_bytes BIGINT,
    -- The reason of a refusal.
    answer        TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX quota_requests_one_open ON quota_requests (account_id) WHERE status = 'open';
CREATE INDEX quota_requests_by_account ON quota_requests (account_id, id);
CREATE INDEX quota_requests_by_status ON quota_requests (status, id);
