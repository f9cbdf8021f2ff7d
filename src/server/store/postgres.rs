//! The PostgreSQL job store: one database shared by any number of servers.
//!
//! A worker claims the oldest queued job with `FOR UPDATE SKIP LOCKED`
//! (claims on other servers skip the row instead of waiting for it) and
//! holds it under a lease that its server renews ([`JobStore::heartbeat`]);
//! a job whose lease ran out is put back in the queue by whichever server
//! looks first ([`JobStore::requeue_expired`]). Lease times are the
//! database's clock. The synchronous `postgres` client runs a runtime of its
//! own, so every call leaves the server's async context first
//! ([`super::off_runtime`]).

use super::{
    check_version, migration_error, Held, Inserted, JobRow, JobStatus, JobStore, NewJob,
    StoreError, StoreResult, MAX_ATTEMPTS,
};
use r2d2_postgres::postgres::{self, Client, NoTls, Row};
use r2d2_postgres::{r2d2, PostgresConnectionManager};
use std::time::Duration;

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// The database's clock, Unix seconds (the start of the transaction).
const NOW: &str = "extract(epoch from now())::float8";

const COLS: &str = "jobs.seq, jobs.id, jobs.owner, jobs.kind, jobs.method, jobs.options, \
                    jobs.instance_hash, jobs.status, jobs.attempts, jobs.created_at, \
                    jobs.started_at, jobs.finished_at, jobs.error, jobs.result, jobs.progress, \
                    jobs.lease_owner";

/// Key of the advisory lock held while the schema is migrated (servers
/// started at once migrate one after the other).
const MIGRATION_LOCK: i64 = 0x6564_6765_7370_6c74;

fn row(r: &Row) -> JobRow {
    let status: String = r.get(7);
    JobRow {
        seq: r.get(0),
        id: r.get(1),
        owner: r.get(2),
        kind: r.get(3),
        method: r.get(4),
        options: r.get(5),
        instance_hash: r.get(6),
        status: JobStatus::parse(&status).unwrap_or(JobStatus::Failed),
        attempts: r.get(8),
        created_at: r.get(9),
        started_at: r.get(10),
        finished_at: r.get(11),
        error: r.get(12),
        result: r.get(13),
        progress: r.get(14),
        server: r.get(15),
    }
}

impl From<postgres::Error> for StoreError {
    /// A full disk is [`StoreError::Full`]; a lost connection, a read-only
    /// or a stopping database [`StoreError::Unavailable`].
    fn from(e: postgres::Error) -> StoreError {
        use postgres::error::SqlState as S;
        let text = match e.as_db_error() {
            Some(d) => format!("{}: {}", d.severity(), d.message()),
            None => e.to_string(),
        };
        match e.code() {
            Some(c) if *c == S::DISK_FULL => StoreError::Full(text),
            Some(c)
                if [
                    S::READ_ONLY_SQL_TRANSACTION,
                    S::ADMIN_SHUTDOWN,
                    S::CANNOT_CONNECT_NOW,
                    S::TOO_MANY_CONNECTIONS,
                ]
                .contains(c) =>
            {
                StoreError::Unavailable(text)
            }
            Some(_) => StoreError::Other(text),
            None => StoreError::Unavailable(text),
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> StoreError {
        StoreError::Unavailable(format!("no connection to the database: {e}"))
    }
}

/// The store: a pool of connections.
pub struct PgStore {
    pool: r2d2::Pool<PostgresConnectionManager<NoTls>>,
    server: String,
}

/// `url` without its password, for messages.
fn shown(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Brings the schema up to date (under an advisory lock), refusing a
/// newer one.
fn migrate(c: &mut Client, what: &str) -> StoreResult<()> {
    c.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let r = (|| -> StoreResult<()> {
        let runner = embedded::migrations::runner();
        let known = runner
            .get_migrations()
            .iter()
            .map(|m| i64::from(m.version()))
            .max()
            .unwrap_or(0);
        let has_history: bool = c
            .query_one(
                "SELECT to_regclass('refinery_schema_history') IS NOT NULL",
                &[],
            )?
            .get(0);
        let found = if has_history {
            runner
                .get_last_applied_migration(c)
                .map_err(|e| migration_error(what, e))?
                .map(|m| i64::from(m.version()))
        } else {
            None
        };
        check_version(what, found, known)?;
        runner.run(c).map_err(|e| migration_error(what, e))?;
        Ok(())
    })();
    c.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])?;
    r
}

impl PgStore {
    /// Connects to `url` with up to `pool` connections for server
    /// `server`, migrating the schema.
    pub fn open(url: &str, server: &str, pool: u32) -> StoreResult<PgStore> {
        let what = shown(url);
        let config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Other(format!("--db {what}: not a PostgreSQL URL: {e}")))?;
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = super::off_runtime(|| {
            r2d2::Pool::builder()
                .max_size(pool.max(2))
                .min_idle(Some(1))
                .test_on_check_out(false)
                .connection_timeout(Duration::from_secs(10))
                .build(manager)
        })
        .map_err(|e| StoreError::Unavailable(format!("cannot connect to {what}: {e}")))?;
        let store = PgStore {
            pool,
            server: server.to_string(),
        };
        store.with(|c| migrate(c, &what))?;
        Ok(store)
    }

