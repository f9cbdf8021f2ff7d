//! `edgesplit bench server`: the server's overhead (submit to done, minus
//! the solve the worker reports) and its throughput with concurrent
//! clients, measured against a real `edgesplit serve` on loopback.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// One HTTP/1.1 exchange on a fresh connection; returns status and body.
fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> Result<(u16, String), String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    let _ = s.set_nodelay(true);
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.read_to_string(&mut text).map_err(|e| e.to_string())?;
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("bad answer: {text}"))?;
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    Ok((status, body.to_string()))
}

fn json_of(r: (u16, String), want: u16) -> Result<Value, String> {
    if r.0 != want {
        return Err(format!("status {} (expected {want}): {}", r.0, r.1));
    }
    serde_json::from_str(&r.1).map_err(|e| format!("{e}: {}", r.1))
}

/// Submits `body` and long-polls until the job ends; returns the wall time
/// seen by the client and the job.
fn one(addr: &str, body: &str) -> Result<(f64, Value), String> {
    let t0 = Instant::now();
    let sub = json_of(http(addr, "POST", "/v1/jobs", Some(body))?, 202)?;
    let id = sub["id"].as_str().ok_or("no id")?.to_string();
    loop {
        let v = json_of(
            http(addr, "GET", &format!("/v1/jobs/{id}?wait=30"), None)?,
            200,
        )?;
        match v["status"].as_str() {
            Some("done") => return Ok((t0.elapsed().as_secs_f64(), v)),
            Some("failed" | "cancelled") => return Err(format!("job {id}: {v}")),
            _ => {}
        }
    }
}

fn median(mut x: Vec<f64>) -> f64 {
    x.sort_by(f64::total_cmp);
    let n = x.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        x[n / 2]
    } else {
        0.5 * (x[n / 2 - 1] + x[n / 2])
    }
}

fn pct(mut x: Vec<f64>, p: f64) -> f64 {
    x.sort_by(f64::total_cmp);
    if x.is_empty() {
        return f64::NAN;
    }
    x[((x.len() - 1) as f64 * p).round() as usize]
}

/// The servers a benchmark runs against.
pub struct Setup {
    /// Worker processes per server.
    pub workers: usize,
    /// Servers (more than one only on a PostgreSQL store).
    pub servers: usize,
    /// The store: none for a SQLite file in a temporary folder, or a
    /// `postgres://` URL.
    pub db: Option<String>,
}

/// Starts one `edgesplit serve` on loopback; its address.
fn start_server(
    exe: &Path,
    db: &str,
    workers: usize,
    id: &str,
) -> Result<(std::process::Child, String), String> {
    let mut child = Command::new(exe)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--workers",
            &workers.to_string(),
            "--db",
            db,
            "--server-id",
            id,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let mut line = String::new();
    let _ = BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut line);
    match line.trim().strip_prefix("listening on http://") {
        Some(a) => Ok((child, a.to_string())),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!("the server said {line:?}"))
        }
    }
}

/// Runs the benchmark: `jobs` sequential jobs for the overhead (`pause_ms`
/// apart), then `clients` concurrent clients with `jobs` jobs each for the
/// throughput (client `k` on server `k mod servers`), on the servers of
/// `setup`. Returns a Markdown report.
pub fn bench_server(
    exe: &Path,
    instance: &Path,
    method: &str,
    jobs: usize,
    clients: usize,
    setup: &Setup,
    pause_ms: u64,
) -> Result<String, String> {
    let workers = setup.workers;
    let text =
        std::fs::read_to_string(instance).map_err(|e| format!("{}: {e}", instance.display()))?;
    let files = super::referenced_files(instance).map_err(|e| e.to_string())?;
    let body = json!({"instance": text, "files": files, "method": method}).to_string();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let db = match &setup.db {
        Some(d) => d.clone(),
        None => dir.path().join("bench.db").display().to_string(),
    };
    let shared = super::store::is_postgres_url(&db);
    if setup.servers == 0 || (setup.servers > 1 && !shared) {
        return Err(format!(
            "--servers {}: expected 1, or more on a postgres:// --db",
            setup.servers
        ));
    }
    let mut children = Vec::new();
    let mut addrs = Vec::new();
    for k in 0..setup.servers {
        match start_server(
            exe,
            &db,
            workers,
            &format!("bench-{k}-{}", std::process::id()),
        ) {
            Ok((c, a)) => {
                children.push(c);
                addrs.push(a);
            }
            Err(e) => {
                for mut c in children {
                    let _ = c.kill();
                    let _ = c.wait();
                }
                return Err(e);
            }
        }
    }
    let result = (|| {
        let addr = addrs[0].clone();
        // Warm-up (page cache, first worker start).
        for _ in 0..3 {
            one(&addr, &body)?;
        }
        let mut client_overhead = Vec::new();
        let mut server_overhead = Vec::new();
        let mut solve = Vec::new();
        for _ in 0..jobs {
            std::thread::sleep(std::time::Duration::from_millis(pause_ms));
            let (wall, v) = one(&addr, &body)?;
            let s = v["solve_time_s"].as_f64().ok_or("no solve time")?;
            let created = v["created_at"].as_f64().ok_or("no created_at")?;
            let finished = v["finished_at"].as_f64().ok_or("no finished_at")?;
            client_overhead.push(wall - s);
            server_overhead.push(finished - created - s);
            solve.push(s);
        }
        let t0 = Instant::now();
        let errors: Vec<String> = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..clients)
                .map(|k| {
                    let addr = &addrs[k % addrs.len()];
                    let body = &body;
                    sc.spawn(move || {
                        (0..jobs)
                            .map(|_| one(addr, body).map(|_| ()))
                            .filter_map(Result::err)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            hs.into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let secs = t0.elapsed().as_secs_f64();
        if let Some(e) = errors.first() {
            return Err(format!("{} failed job(s): {e}", errors.len()));
        }
        let ms = |x: f64| format!("{:.1}", 1e3 * x);
        let mut s = String::new();
        s.push_str(&format!(
            "server benchmark: {} with `{method}`, {} server(s) on a {} store, {workers} worker process(es) each\n\n",
            instance.display(),
            addrs.len(),
            if shared { "PostgreSQL" } else { "SQLite" }
        ));
        let rows = [
            (
                "submit to done seen by the client, minus the solve",
                client_overhead,
            ),
            (
                "created to finished in the store, minus the solve",
                server_overhead,
            ),
            ("the solve itself (worker's report)", solve),
        ]
        .map(|(what, xs)| vec![what.to_string(), ms(median(xs.clone())), ms(pct(xs, 0.9))]);
        use crate::table::Column;
        s.push_str(&crate::table::markdown(
            &[
                Column::left("measure"),
                Column::right("median ms"),
                Column::right("p90 ms"),
            ],
            rows,
        ));
        s.push_str(&format!(
            "\n{jobs} sequential jobs for the overhead, {pause_ms} ms apart; throughput: {clients} concurrent clients × {jobs} jobs = {} jobs in {:.2} s = {:.1} jobs/s\n",
            clients * jobs,
            secs,
            (clients * jobs) as f64 / secs
        ));
        Ok(s)
    })();
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    result
}
