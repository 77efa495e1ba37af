-- Payments received on a conversion contract, their allocation to schedule lines (oldest
-- open first) and their distribution (institute / inventors / intermediary), in minor units.
CREATE TABLE payments (
    id TEXT PRIMARY KEY NOT NULL,
    agreement_id TEXT NOT NULL REFERENCES conversion_contracts (agreement_id),
    amount_minor BIGINT NOT NULL,
    received_on DATE NOT NULL,
    reference TEXT NOT NULL,
    to_institute BIGINT,
    to_inventors BIGINT,
    to_intermediary BIGINT,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (agreement_id, reference)
);

CREATE TABLE payment_allocations (
    payment_id TEXT NOT NULL REFERENCES payments (id),
    line_number INTEGER NOT NULL,
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (payment_id, line_number)
);
