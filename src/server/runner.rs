//! The job queue and the supervision of worker processes: each worker slot
//! claims the oldest queued job, runs `edgesplit worker` on it, enforces
//! the hard deadline, and records how it ended.

use super::bundle::Bundle;
use super::store::{JobRow, JobStatus};
use super::worker::{JobMethod, WorkerResult};
use super::worker::{StandbyJob, STANDBY_DONE};
use super::AppState;
use crate::solve::isolate::GRACE_S;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::process::Child;
use tokio::sync::Notify;

/// Seconds a cancelled job's worker has to stop and write its best plan
/// (after SIGINT) before it is killed.
pub const CANCEL_GRACE_S: f64 = 5.0;

/// A job a worker slot is on.
pub struct Running {
    /// Notified to cancel it.
    pub cancel: Arc<Notify>,
    /// The worker's process id, once started.
    pub pid: Option<u32>,
    /// When the slot took it.
    pub started: Instant,
}

/// Starts a standby worker (`edgesplit worker - --out -`): it loads the
/// binary and waits for its job on standard input.
fn spawn_standby(st: &AppState) -> Result<Child, String> {
    let mut cmd = tokio::process::Command::new(&st.cfg.exe);
    cmd.args(["worker", "-", "--out", "-", "--progress-lines"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // SAFETY: prctl is async-signal-safe; the child dies with the server
    // (a worker must not outlive a server killed with SIGKILL).
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    cmd.spawn()
        .map_err(|e| format!("cannot start the worker {}: {e}", st.cfg.exe.display()))
}

/// One worker slot: keeps a standby worker process ready, and forever
/// claims a job and hands it to that process.
pub async fn slot(st: Arc<AppState>) {
    let mut standby: Option<Child> = None;
    // Logged once while the store keeps failing.
    let mut claim_failing = false;
    loop {
        // A standby that died while idle (killed from outside) is replaced.
        if let Some(c) = standby.as_mut() {
            if !matches!(c.try_wait(), Ok(None)) {
                standby = None;
            }
        }
        if standby.is_none() {
            match spawn_standby(&st) {
                Ok(c) => standby = Some(c),
                Err(e) => tracing::error!(error = %e, "cannot start a standby worker"),
            }
        }
        let claimed = {
            let mut running = st.running.lock().unwrap_or_else(|e| e.into_inner());
            match st.store.claim(st.cfg.lease_s) {
                Ok(Some(j)) => {
                    running.insert(
                        j.id.clone(),
                        Running {
                            cancel: Arc::new(Notify::new()),
                            pid: None,
                            started: Instant::now(),
                        },
                    );
                    Some(j)
                }
                Ok(None) => None,
                Err(e) => {
                    if !claim_failing {
                        tracing::error!(error = %e, "job store: cannot claim a job");
                    }
                    claim_failing = true;
                    None
                }
            }
        };
        if let Some(j) = &claimed {
            claim_failing = false;
            tracing::info!(job = %j.id, status = %"running", attempt = j.attempts, "job");
        }
        match claimed {
            Some(job) => run(&st, job, standby.take()).await,
            None => {
                let _ = tokio::time::timeout(Duration::from_millis(500), st.wake.notified()).await;
            }
        }
    }
}

enum End {
    /// The worker said its result is written (it is still exiting).
    Reported,
    Exited(std::process::ExitStatus),
    Cancelled,
    Overran(f64),
}

fn cancel_of(st: &AppState, id: &str) -> Arc<Notify> {
    let running = st.running.lock().unwrap_or_else(|e| e.into_inner());
    running
        .get(id)
        .map(|r| r.cancel.clone())
        .unwrap_or_default()
}

/// Runs one claimed job to its end and records it.
async fn run(st: &Arc<AppState>, job: JobRow, standby: Option<Child>) {
    let cancel = cancel_of(st, &job.id);
    let dir = st.jobs_dir.join(&job.id);
    let (status, error, result) = match execute(st, &job, &dir, &cancel, standby).await {
        Ok((status, error, result)) => (status, error, result),
        Err(e) => (JobStatus::Failed, Some(e), None),
    };
    let _ = std::fs::remove_dir_all(&dir);
    {
        let mut running = st.running.lock().unwrap_or_else(|e| e.into_inner());
        running.remove(&job.id);
        record_end(st, &job.id, status, error.as_deref(), result.as_deref());
    }
    if let (JobStatus::Done, Some(r)) = (status, &result) {
        if let Ok(w) = serde_json::from_str::<WorkerResult>(r) {
            st.metrics.observe_solve(w.solve_time_s);
        }
    }
    st.done.notify_waiters();
}

/// Records how a job ended. When the store cannot take it (full disk,
/// `--max-db-size`), the job is failed with the reason instead, without
/// its result; when even that cannot be written, the job is kept in
/// [`AppState::unrecorded`] (shown failed by the API) and written by
/// [`record_unrecorded`] as soon as the store can write.
fn record_end(
    st: &AppState,
    id: &str,
    status: JobStatus,
    error: Option<&str>,
    result: Option<&str>,
) {
    let e = match st.store.finish(id, status, error, result) {
        Ok(false) => {
            tracing::warn!(job = %id, status = %status.name(), "job: this server no longer holds its lease (another server took it back); its end is not recorded");
            return;
        }
        Ok(true) => {
            match error {
                Some(err) => {
                    tracing::info!(job = %id, status = %status.name(), error = %err, "job")
                }
                None => tracing::info!(job = %id, status = %status.name(), "job"),
            }
            return;
        }
        Err(e) => e,
    };
    let reason = format!(
        "the job ended ({}) but the job store could not record it: {e}",
        status.name()
    );
    tracing::error!(job = %id, error = %e, "job store: cannot record the end of a job");
    match st.store.finish(id, JobStatus::Failed, Some(&reason), None) {
        Ok(_) => tracing::warn!(job = %id, status = %"failed", error = %reason, "job"),
        Err(_) => {
            st.unrecorded
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id.to_string(), reason);
        }
    }
}

/// Forever, every third of the lease: renews the leases of this server's
/// jobs, passes on the cancels other servers asked for, stops the workers
/// of jobs whose lease this server lost, and puts jobs whose lease ran out
/// (their server stopped) back in the queue.
pub async fn heartbeat(st: Arc<AppState>) {
    // On a shared store the heartbeat also carries cancels from other
    // servers: at least once a second.
    let mut every = st.cfg.lease_s / 3.0;
    if st.store.shared() {
        every = every.min(1.0);
    }
    let every = Duration::from_secs_f64(every);
    let mut failing = false;
    loop {
        tokio::time::sleep(every).await;
        let st2 = st.clone();
        let ok = tokio::task::spawn_blocking(move || heartbeat_once(&st2))
            .await
            .unwrap_or(false);
        if !ok && !failing {
            tracing::error!("job store: cannot renew the leases of this server's jobs");
        }
        failing = !ok;
    }
}

/// One pass of [`heartbeat`]; false if the store failed.
fn heartbeat_once(st: &AppState) -> bool {
    let asked = Instant::now();
    let held = match st.store.heartbeat(st.cfg.lease_s) {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "job store: heartbeat");
            return false;
        }
    };
    {
        let running = st.running.lock().unwrap_or_else(|e| e.into_inner());
        for (id, r) in running.iter() {
            match held.iter().find(|h| &h.id == id) {
                Some(h) if h.cancel_requested => r.cancel.notify_one(),
                Some(_) => {}
                // Claimed after the renewal was asked: not lost.
                None if r.started > asked => {}
                None => {
                    tracing::warn!(job = %id, "job: lease lost (another server took the job back); stopping its worker");
                    r.cancel.notify_one();
                }
            }
        }
    }
    match st.store.requeue_expired() {
        Ok((requeued, failed)) => {
            if requeued + failed > 0 {
                tracing::warn!(requeued, failed, "jobs whose lease ran out taken back");
                st.wake.notify_waiters();
                st.done.notify_waiters();
            }
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "job store: cannot take back expired leases");
            false
        }
    }
}