    /// Runs `f` on a pooled connection, off the async runtime.
    fn with<T: Send>(
        &self,
        f: impl FnOnce(&mut Client) -> StoreResult<T> + Send,
    ) -> StoreResult<T> {
        super::off_runtime(|| {
            let mut c = self.pool.get()?;
            f(&mut c)
        })
    }

    /// Re-queues (or fails, after [`MAX_ATTEMPTS`]) the running jobs that
    /// `which` (an SQL condition on `jobs`, `$1` the server) selects,
    /// closing their runs.
    fn requeue_where(&self, which: &str, why: &str) -> StoreResult<(usize, usize)> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let me = &self.server;
            tx.execute(
                &format!(
                    "UPDATE job_runs r SET ended_at = {NOW}, outcome = 'lost' FROM jobs
                     WHERE r.job_id = jobs.id AND r.attempt = jobs.attempts AND r.ended_at IS NULL
                       AND jobs.status = 'running' AND ({which})"
                ),
                &[me],
            )?;
            let failed = tx.execute(
                &format!(
                    "UPDATE jobs SET status = 'failed', finished_at = {NOW}, lease_owner = NULL,
                        error = $3 || attempts || ' times: not retried again'
                     WHERE status = 'running' AND attempts >= $2 AND ({which})"
                ),
                &[me, &MAX_ATTEMPTS, &why],
            )?;
            let requeued = tx.execute(
                &format!(
                    "UPDATE jobs SET status = 'queued', started_at = NULL, lease_owner = NULL,
                        lease_until = NULL, cancel_requested = FALSE
                     WHERE status = 'running' AND ({which})"
                ),
                &[me],
            )?;
            tx.commit()?;
            Ok((requeued as usize, failed as usize))
        })
    }

    fn insert_tx(c: &mut Client, j: &NewJob, max_queue: i64) -> StoreResult<Inserted> {
        let mut tx = c.transaction()?;
        let existing = |tx: &mut postgres::Transaction, k: &str| {
            tx.query_opt(
                &format!("SELECT {COLS} FROM jobs WHERE owner = $1 AND idem_key = $2"),
                &[&j.owner, &k],
            )
            .map(|r| r.map(|r| row(&r)))
        };
        if let Some(k) = j.idem_key {
            if let Some(old) = existing(&mut tx, k)? {
                return Ok(Inserted::Existing(old));
            }
        }
        let depth: i64 = tx
            .query_one("SELECT COUNT(*) FROM jobs WHERE status = 'queued'", &[])?
            .get(0);
        if depth >= max_queue {
            return Ok(Inserted::QueueFull(depth));
        }
        tx.execute(
            &format!(
                "INSERT INTO instances (hash, bundle, sizes, created_at) VALUES ($1, $2, $3, {NOW})
                 ON CONFLICT (hash) DO NOTHING"
            ),
            &[&j.instance_hash, &j.bundle, &j.sizes],
        )?;
        let new = tx.query_opt(
            &format!(
                "INSERT INTO jobs (id, owner, idem_key, kind, method, options, instance_hash, status, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', {NOW})
                 ON CONFLICT (owner, idem_key) DO NOTHING RETURNING {COLS}"
            ),
            &[&j.id, &j.owner, &j.idem_key, &j.kind, &j.method, &j.options, &j.instance_hash],
        )?;
        let r = match (new, j.idem_key) {
            (Some(r), _) => Inserted::New(row(&r)),
            // Another server inserted the same key meanwhile.
            (None, Some(k)) => match existing(&mut tx, k)? {
                Some(old) => Inserted::Existing(old),
                None => {
                    return Err(StoreError::Other(format!(
                        "job {}: its idempotency key conflicts with a job that is gone",
                        j.id
                    )))
                }
            },
            (None, None) => return Err(StoreError::Other(format!("job {}: not inserted", j.id))),
        };
        tx.commit()?;
        Ok(r)
    }
}

