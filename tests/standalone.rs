//! The repository stands alone: no tracked file names a path outside it,
//! and every relative link of the Markdown docs points at a file inside it.

use std::path::{Component, Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file of the repository that git would track: the tree minus
/// build output, VCS data and caches.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name == ".git" {
            // VCS data: a directory, or in a linked worktree a file naming
            // the main repository's git directory.
            continue;
        }
        if p.is_dir() {
            if !matches!(
                name.as_str(),
                "target" | ".hypothesis" | "__pycache__" | ".venv" | "node_modules"
            ) {
                files(&p, out);
            }
        } else {
            out.push(p);
        }
    }
}

fn text_files() -> Vec<(PathBuf, String)> {
    let mut all = Vec::new();
    files(&repo(), &mut all);
    all.sort();
    all.into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let text = String::from_utf8(bytes).ok()?;
            Some((p, text))
        })
        .collect()
}

#[test]
fn no_file_names_a_path_outside_the_repository() {
    // Written in pieces so that this file does not match itself.
    let outside = [
        format!("../{}/", "shared"),
        format!("/{}/", "work"),
        format!("{}.md", "FORMULATION"),
        format!("{}/0", "seeds"),
        format!("seed `{}", "00"),
    ];
    let mut hits = Vec::new();
    for (path, text) in text_files() {
        for (no, line) in text.lines().enumerate() {
            for pat in &outside {
                if line.contains(pat.as_str()) {
                    hits.push(format!(
                        "{}:{}: `{}`",
                        path.strip_prefix(repo()).unwrap().display(),
                        no + 1,
                        pat
                    ));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "files name paths outside the repository:\n{}",
        hits.join("\n")
    );
}

/// Relative link targets of `[text](target)` in Markdown, without anchors.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        let tail = &rest[i + 2..];
        let Some(end) = tail.find(')') else { break };
        let target = tail[..end].split('#').next().unwrap().trim();
        let external = target.contains("://") || target.starts_with("mailto:");
        if !target.is_empty() && !external && !target.contains(' ') {
            out.push(target.to_string());
        }
        rest = &tail[end..];
    }
    out
}

#[test]
fn markdown_links_point_inside_the_repository() {
    let root = repo();
    let mut bad = Vec::new();
    let mut checked = 0;
    for (path, text) in text_files() {
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        for target in links(&text) {
            checked += 1;
            let joined = path.parent().unwrap().join(&target);
            // Lexical normalization: `..` may not climb above the root.
            let mut norm = PathBuf::new();
            let mut escaped = false;
            for c in joined.strip_prefix(&root).unwrap().components() {
                match c {
                    Component::ParentDir => escaped |= !norm.pop(),
                    Component::Normal(s) => norm.push(s),
                    _ => {}
                }
            }
            if escaped || !root.join(&norm).exists() {
                bad.push(format!(
                    "{}: ({target})",
                    path.strip_prefix(&root).unwrap().display()
                ));
            }
        }
    }
    assert!(
        checked > 10,
        "found only {checked} links: the scan is broken"
    );
    assert!(
        bad.is_empty(),
        "broken or outside links:\n{}",
        bad.join("\n")
    );
}
