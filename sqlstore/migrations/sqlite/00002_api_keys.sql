-- +goose Up
-- REST API keys. The key itself is never stored: only its SHA-256 hash and its
-- last four characters.
CREATE TABLE api_keys (
    id                  TEXT PRIMARY KEY,
    account_id          TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind                TEXT NOT NULL CHECK (kind IN ('general', 'user_token')),
    -- The owner of a user token; removing the user deletes their tokens.
    user_id             TEXT REFERENCES users (id) ON DELETE CASCADE,
    description         TEXT NOT NULL,
    read_only           INTEGER NOT NULL CHECK (read_only IN (0, 1)),
    api_version         INTEGER NOT NULL,
    hash                BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    last4               TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    created_by_type     TEXT NOT NULL,
    created_by_id       TEXT NOT NULL,
    created_by_summary  TEXT NOT NULL,
    disabled_at         INTEGER,
    disabled_by_type    TEXT NOT NULL DEFAULT '',
    disabled_by_id      TEXT NOT NULL DEFAULT '',
    disabled_by_summary TEXT NOT NULL DEFAULT '',
    last_used_at        INTEGER,
    CHECK ((kind = 'user_token') = (user_id IS NOT NULL))
);

CREATE INDEX api_keys_account_kind ON api_keys (account_id, kind);
CREATE INDEX api_keys_user ON api_keys (user_id);

-- An account's audit trail, read newest first by seq.
CREATE TABLE audit_records (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    at            INTEGER NOT NULL,
    actor_type    TEXT NOT NULL,
    actor_id      TEXT NOT NULL,
    actor_summary TEXT NOT NULL,
    action        TEXT NOT NULL,
    target_type   TEXT NOT NULL,
    target_id     TEXT NOT NULL,
    details       TEXT NOT NULL
);

CREATE INDEX audit_records_account_seq ON audit_records (account_id, seq);

-- +goose Down
DROP TABLE audit_records;
DROP TABLE api_keys;
