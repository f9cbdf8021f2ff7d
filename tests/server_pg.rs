//! The server test suite (tests/server_suite) on a PostgreSQL job store:
//! a throw-away cluster (tests/pg_cluster), one database per server
//! folder. Fails without PostgreSQL's programs (run scripts/setup.sh);
//! with `EDGESPLIT_SKIP_PG=1` the suite runs on SQLite instead.

mod common;
mod pg_cluster;
mod server_suite;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Which store the suite runs on.
const STORE: &str = "postgres";

/// The job store of a server whose folder is `dir`: the same database for
/// the same folder (a restarted server finds its jobs).
fn store_db(dir: &Path) -> String {
    static DBS: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);
    let Some(cluster) = pg_cluster::cluster() else {
        return dir.join("jobs.db").display().to_string();
    };
    let mut g = DBS.lock().unwrap_or_else(|e| e.into_inner());
    g.get_or_insert_with(HashMap::new)
        .entry(dir.to_path_buf())
        .or_insert_with(|| cluster.create_db())
        .clone()
}
