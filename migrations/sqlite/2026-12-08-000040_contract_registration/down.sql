ALTER TABLE conversion_contracts DROP COLUMN first_revenue_on;
ALTER TABLE schedule_lines DROP COLUMN held;
DROP INDEX contract_registrations_open;
DROP TABLE contract_registrations;
