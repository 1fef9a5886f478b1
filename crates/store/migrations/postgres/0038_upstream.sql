-- Ardoise metadata schema, version 38: upstream identity providers (issue 27,
-- item 2). An académie may delegate the web login to its own identity
-- provider: OpenID Connect (`kind` 'oidc': `url` is the issuer, found by
-- discovery) or CAS (`kind` 'cas': `url` is the CAS server's base). `claim`
-- is what the provider says that names an account (an OIDC claim such as
-- email or uid, or a CAS attribute; 'user' for the CAS user), looked up as
-- an address, an alias or a login. The client secret is kept either as a file path read at
-- each use (`secret_file`, preferred) or as a value (`secret`); neither is
-- ever logged.
CREATE TABLE upstream_providers (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    label        TEXT NOT NULL,
    url          TEXT NOT NULL,
    client_id    TEXT NOT NULL DEFAULT '',
    secret       TEXT,
    secret_file  TEXT,
    scopes       TEXT NOT NULL DEFAULT '',
    claim        TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