/// Forever: writes the ends of [`AppState::unrecorded`] jobs (failed,
/// with their reason) once the store can write again.
pub async fn record_unrecorded(st: Arc<AppState>) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if record_unrecorded_once(&st) > 0 {
            st.done.notify_waiters();
        }
    }
}

/// One pass of [`record_unrecorded`]: how many ends it wrote.
fn record_unrecorded_once(st: &AppState) -> usize {
    let pending: Vec<(String, String)> = {
        let p = st.unrecorded.lock().unwrap_or_else(|e| e.into_inner());
        p.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    let mut written = 0;
    for (id, reason) in pending {
        if st
            .store
            .finish(&id, JobStatus::Failed, Some(&reason), None)
            .is_ok()
        {
            tracing::warn!(job = %id, status = %"failed", error = %reason, "job");
            st.unrecorded
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            written += 1;
        }
    }
    written
}

type Outcome = (JobStatus, Option<String>, Option<String>);

async fn execute(
    st: &Arc<AppState>,
    job: &JobRow,
    dir: &std::path::Path,
    cancel: &Notify,
    standby: Option<Child>,
) -> Result<Outcome, String> {
    let (spec, method) = prepare_job(st, job, dir)?;
    let out = spec.out.clone();
    // The server's --max-time-limit is bounded, so this is finite; a
    // saturated deadline is still no panic.
    let time_limit = spec.time_limit.unwrap_or_default(); // always set by prepare_job
    let deadline = Duration::try_from_secs_f64(time_limit * method.solves() + GRACE_S)
        .unwrap_or(Duration::from_secs(u32::MAX as u64));
    let start = Instant::now();
    let mut child = match standby {
        Some(c) => c,
        None => spawn_standby(st)?,
    };
    if let Some(r) = st
        .running
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_mut(&job.id)
    {
        r.pid = child.id();
    }
    // The job goes down the pipe and the pipe is closed; a worker that
    // died meanwhile shows in its exit status below.
    if let Some(mut stdin) = child.stdin.take() {
        let text = serde_json::to_vec(&spec).map_err(|e| e.to_string())?;
        let _ = stdin.write_all(&text).await;
        drop(stdin);
    }
    let err_task = read_stderr(st.clone(), job.id.clone(), child.stderr.take());
    let (end, graceful) = wait_for_end(&mut child, cancel, deadline).await?;
    reap(child, &end).await;
    let secs = start.elapsed().as_secs_f64();
    let stderr = if matches!(end, End::Reported) {
        String::new()
    } else {
        err_task.await.unwrap_or_default()
    };
    if graceful {
        let text = read_result(&out)?;
        return Ok((
            JobStatus::Cancelled,
            Some(format!(
                "cancelled while running; the worker stopped after {secs:.2} s and its best plan is kept"
            )),
            Some(text),
        ));
    }
    outcome(end, secs, &stderr, &out)
}

/// Reads the job's stored instance and options into a fresh job folder
/// `dir`; returns the job for the worker and its method.
fn prepare_job(
    st: &AppState,
    job: &JobRow,
    dir: &std::path::Path,
) -> Result<(StandbyJob, JobMethod), String> {
    let _ = std::fs::remove_dir_all(dir);
    let bundle: Bundle = st
        .store
        .bundle(&job.instance_hash)
        .map_err(|e| format!("job store: {e}"))?
        .ok_or("the job's instance is missing from the store")
        .and_then(|t| serde_json::from_str(&t).map_err(|_| "the stored instance is unreadable"))?;
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the job folder {}: {e}", dir.display()))?;
    let opts: super::api::JobOptions = serde_json::from_str(&job.options).unwrap_or_default();
    let method = JobMethod::parse(&job.method)?;
    let time_limit = opts.time_limit_s.unwrap_or(st.cfg.max_time_limit);
    let spec = StandbyJob {
        bundle,
        method: job.method.clone(),
        out: dir.join("result.json"),
        time_limit: Some(time_limit),
        gap: opts.gap,
        threads: opts.threads,
        limits: st.cfg.load_limits(),
    };
    Ok((spec, method))
}

/// Reads the worker's standard error in the background: progress lines go
/// to job `id`'s `progress` in the store (at most once a second, and the
/// last one); the task returns the rest (up to 64 KiB), which says why a
/// worker failed.
fn read_stderr(
    st: Arc<AppState>,
    id: String,
    stderr: Option<tokio::process::ChildStderr>,
) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let mut kept = String::new();
        let Some(s) = stderr else { return kept };
        let mut lines = tokio::io::BufReader::new(s);
        let mut line = Vec::new();
        let mut last_write: Option<Instant> = None;
        let mut pending: Option<String> = None;
        loop {
            line.clear();
            match lines.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line);
            match crate::solve::progress::parse_line(&text) {
                Some(e) => {
                    let Ok(j) = serde_json::to_string(&e) else {
                        continue;
                    };
                    if last_write.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                        let _ = st.store.set_progress(&id, &j);
                        last_write = Some(Instant::now());
                        pending = None;
                    } else {
                        pending = Some(j);
                    }
                }
                None if kept.len() < 1 << 16 => kept.push_str(&text),
                None => {}
            }
        }
        if let Some(j) = pending {
            let _ = st.store.set_progress(&id, &j);
        }
        kept
    })
}

