-- A proposal whose trial request ended before the trial began (the institute rejected it, or
-- the enterprise withdrew it) is `ended`; it keeps the agreement's id, and its demand is open
-- again (docs/MARKET.md). SQLite cannot change a CHECK: the table is made again (nothing
-- refers to it).
ALTER TABLE demand_proposals RENAME TO demand_proposals_before;
DROP INDEX demand_proposals_institute;
CREATE TABLE demand_proposals (
    id TEXT PRIMARY KEY NOT NULL,
    demand_id TEXT NOT NULL REFERENCES demands (id),
    institute_id TEXT NOT NULL REFERENCES organisations (id),
    technology_id TEXT NOT NULL REFERENCES technologies (id),
    message TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'requested', 'ended')),
    agreement_id TEXT REFERENCES agreements (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (demand_id, technology_id)
);
INSERT INTO demand_proposals SELECT * FROM demand_proposals_before;
DROP TABLE demand_proposals_before;
CREATE INDEX demand_proposals_institute ON demand_proposals (institute_id, created_at);
