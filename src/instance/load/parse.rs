//! Reading YAML: parse errors with field paths, nesting limits, and why an untagged choice (inline or file) did not match.

use crate::error::{Error, Result};
use crate::instance::raw::*;
use std::path::Path;

/// Reads a whole file from disk as UTF-8 text, at most
/// [`DEFAULT_MAX_FILE_BYTES`](super::source::DEFAULT_MAX_FILE_BYTES); a
/// missing, empty, binary or oversized file is a diagnostic naming
/// `referrer` and the field (`field`) that referred to it.
pub(crate) fn read_text(path: &Path, referrer: &Path, field: &str) -> Result<String> {
    super::source::read_disk(path, super::source::DEFAULT_MAX_FILE_BYTES, referrer, field)
}

/// Deserializes YAML text, turning serde's error into a diagnostic with the
/// field path and position.
pub(crate) fn parse_yaml<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &Path,
    expected: &str,
) -> Result<T> {
    if text.trim().is_empty() {
        return Err(Error::invalid(
            file,
            "",
            format!("the file is empty: expected {expected}"),
        ));
    }
    if let Some((line, what)) = too_deep(text) {
        return Err(Error::invalid(
            file,
            format!("line {line}"),
            format!("{what}: expected {expected}, a few levels deep"),
        ));
    }
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let inner = e.into_inner();
        let mut msg = serde_message(inner.to_string(), &path, expected);
        if path.is_empty()
            && (msg.starts_with("missing field") || msg.contains("EOF"))
            && serde_yaml::from_str::<serde_yaml::Value>(text)
                .is_ok_and(|v| v == serde_yaml::Value::Null)
        {
            msg = format!("the file is empty (only comments or null): expected {expected}");
        }
        if let Some(loc) = inner.location() {
            // serde_yaml appends the position itself in most messages.
            let suffix = format!("line {} column {}", loc.line(), loc.column());
            if !msg.contains(&suffix) {
                msg = format!("{msg} at {suffix}");
            }
        }
        Error::invalid(file, path, msg)
    })
}

/// A serde message made readable: without the path serde_yaml puts in
/// front of some (the problem shows it already), with "a mapping" or
/// `expected` for internal type names, and cut short when it quotes a
/// huge value.
pub(crate) fn serde_message(mut msg: String, path: &str, expected: &str) -> String {
    if let Some((head, rest)) = msg.split_once(": ") {
        if !head.is_empty() && !head.contains(' ') && path.starts_with(head) {
            msg = rest.to_string();
        }
    }
    if let Some(at) = msg.find("struct Raw") {
        let name_end = msg[at + 7..]
            .find(|c: char| !c.is_alphanumeric())
            .map_or(msg.len(), |e| at + 7 + e);
        let what = if path.is_empty() {
            expected
        } else {
            "a mapping"
        };
        msg.replace_range(at..name_end, what);
    }
    for (ty, what) in [
        ("expected f64", "expected a number"),
        ("expected u64", "expected a whole number ≥ 0"),
        ("expected u32", "expected a whole number ≥ 0"),
    ] {
        msg = msg.replace(ty, what);
    }
    const MAX: usize = 400;
    if msg.len() > MAX {
        let cut = |i: usize| (i..=msg.len()).find(|&j| msg.is_char_boundary(j));
        let head = cut(MAX / 2).unwrap_or(msg.len());
        let tail = cut(msg.len() - MAX / 2).unwrap_or(msg.len());
        msg = format!("{} […] {}", &msg[..head], &msg[tail..]);
    }
    msg
}

/// Deepest nesting a file may have. serde_yaml gives up after 128 levels
/// anyway, but only once the YAML parser has read the whole document,
/// which takes minutes and gigabytes for megabytes of `[[[[`.
pub(super) const MAX_NESTING: usize = 1000;

/// Finds nesting deeper than [`MAX_NESTING`]: flow collections (`[`, `{`,
/// outside comments) open across lines, or block indentation (spaces and
/// `- `, `? `, `: ` indicators) at the start of a line. Returns the line
/// and what was found. Brackets inside quoted strings count too, which can
/// only over-count in files no one writes.
pub(crate) fn too_deep(text: &str) -> Option<(usize, String)> {
    let mut depth = 0usize;
    for (i, line) in text.as_bytes().split(|&b| b == b'\n').enumerate() {
        let indent = line
            .iter()
            .take_while(|&&b| matches!(b, b' ' | b'-' | b'?' | b':' | b'\t'))
            .count();
        if indent > MAX_NESTING {
            return Some((
                i + 1,
                format!("indentation of {indent} columns, more than {MAX_NESTING}"),
            ));
        }
        let mut prev = b' ';
        for &b in line {
            match b {
                b'#' if prev == b' ' || prev == b'\t' => break,
                b'[' | b'{' => depth += 1,
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_NESTING {
                return Some((
                    i + 1,
                    format!("brackets nested more than {MAX_NESTING} deep"),
                ));
            }
            prev = b;
        }
    }
    None
}

/// serde says only "did not match any variant of untagged enum" for any
/// mistake inside `dnn` or `objective.normalization`; find the real one.
pub(super) fn explain_untagged(e: Error, text: &str, file: &Path) -> Error {
    let Some([p]) = e.diagnostics().map(|d| d.problems.as_slice()) else {
        return e;
    };
    if !p.message.contains("untagged enum") {
        return e;
    }
    // serde's position here is that of the enclosing mapping: find the key.
    let key = format!("{}:", p.path.rsplit('.').next().unwrap_or_default());
    let at = text
        .lines()
        .position(|l| l.trim_start().starts_with(&key))
        .map(|i| format!(" at line {}", i + 1))
        .unwrap_or_default();
    // `dnn`, or an entry `dnns[i]` of the list of DNNs.
    let entry = p
        .path
        .strip_prefix("dnns[")
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|i| i.parse::<usize>().ok());
    if p.path != "dnn" && entry.is_none() {
        if p.message.contains("RawNormalization") {
            return Error::invalid(
                file,
                p.path.clone(),
                format!("expected 'none', 'payoff' or {{scales: {{time, energy, cost}}}} with numbers{at}"),
            );
        }
        return e;
    }
    let field = p.path.clone();
    let Some(dnn) = serde_yaml::from_str::<serde_yaml::Value>(text)
        .ok()
        .and_then(|doc| match entry {
            None => doc.get("dnn").cloned(),
            Some(i) => doc.get("dnns").and_then(|l| l.get(i)).cloned(),
        })
    else {
        return e;
    };
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct FileRef {
        #[allow(dead_code)]
        file: String,
    }
    let expected = "expected `{file: path}` or an inline DNN mapping (input, layers, output)";
    let found = match &dnn {
        serde_yaml::Value::Mapping(m) if m.contains_key("file") => {
            serde_path_to_error::deserialize::<_, FileRef>(dnn.clone()).map(drop)
        }
        serde_yaml::Value::Mapping(_) => {
            serde_path_to_error::deserialize::<_, RawDnn>(dnn.clone()).map(drop)
        }
        other => {
            let mut shown = serde_yaml::to_string(other).unwrap_or_default();
            shown = shown.trim().chars().take(40).collect();
            return Error::invalid(file, field, format!("found `{shown}`: {expected}{at}"));
        }
    };
    match found {
        Ok(()) => e,
        Err(inner) => {
            let sub = inner.path().to_string();
            let path = if sub == "." {
                field.clone()
            } else {
                format!("{field}.{sub}")
            };
            let msg = serde_message(inner.into_inner().to_string(), &path, "");
            Error::invalid(file, path, format!("{msg} (in the `{field}` section{at})"))
        }
    }
}
