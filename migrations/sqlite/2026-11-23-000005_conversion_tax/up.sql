-- The tax recorded when an agreement converts: a rate, or an exemption with its legal basis.
ALTER TABLE conversion_contracts ADD COLUMN tax_kind TEXT;
ALTER TABLE conversion_contracts ADD COLUMN tax_rate TEXT;
ALTER TABLE conversion_contracts ADD COLUMN tax_basis TEXT;
ALTER TABLE conversion_contracts ADD COLUMN tax_minor BIGINT;
