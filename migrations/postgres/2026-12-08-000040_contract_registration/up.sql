-- Registration of a conversion contract (Vietnam: Law on Technology Transfer 2017 Art. 31 and
-- Decree 76/2018/ND-CP; China: technology-contract registration): whether it is required and
-- why, its deadline, and the certificate once entered. One row per conversion contract.
CREATE TABLE contract_registrations (
    agreement_id TEXT PRIMARY KEY NOT NULL REFERENCES conversion_contracts (agreement_id),
    jurisdiction TEXT,
    required BOOLEAN NOT NULL,
    reason TEXT NOT NULL,
    signed_on DATE NOT NULL,
    deadline DATE,
    takes_effect_on_certificate BOOLEAN NOT NULL,
    certificate_number TEXT,
    certificate_date DATE,
    issuing_office TEXT,
    vat_exemption_ref TEXT,
    registered_at TIMESTAMP,
    registered_by TEXT
);
CREATE INDEX contract_registrations_open ON contract_registrations (deadline)
    WHERE required AND certificate_date IS NULL;

-- A line is held while what starts its clock is not known yet (the registration certificate,
-- the SME's first sales): its due day is provisional, it is neither overdue nor reminded.
ALTER TABLE schedule_lines ADD COLUMN held BOOLEAN NOT NULL DEFAULT FALSE;
-- The day the SME first reported sales above zero (a first-revenue trigger is met).
ALTER TABLE conversion_contracts ADD COLUMN first_revenue_on DATE;
