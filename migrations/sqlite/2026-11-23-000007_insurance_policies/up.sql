-- An insurance policy bound on an agreement: the product's figures as they were when bound
-- (coverage, premium rate, deductible, premium shares, subsidy cap), and the premium with who
-- pays what, computed once by settlement. Money is BIGINT minor units of `currency`; rates
-- and shares are exact decimal strings.
CREATE TABLE insurance_policies (
    id TEXT PRIMARY KEY NOT NULL,
    agreement_id TEXT NOT NULL REFERENCES agreements (id),
    insurer_id TEXT NOT NULL REFERENCES organisations (id),
    sme_id TEXT NOT NULL REFERENCES organisations (id),
    product_id TEXT,
    product_version INTEGER,
    risks TEXT NOT NULL,
    currency TEXT NOT NULL,
    coverage_minor BIGINT NOT NULL,
    premium_rate TEXT NOT NULL,
    deductible_minor BIGINT NOT NULL,
    share_sme TEXT NOT NULL,
    share_institute TEXT NOT NULL,
    share_subsidy TEXT NOT NULL,
    subsidy_cap_minor BIGINT,
    subsidy_year INTEGER NOT NULL,
    rounding TEXT NOT NULL,
    premium_minor BIGINT NOT NULL,
    sme_pays_minor BIGINT NOT NULL,
    institute_pays_minor BIGINT NOT NULL,
    subsidy_minor BIGINT NOT NULL,
    subsidy_capped_minor BIGINT NOT NULL,
    status TEXT NOT NULL,
    bound_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX insurance_policies_agreement ON insurance_policies (agreement_id);
-- The subsidy an SME has received in a calendar year (the cap is per SME per year).
CREATE INDEX insurance_policies_sme_year ON insurance_policies (sme_id, subsidy_year);
