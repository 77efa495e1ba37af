-- Each user reads the messages sent to them, newest first.
CREATE INDEX outbox_recipient ON outbox (recipient_email, created_at);
