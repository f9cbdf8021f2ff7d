//! Progress on standard error and the exit code of a command that a signal may stop.

use edgesplit::solve::{Progress, ProgressEvent, ProgressKind, ProgressSink};
use std::process::ExitCode;

/// The progress handle of this process's solves: set by `main` for the
/// commands that solve (the CLI's progress line and its signal handling),
/// by `worker` for a worker process.
pub(super) static PROGRESS: std::sync::OnceLock<Progress> = std::sync::OnceLock::new();

pub(super) fn progress_handle() -> Progress {
    PROGRESS.get_or_init(Progress::default).clone()
}

/// The exit code of a command that ran to its end: 0, or
/// [`edgesplit::interrupt::EXIT_INTERRUPTED`] when a signal stopped it
/// early (after it wrote what it had).
pub(super) fn finished() -> ExitCode {
    if edgesplit::interrupt::requested() {
        eprintln!("stopped by a signal: the rows above are those finished");
        ExitCode::from(edgesplit::interrupt::EXIT_INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    }
}

/// The progress display on standard error: a line redrawn in place on a
/// terminal, else a plain line every few seconds (and at each solve's end).
struct CliSink {
    terminal: bool,
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
    last: std::sync::Mutex<Option<std::time::Instant>>,
}

/// Seconds between two plain progress lines.
const PLAIN_EVERY_S: f64 = 5.0;

impl ProgressSink for CliSink {
    fn event(&self, e: &ProgressEvent) {
        if self.terminal {
            let mut bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
            match e.kind {
                ProgressKind::End => {
                    if let Some(b) = bar.take() {
                        b.finish_and_clear();
                    }
                }
                _ => {
                    let b = bar.get_or_insert_with(|| {
                        let b = indicatif::ProgressBar::new_spinner();
                        b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                        b.enable_steady_tick(std::time::Duration::from_millis(200));
                        b
                    });
                    b.set_message(e.to_string());
                }
            }
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let due = match e.kind {
            ProgressKind::Start => false,
            ProgressKind::End => true,
            ProgressKind::Update => last.is_none_or(|t| t.elapsed().as_secs_f64() >= PLAIN_EVERY_S),
        };
        if due {
            *last = Some(std::time::Instant::now());
            let tag = if e.kind == ProgressKind::End {
                "done"
            } else {
                "progress"
            };
            eprintln!("{tag}: {e}");
        }
        if e.kind == ProgressKind::End {
            *last = None;
        }
    }
}

static CLI_SINK: std::sync::OnceLock<std::sync::Arc<CliSink>> = std::sync::OnceLock::new();

/// Sets up the progress display and signal handling of a command that
/// solves.
pub(super) fn init_cli_progress(show: bool) {
    use std::io::IsTerminal;
    edgesplit::interrupt::install(false);
    if !show {
        let _ = PROGRESS.set(edgesplit::interrupt::progress());
        return;
    }
    let sink = CLI_SINK
        .get_or_init(|| {
            std::sync::Arc::new(CliSink {
                terminal: std::io::stderr().is_terminal(),
                bar: std::sync::Mutex::new(None),
                last: std::sync::Mutex::new(None),
            })
        })
        .clone();
    let _ = PROGRESS.set(edgesplit::interrupt::progress().with_sink(sink));
}

/// Clears the progress line before a command prints its results.
pub(super) fn clear_progress() {
    if let Some(s) = CLI_SINK.get() {
        if let Some(b) = s.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
    }
}

/// A progress line on stderr: `[k/n] what is running`.
pub(super) struct Steps {
    done: u64,
    total: u64,
}

pub(super) fn progress_bar(total: u64) -> Steps {
    Steps { done: 0, total }
}

impl Steps {
    pub(super) fn inc_msg(&mut self, what: &str) {
        self.done += 1;
        eprintln!("[{}/{}] {what}", self.done, self.total);
    }
    pub(super) fn finish(self) {}
}
