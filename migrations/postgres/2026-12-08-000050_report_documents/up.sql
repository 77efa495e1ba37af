-- Every monthly report PDF usefirst issues, stored by the job or downloaded from the report
-- page, the API or the command line: the code it prints (and carries in its QR code) so that
-- anyone can check it at /verify/{code}, and its SHA-256 so that the file itself can be
-- checked. The file is kept only for stored reports (monthly_report_files, report_id set).
-- An edition is one such file: the editions of a month in one language, ordered by when they
-- were made, tell a reader whether a later one exists.
CREATE TABLE report_documents (
    verify_code TEXT PRIMARY KEY NOT NULL,
    month TEXT NOT NULL,
    lang TEXT NOT NULL,
    provisional BOOLEAN NOT NULL,
    sha256 TEXT NOT NULL,
    generated_at TIMESTAMP NOT NULL,
    report_id TEXT REFERENCES monthly_reports (id)
);
CREATE INDEX report_documents_sha256 ON report_documents (sha256);
CREATE INDEX report_documents_editions ON report_documents (month, lang, generated_at);
