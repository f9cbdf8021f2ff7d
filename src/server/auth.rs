//! Bearer tokens: who a request comes from, and how tokens are read and kept (hashed).

use super::api::*;
use super::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;

pub(super) fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The bearer token of a request, if any.
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
}

/// Who made a request, for logs: the first 12 hex digits of its token's
/// SHA-256 (the owner stored with its jobs), never the token; `-` on a
/// server without tokens, `none` or `unknown` for a missing or wrong one.
pub(super) fn token_id(st: &AppState, headers: &HeaderMap) -> String {
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
pub(super) fn short_id(owner: &str) -> String {
    if owner.is_empty() {
        "-".into()
    } else {
        owner.chars().take(12).collect()
    }
}

/// The caller: the SHA-256 of its bearer token, or empty without tokens.
pub struct Owner(pub(super) String);

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
