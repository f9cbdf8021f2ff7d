//! The SQLite job store (bundled, WAL, synchronous commits): one file for
//! one server, the default.

use super::{
    check_version, migration_error, now, Held, Inserted, JobRow, JobStatus, JobStore, NewJob,
    StoreError, StoreResult, MAX_ATTEMPTS,
};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use std::path::Path;
use std::sync::Mutex;

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

/// The store; one connection behind a mutex (every statement is short).
/// Transactions that write take the write lock when they begin
/// (`BEGIN IMMEDIATE`), so that two connections to one file wait for each
/// other instead of failing on a lock upgrade.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    server: String,
}

const COLS: &str = "seq, id, owner, kind, method, options, instance_hash, status, attempts, \
                    created_at, started_at, finished_at, error, result, progress, lease_owner";

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
        server: r.get(15)?,
    })
}

impl From<rusqlite::Error> for StoreError {
    /// A full database or disk is [`StoreError::Full`], one that cannot
    /// write for now [`StoreError::Unavailable`].
    fn from(e: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode as C;
        match e.sqlite_error_code() {
            Some(C::DiskFull) => StoreError::Full(e.to_string()),
            Some(
                C::ReadOnly
                | C::SystemIoFailure
                | C::CannotOpen
                | C::DatabaseBusy
                | C::DatabaseLocked,
            ) => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Other(e.to_string()),
        }
    }
}

