//! The benchmark command.

use super::args::time_limit_arg;
use anyhow::{Context, Result};
use edgesplit::solve::BackendKind;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// `build`, `solve`, `sweep`, `server` or `routing` (loading complete
    /// networks of 30 to 120 nodes under each routing rule).
    #[arg(value_parser = ["build", "solve", "sweep", "server", "routing"])]
    pub what: String,
    /// Backends for `solve` (default: every one built in but microlp).
    #[arg(long, value_delimiter = ',')]
    pub solvers: Option<Vec<String>>,
    /// Time limit per solve, seconds.
    #[arg(long, default_value_t = 60.0, value_parser = time_limit_arg)]
    pub time_limit: f64,
    /// Build repetitions for `build`.
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// `server`: jobs in sequence (overhead) and per client (throughput).
    #[arg(long, default_value_t = 50)]
    pub jobs: usize,
    /// `server`: concurrent clients for the throughput.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// `server`: worker processes.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// `server`: the method of every job.
    #[arg(long, default_value = "tide")]
    pub method: String,
    /// `server`: the instance.
    #[arg(long, default_value = "instances/default.yaml")]
    pub instance: PathBuf,
    /// `server`: the job store: a SQLite file in a temporary folder by
    /// default, or a `postgres://` database shared by `--servers` servers.
    #[arg(long)]
    pub db: Option<String>,
    /// `server`: servers on the `--db` PostgreSQL store, each with
    /// `--workers` workers; the clients take them in turn.
    #[arg(long, default_value_t = 1)]
    pub servers: usize,
    /// `server`: pause before each sequential job, milliseconds.
    #[arg(long, default_value_t = 0)]
    pub pause_ms: u64,
    /// `solve`: strengthenings of the solved ("after") models: `all`,
    /// `none` or names (see `solve --strengthen`).
    #[arg(long)]
    pub strengthen: Option<String>,
    /// `solve`: only the instances whose label contains this text.
    #[arg(long)]
    pub only: Option<String>,
}

pub fn bench(args: BenchArgs) -> Result<ExitCode> {
    let BenchArgs {
        what,
        solvers,
        time_limit,
        repeats,
        jobs,
        clients,
        workers,
        method,
        instance,
        pause_ms,
        db,
        servers,
        strengthen,
        only,
    } = args;
    if what == "server" {
        #[cfg(feature = "server")]
        {
            let exe = std::env::current_exe().context("locating the edgesplit binary")?;
            let setup = edgesplit::server::bench::Setup {
                workers,
                servers,
                db,
            };
            let report = edgesplit::server::bench::bench_server(
                &exe, &instance, &method, jobs, clients, &setup, pause_ms,
            )
            .map_err(|e| anyhow::anyhow!(e))?;
            print!("{report}");
            return Ok(ExitCode::SUCCESS);
        }
        #[cfg(not(feature = "server"))]
        {
            let _ = (
                jobs, clients, workers, method, instance, pause_ms, db, servers,
            );
            anyhow::bail!("bench server needs the `server` feature");
        }
    }
    if what == "routing" {
        print!("{}", edgesplit::bench::bench_routing(&[30, 60, 90, 120]));
        return Ok(ExitCode::SUCCESS);
    }
    if what == "build" {
        print!("{}", edgesplit::bench::bench_build(repeats));
        return Ok(ExitCode::SUCCESS);
    }
    if what == "sweep" {
        let kind = match &solvers {
            Some(list) if list.len() == 1 => list[0]
                .parse::<BackendKind>()
                .map_err(|e| anyhow::anyhow!(e))?,
            Some(_) => anyhow::bail!("bench sweep takes one solver"),
            None => BackendKind::Highs,
        };
        print!("{}", edgesplit::bench::bench_sweep(kind, time_limit));
        return Ok(ExitCode::SUCCESS);
    }
    let kinds: Vec<BackendKind> = match solvers {
        Some(list) => list
            .iter()
            .map(|s| s.parse::<BackendKind>().map_err(|e| anyhow::anyhow!(e)))
            .collect::<Result<_>>()?,
        None => BackendKind::built_in()
            .into_iter()
            .filter(|&k| k != BackendKind::Microlp)
            .collect(),
    };
    for k in &kinds {
        if !k.available() {
            anyhow::bail!("{}", k.backend().err().unwrap_or_default());
        }
    }
    let start = std::time::Instant::now();
    let table = edgesplit::bench::bench_solve(
        &kinds,
        time_limit,
        strengthen.as_deref(),
        only.as_deref(),
        |what| eprintln!("[{:>6.0} s] {what}", start.elapsed().as_secs_f64()),
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    print!("{table}");
    Ok(ExitCode::SUCCESS)
}
