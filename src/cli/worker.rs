//! The model server and the worker processes of `solve` and the server.

use super::args::{time_limit_arg, SolverArgs};
use super::limits;
use super::progress::{progress_handle, PROGRESS};
use anyhow::{Context, Result};
use edgesplit::solve::solve_instance;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct WorkerArgs {
    /// Instance file.
    pub instance: PathBuf,
    #[command(flatten)]
    pub solver: SolverArgs,
    /// Where to write the report.
    #[arg(long)]
    pub out: PathBuf,
    /// Server jobs: a backend, a heuristic or `compare:M1,M2,...`; the
    /// result is written in the server's form.
    #[arg(long)]
    pub method: Option<String>,
    /// Write progress events as lines on standard error for the parent.
    #[arg(long)]
    pub progress_lines: bool,
}

pub fn worker(args: WorkerArgs) -> Result<ExitCode> {
    let WorkerArgs {
        instance,
        solver,
        out,
        method,
        progress_lines,
    } = args;
    // A signal (passed on by the parent) stops the solve; the
    // report of its best plan is still written.
    edgesplit::interrupt::install(true);
    // A parent killed outright (SIGKILL) cannot remove the temporary folder
    // it made for this worker: the worker does, and stops.
    edgesplit::interrupt::watch_parent();
    let _ = PROGRESS.set(if progress_lines {
        edgesplit::interrupt::progress().with_sink(edgesplit::solve::progress::line_sink())
    } else {
        edgesplit::interrupt::progress()
    });
    // Fault injection for the isolation tests.
    match std::env::var("EDGESPLIT_WORKER_FAULT").as_deref() {
        Ok("abort") => std::process::abort(),
        Ok("hang") => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        _ => {}
    }
    // `worker - --out -`: a standby server worker; `worker -
    // --out FILE`: an instance on standard input (`solve -`).
    if instance.as_os_str() == "-" && out.as_os_str() == "-" {
        return server_standby();
    }
    if let Some(m) = method {
        return server_worker(&instance, &m, &solver, &out);
    }
    let inst = solver.load(&instance)?;
    let rep = solve_instance(&inst, solver.kind()?, &solver.options(&inst)?);
    let plan = rep
        .plan
        .as_ref()
        .map(|p| p.to_file(&inst, Some(&format!("milp:{}", solver.solver))));
    let w = edgesplit::solve::isolate::WorkerOutput { report: rep, plan };
    std::fs::write(&out, serde_json::to_string(&w)?)
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "server")]
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port). Without tokens only
    /// a loopback address is allowed.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// Job store: a SQLite file (job folders go to `<db>.jobs/` beside
    /// it), or a PostgreSQL database `postgres://USER@HOST:PORT/NAME` that
    /// several servers share.
    #[arg(long, default_value = "edgesplit.db")]
    pub db: String,
    /// Worker processes at a time.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Run no workers: an API-only front (jobs are run by other servers
    /// or `worker-pool`s on the same PostgreSQL store).
    #[arg(long)]
    pub no_workers: bool,
    #[command(flatten)]
    pub lease: LeaseArgs,
    /// File of bearer tokens, one per line (also: EDGESPLIT_TOKENS,
    /// comma-separated).
    #[arg(long)]
    pub tokens_file: Option<PathBuf>,
    /// Largest request body, bytes.
    #[arg(long, default_value_t = 8 << 20)]
    pub max_body: usize,
    /// Largest instance: atoms × tasks × nodes.
    #[arg(long, default_value_t = 5_000_000)]
    pub max_instance_size: u128,
    /// Most jobs waiting at once (then 429).
    #[arg(long, default_value_t = 1000)]
    pub max_queue: i64,
    /// Largest per-job time limit, seconds (also the default; at most 1e7).
    #[arg(long, default_value_t = 300.0, value_parser = time_limit_arg)]
    pub max_time_limit: f64,
    /// Seconds a client may take to send a request's headers (also
    /// how long an idle connection stays open) and then its body.
    #[arg(long, default_value_t = 30.0)]
    pub read_timeout: f64,
    /// Largest job store, bytes (then 507); default: the disk's size.
    #[arg(long)]
    pub max_db_size: Option<u64>,
    /// Log lines on standard error: `text` or `json` (one object per
    /// line).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}

/// This server's name and lease, shared by `serve` and `worker-pool`.
#[cfg(feature = "server")]
#[derive(clap::Args)]
pub struct LeaseArgs {
    /// This server's name in the job store and in `/healthz` and
    /// `/metrics` (default: the host name and process id).
    #[arg(long)]
    pub server_id: Option<String>,
    /// Seconds a running job's lease lasts: a job whose server stops
    /// renewing it (every third of this, at most every second on
    /// PostgreSQL) for this long is re-queued by another server.
    #[arg(long, default_value_t = edgesplit::server::store::DEFAULT_LEASE_S)]
    pub lease: f64,
}

