-- Links to set a new password, mailed on request: only the SHA-256 of the token is kept; a
-- link works once (`used_at`) and until `expires_at`. The rows of the last hour also limit
-- how many links one address can ask for.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX password_resets_user ON password_resets (user_id, created_at);
