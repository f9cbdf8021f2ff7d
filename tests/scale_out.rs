//! Several servers on one PostgreSQL job store (a throw-away cluster,
//! tests/pg_cluster): three servers share 300 jobs and one is killed with
//! SIGKILL while it runs some; an API-only front and a worker pool; a
//! cancel through a server that does not run the job.

mod common;
mod pg_cluster;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process; killed when dropped.
struct Proc {
    child: Child,
    base: String,
    id: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A server id unique to this test run.
fn server_id(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

/// Starts `edgesplit ARGS --db DB --server-id ID --lease 1.5`; waits for
/// its first line (`listening on …` or `worker pool …`).
fn start(dir: &Path, cmd: &str, db: &str, name: &str, args: &[&str]) -> Proc {
    start_with(dir, cmd, db, name, args, &[])
}

/// [`start`] with environment variables.
fn start_with(
    dir: &Path,
    cmd: &str,
    db: &str,
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Proc {
    let id = server_id(name);
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_edgesplit"));
    c.arg(cmd);
    if cmd == "serve" {
        c.args(["--addr", "127.0.0.1:0"]);
    }
    let mut child = c
        .args(["--db", db, "--server-id", &id, "--lease", "1.5"])
        .args(args)
        .env_remove("EDGESPLIT_TOKENS")
        .env_remove("EDGESPLIT_WORKER_FAULT")
        // A server killed with SIGKILL leaves its job folder in TMPDIR:
        // here that is the test's own folder, removed at the end.
        .env("TMPDIR", dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = match line.trim().strip_prefix("listening on ") {
        Some(b) => b.to_string(),
        None => {
            assert!(
                line.starts_with("worker pool"),
                "{name}: {line:?}; log: {}",
                std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
            );
            String::new()
        }
    };
    Proc { child, base, id }
}

fn get(base: &str, path: &str) -> (u16, Value) {
    match ureq::get(&format!("{base}{path}")).call() {
        Ok(r) => (r.status(), r.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(c, r)) => (c, r.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("GET {base}{path}: {e}"),
    }
}

fn submit(base: &str, body: &Value) -> String {
    let r = ureq::post(&format!("{base}/v1/jobs"))
        .send_json(body.clone())
        .unwrap_or_else(|e| panic!("POST {base}/v1/jobs: {e}"));
    assert_eq!(r.status(), 202);
    let v: Value = r.into_json().unwrap();
    v["id"].as_str().unwrap().to_string()
}

/// The tiny instance (instances/default.yaml) with a heuristic.
fn tiny_job() -> Value {
    json!({
        "instance": std::fs::read_to_string(root().join("instances/default.yaml")).unwrap(),
        "files": {"../models/tiny-cnn.yaml": std::fs::read_to_string(root().join("models/tiny-cnn.yaml")).unwrap()},
        "method": "tide",
    })
}

/// Waits (up to `secs`) until `f` holds.
fn until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < Duration::from_secs(secs), "never: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn three_servers_lose_one_to_sigkill_and_every_job_ends_exactly_once() {
    let Some(cluster) = pg_cluster::cluster() else {
        return;
    };
    let db = cluster.create_db();
    let dir = tempfile::tempdir().unwrap();
    let args = ["--workers", "2", "--max-queue", "1000"];
    // s1's workers never finish a job (they hang before reading it), so
    // that it surely holds jobs when it is killed; s0 and s2 solve.
    let mut servers: Vec<Option<Proc>> = ["s0", "s1", "s2"]
        .iter()
        .map(|n| {
            let env: &[(&str, &str)] = if *n == "s1" {
                &[("EDGESPLIT_WORKER_FAULT", "hang")]
            } else {
                &[]
            };
            Some(start_with(dir.path(), "serve", &db, n, &args, env))
        })
        .collect();
    let bases: Vec<String> = servers
        .iter()
        .map(|s| s.as_ref().unwrap().base.clone())
        .collect();
    for (i, b) in bases.iter().enumerate() {
        let (code, h) = get(b, "/healthz");
        assert_eq!(code, 200);
        assert_eq!(h["server"], server_id(&format!("s{i}")), "{h}");
        assert_eq!(h["store"], "postgres");
    }
    let body = tiny_job();
    let victim = server_id("s1");
    let mut ids = Vec::new();
    let mut killed = false;
    for i in 0..300 {
        // Round-robin over the servers still up.
        let live: Vec<usize> = (0..3).filter(|&k| servers[k].is_some()).collect();
        let k = live[i % live.len()];
        ids.push(submit(&bases[k], &body));
        if !killed && i >= 100 {
            // Kill s1 once the store says it runs a job in each of its
            // two workers.
            let (_, l) = get(&bases[0], "/v1/jobs?status=running&limit=1000");
            let its = l["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|j| j["server"] == victim.as_str())
                .count();
            if its == 2 || i >= 250 {
                assert_eq!(its, 2, "s1 never ran two jobs while jobs were submitted");
                let mut p = servers[1].take().unwrap();
                // SAFETY: signalling the server this test started.
                unsafe { libc::kill(p.child.id() as i32, libc::SIGKILL) };
                let _ = p.child.wait();
                killed = true;
            }
        }
    }
    assert!(killed);
    // Every job ends, seen through either server left.
    let t0 = Instant::now();
    for (n, id) in ids.iter().enumerate() {
        loop {
            let (code, v) = get(&bases[[0, 2][n % 2]], &format!("/v1/jobs/{id}?wait=10"));
            assert_eq!(code, 200, "{v}");
            let s = v["status"].as_str().unwrap().to_string();
            if s == "done" || s == "failed" {
                if s == "failed" {
                    let e = v["error"].as_str().unwrap();
                    assert!(
                        e.contains("lease ran out") && e.contains("not retried"),
                        "{v}"
                    );
                }
                break;
            }
            assert!(s != "cancelled", "{v}");
            assert!(
                t0.elapsed() < Duration::from_secs(120),
                "job {id} never ended: {v}"
            );
        }
    }
    // The store's record of every start: each job ended exactly once
    // (one run with an end per job, never two), none lost, none extra.
    let mut c = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    let n: i64 = c
        .query_one("SELECT COUNT(*) FROM jobs", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 300);
    let rows = c
        .query(
            "SELECT j.id, j.status, j.attempts, array_remove(array_agg(r.outcome ORDER BY r.attempt), NULL),
                    COUNT(r.*)
             FROM jobs j LEFT JOIN job_runs r ON r.job_id = j.id
             GROUP BY j.id, j.status, j.attempts",
            &[],
        )
        .unwrap();
    let mut wrong = Vec::new();
    for r in &rows {
        let (id, status, attempts): (String, String, i64) = (r.get(0), r.get(1), r.get(2));
        let outcomes: Vec<String> = r.get(3);
        let runs: i64 = r.get(4);
        let ok = runs == attempts
            && outcomes.len() as i64 == runs
            && match status.as_str() {
                // One run ended it; every other start was lost to the kill.
                "done" => {
                    outcomes.iter().filter(|o| *o == "done").count() == 1
                        && outcomes.iter().all(|o| o == "done" || o == "lost")
                }
                "failed" => attempts == 2 && outcomes.iter().all(|o| o == "lost"),
                _ => false,
            };
        if !ok {
            wrong.push(format!(
                "{id}: {status}, {attempts} attempts, runs {outcomes:?}"
            ));
        }
    }
    assert_eq!(rows.len(), 300);
    assert!(
        wrong.is_empty(),
        "jobs not ended exactly once:\n{}",
        wrong.join("\n")
    );
    // The kill hit running jobs, which other servers took back and ran.
    let retaken: i64 = c
        .query_one(
            "SELECT COUNT(DISTINCT job_id) FROM job_runs WHERE outcome = 'lost' AND server = $1",
            &[&victim],
        )
        .unwrap()
        .get(0);
    assert_eq!(retaken, 2, "the two jobs s1 held when it was killed");
    let by_victim_after: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM job_runs r JOIN jobs j ON j.id = r.job_id
             WHERE r.outcome = 'lost' AND j.status = 'done'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(by_victim_after >= 1, "a lost job was run again to its end");
    // Every server on the store sees the same, empty queue.
    for b in [&bases[0], &bases[2]] {
        let (_, h) = get(b, "/healthz");
        assert_eq!(h["queue_depth"], 0, "{h}");
        let m = ureq::get(&format!("{b}/metrics"))
            .call()
            .unwrap()
            .into_string()
            .unwrap();
        assert!(m.contains("edgesplit_server_info{server=\""), "{m}");
        assert!(m.contains("edgesplit_queue_depth 0"), "{m}");
    }
}

#[test]
fn an_api_only_front_and_a_worker_pool_share_jobs_and_cancels() {
    let Some(cluster) = pg_cluster::cluster() else {
        return;
    };
    let db = cluster.create_db();
    let dir = tempfile::tempdir().unwrap();
    let front = start(dir.path(), "serve", &db, "front", &["--no-workers"]);
    let (_, h) = get(&front.base, "/healthz");
    assert_eq!(h["workers"], 0, "{h}");
    // Nothing runs a job until the pool starts.
    let id = submit(&front.base, &tiny_job());
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        get(&front.base, &format!("/v1/jobs/{id}")).1["status"],
        "queued"
    );
    let pool = start(dir.path(), "worker-pool", &db, "pool", &["--workers", "1"]);
    let (_, v) = get(&front.base, &format!("/v1/jobs/{id}?wait=30"));
    assert_eq!(v["status"], "done", "{v}");
    // A long job runs on the pool; the front cancels it.
    let long = submit(&front.base, &common::long_job("highs"));
    until(60, "the long job runs on the pool", || {
        let (_, v) = get(&front.base, &format!("/v1/jobs/{long}"));
        v["status"] == "running" && v["server"] == pool.id.as_str()
    });
    let t0 = Instant::now();
    let r = ureq::delete(&format!("{}/v1/jobs/{long}", front.base))
        .call()
        .unwrap();
    let v: Value = r.into_json().unwrap();
    assert_eq!(v["status"], "cancelled", "{v}");
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    let e = v["error"].as_str().unwrap();
    assert!(e.contains("cancelled while running"), "{v}");
    // The pool is free again: the next job is done.
    let next = submit(&front.base, &tiny_job());
    let (_, v) = get(&front.base, &format!("/v1/jobs/{next}?wait=30"));
    assert_eq!(v["status"], "done", "{v}");
}

#[test]
fn a_store_on_a_sqlite_file_refuses_an_api_only_front_and_a_worker_pool() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db").display().to_string();
    for args in [
        vec!["serve", "--no-workers", "--db", &db],
        vec!["worker-pool", "--db", &db],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(
            e.contains(&db) && e.contains("postgres://"),
            "{args:?}: {e}"
        );
    }
}
