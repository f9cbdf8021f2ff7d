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
pub mod bench;
pub mod bundle;
pub mod metrics;
pub mod runner;
pub mod store;
pub mod web;
pub mod worker;

use api::*;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path as UrlPath, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bundle::Bundle;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{JobRow, JobStatus, NewJob, Store};
use tokio::sync::Notify;
use utoipa::OpenApi;
use worker::{JobMethod, WorkerResult};

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

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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

/// The router with every route.
pub fn router(state: Arc<AppState>) -> Router {
    let max_body = state.cfg.max_body;
    Router::new()
        .route("/", get(web::index))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/solvers", get(solvers))
        .route("/v1/jobs", post(submit).get(list))
        .route("/v1/jobs/{id}", get(get_job).delete(cancel))
        .route("/v1/jobs/{id}/plan", get(get_plan))
        .route("/v1/jobs/{id}/plan.svg", get(web::plan_svg))
        .route("/v1/validate", post(validate))
        .route("/v1/evaluate", post(evaluate))
        .route("/v1/compare", post(compare))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), edge))
        .with_state(state)
}

/// Around every request: reads the body within `--read-timeout` and
/// `--max-body`, then logs one line (method, path, status, duration,
/// token id).
async fn edge(
    State(st): State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let t0 = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let token = token_id(&st, req.headers());
    let resp = match read_body(&st, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    };
    tracing::info!(
        method = %method,
        path = %path,
        status = resp.status().as_u16(),
        ms = (t0.elapsed().as_secs_f64() * 1e3 * 10.0).round() / 10.0,
        token = %token,
        "request"
    );
    resp
}

/// The body of `req`, read in full within the read timeout and the body
/// limit; 408 or 413 otherwise.
async fn read_body(
    st: &AppState,
    req: axum::extract::Request,
) -> Result<axum::extract::Request, ApiError> {
    use http_body_util::BodyExt;
    let (parts, body) = req.into_parts();
    let limited = http_body_util::Limited::new(body, st.cfg.max_body);
    match tokio::time::timeout(st.cfg.read_timeout, limited.collect()).await {
        Ok(Ok(c)) => Ok(axum::extract::Request::from_parts(
            parts,
            axum::body::Body::from(c.to_bytes()),
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
            vec![Detail::field(
                "body",
                format!(
                    "more than {} bytes (the server's --max-body)",
                    st.cfg.max_body
                ),
            )],
        )),
        Ok(Err(e)) => Err(ApiError::bad_request(
            "cannot read the request body",
            vec![Detail::field("body", e.to_string())],
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "the request body did not arrive in time",
            vec![Detail::field(
                "body",
                format!(
                    "not complete after {} s (the server's --read-timeout)",
                    st.cfg.read_timeout.as_secs_f64()
                ),
            )],
        )),
    }
}

/// The bearer token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
}

/// Who made a request, for logs: the first 12 hex digits of its token's
/// SHA-256 (the owner stored with its jobs), never the token; `-` on a
/// server without tokens, `none` or `unknown` for a missing or wrong one.
fn token_id(st: &AppState, headers: &HeaderMap) -> String {
    if st.token_hashes.is_empty() {
        return "-".into();
    }
    match bearer(headers) {
        None => "none".into(),
        Some(t) => {
            let h = sha256_hex(t);
            if st.token_hashes.contains(&h) {
                short_id(&h)
            } else {
                "unknown".into()
            }
        }
    }
}

/// The first 12 hex digits of an owner hash (empty without tokens: `-`).
fn short_id(owner: &str) -> String {
    if owner.is_empty() {
        "-".into()
    } else {
        owner.chars().take(12).collect()
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route", vec![])
}

/// The caller: the SHA-256 of its bearer token, or empty without tokens.
pub struct Owner(String);

impl FromRequestParts<Arc<AppState>> for Owner {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &Arc<AppState>) -> Result<Owner, ApiError> {
        if st.token_hashes.is_empty() {
            return Ok(Owner(String::new()));
        }
        let unauthorized = |msg: &str| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                vec![Detail::field("Authorization", msg)],
            )
        };
        let h = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| unauthorized("missing: expected `Authorization: Bearer TOKEN`"))?;
        let token = h
            .strip_prefix("Bearer ")
            .ok_or_else(|| unauthorized("expected `Bearer TOKEN`"))?
            .trim();
        let hash = sha256_hex(token);
        if st.token_hashes.contains(&hash) {
            Ok(Owner(hash))
        } else {
            Err(unauthorized("unknown token"))
        }
    }
}

