//! The typed, validated problem instance (docs/formulation.md §1).
//!
//! [`load`] reads an instance file, resolves the files it refers to, and
//! validates everything into an [`Instance`]; code past the loader never
//! sees YAML.

pub mod custom;
pub mod limits;
pub mod load;
pub mod profile;
pub mod raw;
pub mod rules;
pub mod scale;
pub mod section;
pub mod source;
pub mod width;

use crate::dnn::{AtomIx, Dnn};
use crate::network::{Network, NodeIx};
use std::path::PathBuf;

pub use limits::Limits;
pub use load::{load, load_str, load_str_with, load_with, LoadOptions};
pub use rules::PlacementRule;
pub use source::{FileSource, VirtualFiles};
pub use width::MinWidth;

/// Index of a task in [`Instance::tasks`].
pub type TaskIx = usize;
/// Index of a quantization group in [`Quantization::groups`].
pub type GroupIx = usize;

/// A validated instance of the joint problem.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Short name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The file it was loaded from, if any.
    pub path: Option<PathBuf>,
    /// The parent DNN.
    pub dnn: Dnn,
    /// Nodes, links, effective links.
    pub network: Network,
    /// Tasks (at least one).
    pub tasks: Vec<Task>,
    /// Quantization groups, factors and noise model.
    pub quantization: Quantization,
    /// Objective weights and normalization.
    pub objective: Objective,
    /// Constraint families on or off.
    pub families: Families,
    /// How per-task delay is computed.
    pub delay_model: DelayModel,
    /// Placement rules (the `rules` family).
    pub rules: Vec<PlacementRule>,
    /// Per-layer minimum widths (the `width` family), one per entry and layer.
    pub min_width: Vec<MinWidth>,
    /// User constraints (the `custom` family), one row per entry and
    /// `for_each` index.
    pub custom: Vec<custom::CustomRow>,
    /// The validated sections of the families that read their own (see
    /// [`crate::milp::families::Family::section`]), by section key.
    pub sections: section::Sections,
    /// Measured compute times (`profiles:`), read through
    /// [`Instance::compute_s`].
    pub profiles: profile::Profiles,
}

/// An inference task.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Name.
    pub name: String,
    /// λ, requests per second, > 0.
    pub rate: f64,
    /// Index of its DNN in [`Dnn::components`] (0 with a single DNN); the
    /// task only uses that DNN's atoms.
    pub dnn: usize,
    /// Node where the input appears.
    pub source: NodeIx,
    /// Node where the output is delivered.
    pub sink: NodeIx,
    /// δ_max in seconds (`f64::INFINITY`: no limit).
    pub max_delay: f64,
    /// q_min.
    pub min_quality: f64,
    /// σ(a,t) per atom.
    pub relevance: Vec<f64>,
    /// F_t.
    pub curve: AccuracyCurve,
    /// γ(t).
    pub noise_sensitivity: f64,
}

impl Task {
    /// Σ_a σ(a,t).
    pub fn total_relevance(&self) -> f64 {
        self.relevance.iter().sum()
    }

    /// Retained relevance fraction of a set of atoms (1 when the task has no
    /// relevance at all: nothing can be lost).
    pub fn retained(&self, used: impl Iterator<Item = AtomIx>) -> f64 {
        let total = self.total_relevance();
        if total <= 0.0 {
            return 1.0;
        }
        used.map(|a| self.relevance[a]).sum::<f64>() / total
    }
}

/// A concave, non-decreasing piecewise-linear function on [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct AccuracyCurve {
    /// Breakpoints `(x, F(x))`, x strictly increasing from 0 to 1.
    pub points: Vec<(f64, f64)>,
}

impl AccuracyCurve {
    /// The identity curve: accuracy = retained fraction.
    pub fn identity() -> AccuracyCurve {
        AccuracyCurve {
            points: vec![(0.0, 0.0), (1.0, 1.0)],
        }
    }

    /// F(x), x clamped to [0, 1].
    pub fn value(&self, x: f64) -> f64 {
        let x = x.clamp(0.0, 1.0);
        // Concave: F is the minimum of its pieces' lines.
        self.pieces()
            .map(|(s, c)| s * x + c)
            .fold(f64::INFINITY, f64::min)
    }

