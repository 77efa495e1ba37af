-- What a conversion fixes: the contract (terms computed into money at conversion) and its
-- payment schedule. Money is BIGINT minor units of the contract's currency.
CREATE TABLE conversion_contracts (
    agreement_id TEXT PRIMARY KEY NOT NULL REFERENCES agreements (id),
    currency TEXT NOT NULL,
    price_model TEXT NOT NULL,
    rounding TEXT NOT NULL,
    early_conversion_discount TEXT,
    total_minor BIGINT NOT NULL,
    converted_on DATE NOT NULL,
    royalty_rate TEXT,
    royalty_min_per_year TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE schedule_lines (
    agreement_id TEXT NOT NULL REFERENCES conversion_contracts (agreement_id),
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    due DATE NOT NULL,
    amount_minor BIGINT NOT NULL,
    paid_minor BIGINT NOT NULL,
    PRIMARY KEY (agreement_id, number)
);
CREATE INDEX schedule_lines_due ON schedule_lines (due);