// ----------------------------------------------------------------------
// Request bodies

fn body_of(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|r| {
        let status = r.status();
        let error = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "request body too large".to_string()
        } else {
            "cannot read the request body".to_string()
        };
        ApiError::new(status, error, vec![Detail::field("body", r.body_text())])
    })
}

/// Whether a request's body is YAML (by `Content-Type`) rather than JSON.
fn is_yaml(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("yaml"))
}

/// Deepest nesting of a JSON request body: serde_json's own limit, found
/// here before parsing, with the place.
const MAX_JSON_NESTING: usize = 128;

/// The byte offset where a JSON text opens more than `max` arrays and
/// objects at once (brackets inside strings do not count).
fn json_too_deep(body: &[u8], max: usize) -> Option<usize> {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (i, &b) in body.iter().enumerate() {
        if in_str {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Refuses a body nested deeper than the parsers handle quickly (a linear
/// scan, before any parsing).
fn check_depth(yaml: bool, body: &[u8]) -> Result<(), ApiError> {
    let found = if yaml {
        std::str::from_utf8(body)
            .ok()
            .and_then(crate::instance::load::too_deep)
            .map(|(line, what)| format!("line {line}: {what}"))
    } else {
        json_too_deep(body, MAX_JSON_NESTING).map(|at| {
            format!("byte {at}: arrays and objects nested more than {MAX_JSON_NESTING} deep")
        })
    };
    match found {
        Some(msg) => Err(ApiError::bad_request(
            "the body is nested too deep",
            vec![Detail::field(
                "body",
                format!("{msg}: expected a few levels"),
            )],
        )),
        None => Ok(()),
    }
}

/// Parses a request envelope from JSON, or YAML (`yaml`), after the depth
/// check; runs in the blocking pool.
fn parse<T: serde::de::DeserializeOwned>(yaml: bool, body: &[u8]) -> Result<T, ApiError> {
    check_depth(yaml, body)?;
    if yaml {
        let de = serde_yaml::Deserializer::from_slice(body);
        return serde_path_to_error::deserialize(de).map_err(|e| {
            ApiError::unprocessable(
                "malformed request",
                vec![Detail::field(e.path().to_string(), e.inner().to_string())],
            )
        });
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let v = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let syntax = matches!(
            e.inner().classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        );
        let d = vec![Detail::field(e.path().to_string(), e.inner().to_string())];
        if syntax {
            ApiError::bad_request("the body is not valid JSON", d)
        } else {
            ApiError::unprocessable("malformed request", d)
        }
    })?;
    de.end().map_err(|e| {
        ApiError::bad_request(
            "the body is not valid JSON",
            vec![Detail::field("", e.to_string())],
        )
    })?;
    Ok(v)
}

/// Runs `f` in the blocking pool, at most [`load_slots`] at once: parsing
/// and loading never hold a request thread. A panic in `f` is a 500.
async fn blocking<T: Send + 'static>(
    st: &AppState,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let _turn = st.loaders.acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("the loader stopped: {e}")))?
}

/// The instance of a request (text or object) with the files it refers to.
fn bundle_of(instance: InstanceInput, files: BTreeMap<String, String>) -> Result<Bundle, ApiError> {
    Ok(Bundle {
        instance: text_of("instance", instance)?,
        files,
    })
}

fn text_of(field: &str, x: InstanceInput) -> Result<String, ApiError> {
    match x {
        InstanceInput::Text(t) => Ok(t),
        InstanceInput::Object(m) => {
            serde_yaml::to_string(&serde_json::Value::Object(m)).map_err(|e| {
                ApiError::unprocessable(
                    "malformed request",
                    vec![Detail::field(field, e.to_string())],
                )
            })
        }
    }
}

