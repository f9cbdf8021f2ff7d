//! The shape of the code: no function in `src/` is longer than 150 lines
//! (the code is formatted by rustfmt, so a function ends at the first line
//! that closes a brace at the indentation of its `fn`).

use std::path::{Path, PathBuf};

const MAX_LINES: usize = 150;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Each function of `text` as (first line, name, lines).
fn functions(text: &str) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let body = line.trim_start();
        let indent = line.len() - body.len();
        let Some(after) = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "async fn ",
            "pub async fn ",
            "pub(super) async fn ",
            "const fn ",
            "pub const fn ",
            "unsafe fn ",
        ]
        .iter()
        .find_map(|p| body.strip_prefix(p)) else {
            continue;
        };
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // The signature ends at the first line ending in `{` (a body) or
        // `;` (a declaration without one).
        let Some(open) = (i..lines.len()).find(|&j| {
            let t = lines[j].trim_end();
            t.ends_with('{') || t.ends_with(';') || t.ends_with('}')
        }) else {
            continue;
        };
        let t = lines[open].trim_end();
        if t.ends_with(';') {
            continue;
        }
        if t.ends_with('}') && open == i {
            found.push((i + 1, name, 1));
            continue;
        }
        let close = format!("{}}}", " ".repeat(indent));
        let end = (open + 1..lines.len())
            .find(|&j| lines[j].trim_end() == close)
            .unwrap_or_else(|| panic!("fn {name} at line {}: no closing brace", i + 1));
        found.push((i + 1, name, end - i + 1));
    }
    found
}

#[test]
fn no_function_is_longer_than_150_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut long = Vec::new();
    let mut counted = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (line, name, n) in functions(&text) {
            counted += 1;
            if n > MAX_LINES {
                let rel = f.strip_prefix(root).unwrap().display().to_string();
                long.push(format!("{rel}:{line} fn {name}: {n} lines"));
            }
        }
    }
    assert!(
        counted > 500,
        "only {counted} functions found: is the scan broken?"
    );
    assert!(
        long.is_empty(),
        "functions over {MAX_LINES} lines (split them into steps):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_scan_measures_functions() {
    let text = "fn a() {\n    let x = 1;\n}\n\npub(super) fn b(\n    y: u8,\n) -> u8 {\n    y\n}\n    fn c(&self);\nfn d() {}\n";
    assert_eq!(
        functions(text),
        vec![
            (1, "a".to_string(), 3),
            (5, "b".to_string(), 5),
            (11, "d".to_string(), 1)
        ]
    );
}
