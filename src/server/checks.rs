//! The handlers that answer at once: validate, evaluate, solvers, health and metrics.

use super::api::*;
use super::auth::Owner;
use super::bundle;
use super::bundle::Bundle;
use super::request::{blocking, body_of, bundle_of, checked, is_yaml, parse, text_of};
use super::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::path::Path;
use std::sync::Arc;

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
pub(super) async fn validate(
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
pub(super) async fn evaluate(
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
pub(super) const PLAN_NAME: &str = "plan.yaml";

/// Evaluates the plan text on a (validated) bundle, in memory: whether it
/// is feasible, and the evaluation as JSON.
pub(super) fn evaluate_plan(
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
pub(super) async fn solvers(_owner: Owner) -> Json<Solvers> {
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
pub(super) async fn healthz(State(st): State<Arc<AppState>>) -> Result<Json<Health>, ApiError> {
    Ok(Json(Health {
        status: "ok".into(),
        server: st.cfg.server_id.clone(),
        store: st.store.backend().into(),
        queue_depth: st.store.queue_depth()?,
        workers: st.cfg.workers,
    }))
}

/// Prometheus metrics: jobs by status, queue depth, solve-time histogram.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
pub(super) async fn metrics_text(State(st): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let label = |v: &str| {
        v.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
    let mut text = format!(
        "# HELP edgesplit_server_info The server that answered and its job store (job counts and queue depth are the store's, shared by every server on it).\n# TYPE edgesplit_server_info gauge\nedgesplit_server_info{{server=\"{}\",store=\"{}\"}} 1\n",
        label(&st.cfg.server_id),
        st.store.backend()
    );
    text.push_str(
        &st.metrics
            .render(&st.store.counts()?, st.store.queue_depth()?, st.cfg.workers),
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}
