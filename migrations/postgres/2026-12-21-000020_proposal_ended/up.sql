-- A proposal whose trial request ended before the trial began (the institute rejected it, or
-- the enterprise withdrew it) is `ended`; it keeps the agreement's id, and its demand is open
-- again (docs/MARKET.md).
ALTER TABLE demand_proposals DROP CONSTRAINT demand_proposals_status_check;
ALTER TABLE demand_proposals
    ADD CONSTRAINT demand_proposals_status_check CHECK (status IN ('proposed', 'requested', 'ended'));
