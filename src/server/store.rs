//! The job store: SQLite (bundled, WAL, synchronous commits). Jobs,
//! instances (content-addressed by the SHA-256 of their bundle, stored
//! once), reports and plans survive a restart.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Mutex;

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker process is on it.
    Running,
    /// Finished; the report says how the solve ended.
    Done,
    /// The worker failed (crash, kill, overrun, bad input); see `error`.
    Failed,
    /// Cancelled by its owner.
    Cancelled,
}

impl JobStatus {
    /// Every status.
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Done,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    /// The name in the API and the database.
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|x| x.name() == s)
    }

    /// Whether the job can change no more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Done | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

/// A job as stored.
#[derive(Debug, Clone)]
pub struct JobRow {
    /// Insertion order (the list cursor).
    pub seq: i64,
    /// Public id.
    pub id: String,
    /// SHA-256 of the owner's token (empty without tokens).
    pub owner: String,
    /// `solve` or `compare`.
    pub kind: String,
    /// The worker's `--method` argument.
    pub method: String,
    /// Options as JSON.
    pub options: String,
    /// Content address of the instance bundle.
    pub instance_hash: String,
    /// State.
    pub status: JobStatus,
    /// How many times a worker started on it.
    pub attempts: i64,
    /// Unix seconds.
    pub created_at: f64,
    /// Unix seconds.
    pub started_at: Option<f64>,
    /// Unix seconds.
    pub finished_at: Option<f64>,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    /// The worker's result (JSON), when done (or cancelled with its best
    /// plan kept).
    pub result: Option<String>,
    /// The latest progress event of the running worker (JSON), if any.
    pub progress: Option<String>,
}

/// A new job.
pub struct NewJob<'a> {
    /// Public id.
    pub id: &'a str,
    /// Owner hash.
    pub owner: &'a str,
    /// Idempotency key, if any.
    pub idem_key: Option<&'a str>,
    /// `solve` or `compare`.
    pub kind: &'a str,
    /// Worker method.
    pub method: &'a str,
    /// Options JSON.
    pub options: &'a str,
    /// Bundle hash.
    pub instance_hash: &'a str,
    /// Bundle JSON (stored once per hash).
    pub bundle: &'a str,
    /// The validated instance's sizes, JSON.
    pub sizes: &'a str,
}

/// What [`Store::insert`] did.
pub enum Inserted {
    /// A new job.
    New(JobRow),
    /// The job this owner submitted earlier with the same idempotency key.
    Existing(JobRow),
    /// Nothing: this many jobs are queued.
    QueueFull(i64),
}

/// Unix time now, seconds.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The store; one connection behind a mutex (every statement is short).
pub struct Store {
    conn: Mutex<Connection>,
}

const COLS: &str = "seq, id, owner, kind, method, options, instance_hash, status, attempts, \
                    created_at, started_at, finished_at, error, result, progress";

fn row(r: &Row) -> rusqlite::Result<JobRow> {
    let status: String = r.get(7)?;
    Ok(JobRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        owner: r.get(2)?,
        kind: r.get(3)?,
        method: r.get(4)?,
        options: r.get(5)?,
        instance_hash: r.get(6)?,
        status: JobStatus::parse(&status).unwrap_or(JobStatus::Failed),
        attempts: r.get(8)?,
        created_at: r.get(9)?,
        started_at: r.get(10)?,
        finished_at: r.get(11)?,
        error: r.get(12)?,
        result: r.get(13)?,
        progress: r.get(14)?,
    })
}