/// Waits until the worker reports its result, exits, is cancelled or
/// overruns `deadline`; a cancelled worker gets SIGINT and
/// [`CANCEL_GRACE_S`] to write its best plan. Returns how it ended and
/// whether it stopped gracefully after a cancel.
async fn wait_for_end(
    child: &mut Child,
    cancel: &Notify,
    deadline: Duration,
) -> Result<(End, bool), String> {
    let mut stdout = child.stdout.take();
    let reported = async {
        let Some(s) = stdout.as_mut() else {
            return false;
        };
        let mut line = String::new();
        let _ = tokio::io::BufReader::new(s).read_line(&mut line).await;
        line.trim_end() == STANDBY_DONE
    };
    tokio::pin!(reported);
    let mut graceful = false;
    let mut end = tokio::select! {
        ok = &mut reported => if ok {
            End::Reported
        } else {
            // Its output closed without the line: it is ending.
            match child.wait().await {
                Ok(s) => End::Exited(s),
                Err(e) => return Err(format!("lost the worker: {e}")),
            }
        },
        _ = cancel.notified() => End::Cancelled,
        _ = tokio::time::sleep(deadline) => End::Overran(deadline.as_secs_f64()),
    };
    if matches!(end, End::Cancelled) {
        // The graceful path first: SIGINT asks the solver to stop and
        // write its best plan; SIGKILL only after CANCEL_GRACE_S.
        if let Some(pid) = child.id() {
            // SAFETY: signalling the worker this slot started.
            unsafe {
                libc::kill(pid as i32, libc::SIGINT);
            }
        }
        let grace = Duration::from_secs_f64(CANCEL_GRACE_S);
        if let Ok(true) = tokio::time::timeout(grace, &mut reported).await {
            graceful = true;
            end = End::Reported;
        }
    }
    Ok((end, graceful))
}

