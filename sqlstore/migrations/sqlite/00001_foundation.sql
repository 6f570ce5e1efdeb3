-- +goose Up
CREATE TABLE accounts (
    id                TEXT PRIMARY KEY,
    subdomain         TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    plan              TEXT NOT NULL,
    ability_overrides TEXT NOT NULL DEFAULT '{}',
    created_at        INTEGER NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    time_zone     TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (account_id, email)
);

-- One row per change that running servers must learn of (cache invalidation).
CREATE TABLE changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE changes;
DROP TABLE users;
DROP TABLE accounts;
