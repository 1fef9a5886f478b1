-- The statistical spam classifier (issue 20): token counts per account and
-- for the whole platform (account 0), messages trained per account, and
-- which message (account, blob) was trained as what, so that training it
-- again the other way moves its counts instead of adding them twice.
CREATE TABLE bayes_tokens (
    account     BIGINT NOT NULL,
    token       BIGINT NOT NULL,
    spam        BIGINT NOT NULL,
    ham         BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    PRIMARY KEY (account, token)
);
CREATE INDEX bayes_tokens_prune ON bayes_tokens (last_seen);
CREATE TABLE bayes_totals (
    account     BIGINT PRIMARY KEY,
    spam        BIGINT NOT NULL,
    ham         BIGINT NOT NULL
);
CREATE TABLE bayes_trained (
    account     BIGINT NOT NULL,
    blob        TEXT NOT NULL,
    spam        BIGINT NOT NULL,
    trained_at  BIGINT NOT NULL,
    PRIMARY KEY (account, blob)
);
