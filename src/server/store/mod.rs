//! The job store: one trait, [`JobStore`], and two backends behind it.
//!
//! * [`sqlite`]: one SQLite file (bundled, WAL) for one server, the
//!   default;
//! * [`postgres`]: one PostgreSQL database shared by several servers
//!   (`--db postgres://…`); jobs are claimed with `FOR UPDATE SKIP
//!   LOCKED` and held by a lease each server renews.
//!
//! Jobs, instances (content-addressed by the SHA-256 of their bundle,
//! stored once), reports and plans survive a restart. Both schemas are
//! kept by refinery migrations (`migrations/sqlite`, `migrations/postgres`);
//! a store whose schema is newer than this binary knows is refused.

pub mod postgres;
pub mod sqlite;

use serde::{Deserialize, Serialize};

pub use self::postgres::PgStore;
pub use self::sqlite::SqliteStore;

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
    /// The server whose worker holds the job's lease (while it runs).
    pub server: Option<String>,
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

/// What [`JobStore::insert`] did.
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

/// How many times a job may be started before a stop (of its server, or
/// of the lease of its server) fails it.
pub const MAX_ATTEMPTS: i64 = 2;

/// Default seconds a claimed job's lease lasts without a renewal.
pub const DEFAULT_LEASE_S: f64 = 30.0;

/// Why the store could not do something.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database or its disk is full (SQLite's `max_page_count` from
    /// `--max-db-size`, `SQLITE_FULL`, PostgreSQL's `disk_full`).
    #[error("{0}")]
    Full(String),
    /// The store cannot write for now (read-only, busy, unreachable).
    #[error("{0}")]
    Unavailable(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
    /// The schema of the store is newer than this binary knows.
    #[error("{0}")]
    TooNew(String),
}

/// What the store answers with.
pub type StoreResult<T> = Result<T, StoreError>;

/// A job the heartbeat still holds the lease of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The job id.
    pub id: String,
    /// Some server asked for it to be cancelled.
    pub cancel_requested: bool,
}

/// The job store the server, its workers and its API share. Every method
/// is one short transaction; those that claim, renew or end a job act
/// for the server the store was opened for ([`JobStore::server`]).
pub trait JobStore: Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// The id of the server this store acts for.
    fn server(&self) -> &str;
    /// Whether other servers may use the same store at once.
    fn shared(&self) -> bool;
    /// At startup: jobs this store's server (or, on a store no other
    /// server uses, any server) left running go back to the queue, or fail
    /// once they were started [`MAX_ATTEMPTS`] times. (re-queued, failed).
    fn recover(&self) -> StoreResult<(usize, usize)>;
    /// Inserts a job (and its instance bundle, once per hash) in one
    /// transaction, committed before this returns, unless `max_queue`
    /// jobs are queued already. With an idempotency key already used by
    /// this owner, returns that job instead.
    fn insert(&self, j: &NewJob, max_queue: i64) -> StoreResult<Inserted>;
    /// One job by id.
    fn get(&self, id: &str) -> StoreResult<Option<JobRow>>;
    /// An instance bundle by hash.
    fn bundle(&self, hash: &str) -> StoreResult<Option<String>>;
    /// The sizes of a stored (so already validated) instance.
    fn sizes(&self, hash: &str) -> StoreResult<Option<String>>;
    /// Jobs of `owner` after `cursor` (a seq), oldest first.
    fn list(
        &self,
        owner: &str,
        status: Option<JobStatus>,
        cursor: i64,
        limit: i64,
    ) -> StoreResult<Vec<JobRow>>;
    /// The oldest queued job, now running (attempts + 1) under a lease of
    /// `lease_s` seconds held by this server.
    fn claim(&self, lease_s: f64) -> StoreResult<Option<JobRow>>;
    /// Records how a job this server holds ended (only if it is still
    /// running under this server's lease, or queued).
    fn finish(
        &self,
        id: &str,
        status: JobStatus,
        error: Option<&str>,
        result: Option<&str>,
    ) -> StoreResult<bool>;
    /// Records the latest progress of a running job (JSON); false if it
    /// is not running.
    fn set_progress(&self, id: &str, progress: &str) -> StoreResult<bool>;
    /// Cancels a queued job; false if it is not queued.
    fn cancel_queued(&self, id: &str) -> StoreResult<bool>;
    /// Asks the server running a job to cancel it; false if it is not
    /// running.
    fn request_cancel(&self, id: &str) -> StoreResult<bool>;
    /// Renews the lease of every job this server runs for `lease_s`
    /// seconds; returns those jobs.
    fn heartbeat(&self, lease_s: f64) -> StoreResult<Vec<Held>>;
    /// Jobs whose lease ran out (their server stopped renewing it) go back
    /// to the queue, or fail after [`MAX_ATTEMPTS`]. (re-queued, failed).
    fn requeue_expired(&self) -> StoreResult<(usize, usize)>;
    /// Number of jobs per status (every status listed).
    fn counts(&self) -> StoreResult<Vec<(JobStatus, i64)>>;
    /// Jobs waiting for a worker.
    fn queue_depth(&self) -> StoreResult<i64>;
}

/// Whether `db` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// Opens the store `db` names (a `postgres://` URL or a SQLite file) for
/// server `server`, running its migrations.
pub fn open(
    db: &str,
    server: &str,
    max_bytes: Option<u64>,
    pool: u32,
) -> StoreResult<std::sync::Arc<dyn JobStore>> {
    if is_postgres_url(db) {
        Ok(std::sync::Arc::new(PgStore::open(db, server, pool)?))
    } else {
        Ok(std::sync::Arc::new(SqliteStore::open_limited(
            std::path::Path::new(db),
            server,
            max_bytes,
        )?))
    }
}

/// Refuses a store whose schema version `found` is newer than the newest
/// migration this binary has, `known`.
pub(crate) fn check_version(what: &str, found: Option<i64>, known: i64) -> StoreResult<()> {
    match found {
        Some(v) if v > known => Err(StoreError::TooNew(format!(
            "the job store {what} has schema version {v}, newer than version {known}, the newest this edgesplit knows: run a newer edgesplit on it (or point --db at another store)"
        ))),
        _ => Ok(()),
    }
}

/// The error text of a migration that failed.
pub(crate) fn migration_error(what: &str, e: refinery::Error) -> StoreError {
    StoreError::Other(format!(
        "the job store {what}: migrating its schema failed: {e}"
    ))
}

/// The error of a job whose lease ran out after its last allowed start.
pub(crate) const EXPIRED_ERROR: &str = "the server running the job stopped (its lease ran out), ";

/// Every status with its count in `found` (0 where absent).
pub(crate) fn all_counts(found: &[(String, i64)]) -> Vec<(JobStatus, i64)> {
    JobStatus::ALL
        .into_iter()
        .map(|s| {
            let n = found.iter().find(|(n, _)| n == s.name()).map_or(0, |x| x.1);
            (s, n)
        })
        .collect()
}

/// Runs `f`, which blocks (on a database connection), outside the async
/// runtime: on a multi-threaded runtime's worker through
/// `block_in_place`, on any other runtime's thread in a thread of its
/// own, and as it is elsewhere.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        Ok(_) => std::thread::scope(|s| match s.spawn(f).join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        }),
        Err(_) => f(),
    }
}
