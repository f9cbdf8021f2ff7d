//! `edgesplit serve`: the HTTP model server (axum on tokio).
//!
//! Jobs are stored (SQLite, or PostgreSQL shared by several servers)
//! before they are acknowledged and solved in
//! worker processes (`edgesplit worker`), never in the server process; see
//! docs/server.md.
//!
//! * [`api`]: request and response types, the error body;
//! * [`store`]: the job store (SQLite or PostgreSQL);
//! * [`bundle`]: instances with their files, content-addressed;
//! * [`runner`]: the queue and worker-process supervision;
//! * [`worker`]: what runs inside a worker process;
//! * [`metrics`]: the Prometheus text;
//! * [`web`]: the web page at `/` and the SVG of a job's plan;
//! * [`bench`]: `edgesplit bench server`.

pub mod api;
mod auth;
pub mod bench;
pub mod bundle;
mod checks;
mod jobs;
pub mod metrics;
mod request;
mod router;
pub mod runner;
pub mod store;
pub mod web;
pub mod worker;

pub use auth::read_tokens;
use auth::sha256_hex;
pub use bundle::referenced_files;
pub use router::{router, ApiDoc};

use axum::Router;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::JobStore;
use tokio::sync::Notify;

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind (port 0: any free port).
    pub addr: SocketAddr,
    /// The job store: a SQLite file (job directories go to `<db>.jobs/`
    /// beside it) or a `postgres://` URL (job directories in the temporary
    /// folder).
    pub db: String,
    /// Worker processes at a time (0: an API-only server, `--no-workers`).
    pub workers: usize,
    /// Whether to serve HTTP (false: `worker-pool`, workers only).
    pub http: bool,
    /// This server's name in the store (its leases) and in `/healthz`.
    pub server_id: String,
    /// Seconds a claimed job's lease lasts; renewed every third of it.
    pub lease_s: f64,
    /// Bearer tokens (none: no authentication, loopback only).
    pub tokens: Vec<String>,
    /// Largest request body, bytes.
    pub max_body: usize,
    /// Largest instance, atoms × tasks × nodes.
    pub max_instance_size: u128,
    /// Most jobs queued at once.
    pub max_queue: i64,
    /// Largest per-job time limit, seconds (also the default).
    pub max_time_limit: f64,
    /// The edgesplit binary that runs `worker`.
    pub exe: PathBuf,
    /// Longest wait for a request's headers (also for the next request on
    /// an idle connection) and, once they came, for its whole body.
    pub read_timeout: Duration,
    /// Largest job store, bytes (none: as large as the disk allows).
    pub max_db_bytes: Option<u64>,
    /// How log lines on standard error look.
    pub log_format: LogFormat,
    /// Size limits the loader checks before expanding an instance (its
    /// `max_instance_size` is [`Config::max_instance_size`]'s).
    pub limits: crate::instance::Limits,
}

impl Config {
    /// The limits instances are loaded with: [`Config::limits`] with the
    /// server's `--max-instance-size`, and refusals that name the
    /// server's options.
    pub fn load_limits(&self) -> crate::instance::Limits {
        crate::instance::Limits {
            max_instance_size: u64::try_from(self.max_instance_size).unwrap_or(u64::MAX),
            for_server: true,
            ..self.limits
        }
    }
}

/// The format of the log lines on standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `2026-11-23T15:21:46.352Z  INFO request method=POST …`.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<LogFormat, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("{s}: expected text or json")),
        }
    }
}

/// Largest `--max-time-limit`, seconds (7 days): deadlines stay finite.
pub const MAX_TIME_LIMIT_S: f64 = 7.0 * 86_400.0;

/// Requests parsed or loaded at once in the blocking pool (more wait for
/// a turn without holding a request thread).
fn load_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

/// Shared state of the handlers and worker slots.
pub struct AppState {
    cfg: Config,
    store: Arc<dyn JobStore>,
    jobs_dir: PathBuf,
    running: Mutex<HashMap<String, runner::Running>>,
    /// Wakes a worker slot: a job was queued.
    wake: Notify,
    /// Wakes long polls: a job ended.
    done: Notify,
    metrics: metrics::Metrics,
    /// SHA-256 of each token.
    token_hashes: Vec<String>,
    /// Turns in the blocking pool for parsing and loading.
    loaders: tokio::sync::Semaphore,
    /// Jobs that ended but whose end the store could not record yet: id →
    /// the reason they are failed with (retried until the store writes).
    unrecorded: Mutex<HashMap<String, String>>,
}

