//! Where the loader finds the files an instance refers to (`dnn: {file}`,
//! `relevance_file`, `quantization.noise.fit.samples`, `profiles.csv`).
//!
//! * [`FileSource::Disk`], the command line's: the host file system,
//!   relative to the instance's folder, regular files only, each at most a
//!   size limit (read up to one byte past it, so `/dev/zero` or a huge file
//!   costs nothing).
//! * [`FileSource::Virtual`], the server's: a map path → text sent with the
//!   instance. Paths are normalized lexically (`a/../b` is `b`), `..` is
//!   allowed (the map may hold `../models/m.yaml`), and nothing outside the
//!   map exists: an absolute path or a name not in the map is a problem
//!   naming the field, never a read of the host.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Default largest referenced file the disk source reads, bytes (64 MiB).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 << 20;

/// Most `..` levels a virtual path may climb above the instance's folder.
pub const MAX_PARENT_LEVELS: usize = 16;

/// Where referenced files come from.
#[derive(Debug, Clone)]
pub enum FileSource {
    /// The host file system: regular files of at most `max_bytes` bytes.
    Disk {
        /// Largest file read, bytes.
        max_bytes: u64,
    },
    /// Only these files exist.
    Virtual(VirtualFiles),
}

impl Default for FileSource {
    fn default() -> FileSource {
        FileSource::Disk {
            max_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }
}

/// Files given with an instance, by normalized path relative to the
/// instance's folder (`../models/m.yaml`, `rel.csv`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VirtualFiles {
    files: BTreeMap<String, String>,
}

