//! Long solves: the progress channel while a backend solves, a real
//! SIGINT to the `edgesplit` binary that keeps the best plan, and solver
//! logs that stay off standard output.

use edgesplit::solve::{
    solve_instance, BackendKind, Progress, ProgressEvent, ProgressKind, SolveOptions, Status,
};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_edgesplit"))
}

/// Writes a generated TIDE-family instance to `dir` and returns its path:
/// `big` is the 4x16 one of docs/benchmarks.md (minutes to prove with
/// HiGHS), otherwise a small one every backend proves in seconds.
fn generated(dir: &Path, big: bool) -> PathBuf {
    generated_of(dir, if big { Size::Big } else { Size::Small })
}

/// The sizes of [`generated_of`].
#[derive(Clone, Copy)]
enum Size {
    Small,
    /// 3x10 atoms: microlp finds a plan in seconds and proves it in minutes.
    Mid,
    Big,
}

fn generated_of(dir: &Path, size: Size) -> PathBuf {
    let path = dir.join(match size {
        Size::Small => "small.yaml",
        Size::Mid => "mid.yaml",
        Size::Big => "big.yaml",
    });
    let shape: &[&str] = if let Size::Mid = size {
        &[
            "--layers",
            "3",
            "--atoms-per-layer",
            "10",
            "--tasks",
            "4",
            "--nodes",
            "4",
        ]
    } else if let Size::Big = size {
        &[
            "--layers",
            "4",
            "--atoms-per-layer",
            "16",
            "--tasks",
            "5",
            "--nodes",
            "4",
        ]
    } else {
        &[
            "--layers",
            "2",
            "--atoms-per-layer",
            "2",
            "--tasks",
            "2",
            "--nodes",
            "3",
        ]
    };
    let st = bin()
        .args([
            "generate", "--family", "tide", "--seed", "11", "--groups", "2",
        ])
        .args(shape)
        .arg("-o")
        .arg(&path)
        .status()
        .unwrap();
    assert!(st.success());
    path
}

#[test]
fn highs_reports_a_finite_incumbent_and_bound_while_it_solves_and_stops_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let inst = edgesplit::instance::load(&generated(dir.path(), true)).unwrap();
    let events: Arc<Mutex<Vec<ProgressEvent>>> = Arc::default();
    let progress = Progress::default();
    let sink = {
        let events = events.clone();
        let progress = progress.clone();
        Arc::new(move |e: &ProgressEvent| {
            // Once both are known, ask the solve to stop.
            if e.kind == ProgressKind::Update
                && e.incumbent.is_some_and(f64::is_finite)
                && e.bound.is_some_and(f64::is_finite)
            {
                progress.interrupt();
            }
            events.lock().unwrap().push(e.clone());
        })
    };
    let (initial, _) = edgesplit::heuristic::warm::resolve(
        &inst,
        &edgesplit::heuristic::warm::WarmStart::default(),
    )
    .unwrap();
    let opts = SolveOptions {
        time_limit: Some(600.0),
        initial,
        progress: progress.with_sink(sink),
        ..SolveOptions::default()
    };
    let rep = solve_instance(&inst, BackendKind::Highs, &opts);
    let events = events.lock().unwrap();
    assert_eq!(events.first().map(|e| e.kind), Some(ProgressKind::Start));
    assert_eq!(events.last().map(|e| e.kind), Some(ProgressKind::End));
    let e = events
        .iter()
        .find(|e| {
            e.kind == ProgressKind::Update
                && e.incumbent.is_some_and(f64::is_finite)
                && e.bound.is_some_and(f64::is_finite)
        })
        .unwrap_or_else(|| panic!("no update with an incumbent and a bound: {events:?}"));
    assert_eq!(e.solver, "highs");
    let (i, b) = (e.incumbent.unwrap(), e.bound.unwrap());
    assert!(b <= i, "bound {b} above incumbent {i}");
    assert!(e.gap.is_some_and(|g| g >= 0.0), "{e:?}");
    // The stop request ended the solve with the best plan, not a limit.
    assert_eq!(rep.status, Status::Interrupted, "{:?}", rep.message);
    assert_eq!(rep.limit.as_deref(), Some("interrupt"));
    assert!(rep.plan.is_some());
    assert!(rep.evaluation.as_ref().unwrap().feasible());
    assert!(rep.gap.is_some_and(|g| g >= 0.0));
}