    /// `(slope, intercept)` of each piece.
    pub fn pieces(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.points.windows(2).map(|w| {
            let (x0, y0) = w[0];
            let (x1, y1) = w[1];
            let s = (y1 - y0) / (x1 - x0);
            (s, y0 - s * x0)
        })
    }
}

/// Quantization groups and their effects.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantization {
    /// Group names; index = [`GroupIx`].
    pub groups: Vec<String>,
    /// Multiplies `param_bytes` of quantized atoms, in (0, 1].
    pub weight_factor: f64,
    /// Multiplies `out_bytes` of quantized atoms, in (0, 1].
    pub activation_factor: f64,
    /// η(q).
    pub noise: NoiseModel,
    /// Noise family bound.
    pub max_noise: Option<f64>,
}

/// The multilinear noise regressor η(q).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NoiseModel {
    /// β_0, counted only when some group is quantized.
    pub intercept: f64,
    /// Monomials `(S, β_S)` with S sorted and distinct.
    pub terms: Vec<(Vec<GroupIx>, f64)>,
}

impl NoiseModel {
    /// η(q): zero when nothing is quantized.
    pub fn eval(&self, quantized: &[bool]) -> f64 {
        if !quantized.iter().any(|&q| q) {
            return 0.0;
        }
        self.intercept
            + self
                .terms
                .iter()
                .filter(|(s, _)| s.iter().all(|&g| quantized[g]))
                .map(|(_, b)| b)
                .sum::<f64>()
    }

    /// Highest degree among the terms.
    pub fn degree(&self) -> usize {
        self.terms.iter().map(|(s, _)| s.len()).max().unwrap_or(0)
    }
}

/// Weights on time, energy and cost (also used for scales and payoff rows).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Tec {
    /// Time T (s).
    pub time: f64,
    /// Energy E (W, energy per second).
    pub energy: f64,
    /// Cost C (price per second).
    pub cost: f64,
}

/// The objective of the instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// w_T, w_E, w_C.
    pub weights: Tec,
    /// How the three totals are made comparable.
    pub normalization: Normalization,
}

/// Normalization of T, E, C before weighting.
#[derive(Debug, Clone, PartialEq)]
pub enum Normalization {
    /// Raw units.
    None,
    /// X / scale.
    Scales(Tec),
    /// (X − ideal) / (nadir − ideal), from single-objective solves.
    Payoff,
}

/// Ideal and nadir values of a payoff normalization.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PayoffTable {
    /// Best value of each objective alone.
    pub ideal: Tec,
    /// Worst value of each objective over the other objectives' optima.
    pub nadir: Tec,
}

impl Objective {
    /// The weighted, normalized objective of totals `x`; `None` for payoff
    /// normalization without a payoff table.
    pub fn value(&self, x: Tec, payoff: Option<&PayoffTable>) -> Option<f64> {
        let w = self.weights;
        let (a, b) = self.affine(payoff)?;
        Some(
            w.time * (x.time - b.time) * a.time
                + w.energy * (x.energy - b.energy) * a.energy
                + w.cost * (x.cost - b.cost) * a.cost,
        )
    }

    /// Multipliers and offsets with X_norm = (X − offset)·mult.
    pub fn affine(&self, payoff: Option<&PayoffTable>) -> Option<(Tec, Tec)> {
        let inv = |s: f64| if s > 0.0 { 1.0 / s } else { 0.0 };
        match &self.normalization {
            Normalization::None => Some((
                Tec {
                    time: 1.0,
                    energy: 1.0,
                    cost: 1.0,
                },
                Tec::default(),
            )),
            Normalization::Scales(s) => Some((
                Tec {
                    time: inv(s.time),
                    energy: inv(s.energy),
                    cost: inv(s.cost),
                },
                Tec::default(),
            )),
            Normalization::Payoff => {
                let p = payoff?;
                // A degenerate range (nadir = ideal: every payoff row's
                // plan is at the ideal, as with a single objective of
                // positive weight) is replaced by |ideal|, or 1 when the
                // ideal is 0, so that the objective still counts.
                let m = |ideal: f64, nadir: f64| {
                    if nadir - ideal > 0.0 {
                        1.0 / (nadir - ideal)
                    } else if ideal != 0.0 {
                        1.0 / ideal.abs()
                    } else {
                        1.0
                    }
                };
                Some((
                    Tec {
                        time: m(p.ideal.time, p.nadir.time),
                        energy: m(p.ideal.energy, p.nadir.energy),
                        cost: m(p.ideal.cost, p.nadir.cost),
                    },
                    p.ideal,
                ))
            }
        }
    }
}