impl JobStore for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn server(&self) -> &str {
        &self.server
    }

    fn shared(&self) -> bool {
        true
    }

    /// Other servers may run jobs of the same database: only the jobs of
    /// this server (a restart under the same `--server-id`) and those whose
    /// lease ran out are taken back.
    fn recover(&self) -> StoreResult<(usize, usize)> {
        self.requeue_where(
            &format!(
                "jobs.lease_owner = $1 OR jobs.lease_until IS NULL OR jobs.lease_until < {NOW}"
            ),
            "the server stopped while the job was running, ",
        )
    }

    fn insert(&self, j: &NewJob, max_queue: i64) -> StoreResult<Inserted> {
        self.with(|c| Self::insert_tx(c, j, max_queue))
    }

    fn get(&self, id: &str) -> StoreResult<Option<JobRow>> {
        self.with(|c| {
            let r = c.query_opt(&format!("SELECT {COLS} FROM jobs WHERE id = $1"), &[&id])?;
            Ok(r.map(|r| row(&r)))
        })
    }

    fn bundle(&self, hash: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            let r = c.query_opt("SELECT bundle FROM instances WHERE hash = $1", &[&hash])?;
            Ok(r.map(|r| r.get(0)))
        })
    }

    fn sizes(&self, hash: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            let r = c.query_opt("SELECT sizes FROM instances WHERE hash = $1", &[&hash])?;
            Ok(r.map(|r| r.get(0)))
        })
    }

    fn list(
        &self,
        owner: &str,
        status: Option<JobStatus>,
        cursor: i64,
        limit: i64,
    ) -> StoreResult<Vec<JobRow>> {
        let status = status.map(JobStatus::name);
        self.with(|c| {
            let rows = c.query(
                &format!(
                    "SELECT {COLS} FROM jobs WHERE owner = $1 AND seq > $2
                       AND ($3::text IS NULL OR status = $3) ORDER BY seq LIMIT $4"
                ),
                &[&owner, &cursor, &status, &limit],
            )?;
            Ok(rows.iter().map(row).collect())
        })
    }

    fn claim(&self, lease_s: f64) -> StoreResult<Option<JobRow>> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let r = tx.query_opt(
                &format!(
                    "WITH next AS (
                        SELECT seq FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1
                        FOR UPDATE SKIP LOCKED)
                     UPDATE jobs SET status = 'running', attempts = attempts + 1,
                        started_at = {NOW}, progress = NULL, lease_owner = $1,
                        lease_until = {NOW} + $2, cancel_requested = FALSE
                     FROM next WHERE jobs.seq = next.seq RETURNING {COLS}"
                ),
                &[&self.server, &lease_s],
            )?;
            let Some(r) = r.map(|r| row(&r)) else {
                return Ok(None);
            };
            tx.execute(
                &format!(
                    "INSERT INTO job_runs (job_id, attempt, server, started_at) VALUES ($1, $2, $3, {NOW})
                     ON CONFLICT (job_id, attempt) DO UPDATE SET server = $3, started_at = {NOW},
                        ended_at = NULL, outcome = NULL"
                ),
                &[&r.id, &r.attempts, &self.server],
            )?;
            tx.commit()?;
            Ok(Some(r))
        })
    }

    fn finish(
        &self,
        id: &str,
        status: JobStatus,
        error: Option<&str>,
        result: Option<&str>,
    ) -> StoreResult<bool> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let ended = tx.query_opt(
                &format!(
                    "UPDATE jobs SET status = $2, error = $3, result = $4, finished_at = {NOW},
                        lease_owner = NULL
                     WHERE id = $1 AND (status = 'queued' OR (status = 'running' AND lease_owner = $5))
                     RETURNING attempts"
                ),
                &[&id, &status.name(), &error, &result, &self.server],
            )?;
            let Some(ended) = ended else {
                return Ok(false);
            };
            let attempt: i64 = ended.get(0);
            tx.execute(
                &format!(
                    "UPDATE job_runs SET ended_at = {NOW}, outcome = $3
                     WHERE job_id = $1 AND attempt = $2 AND ended_at IS NULL"
                ),
                &[&id, &attempt, &status.name()],
            )?;
            tx.commit()?;
            Ok(true)
        })
    }

    fn set_progress(&self, id: &str, progress: &str) -> StoreResult<bool> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE jobs SET progress = $2 WHERE id = $1 AND status = 'running'",
                &[&id, &progress],
            )?;
            Ok(n > 0)
        })
    }

    fn cancel_queued(&self, id: &str) -> StoreResult<bool> {
        self.with(|c| {
            let n = c.execute(
                &format!(
                    "UPDATE jobs SET status = 'cancelled', error = 'cancelled while queued',
                        finished_at = {NOW} WHERE id = $1 AND status = 'queued'"
                ),
                &[&id],
            )?;
            Ok(n > 0)
        })
    }

    fn request_cancel(&self, id: &str) -> StoreResult<bool> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE jobs SET cancel_requested = TRUE WHERE id = $1 AND status = 'running'",
                &[&id],
            )?;
            Ok(n > 0)
        })
    }

    fn heartbeat(&self, lease_s: f64) -> StoreResult<Vec<Held>> {
        self.with(|c| {
            let rows = c.query(
                &format!(
                    "UPDATE jobs SET lease_until = {NOW} + $2
                     WHERE status = 'running' AND lease_owner = $1 RETURNING id, cancel_requested"
                ),
                &[&self.server, &lease_s],
            )?;
            Ok(rows
                .iter()
                .map(|r| Held {
                    id: r.get(0),
                    cancel_requested: r.get(1),
                })
                .collect())
        })
    }

    fn requeue_expired(&self) -> StoreResult<(usize, usize)> {
        self.requeue_where(
            // ($1, the server, is not needed here but every statement binds it.)
            &format!(
                "$1::text IS NOT NULL AND (jobs.lease_until IS NULL OR jobs.lease_until < {NOW})"
            ),
            super::EXPIRED_ERROR,
        )
    }

    fn counts(&self) -> StoreResult<Vec<(JobStatus, i64)>> {
        self.with(|c| {
            let rows = c.query("SELECT status, COUNT(*) FROM jobs GROUP BY status", &[])?;
            let found: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            Ok(super::all_counts(&found))
        })
    }

    fn queue_depth(&self) -> StoreResult<i64> {
        self.with(|c| {
            Ok(
                c.query_one("SELECT COUNT(*) FROM jobs WHERE status = 'queued'", &[])?
                    .get(0),
            )
        })
    }
}
