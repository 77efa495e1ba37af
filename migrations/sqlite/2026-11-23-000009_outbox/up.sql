-- The mail outbox: every message is written in the same transaction as the change that
-- causes it, then delivered by the deliver-mail job. `message_id` is the Message-ID header,
-- stable across retries, so a recipient's mail system can drop a repeat.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    message_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    agreement_id TEXT REFERENCES agreements (id),
    recipient_email TEXT NOT NULL,
    recipient_name TEXT NOT NULL,
    locale TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE UNIQUE INDEX outbox_message_id ON outbox (message_id);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_agreement ON outbox (agreement_id);