/// Runs `solve` on the big instance with `extra` flags, sends SIGINT once
/// its progress shows an incumbent and a bound, and checks what it leaves: exit code
/// 130, the plan file, the report with status `interrupted` and its gap,
/// and the same report on stdout as JSON.
fn interrupt_solve(extra: &[&str]) {
    interrupt_solve_of(Size::Big, extra)
}

fn interrupt_solve_of(size: Size, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let inst = generated_of(dir.path(), size);
    // The worker's temporary folder goes here, to check it is removed.
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let plan = dir.path().join("plan.yaml");
    let report = dir.path().join("report.json");
    let mut child = bin()
        .arg("solve")
        .arg(&inst)
        .args(["--time-limit", "600", "--json", "-o"])
        .arg(&plan)
        .arg("--report")
        .arg(&report)
        .args(extra)
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let mut stdout = child.stdout.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).unwrap();
        s
    });
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let err_reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    // Wait (generously) for a progress line with an incumbent.
    // Both known, so that the report has a gap.
    let known = |l: &str| {
        l.starts_with("progress:") && !l.contains("incumbent -") && !l.contains("bound -")
    };
    wait_line(&mut child, &rx, known, "no progress line with an incumbent");
    // SAFETY: signalling the child started above.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let status = wait_exit(&mut child, 120, "solve did not stop within 120 s of SIGINT");
    let err = err_reader.join().unwrap();
    let out = out_reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "stderr: {err}");
    assert!(err.contains("interrupted"), "{err}");
    let printed: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    for r in [&printed, &written] {
        assert_eq!(r["status"], "interrupted", "{r}");
        assert_eq!(r["limit"], "interrupt", "{r}");
        assert!(r["gap"].as_f64().is_some_and(|g| g >= 0.0), "{r}");
        assert!(r["evaluated_objective"].as_f64().is_some(), "{r}");
    }
    // The plan written is feasible per the evaluator.
    let ev = bin()
        .arg("evaluate")
        .arg(&inst)
        .arg(&plan)
        .output()
        .unwrap();
    assert!(
        ev.status.success(),
        "{}",
        String::from_utf8_lossy(&ev.stdout)
    );
    // No worker left, no temporary folder left.
    assert_eq!(processes_naming(&inst), Vec::<u32>::new());
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}

/// The live processes whose command line names `path`.
fn processes_naming(path: &Path) -> Vec<u32> {
    let needle = path.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let zombie = std::fs::read_to_string(e.path().join("status"))
            .map(|s| {
                s.lines()
                    .any(|l| l.starts_with("State:") && l.contains('Z'))
            })
            .unwrap_or(true);
        if !zombie && String::from_utf8_lossy(&cmd).contains(&needle) {
            found.push(pid);
        }
    }
    found
}

#[test]
fn a_second_sigint_quits_at_once_killing_the_worker_and_removing_its_folder() {
    // The first signal asks the worker to stop gracefully; the second,
    // 20 ms later (long before the worker can write its plan and exit),
    // ends everything at once.
    let dir = tempfile::tempdir().unwrap();
    let inst = generated(dir.path(), true);
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut child = bin()
        .arg("solve")
        .arg(&inst)
        .args(["--solver", "cbc", "--time-limit", "600", "--json"])
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let err_reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    // Once the worker is solving (a progress line), two signals.
    wait_line(
        &mut child,
        &rx,
        |l| l.starts_with("progress:"),
        "no progress line",
    );
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 1);
    for _ in 0..2 {
        // SAFETY: signalling the child started above.
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = wait_exit(&mut child, 60, "a second SIGINT did not end solve");
    let err = err_reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "stderr: {err}");
    assert!(err.contains("quitting"), "{err}");
    // The worker was killed with its process group (the kernel may take a
    // moment) and its folder removed.
    let t0 = Instant::now();
    while !processes_naming(&inst).is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "a worker is left: {:?}",
            processes_naming(&inst)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}

#[test]
fn sigint_to_an_isolated_solve_writes_the_best_plan_and_exits_130() {
    interrupt_solve(&[]);
}

#[test]
fn sigint_to_a_microlp_solve_writes_the_best_plan_and_exits_130() {
    interrupt_solve_of(Size::Mid, &["--solver", "microlp"]);
}

#[test]
fn sigint_to_an_in_process_solve_writes_the_best_plan_and_exits_130() {
    interrupt_solve(&["--in-process"]);
}

#[test]
fn sigint_to_a_cbc_solve_writes_the_best_plan_and_exits_130() {
    interrupt_solve(&["--solver", "cbc"]);
    interrupt_solve(&["--solver", "cbc", "--in-process"]);
}

