-- Screenings of technologies before they are listed: one row per submission by the
-- institute, completed by the reviewer's decision (`outcome` listed or returned, with the
-- readiness level, the checklist and notes; a return gives its reason). Rows are never
-- deleted or rewritten after the decision, so they are the technology's screening history.
CREATE TABLE technology_screenings (
    id TEXT PRIMARY KEY NOT NULL,
    technology_id TEXT NOT NULL REFERENCES technologies (id),
    technology_version BIGINT NOT NULL,
    submitted_by TEXT NOT NULL REFERENCES users (id),
    submitted_at TIMESTAMP NOT NULL,
    outcome TEXT,
    trl INTEGER,
    rights_clear BOOLEAN,
    rights_clear_note TEXT,
    inventors_agree BOOLEAN,
    inventors_agree_note TEXT,
    valuation_basis BOOLEAN,
    valuation_basis_note TEXT,
    notes TEXT,
    reason TEXT,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP
);
CREATE INDEX technology_screenings_technology ON technology_screenings (technology_id, submitted_at);
CREATE INDEX technology_screenings_open ON technology_screenings (decided_at, submitted_at);