/// A validated bundle: its sizes, checked against the limit. An instance
/// already in the store was valid when stored (the loader is
/// deterministic): its sizes are read back instead of validating again.
async fn checked(st: &AppState, b: &Bundle) -> Result<bundle::Sizes, ApiError> {
    let known = st
        .store
        .sizes(&b.hash())?
        .and_then(|t| serde_json::from_str::<bundle::Sizes>(&t).ok());
    let sizes = match known {
        Some(s) => s,
        None => validated(st, b).await?,
    };
    if sizes.product() > st.cfg.max_instance_size {
        return Err(ApiError::unprocessable(
            "the instance is too large",
            vec![Detail::field(
                "instance",
                format!(
                    "{} atoms × {} tasks × {} nodes = {}: expected at most {} (the server's --max-instance-size)",
                    sizes.atoms,
                    sizes.tasks,
                    sizes.nodes,
                    sizes.product(),
                    st.cfg.max_instance_size
                ),
            )],
        ));
    }
    Ok(sizes)
}

/// Validates a bundle with the library's loader, in the blocking pool.
async fn validated(st: &AppState, b: &Bundle) -> Result<bundle::Sizes, ApiError> {
    let b = b.clone();
    let limits = st.cfg.load_limits();
    blocking(st, move || bundle::validate(&b, &limits)).await
}

fn check_options(st: &AppState, o: &JobOptions) -> Result<(), ApiError> {
    let mut d = Vec::new();
    if let Some(t) = o.time_limit_s {
        if !(t.is_finite() && t > 0.0) {
            d.push(Detail::field(
                "options.time_limit_s",
                format!("{t}: expected a positive number of seconds"),
            ));
        } else if t > st.cfg.max_time_limit {
            d.push(Detail::field(
                "options.time_limit_s",
                format!(
                    "{t}: expected at most {} s (the server's --max-time-limit)",
                    st.cfg.max_time_limit
                ),
            ));
        }
    }
    if let Some(g) = o.gap {
        if !(g.is_finite() && g >= 0.0) {
            d.push(Detail::field(
                "options.gap",
                format!("{g}: expected a non-negative relative gap"),
            ));
        }
    }
    if let Some(t) = o.threads {
        if !(1..=256).contains(&t) {
            d.push(Detail::field(
                "options.threads",
                format!("{t}: expected 1 to 256"),
            ));
        }
    }
    if d.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unprocessable("invalid options", d))
    }
}

fn check_method(field: &str, m: &JobMethod, sizes: &bundle::Sizes) -> Result<(), ApiError> {
    let bad =
        |msg: String| ApiError::unprocessable("invalid method", vec![Detail::field(field, msg)]);
    let kinds: Vec<crate::solve::BackendKind> = match m {
        JobMethod::Milp(k) => vec![*k],
        JobMethod::Heuristic(h) if sizes.kind == "pipeline" => {
            return Err(bad(format!(
                "{}: a `kind: pipeline` instance is solved with a MILP backend only",
                h.name()
            )))
        }
        JobMethod::Heuristic(_) => vec![],
        JobMethod::Compare(ms) => {
            if sizes.kind == "pipeline" {
                return Err(bad("compare takes joint instances only".into()));
            }
            ms.iter()
                .filter_map(|c| match c {
                    crate::heuristic::compare::CompareMethod::Milp(k) => Some(*k),
                    _ => None,
                })
                .collect()
        }
    };
    for k in kinds {
        if !k.available() {
            return Err(bad(format!(
                "{}: this backend is not built into this server",
                k.name()
            )));
        }
    }
    Ok(())
}

// ----------------------------------------------------------------------
// Jobs

fn job_url(id: &str) -> String {
    format!("/v1/jobs/{id}")
}

fn job_view(st: &AppState, r: &JobRow, with_report: bool) -> Job {
    let result: Option<WorkerResult> = r
        .result
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok());
    let (pid, elapsed) = {
        let running = st.running.lock().unwrap_or_else(|e| e.into_inner());
        // The row was read first: a job it shows queued may have been
        // claimed since, but only the row's status is reported.
        match running.get(&r.id) {
            Some(x) if r.status == JobStatus::Running => {
                (x.pid, Some(x.started.elapsed().as_secs_f64()))
            }
            _ => (None, None),
        }
    };
    let elapsed = elapsed.or(match (r.started_at, r.finished_at) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    });
    Job {
        id: r.id.clone(),
        url: job_url(&r.id),
        kind: r.kind.clone(),
        method: r.method.clone(),
        status: r.status,
        options: serde_json::from_str(&r.options).unwrap_or_default(),
        instance_sha256: r.instance_hash.clone(),
        attempts: r.attempts,
        created_at: r.created_at,
        started_at: r.started_at,
        finished_at: r.finished_at,
        error: r.error.clone(),
        worker_pid: pid,
        progress: {
            // While it runs: the worker's latest progress event; once it
            // ended: its result.
            let live: Option<crate::solve::ProgressEvent> = r
                .progress
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok());
            match &result {
                Some(w) => Progress {
                    elapsed_s: elapsed,
                    incumbent: w.incumbent,
                    bound: w.bound,
                },
                None => Progress {
                    elapsed_s: elapsed,
                    incumbent: live.as_ref().and_then(|e| e.incumbent),
                    bound: live.as_ref().and_then(|e| e.bound),
                },
            }
        },
        result_status: result.as_ref().map(|w| w.status.clone()),
        solve_time_s: result.as_ref().map(|w| w.solve_time_s),
        report: if with_report {
            result.map(|w| w.report)
        } else {
            None
        },
    }
}