#[test]
fn sigint_to_a_scip_solve_writes_the_best_plan_and_exits_130() {
    interrupt_solve(&["--solver", "scip", "--in-process"]);
}

/// `solve --verbose --json`: the solver's log goes to stderr, stdout is
/// the report alone.
fn verbose_json_is_json(solver: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let inst = generated(dir.path(), false);
    let out = bin()
        .arg("solve")
        .arg(&inst)
        .args(["--solver", solver, "--verbose", "--json"])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{solver}: stdout is not JSON ({e}):\n{stdout}"));
    assert_eq!(v["solver"], solver);
    assert_eq!(v["status"], "optimal", "{v}");
    assert!(out.status.success());
    // The log is there, on stderr.
    assert!(
        stderr.lines().count() > 5,
        "{solver}: no log on stderr: {stderr}"
    );
}

#[test]
fn verbose_json_stdout_is_json_with_cbc() {
    verbose_json_is_json("cbc", &["--in-process"]);
    verbose_json_is_json("cbc", &["--time-limit", "300"]);
}

#[test]
fn verbose_json_stdout_is_json_with_scip() {
    verbose_json_is_json("scip", &["--in-process"]);
    verbose_json_is_json("scip", &["--time-limit", "300"]);
}

#[test]
fn verbose_json_stdout_is_json_with_highs() {
    verbose_json_is_json("highs", &["--in-process"]);
}

#[test]
fn sigint_to_a_sweep_keeps_the_points_solved_in_its_csv_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let inst = generated(dir.path(), true);
    let csv = dir.path().join("sweep.csv");
    let mut child = bin()
        .arg("sweep")
        .arg(&inst)
        .args([
            "--noise-limits",
            "0,0.01,0.02,0.05,0.1",
            "--time-limit",
            "600",
            "-o",
        ])
        .arg(&csv)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let err_reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let found = |l: &str| l.starts_with("progress:") && !l.contains("incumbent -");
    wait_line(&mut child, &rx, found, "no progress line with an incumbent");
    // SAFETY: signalling the child started above.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let status = wait_exit(&mut child, 120, "sweep did not stop within 120 s of SIGINT");
    let err = err_reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "stderr: {err}");
    let mut r = csv::Reader::from_path(&csv).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    // The points solved are all there, the one being solved kept with its
    // best plan; the rest were never started.
    assert!(!rows.is_empty() && rows.len() < 5, "{rows:?}");
    for row in &rows {
        assert!(
            ["optimal", "feasible", "interrupted"].contains(&&row[2]),
            "{rows:?}"
        );
        assert!(row[3].parse::<f64>().is_ok(), "no T in {row:?}");
    }
    assert!(rows.iter().any(|r| &r[2] == "interrupted"), "{rows:?}");
}

#[test]
fn sigint_to_compare_keeps_the_rows_of_the_instances_finished_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let small = generated(dir.path(), false);
    let big = generated(dir.path(), true);
    let json = dir.path().join("rows.json");
    let csv = dir.path().join("rows.csv");
    let (mut child, err_reader) =
        start_compare(&[&small, &big], "tide,milp:highs", "600", &json, &csv);
    // Rows are written as they are done: once the small instance's last
    // one (TIDE's) is there, the big one is being solved.
    let t0 = Instant::now();
    while !rows_of(&json)
        .iter()
        .any(|r| r["instance"] == "small" && r["method"] == "tide")
    {
        if let Some(s) = child.try_wait().unwrap() {
            panic!("compare ended ({s}) before writing its rows");
        }
        assert!(t0.elapsed() < Duration::from_secs(300), "no rows written");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: signalling the child started above.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = wait_exit(
        &mut child,
        120,
        "compare did not stop within 120 s of SIGINT",
    );
    let err = err_reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "stderr: {err}");
    let rows: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let of = |inst: &str, method: &str| -> Vec<&Value> {
        rows.iter()
            .filter(|r| r["instance"] == inst && r["method"].as_str().unwrap().starts_with(method))
            .collect()
    };
    // The finished instance: every method, the MILP proven.
    assert!(!of("small", "tide").is_empty(), "{rows:?}");
    let milp = of("small", "milp:highs");
    assert!(!milp.is_empty(), "{rows:?}");
    assert!(milp.iter().all(|r| r["status"] == "optimal"), "{milp:?}");
    // The one stopped: its MILP rows (if it got that far) say so.
    for r in of("big", "milp:highs") {
        assert!(
            ["interrupted", "no_solution"].contains(&r["status"].as_str().unwrap()),
            "{r}"
        );
    }
    // The CSV has the same rows.
    let n = csv::Reader::from_path(&csv).unwrap().records().count();
    assert_eq!(n, rows.len());
}

