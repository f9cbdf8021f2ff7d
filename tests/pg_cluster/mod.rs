//! A throw-away PostgreSQL cluster for the tests: `initdb` and `pg_ctl` on
//! a temporary folder and a free loopback port, one per test binary,
//! stopped and removed when the binary exits (whether its tests passed or
//! panicked). As root, the server programs run as the `postgres` user
//! (initdb refuses root), which then owns the folder.
//!
//! Without PostgreSQL's programs the tests that need them fail, saying to
//! run scripts/setup.sh, unless `EDGESPLIT_SKIP_PG=1` is set.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// A running cluster.
pub struct Cluster {
    /// Its folder (data and socket).
    dir: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    bin: PathBuf,
    as_postgres: bool,
}

/// Whether the PostgreSQL tests are skipped on purpose.
pub fn skipped() -> bool {
    std::env::var("EDGESPLIT_SKIP_PG").is_ok_and(|v| v == "1")
}

/// The newest `/usr/lib/postgresql/<version>/bin` with `initdb`, else the
/// folder of an `initdb` on the `PATH`.
fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.split('.').next()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    if let Some((_, b)) = found.pop() {
        return Some(b);
    }
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p).find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
    })
}

impl Cluster {
    /// A command running `prog` of the cluster's programs (as `postgres`
    /// when this process is root).
    fn cmd(&self, prog: &str) -> Command {
        let exe = self.bin.join(prog);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn run(&self, prog: &str, args: &[&str]) {
        let out = self
            .cmd(prog)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {prog}: {e}"));
        assert!(
            out.status.success(),
            "{prog} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start() -> Cluster {
        let bin = bin_dir().unwrap_or_else(|| {
            panic!(
                "PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin or on the PATH): run scripts/setup.sh, or set EDGESPLIT_SKIP_PG=1 to skip the PostgreSQL tests"
            )
        });
        // SAFETY: geteuid has no preconditions.
        let as_postgres = unsafe { libc::geteuid() } == 0;
        let dir = std::env::temp_dir().join(format!(
            "edgesplit-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = Cluster {
            dir,
            port,
            bin,
            as_postgres,
        };
        // A failed start removes what it made.
        let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.init()));
        if let Err(p) = started {
            c.stop();
            std::panic::resume_unwind(p);
        }
        c
    }

    /// Makes and starts the cluster in its folder.
    fn init(&self) {
        let c = self;
        let port = self.port;
        if c.as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&c.dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "cannot give {} to the postgres user", c.dir.display());
        }
        let data = c.data().display().to_string();
        c.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "edgesplit",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            c.dir.display()
        );
        let log = c.dir.join("postgres.log").display().to_string();
        c.run(
            "pg_ctl",
            &["-D", &data, "-o", &opts, "-l", &log, "-w", "start"],
        );
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Stops the cluster (at once) and removes its folder.
    fn stop(&self) {
        let data = self.data().display().to_string();
        let _ = self
            .cmd("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// The URL of a database of the cluster.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://edgesplit@127.0.0.1:{}/{db}", self.port)
    }

    /// A new, empty database; its URL.
    pub fn create_db(&self) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!("t{}", N.fetch_add(1, Ordering::Relaxed));
        let mut c = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .expect("connect to the test cluster");
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        self.url(&name)
    }

    /// The folder of the cluster.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

static CLUSTER: OnceLock<Mutex<Option<&'static Cluster>>> = OnceLock::new();

extern "C" fn stop_at_exit() {
    if let Some(m) = CLUSTER.get() {
        if let Some(c) = *m.lock().unwrap_or_else(|e| e.into_inner()) {
            c.stop();
        }
    }
}

/// The cluster of this test binary (started by the first caller), or
/// `None` when `EDGESPLIT_SKIP_PG=1`.
pub fn cluster() -> Option<&'static Cluster> {
    if skipped() {
        eprintln!("EDGESPLIT_SKIP_PG=1: PostgreSQL test skipped");
        return None;
    }
    let m = CLUSTER.get_or_init(|| Mutex::new(None));
    let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
    if g.is_none() {
        let c: &'static Cluster = Box::leak(Box::new(Cluster::start()));
        *g = Some(c);
        // SAFETY: registers a plain function, run once at exit.
        unsafe {
            libc::atexit(stop_at_exit);
        }
    }
    *g
}
