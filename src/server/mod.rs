//! `edgesplit serve`: the HTTP model server (axum on tokio).
//!
//! Jobs are stored in SQLite before they are acknowledged and solved in
//! worker processes (`edgesplit worker`), never in the server process; see
//! docs/server.md.
//!
//! * [`api`]: request and response types, the error body;
//! * [`store`]: the SQLite job store;
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
use store::Store;
use tokio::sync::Notify;

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind (port 0: any free port).
    pub addr: SocketAddr,
    /// SQLite database file; job directories go to `<db>.jobs/` beside it.
    pub db: PathBuf,
    /// Worker processes at a time.
    pub workers: usize,
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
    store: Store,
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
pub(crate) fn test_state(store: Store) -> AppState {
    AppState {
        cfg: Config {
            addr: "127.0.0.1:0".parse().expect("an address"),
            db: PathBuf::from("unused.db"),
            workers: 1,
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
    if cfg.workers == 0 {
        return Err("--workers must be at least 1".into());
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
    let store = Store::open_limited(&cfg.db, cfg.max_db_bytes).map_err(|e| {
        other(format!(
            "cannot open the job store {}: {e}",
            cfg.db.display()
        ))
    })?;
    let (requeued, failed) = store
        .recover()
        .map_err(|e| other(format!("job store: {e}")))?;
    if requeued + failed > 0 {
        tracing::warn!(requeued, failed, "recovered jobs left running by a stop");
    }
    let mut jobs_dir = cfg.db.clone().into_os_string();
    jobs_dir.push(".jobs");
    let jobs_dir = PathBuf::from(jobs_dir);
    // No job runs yet: folders left by a server that stopped are stale.
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
        let listener = tokio::net::TcpListener::bind(cfg.addr)
            .await
            .map_err(|e| other(format!("cannot bind {}: {e}", cfg.addr)))?;
        let local = listener.local_addr().map_err(|e| other(e.to_string()))?;
        for _ in 0..cfg.workers {
            tokio::spawn(runner::slot(state.clone()));
        }
        tokio::spawn(runner::record_unrecorded(state.clone()));
        tracing::info!(addr = %local, workers = cfg.workers, "listening");
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on http://{local}");
            let _ = out.flush();
        }
        serve_http(listener, router(state), cfg.read_timeout).await;
        tracing::info!("stopped");
        Ok(())
    })
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
