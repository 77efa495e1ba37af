-- Contract years of royalty contracts with a minimum per year, closed once the year and the
-- window for reporting its last quarter are over: what was reported, the minimum, and the
-- true-up line added to the schedule when the royalties fell short.
CREATE TABLE royalty_years (
    agreement_id TEXT NOT NULL REFERENCES conversion_contracts (agreement_id),
    year INTEGER NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    royalties_minor BIGINT NOT NULL,
    minimum_minor BIGINT NOT NULL,
    true_up_minor BIGINT NOT NULL,
    line_number INTEGER,
    closed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (agreement_id, year)
);

-- The first day the next contract year of a royalty contract with a minimum may close (never
-- later than the true day; the sweep computes the exact one), so the sweep reads only the
-- contracts that are due. NULL: nothing to close.
ALTER TABLE conversion_contracts ADD COLUMN royalty_next_close DATE;
UPDATE conversion_contracts SET royalty_next_close = converted_on + 365
    WHERE royalty_min_per_year IS NOT NULL;
CREATE INDEX conversion_contracts_royalty_next_close ON conversion_contracts (royalty_next_close);
