//! Request and response types of the HTTP API, and its one error type.

use super::store::{JobStatus, StoreError};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One thing wrong with a request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Detail {
    /// The file it is in (`instance.yaml`, or a referenced file's path as
    /// the instance writes it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Field path inside it, e.g. `tasks[0].rate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What was found and what was expected.
    pub message: String,
}

impl Detail {
    /// A detail about a field of the request.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Detail {
        Detail {
            file: None,
            field: Some(field.into()),
            message: message.into(),
        }
    }
}

/// The body of every error answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, in one line.
    pub error: String,
    /// Every problem found.
    pub details: Vec<Detail>,
}

/// An error answer: a status and an [`ErrorBody`].
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: ErrorBody,
    /// Seconds for `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status`.
    pub fn new(status: StatusCode, error: impl Into<String>, details: Vec<Detail>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                error: error.into(),
                details,
            },
            retry_after: None,
        }
    }
    /// 422.
    pub fn unprocessable(error: impl Into<String>, details: Vec<Detail>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error, details)
    }
    /// 400.
    pub fn bad_request(error: impl Into<String>, details: Vec<Detail>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, error, details)
    }
    /// 404 for a job.
    pub fn no_job(id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no job {id}"),
            vec![Detail::field("id", "no job with this id is visible to you")],
        )
    }
    /// 500, logged.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
            vec![Detail {
                file: None,
                field: None,
                message: e.to_string(),
            }],
        )
    }
}

impl From<StoreError> for ApiError {
    /// A full store (database or disk) is 507, a store that cannot write
    /// for now 503 with `Retry-After`; anything else 500. Nothing was
    /// stored in either case.
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Full(e) => {
                tracing::error!(error = %e, "job store full");
                let mut a = ApiError::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "the job store is full",
                    vec![Detail::field(
                        "store",
                        format!("{e}: the database reached the server's --max-db-size or its disk is full; nothing was stored, retry once space is freed"),
                    )],
                );
                a.retry_after = Some(30);
                a
            }
            StoreError::Unavailable(e) => {
                tracing::error!(error = %e, "job store cannot write");
                let mut a = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the job store cannot write",
                    vec![Detail::field(
                        "store",
                        format!("{e}: nothing was stored; retry later"),
                    )],
                );
                a.retry_after = Some(5);
                a
            }
            e => ApiError::internal(format!("job store: {e}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body)).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert("retry-after", HeaderValue::from(s as u32));
        }
        r
    }
}

/// An instance: YAML text, or the instance as a JSON object.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum InstanceInput {
    /// YAML (or JSON) text.
    Text(String),
    /// The instance mapping itself.
    #[schema(value_type = Object)]
    Object(serde_json::Map<String, serde_json::Value>),
}

/// Solve options.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobOptions {
    /// Time limit in seconds per backend solve (capped by the server).
    pub time_limit_s: Option<f64>,
    /// Relative MIP gap at which to stop.
    pub gap: Option<f64>,
    /// Threads for backends that use several.
    #[schema(minimum = 1, maximum = 256)]
    pub threads: Option<u32>,
}

/// `POST /v1/jobs`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    /// The instance.
    pub instance: InstanceInput,
    /// Files the instance refers to, by the relative path it uses (e.g.
    /// `../models/tiny-cnn.yaml`) → their text.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// A MILP backend (`highs`, `cbc`, `scip`, `microlp`) or a heuristic
    /// (`tide`, `tide-q`, `prune`, `multi-prune`, `orthogonalize`,
    /// `centralized`); see `GET /v1/solvers`.
    pub method: String,
    /// Options.
    #[serde(default)]
    pub options: JobOptions,
}

/// `POST /v1/compare`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareRequest {
    /// The instance.
    pub instance: InstanceInput,
    /// Files the instance refers to.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Methods as `edgesplit compare` takes them: heuristics and
    /// `milp:BACKEND` (default: every heuristic and `milp:highs`).
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// Options (the time limit applies to each MILP solve).
    #[serde(default)]
    pub options: JobOptions,
}

