//! The HTTP model server over real HTTP on loopback: the real `edgesplit
//! serve` binary on a free port with a temporary job store, the store the
//! test binary that includes this suite gives (`crate::store_db`):
//! tests/server.rs runs it on SQLite, tests/server_pg.rs on PostgreSQL.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `edgesplit serve` on 127.0.0.1:0 with the store in `dir`.
fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .unwrap();
    // A restart (same folder) is the same server, as it would be in a
    // deployment: it takes back the jobs it left running at once.
    let db = crate::store_db(dir);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_edgesplit"));
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--db", &db])
        .args(["--server-id", "suite"])
        .args(args)
        .env_remove("EDGESPLIT_TOKENS")
        .env_remove("EDGESPLIT_WORKER_FAULT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| {
            panic!(
                "no address in {line:?}; log: {}",
                std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
            )
        })
        .to_string();
    Server { child, base }
}

/// An answer: status, headers we look at, body.
struct Resp {
    status: u16,
    body: String,
    retry_after: Option<String>,
    content_type: String,
    location: Option<String>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
    let mut req = ureq::request(method, url).timeout(Duration::from_secs(120));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let r = match body {
        Some(b) => req.send_string(b),
        None => req.call(),
    };
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    Resp {
        status: resp.status(),
        retry_after: resp.header("retry-after").map(String::from),
        content_type: resp.header("content-type").unwrap_or("").to_string(),
        location: resp.header("location").map(String::from),
        body: resp.into_string().unwrap(),
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    fn get(&self, path: &str) -> Resp {
        send("GET", &self.url(path), &[], None)
    }
    fn get_as(&self, token: &str, path: &str) -> Resp {
        let auth = format!("Bearer {token}");
        send("GET", &self.url(path), &[("Authorization", &auth)], None)
    }
    fn post(&self, path: &str, body: &Value) -> Resp {
        send(
            "POST",
            &self.url(path),
            &[("Content-Type", "application/json")],
            Some(&body.to_string()),
        )
    }
    fn post_with(&self, path: &str, headers: &[(&str, &str)], body: &Value) -> Resp {
        let mut h = vec![("Content-Type", "application/json")];
        h.extend_from_slice(headers);
        send("POST", &self.url(path), &h, Some(&body.to_string()))
    }
    fn delete(&self, path: &str) -> Resp {
        send("DELETE", &self.url(path), &[], None)
    }
    /// Submits and returns the job id (asserting 202).
    fn submit(&self, body: &Value) -> String {
        let r = self.post("/v1/jobs", body);
        assert_eq!(r.status, 202, "{}", r.body);
        let v = r.json();
        assert_eq!(
            r.location.as_deref(),
            Some(format!("/v1/jobs/{}", v["id"].as_str().unwrap()).as_str())
        );
        v["id"].as_str().unwrap().to_string()
    }
    /// Polls (long poll) until the job has ended.
    fn wait(&self, id: &str) -> Value {
        let t0 = Instant::now();
        loop {
            let r = self.get(&format!("/v1/jobs/{id}?wait=10"));
            assert_eq!(r.status, 200, "{}", r.body);
            let v = r.json();
            if ["done", "failed", "cancelled"].contains(&v["status"].as_str().unwrap()) {
                return v;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(240),
                "job {id} never ended: {v}"
            );
        }
    }
    /// Polls until the job runs in a worker; returns its pid.
    fn wait_running(&self, id: &str) -> u32 {
        let t0 = Instant::now();
        loop {
            let v = self.get(&format!("/v1/jobs/{id}")).json();
            if let Some(pid) = v["worker_pid"].as_u64() {
                assert_eq!(v["status"], "running");
                return pid as u32;
            }
            assert!(t0.elapsed() < Duration::from_secs(60), "never ran: {v}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The default instance with its model file, as a request.
fn default_job(method: &str) -> Value {
    json!({
        "instance": std::fs::read_to_string(root().join("instances/default.yaml")).unwrap(),
        "files": {"../models/tiny-cnn.yaml": std::fs::read_to_string(root().join("models/tiny-cnn.yaml")).unwrap()},
        "method": method,
        "options": {"time_limit_s": 120},
    })
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// True once `pid` has exited (gone, or a zombie nobody reaped yet).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Err(_) => true,
        Ok(s) => s
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z')),
    }
}

#[test]
fn every_backend_and_heuristic_solves_over_http() {
    let dir = tmp();
    let s = start(dir.path(), &["--workers", "2"], &[]);
    let solvers = s.get("/v1/solvers").json();
    let backends: Vec<String> = solvers["backends"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["available"] == true)
        .map(|b| b["name"].as_str().unwrap().to_string())
        .collect();
    assert!(backends.contains(&"highs".to_string()), "{solvers}");
    let heuristics: Vec<String> = solvers["heuristics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(heuristics.len(), 8, "{solvers}");
    let ids: Vec<(String, String)> = backends
        .iter()
        .chain(&heuristics)
        .map(|m| (m.clone(), s.submit(&default_job(m))))
        .collect();
    let mut optimum: Option<f64> = None;
    for (m, id) in &ids {
        let v = s.wait(id);
        assert_eq!(v["status"], "done", "{m}: {v}");
        assert_eq!(v["method"], m.as_str());
        assert!(v["finished_at"].as_f64().unwrap() >= v["created_at"].as_f64().unwrap());
        let result = v["result_status"].as_str().unwrap();
        if backends.contains(m) {
            assert_eq!(result, "optimal", "{m}: {v}");
            let obj = v["report"]["evaluated_objective"].as_f64().unwrap();
            assert_eq!(v["progress"]["incumbent"].as_f64(), Some(obj));
            let o = *optimum.get_or_insert(obj);
            assert!(
                (o - obj).abs() <= 1e-6 * o.abs().max(1.0),
                "{m}: {obj} vs {o}"
            );
        } else {
            assert_eq!(v["report"]["method"], m.as_str());
            assert_eq!(
                result == "feasible",
                v["report"]["feasible"] == true,
                "{m}: {v}"
            );
        }
        let plan = s.get(&format!("/v1/jobs/{id}/plan"));
        if result == "optimal" || result == "feasible" {
            assert_eq!(plan.status, 200, "{m}: {}", plan.body);
            assert!(plan.content_type.starts_with("application/json"));
            let p = plan.json();
            assert_eq!(p["tasks"].as_object().unwrap().len(), 3, "{p}");
            let y = send(
                "GET",
                &s.url(&format!("/v1/jobs/{id}/plan")),
                &[("Accept", "application/yaml")],
                None,
            );
            assert_eq!(y.status, 200);
            assert!(y.content_type.starts_with("application/yaml"));
            let back: Value = serde_yaml::from_str(&y.body).unwrap();
            assert_eq!(back, p);
        }
    }
    // The heuristics never beat the proven optimum.
    let o = optimum.unwrap();
    for (m, id) in &ids {
        let v = s.get(&format!("/v1/jobs/{id}")).json();
        if v["result_status"] == "feasible" {
            if let Some(x) = v["progress"]["incumbent"].as_f64() {
                assert!(x >= o - 1e-6 * o.abs().max(1.0), "{m}: {x} < {o}");
            }
        }
    }
    // A pipeline instance, with the MILP.
    let p = json!({
        "instance": std::fs::read_to_string(root().join("instances/pipeline/mobilenet-unloaded.yaml")).unwrap(),
        "method": "highs",
    });
    let id = s.submit(&p);
    let v = s.wait(&id);
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["result_status"], "optimal", "{v}");
    assert_eq!(
        s.get(&format!("/v1/jobs/{id}/plan")).json()["kind"],
        "pipeline"
    );
    // A heuristic cannot take it.
    let mut bad = p.clone();
    bad["method"] = json!("tide");
    let r = s.post("/v1/jobs", &bad);
    assert_eq!(r.status, 422, "{}", r.body);
}

#[test]
fn fifty_concurrent_submissions_with_two_workers_all_complete_once() {
    let dir = tmp();
    let s = start(dir.path(), &["--workers", "2"], &[]);
    let body = default_job("tide");
    let ids: Vec<String> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..50).map(|_| sc.spawn(|| s.submit(&body))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 50);
    for id in &ids {
        assert_eq!(s.wait(id)["status"], "done");
    }
    // Pages of 20 list each job exactly once.
    let mut listed = Vec::new();
    let mut cursor = String::new();
    loop {
        let v = s.get(&format!("/v1/jobs?limit=20{cursor}")).json();
        for j in v["jobs"].as_array().unwrap() {
            assert_eq!(j["status"], "done");
            assert_eq!(j["attempts"], 1, "{j}");
            listed.push(j["id"].as_str().unwrap().to_string());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    listed.sort();
    assert_eq!(listed, unique);
    // One instance, stored once: every job has the same address.
    let first = s.get(&format!("/v1/jobs/{}", ids[0])).json();
    let last = s.get(&format!("/v1/jobs/{}", ids[49])).json();
    assert_eq!(first["instance_sha256"], last["instance_sha256"]);
    let m = s.get("/metrics");
    assert!(
        m.body.contains("edgesplit_jobs{status=\"done\"} 50\n"),
        "{}",
        m.body
    );
    assert!(
        m.body.contains("edgesplit_solve_seconds_count 50\n"),
        "{}",
        m.body
    );
    assert!(m.body.contains("edgesplit_queue_depth 0\n"), "{}", m.body);
}

#[test]
fn the_same_idempotency_key_twice_gives_one_job() {
    let dir = tmp();
    let s = start(dir.path(), &[], &[]);
    let body = default_job("centralized");
    let a = s.post_with("/v1/jobs", &[("Idempotency-Key", "k-1")], &body);
    let b = s.post_with("/v1/jobs", &[("Idempotency-Key", "k-1")], &body);
    assert_eq!((a.status, b.status), (202, 202));
    let (a, b) = (a.json(), b.json());
    assert_eq!(a["id"], b["id"]);
    assert_eq!(
        (a["created"].clone(), b["created"].clone()),
        (json!(true), json!(false))
    );
    let c = s
        .post_with("/v1/jobs", &[("Idempotency-Key", "k-2")], &body)
        .json();
    assert_ne!(c["id"], a["id"]);
    let jobs = s.get("/v1/jobs").json();
    assert_eq!(jobs["jobs"].as_array().unwrap().len(), 2, "{jobs}");
}

#[test]
fn cancel_stops_a_running_job_and_drops_a_queued_one() {
    let dir = tmp();
    // Every worker hangs (fault injection), so jobs run until stopped.
    let s = start(
        dir.path(),
        &["--workers", "1"],
        &[("EDGESPLIT_WORKER_FAULT", "hang")],
    );
    let running = s.submit(&default_job("highs"));
    let queued = s.submit(&default_job("tide"));
    let pid = s.wait_running(&running);
    assert_eq!(
        s.get(&format!("/v1/jobs/{queued}")).json()["status"],
        "queued"
    );
    let r = s.delete(&format!("/v1/jobs/{running}"));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["status"], "cancelled", "{v}");
    assert!(v["error"].as_str().unwrap().contains("killed"), "{v}");
    assert!(gone(pid), "the worker {pid} still runs");
    let plan = s.get(&format!("/v1/jobs/{running}/plan"));
    assert_eq!(plan.status, 409, "{}", plan.body);
    // The queued job is now running; cancel it too, then a finished one
    // stays as it was.
    let pid2 = s.wait_running(&queued);
    let v = s.delete(&format!("/v1/jobs/{queued}")).json();
    assert_eq!(v["status"], "cancelled");
    assert!(gone(pid2));
    let third = s.submit(&default_job("tide"));
    let fourth = s.submit(&default_job("tide"));
    s.wait_running(&third);
    let v = s.delete(&format!("/v1/jobs/{fourth}")).json();
    assert_eq!(v["status"], "cancelled");
    assert_eq!(v["error"], "cancelled while queued");
    assert_eq!(v["attempts"], 0);
    assert_eq!(s.delete("/v1/jobs/nope").status, 404);
}

#[test]
fn a_worker_killed_with_sigkill_fails_its_job_and_the_server_keeps_serving() {
    let dir = tmp();
    let s = start(
        dir.path(),
        &["--workers", "1"],
        &[("EDGESPLIT_WORKER_FAULT", "hang")],
    );
    let id = s.submit(&default_job("scip"));
    let pid = s.wait_running(&id);
    // SAFETY: a plain kill(2) of the worker this test started.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
    let v = s.wait(&id);
    assert_eq!(v["status"], "failed", "{v}");
    let e = v["error"].as_str().unwrap();
    assert!(e.contains("killed by signal 9"), "{e}");
    assert_eq!(s.get("/healthz").status, 200);
    let next = s.submit(&default_job("tide"));
    s.wait_running(&next);
    assert_eq!(
        s.get("/v1/jobs?status=failed").json()["jobs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_server_killed_with_sigkill_and_restarted_keeps_every_job() {
    let dir = tmp();
    let hang = [("EDGESPLIT_WORKER_FAULT", "hang")];
    let mut s = start(dir.path(), &["--workers", "1"], &hang);
    let ids: Vec<String> = ["tide", "centralized", "highs"]
        .iter()
        .map(|m| s.submit(&default_job(m)))
        .collect();
    let pid = s.wait_running(&ids[0]);
    drop(s); // SIGKILL
             // The worker dies with its server.
    let t0 = Instant::now();
    while !gone(pid) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "worker {pid} outlived its server"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    s = start(dir.path(), &["--workers", "1"], &[]);
    for (i, id) in ids.iter().enumerate() {
        let v = s.wait(id);
        assert_eq!(v["status"], "done", "{v}");
        assert_eq!(v["attempts"], if i == 0 { 2 } else { 1 }, "{v}");
    }
    drop(s);
    // A job running at two stops is failed with the reason, not retried.
    let mut s = start(dir.path(), &["--workers", "1"], &hang);
    let id = s.submit(&default_job("tide"));
    s.wait_running(&id);
    drop(s);
    s = start(dir.path(), &["--workers", "1"], &hang);
    s.wait_running(&id);
    drop(s);
    s = start(dir.path(), &["--workers", "1"], &[]);
    let v = s.wait(&id);
    assert_eq!(v["status"], "failed", "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("server stopped"),
        "{v}"
    );
    assert_eq!(v["attempts"], 2);
    // Every earlier job is still there with its report.
    for id in &ids {
        let v = s.get(&format!("/v1/jobs/{id}")).json();
        assert_eq!(v["status"], "done");
        assert!(v["report"].is_object());
    }
    assert_eq!(
        s.get("/v1/jobs").json()["jobs"].as_array().unwrap().len(),
        4
    );
}

fn detail_fields(v: &Value) -> Vec<String> {
    v["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn bad_inputs_get_the_right_status_and_a_useful_body() {
    let dir = tmp();
    let s = start(
        dir.path(),
        &[
            "--workers",
            "1",
            "--max-body",
            "20000",
            "--max-queue",
            "1",
            "--max-time-limit",
            "200",
        ],
        &[("EDGESPLIT_WORKER_FAULT", "hang")],
    );
    let check = |r: &Resp, status: u16, needle: &str| {
        assert_eq!(r.status, status, "{}", r.body);
        assert!(
            r.content_type.starts_with("application/json"),
            "{}",
            r.content_type
        );
        let v = r.json();
        assert!(v["error"].is_string(), "{v}");
        assert!(v["details"].is_array(), "{v}");
        assert!(r.body.contains(needle), "{needle} not in {}", r.body);
        v
    };
    // Body too large.
    let mut big = default_job("tide");
    big["files"]["padding.txt"] = json!("x".repeat(30000));
    check(&s.post("/v1/jobs", &big), 413, "too large");
    // Not JSON; JSON of the wrong shape.
    let r = send(
        "POST",
        &s.url("/v1/jobs"),
        &[("Content-Type", "application/json")],
        Some("{not json"),
    );
    check(&r, 400, "not valid JSON");
    let r = s.post("/v1/jobs", &json!({"instance": "x"}));
    check(&r, 422, "method");
    // Unknown method.
    let v = check(
        &s.post("/v1/jobs", &default_job("gurobi")),
        422,
        "unknown method 'gurobi'",
    );
    assert_eq!(detail_fields(&v), ["method"]);
    // Malformed instance: the validator's file and field paths.
    let mut bad = default_job("tide");
    let text = bad["instance"]
        .as_str()
        .unwrap()
        .replace("rate: 10", "rate: -1");
    bad["instance"] = json!(text);
    let v = check(&s.post("/v1/jobs", &bad), 422, "tasks[0].rate");
    assert_eq!(v["details"][0]["file"], "instance.yaml", "{v}");
    // A referenced file missing from the request.
    let mut bad = default_job("tide");
    bad["files"] = json!({});
    let v = check(&s.post("/v1/jobs", &bad), 422, "../models/tiny-cnn.yaml");
    assert!(
        !v.to_string().contains(dir.path().to_str().unwrap()),
        "leaks server paths: {v}"
    );
    // A file name that escapes.
    let mut bad = default_job("tide");
    bad["files"]["/etc/passwd"] = json!("x");
    check(&s.post("/v1/jobs", &bad), 422, "absolute path");
    // Options over the cap.
    let mut bad = default_job("highs");
    bad["options"]["time_limit_s"] = json!(201);
    let v = check(&s.post("/v1/jobs", &bad), 422, "at most 200");
    assert_eq!(detail_fields(&v), ["options.time_limit_s"]);
    // Unknown job, plan of an unfinished job, bad list queries.
    check(&s.get("/v1/jobs/nope"), 404, "nope");
    check(&s.get("/v1/jobs/nope/plan"), 404, "nope");
    check(&s.get("/v1/jobs?status=sleeping"), 422, "sleeping");
    check(&s.get("/v1/jobs?limit=0"), 422, "limit");
    check(&s.get("/v1/jobs?cursor=x"), 422, "cursor");
    check(&s.get("/v1/nothing"), 404, "no such route");
    // Queue full: one job runs (hanging), one waits, the next is refused.
    let a = s.submit(&default_job("tide"));
    s.wait_running(&a);
    check(&s.get(&format!("/v1/jobs/{a}/plan")), 409, "running");
    let b = s.submit(&default_job("tide"));
    let r = s.post("/v1/jobs", &default_job("tide"));
    check(&r, 429, "queue is full");
    assert_eq!(r.retry_after.as_deref(), Some("1"));
    // Once the queue drains, submissions are accepted again.
    s.delete(&format!("/v1/jobs/{b}"));
    s.submit(&default_job("tide"));
}

#[test]
fn an_instance_over_the_size_limit_is_refused_saying_the_limit() {
    let dir = tmp();
    let s = start(dir.path(), &["--max-instance-size", "10"], &[]);
    let r = s.post("/v1/jobs", &default_job("tide"));
    assert_eq!(r.status, 422, "{}", r.body);
    // Refused from the declared numbers, before the instance is built.
    assert!(r.body.contains("max_instance_size = 10"), "{}", r.body);
    assert!(r.body.contains("--max-instance-size N"), "{}", r.body);
    assert!(r.body.contains("atoms"), "{}", r.body);
}

/// An inline instance whose one layer declares `count` atoms.
fn declared_layer_instance(count: u64) -> String {
    format!(
        "version: 1\ndnn:\n  input: {{name: x, out_bytes: 100}}\n  layers:\n    - {{name: big, count: {count}, flops: 1}}\n  output: {{name: y}}\n\
         network:\n  nodes:\n    - {{name: n0, speed: 1.0e9, memory: 1.0e9}}\ntasks:\n  - {{name: t0, rate: 1, source: n0}}\n"
    )
}

#[test]
fn the_servers_own_limits_are_checked_before_an_instance_is_expanded() {
    let dir = tmp();
    // The global flag, given to `serve`: the server's loader checks it.
    let s = start(
        dir.path(),
        &[
            "--limits",
            "max_atoms=1000",
            "--max-instance-size",
            "1000000",
        ],
        &[],
    );
    // 100 atoms: under both limits.
    let ok = s.post(
        "/v1/validate",
        &json!({"instance": declared_layer_instance(100)}),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["valid"], true, "{}", ok.body);
    // 5000 atoms: under the default max_atoms but over this server's.
    let r = s.post(
        "/v1/validate",
        &json!({"instance": declared_layer_instance(5000)}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["valid"], false, "{v}");
    let d = &v["problems"][0];
    assert_eq!(d["field"], "dnn.layers[0].count", "{v}");
    let msg = d["message"].as_str().unwrap();
    assert!(msg.contains("max_atoms = 1000"), "{msg}");
    assert!(
        msg.contains("edgesplit serve --limits max_atoms=N"),
        "{msg}"
    );
    // Ten million declared atoms × 1 task × 1 node: over --max-instance-size,
    // refused from the declared numbers (the server would need gigabytes to
    // build it) and saying which server option raises it.
    let dir2 = tmp();
    let s2 = start(
        dir2.path(),
        &[
            "--limits",
            "max_atoms=1e8",
            "--max-instance-size",
            "1000000",
        ],
        &[],
    );
    let r = s2.post(
        "/v1/jobs",
        &json!({"instance": declared_layer_instance(10_000_000), "method": "tide"}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("max_instance_size = 1000000"), "{}", r.body);
    assert!(r.body.contains("--max-instance-size N"), "{}", r.body);
    assert!(
        r.body.contains("refused before building anything"),
        "{}",
        r.body
    );
    assert_eq!(s2.get("/healthz").status, 200);
}

#[test]
fn custom_constraints_are_validated_and_solved_by_the_server() {
    let dir = tmp();
    let s = start(dir.path(), &[], &[]);
    let mut job = default_job("highs");
    let base = job["instance"].as_str().unwrap().to_string();
    // A bad entry: the field path comes back as from the CLI.
    let bad = format!(
        "{base}custom_constraints:\n  - {{name: c, terms: [{{var: z, atoms: conv1, nodes: [moon]}}], sense: '<=', rhs: 0}}\n"
    );
    let v = s
        .post(
            "/v1/validate",
            &json!({"instance": bad, "files": job["files"]}),
        )
        .json();
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(
        v["problems"][0]["field"], "custom_constraints[0].terms[0].nodes[0]",
        "{v}"
    );
    // No conv1 filter on the cloud for any task: the optimum obeys it and
    // the evaluator agrees (the server's report is the evaluator's).
    let good = format!(
        "{base}custom_constraints:\n  - {{name: no_conv1_in_cloud, for_each: task, terms: [{{var: z, atoms: conv1, nodes: [cloud]}}], sense: '==', rhs: 0}}\n"
    );
    job["instance"] = json!(good);
    let id = s.submit(&job);
    let v = s.wait(&id);
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["result_status"], "optimal", "{v}");
    let plan = s.get(&format!("/v1/jobs/{id}/plan")).json();
    for (task, atoms) in plan["tasks"].as_object().unwrap() {
        for (atom, node) in atoms.as_object().unwrap() {
            if atom.starts_with("conv1") {
                // A layer on one node, or its atoms by node.
                assert!(
                    !node.to_string().contains("cloud"),
                    "{task}: {atom} on the cloud: {plan}"
                );
            }
        }
    }
}

#[test]
fn validate_evaluate_compare_and_the_service_endpoints() {
    let dir = tmp();
    let s = start(dir.path(), &[], &[]);
    // validate: the CLI's problems, with field paths.
    let good = default_job("tide");
    let v = s
        .post(
            "/v1/validate",
            &json!({"instance": good["instance"], "files": good["files"]}),
        )
        .json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["sizes"]["tasks"], 3);
    assert_eq!(v["sizes"]["nodes"], 3);
    let bad = good["instance"]
        .as_str()
        .unwrap()
        .replace("rate: 10", "rate: -1")
        .replace("max_delay: 0.08", "max_delay: zero");
    let v = s
        .post(
            "/v1/validate",
            &json!({"instance": bad, "files": good["files"]}),
        )
        .json();
    assert_eq!(v["valid"], false, "{v}");
    assert!(!v["problems"].as_array().unwrap().is_empty(), "{v}");
    // An instance as a JSON object works like its YAML text.
    let obj: Value = serde_yaml::from_str(good["instance"].as_str().unwrap()).unwrap();
    let v = s
        .post(
            "/v1/validate",
            &json!({"instance": obj, "files": good["files"]}),
        )
        .json();
    assert_eq!(v["valid"], true, "{v}");
    // A YAML request body.
    let yaml = serde_yaml::to_string(&good).unwrap();
    let r = send(
        "POST",
        &s.url("/v1/jobs"),
        &[("Content-Type", "application/yaml")],
        Some(&yaml),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let job = s.wait(&id);
    assert_eq!(job["status"], "done");
    // evaluate the job's plan: the evaluator agrees with the job.
    let plan = s.get(&format!("/v1/jobs/{id}/plan")).json();
    let r = s.post(
        "/v1/evaluate",
        &json!({"instance": good["instance"], "files": good["files"], "plan": plan}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let ev = r.json();
    assert_eq!(ev["feasible"], job["report"]["feasible"]);
    assert_eq!(ev["evaluation"], job["report"]["evaluation"]);
    let r = s.post("/v1/evaluate", &json!({"instance": good["instance"], "files": good["files"], "plan": {"tasks": {"nobody": {}}}}));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("nobody"), "{}", r.body);
    // compare, as a job.
    let r = s.post("/v1/compare", &json!({"instance": good["instance"], "files": good["files"], "methods": ["tide", "centralized", "milp:highs"]}));
    assert_eq!(r.status, 202, "{}", r.body);
    let v = s.wait(r.json()["id"].as_str().unwrap());
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["kind"], "compare");
    let rows = v["report"]["rows"].as_array().unwrap();
    let methods: Vec<&str> = rows.iter().map(|r| r["method"].as_str().unwrap()).collect();
    assert!(
        methods.contains(&"tide")
            && methods.contains(&"centralized")
            && methods.contains(&"milp:highs"),
        "{methods:?}"
    );
    let r = s.post(
        "/v1/compare",
        &json!({"instance": good["instance"], "files": good["files"], "methods": ["milp:gurobi"]}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    // healthz, metrics, openapi.
    let h = s.get("/healthz").json();
    assert_eq!(h["status"], "ok");
    let m = s.get("/metrics");
    assert!(m.content_type.starts_with("text/plain"));
    for needle in [
        "edgesplit_jobs{status=\"queued\"}",
        "edgesplit_queue_depth",
        "edgesplit_solve_seconds_bucket{le=\"+Inf\"}",
    ] {
        assert!(m.body.contains(needle), "{needle}: {}", m.body);
    }
    let doc = s.get("/v1/openapi.json").json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/v1/jobs",
        "/v1/jobs/{id}",
        "/v1/jobs/{id}/plan",
        "/v1/validate",
        "/v1/evaluate",
        "/v1/compare",
        "/v1/solvers",
        "/healthz",
        "/metrics",
        "/v1/openapi.json",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

#[test]
fn tokens_keep_jobs_apart_and_are_required() {
    let dir = tmp();
    let s = start(dir.path(), &[], &[("EDGESPLIT_TOKENS", "alpha,beta")]);
    let r = s.post("/v1/jobs", &default_job("tide"));
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.json()["error"].is_string());
    let r = s.post_with(
        "/v1/jobs",
        &[("Authorization", "Bearer gamma")],
        &default_job("tide"),
    );
    assert_eq!(r.status, 401);
    let r = s.post_with(
        "/v1/jobs",
        &[("Authorization", "Bearer alpha")],
        &default_job("tide"),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(s.get_as("alpha", &format!("/v1/jobs/{id}")).status, 200);
    assert_eq!(s.get_as("beta", &format!("/v1/jobs/{id}")).status, 404);
    assert_eq!(s.get_as("beta", &format!("/v1/jobs/{id}/plan")).status, 404);
    let r = send(
        "DELETE",
        &s.url(&format!("/v1/jobs/{id}")),
        &[("Authorization", "Bearer beta")],
        None,
    );
    assert_eq!(r.status, 404);
    assert_eq!(
        s.get_as("beta", "/v1/jobs").json()["jobs"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        s.get_as("alpha", "/v1/jobs").json()["jobs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Health and metrics need no token.
    assert_eq!(s.get("/healthz").status, 200);
    // A tokens file works the same.
    let f = dir.path().join("tokens");
    std::fs::write(&f, "# comment\ndelta\n").unwrap();
    let dir2 = tmp();
    let s2 = start(dir2.path(), &["--tokens-file", f.to_str().unwrap()], &[]);
    assert_eq!(s2.get_as("delta", "/v1/jobs").status, 200);
    assert_eq!(s2.get_as("alpha", "/v1/jobs").status, 401);
}

#[test]
fn without_tokens_only_loopback_is_allowed() {
    let dir = tmp();
    let out = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .args(["serve", "--addr", "0.0.0.0:0", "--db"])
        .arg(dir.path().join("x.db"))
        .env_remove("EDGESPLIT_TOKENS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to bind to 0.0.0.0:0 without access tokens"),
        "{err}"
    );
}

// ----------------------------------------------------------------------
// Hardening: no host file, bounded work, faults, logs.

/// The default instance (text) with `from` replaced by `to`.
fn default_with(from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(root().join("instances/default.yaml")).unwrap();
    assert!(text.contains(from), "{from}");
    text.replace(from, to)
}

/// The problems of `POST /v1/validate`, asserting the instance is invalid.
fn problems(s: &Server, body: &Value) -> Vec<Value> {
    let r = s.post("/v1/validate", body);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["valid"], false, "{v}");
    v["problems"].as_array().unwrap().clone()
}

const PROBE: &str = "probe-7f3a9c-not-for-clients";

#[test]
fn paths_in_an_instance_never_reach_the_host_file_system() {
    let dir = tmp();
    let s = start(dir.path(), &[], &[("EDGESPLIT_LEAK_PROBE", PROBE)]);
    let model = std::fs::read_to_string(root().join("models/tiny-cnn.yaml")).unwrap();
    let files = json!({"../models/tiny-cnn.yaml": model});
    let no_leak = |body: &str| {
        for secret in [PROBE, "root:", "EDGESPLIT_", "PATH="] {
            assert!(!body.contains(secret), "leaks {secret}: {body}");
        }
    };
    // The process environment as a relevance CSV.
    let inst = format!(
        "{}\nrelevance_file: /proc/self/environ\n",
        default_with("", "")
    );
    let p = problems(&s, &json!({"instance": inst, "files": files}));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0]["field"], "relevance_file", "{p:?}");
    assert_eq!(p[0]["file"], "instance.yaml", "{p:?}");
    assert!(
        p[0]["message"].as_str().unwrap().contains("absolute"),
        "{p:?}"
    );
    no_leak(&json!(p).to_string());
    // As a job: 422 naming the field.
    let r = s.post(
        "/v1/jobs",
        &json!({"instance": inst, "files": files, "method": "tide"}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(detail_fields(&r.json()), ["relevance_file"]);
    no_leak(&r.body);
    // The password file as the DNN, absolute or by climbing.
    for path in ["/etc/passwd", "../../../../../../../../../../etc/passwd"] {
        let inst = default_with("../models/tiny-cnn.yaml", path);
        let p = problems(&s, &json!({"instance": inst}));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0]["field"], "dnn.file", "{p:?}");
        no_leak(&json!(p).to_string());
    }
    // A climbing path is looked up in `files` only: not there, refused
    // although the file exists on the host.
    let inst = default_with("../models/tiny-cnn.yaml", "../../models/tiny-cnn.yaml");
    let p = problems(&s, &json!({"instance": inst, "files": files}));
    assert_eq!(p[0]["field"], "dnn.file", "{p:?}");
    assert!(
        p[0]["message"]
            .as_str()
            .unwrap()
            .contains("not among the request's files"),
        "{p:?}"
    );
    // Noise samples too.
    let text = default_with("", "");
    let (head, tail) = text.split_once("  noise:").unwrap();
    let tail = &tail[tail.find("  max_noise").unwrap()..];
    let inst =
        format!("{head}  noise: {{fit: {{samples: /proc/self/environ, degree: 1}}}}\n{tail}");
    let p = problems(&s, &json!({"instance": inst, "files": files}));
    assert_eq!(p[0]["field"], "quantization.noise.fit.samples", "{p:?}");
    no_leak(&json!(p).to_string());
    // A `files` key climbing too far is a bad name.
    let mut far = files.clone();
    far[format!("{}etc/passwd", "../".repeat(17))] = json!("x");
    let r = s.post(
        "/v1/validate",
        &json!({"instance": default_with("", ""), "files": far}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("levels above the instance"), "{}", r.body);
}

#[test]
fn the_bundled_tide_instances_are_accepted_with_their_files_as_written() {
    let dir = tmp();
    let s = start(dir.path(), &[], &[]);
    let path = root().join("instances/tide/tide-q050.yaml");
    let files = edgesplit::server::referenced_files(&path).unwrap();
    assert!(
        files.contains_key("../../models/tide-alexnet-cifar100.yaml"),
        "{:?}",
        files.keys()
    );
    let body = json!({
        "instance": std::fs::read_to_string(&path).unwrap(),
        "files": files,
    });
    let r = s.post("/v1/validate", &body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["valid"], true, "{}", r.body);
    let mut job = body.clone();
    job["method"] = json!("centralized");
    let id = s.submit(&job);
    let v = s.wait(&id);
    assert_eq!(v["status"], "done", "{v}");
}

#[test]
fn a_deeply_nested_body_is_refused_fast_while_healthz_answers() {
    let dir = tmp();
    let s = start(dir.path(), &[], &[]);
    let n = 100_000;
    let yaml = format!("instance: {}{}\n", "[".repeat(n), "]".repeat(n));
    let json_body = format!("{{\"instance\": {}{}}}", "[".repeat(n), "]".repeat(n));
    let url = s.url("/v1/validate");
    let (u1, u2) = (url.clone(), url.clone());
    let t0 = Instant::now();
    let deep = std::thread::spawn(move || {
        let a = send(
            "POST",
            &u1,
            &[("Content-Type", "application/yaml")],
            Some(&yaml),
        );
        let b = send(
            "POST",
            &u2,
            &[("Content-Type", "application/json")],
            Some(&json_body),
        );
        (a, b, t0.elapsed())
    });
    let mut slowest = Duration::ZERO;
    while !deep.is_finished() && t0.elapsed() < Duration::from_secs(30) {
        let t = Instant::now();
        assert_eq!(s.get("/healthz").status, 200);
        slowest = slowest.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(5));
    }
    let (a, b, took) = deep.join().unwrap();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(slowest < Duration::from_secs(1), "healthz took {slowest:?}");
    for r in [&a, &b] {
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("nested too deep"), "{}", r.body);
    }
    // Deep YAML as the instance text is the loader's problem, also fast.
    let t = Instant::now();
    let inst = format!("{}{}", "[".repeat(n), "]".repeat(n));
    let p = problems(&s, &json!({ "instance": inst }));
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(json!(p).to_string().contains("nested more than"), "{p:?}");
}

#[test]
fn slow_clients_are_timed_out() {
    use std::io::{Read, Write};
    let dir = tmp();
    let s = start(dir.path(), &["--read-timeout", "1"], &[]);
    let addr = s.base.strip_prefix("http://").unwrap().to_string();
    let read_all = |c: &mut std::net::TcpStream| {
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut got = Vec::new();
        let _ = c.read_to_end(&mut got);
        String::from_utf8_lossy(&got).into_owned()
    };
    // Headers that never end: the connection is closed.
    let t = Instant::now();
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let got = read_all(&mut c);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(!got.contains("200 OK"), "{got}");
    // An idle connection is closed too.
    let t = Instant::now();
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    read_all(&mut c);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // A body that never completes: 408.
    let t = Instant::now();
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    c.write_all(
        b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"instance\"",
    )
    .unwrap();
    let got = read_all(&mut c);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("--read-timeout"), "{got}");
    // Everyone else is served.
    assert_eq!(s.get("/healthz").status, 200);
}

#[test]
fn a_full_store_answers_507_and_leaves_no_job_running() {
    if crate::STORE != "sqlite" {
        // --max-db-size limits a SQLite file; a PostgreSQL server refuses
        // it (tests/pg_store.rs).
        return;
    }
    let dir = tmp();
    let s = start(
        dir.path(),
        &["--workers", "1", "--max-db-size", "81920"],
        &[],
    );
    let mut accepted = Vec::new();
    let mut full = None;
    for i in 0..60 {
        // A different name each time: a new instance to store.
        let mut job = default_job("centralized");
        let text = job["instance"]
            .as_str()
            .unwrap()
            .replace("name: default", &format!("name: default-{i}"));
        job["instance"] = json!(text);
        let r = s.post("/v1/jobs", &job);
        match r.status {
            202 => accepted.push(r.json()["id"].as_str().unwrap().to_string()),
            507 => {
                full = Some(r);
                break;
            }
            _ => panic!("{} {}", r.status, r.body),
        }
    }
    let full = full.expect("the store never filled up");
    assert!(full.body.contains("the job store is full"), "{}", full.body);
    assert!(full.body.contains("--max-db-size"), "{}", full.body);
    assert!(!accepted.is_empty());
    // No job stays running: a job whose result did not fit is failed with
    // the reason; one the full store could not claim stays queued.
    let t0 = Instant::now();
    loop {
        let jobs: Vec<Value> = accepted
            .iter()
            .map(|id| s.get(&format!("/v1/jobs/{id}")).json())
            .collect();
        if jobs.iter().all(|v| v["status"] != "running") {
            for v in &jobs {
                if v["status"] == "failed" {
                    assert!(
                        v["error"].as_str().unwrap().contains("could not record"),
                        "{v}"
                    );
                }
            }
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "{jobs:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(s.get("/healthz").status, 200);
}

#[test]
fn time_limits_too_large_are_refused_at_the_edge() {
    let dir = tmp();
    let out = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--max-time-limit",
            "1e308",
            "--db",
        ])
        .arg(dir.path().join("jobs.db"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--max-time-limit") && err.contains("at most 1e7"),
        "{err}"
    );
    let s = start(dir.path(), &[], &[]);
    let mut job = default_job("highs");
    job["options"]["time_limit_s"] = json!(1e308);
    let r = s.post("/v1/jobs", &job);
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(detail_fields(&r.json()), ["options.time_limit_s"]);
}

/// SHA-256 of `s` in hex, by `sha256sum`.
fn sha256_hex(s: &str) -> String {
    use std::io::Write;
    let mut c = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

#[test]
fn logs_have_a_line_per_request_and_job_change_and_never_the_token() {
    let token = "tok-log-test-5b1e";
    let id12 = &sha256_hex(token)[..12];
    for format in ["text", "json"] {
        let dir = tmp();
        let s = start(
            dir.path(),
            &["--log-format", format],
            &[("EDGESPLIT_TOKENS", token)],
        );
        assert_eq!(s.get_as(token, "/v1/solvers").status, 200);
        assert_eq!(s.get_as("wrong", "/v1/solvers").status, 401);
        let auth = format!("Bearer {token}");
        let r = s.post_with(
            "/v1/jobs",
            &[("Authorization", &auth)],
            &default_job("centralized"),
        );
        assert_eq!(r.status, 202, "{}", r.body);
        let id = r.json()["id"].as_str().unwrap().to_string();
        let t0 = Instant::now();
        while s.get_as(token, &format!("/v1/jobs/{id}?wait=10")).json()["status"] != "done" {
            assert!(t0.elapsed() < Duration::from_secs(60));
        }
        std::thread::sleep(Duration::from_millis(200));
        let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
        assert!(!log.contains(token), "{log}");
        let lines: Vec<&str> = log.lines().collect();
        let find = |needles: &[&str]| {
            lines
                .iter()
                .find(|l| needles.iter().all(|n| l.contains(n)))
                .unwrap_or_else(|| panic!("no line with {needles:?} in\n{log}"))
                .to_string()
        };
        if format == "text" {
            find(&[
                "request",
                "method=GET",
                "path=/v1/solvers",
                "status=200",
                &format!("token={id12}"),
            ]);
            find(&["path=/v1/solvers", "status=401", "token=unknown"]);
            find(&["method=POST", "path=/v1/jobs", "status=202"]);
            for st in ["queued", "running", "done"] {
                find(&[&format!("job={id}"), &format!("status={st}")]);
            }
        } else {
            let l = find(&["\"path\":\"/v1/solvers\"", "\"status\":200"]);
            let v: Value = serde_json::from_str(&l).unwrap();
            assert_eq!(v["method"], "GET", "{v}");
            assert_eq!(v["token"], id12, "{v}");
            assert!(v["ms"].is_number(), "{v}");
            for st in ["queued", "running", "done"] {
                let l = find(&[&id, &format!("\"status\":\"{st}\"")]);
                serde_json::from_str::<Value>(&l).unwrap();
            }
        }
    }
}

#[test]
fn a_running_job_shows_its_progress_and_a_cancel_keeps_its_best_plan() {
    let dir = tmp();
    let s = start(dir.path(), &["--workers", "1"], &[]);
    let id = s.submit(&crate::common::long_job("highs"));
    let pid = s.wait_running(&id);
    // The worker's progress events reach the job while it runs.
    let t0 = Instant::now();
    let job = loop {
        let v = s.get(&format!("/v1/jobs/{id}")).json();
        assert_eq!(
            v["status"], "running",
            "the job ended before showing progress: {v}"
        );
        if v["progress"]["incumbent"]
            .as_f64()
            .is_some_and(f64::is_finite)
        {
            break v;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(200),
            "no incumbent in the progress of a running job: {v}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(job["progress"]["elapsed_s"].as_f64().is_some(), "{job}");
    // A cancel asks the worker to stop: the job ends cancelled with the
    // best plan found so far.
    let r = s.delete(&format!("/v1/jobs/{id}"));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = s.wait(&id);
    assert_eq!(v["status"], "cancelled", "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("best plan is kept"),
        "{v}"
    );
    assert_eq!(v["result_status"], "interrupted", "{v}");
    assert!(v["progress"]["incumbent"].as_f64().is_some(), "{v}");
    let t0 = Instant::now();
    while !gone(pid) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the worker {pid} still runs"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let plan = s.get(&format!("/v1/jobs/{id}/plan"));
    assert_eq!(plan.status, 200, "{}", plan.body);
    assert!(plan.json()["tasks"].is_object(), "{}", plan.body);
}

/// A profiled instance travels with its profile CSV in `files` (found by
/// `referenced_files`), is validated and solved by the server to the
/// optimum the library finds; a profile CSV that names a host file, or is
/// not among the request's files, is refused at `profiles.csv` without
/// reading the host, and a bad row comes back with its line and column.
#[test]
fn a_profiled_instance_is_solved_by_the_server_with_its_csv_in_files() {
    let dir = tmp();
    let s = start(dir.path(), &[], &[("EDGESPLIT_LEAK_PROBE", PROBE)]);
    let path = root().join("instances/profiled.yaml");
    let files = edgesplit::server::referenced_files(&path).unwrap();
    assert!(
        files.contains_key("profiled-times.csv"),
        "{:?}",
        files.keys()
    );
    let text = solved_like_the_library(&s, &path, &files);

    // The host's files are never read for a profile.
    let no_leak = |body: &str| {
        for secret in [PROBE, "root:", "EDGESPLIT_", "PATH="] {
            assert!(!body.contains(secret), "leaks {secret}: {body}");
        }
    };
    for csv in ["/proc/self/environ", "../../../../../../../../etc/passwd"] {
        let inst = text.replace("csv: profiled-times.csv", &format!("csv: {csv}"));
        let p = problems(&s, &json!({"instance": inst, "files": files}));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0]["field"], "profiles.csv", "{p:?}");
        no_leak(&json!(p).to_string());
    }
    // A bad row: the CSV as the request names it, its line and column.
    let mut bad = files.clone();
    bad.insert(
        "profiled-times.csv".into(),
        "layer,node,time_s\nconv1,phone,-1\n".into(),
    );
    let p = problems(&s, &json!({"instance": text, "files": bad}));
    assert_eq!(p[0]["file"], "profiled-times.csv", "{p:?}");
    assert_eq!(p[0]["field"], "line 2, column time_s", "{p:?}");
}

/// An instance with several DNNs (`instances/multi-dnn.yaml`, one DNN
/// from a file and one inline) is validated and solved by the server to
/// the optimum the library finds; without its DNN file in `files`, the
/// server names `dnns[0].file`; a task without `dnn` comes back at
/// `tasks[0].dnn`.
#[test]
fn an_instance_with_several_dnns_is_solved_by_the_server() {
    let dir = tmp();
    let s = start(dir.path(), &[], &[]);
    let path = root().join("instances/multi-dnn.yaml");
    let files = edgesplit::server::referenced_files(&path).unwrap();
    let text = solved_like_the_library(&s, &path, &files);

    let p = problems(&s, &json!({"instance": text, "files": {}}));
    assert_eq!(p[0]["field"], "dnns[0].file", "{p:?}");
    let unnamed = text.replacen("    dnn: tiny-cnn  ", "   ", 1);
    assert_ne!(unnamed, text);
    let p = problems(&s, &json!({"instance": unnamed, "files": files}));
    assert_eq!(p[0]["field"], "tasks[0].dnn", "{p:?}");
}

/// Validates the bundled instance at `path` (with `files`) on the server,
/// solves it there with HiGHS and checks the optimum against the
/// library's; the instance's text.
fn solved_like_the_library(
    s: &Server,
    path: &Path,
    files: &std::collections::BTreeMap<String, String>,
) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let body = json!({"instance": text, "files": files});
    let r = s.post("/v1/validate", &body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["valid"], true, "{}", r.body);
    let mut job = body.clone();
    job["method"] = json!("highs");
    job["options"] = json!({"time_limit_s": 120});
    let id = s.submit(&job);
    let v = s.wait(&id);
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["result_status"], "optimal", "{v}");
    let inst = edgesplit::load(path).unwrap();
    let local = edgesplit::solve::solve_instance(
        &inst,
        edgesplit::solve::BackendKind::Highs,
        &Default::default(),
    );
    let (obj, want) = (
        v["report"]["evaluated_objective"].as_f64().unwrap(),
        local.evaluated_objective.unwrap(),
    );
    assert!((obj - want).abs() <= 1e-6 * want.abs(), "{obj} vs {want}");
    text
}
