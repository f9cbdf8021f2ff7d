//! An instance as it travels in a request: its text and the files it
//! refers to (by the relative paths it uses), written out to a directory so
//! that the ordinary loader and validator read it unchanged.

use super::api::{ApiError, Detail};
use crate::error::Problem;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// The name the instance text gets in its directory and in messages.
pub const INSTANCE_NAME: &str = "instance.yaml";

/// An instance and the files it refers to; the stored, content-addressed
/// unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Bundle {
    /// The instance, YAML text.
    pub instance: String,
    /// Referenced files: path as the instance writes it → text.
    pub files: BTreeMap<String, String>,
}

/// Sizes of a loaded instance.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sizes {
    /// `joint` or `pipeline`.
    pub kind: String,
    /// Atoms of the DNN.
    pub atoms: usize,
    /// Edges of the DNN.
    pub edges: usize,
    /// Tasks.
    pub tasks: usize,
    /// Network nodes.
    pub nodes: usize,
    /// Quantization groups.
    pub groups: usize,
}

impl Sizes {
    /// atoms × tasks × nodes, the size the server limits.
    pub fn product(&self) -> u128 {
        self.atoms as u128 * self.tasks as u128 * self.nodes as u128
    }
}

/// Where each file goes relative to the directory root: the instance is
/// nested deep enough that every `..` of a referenced path stays inside.
/// The instance's folder and each file's place with its text, both
/// relative to the root.
type Layout<'a> = (PathBuf, Vec<(PathBuf, &'a str)>);

fn layout(b: &Bundle) -> Result<Layout<'_>, ApiError> {
    let mut depth = 0usize;
    let mut parsed = Vec::new();
    for (name, text) in &b.files {
        if name.len() > 1024
            || name.chars().any(char::is_control)
            || name.split('/').any(|c| c.len() > 255)
        {
            return Err(ApiError::unprocessable(
                "bad file name",
                vec![Detail::field(
                    format!("files.{}", name.escape_debug()),
                    "expected a relative path of printable characters, at most 1024 bytes, 255 per component",
                )],
            ));
        }
        let p = Path::new(name);
        let mut level: isize = 0;
        let mut lowest: isize = 0;
        let mut parts = Vec::new();
        for c in p.components() {
            match c {
                Component::Normal(s) => {
                    level += 1;
                    parts.push(Some(s.to_os_string()));
                }
                Component::ParentDir => {
                    level -= 1;
                    lowest = lowest.min(level);
                    parts.push(None);
                }
                Component::CurDir => {}
                Component::RootDir | Component::Prefix(_) => {
                    return Err(ApiError::unprocessable(
                        "bad file name",
                        vec![Detail::field(
                            format!("files.{name}"),
                            "an absolute path: expected a path relative to the instance",
                        )],
                    ))
                }
            }
        }
        if level < 1 || name.is_empty() {
            return Err(ApiError::unprocessable(
                "bad file name",
                vec![Detail::field(
                    format!("files.{name}"),
                    "expected a relative path to a file",
                )],
            ));
        }
        depth = depth.max((-lowest) as usize);
        parsed.push((name.clone(), parts, text.as_str()));
    }
    if depth > 16 {
        return Err(ApiError::unprocessable(
            "bad file name",
            vec![Detail::field("files", "more than 16 `..` levels")],
        ));
    }
    let inst_dir: PathBuf = (0..depth).map(|i| format!("d{i}")).collect();
    let mut out = Vec::new();
    for (_, parts, text) in parsed {
        let mut p = inst_dir.clone();
        for part in parts {
            match part {
                Some(s) => p.push(s),
                None => {
                    p.pop();
                }
            }
        }
        out.push((p, text));
    }
    Ok((inst_dir, out))
}