/// A file name that cannot be part of a [`VirtualFiles`]: the name as
/// given and why.
#[derive(Debug, Clone, PartialEq)]
pub struct BadName {
    /// The name as given.
    pub name: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl VirtualFiles {
    /// Builds the map from names as an instance writes them; every name
    /// must be a relative path to a file (see [`normalize`]), and no two
    /// may name the same file.
    pub fn new(
        files: impl IntoIterator<Item = (String, String)>,
    ) -> std::result::Result<VirtualFiles, Vec<BadName>> {
        let mut out = BTreeMap::new();
        let mut given: BTreeMap<String, String> = BTreeMap::new();
        let mut bad = Vec::new();
        for (name, text) in files {
            let key = match normalize(&name) {
                Ok(k) => k,
                Err(message) => {
                    bad.push(BadName { name, message });
                    continue;
                }
            };
            if let Some(first) = given.get(&key) {
                bad.push(BadName {
                    message: format!("names the same file as `{first}`: expected each file once"),
                    name,
                });
                continue;
            }
            given.insert(key.clone(), name);
            out.insert(key, text);
        }
        if bad.is_empty() {
            Ok(VirtualFiles { files: out })
        } else {
            Err(bad)
        }
    }

    /// The text of the file `rel` (relative to the instance's folder).
    pub fn get(&self, rel: &str) -> Option<&str> {
        normalize(rel)
            .ok()
            .and_then(|k| self.files.get(&k))
            .map(String::as_str)
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// No files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// The lexical normal form of a relative path to a file: `.` dropped, each
/// `..` cancelling the name before it, components joined by `/`. Refused:
/// absolute paths, empty names, paths ending at a folder (`a/..`), control
/// characters, more than 1024 bytes or 255 per component, climbing more
/// than [`MAX_PARENT_LEVELS`] above the instance's folder.
pub fn normalize(name: &str) -> std::result::Result<String, String> {
    if name.len() > 1024
        || name.chars().any(char::is_control)
        || name.split('/').any(|c| c.len() > 255)
    {
        return Err(
            "expected a relative path of printable characters, at most 1024 bytes, 255 per component"
                .into(),
        );
    }
    let mut parts: Vec<&str> = Vec::new();
    let mut ups = 0usize;
    let mut last_is_name = false;
    for c in Path::new(name).components() {
        match c {
            Component::Normal(s) => {
                parts.push(s.to_str().unwrap_or_default());
                last_is_name = true;
            }
            Component::ParentDir => {
                if parts.pop().is_none() {
                    ups += 1;
                }
                last_is_name = false;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => {
                return Err("an absolute path: expected a path relative to the instance".into())
            }
        }
    }
    if !last_is_name || name.ends_with('/') {
        return Err("expected a relative path to a file".into());
    }
    if ups > MAX_PARENT_LEVELS {
        return Err(format!(
            "climbs {ups} levels above the instance: expected at most {MAX_PARENT_LEVELS} `..`"
        ));
    }
    let mut out = "../".repeat(ups);
    out.push_str(&parts.join("/"));
    Ok(out)
}

impl FileSource {
    /// Reads the file that `rel` (as written in the field `field` of the
    /// file `referrer`, whose folder is `base`) names. Returns the path to
    /// name the file by in messages, and its text. A problem names
    /// `referrer` and `field`, and never quotes what was read.
    pub fn read(
        &self,
        base: &Path,
        rel: &str,
        referrer: &Path,
        field: &str,
    ) -> Result<(PathBuf, String)> {
        match self {
            FileSource::Disk { max_bytes } => {
                let path = base.join(rel);
                let text = read_disk(&path, *max_bytes, referrer, field)?;
                Ok((path, text))
            }
            FileSource::Virtual(v) => {
                let key = normalize(rel).map_err(|m| {
                    Error::invalid(referrer, field, format!("`{}`: {m}", rel.escape_debug()))
                })?;
                let text = v.files.get(&key).ok_or_else(|| {
                    Error::invalid(
                        referrer,
                        field,
                        format!(
                            "`{}` is not among the request's files: give its text in `files` under the key `{key}` (no other file is read)",
                            rel.escape_debug()
                        ),
                    )
                })?;
                let path = PathBuf::from(&key);
                check_text(text.as_bytes(), &path)?;
                Ok((path, text.clone()))
            }
        }
    }
}

/// Reads a file from disk as UTF-8 text, at most `max_bytes` bytes (one
/// more is read to tell). `referrer` is the file whose field `field`
/// names it, or `path` itself for the file a command was given, which may
/// also be a pipe; a referenced file must be a regular file.
pub(crate) fn read_disk(
    path: &Path,
    max_bytes: u64,
    referrer: &Path,
    field: &str,
) -> Result<String> {
    let top = referrer == path;
    if top && is_stdin(path) {
        let bytes = stdin_bytes(max_bytes).map_err(|what| {
            Error::invalid(path, field, format!("cannot read standard input: {what}"))
        })?;
        check_text(bytes, path)?;
        return String::from_utf8(bytes.to_vec())
            .map_err(|_| Error::invalid(path, field, "standard input is not UTF-8 text"));
    }
    let fail = |what: String| {
        let msg = if top {
            format!("cannot read file: {what}")
        } else {
            let base = if is_stdin(referrer) {
                "the working directory, for an instance read from standard input".to_string()
            } else {
                format!("the folder of {}", referrer.display())
            };
            format!(
                "cannot read referenced file {}: {what} (a relative path is relative to {base})",
                path.display(),
            )
        };
        Error::invalid(referrer, field, msg)
    };
    let f =
        std::fs::File::open(path).map_err(|e| fail(format!("{e}: expected an existing file")))?;
    let meta = f.metadata().map_err(|e| fail(e.to_string()))?;
    if meta.is_dir() {
        return Err(fail("a folder: expected a file".into()));
    }
    if !top && !meta.is_file() {
        return Err(fail(
            "not a regular file (a device, pipe or socket): expected a file".into(),
        ));
    }
    let mut bytes = Vec::new();
    f.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > max_bytes {
        return Err(fail(format!(
            "larger than {max_bytes} bytes: expected at most that per file"
        )));
    }
    check_text(&bytes, path)?;
    String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))
}

/// Whether a file argument is `-`, standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Standard input, read once (at most `max_bytes`, one more to tell) and
/// kept: a command may look at its input twice (its kind, then the load),
/// and a second read of a pipe would find it empty.
pub fn stdin_bytes(max_bytes: u64) -> std::result::Result<&'static [u8], String> {
    static STDIN: std::sync::OnceLock<std::result::Result<Vec<u8>, String>> =
        std::sync::OnceLock::new();
    let got = STDIN.get_or_init(|| {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        Ok(bytes)
    });
    match got {
        Ok(b) if b.len() as u64 > max_bytes => Err(format!(
            "more than {max_bytes} bytes: expected at most that per file"
        )),
        Ok(b) => Ok(b.as_slice()),
        Err(e) => Err(e.clone()),
    }
}

/// A file given on the command line as UTF-8 text: `-` is standard
/// input, anything else a file (or pipe) of at most the default size.
pub fn read_arg(path: &Path) -> Result<String> {
    read_disk(path, DEFAULT_MAX_FILE_BYTES, path, "")
}

/// A file's bytes are UTF-8 text with something in it; a problem names
/// the file, never its content.
fn check_text(bytes: &[u8], path: &Path) -> Result<()> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::invalid(
            path,
            "",
            "the file is empty: expected a YAML mapping",
        ));
    }
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(Error::invalid(
            path,
            "",
            format!(
                "not UTF-8 text (invalid byte at offset {}): expected a YAML file",
                e.valid_up_to()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms() {
        for (given, want) in [
            ("a.csv", "a.csv"),
            ("./a.csv", "a.csv"),
            ("../models/m.yaml", "../models/m.yaml"),
            ("../../models/m.yaml", "../../models/m.yaml"),
            ("x/../../m.yaml", "../m.yaml"),
            ("a//b.csv", "a/b.csv"),
        ] {
            assert_eq!(normalize(given).as_deref(), Ok(want), "{given}");
        }
        for bad in ["/etc/passwd", "", ".", "..", "a/..", "a/", "a\0b", "x\ny"] {
            assert!(normalize(bad).is_err(), "{bad:?}");
        }
        let deep = format!("{}x", "../".repeat(MAX_PARENT_LEVELS + 1));
        assert!(normalize(&deep).unwrap_err().contains("levels above"));
    }

    #[test]
    fn virtual_files_find_equal_names_and_nothing_else() {
        let v = VirtualFiles::new([
            ("../models/m.yaml".to_string(), "m".to_string()),
            ("rel.csv".to_string(), "r".to_string()),
        ])
        .unwrap();
        assert_eq!(v.get("x/../../models/m.yaml"), Some("m"));
        assert_eq!(v.get("./rel.csv"), Some("r"));
        assert_eq!(v.get("/etc/passwd"), None);
        assert_eq!(v.get("../../etc/passwd"), None);
        let src = FileSource::Virtual(v);
        let e = src
            .read(
                Path::new("/"),
                "/proc/self/environ",
                Path::new("instance.yaml"),
                "relevance_file",
            )
            .unwrap_err();
        let p = &e.diagnostics().unwrap().problems[0];
        assert_eq!(p.path, "relevance_file");
        assert!(p.message.contains("absolute"), "{}", p.message);
        let clash = VirtualFiles::new([
            ("a.csv".to_string(), String::new()),
            ("./a.csv".to_string(), String::new()),
        ]);
        assert!(clash.unwrap_err()[0].message.contains("same file"));
    }

    #[test]
    fn the_disk_source_refuses_devices_and_large_files() {
        let src = FileSource::Disk { max_bytes: 10 };
        let e = src
            .read(Path::new("/"), "dev/zero", Path::new("i.yaml"), "dnn.file")
            .unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big.csv"), "0123456789ab").unwrap();
        let e = src
            .read(dir.path(), "big.csv", Path::new("i.yaml"), "relevance_file")
            .unwrap_err();
        assert!(e.to_string().contains("larger than 10 bytes"), "{e}");
        std::fs::write(dir.path().join("ok.csv"), "0123456789").unwrap();
        let (p, t) = src
            .read(dir.path(), "ok.csv", Path::new("i.yaml"), "relevance_file")
            .unwrap();
        assert_eq!((p, t.as_str()), (dir.path().join("ok.csv"), "0123456789"));
    }
}
