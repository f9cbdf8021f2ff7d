//! Finds libscip at run time: the root package's build script links it
//! (from `$SCIPOPTDIR/lib` or the `pyscipopt` wheel, see build.rs at the
//! root) and sets an rpath for the root's own binaries; a link argument is
//! not passed on to dependents, so this extension module sets the same
//! rpath itself.
//!
//! The script also lets `[build-dependencies]` in Cargo.toml (a feature pin
//! of syn, see there) take part in feature resolution.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SCIPOPTDIR");
    println!("cargo:rerun-if-env-changed=PYTHON");
    println!("cargo:rerun-if-changed=build.rs");
    if let Some(dir) = std::env::var_os("SCIPOPTDIR") {
        let lib = Path::new(&dir).join("lib");
        if lib.join("libscip.so").exists() {
            rpath(&lib);
            return;
        }
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args([
            "-c",
            "import os, pyscipopt; print(os.path.join(os.path.dirname(os.path.dirname(pyscipopt.__file__)), 'pyscipopt.libs'))",
        ])
        .output();
    if let Ok(o) = probe {
        if o.status.success() {
            rpath(&PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        }
    }
}

fn rpath(dir: &Path) {
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
}
