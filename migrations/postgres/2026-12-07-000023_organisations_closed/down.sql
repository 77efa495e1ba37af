DROP INDEX organisations_registration;
CREATE UNIQUE INDEX organisations_registration ON organisations (kind, registration_no);
ALTER TABLE organisations DROP COLUMN closed_at;
