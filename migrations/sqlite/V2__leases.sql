-- Leases: the server whose worker runs a job, until when it holds it, and
-- whether some server asked for the job to be cancelled; one row per start
-- of a job (which server, how it ended).
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until REAL;
ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_lease ON jobs(lease_owner) WHERE status = 'running';
CREATE TABLE job_runs (
    job_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    server TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    outcome TEXT,
    PRIMARY KEY (job_id, attempt)
);
