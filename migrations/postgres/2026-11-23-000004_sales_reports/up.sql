-- Net sales an SME reports for a royalty period (a calendar quarter), and the royalty line it
-- adds to the contract's schedule. Money is BIGINT minor units of the contract's currency.
CREATE TABLE sales_reports (
    agreement_id TEXT NOT NULL REFERENCES conversion_contracts (agreement_id),
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    net_sales_minor BIGINT NOT NULL,
    royalty_minor BIGINT NOT NULL,
    line_number INTEGER NOT NULL,
    reported_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (agreement_id, period_start)
);
