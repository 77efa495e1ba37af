-- An organisation whose self-registration was refused is closed (`closed_at`): the record
-- stays for the audit trail, but its registration (tax) number is free for a new
-- registration, so the unique key covers open organisations only.
ALTER TABLE organisations ADD COLUMN closed_at TIMESTAMP;
DROP INDEX organisations_registration;
CREATE UNIQUE INDEX organisations_registration ON organisations (kind, registration_no)
    WHERE closed_at IS NULL;