/// `POST /v1/validate`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateRequest {
    /// The instance.
    pub instance: InstanceInput,
    /// Files the instance refers to.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

/// `POST /v1/evaluate`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    /// The instance.
    pub instance: InstanceInput,
    /// Files the instance refers to.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// The plan: YAML text or the plan mapping.
    pub plan: InstanceInput,
}

/// The answer of `POST /v1/validate`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValidateResponse {
    /// No problem found.
    pub valid: bool,
    /// Sizes, when valid.
    pub sizes: Option<super::bundle::Sizes>,
    /// Every problem found (the CLI's list).
    pub problems: Vec<Detail>,
}

/// The answer of `POST /v1/evaluate`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EvaluateResponse {
    /// Every constraint holds.
    pub feasible: bool,
    /// The evaluation (metrics per task, node and link, totals, objective,
    /// violations), as `edgesplit evaluate --json` prints it.
    #[schema(value_type = Object)]
    pub evaluation: serde_json::Value,
}

/// Progress of a job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    /// Seconds since a worker started on it.
    pub elapsed_s: Option<f64>,
    /// Objective of the best plan (evaluator's), once the backend gives it.
    pub incumbent: Option<f64>,
    /// Best proven bound, once the backend gives it.
    pub bound: Option<f64>,
}

/// A job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Job {
    /// Id.
    pub id: String,
    /// Its URL.
    pub url: String,
    /// `solve` or `compare`.
    pub kind: String,
    /// Method (for a comparison, `compare:` and the methods).
    pub method: String,
    /// State.
    pub status: JobStatus,
    /// Options as given.
    pub options: JobOptions,
    /// SHA-256 of the instance bundle (instances are stored once).
    pub instance_sha256: String,
    /// Times a worker started on it.
    pub attempts: i64,
    /// Unix time, seconds.
    pub created_at: f64,
    /// Unix time, seconds.
    pub started_at: Option<f64>,
    /// Unix time, seconds.
    pub finished_at: Option<f64>,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    /// Process id of the worker while running (known only to the server
    /// that runs it).
    pub worker_pid: Option<u32>,
    /// The server whose worker runs the job (while it runs).
    pub server: Option<String>,
    /// Progress.
    pub progress: Progress,
    /// How the solve ended (`optimal`, `feasible`, `infeasible`, ...; a
    /// heuristic's `feasible` or `infeasible`; `done` for a comparison).
    pub result_status: Option<String>,
    /// Seconds the worker spent solving.
    pub solve_time_s: Option<f64>,
    /// The report, when done.
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
}

/// The answer of `POST /v1/jobs` and `POST /v1/compare`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Submitted {
    /// Job id.
    pub id: String,
    /// Its URL.
    pub url: String,
    /// State now.
    pub status: JobStatus,
    /// False when an earlier job had this `Idempotency-Key`.
    pub created: bool,
}

/// A page of jobs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobList {
    /// The jobs, oldest first (without their reports).
    pub jobs: Vec<Job>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// A MILP backend.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SolverInfo {
    /// Name.
    pub name: String,
    /// Built into this server.
    pub available: bool,
    /// Honours a time limit.
    pub time_limit: bool,
    /// Honours a relative gap.
    pub gap: bool,
    /// Uses several threads.
    pub threads: bool,
    /// Reports a dual bound.
    pub bound: bool,
}

/// A heuristic.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeuristicInfo {
    /// Name.
    pub name: String,
    /// The decisions it makes.
    pub decisions: String,
    /// Whether it may quantize.
    pub quantizes: bool,
}

/// `GET /v1/solvers`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Solvers {
    /// MILP backends.
    pub backends: Vec<SolverInfo>,
    /// Heuristics.
    pub heuristics: Vec<HeuristicInfo>,
}

/// `GET /healthz`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The server that answered (`--server-id`).
    pub server: String,
    /// Its job store: `sqlite` or `postgres`.
    pub store: String,
    /// Jobs queued (in the store, shared by every server on it).
    pub queue_depth: i64,
    /// Worker slots of this server.
    pub workers: usize,
}
