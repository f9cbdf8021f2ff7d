//! `edgesplit draw`: the arguments and what the command does.

use super::{diff_svg, plan_svg};
use crate::error::{Error, Result};
use crate::instance::{load_with, LoadOptions};
use crate::plan::Plan;
use std::path::{Path, PathBuf};

/// `edgesplit draw INSTANCE PLAN [--diff PLAN_B] [-o plan.svg]`.
#[derive(Debug, Clone, clap::Args)]
pub struct DrawArgs {
    /// Instance file.
    pub instance: PathBuf,
    /// Plan file (YAML, or JSON by extension).
    pub plan: PathBuf,
    /// A second plan of the same instance: draw what differs between PLAN
    /// (A) and this one (B).
    #[arg(long, value_name = "PLAN_B")]
    pub diff: Option<PathBuf>,
    /// Output SVG file; default: stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

fn name_of(p: &Path) -> String {
    if p == Path::new("-") {
        "standard input".into()
    } else {
        p.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string())
    }
}

/// The SVG text `args` asks for.
pub fn render(args: &DrawArgs, opts: &LoadOptions) -> Result<String> {
    let paths = [Some(&args.instance), Some(&args.plan), args.diff.as_ref()];
    if paths
        .iter()
        .flatten()
        .filter(|p| p.as_path() == Path::new("-"))
        .count()
        > 1
    {
        return Err(Error::Other(
            "standard input (`-`) can be read once per command: give the other files by name"
                .into(),
        ));
    }
    if let Some(o) = &args.output {
        if o.extension().is_some_and(|e| e != "svg") {
            return Err(Error::Other(format!(
                "-o {}: only SVG is written: expected a name ending in .svg",
                o.display()
            )));
        }
    }
    let inst = load_with(&args.instance, opts)?;
    let a = Plan::load(&args.plan, &inst)?;
    Ok(match &args.diff {
        Some(pb) => {
            let b = Plan::load(pb, &inst)?;
            diff_svg(&inst, &a, &b, &name_of(&args.plan), &name_of(pb))
        }
        None => plan_svg(
            &inst,
            &a,
            &format!("{}: {}", inst.name, name_of(&args.plan)),
        ),
    })
}

/// Runs `edgesplit draw`: writes the picture to `-o` or standard output.
pub fn run(args: &DrawArgs, opts: &LoadOptions) -> Result<()> {
    let svg = render(args, opts)?;
    match &args.output {
        Some(o) => {
            std::fs::write(o, svg).map_err(|source| Error::Io {
                path: o.clone(),
                source,
            })?;
            eprintln!("wrote {}", o.display());
        }
        None => print!("{svg}"),
    }
    Ok(())
}
