//! An instance as it travels in a request: its text and the files it
//! refers to (by the relative paths it uses), loaded by the ordinary
//! loader with those files as its only source: nothing is written to or
//! read from the host's disk.

use super::api::{ApiError, Detail};
use crate::error::Problem;
use crate::instance::{FileSource, Limits, LoadOptions, VirtualFiles};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

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

/// A loaded instance of either kind.
// One value per request or job, never stored in bulk: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Loaded {
    /// A joint (split/placement/quantization) instance.
    Joint(crate::Instance),
    /// A `kind: pipeline` instance.
    Pipeline(crate::pipeline::PipelineInstance),
}

impl Loaded {
    /// Loads the instance file at `path` from disk (the command line's
    /// `worker INSTANCE --method`).
    pub fn from_path(path: &Path) -> crate::Result<Loaded> {
        if crate::pipeline::is_pipeline_file(path) {
            return crate::pipeline::load(path).map(Loaded::Pipeline);
        }
        crate::load(path).map(Loaded::Joint)
    }

    /// Its sizes.
    pub fn sizes(&self) -> Sizes {
        match self {
            Loaded::Pipeline(_) => Sizes {
                kind: "pipeline".into(),
                atoms: 1,
                edges: 0,
                tasks: 1,
                nodes: 2,
                groups: 0,
            },
            Loaded::Joint(inst) => Sizes {
                kind: "joint".into(),
                atoms: inst.dnn.len(),
                edges: inst.dnn.edge_count(),
                tasks: inst.tasks.len(),
                nodes: inst.network.len(),
                groups: inst.group_count(),
            },
        }
    }
}

/// Why a bundle did not load: a bad file name (the request's fault, before
/// any loading), or the loader's error.
#[derive(Debug)]
pub enum LoadError {
    /// `files` has names that are not relative paths to files.
    Names(Vec<Detail>),
    /// The loader's error.
    Load(crate::Error),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Names(d) => {
                let m: Vec<String> = d
                    .iter()
                    .map(|d| format!("{}: {}", d.field.as_deref().unwrap_or(""), d.message))
                    .collect();
                write!(f, "bad file names: {}", m.join("; "))
            }
            LoadError::Load(e) => write!(f, "{e}"),
        }
    }
}

