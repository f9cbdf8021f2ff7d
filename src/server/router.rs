//! The routes, the middleware around every request, and the OpenAPI document.

use super::api::*;
use super::auth::token_id;
use super::bundle;
use super::checks::{evaluate, healthz, metrics_text, solvers, validate};
use super::jobs::{cancel, compare, get_job, get_plan, list, submit};
use super::store::JobStatus;
use super::AppState;
use super::{checks, jobs, web};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;
use utoipa::OpenApi;

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
pub(super) async fn edge(
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
pub(super) async fn read_body(
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

pub(super) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route", vec![])
}

/// The OpenAPI document of this API.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "service",
    responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
pub(super) async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

pub(super) struct BearerAuth;

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
    paths(jobs::submit, jobs::list, jobs::get_job, jobs::cancel, jobs::get_plan, web::plan_svg, web::index, jobs::compare, checks::validate,
        checks::evaluate, checks::solvers, checks::healthz, checks::metrics_text, openapi),
    components(schemas(JobRequest, CompareRequest, ValidateRequest, EvaluateRequest, InstanceInput, JobOptions,
        Submitted, Job, JobList, Progress, JobStatus, ErrorBody, Detail, ValidateResponse, EvaluateResponse,
        bundle::Sizes, Solvers, SolverInfo, HeuristicInfo, Health)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;
