//! Commands that write instances: generate, scenario, import-onnx,
//! import-profile.

use anyhow::{Context, Result};
use edgesplit::generate::{generate_yaml, GenParams};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub params: GenParams,
    /// Output file; default: stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn generate(args: GenerateArgs) -> Result<ExitCode> {
    let GenerateArgs { params, output } = args;
    let text = generate_yaml(&params);
    match output {
        Some(p) => std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct ImportOnnxArgs {
    /// ONNX model file.
    pub model: PathBuf,
    /// layer: one atom per compute layer; filter: one atom per
    /// convolution output channel.
    #[arg(long, default_value = "layer")]
    pub granularity: String,
    /// Input shape, e.g. 1x3x224x224; default: the model's own.
    #[arg(long)]
    pub input_shape: Option<String>,
    /// DNN name; default: the model file's stem.
    #[arg(long)]
    pub name: Option<String>,
    /// Mark every layer mandatory (layer-level split: tasks run the
    /// whole network).
    #[arg(long)]
    pub mandatory: bool,
    /// Give the K highest-FLOP layers their own quantization group
    /// `q_<layer>`.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub quant_groups: usize,
    /// Output YAML file; default: stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn import_onnx(args: ImportOnnxArgs) -> Result<ExitCode> {
    let ImportOnnxArgs {
        model,
        granularity,
        input_shape,
        name,
        mandatory,
        quant_groups,
        output,
    } = args;
    let granularity: edgesplit::onnx::Granularity = granularity.parse()?;
    let shape = input_shape
        .as_deref()
        .map(edgesplit::onnx::parse_shape)
        .transpose()?;
    let name = name.unwrap_or_else(|| {
        if edgesplit::instance::source::is_stdin(&model) {
            return "model".into();
        }
        model
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into())
    });
    let gran = match granularity {
        edgesplit::onnx::Granularity::Layer => "layer",
        edgesplit::onnx::Granularity::Filter => "filter",
    };
    let mut cmd = format!(
        "edgesplit import-onnx {} --granularity {gran} --name {name}",
        model.display()
    );
    if let Some(s) = &input_shape {
        cmd.push_str(&format!(" --input-shape {s}"));
    }
    if mandatory {
        cmd.push_str(" --mandatory");
    }
    if quant_groups > 0 {
        cmd.push_str(&format!(" --quant-groups {quant_groups}"));
    }
    let description = format!("imported from {} by: {cmd}", model.display());
    // A panic inside tract comes back as an error naming the file
    // (see onnx::import): keep its default report off the terminal.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let imported = edgesplit::onnx::import_annotated(
        &model,
        granularity,
        shape.as_deref(),
        &name,
        &description,
        edgesplit::onnx::Annotations {
            mandatory,
            quant_groups,
        },
    );
    std::panic::set_hook(hook);
    let (text, imp) = imported?;
    eprintln!(
        "{name}: input {:?}, {} compute layers, {:.3} GFLOP, {:.0} parameters",
        imp.input_shape,
        imp.layers.len(),
        2.0 * imp.total_macs() / 1e9,
        imp.total_params()
    );
    match output {
        Some(p) => std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct ImportProfileArgs {
    /// Profile CSV: a header naming the columns layer, node, time_s and
    /// optionally time_q_s (any order), one row per atom or layer and node
    /// or node kind, seconds per inference (docs/instance-format.md,
    /// "profiles").
    pub csv: PathBuf,
    /// The instance the times are for (`-`: standard input).
    #[arg(long)]
    pub instance: PathBuf,
    /// Output instance YAML, the times inline under `profiles.times`;
    /// default: stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn import_profile(args: ImportProfileArgs) -> Result<ExitCode> {
    let ImportProfileArgs {
        csv,
        instance,
        output,
    } = args;
    super::at_most_one_stdin([csv.as_path(), instance.as_path()])?;
    // Relative references are rewritten for the output's folder; on
    // stdout, for the working directory (where `validate -` resolves them).
    let out_dir = output
        .as_deref()
        .and_then(|p| p.parent())
        .unwrap_or(std::path::Path::new(""));
    let imported = edgesplit::instance::profile::import_csv(
        &instance,
        &csv,
        Some(out_dir),
        super::load_options(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(r) = &imported.replaced {
        eprintln!(
            "replacing profiles.csv {r} by the rows of {}",
            csv.display()
        );
    }
    eprintln!(
        "{}: {} profile row(s) written inline",
        csv.display(),
        imported.rows
    );
    match output {
        Some(p) => super::write_atomically(&p, imported.text.as_bytes())?,
        None => print!("{}", imported.text),
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct ScenarioArgs {
    #[command(subcommand)]
    pub which: ScenarioCommand,
}

pub fn scenario(args: ScenarioArgs) -> Result<ExitCode> {
    let ScenarioArgs { which } = args;
    let written = match which {
        ScenarioCommand::Tide(params) => edgesplit::scenario::write_tide(&params)?,
        ScenarioCommand::MtlSplit(params) => edgesplit::scenario::write_mtl_split(&params)?,
        ScenarioCommand::SplitQuant(params) => edgesplit::scenario::write_split_quant(&params)?,
    };
    for path in written {
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Subcommand)]
pub enum ScenarioCommand {
    /// TIDE (Malandrino et al., 2026, section IV-A): Zipf tasks, a central node, one
    /// instance per q_min, a shared relevance.csv.
    Tide(edgesplit::scenario::TideParams),
    /// MTL-Split (Capogrosso et al., 2024, DAC'24): an EfficientNet-B0 (or MobileNetV3-Small)
    /// backbone + MLP heads on a Jetson Nano and a server; the 2- and 3-task DNN files and
    /// instances, and their local-only (one network per task) counterparts.
    MtlSplit(edgesplit::scenario::MtlSplitParams),
    /// Quantization-aware splitting (Nicosanti, 2025): a layer-level DNN on device,
    /// edge and cloud, one instance per noise-regressor degree.
    SplitQuant(edgesplit::scenario::SplitQuantParams),
}
