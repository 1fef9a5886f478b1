-- Ardoise metadata schema, version 19: Ardoise as an identity provider
-- (OpenID Connect and CAS 3.0). sso_clients holds the applications an
-- administrator registered: OIDC clients (redirect URIs compared exactly,
-- one per line) and CAS services (one URL prefix). Only a hash of a client
-- secret is kept; NULL is a public client (PKCE required).
CREATE TABLE sso_clients (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    secret_hash    TEXT,
    redirect_uris  TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    academie_app   BIGINT NOT NULL DEFAULT 0,
    require_2fa    BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL
);
-- Everything handed out for a client, by the hash of its value: codes,
-- access and refresh tokens, CAS service tickets. family is the
-- authorization they descend from (a code's hash): replaying a code or an
-- old refresh token revokes the whole family. used_at makes codes, tickets
-- and refresh tokens single use; data is the grant's JSON (redirect URI,
-- PKCE challenge, nonce, scope, auth time, amr, service URL).
CREATE TABLE sso_grants (
    token_hash   TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    client_id    TEXT NOT NULL REFERENCES sso_clients(id) ON DELETE CASCADE,
    account_id   BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    family       TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX sso_grants_family ON sso_grants (family);
CREATE INDEX sso_grants_account ON sso_grants (account_id);
CREATE INDEX sso_grants_expiry ON sso_grants (expires_at);
-- The scopes an account agreed to give a client (consent page).
CREATE TABLE sso_consents (
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES sso_clients(id) ON DELETE CASCADE,
    scopes      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (account_id, client_id)
);
-- Web sessions whose login proved a second factor (the acr/amr of tokens
-- issued from them); a row outlives its session harmlessly until purged.
CREATE TABLE sso_session_factors (
    session_hash  TEXT PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    at            BIGINT NOT NULL
);