/// Constraint families on (true) or off: one switch per family of the
/// registry ([`crate::milp::families::ALL`]) that `constraints:` can
/// switch, all on by default. Families that cannot be switched (placement)
/// are always on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Families {
    /// Bit i: the family `ALL[i]` is on.
    on: u64,
}

/// The strengthenings (valid inequalities that cut off no plan and only
/// tighten the LP relaxation), by the name of their switch.
pub const STRENGTHENINGS: [&str; 3] = ["memory_fit", "cut_sets", "flow"];

impl Families {
    /// The registry index of the family called `name`.
    fn index(name: &str) -> Option<usize> {
        crate::milp::families::ALL
            .iter()
            .position(|f| f.name() == name)
    }

    /// Whether the family `name` is on. Panics when no family has that
    /// name: the names in code are the registry's.
    pub fn on(&self, name: &str) -> bool {
        let i =
            Self::index(name).unwrap_or_else(|| panic!("no constraint family is called '{name}'"));
        self.on & (1 << i) != 0
    }

    /// Switches the family `name` on or off; an error for a name that is
    /// not a switchable family, listing those.
    pub fn set(&mut self, name: &str, on: bool) -> Result<(), String> {
        match Self::index(name) {
            Some(i) if crate::milp::families::ALL[i].switchable() => {
                if on {
                    self.on |= 1 << i;
                } else {
                    self.on &= !(1 << i);
                }
                Ok(())
            }
            _ => Err(format!(
                "unknown constraint family `{name}`: expected one of {}",
                crate::milp::families::switch_names()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// [`Families::set`] for a name in code, which must be a switchable
    /// family (panics otherwise).
    pub fn switch(&mut self, name: &str, on: bool) {
        if let Err(e) = self.set(name, on) {
            panic!("{e}");
        }
    }

    /// Each switchable family's name and whether it is on, in build order.
    pub fn switches(&self) -> impl Iterator<Item = (&'static str, bool)> + '_ {
        crate::milp::families::switch_names().map(|n| (n, self.on(n)))
    }

    /// Switches the strengthening `name` (one of [`STRENGTHENINGS`]).
    pub fn set_strengthening(&mut self, name: &str, on: bool) -> Result<(), String> {
        if !STRENGTHENINGS.contains(&name) {
            return Err(format!(
                "unknown strengthening '{name}': expected one of {}",
                STRENGTHENINGS.join(", ")
            ));
        }
        self.set(name, on)
    }

    /// Whether the strengthening `name` is switched on (false for an
    /// unknown name).
    pub fn strengthening(&self, name: &str) -> bool {
        STRENGTHENINGS.contains(&name) && self.on(name)
    }

    /// The strengthenings switched on, as a `--strengthen` list (`none`
    /// when none is).
    pub fn strengthen_list(&self) -> String {
        let on: Vec<&str> = STRENGTHENINGS
            .into_iter()
            .filter(|n| self.strengthening(n))
            .collect();
        if on.is_empty() {
            "none".into()
        } else {
            on.join(",")
        }
    }

    /// Applies a `--strengthen` list: `all`, `none`, or comma-separated
    /// names, which switch exactly those strengthenings on and the others
    /// off.
    pub fn apply_strengthen_list(&mut self, list: &str) -> Result<(), String> {
        let list = list.trim();
        let on: Vec<&str> = match list {
            "all" => STRENGTHENINGS.to_vec(),
            "none" => Vec::new(),
            _ => list.split(',').map(str::trim).collect(),
        };
        let mut next = *self;
        for name in STRENGTHENINGS {
            next.set_strengthening(name, false)?;
        }
        for name in on {
            if name.is_empty() {
                return Err(format!(
                    "'{list}': empty strengthening name (expected all, none or names from {})",
                    STRENGTHENINGS.join(", ")
                ));
            }
            next.set_strengthening(name, true)?;
        }
        *self = next;
        Ok(())
    }
}

impl Default for Families {
    fn default() -> Self {
        Families { on: u64::MAX }
    }
}

impl std::fmt::Debug for Families {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.switches()).finish()
    }
}

/// A map of switch name to on.
impl serde::Serialize for Families {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.switches())
    }
}

/// Per-task delay model (docs/formulation.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DelayModel {
    /// Every compute and transfer time adds up.
    Sequential,
    /// Atoms of one level run in parallel on different nodes.
    Layered,
}

