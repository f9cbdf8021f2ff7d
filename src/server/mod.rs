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
//! * [`bench`]: `edgesplit bench server`.

pub mod api;
pub mod bench;
pub mod bundle;
pub mod metrics;
pub mod runner;
pub mod store;
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
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Starts the server: recovers the store, binds, prints
/// `listening on http://ADDR` on stdout, and serves until SIGINT/SIGTERM.
pub fn serve(cfg: Config) -> crate::Result<()> {
    let other = |e: String| crate::Error::Other(e);
    if cfg.tokens.is_empty() && !cfg.addr.ip().is_loopback() {
        return Err(other(format!(
            "refusing to bind to {} without access tokens: give --tokens-file or EDGESPLIT_TOKENS, or bind to a loopback address (127.0.0.1, ::1)",
            cfg.addr
        )));
    }
    if cfg.workers == 0 {
        return Err(other("--workers must be at least 1".into()));
    }
    let store = Store::open(&cfg.db).map_err(|e| {
        other(format!(
            "cannot open the job store {}: {e}",
            cfg.db.display()
        ))
    })?;
    let (requeued, failed) = store
        .recover()
        .map_err(|e| other(format!("job store: {e}")))?;
    if requeued + failed > 0 {
        eprintln!("recovered after a stop: {requeued} job(s) re-queued, {failed} failed");
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
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on http://{local}");
            let _ = out.flush();
        }
        axum::serve(listener, router(state))
            .with_graceful_shutdown(shutdown())
            .await
            .map_err(|e| other(format!("server: {e}")))
    })
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
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/solvers", get(solvers))
        .route("/v1/jobs", post(submit).get(list))
        .route("/v1/jobs/{id}", get(get_job).delete(cancel))
        .route("/v1/jobs/{id}/plan", get(get_plan))
        .route("/v1/validate", post(validate))
        .route("/v1/evaluate", post(evaluate))
        .route("/v1/compare", post(compare))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
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

/// Parses a request envelope from JSON, or YAML by `Content-Type`.
fn parse<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if ct.contains("yaml") {
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

/// Validates a bundle with the library's loader.
async fn validated(st: &AppState, b: &Bundle) -> Result<bundle::Sizes, ApiError> {
    let b = b.clone();
    let dir = tempfile::tempdir_in(&st.jobs_dir).map_err(ApiError::internal)?;
    let sizes = tokio::task::spawn_blocking(move || {
        let path = b.materialize(dir.path())?;
        bundle::validate(&path).map_err(|d| ApiError::unprocessable("the instance is invalid", d))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(sizes)
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
        progress: Progress {
            elapsed_s: elapsed,
            incumbent: result.as_ref().and_then(|w| w.incumbent),
            bound: result.as_ref().and_then(|w| w.bound),
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
        Some(r) if r.owner == owner.0 => Ok(r),
        _ => Err(ApiError::no_job(id)),
    }
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
    let req: JobRequest = parse(&headers, &body)?;
    let method = JobMethod::parse_solve(&req.method)
        .map_err(|e| ApiError::unprocessable("invalid method", vec![Detail::field("method", e)]))?;
    check_options(&st, &req.options)?;
    let b = bundle_of(req.instance, req.files)?;
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
    let req: CompareRequest = parse(&headers, &body)?;
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
    let b = bundle_of(req.instance, req.files)?;
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
    let rows = st.store.list(&owner.0, status, cursor, limit + 1)?;
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
                st.store.cancel_queued(&id)?;
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
    if r.status != JobStatus::Done {
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
    let req: ValidateRequest = parse(&headers, &body)?;
    let b = bundle_of(req.instance, req.files)?;
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
    let req: EvaluateRequest = parse(&headers, &body)?;
    let b = bundle_of(req.instance, req.files)?;
    let plan = text_of("plan", req.plan)?;
    checked(&st, &b).await?;
    let dir = tempfile::tempdir_in(&st.jobs_dir).map_err(ApiError::internal)?;
    let (feasible, evaluation) = tokio::task::spawn_blocking(move || {
        let path = b.materialize(dir.path())?;
        let inst_dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let plan_path = inst_dir.join("plan.yaml");
        std::fs::write(&plan_path, plan).map_err(ApiError::internal)?;
        let bad_plan = |e: crate::Error| {
            let details = match e.diagnostics() {
                Some(d) => d
                    .problems
                    .iter()
                    .map(|p| bundle::detail_of(p, &inst_dir))
                    .collect(),
                None => vec![Detail::field("plan", e.to_string())],
            };
            ApiError::unprocessable("the plan is invalid", details)
        };
        if crate::pipeline::is_pipeline_file(&path) {
            let mut out = Vec::new();
            crate::pipeline::cli::evaluate(&path, &plan_path, true, &mut out).map_err(bad_plan)?;
            let v: serde_json::Value = serde_json::from_slice(&out).map_err(ApiError::internal)?;
            let feasible = v.get("feasible").and_then(|f| f.as_bool()).unwrap_or(false);
            return Ok::<_, ApiError>((feasible, v));
        }
        let inst = crate::load(&path).map_err(ApiError::internal)?;
        let plan = crate::Plan::load(&plan_path, &inst).map_err(bad_plan)?;
        let ev = crate::eval::evaluate(&inst, &plan, None);
        Ok((
            ev.feasible(),
            serde_json::to_value(&ev).map_err(ApiError::internal)?,
        ))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(EvaluateResponse {
        feasible,
        evaluation,
    }))
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
    paths(submit, list, get_job, cancel, get_plan, compare, validate, evaluate, solvers, healthz, metrics_text, openapi),
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