fn visible(st: &AppState, owner: &Owner, id: &str) -> Result<JobRow, ApiError> {
    match st.store.get(id)? {
        Some(r) if r.owner == owner.0 => Ok(as_known(st, r)),
        _ => Err(ApiError::no_job(id)),
    }
}

/// A row as the server knows it: a job whose end the store could not
/// record yet is shown failed, with the reason.
fn as_known(st: &AppState, mut r: JobRow) -> JobRow {
    if r.status == JobStatus::Running {
        let pending = st.unrecorded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(reason) = pending.get(&r.id) {
            r.status = JobStatus::Failed;
            r.error = Some(reason.clone());
        }
    }
    r
}

#[allow(clippy::too_many_arguments)]
async fn enqueue(
    st: &AppState,
    owner: &Owner,
    headers: &HeaderMap,
    kind: &str,
    method: String,
    options: &JobOptions,
    b: Bundle,
    sizes: &bundle::Sizes,
) -> Result<Response, ApiError> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "bad Idempotency-Key",
                        vec![Detail::field(
                            "Idempotency-Key",
                            "expected 1 to 200 visible ASCII characters",
                        )],
                    )
                })?
                .to_string(),
        ),
        None => None,
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let options = serde_json::to_string(options).map_err(ApiError::internal)?;
    let hash = b.hash();
    let bundle = serde_json::to_string(&b).map_err(ApiError::internal)?;
    let sizes = serde_json::to_string(sizes).map_err(ApiError::internal)?;
    let new = NewJob {
        id: &id,
        owner: &owner.0,
        idem_key: key.as_deref(),
        kind,
        method: &method,
        options: &options,
        instance_hash: &hash,
        bundle: &bundle,
        sizes: &sizes,
    };
    match st.store.insert(&new, st.cfg.max_queue)? {
        store::Inserted::New(row) => {
            st.metrics.submitted();
            tracing::info!(job = %row.id, status = %"queued", kind = %kind, method = %row.method, token = %short_id(&row.owner), "job");
            st.wake.notify_one();
            Ok(submitted(&row, true))
        }
        store::Inserted::Existing(row) => Ok(submitted(&row, false)),
        store::Inserted::QueueFull(depth) => {
            st.metrics.rejected();
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "the job queue is full",
                vec![Detail::field(
                    "queue",
                    format!(
                        "{depth} jobs queued: at most {} (the server's --max-queue); retry later",
                        st.cfg.max_queue
                    ),
                )],
            );
            e.retry_after = Some(1);
            Err(e)
        }
    }
}

fn submitted(row: &JobRow, created: bool) -> Response {
    let url = job_url(&row.id);
    let mut r = (
        StatusCode::ACCEPTED,
        Json(Submitted {
            id: row.id.clone(),
            url: url.clone(),
            status: row.status,
            created,
        }),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&url) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Submit a solve: a MILP backend or a heuristic on an instance.
#[utoipa::path(post, path = "/v1/jobs", tag = "jobs",
    request_body(content = JobRequest, description = "JSON, or YAML with a YAML Content-Type"),
    params(("Idempotency-Key" = Option<String>, Header, description = "the same key again gives the same job")),
    responses(
        (status = 202, description = "stored; queued", body = Submitted),
        (status = 400, description = "the body is not JSON", body = ErrorBody),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
        (status = 422, description = "invalid instance, method or options; instance too large", body = ErrorBody),
        (status = 429, description = "queue full (see Retry-After)", body = ErrorBody),
    ))]