impl DelayModel {
    /// `sequential` or `layered`, as instances write it.
    pub fn name(self) -> &'static str {
        match self {
            DelayModel::Sequential => "sequential",
            DelayModel::Layered => "layered",
        }
    }
}

impl Instance {
    /// Number of quantization groups.
    pub fn group_count(&self) -> usize {
        self.quantization.groups.len()
    }

    /// Task index by name.
    pub fn task_by_name(&self, name: &str) -> Option<TaskIx> {
        self.tasks.iter().position(|t| t.name == name)
    }

    /// True when atom `a` belongs to task `t`'s DNN, the only atoms the
    /// task may use (every atom with a single DNN).
    pub fn own_atom(&self, t: TaskIx, a: AtomIx) -> bool {
        self.dnn.component_of[a] == self.tasks[t].dnn
    }

    /// The input atom of task `t`'s DNN (placed on its source).
    pub fn input_of(&self, t: TaskIx) -> AtomIx {
        self.dnn.input_of(self.tasks[t].dnn)
    }

    /// The output atom of task `t`'s DNN (placed on its sink).
    pub fn output_of(&self, t: TaskIx) -> AtomIx {
        self.dnn.output_of(self.tasks[t].dnn)
    }

    /// Task `t`'s full selection: every atom of its own DNN.
    pub fn own_atoms(&self, t: TaskIx) -> Vec<bool> {
        (0..self.dnn.len()).map(|a| self.own_atom(t, a)).collect()
    }

    /// True when task `t` must use atom `a`: its DNN's input, output and
    /// mandatory atoms.
    pub fn required(&self, t: TaskIx, a: AtomIx) -> bool {
        self.own_atom(t, a) && (self.dnn.atoms[a].mandatory || self.dnn.is_endpoint(a))
    }

    /// Total request rate Σ_t rate(t).
    pub fn total_rate(&self) -> f64 {
        self.tasks.iter().map(|t| t.rate).sum()
    }

    /// ct(a,n): the seconds atom `a` takes on node `n` per inference,
    /// quantized or not. The one definition of a compute time that the
    /// evaluator, the MILP, the heuristics and `info` use: the profiled
    /// time where a `profiles:` entry applies (quantized: its `time_q_s`,
    /// or `time_s / quant_speedup(n)` without one), otherwise
    /// `flops(a) / speed(n)`, divided by `quant_speedup(n)` when quantized.
    pub fn compute_s(&self, a: AtomIx, n: NodeIx, quantized: bool) -> f64 {
        let node = &self.network.nodes[n];
        let speedup = if quantized { node.quant_speedup } else { 1.0 };
        match self.profiles.times(a, n) {
            Some((_, Some(tq))) if quantized => tq,
            Some((t, _)) => t / speedup,
            None => self.dnn.atoms[a].flops / node.speed / speedup,
        }
    }

    /// Whether atom `a` is quantized when the groups `quantized` are.
    pub fn atom_quantized(&self, a: AtomIx, quantized: &[bool]) -> bool {
        self.dnn.atoms[a].group.is_some_and(|g| quantized[g])
    }
}
