//! The server test suite (tests/server_suite) on a SQLite job store.

mod common;
mod server_suite;

/// Which store the suite runs on.
const STORE: &str = "sqlite";

/// The job store of a server whose folder is `dir`.
fn store_db(dir: &std::path::Path) -> String {
    dir.join("jobs.db").display().to_string()
}