async fn submit(
    State(st): State<Arc<AppState>>,
    owner: Owner,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_of(body)?;
    let yaml = is_yaml(&headers);
    let (req, b) = blocking(&st, move || {
        let mut req: JobRequest = parse(yaml, &body)?;
        let files = std::mem::take(&mut req.files);
        let instance = std::mem::replace(&mut req.instance, InstanceInput::Text(String::new()));
        let b = bundle_of(instance, files)?;
        Ok((req, b))
    })
    .await?;
    let method = JobMethod::parse_solve(&req.method)
        .map_err(|e| ApiError::unprocessable("invalid method", vec![Detail::field("method", e)]))?;
    check_options(&st, &req.options)?;
    let sizes = checked(&st, &b).await?;
    check_method("method", &method, &sizes)?;
    enqueue(
        &st,
        &owner,
        &headers,
        "solve",
        req.method,
        &req.options,
        b,
        &sizes,
    )
    .await
}

/// Submit a comparison of methods on an instance (as a job).
#[utoipa::path(post, path = "/v1/compare", tag = "jobs",
    request_body = CompareRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "the same key again gives the same job")),
    responses(
        (status = 202, description = "stored; queued", body = Submitted),
        (status = 400, description = "the body is not JSON", body = ErrorBody),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
        (status = 422, description = "invalid instance, methods or options", body = ErrorBody),
        (status = 429, description = "queue full (see Retry-After)", body = ErrorBody),
    ))]
async fn compare(
    State(st): State<Arc<AppState>>,
    owner: Owner,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_of(body)?;
    let yaml = is_yaml(&headers);
    let (req, b) = blocking(&st, move || {
        let mut req: CompareRequest = parse(yaml, &body)?;
        let files = std::mem::take(&mut req.files);
        let instance = std::mem::replace(&mut req.instance, InstanceInput::Text(String::new()));
        let b = bundle_of(instance, files)?;
        Ok((req, b))
    })
    .await?;
    let methods = req.methods.unwrap_or_else(|| {
        crate::heuristic::Method::ALL
            .iter()
            .map(|m| m.name().to_string())
            .chain(["milp:highs".to_string()])
            .collect()
    });
    if methods.is_empty() || methods.iter().any(|m| m.contains(',') || m.is_empty()) {
        return Err(ApiError::unprocessable(
            "invalid methods",
            vec![Detail::field(
                "methods",
                "expected a non-empty list of method names",
            )],
        ));
    }
    let spec = format!("compare:{}", methods.join(","));
    let method = JobMethod::parse(&spec).map_err(|e| {
        ApiError::unprocessable("invalid methods", vec![Detail::field("methods", e)])
    })?;
    check_options(&st, &req.options)?;
    let sizes = checked(&st, &b).await?;
    check_method("methods", &method, &sizes)?;
    enqueue(
        &st,
        &owner,
        &headers,
        "compare",
        spec,
        &req.options,
        b,
        &sizes,
    )
    .await
}

/// Query of `GET /v1/jobs/{id}`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct WaitQuery {
    /// Wait up to this many seconds (at most 60) for the job to end.
    pub wait: Option<String>,
}

/// A job: status, timestamps, progress and, once done, the report.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "job id"), WaitQuery),
    responses(
        (status = 200, body = Job),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 404, description = "no such job for this token", body = ErrorBody),
        (status = 422, description = "bad wait", body = ErrorBody),
    ))]
async fn get_job(
    State(st): State<Arc<AppState>>,
    owner: Owner,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Job>, ApiError> {
    let wait = match q.get("wait") {
        None => 0.0,
        Some(w) => w
            .parse::<f64>()
            .ok()
            .filter(|w| w.is_finite() && (0.0..=60.0).contains(w))
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "bad query",
                    vec![Detail::field(
                        "wait",
                        format!("{w}: expected 0 to 60 seconds"),
                    )],
                )
            })?,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(wait);
    loop {
        let notified = st.done.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let r = visible(&st, &owner, &id)?;
        if r.status.is_terminal() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(job_view(&st, &r, true)));
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

/// Query of `GET /v1/jobs`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Only jobs in this state.
    pub status: Option<JobStatus>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Your jobs, oldest first, a page at a time.
