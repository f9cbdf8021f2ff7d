//! The `edgesplit` command line: parses the arguments and hands them to
//! [`cli::run`].

mod cli;
mod help_examples;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`edgesplit ... | head`), like other
    // command-line tools, instead of panicking inside println!.
    // SAFETY: resetting a signal disposition at startup, before any thread.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match cli::run(cli::Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
