-- usefirst initial schema (PostgreSQL). Keep in step with ../../sqlite.
-- Ids are UUID text, instants are UTC timestamps, money is BIGINT minor units + currency,
-- rates and structured terms are exact text/JSON (never REAL).
CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('institute', 'sme', 'insurer', 'operator')),
    name TEXT NOT NULL,
    registration_no TEXT NOT NULL,
    province TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX organisations_registration ON organisations (kind, registration_no);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('sme', 'institute', 'insurer', 'admin', 'auditor')),
    password_hash TEXT NOT NULL,
    locale TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX users_organisation ON users (organisation_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_email_at ON login_failures (email, at);

CREATE TABLE technologies (
    id TEXT PRIMARY KEY NOT NULL,
    institute_id TEXT NOT NULL REFERENCES organisations (id),
    title_vi TEXT NOT NULL,
    title_en TEXT NOT NULL,
    summary_vi TEXT NOT NULL,
    summary_en TEXT NOT NULL,
    field TEXT NOT NULL,
    ip_type TEXT NOT NULL,
    ip_reference TEXT NOT NULL,
    valuation_minor BIGINT NOT NULL,
    valuation_currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'listed', 'withdrawn')),
    search_text TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX technologies_institute ON technologies (institute_id);
CREATE INDEX technologies_status_field ON technologies (status, field);

CREATE TABLE conversion_terms (
    id TEXT PRIMARY KEY NOT NULL,
    technology_id TEXT NOT NULL REFERENCES technologies (id),
    version INTEGER NOT NULL,
    price_model TEXT NOT NULL,
    currency TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (technology_id, version)
);

CREATE TABLE agreements (
    id TEXT PRIMARY KEY NOT NULL,
    number TEXT NOT NULL UNIQUE,
    technology_id TEXT NOT NULL REFERENCES technologies (id),
    institute_id TEXT NOT NULL REFERENCES organisations (id),
    sme_id TEXT NOT NULL REFERENCES organisations (id),
    insurer_id TEXT REFERENCES organisations (id),
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    terms_id TEXT NOT NULL REFERENCES conversion_terms (id),
    terms_version INTEGER NOT NULL,
    terms_snapshot TEXT,
    place_of_use TEXT NOT NULL,
    message TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    requested_start DATE NOT NULL,
    trial_start DATE,
    trial_end DATE,
    decision_deadline DATE,
    extended BOOLEAN NOT NULL,
    sme_signed_at TIMESTAMP,
    institute_signed_at TIMESTAMP,
    closed_reason TEXT,
    requested_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX agreements_sme ON agreements (sme_id, created_at);
CREATE INDEX agreements_institute ON agreements (institute_id, created_at);
CREATE INDEX agreements_insurer ON agreements (insurer_id);
CREATE INDEX agreements_status ON agreements (status);
CREATE INDEX agreements_created ON agreements (created_at);

CREATE TABLE counters (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_user_id TEXT,
    actor_organisation_id TEXT,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id, seq);

CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
