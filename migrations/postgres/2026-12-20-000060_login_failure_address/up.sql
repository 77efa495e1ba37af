-- The client address a failed sign-in came from (an IPv6 client by its /64), so that guesses
-- spread over many e-mail addresses from one place are limited too. Empty for failures that
-- came from no address (a password changed on the profile page counts by e-mail only).
ALTER TABLE login_failures ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_address_at ON login_failures (address, at);