#[utoipa::path(get, path = "/v1/jobs", tag = "jobs",
    params(ListQuery),
    responses(
        (status = 200, body = JobList),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 422, description = "bad status, limit or cursor", body = ErrorBody),
    ))]
async fn list(
    State(st): State<Arc<AppState>>,
    owner: Owner,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<JobList>, ApiError> {
    let mut d = Vec::new();
    let status = match q.get("status") {
        None => None,
        Some(s) => {
            let p = JobStatus::parse(s);
            if p.is_none() {
                d.push(Detail::field(
                    "status",
                    format!("{s}: expected queued, running, done, failed or cancelled"),
                ));
            }
            p
        }
    };
    let limit = match q.get("limit") {
        None => 100,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                d.push(Detail::field("limit", format!("{s}: expected 1 to 1000")));
                100
            }
        },
    };
    let cursor = match q.get("cursor") {
        None => 0,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                d.push(Detail::field(
                    "cursor",
                    format!("{s}: expected a next_cursor of an earlier page"),
                ));
                0
            }
        },
    };
    if !d.is_empty() {
        return Err(ApiError::unprocessable("bad query", d));
    }
    let rows: Vec<JobRow> = st
        .store
        .list(&owner.0, status, cursor, limit + 1)?
        .into_iter()
        .map(|r| as_known(st.as_ref(), r))
        .collect();
    let more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    Ok(Json(JobList {
        jobs: rows.iter().map(|r| job_view(&st, r, false)).collect(),
        next_cursor: if more {
            rows.last().map(|r| r.seq.to_string())
        } else {
            None
        },
    }))
}

/// Cancel a job: a queued job is dropped, a running one's worker killed;
/// answers once the job is cancelled (or had already ended).
#[utoipa::path(delete, path = "/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "job id")),
    responses(
        (status = 200, description = "the job, now cancelled or already ended", body = Job),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 404, description = "no such job for this token", body = ErrorBody),
    ))]
async fn cancel(
    State(st): State<Arc<AppState>>,
    owner: Owner,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Job>, ApiError> {
    visible(&st, &owner, &id)?;
    let was_running = {
        let running = st.running.lock().unwrap_or_else(|e| e.into_inner());
        match running.get(&id) {
            Some(r) => {
                r.cancel.notify_one();
                true
            }
            None => {
                // Under the lock no slot can claim it meanwhile.
                if st.store.cancel_queued(&id)? {
                    tracing::info!(job = %id, status = %"cancelled", "job");
                }
                false
            }
        }
    };
    if was_running {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = st.done.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let r = visible(&st, &owner, &id)?;
            if r.status.is_terminal() || tokio::time::Instant::now() >= deadline {
                break;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }
    let r = visible(&st, &owner, &id)?;
    Ok(Json(job_view(&st, &r, false)))
}

/// The plan of a job that is done, as JSON or, by `Accept`, YAML.
#[utoipa::path(get, path = "/v1/jobs/{id}/plan", tag = "jobs",
    params(("id" = String, Path, description = "job id")),
    responses(
        (status = 200, description = "the plan (JSON, or YAML for `Accept: application/yaml`)",
            content((Object = "application/json"), (String = "application/yaml"))),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 404, description = "no such job, or it found no plan", body = ErrorBody),
        (status = 409, description = "the job has not finished", body = ErrorBody),
    ))]
async fn get_plan(
    State(st): State<Arc<AppState>>,
    owner: Owner,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let r = visible(&st, &owner, &id)?;
    // A job cancelled while running keeps the best plan it had.
    let kept = r.status == JobStatus::Cancelled && r.result.is_some();
    if r.status != JobStatus::Done && !kept {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("job {id} is {}", r.status.name()),
            vec![Detail::field(
                "status",
                "a plan exists only for a job that is done",
            )],
        ));
    }
    let plan = r
        .result
        .as_deref()
        .and_then(|t| serde_json::from_str::<WorkerResult>(t).ok())
        .and_then(|w| w.plan)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("job {id} found no plan"),
                vec![Detail::field(
                    "plan",
                    "the method returned no plan; see the report",
                )],
            )
        })?;
    let yaml = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("yaml"));
    if yaml {
        let text = serde_yaml::to_string(&plan).map_err(ApiError::internal)?;
        Ok(([(header::CONTENT_TYPE, "application/yaml")], text).into_response())
    } else {
        Ok(Json(plan).into_response())
    }
}