/// Makes sure the worker ends: one that reported is reaped in the
/// background (and killed if it does not exit soon), one that did not is
/// killed now.
async fn reap(mut child: Child, end: &End) {
    match end {
        End::Exited(_) => {}
        End::Reported => {
            tokio::spawn(async move {
                if tokio::time::timeout(Duration::from_secs(10), child.wait())
                    .await
                    .is_err()
                {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                }
            });
        }
        _ => {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }
}

/// The worker's result file `out`, checked; returns its text.
fn read_result(out: &std::path::Path) -> Result<String, String> {
    let text =
        std::fs::read_to_string(out).map_err(|e| format!("the worker wrote no result: {e}"))?;
    serde_json::from_str::<WorkerResult>(&text)
        .map_err(|e| format!("unreadable worker result: {e}"))?;
    Ok(text)
}

/// How a job ended, from how its worker ended after `secs` seconds and
/// the worker's standard error; returns the job's status, error and
/// result.
fn outcome(end: End, secs: f64, stderr: &str, out: &std::path::Path) -> Result<Outcome, String> {
    let last_line = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!(": {}", l.trim()))
        .unwrap_or_default();
    match end {
        End::Cancelled => Ok((
            JobStatus::Cancelled,
            Some(format!(
                "cancelled while running; the worker did not stop within {CANCEL_GRACE_S} s and was killed after {secs:.2} s"
            )),
            None,
        )),
        End::Overran(d) => Ok((
            JobStatus::Failed,
            Some(format!(
                "the worker overran its deadline ({d:.1} s: the time limit times the solves it may run, plus {GRACE_S} s of grace) and was killed"
            )),
            None,
        )),
        End::Exited(s) if !s.success() => {
            use std::os::unix::process::ExitStatusExt;
            let how = match s.signal() {
                Some(9) => "was killed by signal 9 (SIGKILL)".to_string(),
                Some(6) => "was killed by signal 6 (SIGABRT: the native solver aborted)".into(),
                Some(11) => "was killed by signal 11 (SIGSEGV: the native solver crashed)".into(),
                Some(sig) => format!("was killed by signal {sig}"),
                None => format!("exited with code {}", s.code().unwrap_or(-1)),
            };
            Ok((
                JobStatus::Failed,
                Some(format!("the worker process {how} after {secs:.2} s{last_line}")),
                None,
            ))
        }
        End::Exited(_) | End::Reported => Ok((JobStatus::Done, None, Some(read_result(out)?))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::store::{JobStore, NewJob, SqliteStore};
    use super::*;

    /// A store with one job, claimed (running), in `dir`.
    fn store_with_running_job(dir: &std::path::Path) -> (AppState, Arc<SqliteStore>, String) {
        let store = Arc::new(SqliteStore::open(&dir.join("jobs.db"), "test").unwrap());
        let job = NewJob {
            id: "job-1",
            owner: "owner",
            idem_key: None,
            kind: "solve",
            method: "tide",
            options: "{}",
            instance_hash: "h",
            bundle: "{}",
            sizes: "{}",
        };
        store.insert(&job, 10).unwrap();
        let claimed = store.claim(30.0).unwrap().unwrap();
        assert_eq!(claimed.status, JobStatus::Running);
        (super::super::test_state(store.clone()), store, claimed.id)
    }

    #[test]
    fn a_result_the_full_store_cannot_take_fails_the_job_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let (st, store, id) = store_with_running_job(dir.path());
        // The database may not grow any more: a 4 MB result cannot be
        // written, a one-line reason can (it fits the pages there are).
        {
            let c = store.conn_for_tests();
            let pages: i64 = c
                .pragma_query_value(None, "page_count", |r| r.get(0))
                .unwrap();
            c.pragma_update(None, "max_page_count", pages).unwrap();
        }
        let result = format!("{{\"padding\": \"{}\"}}", "x".repeat(4 << 20));
        record_end(&st, &id, JobStatus::Done, None, Some(&result));
        let row = st.store.get(&id).unwrap().unwrap();
        assert_eq!(row.status, JobStatus::Failed);
        let err = row.error.unwrap();
        assert!(err.contains("could not record"), "{err}");
        assert!(err.contains("done"), "the status it ended with: {err}");
        assert!(row.result.is_none());
        assert!(st.unrecorded.lock().unwrap().is_empty());
    }

    #[test]
    fn an_end_no_write_can_record_is_kept_and_written_once_the_store_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (st, store, id) = store_with_running_job(dir.path());
        // Nothing can be written at all.
        store
            .conn_for_tests()
            .pragma_update(None, "query_only", true)
            .unwrap();
        record_end(&st, &id, JobStatus::Done, None, Some("{}"));
        assert_eq!(
            st.store.get(&id).unwrap().unwrap().status,
            JobStatus::Running,
            "nothing could be written"
        );
        assert!(st.unrecorded.lock().unwrap().contains_key(&id));
        // Still unwritable: the retry writes nothing and keeps the job.
        assert_eq!(record_unrecorded_once(&st), 0);
        assert!(st.unrecorded.lock().unwrap().contains_key(&id));
        // The store writes again: the job is failed with its reason.
        store
            .conn_for_tests()
            .pragma_update(None, "query_only", false)
            .unwrap();
        assert_eq!(record_unrecorded_once(&st), 1);
        let row = st.store.get(&id).unwrap().unwrap();
        assert_eq!(row.status, JobStatus::Failed);
        assert!(row.error.unwrap().contains("could not record"));
        assert!(st.unrecorded.lock().unwrap().is_empty());
    }
}