/// A state around `store` with a configuration that runs nothing, for
/// tests of the store-facing paths.
#[cfg(test)]
pub(crate) fn test_state(store: Arc<dyn JobStore>) -> AppState {
    AppState {
        cfg: Config {
            addr: "127.0.0.1:0".parse().expect("an address"),
            db: "unused.db".into(),
            workers: 1,
            http: true,
            server_id: "test".into(),
            lease_s: store::DEFAULT_LEASE_S,
            tokens: Vec::new(),
            max_body: 1 << 20,
            max_instance_size: 1_000_000,
            max_queue: 10,
            max_time_limit: 10.0,
            exe: PathBuf::from("unused"),
            read_timeout: Duration::from_secs(1),
            max_db_bytes: None,
            log_format: LogFormat::Text,
            limits: crate::instance::Limits::default(),
        },
        store,
        jobs_dir: PathBuf::from("unused.jobs"),
        running: Mutex::new(HashMap::new()),
        wake: Notify::new(),
        done: Notify::new(),
        metrics: metrics::Metrics::default(),
        token_hashes: Vec::new(),
        loaders: tokio::sync::Semaphore::new(1),
        unrecorded: Mutex::new(HashMap::new()),
    }
}

/// Checks a configuration before anything starts.
fn check_config(cfg: &Config) -> Result<(), String> {
    if cfg.tokens.is_empty() && !cfg.addr.ip().is_loopback() {
        return Err(format!(
            "refusing to bind to {} without access tokens: give --tokens-file or EDGESPLIT_TOKENS, or bind to a loopback address (127.0.0.1, ::1)",
            cfg.addr
        ));
    }
    if cfg.workers == 0 && !cfg.http {
        return Err("--workers must be at least 1".into());
    }
    if !(cfg.lease_s.is_finite() && (0.3..=86_400.0).contains(&cfg.lease_s)) {
        return Err(format!(
            "--lease {}: expected 0.3 to 86400 seconds",
            cfg.lease_s
        ));
    }
    if cfg.server_id.is_empty() || cfg.server_id.len() > 200 {
        return Err(format!(
            "--server-id {:?}: expected 1 to 200 characters",
            cfg.server_id
        ));
    }
    let t = cfg.max_time_limit;
    if !(t.is_finite() && t > 0.0 && t <= MAX_TIME_LIMIT_S) {
        return Err(format!(
            "--max-time-limit {t}: expected a positive number of seconds, at most {MAX_TIME_LIMIT_S} (7 days)"
        ));
    }
    if cfg.read_timeout.is_zero() {
        return Err("--read-timeout must be more than 0 seconds".into());
    }
    Ok(())
}

/// Sends log lines to standard error (once per process).
fn init_logging(format: LogFormat) {
    let b = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false);
    let _ = match format {
        LogFormat::Text => b.try_init(),
        LogFormat::Json => b.json().flatten_event(true).try_init(),
    };
}

/// Starts the server: recovers the store, binds, prints
/// `listening on http://ADDR` on stdout, and serves until SIGINT/SIGTERM.
pub fn serve(cfg: Config) -> crate::Result<()> {
    let other = |e: String| crate::Error::Other(e);
    check_config(&cfg).map_err(other)?;
    init_logging(cfg.log_format);
    let store = open_store(&cfg).map_err(other)?;
    let jobs_dir = jobs_dir(&cfg, store.as_ref());
    // No job of this server runs yet: folders it left when it stopped are
    // stale.
    let _ = std::fs::remove_dir_all(&jobs_dir);
    std::fs::create_dir_all(&jobs_dir)
        .map_err(|e| other(format!("cannot create {}: {e}", jobs_dir.display())))?;
    let token_hashes = cfg.tokens.iter().map(|t| sha256_hex(t)).collect();
    let state = Arc::new(AppState {
        cfg: cfg.clone(),
        store,
        jobs_dir,
        running: Mutex::new(HashMap::new()),
        wake: Notify::new(),
        done: Notify::new(),
        metrics: metrics::Metrics::default(),
        token_hashes,
        loaders: tokio::sync::Semaphore::new(load_slots()),
        unrecorded: Mutex::new(HashMap::new()),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| other(format!("cannot start the runtime: {e}")))?;
    rt.block_on(async move {
        if !cfg.http {
            return run_pool(state).await;
        }
        let listener = tokio::net::TcpListener::bind(cfg.addr)
            .await
            .map_err(|e| other(format!("cannot bind {}: {e}", cfg.addr)))?;
        let local = listener.local_addr().map_err(|e| other(e.to_string()))?;
        start_background(&state);
        tracing::info!(addr = %local, workers = cfg.workers, server = %cfg.server_id, store = %state.store.backend(), "listening");
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on http://{local}");
            let _ = out.flush();
        }
        let kept = state.clone();
        serve_http(listener, router(state), cfg.read_timeout).await;
        remove_shared_jobs_dir(&kept);
        tracing::info!("stopped");
        Ok(())
    })
}