// ----------------------------------------------------------------------
// Synchronous checks

/// Validate an instance: every problem, as `edgesplit validate` lists
/// them (file, field path, what was found and expected).
#[utoipa::path(post, path = "/v1/validate", tag = "instances",
    request_body = ValidateRequest,
    responses(
        (status = 200, description = "valid or not, with every problem", body = ValidateResponse),
        (status = 400, description = "the body is not JSON", body = ErrorBody),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
        (status = 422, description = "malformed request", body = ErrorBody),
    ))]
async fn validate(
    State(st): State<Arc<AppState>>,
    _owner: Owner,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ValidateResponse>, ApiError> {
    let body = body_of(body)?;
    let yaml = is_yaml(&headers);
    let b = blocking(&st, move || {
        let req: ValidateRequest = parse(yaml, &body)?;
        bundle_of(req.instance, req.files)
    })
    .await?;
    match checked(&st, &b).await {
        Ok(sizes) => Ok(Json(ValidateResponse {
            valid: true,
            sizes: Some(sizes),
            problems: vec![],
        })),
        Err(e)
            if e.status == StatusCode::UNPROCESSABLE_ENTITY
                && e.body.error.starts_with("the instance") =>
        {
            Ok(Json(ValidateResponse {
                valid: false,
                sizes: None,
                problems: e.body.details,
            }))
        }
        Err(e) => Err(e),
    }
}

/// Score a plan on an instance with the evaluator (synchronous).
#[utoipa::path(post, path = "/v1/evaluate", tag = "instances",
    request_body = EvaluateRequest,
    responses(
        (status = 200, description = "the evaluation", body = EvaluateResponse),
        (status = 400, description = "the body is not JSON", body = ErrorBody),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
        (status = 422, description = "invalid instance or plan", body = ErrorBody),
    ))]
async fn evaluate(
    State(st): State<Arc<AppState>>,
    _owner: Owner,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EvaluateResponse>, ApiError> {
    let body = body_of(body)?;
    let yaml = is_yaml(&headers);
    let (b, plan) = blocking(&st, move || {
        let req: EvaluateRequest = parse(yaml, &body)?;
        Ok((
            bundle_of(req.instance, req.files)?,
            text_of("plan", req.plan)?,
        ))
    })
    .await?;
    checked(&st, &b).await?;
    let (feasible, evaluation) = {
        let limits = st.cfg.load_limits();
        blocking(&st, move || evaluate_plan(&b, &plan, &limits)).await?
    };
    Ok(Json(EvaluateResponse {
        feasible,
        evaluation,
    }))
}

/// The name a plan gets in messages.
const PLAN_NAME: &str = "plan.yaml";

/// Evaluates the plan text on a (validated) bundle, in memory: whether it
/// is feasible, and the evaluation as JSON.
fn evaluate_plan(
    b: &Bundle,
    plan: &str,
    limits: &crate::instance::Limits,
) -> Result<(bool, serde_json::Value), ApiError> {
    let bad_plan = |e: crate::Error| {
        let details = match e.diagnostics() {
            Some(_) => bundle::details_of(&e),
            None => vec![Detail::field("plan", e.to_string())],
        };
        ApiError::unprocessable("the plan is invalid", details)
    };
    let name = Path::new(PLAN_NAME);
    let loaded = b.load(limits).map_err(ApiError::internal)?;
    let json = |v: Result<serde_json::Value, serde_json::Error>| v.map_err(ApiError::internal);
    match loaded {
        bundle::Loaded::Pipeline(inst) => {
            let choice =
                crate::pipeline::load_plan_str(plan, Some(name), &inst).map_err(bad_plan)?;
            let ev = crate::pipeline::eval::evaluate(&inst, choice);
            Ok((ev.feasible(), json(serde_json::to_value(&ev))?))
        }
        bundle::Loaded::Joint(inst) => {
            let file: crate::plan::PlanFile =
                crate::instance::load::parse_yaml(plan, name, "a plan mapping with `tasks`")
                    .map_err(bad_plan)?;
            let plan = crate::Plan::from_file(&file, &inst, name).map_err(bad_plan)?;
            let ev = crate::eval::evaluate(&inst, &plan, None);
            Ok((ev.feasible(), json(serde_json::to_value(&ev))?))
        }
    }
}

// ----------------------------------------------------------------------
// Service

/// The MILP backends and heuristics this server runs.
#[utoipa::path(get, path = "/v1/solvers", tag = "service",
    responses(
        (status = 200, body = Solvers),
        (status = 401, description = "no or unknown token", body = ErrorBody),
    ))]
