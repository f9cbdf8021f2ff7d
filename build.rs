//! Compiles the CBC stop handler (src/solve/cbc_stop.cpp) for the `cbc`
//! feature, and links libscip for the `scip` feature (see docs/solvers.md).
//!
//! scip-sys is built with its pre-generated SCIP 10 bindings (DOCS_RS is set
//! in .cargo/config.toml) and then emits no link directives, so this script
//! finds the library: `$SCIPOPTDIR/lib` (a normal SCIP install), or else the
//! libscip shipped inside the `pyscipopt` wheel, whose file name is hashed,
//! so a `libscip.so` symlink to it is made in OUT_DIR.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SCIPOPTDIR");
    println!("cargo:rerun-if-env-changed=PYTHON");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_CBC").is_some() {
        cbc_stop_handler();
    }
    if std::env::var_os("CARGO_FEATURE_SCIP").is_some() {
        scip();
    }
}

/// Builds the C++ event handler that lets a CBC solve be stopped, with the
/// include paths and libraries of Debian's `cbc` pkg-config entry.
fn cbc_stop_handler() {
    println!("cargo:rerun-if-changed=src/solve/cbc_stop.cpp");
    let cbc = pkg_config::Config::new().probe("cbc").unwrap_or_else(|e| {
        panic!(
            "the `cbc` feature needs CBC's C++ headers and libraries \
                 (Debian: apt-get install coinor-libcbc-dev; scripts/setup.sh does): {e}"
        )
    });
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .file("src/solve/cbc_stop.cpp")
        .warnings(false);
    for dir in &cbc.include_paths {
        build.include(dir);
    }
    build.compile("edgesplit_cbc_stop");
}

fn scip() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    if let Some(dir) = std::env::var_os("SCIPOPTDIR") {
        let lib = Path::new(&dir).join("lib");
        if lib.join("libscip.so").exists() {
            link(&lib, &lib);
            return;
        }
        println!(
            "cargo:warning=SCIPOPTDIR={} has no lib/libscip.so; trying pyscipopt",
            lib.display()
        );
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args([
            "-c",
            "import os, pyscipopt; print(os.path.join(os.path.dirname(os.path.dirname(pyscipopt.__file__)), 'pyscipopt.libs'))",
        ])
        .output();
    let libs = match probe {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        _ => panic!(
            "the `scip` feature needs SCIP: set SCIPOPTDIR to a SCIP 10 install, or \
             `{python} -m pip install pyscipopt==6.3.0` (scripts/setup.sh does), or build \
             without it: --no-default-features --features highs,cbc,microlp"
        ),
    };
    let real = std::fs::read_dir(&libs)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", libs.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libscip-") && n.contains(".so"))
        })
        .unwrap_or_else(|| panic!("no libscip-*.so in {}", libs.display()));
    let link_path = out.join("libscip.so");
    let _ = std::fs::remove_file(&link_path);
    std::os::unix::fs::symlink(&real, &link_path).expect("symlink libscip.so in OUT_DIR");
    link(&out, &libs);
}

fn link(search: &Path, rpath: &Path) {
    println!("cargo:rustc-link-search=native={}", search.display());
    println!("cargo:rustc-link-lib=dylib=scip");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", rpath.display());
}
