-- Times are Unix seconds (double precision) as in the SQLite store; leases
-- are compared with the database's clock, so the servers' clocks may differ.
CREATE TABLE instances (
    hash TEXT PRIMARY KEY,
    bundle TEXT NOT NULL,
    sizes TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE jobs (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    idem_key TEXT,
    kind TEXT NOT NULL,
    method TEXT NOT NULL,
    options TEXT NOT NULL,
    instance_hash TEXT NOT NULL REFERENCES instances(hash),
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    error TEXT,
    result TEXT,
    progress TEXT,
    lease_owner TEXT,
    lease_until DOUBLE PRECISION,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (owner, idem_key)
);
CREATE INDEX jobs_queued ON jobs(seq) WHERE status = 'queued';
CREATE INDEX jobs_running ON jobs(lease_owner) WHERE status = 'running';
CREATE INDEX jobs_owner ON jobs(owner, seq);
CREATE TABLE job_runs (
    job_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    server TEXT NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    ended_at DOUBLE PRECISION,
    outcome TEXT,
    PRIMARY KEY (job_id, attempt)
);