/// `worker-pool`: workers on a shared job store, without HTTP.
#[cfg(feature = "server")]
#[derive(clap::Args)]
pub struct WorkerPoolArgs {
    /// The PostgreSQL job store the API servers use
    /// (`postgres://USER@HOST:PORT/NAME`).
    #[arg(long)]
    pub db: String,
    /// Worker processes at a time.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Largest per-job time limit, seconds (also the default; at most 1e7).
    #[arg(long, default_value_t = 300.0, value_parser = time_limit_arg)]
    pub max_time_limit: f64,
    /// Log lines on standard error: `text` or `json`.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    #[command(flatten)]
    pub lease: LeaseArgs,
}

#[cfg(feature = "server")]
pub fn worker_pool(args: WorkerPoolArgs) -> Result<ExitCode> {
    if !edgesplit::server::store::is_postgres_url(&args.db) {
        anyhow::bail!(
            "--db {}: expected a postgres:// URL (a worker pool shares its store with API servers; a SQLite file has one server)",
            args.db
        );
    }
    let exe = std::env::current_exe().context("locating the edgesplit binary")?;
    edgesplit::server::serve(edgesplit::server::Config {
        addr: "127.0.0.1:0".parse()?,
        db: args.db,
        workers: args.workers,
        http: false,
        server_id: args
            .lease
            .server_id
            .unwrap_or_else(edgesplit::server::default_server_id),
        lease_s: args.lease.lease,
        tokens: Vec::new(),
        max_body: 0,
        max_instance_size: 5_000_000,
        max_queue: 0,
        max_time_limit: args.max_time_limit,
        exe,
        read_timeout: std::time::Duration::from_secs(30),
        max_db_bytes: None,
        log_format: args
            .log_format
            .parse()
            .map_err(|e: String| anyhow::anyhow!(e))?,
        limits: *limits(),
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "server")]
pub fn serve(args: ServeArgs) -> Result<ExitCode> {
    let ServeArgs {
        addr,
        db,
        workers,
        no_workers,
        lease,
        tokens_file,
        max_body,
        max_instance_size,
        max_queue,
        max_time_limit,
        read_timeout,
        max_db_size,
        log_format,
    } = args;
    let read_timeout = std::time::Duration::try_from_secs_f64(read_timeout)
        .ok()
        .filter(|d| !d.is_zero() && d.as_secs() <= 86_400)
        .ok_or_else(|| {
            anyhow::anyhow!("--read-timeout {read_timeout}: expected 0 < seconds ≤ 86400")
        })?;
    let tokens = edgesplit::server::read_tokens(
        tokens_file.as_deref(),
        std::env::var("EDGESPLIT_TOKENS").ok().as_deref(),
    )?;
    let exe = std::env::current_exe().context("locating the edgesplit binary")?;
    if no_workers && !edgesplit::server::store::is_postgres_url(&db) {
        anyhow::bail!(
            "--no-workers with --db {db}: a SQLite store has one server, whose workers run its jobs; give a postgres:// URL"
        );
    }
    edgesplit::server::serve(edgesplit::server::Config {
        addr,
        db,
        workers: if no_workers { 0 } else { workers },
        http: true,
        server_id: lease
            .server_id
            .unwrap_or_else(edgesplit::server::default_server_id),
        lease_s: lease.lease,
        tokens,
        max_body,
        max_instance_size,
        max_queue,
        max_time_limit,
        exe,
        read_timeout,
        max_db_bytes: max_db_size,
        log_format: log_format.parse().map_err(|e: String| anyhow::anyhow!(e))?,
        limits: *limits(),
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "server")]
fn server_worker(
    instance: &Path,
    method: &str,
    solver: &SolverArgs,
    out: &Path,
) -> Result<ExitCode> {
    let m = edgesplit::server::worker::JobMethod::parse(method).map_err(|e| anyhow::anyhow!(e))?;
    let res = edgesplit::server::worker::run_job(instance, &m, &solver.plain_options()?)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::write(out, serde_json::to_string(&res)?)
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// `worker -`: a standby worker for the server, which reads its job from
/// standard input.
#[cfg(feature = "server")]
fn server_standby() -> Result<ExitCode> {
    edgesplit::server::worker::run_standby(progress_handle())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "server"))]
fn server_standby() -> Result<ExitCode> {
    anyhow::bail!("worker - needs the `server` feature")
}

#[cfg(not(feature = "server"))]
fn server_worker(_: &Path, _: &str, _: &SolverArgs, _: &Path) -> Result<ExitCode> {
    anyhow::bail!("worker --method needs the `server` feature")
}
