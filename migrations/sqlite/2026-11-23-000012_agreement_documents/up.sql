-- Every document generated for an agreement: one per agreement version, kind and language,
-- generated on first request and kept, so the same request always answers the same bytes
-- and a PDF (or its SHA-256) can be traced back to the agreement it belongs to.
CREATE TABLE agreement_documents (
    agreement_id TEXT NOT NULL REFERENCES agreements (id),
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    lang TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    pages INTEGER NOT NULL,
    pdf BLOB NOT NULL,
    generated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (agreement_id, version, kind, lang)
);
CREATE INDEX agreement_documents_sha256 ON agreement_documents (sha256);