impl Bundle {
    /// The content address: SHA-256 of the canonical JSON (files sorted).
    pub fn hash(&self) -> String {
        let text = serde_json::to_string(self).expect("a bundle serializes");
        let d = Sha256::digest(text.as_bytes());
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The files as the loader's only source: every name must be a
    /// relative path to a file (`..` allowed, at most
    /// [`MAX_PARENT_LEVELS`](crate::instance::source::MAX_PARENT_LEVELS)),
    /// each file named once.
    pub fn virtual_files(&self) -> Result<VirtualFiles, Vec<Detail>> {
        VirtualFiles::new(self.files.clone()).map_err(|bad| {
            bad.into_iter()
                .map(|b| Detail::field(format!("files.{}", b.name.escape_debug()), b.message))
                .collect()
        })
    }

    /// Loads the instance with the library's loader, its referenced files
    /// read from [`Bundle::files`] only (never from the host's disk). In
    /// messages the instance is [`INSTANCE_NAME`]. `limits` are checked
    /// from the declared numbers before anything is expanded.
    pub fn load(&self, limits: &Limits) -> Result<Loaded, LoadError> {
        let files = self.virtual_files().map_err(LoadError::Names)?;
        let name = Path::new(INSTANCE_NAME);
        if crate::pipeline::is_pipeline_text(&self.instance) {
            return crate::pipeline::load_str(&self.instance, Some(name))
                .map(Loaded::Pipeline)
                .map_err(LoadError::Load);
        }
        let opts = LoadOptions {
            files: FileSource::Virtual(files),
            limits: *limits,
        };
        crate::instance::load_str_with(&self.instance, Some(name), &opts)
            .map(Loaded::Joint)
            .map_err(LoadError::Load)
    }
}

/// A problem of the validator, with file names as the request gave them.
pub fn detail_of(p: &Problem) -> Detail {
    Detail {
        file: Some(p.file.display().to_string()),
        field: Some(p.path.clone()),
        message: p.message.clone(),
    }
}

/// The details of a loader error.
pub fn details_of(e: &crate::Error) -> Vec<Detail> {
    match e.diagnostics() {
        Some(d) => d.problems.iter().map(detail_of).collect(),
        None => vec![Detail {
            file: Some(INSTANCE_NAME.into()),
            field: None,
            message: e.to_string(),
        }],
    }
}

/// Loads a bundle and returns its sizes; a bad file name or an invalid
/// instance is a 422 whose details name the request's files and field
/// paths (a size over `limits` included, refused before expansion).
pub fn validate(b: &Bundle, limits: &Limits) -> Result<Sizes, ApiError> {
    match b.load(limits) {
        Ok(l) => Ok(l.sizes()),
        Err(LoadError::Names(d)) => Err(ApiError::unprocessable("bad file name", d)),
        Err(LoadError::Load(e)) => Err(ApiError::unprocessable(
            "the instance is invalid",
            details_of(&e),
        )),
    }
}

/// The files an instance at `path` refers to, relative to it (its DNN file,
/// relevance CSV, noise samples and profile CSV), for clients that send an
/// instance from disk.
pub fn referenced_files(path: &Path) -> crate::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let v: serde_yaml::Value =
        serde_yaml::from_str(&text).map_err(|e| crate::Error::Other(e.to_string()))?;
    let mut names = Vec::new();
    fn walk(v: &serde_yaml::Value, names: &mut Vec<String>) {
        match v {
            serde_yaml::Value::Mapping(m) => {
                for (k, x) in m {
                    if let (Some("file" | "relevance_file" | "samples"), Some(s)) =
                        (k.as_str(), x.as_str())
                    {
                        names.push(s.to_string());
                    }
                    walk(x, names);
                }
            }
            serde_yaml::Value::Sequence(s) => s.iter().for_each(|x| walk(x, names)),
            _ => {}
        }
    }
    walk(&v, &mut names);
    if let Some(csv) = v
        .get("profiles")
        .and_then(|p| p.get("csv"))
        .and_then(|c| c.as_str())
    {
        names.push(csv.to_string());
    }
    let base = path.parent().unwrap_or(Path::new(""));
    let mut out = BTreeMap::new();
    for n in names {
        let p = base.join(&n);
        let t = std::fs::read_to_string(&p).map_err(|e| crate::Error::Io { path: p, source: e })?;
        out.insert(n, t);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(instance: &str, files: &[(&str, &str)]) -> Bundle {
        Bundle {
            instance: instance.into(),
            files: files
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn absolute_escaping_and_clashing_names_are_refused() {
        let deep = format!("{}x", "../".repeat(17));
        for bad in ["/etc/passwd", "..", "a/..", "a\0b", "x\ny", deep.as_str()] {
            let b = bundle("i", &[(bad, "")]);
            assert!(b.virtual_files().is_err(), "{bad}");
        }
        let b = bundle("i", &[("a.csv", ""), ("x/../a.csv", "")]);
        assert!(b.virtual_files().is_err());
        let ok = bundle("i", &[("../../models/m.yaml", "m"), ("rel.csv", "r")]);
        assert_eq!(ok.virtual_files().unwrap().len(), 2);
    }

    #[test]
    fn host_files_are_never_read() {
        for (text, field) in [
            ("dnn: {file: /etc/passwd}\n", "dnn.file"),
            ("dnn: {file: ../../../../../../etc/passwd}\n", "dnn.file"),
        ] {
            let b = bundle(
                &format!("version: 1\n{text}network: {{nodes: []}}\ntasks: []\n"),
                &[],
            );
            let e = validate(&b, &Limits::default()).unwrap_err();
            let d = &e.body.details[0];
            assert_eq!(d.field.as_deref(), Some(field), "{d:?}");
            assert!(!d.message.contains("root:"), "{}", d.message);
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
