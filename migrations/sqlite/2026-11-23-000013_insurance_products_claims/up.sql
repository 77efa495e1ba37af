-- Insurance products as insurers define them, one row per version: a policy keeps the version
-- it was bound on. Money is BIGINT minor units of `currency`; rates and shares are exact
-- decimal strings; `risks` is a comma-separated list.
CREATE TABLE insurance_products (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    insurer_id TEXT NOT NULL REFERENCES organisations (id),
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    risks TEXT NOT NULL,
    currency TEXT NOT NULL,
    premium_rate TEXT NOT NULL,
    max_coverage_minor BIGINT NOT NULL,
    deductible_minor BIGINT NOT NULL,
    share_sme TEXT NOT NULL,
    share_institute TEXT NOT NULL,
    share_subsidy TEXT NOT NULL,
    subsidy_cap_minor BIGINT,
    active_from DATE NOT NULL,
    active_until DATE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX insurance_products_insurer ON insurance_products (insurer_id);

-- The product a party chose for an agreement's insurance (before signing) and the cover asked
-- for; the policy is bound on exactly this version when both parties have signed.
CREATE TABLE agreement_insurance (
    agreement_id TEXT PRIMARY KEY NOT NULL REFERENCES agreements (id),
    product_id TEXT NOT NULL,
    product_version INTEGER NOT NULL,
    coverage_minor BIGINT NOT NULL,
    chosen_by_org TEXT NOT NULL REFERENCES organisations (id),
    chosen_at TIMESTAMP NOT NULL,
    FOREIGN KEY (product_id, product_version) REFERENCES insurance_products (id, version)
);

-- Why a policy ended: the agreement's end (declined, lapsed, terminated), its conversion
-- (cover without non-payment) or the payment schedule paid in full.
ALTER TABLE insurance_policies ADD COLUMN ended_reason TEXT;

-- Claims on a bound policy: filed by the covered party, decided by the insurer.
CREATE TABLE insurance_claims (
    id TEXT PRIMARY KEY NOT NULL,
    number TEXT NOT NULL UNIQUE,
    agreement_id TEXT NOT NULL REFERENCES agreements (id),
    policy_id TEXT NOT NULL REFERENCES insurance_policies (id),
    insurer_id TEXT NOT NULL REFERENCES organisations (id),
    claimant_org TEXT NOT NULL REFERENCES organisations (id),
    risk TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    payout_minor BIGINT,
    decision_reason TEXT,
    payment_reference TEXT,
    filed_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    paid_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX insurance_claims_agreement ON insurance_claims (agreement_id);
CREATE INDEX insurance_claims_policy ON insurance_claims (policy_id);
CREATE INDEX insurance_claims_insurer ON insurance_claims (insurer_id);
CREATE INDEX insurance_policies_insurer ON insurance_policies (insurer_id);
