-- Enterprises that registered themselves: the organisation and its first user are created
-- with the application, the user inactive until an admin approves. `status` is
-- `unconfirmed` (the e-mail link not yet followed), `confirmed`, `approved` or `refused`
-- (with the admin's `reason`). Only the SHA-256 of the e-mail link's token is kept.
CREATE TABLE registrations (
    organisation_id TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    sector TEXT NOT NULL,
    address TEXT NOT NULL,
    status TEXT NOT NULL,
    confirm_token_hash TEXT NOT NULL,
    confirm_expires_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    decided_at TIMESTAMP,
    decided_by TEXT,
    reason TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX registrations_confirm ON registrations (confirm_token_hash);
CREATE INDEX registrations_user ON registrations (user_id);
CREATE INDEX registrations_status ON registrations (status, confirmed_at);
