ALTER TABLE conversion_contracts DROP COLUMN tax_minor;
ALTER TABLE conversion_contracts DROP COLUMN tax_basis;
ALTER TABLE conversion_contracts DROP COLUMN tax_rate;
ALTER TABLE conversion_contracts DROP COLUMN tax_kind;