/// Starts the worker slots, the heartbeat (leases and expired ones) and
/// the writer of unrecorded ends.
fn start_background(state: &Arc<AppState>) {
    for _ in 0..state.cfg.workers {
        tokio::spawn(runner::slot(state.clone()));
    }
    tokio::spawn(runner::record_unrecorded(state.clone()));
    tokio::spawn(runner::heartbeat(state.clone()));
}

/// `worker-pool`: the worker slots and the heartbeat without an HTTP
/// listener, until SIGINT/SIGTERM.
async fn run_pool(state: Arc<AppState>) -> crate::Result<()> {
    start_background(&state);
    tracing::info!(workers = state.cfg.workers, server = %state.cfg.server_id, store = %state.store.backend(), "worker pool running");
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "worker pool {} running {} workers",
            state.cfg.server_id, state.cfg.workers
        );
        let _ = out.flush();
    }
    shutdown().await;
    remove_shared_jobs_dir(&state);
    tracing::info!("stopped");
    Ok(())
}

/// On a shared store the job folder is this process's alone: removed when
/// it stops.
fn remove_shared_jobs_dir(state: &AppState) {
    if state.store.shared() {
        let _ = std::fs::remove_dir_all(&state.jobs_dir);
    }
}

/// Opens the store `cfg.db` names and takes back the jobs this server
/// left running.
fn open_store(cfg: &Config) -> Result<Arc<dyn JobStore>, String> {
    let what = if store::is_postgres_url(&cfg.db) {
        if let Some(b) = cfg.max_db_bytes {
            return Err(format!(
                "--max-db-size {b}: limits a SQLite job store; a PostgreSQL store's size is the database's to limit"
            ));
        }
        "the PostgreSQL job store".to_string()
    } else {
        format!("the job store {}", cfg.db)
    };
    let store = store::open(
        &cfg.db,
        &cfg.server_id,
        cfg.max_db_bytes,
        (cfg.workers as u32).saturating_mul(2) + 4,
    )
    .map_err(|e| match e {
        store::StoreError::TooNew(e) => e,
        e => format!("cannot open {what}: {e}"),
    })?;
    let (requeued, failed) = store.recover().map_err(|e| format!("job store: {e}"))?;
    if requeued + failed > 0 {
        tracing::warn!(requeued, failed, "recovered jobs left running by a stop");
    }
    Ok(store)
}

/// Where this server's job folders go: `<db>.jobs/` beside a SQLite
/// file; for a shared store, a folder of this server process's in the
/// temporary folder.
fn jobs_dir(cfg: &Config, store: &dyn JobStore) -> PathBuf {
    if store.shared() {
        let safe: String = cfg
            .server_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        std::env::temp_dir().join(format!("edgesplit-{safe}-{}.jobs", std::process::id()))
    } else {
        PathBuf::from(format!("{}.jobs", cfg.db))
    }
}

/// A name for this server: the host's name and the process id.
pub fn default_server_id() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is writable for its length.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let host = if ok {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "server".to_string()
    };
    format!("{host}-{}", std::process::id())
}

/// Accepts connections until SIGINT/SIGTERM, each served by hyper with a
/// header read timeout (which also closes idle connections), then waits
/// for open requests to finish.
async fn serve_http(listener: tokio::net::TcpListener, app: Router, read_timeout: Duration) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(shutdown());
    loop {
        let (stream, _peer) = tokio::select! {
            c = listener.accept() => match c {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let svc = hyper_util::service::TowerToHyperService::new(app.clone());
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(read_timeout)
            .serve_connection(TokioIo::new(stream), svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

async fn shutdown() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
}