/// How many times a job may be started before a server stop fails it.
pub const MAX_ATTEMPTS: i64 = 2;

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> rusqlite::Result<Store> {
        Store::open_limited(path, None)
    }

    /// Opens the database at `path`, which may grow to at most `max_bytes`
    /// (SQLite's `max_page_count`; beyond it a write fails as a full disk
    /// would, with `SQLITE_FULL`).
    pub fn open_limited(path: &Path, max_bytes: Option<u64>) -> rusqlite::Result<Store> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Status changes commit with NORMAL (durable when the process dies;
        // a power cut may undo the last ones, and a job then runs again);
        // a new job commits with FULL before it is acknowledged.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS instances (
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
                UNIQUE (owner, idem_key)
            );
            CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, seq);",
        )?;
        // Stores made before jobs had a progress column get one.
        let has_progress: bool = conn
            .prepare("SELECT 1 FROM pragma_table_info('jobs') WHERE name = 'progress'")?
            .exists([])?;
        if !has_progress {
            conn.execute_batch("ALTER TABLE jobs ADD COLUMN progress TEXT")?;
        }
        if let Some(max) = max_bytes {
            let page: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
            let pages = (max / page.max(1) as u64).clamp(1, i64::MAX as u64) as i64;
            conn.pragma_update(None, "max_page_count", pages)?;
        }
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connection, for tests that make the store fail on purpose.
    #[cfg(test)]
    pub(crate) fn conn_for_tests(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn()
    }

    /// At startup: jobs left running by a server that stopped go back to
    /// the queue, or fail once they have been started [`MAX_ATTEMPTS`]
    /// times. Returns (re-queued, failed).
    pub fn recover(&self) -> rusqlite::Result<(usize, usize)> {
        let c = self.conn();
        let failed = c.execute(
            "UPDATE jobs SET status = 'failed', finished_at = ?1,
                error = 'the server stopped while the job was running, ' || attempts || ' times: not retried again'
             WHERE status = 'running' AND attempts >= ?2",
            params![now(), MAX_ATTEMPTS],
        )?;
        let requeued = c.execute(
            "UPDATE jobs SET status = 'queued', started_at = NULL WHERE status = 'running'",
            [],
        )?;
        Ok((requeued, failed))
    }

    /// Inserts a job (and its instance bundle, once per hash) in one
    /// transaction, committed before this returns, unless `max_queue` jobs
    /// are queued already. With an idempotency key already used by this
    /// owner, returns that job instead.
    pub fn insert(&self, j: &NewJob, max_queue: i64) -> rusqlite::Result<Inserted> {
        let mut c = self.conn();
        c.pragma_update(None, "synchronous", "FULL")?;
        let r = Self::insert_tx(&mut c, j, max_queue);
        c.pragma_update(None, "synchronous", "NORMAL")?;
        r
    }

    fn insert_tx(c: &mut Connection, j: &NewJob, max_queue: i64) -> rusqlite::Result<Inserted> {
        let tx = c.transaction()?;
        if let Some(k) = j.idem_key {
            let old = tx
                .query_row(
                    &format!("SELECT {COLS} FROM jobs WHERE owner = ?1 AND idem_key = ?2"),
                    params![j.owner, k],
                    row,
                )
                .optional()?;
            if let Some(old) = old {
                return Ok(Inserted::Existing(old));
            }
        }
        let depth: i64 = tx.query_row(
            "SELECT COUNT(*) FROM jobs WHERE status = 'queued'",
            [],
            |r| r.get(0),
        )?;
        if depth >= max_queue {
            return Ok(Inserted::QueueFull(depth));
        }
        tx.execute(
            "INSERT OR IGNORE INTO instances (hash, bundle, sizes, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![j.instance_hash, j.bundle, j.sizes, now()],
        )?;
        tx.execute(
            "INSERT INTO jobs (id, owner, idem_key, kind, method, options, instance_hash, status, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8)",
            params![
                j.id,
                j.owner,
                j.idem_key,
                j.kind,
                j.method,
                j.options,
                j.instance_hash,
                now()
            ],
        )?;
        let r = tx.query_row(
            &format!("SELECT {COLS} FROM jobs WHERE id = ?1"),
            params![j.id],
            row,
        )?;
        tx.commit()?;
        Ok(Inserted::New(r))
    }

    /// One job by id.
    pub fn get(&self, id: &str) -> rusqlite::Result<Option<JobRow>> {
        self.conn()
            .query_row(
                &format!("SELECT {COLS} FROM jobs WHERE id = ?1"),
                params![id],
                row,
            )
            .optional()
    }

    /// An instance bundle by hash.
    pub fn bundle(&self, hash: &str) -> rusqlite::Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT bundle FROM instances WHERE hash = ?1",
                params![hash],
                |r| r.get(0),
            )
            .optional()
    }

    /// The sizes of a stored (so already validated) instance.
    pub fn sizes(&self, hash: &str) -> rusqlite::Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT sizes FROM instances WHERE hash = ?1",
                params![hash],
                |r| r.get(0),
            )
            .optional()
    }

    /// Jobs of `owner` after `cursor` (a seq), oldest first.
    pub fn list(
        &self,
        owner: &str,
        status: Option<JobStatus>,
        cursor: i64,
        limit: i64,
    ) -> rusqlite::Result<Vec<JobRow>> {
        let c = self.conn();
        let mut st = c.prepare_cached(&format!(
            "SELECT {COLS} FROM jobs WHERE owner = ?1 AND seq > ?2
               AND (?3 IS NULL OR status = ?3) ORDER BY seq LIMIT ?4"
        ))?;
        let rows = st.query_map(
            params![owner, cursor, status.map(JobStatus::name), limit],
            row,
        )?;
        rows.collect()
    }

    /// The oldest queued job, now marked running (attempts + 1).
    pub fn claim(&self) -> rusqlite::Result<Option<JobRow>> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        let id: Option<String> = tx
            .query_row(
                "SELECT id FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ?2, progress = NULL WHERE id = ?1",
            params![id, now()],
        )?;
        let r = tx.query_row(
            &format!("SELECT {COLS} FROM jobs WHERE id = ?1"),
            params![id],
            row,
        )?;
        tx.commit()?;
        Ok(Some(r))
    }

    /// Records how a job ended (only if it is not already terminal).
    pub fn finish(
        &self,
        id: &str,
        status: JobStatus,
        error: Option<&str>,
        result: Option<&str>,
    ) -> rusqlite::Result<bool> {
        let n = self.conn().execute(
            "UPDATE jobs SET status = ?2, error = ?3, result = ?4, finished_at = ?5
             WHERE id = ?1 AND status IN ('queued', 'running')",
            params![id, status.name(), error, result, now()],
        )?;
        Ok(n > 0)
    }

    /// Records the latest progress of a running job (JSON); false if it
    /// is not running.
    pub fn set_progress(&self, id: &str, progress: &str) -> rusqlite::Result<bool> {
        let n = self.conn().execute(
            "UPDATE jobs SET progress = ?2 WHERE id = ?1 AND status = 'running'",
            params![id, progress],
        )?;
        Ok(n > 0)
    }

    /// Cancels a queued job; false if it is not queued.
    pub fn cancel_queued(&self, id: &str) -> rusqlite::Result<bool> {
        let n = self.conn().execute(
            "UPDATE jobs SET status = 'cancelled', error = 'cancelled while queued', finished_at = ?2
             WHERE id = ?1 AND status = 'queued'",
            params![id, now()],
        )?;
        Ok(n > 0)
    }

    /// Number of jobs per status (every status listed).
    pub fn counts(&self) -> rusqlite::Result<Vec<(JobStatus, i64)>> {
        let c = self.conn();
        let mut st = c.prepare_cached("SELECT status, COUNT(*) FROM jobs GROUP BY status")?;
        let found: Vec<(String, i64)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(JobStatus::ALL
            .into_iter()
            .map(|s| {
                let n = found.iter().find(|(n, _)| n == s.name()).map_or(0, |x| x.1);
                (s, n)
            })
            .collect())
    }

    /// Jobs waiting for a worker.
    pub fn queue_depth(&self) -> rusqlite::Result<i64> {
        self.conn().query_row(
            "SELECT COUNT(*) FROM jobs WHERE status = 'queued'",
            [],
            |r| r.get(0),
        )
    }
}