/// The rows of a compare JSON file, none while it does not exist (it is
/// replaced whole by a rename, so it never holds half a write).
fn rows_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .map(|t| serde_json::from_str(&t).unwrap_or_else(|e| panic!("{e}: {t}")))
        .unwrap_or_default()
}

#[test]
fn compare_writes_each_row_when_it_is_done_and_sigint_keeps_them() {
    // Two MILPs on one instance: HiGHS stops at its time limit and its row
    // is written while SCIP solves; SIGINT then stops SCIP.
    let dir = tempfile::tempdir().unwrap();
    let big = generated(dir.path(), true);
    let json = dir.path().join("rows.json");
    let csv = dir.path().join("rows.csv");
    let (mut child, err_reader) = start_compare(&[&big], "milp:highs,milp:scip", "20", &json, &csv);
    let t0 = Instant::now();
    let first = loop {
        let rows = rows_of(&json);
        if !rows.is_empty() {
            break rows;
        }
        if let Some(s) = child.try_wait().unwrap() {
            panic!("compare ended ({s}) before writing a row");
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "no row written");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Written before the instance is done: HiGHS's row only.
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0]["method"], "milp:highs", "{first:?}");
    assert_eq!(csv::Reader::from_path(&csv).unwrap().records().count(), 1);
    // SAFETY: signalling the child started above.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = wait_exit(&mut child, 60, "compare did not stop within 60 s of SIGINT");
    let err = err_reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "stderr: {err}");
    let rows = rows_of(&json);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["status"], first[0]["status"], "{rows:?}");
    assert_eq!(rows[1]["method"], "milp:scip", "{rows:?}");
    assert!(
        ["interrupted", "no_solution"].contains(&rows[1]["status"].as_str().unwrap()),
        "{rows:?}"
    );
    assert_eq!(csv::Reader::from_path(&csv).unwrap().records().count(), 2);
}

#[test]
fn sigkill_to_solve_stops_its_worker_and_the_worker_removes_its_folder() {
    // A parent killed outright can clean up nothing: its worker notices,
    // removes the temporary folder it was given and exits.
    let dir = tempfile::tempdir().unwrap();
    let inst = generated(dir.path(), true);
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut child = bin()
        .arg("solve")
        .arg(&inst)
        .args(["--time-limit", "600"])
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    wait_line(
        &mut child,
        &rx,
        |l| l.starts_with("progress:"),
        "no progress line",
    );
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 1);
    assert_eq!(processes_naming(&inst).len(), 2, "solve and its worker");
    child.kill().unwrap();
    child.wait().unwrap();
    let t0 = Instant::now();
    while !processes_naming(&inst).is_empty() || std::fs::read_dir(&tmp).unwrap().count() > 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "left behind: processes {:?}, folders {:?}",
            processes_naming(&inst),
            std::fs::read_dir(&tmp)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits up to `secs` for `child` to exit, killing it and failing with
/// `what` if it does not.
fn wait_exit(child: &mut std::process::Child, secs: u64, what: &str) -> std::process::ExitStatus {
    let t0 = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if t0.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            panic!("{what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits up to 300 s for a line of `rx` that `wanted` accepts, killing
/// `child` and failing with `what` if none comes.
fn wait_line(
    child: &mut std::process::Child,
    rx: &std::sync::mpsc::Receiver<String>,
    wanted: impl Fn(&str) -> bool,
    what: &str,
) {
    let t0 = Instant::now();
    loop {
        let left = Duration::from_secs(300).saturating_sub(t0.elapsed());
        match rx.recv_timeout(left) {
            Ok(l) if wanted(&l) => return,
            Ok(_) => {}
            Err(_) => {
                let _ = child.kill();
                panic!("{what}");
            }
        }
    }
}

/// Starts `compare` on `instances` writing `json` and `csv`; returns the
/// child and a thread that collects its standard error.
fn start_compare(
    instances: &[&Path],
    methods: &str,
    time_limit: &str,
    json: &Path,
    csv: &Path,
) -> (std::process::Child, std::thread::JoinHandle<String>) {
    let mut child = bin()
        .arg("compare")
        .args(instances)
        .args(["--methods", methods, "--time-limit", time_limit])
        .arg("--json")
        .arg(json)
        .arg("--csv")
        .arg(csv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    (child, err_reader)
}
