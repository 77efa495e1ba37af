-- One row per run of a scheduled job. A run is claimed by inserting its (job, slot) before it
-- starts: the unique key lets exactly one instance run each slot. `slot` is the scheduled
-- instant (UTC) for scheduled runs and the moment of the request for manual ones.
CREATE TABLE job_runs (
    id TEXT PRIMARY KEY NOT NULL,
    job TEXT NOT NULL,
    slot TIMESTAMP NOT NULL,
    triggered_by TEXT NOT NULL,
    instance TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    counts TEXT,
    error TEXT
);
CREATE UNIQUE INDEX job_runs_job_slot ON job_runs (job, slot);
CREATE INDEX job_runs_started_at ON job_runs (started_at);
