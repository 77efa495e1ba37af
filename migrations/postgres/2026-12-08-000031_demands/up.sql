-- Demands: what an SME needs, posted for institutes to answer with one of their listed
-- technologies. `public` demands are seen by every institute, `invited` ones only by the
-- institutes the SME names (demand_invitees). A demand is `open` until its owner closes it
-- or a trial is requested from one of its proposals (`closed_reason` says which; the trial
-- is `agreement_id`).
CREATE TABLE demands (
    id TEXT PRIMARY KEY NOT NULL,
    sme_id TEXT NOT NULL REFERENCES organisations (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    sector TEXT NOT NULL,
    province TEXT NOT NULL,
    currency TEXT NOT NULL,
    budget_min_minor BIGINT NOT NULL,
    budget_max_minor BIGINT NOT NULL CHECK (budget_max_minor >= budget_min_minor),
    wanted_by DATE NOT NULL,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'invited')),
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    closed_reason TEXT CHECK (closed_reason IN ('owner', 'trial')),
    agreement_id TEXT REFERENCES agreements (id),
    version BIGINT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX demands_sme ON demands (sme_id, updated_at);
CREATE INDEX demands_status ON demands (status, updated_at);

CREATE TABLE demand_invitees (
    demand_id TEXT NOT NULL REFERENCES demands (id),
    institute_id TEXT NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (demand_id, institute_id)
);
CREATE INDEX demand_invitees_institute ON demand_invitees (institute_id);

-- An institute's answer: one of its technologies, with a short message. `requested` once
-- the SME has asked for a trial of it (`agreement_id`).
CREATE TABLE demand_proposals (
    id TEXT PRIMARY KEY NOT NULL,
    demand_id TEXT NOT NULL REFERENCES demands (id),
    institute_id TEXT NOT NULL REFERENCES organisations (id),
    technology_id TEXT NOT NULL REFERENCES technologies (id),
    message TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'requested')),
    agreement_id TEXT REFERENCES agreements (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (demand_id, technology_id)
);
CREATE INDEX demand_proposals_institute ON demand_proposals (institute_id, created_at);
