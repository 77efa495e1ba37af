DROP INDEX insurance_policies_insurer;
DROP TABLE insurance_claims;
ALTER TABLE insurance_policies DROP COLUMN ended_reason;
DROP TABLE agreement_insurance;
DROP TABLE insurance_products;
