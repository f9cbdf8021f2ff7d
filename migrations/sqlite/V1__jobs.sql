-- The schema of the stores made before migrations were kept: created only
-- where it is missing, so such a store takes this version as it is.
CREATE TABLE IF NOT EXISTS instances (
    hash TEXT PRIMARY KEY,
    bundle TEXT NOT NULL,
    sizes TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    idem_key TEXT,
    kind TEXT NOT NULL,
    method TEXT NOT NULL,
    options TEXT NOT NULL,
    instance_hash TEXT NOT NULL REFERENCES instances(hash),
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    error TEXT,
    result TEXT,
    progress TEXT,
    UNIQUE (owner, idem_key)
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, seq);