/// Brings the schema of `conn` (the store at `path`) up to date, refusing
/// a newer one.
fn migrate(conn: &mut Connection, path: &Path) -> StoreResult<()> {
    let what = path.display().to_string();
    // Stores made before jobs had a progress column get one, so that they
    // match the first migration.
    let old_jobs: bool = conn
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'")?
        .exists([])?;
    let has_progress: bool = conn
        .prepare("SELECT 1 FROM pragma_table_info('jobs') WHERE name = 'progress'")?
        .exists([])?;
    if old_jobs && !has_progress {
        conn.execute_batch("ALTER TABLE jobs ADD COLUMN progress TEXT")?;
    }
    let runner = embedded::migrations::runner();
    let known = runner
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0);
    let has_history: bool = conn
        .prepare(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history'",
        )?
        .exists([])?;
    let found = if has_history {
        runner
            .get_last_applied_migration(conn)
            .map_err(|e| migration_error(&what, e))?
            .map(|m| i64::from(m.version()))
    } else {
        None
    };
    check_version(&what, found, known)?;
    runner.run(conn).map_err(|e| migration_error(&what, e))?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` for server
    /// `server`.
    pub fn open(path: &Path, server: &str) -> StoreResult<SqliteStore> {
        SqliteStore::open_limited(path, server, None)
    }

    /// Opens the database at `path`, which may grow to at most `max_bytes`
    /// (SQLite's `max_page_count`; beyond it a write fails as a full disk
    /// would, with `SQLITE_FULL`).
    pub fn open_limited(
        path: &Path,
        server: &str,
        max_bytes: Option<u64>,
    ) -> StoreResult<SqliteStore> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Status changes commit with NORMAL (durable when the process dies;
        // a power cut may undo the last ones, and a job then runs again);
        // a new job commits with FULL before it is acknowledged.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        migrate(&mut conn, path)?;
        if let Some(max) = max_bytes {
            let page: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
            let pages = (max / page.max(1) as u64).clamp(1, i64::MAX as u64) as i64;
            conn.pragma_update(None, "max_page_count", pages)?;
        }
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            server: server.to_string(),
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

    fn insert_tx(c: &mut Connection, j: &NewJob, max_queue: i64) -> rusqlite::Result<Inserted> {
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
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

    /// Re-queues (or fails, after [`MAX_ATTEMPTS`]) the running jobs that
    /// `which` (an SQL condition on `jobs`) selects, closing their runs.
    fn requeue_where(&self, which: &str, why: &str) -> StoreResult<(usize, usize)> {
        let mut c = self.conn();
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let t = now();
        tx.execute(
            &format!(
                "UPDATE job_runs SET ended_at = ?1, outcome = 'lost' WHERE ended_at IS NULL
                 AND job_id IN (SELECT id FROM jobs WHERE status = 'running' AND ({which}))"
            ),
            params![t],
        )?;
        let failed = tx.execute(
            &format!(
                "UPDATE jobs SET status = 'failed', finished_at = ?1, lease_owner = NULL,
                    error = ?3 || attempts || ' times: not retried again'
                 WHERE status = 'running' AND attempts >= ?2 AND ({which})"
            ),
            params![t, MAX_ATTEMPTS, why],
        )?;
        let requeued = tx.execute(
            &format!(
                "UPDATE jobs SET status = 'queued', started_at = NULL, lease_owner = NULL,
                    lease_until = NULL, cancel_requested = 0
                 WHERE status = 'running' AND ({which})"
            ),
            [],
        )?;
        tx.commit()?;
        Ok((requeued, failed))
    }
}

impl JobStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn server(&self) -> &str {
        &self.server
    }

    fn shared(&self) -> bool {
        false
    }

    /// One server uses a SQLite store: every job left running is this
    /// server's.
    fn recover(&self) -> StoreResult<(usize, usize)> {
        self.requeue_where("1 = 1", "the server stopped while the job was running, ")
    }

    fn insert(&self, j: &NewJob, max_queue: i64) -> StoreResult<Inserted> {
        let mut c = self.conn();
        c.pragma_update(None, "synchronous", "FULL")?;
        let r = Self::insert_tx(&mut c, j, max_queue);
        c.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(r?)
    }

    fn get(&self, id: &str) -> StoreResult<Option<JobRow>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLS} FROM jobs WHERE id = ?1"),
                params![id],
                row,
            )
            .optional()?)
    }

    fn bundle(&self, hash: &str) -> StoreResult<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT bundle FROM instances WHERE hash = ?1",
                params![hash],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn sizes(&self, hash: &str) -> StoreResult<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT sizes FROM instances WHERE hash = ?1",
                params![hash],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn list(
        &self,
        owner: &str,
        status: Option<JobStatus>,
        cursor: i64,
        limit: i64,
    ) -> StoreResult<Vec<JobRow>> {
        let c = self.conn();
        let mut st = c.prepare_cached(&format!(
            "SELECT {COLS} FROM jobs WHERE owner = ?1 AND seq > ?2
               AND (?3 IS NULL OR status = ?3) ORDER BY seq LIMIT ?4"
        ))?;
        let rows = st.query_map(
            params![owner, cursor, status.map(JobStatus::name), limit],
            row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn claim(&self, lease_s: f64) -> StoreResult<Option<JobRow>> {
        let mut c = self.conn();
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
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
        let t = now();
        tx.execute(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ?2,
                progress = NULL, lease_owner = ?3, lease_until = ?4, cancel_requested = 0
             WHERE id = ?1",
            params![id, t, self.server, t + lease_s],
        )?;
        let r = tx.query_row(
            &format!("SELECT {COLS} FROM jobs WHERE id = ?1"),
            params![id],
            row,
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO job_runs (job_id, attempt, server, started_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, r.attempts, self.server, t],
        )?;
        tx.commit()?;
        Ok(Some(r))
    }

    fn finish(
        &self,
        id: &str,
        status: JobStatus,
        error: Option<&str>,
        result: Option<&str>,
    ) -> StoreResult<bool> {
        let mut c = self.conn();
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let t = now();
        tx.execute(
            "UPDATE job_runs SET ended_at = ?3, outcome = ?4 WHERE ended_at IS NULL AND job_id = ?1
               AND attempt = (SELECT attempts FROM jobs WHERE id = ?1 AND status = 'running' AND lease_owner = ?2)",
            params![id, self.server, t, status.name()],
        )?;
        let n = tx.execute(
            "UPDATE jobs SET status = ?2, error = ?3, result = ?4, finished_at = ?5, lease_owner = NULL
             WHERE id = ?1 AND (status = 'queued' OR (status = 'running' AND lease_owner = ?6))",
            params![id, status.name(), error, result, t, self.server],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    fn set_progress(&self, id: &str, progress: &str) -> StoreResult<bool> {
        let n = self.conn().execute(
            "UPDATE jobs SET progress = ?2 WHERE id = ?1 AND status = 'running'",
            params![id, progress],
        )?;
        Ok(n > 0)
    }

    fn cancel_queued(&self, id: &str) -> StoreResult<bool> {
        let n = self.conn().execute(
            "UPDATE jobs SET status = 'cancelled', error = 'cancelled while queued', finished_at = ?2
             WHERE id = ?1 AND status = 'queued'",
            params![id, now()],
        )?;
        Ok(n > 0)
    }

    fn request_cancel(&self, id: &str) -> StoreResult<bool> {
        let n = self.conn().execute(
            "UPDATE jobs SET cancel_requested = 1 WHERE id = ?1 AND status = 'running'",
            params![id],
        )?;
        Ok(n > 0)
    }

    fn heartbeat(&self, lease_s: f64) -> StoreResult<Vec<Held>> {
        let c = self.conn();
        let mut st = c.prepare_cached(
            "UPDATE jobs SET lease_until = ?2 WHERE status = 'running' AND lease_owner = ?1
             RETURNING id, cancel_requested",
        )?;
        let rows = st.query_map(params![self.server, now() + lease_s], |r| {
            Ok(Held {
                id: r.get(0)?,
                cancel_requested: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn requeue_expired(&self) -> StoreResult<(usize, usize)> {
        let t = now();
        self.requeue_where(
            &format!("lease_until IS NULL OR lease_until < {t}"),
            super::EXPIRED_ERROR,
        )
    }

    fn counts(&self) -> StoreResult<Vec<(JobStatus, i64)>> {
        let c = self.conn();
        let mut st = c.prepare_cached("SELECT status, COUNT(*) FROM jobs GROUP BY status")?;
        let found: Vec<(String, i64)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(super::all_counts(&found))
    }

    fn queue_depth(&self) -> StoreResult<i64> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM jobs WHERE status = 'queued'",
            [],
            |r| r.get(0),
        )?)
    }
}
