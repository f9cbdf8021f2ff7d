//! The web page served at `/` (one static HTML file with a little plain
//! JavaScript over the JSON API, compiled into the binary) and the picture
//! of a finished job's plan (`GET /v1/jobs/{id}/plan.svg`).

use super::api::{ApiError, Detail, ErrorBody};
use super::auth::Owner;
use super::bundle::{Bundle, Loaded};
use super::jobs::{stored_plan, visible};
use super::request::blocking;
use super::AppState;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

const INDEX: &str = include_str!("web/index.html");
const EXAMPLE_INSTANCE: &str = include_str!("../../instances/default.yaml");
const EXAMPLE_DNN: &str = include_str!("../../models/tiny-cnn.yaml");

/// The page, with the example instance (instances/default.yaml and its
/// DNN file) filled in.
fn page() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| {
        let example = serde_json::json!({
            "instance": EXAMPLE_INSTANCE,
            "files": { "../models/tiny-cnn.yaml": EXAMPLE_DNN },
        });
        // `</` cannot end the script element from inside the JSON.
        let json = example.to_string().replace("</", "<\\/");
        INDEX.replace("\"__EXAMPLE__\"", &json)
    })
}

/// The web page: submit an instance, follow jobs, see a job's report and
/// the picture of its plan. It asks for the bearer token and keeps it in
/// the browser; everything it loads comes from this server.
#[utoipa::path(get, path = "/", tag = "service",
    responses((status = 200, description = "the web page (HTML)", content_type = "text/html", body = String)),
    security(()))]
pub(super) async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data: blob:",
            ),
        ],
        page(),
    )
        .into_response()
}

fn plan_from(
    v: serde_json::Value,
    inst: &crate::Instance,
    field: &str,
) -> Result<crate::Plan, ApiError> {
    let file: crate::plan::PlanFile = serde_json::from_value(v)
        .map_err(|e| ApiError::internal(format!("the stored plan is unreadable: {e}")))?;
    crate::Plan::from_file(&file, inst, Path::new(field)).map_err(|e| {
        ApiError::unprocessable(
            "the plan does not fit the instance",
            vec![Detail::field(field, e.to_string())],
        )
    })
}

/// The picture of a finished job's plan, as `edgesplit draw` draws it;
/// with `diff=OTHER_JOB`, what differs between this job's plan (A) and
/// the other's (B), which must be of the same instance.
#[utoipa::path(get, path = "/v1/jobs/{id}/plan.svg", tag = "jobs",
    params(
        ("id" = String, Path, description = "job id"),
        ("diff" = Option<String>, Query, description = "another job of the same instance: draw what differs between the two plans"),
    ),
    responses(
        (status = 200, description = "the plan as SVG", content_type = "image/svg+xml", body = String),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 404, description = "no such job, or it found no plan", body = ErrorBody),
        (status = 409, description = "the job has not finished", body = ErrorBody),
        (status = 422, description = "no picture: a pipeline instance, or the two jobs are of different instances", body = ErrorBody),
    ))]
pub(super) async fn plan_svg(
    State(st): State<Arc<AppState>>,
    owner: Owner,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let r = visible(&st, &owner, &id)?;
    let plan_a = stored_plan(&id, &r)?;
    let other = match q.get("diff") {
        Some(other) => {
            let rb = visible(&st, &owner, other)?;
            if rb.instance_hash != r.instance_hash {
                return Err(ApiError::unprocessable(
                    "the two jobs are of different instances",
                    vec![Detail::field(
                        "diff",
                        format!("job {other} is not of the instance of job {id}"),
                    )],
                ));
            }
            Some((other.clone(), rb.method.clone(), stored_plan(other, &rb)?))
        }
        None => None,
    };
    let bundle: Bundle = st
        .store
        .bundle(&r.instance_hash)?
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| ApiError::internal("the job's instance is missing from the store"))?;
    let limits = st.cfg.load_limits();
    let method = r.method.clone();
    let svg = blocking(&st, move || {
        let inst = match bundle.load(&limits).map_err(ApiError::internal)? {
            Loaded::Joint(inst) => inst,
            Loaded::Pipeline(_) => {
                return Err(ApiError::unprocessable(
                    "no picture for a pipeline instance",
                    vec![Detail::field(
                        "instance",
                        "plans of `kind: pipeline` instances are choices, not placements",
                    )],
                ))
            }
        };
        let a = plan_from(plan_a, &inst, "plan")?;
        Ok(match other {
            Some((other_id, other_method, pb)) => {
                let b = plan_from(pb, &inst, "diff")?;
                crate::draw::diff_svg(
                    &inst,
                    &a,
                    &b,
                    &format!("job {id} ({method})"),
                    &format!("job {other_id} ({other_method})"),
                )
            }
            None => {
                crate::draw::plan_svg(&inst, &a, &format!("{}: job {id} ({method})", inst.name))
            }
        })
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}
