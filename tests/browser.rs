//! The web page in a real browser: `edgesplit serve` on a free port and
//! headless Chromium loading its page. The page fills in the example
//! instance and submits it (`#/new?example=1&method=tide&submit=1` runs
//! the page's own form code), the job finishes, and the job's page shows
//! the plan picture; a comparison's page shows its table and bar chart.
//! Screenshots go to `target/tmp/browser/` for a person to look at.
//!
//! Skipped, with a message, when no Chromium binary is found
//! (`scripts/setup.sh` installs Debian's `chromium`; `EDGESPLIT_CHROMIUM`
//! names another one). Every browser run is bounded to 90 s.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

fn start(dir: &Path) -> Server {
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .args(["serve", "--addr", "127.0.0.1:0", "--workers", "1", "--db"])
        .arg(dir.join("jobs.db"))
        .env_remove("EDGESPLIT_TOKENS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server { child, base }
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("EDGESPLIT_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome", "chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Runs the browser on `url` with `args` (`--dump-dom` or
/// `--screenshot=FILE`), at most 90 s; returns its standard output.
fn browse(chrome: &Path, profile: &Path, args: &[String], url: &str) -> String {
    let mut child = Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--virtual-time-budget=20000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let t0 = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if t0.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the browser did not finish with {url} within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader.join().unwrap()
}

fn get(url: &str) -> Value {
    ureq::get(url)
        .timeout(Duration::from_secs(60))
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .into_json()
        .unwrap()
}

/// Waits until job `id` has ended; returns it.
fn finished(base: &str, id: &str) -> Value {
    let t0 = Instant::now();
    loop {
        let v = get(&format!("{base}/v1/jobs/{id}?wait=10"));
        if ["done", "failed", "cancelled"].contains(&v["status"].as_str().unwrap()) {
            return v;
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "job {id}: {v}");
    }
}

#[test]
fn the_page_submits_the_example_and_shows_the_plan_picture() {
    let Some(chrome) = chromium() else {
        println!(
            "SKIPPED: no chromium binary found (scripts/setup.sh installs Debian's `chromium`; \
             EDGESPLIT_CHROMIUM names another one)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = dir.path().join("profile");
    let s = start(dir.path());
    let base = &s.base;

    // The page itself: served by the binary, nothing from elsewhere.
    let page = ureq::get(&format!("{base}/")).call().unwrap();
    assert_eq!(page.content_type(), "text/html");
    let html = page.into_string().unwrap();
    for far in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "@import",
        "src=\"//",
    ] {
        assert!(
            !html.contains(far),
            "the page loads something from elsewhere: {far}"
        );
    }

    // Submit through the page's form code; it goes to the job's page.
    let dom = browse(
        &chrome,
        &profile,
        &["--dump-dom".into()],
        &format!("{base}/#/new?example=1&method=tide&submit=1"),
    );
    let id = dom
        .split("<h2 id=\"job-title\">Job ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .unwrap_or_else(|| panic!("the page did not open the submitted job:\n{dom}"))
        .to_string();
    let job = finished(base, &id);
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["method"], "tide");

    // The finished job's page shows the plan picture, drawn by the server.
    let url = format!("{base}/#/job/{id}");
    let dom = browse(&chrome, &profile, &["--dump-dom".into()], &url);
    let picture = dom
        .split("id=\"plan-picture\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no plan picture element:\n{dom}"));
    assert!(
        picture.contains("<svg"),
        "no SVG in the plan picture:\n{dom}"
    );
    for node in ["device", "edge", "cloud"] {
        assert!(
            picture.contains(&format!("data-node=\"{node}\"")),
            "node {node}"
        );
    }
    assert!(dom.contains("Download plan (YAML)"));
    assert!(dom.contains("status-done"));
    browse(
        &chrome,
        &profile,
        &[
            format!("--screenshot={}", shots.join("job.png").display()),
            "--window-size=1400,1000".into(),
        ],
        &url,
    );

    // A comparison (submitted over the API): its table and bar chart.
    let example: Value = serde_json::from_str(
        html.split("const EXAMPLE = ")
            .nth(1)
            .and_then(|t| t.split(";\n").next())
            .expect("the example in the page"),
    )
    .unwrap();
    let body = serde_json::json!({
        "instance": example["instance"],
        "files": example["files"],
        "methods": ["tide", "centralized", "milp:highs"],
    });
    let sub: Value = ureq::post(&format!("{base}/v1/compare"))
        .send_json(body)
        .unwrap()
        .into_json()
        .unwrap();
    let cid = sub["id"].as_str().unwrap().to_string();
    assert_eq!(finished(base, &cid)["status"], "done");
    let url = format!("{base}/#/job/{cid}");
    let dom = browse(&chrome, &profile, &["--dump-dom".into()], &url);
    assert!(dom.contains("id=\"compare-chart\""), "no bar chart:\n{dom}");
    assert!(dom.contains("gap to bound") && dom.contains("gap to best plan"));
    browse(
        &chrome,
        &profile,
        &[
            format!("--screenshot={}", shots.join("compare.png").display()),
            "--window-size=1400,800".into(),
        ],
        &url,
    );

    // The picture route: a diff against another job of the instance, and
    // against itself.
    let body = serde_json::json!({
        "instance": example["instance"],
        "files": example["files"],
        "method": "centralized",
    });
    let sub: Value = ureq::post(&format!("{base}/v1/jobs"))
        .send_json(body)
        .unwrap()
        .into_json()
        .unwrap();
    let other = sub["id"].as_str().unwrap().to_string();
    assert_eq!(finished(base, &other)["status"], "done");
    let svg = |q: &str| {
        let r = ureq::get(&format!("{base}/v1/jobs/{id}/plan.svg{q}"))
            .call()
            .unwrap();
        assert_eq!(r.content_type(), "image/svg+xml");
        r.into_string().unwrap()
    };
    assert!(svg(&format!("?diff={other}")).contains("cell diff"));
    let same = svg(&format!("?diff={id}"));
    assert!(same.contains("the plans are equal") && !same.contains("cell diff"));
    match ureq::get(&format!("{base}/v1/jobs/{cid}/plan.svg")).call() {
        Err(ureq::Error::Status(404, _)) => {}
        r => panic!("a comparison has no plan picture: {r:?}"),
    }

    // The job list and the form.
    let dom = browse(
        &chrome,
        &profile,
        &["--dump-dom".into()],
        &format!("{base}/#/jobs"),
    );
    assert!(dom.contains(&format!("#/job/{id}")) && dom.contains(&format!("#/job/{cid}")));
    for (name, hash) in [("jobs.png", "#/jobs"), ("new.png", "#/new?example=1")] {
        browse(
            &chrome,
            &profile,
            &[
                format!("--screenshot={}", shots.join(name).display()),
                "--window-size=1400,900".into(),
            ],
            &format!("{base}/{hash}"),
        );
    }
    for name in ["job.png", "compare.png", "jobs.png", "new.png"] {
        let p = shots.join(name);
        assert!(
            std::fs::metadata(&p)
                .map(|m| m.len() > 1000)
                .unwrap_or(false),
            "{}",
            p.display()
        );
        println!("screenshot: {}", p.display());
    }
}
