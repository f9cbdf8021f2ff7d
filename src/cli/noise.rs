//! The quantization noise regressor: fit-noise, sample-noise.

use super::args::nonneg_arg;
use super::limits;
use anyhow::{Context, Result};
use edgesplit::eval::sig;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct FitNoiseArgs {
    /// Samples CSV.
    pub samples: PathBuf,
    /// Highest monomial degree.
    #[arg(long)]
    pub degree: usize,
    /// Ridge λ (λ‖β‖²), for samples that cannot determine every term.
    #[arg(long, default_value_t = 0.0, value_parser = nonneg_arg)]
    pub ridge: f64,
    /// Cross-validation folds (sample i in fold i mod K).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Output YAML (default: stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn fit_noise(args: FitNoiseArgs) -> Result<ExitCode> {
    let FitNoiseArgs {
        samples,
        degree,
        ridge,
        folds,
        output,
    } = args;
    let s = edgesplit::noise::read_samples(&samples).map_err(|e| anyhow::anyhow!("{e}"))?;
    let fit = edgesplit::noise::fit_with(&s, degree, ridge, limits())
        .map_err(|e| anyhow::anyhow!("{}: {e}", samples.display()))?;
    eprintln!(
        "{} samples, {} groups, degree {degree}, ridge {ridge}",
        s.q.len(),
        s.groups.len()
    );
    match edgesplit::noise::cross_validate_with(&s, degree, ridge, folds, limits()) {
        Ok(cv) => eprintln!(
            "{folds}-fold cross-validation: R² {:.4}, RMSE {}, MAE {}",
            cv.r2,
            sig(cv.rmse),
            sig(cv.mae)
        ),
        Err(e) => eprintln!("{folds}-fold cross-validation not possible: {e}"),
    }
    let mut text = format!(
        "# fitted by `edgesplit fit-noise {} --degree {degree} --ridge {ridge}`\n",
        samples.display()
    );
    text += &fit.to_yaml();
    match output {
        Some(p) => std::fs::write(&p, &text).with_context(|| format!("writing {}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct SampleNoiseArgs {
    /// Required: these samples are made up, not measured.
    #[arg(long, required = true)]
    pub synthetic: bool,
    /// Group names, e.g. conv1,conv2,fc.
    #[arg(long, value_delimiter = ',', required = true)]
    pub groups: Vec<String>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Degree of the hidden polynomial.
    #[arg(long, default_value_t = 2)]
    pub degree: usize,
    /// Number of random samples (default: every q in {0,1}^G).
    #[arg(long)]
    pub samples: Option<usize>,
    /// Relative jitter added to each sample.
    #[arg(long, default_value_t = 0.05, value_parser = nonneg_arg)]
    pub jitter: f64,
    /// Output CSV (default: stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn sample_noise(args: SampleNoiseArgs) -> Result<ExitCode> {
    let SampleNoiseArgs {
        synthetic: _,
        groups,
        seed,
        degree,
        samples,
        jitter,
        output,
    } = args;
    let text =
        edgesplit::noise::synthetic_samples(&groups, seed, degree, samples, jitter, limits())
            .map_err(|e| anyhow::anyhow!("--groups, --degree, --samples: {e}"))?;
    match output {
        Some(p) => std::fs::write(&p, &text).with_context(|| format!("writing {}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
