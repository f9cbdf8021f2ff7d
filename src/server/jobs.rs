//! The job handlers: submit, compare, get, list, cancel and the plan of a job.

use super::api::*;
use super::auth::{short_id, Owner};
use super::bundle;
use super::bundle::Bundle;
use super::request::{
    blocking, body_of, bundle_of, check_method, check_options, checked, is_yaml, parse,
};
use super::store;
use super::store::{JobRow, JobStatus, NewJob};
use super::worker::{JobMethod, WorkerResult};
use super::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub(super) fn job_url(id: &str) -> String {
    format!("/v1/jobs/{id}")
}

pub(super) fn job_view(st: &AppState, r: &JobRow, with_report: bool) -> Job {
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
        server: r.server.clone().filter(|_| r.status == JobStatus::Running),
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

pub(super) fn visible(st: &AppState, owner: &Owner, id: &str) -> Result<JobRow, ApiError> {
    match st.store.get(id)? {
        Some(r) if r.owner == owner.0 => Ok(as_known(st, r)),
        _ => Err(ApiError::no_job(id)),
    }
}

/// A row as the server knows it: a job whose end the store could not
/// record yet is shown failed, with the reason.
pub(super) fn as_known(st: &AppState, mut r: JobRow) -> JobRow {
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
pub(super) async fn enqueue(
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

pub(super) fn submitted(row: &JobRow, created: bool) -> Response {
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
pub(super) async fn submit(
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
pub(super) async fn compare(
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
// Only the OpenAPI document reads this type: the handler parses the raw
// query itself, to name a bad value in its error.
#[allow(dead_code)]
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
pub(super) async fn get_job(
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
        let _ = tokio::time::timeout_at(poll_until(&st, deadline), notified).await;
    }
}

/// Until when a wait for a job's end sleeps at most: the deadline, or on
/// a shared store (where another server may end the job) a quarter of a
/// second.
fn poll_until(st: &AppState, deadline: tokio::time::Instant) -> tokio::time::Instant {
    if st.store.shared() {
        deadline.min(tokio::time::Instant::now() + Duration::from_millis(250))
    } else {
        deadline
    }
}

/// Query of `GET /v1/jobs`.
// Only the OpenAPI document reads this type (see WaitQuery).
#[allow(dead_code)]
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
pub(super) async fn list(
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
pub(super) async fn cancel(
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
                // Under the lock no slot of this server can claim it
                // meanwhile; one of another server can, and then the
                // cancel is asked of that server through the store.
                if st.store.cancel_queued(&id)? {
                    tracing::info!(job = %id, status = %"cancelled", "job");
                    false
                } else {
                    st.store.request_cancel(&id)?
                }
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
            let _ = tokio::time::timeout_at(poll_until(&st, deadline), notified).await;
        }
    }
    let r = visible(&st, &owner, &id)?;
    Ok(Json(job_view(&st, &r, false)))
}

/// The plan stored with a job that is done (or was cancelled while
/// running: it keeps the best plan it had); 409 before, 404 without one.
pub(super) fn stored_plan(id: &str, r: &JobRow) -> Result<serde_json::Value, ApiError> {
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
    r.result
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
        })
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
pub(super) async fn get_plan(
    State(st): State<Arc<AppState>>,
    owner: Owner,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let r = visible(&st, &owner, &id)?;
    let plan = stored_plan(&id, &r)?;
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
