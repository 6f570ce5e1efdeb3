-- +goose Up
-- A change of a credential carries the credential's SHA-256 hash, so that
-- caches drop exactly its entry, also the unknown-credential entry of a key
-- just created. created_at is the database's time from now on, the clock
-- that prunes the feed.
ALTER TABLE changes ADD COLUMN hash BLOB CHECK (hash IS NULL OR length(hash) = 32);

-- The address a key was last used from, flushed with last_used_at.
ALTER TABLE api_keys ADD COLUMN last_used_from TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE api_keys DROP COLUMN last_used_from;
ALTER TABLE changes DROP COLUMN hash;