async fn solvers(_owner: Owner) -> Json<Solvers> {
    use crate::solve::BackendKind;
    Json(Solvers {
        backends: BackendKind::ALL
            .iter()
            .map(|k| {
                let c = k.capabilities();
                SolverInfo {
                    name: k.name().into(),
                    available: k.available(),
                    time_limit: c.time_limit,
                    gap: c.rel_gap,
                    threads: c.threads,
                    bound: c.bound,
                }
            })
            .collect(),
        heuristics: crate::heuristic::Method::ALL
            .iter()
            .map(|m| HeuristicInfo {
                name: m.name().into(),
                decisions: m.decisions().into(),
                quantizes: m.quantizes(),
            })
            .collect(),
    })
}

/// Liveness: the store answers.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, body = Health)))]
async fn healthz(State(st): State<Arc<AppState>>) -> Result<Json<Health>, ApiError> {
    Ok(Json(Health {
        status: "ok".into(),
        queue_depth: st.store.queue_depth()?,
        workers: st.cfg.workers,
    }))
}

/// Prometheus metrics: jobs by status, queue depth, solve-time histogram.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
async fn metrics_text(State(st): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let text = st
        .metrics
        .render(&st.store.counts()?, st.store.queue_depth()?, st.cfg.workers);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

/// The OpenAPI document of this API.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "service",
    responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document, generated from the handlers and types.
#[derive(OpenApi)]
#[openapi(
    info(title = "edgesplit model server", description = "Split, place and quantize DNNs across device, edge and cloud: solve jobs with MILP backends or heuristics."),
    paths(submit, list, get_job, cancel, get_plan, web::plan_svg, web::index, compare, validate, evaluate, solvers, healthz, metrics_text, openapi),
    components(schemas(JobRequest, CompareRequest, ValidateRequest, EvaluateRequest, InstanceInput, JobOptions,
        Submitted, Job, JobList, Progress, JobStatus, ErrorBody, Detail, ValidateResponse, EvaluateResponse,
        bundle::Sizes, Solvers, SolverInfo, HeuristicInfo, Health)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// Reads tokens: one per line of `file` (blank lines and `#` comments
/// skipped), and comma-separated in `env`.
pub fn read_tokens(file: Option<&Path>, env: Option<&str>) -> crate::Result<Vec<String>> {
    let mut t = Vec::new();
    if let Some(f) = file {
        let text = std::fs::read_to_string(f).map_err(|e| crate::Error::Io {
            path: f.to_path_buf(),
            source: e,
        })?;
        t.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(String::from),
        );
    }
    if let Some(e) = env {
        t.extend(
            e.split(',')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from),
        );
    }
    Ok(t)
}

/// The files an instance at `path` refers to, relative to it (its DNN file
/// and relevance CSVs), for clients that send an instance from disk.
pub fn referenced_files(path: &Path) -> crate::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let v: serde_yaml::Value =
        serde_yaml::from_str(&text).map_err(|e| crate::Error::Other(e.to_string()))?;
    let mut names = Vec::new();
    fn walk(v: &serde_yaml::Value, names: &mut Vec<String>) {
        match v {
            serde_yaml::Value::Mapping(m) => {
                for (k, x) in m {
                    if let (Some("file" | "relevance_file" | "samples"), Some(s)) =
                        (k.as_str(), x.as_str())
                    {
                        names.push(s.to_string());
                    }
                    walk(x, names);
                }
            }
            serde_yaml::Value::Sequence(s) => s.iter().for_each(|x| walk(x, names)),
            _ => {}
        }
    }
    walk(&v, &mut names);
    let base = path.parent().unwrap_or(Path::new(""));
    let mut out = BTreeMap::new();
    for n in names {
        let p = base.join(&n);
        let t = std::fs::read_to_string(&p).map_err(|e| crate::Error::Io { path: p, source: e })?;
        out.insert(n, t);
    }
    Ok(out)
}
