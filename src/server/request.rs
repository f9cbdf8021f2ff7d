//! Reading request bodies (JSON or YAML) and checking what they ask for before a job is stored.

use super::api::*;
use super::bundle;
use super::bundle::Bundle;
use super::worker::JobMethod;
use super::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, StatusCode};
use std::collections::BTreeMap;

pub(super) fn body_of(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
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
pub(super) fn is_yaml(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("yaml"))
}

/// Deepest nesting of a JSON request body: serde_json's own limit, found
/// here before parsing, with the place.
pub(super) const MAX_JSON_NESTING: usize = 128;

/// The byte offset where a JSON text opens more than `max` arrays and
/// objects at once (brackets inside strings do not count).
pub(super) fn json_too_deep(body: &[u8], max: usize) -> Option<usize> {
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
pub(super) fn check_depth(yaml: bool, body: &[u8]) -> Result<(), ApiError> {
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
pub(super) fn parse<T: serde::de::DeserializeOwned>(
    yaml: bool,
    body: &[u8],
) -> Result<T, ApiError> {
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
pub(super) async fn blocking<T: Send + 'static>(
    st: &AppState,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let _turn = st.loaders.acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("the loader stopped: {e}")))?
}

/// The instance of a request (text or object) with the files it refers to.
pub(super) fn bundle_of(
    instance: InstanceInput,
    files: BTreeMap<String, String>,
) -> Result<Bundle, ApiError> {
    Ok(Bundle {
        instance: text_of("instance", instance)?,
        files,
    })
}

pub(super) fn text_of(field: &str, x: InstanceInput) -> Result<String, ApiError> {
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
pub(super) async fn checked(st: &AppState, b: &Bundle) -> Result<bundle::Sizes, ApiError> {
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
pub(super) async fn validated(st: &AppState, b: &Bundle) -> Result<bundle::Sizes, ApiError> {
    let b = b.clone();
    let limits = st.cfg.load_limits();
    blocking(st, move || bundle::validate(&b, &limits)).await
}

pub(super) fn check_options(st: &AppState, o: &JobOptions) -> Result<(), ApiError> {
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

pub(super) fn check_method(
    field: &str,
    m: &JobMethod,
    sizes: &bundle::Sizes,
) -> Result<(), ApiError> {
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