impl Bundle {
    /// The content address: SHA-256 of the canonical JSON (files sorted).
    pub fn hash(&self) -> String {
        let text = serde_json::to_string(self).expect("a bundle serializes");
        let d = Sha256::digest(text.as_bytes());
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Writes the bundle under `root`; returns the instance's path.
    pub fn materialize(&self, root: &Path) -> Result<PathBuf, ApiError> {
        let (inst_dir, files) = layout(self)?;
        let dir = root.join(&inst_dir);
        std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
        // The root is a fresh folder: what fails now comes from the names
        // (a file also used as a folder, the instance's own name).
        let path = dir.join(INSTANCE_NAME);
        std::fs::write(&path, &self.instance).map_err(ApiError::internal)?;
        for (p, text) in files {
            let full = root.join(&p);
            let bad = |e: std::io::Error| {
                ApiError::unprocessable(
                    "bad file name",
                    vec![Detail::field(
                        "files",
                        format!("cannot store {}: {e}", p.display()),
                    )],
                )
            };
            if full == path {
                return Err(bad(std::io::Error::other("the instance's own name")));
            }
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).map_err(bad)?;
            }
            std::fs::write(&full, text).map_err(bad)?;
        }
        Ok(path)
    }
}

/// A problem of the validator, with file names as the request gave them.
pub fn detail_of(p: &Problem, inst_dir: &Path) -> Detail {
    let prefix = format!("{}/", inst_dir.display());
    let rel = |s: String| s.replace(&prefix, "");
    Detail {
        file: Some(rel(p.file.display().to_string())),
        field: Some(p.path.clone()),
        message: rel(p.message.clone()),
    }
}

/// Loads the instance of a materialized bundle at `path` with the
/// library's validator; problems become details naming the request's
/// files and field paths.
pub fn validate(path: &Path) -> Result<Sizes, Vec<Detail>> {
    let dir = path.parent().unwrap_or(Path::new(""));
    let details = |e: crate::Error| -> Vec<Detail> {
        match e.diagnostics() {
            Some(d) => d.problems.iter().map(|p| detail_of(p, dir)).collect(),
            None => {
                let prefix = format!("{}/", dir.display());
                vec![Detail {
                    file: Some(INSTANCE_NAME.into()),
                    field: None,
                    message: e.to_string().replace(&prefix, ""),
                }]
            }
        }
    };
    if crate::pipeline::is_pipeline_file(path) {
        crate::pipeline::load(path).map_err(details)?;
        return Ok(Sizes {
            kind: "pipeline".into(),
            atoms: 1,
            edges: 0,
            tasks: 1,
            nodes: 2,
            groups: 0,
        });
    }
    let inst = crate::load(path).map_err(details)?;
    Ok(Sizes {
        kind: "joint".into(),
        atoms: inst.dnn.len(),
        edges: inst.dnn.edge_count(),
        tasks: inst.tasks.len(),
        nodes: inst.network.len(),
        groups: inst.group_count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_references_stay_inside_the_root() {
        let mut files = BTreeMap::new();
        files.insert("../models/m.yaml".to_string(), "m".to_string());
        files.insert("rel.csv".to_string(), "r".to_string());
        let b = Bundle {
            instance: "i".into(),
            files,
        };
        let root = tempfile::tempdir().unwrap();
        let p = b.materialize(root.path()).unwrap();
        assert_eq!(p, root.path().join("d0").join(INSTANCE_NAME));
        let dir = p.parent().unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("../models/m.yaml")).unwrap(),
            "m"
        );
        assert_eq!(std::fs::read_to_string(dir.join("rel.csv")).unwrap(), "r");
    }

    #[test]
    fn absolute_and_escaping_names_are_refused() {
        for bad in ["/etc/passwd", "..", "a/../..", "a\0b", "x\ny"] {
            let mut files = BTreeMap::new();
            files.insert(bad.to_string(), String::new());
            let b = Bundle {
                instance: "i".into(),
                files,
            };
            assert!(layout(&b).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_hash_depends_on_every_file() {
        let mut b = Bundle {
            instance: "i".into(),
            files: BTreeMap::new(),
        };
        let h0 = b.hash();
        b.files.insert("x".into(), "1".into());
        let h1 = b.hash();
        b.files.insert("x".into(), "2".into());
        assert_ne!(h0, h1);
        assert_ne!(h1, b.hash());
        assert_eq!(h0.len(), 64);
    }
}
