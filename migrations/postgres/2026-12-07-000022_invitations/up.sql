-- Users an admin invited by e-mail: the user is created without a password, and the mailed
-- link lets them set one. Only the SHA-256 of the link's token is kept; a link works once
-- (`used_at`, and using one uses up every other link of the user) and until `expires_at`.
-- A user all of whose links are unused has not accepted the invitation yet.
CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    invited_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX invitations_user ON invitations (user_id, created_at);
