//! User constraints (the `custom` family): named linear constraints over a
//! plan's decisions, written in the instance and checked by both the MILP
//! and the evaluator, so an ad-hoc requirement needs no new code.
//!
//! ```yaml
//! custom_constraints:
//!   - name: conv1_on_device          # at most 3 conv1 filters of each task on the device
//!     for_each: task
//!     terms: [{var: z, atoms: conv1, nodes: [device]}]
//!     sense: "<="
//!     rhs: 3
//!   - name: q5_implies_q4            # q[conv5] ≤ q[conv4]
//!     terms: [{var: q, groups: conv5}, {var: q, groups: conv4, coef: -1}]
//!     sense: "<="
//!     rhs: 0
//! ```
//!
//! Decisions: `y` (atom a used by task t), `z` (a runs on node n for t),
//! `u` (a deployed on n for some task) and `q` (group g quantized), all
//! 0/1. A term sums `coef ×` its variable over every index its selectors
//! pick; `for_each: task`, `node` or `[task, node]` makes one row per task
//! and/or node, each term restricted to it (docs/instance-format.md,
//! "Custom constraints").

use super::load::Check;
use super::rules::{select_atoms, select_tasks};
use super::TaskIx;
use crate::dnn::{AtomIx, Dnn};
use crate::network::{Network, NodeIx};
use serde::{Deserialize, Serialize};

/// A custom constraint as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCustom {
    /// Name: letters, digits, `_` and `-`; unique. Rows and violations are
    /// named after it.
    pub name: String,
    /// `task`, `node` or `[task, node]`: one row per task and/or node.
    #[serde(default)]
    pub for_each: Option<RawForEach>,
    /// The left-hand side.
    pub terms: Vec<RawTerm>,
    /// `<=`, `>=` or `==`.
    pub sense: String,
    /// The right-hand side.
    pub rhs: f64,
}

/// `for_each:` as written: one name or a list.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RawForEach {
    /// `for_each: task`.
    One(String),
    /// `for_each: [task, node]`.
    Many(Vec<String>),
}

/// One term as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTerm {
    /// `y`, `z`, `u` or `q`.
    pub var: String,
    /// Coefficient (default 1).
    #[serde(default)]
    pub coef: Option<f64>,
    /// Atoms: a glob on atom ids or layer names (`y`, `z`, `u`).
    #[serde(default)]
    pub atoms: Option<String>,
    /// Atoms: every atom of this level.
    #[serde(default)]
    pub level: Option<usize>,
    /// Atoms: every atom of this quantization group.
    #[serde(default)]
    pub group: Option<String>,
    /// Tasks (`y`, `z`; default all, or the row's task with `for_each`).
    #[serde(default)]
    pub tasks: Option<Vec<String>>,
    /// Nodes (`z`, `u`; default all, or the row's node with `for_each`).
    #[serde(default)]
    pub nodes: Option<Vec<String>>,
    /// Quantization groups, a glob on their names (`q`).
    #[serde(default)]
    pub groups: Option<String>,
}

/// A plan decision a custom row reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// y(a,t): task t uses atom a.
    Uses(AtomIx, TaskIx),
    /// z(a,n,t): atom a runs on node n for task t.
    RunsOn(AtomIx, NodeIx, TaskIx),
    /// u(a,n): atom a is deployed on node n (for some task).
    Deployed(AtomIx, NodeIx),
    /// q(g): group g is quantized.
    Quantized(usize),
}

/// Comparison of a custom row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomSense {
    /// Σ ≤ rhs.
    Le,
    /// Σ ≥ rhs.
    Ge,
    /// Σ = rhs.
    Eq,
}

impl CustomSense {
    /// As written: `<=`, `>=`, `==`.
    pub fn symbol(self) -> &'static str {
        match self {
            CustomSense::Le => "<=",
            CustomSense::Ge => ">=",
            CustomSense::Eq => "==",
        }
    }
}

/// One validated row: `Σ coef · decision  sense  rhs`.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomRow {
    /// `name`, or `name[task=t]`, `name[node=n]`, `name[task=t,node=n]`.
    pub name: String,
    /// Terms, each decision once (coefficients of repeats added).
    pub terms: Vec<(Decision, f64)>,
    /// Comparison.
    pub sense: CustomSense,
    /// Right-hand side.
    pub rhs: f64,
}

/// Largest number of terms all custom rows may have together.
pub const MAX_CUSTOM_TERMS: usize = 5_000_000;

/// What a row iterates over.
#[derive(Clone, Copy, Default)]
struct Each {
    task: bool,
    node: bool,
}

/// Validates `raw` into rows; every problem names its field path.
pub(crate) fn build_custom(
    raw: &[RawCustom],
    dnn: &Dnn,
    network: &Network,
    task_names: &[String],
    groups: &[String],
    c: &mut Check,
) -> Vec<CustomRow> {
    let mut out = Vec::new();
    let mut names = std::collections::HashSet::new();
    let mut total_terms = 0usize;
    for (i, r) in raw.iter().enumerate() {
        let p = format!("custom_constraints[{i}]");
        let name_ok = !r.name.is_empty()
            && r.name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
        if !name_ok {
            c.err(
                format!("{p}.name"),
                format!(
                    "'{}': expected letters, digits, `_` or `-` (it names rows in exports)",
                    r.name.escape_debug()
                ),
            );
            continue;
        }
        if !names.insert(r.name.clone()) {
            c.err(
                format!("{p}.name"),
                format!(
                    "'{}' names two custom constraints: expected unique names",
                    r.name
                ),
            );
            continue;
        }
        let sense = match r.sense.as_str() {
            "<=" | "≤" => CustomSense::Le,
            ">=" | "≥" => CustomSense::Ge,
            "==" | "=" => CustomSense::Eq,
            other => {
                c.err(
                    format!("{p}.sense"),
                    format!("'{other}': expected \"<=\", \">=\" or \"==\""),
                );
                continue;
            }
        };
        if !r.rhs.is_finite() || r.rhs.abs() > 1e12 {
            c.err(
                format!("{p}.rhs"),
                format!(
                    "{}: expected a finite number of at most 1e12 in size",
                    r.rhs
                ),
            );
            continue;
        }
        let Some(each) = for_each(&p, r.for_each.as_ref(), c) else {
            continue;
        };
        if r.terms.is_empty() {
            c.err(format!("{p}.terms"), "no terms: expected at least one");
            continue;
        }
        let Some(terms) = r
            .terms
            .iter()
            .enumerate()
            .map(|(k, t)| {
                term(
                    &format!("{p}.terms[{k}]"),
                    t,
                    each,
                    dnn,
                    network,
                    task_names,
                    groups,
                    c,
                )
            })
            .collect::<Option<Vec<Term>>>()
        else {
            continue;
        };
        let tasks: Vec<Option<TaskIx>> = if each.task {
            (0..task_names.len()).map(Some).collect()
        } else {
            vec![None]
        };
        let nodes: Vec<Option<NodeIx>> = if each.node {
            (0..network.len()).map(Some).collect()
        } else {
            vec![None]
        };
        for &t in &tasks {
            for &n in &nodes {
                let mut lhs: Vec<(Decision, f64)> = Vec::new();
                for term in &terms {
                    term.expand(t, n, &mut lhs);
                }
                total_terms += lhs.len();
                if total_terms > MAX_CUSTOM_TERMS {
                    c.err(
                        p.clone(),
                        format!(
                            "the custom constraints expand to more than {MAX_CUSTOM_TERMS} terms: expected smaller selections"
                        ),
                    );
                    return out;
                }
                let mut label = Vec::new();
                if let Some(t) = t {
                    label.push(format!("task={}", task_names[t]));
                }
                if let Some(n) = n {
                    label.push(format!("node={}", network.nodes[n].name));
                }
                let name = if label.is_empty() {
                    r.name.clone()
                } else {
                    format!("{}[{}]", r.name, label.join(","))
                };
                out.push(CustomRow {
                    name,
                    terms: merge(lhs),
                    sense,
                    rhs: r.rhs,
                });
            }
        }
    }
    out
}

fn for_each(p: &str, raw: Option<&RawForEach>, c: &mut Check) -> Option<Each> {
    let list: Vec<&str> = match raw {
        None => Vec::new(),
        Some(RawForEach::One(s)) => vec![s.as_str()],
        Some(RawForEach::Many(v)) => v.iter().map(String::as_str).collect(),
    };
    let mut e = Each::default();
    for s in list {
        match s {
            "task" if !e.task => e.task = true,
            "node" if !e.node => e.node = true,
            _ => {
                c.err(
                    format!("{p}.for_each"),
                    format!("'{s}': expected task, node or [task, node], each once"),
                );
                return None;
            }
        }
    }
    Some(e)
}

/// A validated term before expansion.
struct Term {
    var: char,
    coef: f64,
    atoms: Vec<AtomIx>,
    /// Fixed tasks (None: the row's task, `for_each: task`).
    tasks: Option<Vec<TaskIx>>,
    nodes: Option<Vec<NodeIx>>,
    groups: Vec<usize>,
}

impl Term {
    fn expand(&self, t: Option<TaskIx>, n: Option<NodeIx>, out: &mut Vec<(Decision, f64)>) {
        let tasks: Vec<TaskIx> = match (&self.tasks, t) {
            (Some(v), _) => v.clone(),
            (None, Some(t)) => vec![t],
            (None, None) => Vec::new(),
        };
        let nodes: Vec<NodeIx> = match (&self.nodes, n) {
            (Some(v), _) => v.clone(),
            (None, Some(n)) => vec![n],
            (None, None) => Vec::new(),
        };
        match self.var {
            'y' => {
                for &t in &tasks {
                    out.extend(
                        self.atoms
                            .iter()
                            .map(|&a| (Decision::Uses(a, t), self.coef)),
                    );
                }
            }
            'z' => {
                for &t in &tasks {
                    for &n in &nodes {
                        out.extend(
                            self.atoms
                                .iter()
                                .map(|&a| (Decision::RunsOn(a, n, t), self.coef)),
                        );
                    }
                }
            }
            'u' => {
                for &n in &nodes {
                    out.extend(
                        self.atoms
                            .iter()
                            .map(|&a| (Decision::Deployed(a, n), self.coef)),
                    );
                }
            }
            _ => out.extend(
                self.groups
                    .iter()
                    .map(|&g| (Decision::Quantized(g), self.coef)),
            ),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn term(
    p: &str,
    t: &RawTerm,
    each: Each,
    dnn: &Dnn,
    network: &Network,
    task_names: &[String],
    groups: &[String],
    c: &mut Check,
) -> Option<Term> {
    let coef = t.coef.unwrap_or(1.0);
    if !coef.is_finite() || coef.abs() > 1e12 {
        c.err(
            format!("{p}.coef"),
            format!("{coef}: expected a finite number of at most 1e12 in size"),
        );
        return None;
    }
    let var = match t.var.as_str() {
        "y" => 'y',
        "z" => 'z',
        "u" => 'u',
        "q" => 'q',
        other => {
            c.err(
                format!("{p}.var"),
                format!("'{other}': expected y (uses), z (runs on), u (deployed) or q (quantized)"),
            );
            return None;
        }
    };
    let refuse = |c: &mut Check, field: &str, why: &str| {
        c.err(format!("{p}.{field}"), why.to_string());
        None
    };
    let has_tasks = matches!(var, 'y' | 'z');
    let has_nodes = matches!(var, 'z' | 'u');
    if !has_tasks && t.tasks.is_some() {
        return refuse(
            c,
            "tasks",
            &format!("`{var}` has no task index: expected no `tasks`"),
        );
    }
    if !has_nodes && t.nodes.is_some() {
        return refuse(
            c,
            "nodes",
            &format!("`{var}` has no node index: expected no `nodes`"),
        );
    }
    if each.task && t.tasks.is_some() {
        return refuse(
            c,
            "tasks",
            "the row's task comes from `for_each: task`: expected no `tasks`",
        );
    }
    if each.node && t.nodes.is_some() {
        return refuse(
            c,
            "nodes",
            "the row's node comes from `for_each: node`: expected no `nodes`",
        );
    }
    if var == 'q' {
        if t.atoms.is_some() || t.level.is_some() || t.group.is_some() {
            return refuse(
                c,
                "var",
                "`q` is indexed by group: expected `groups` (a glob on group names), not atom selectors",
            );
        }
        let pat = t.groups.as_deref().unwrap_or("*");
        let g = match glob::Pattern::new(pat) {
            Ok(g) => g,
            Err(e) => return refuse(c, "groups", &format!("bad pattern '{pat}': {e}")),
        };
        let picked: Vec<usize> = (0..groups.len())
            .filter(|&i| g.matches(&groups[i]))
            .collect();
        if picked.is_empty() {
            return refuse(
                c,
                "groups",
                &format!(
                    "'{pat}' selects no quantization group: expected one of [{}]",
                    groups.join(", ")
                ),
            );
        }
        return Some(Term {
            var,
            coef,
            atoms: Vec::new(),
            tasks: None,
            nodes: None,
            groups: picked,
        });
    }
    if t.groups.is_some() {
        return refuse(
            c,
            "groups",
            "`groups` selects quantization groups of `q`: expected `group` to select the atoms of one group",
        );
    }
    let atoms = select_atoms(
        p,
        t.atoms.as_deref(),
        t.level,
        t.group.as_deref(),
        dnn,
        groups,
        c,
    )?;
    let tasks = if has_tasks && !each.task {
        Some(select_tasks(p, t.tasks.as_deref(), task_names, c))
    } else {
        None
    };
    let nodes = if has_nodes && !each.node {
        match &t.nodes {
            None => Some((0..network.len()).collect()),
            Some(list) => {
                let mut v = Vec::new();
                for (k, name) in list.iter().enumerate() {
                    match network.nodes.iter().position(|n| &n.name == name) {
                        Some(n) => v.push(n),
                        None => {
                            c.err(format!("{p}.nodes[{k}]"), format!("unknown node '{name}'"));
                            return None;
                        }
                    }
                }
                Some(v)
            }
        }
    } else {
        None
    };
    Some(Term {
        var,
        coef,
        atoms,
        tasks,
        nodes,
        groups: Vec::new(),
    })
}

/// Adds the coefficients of repeated decisions, in first-seen order, and
/// drops zeros.
fn merge(terms: Vec<(Decision, f64)>) -> Vec<(Decision, f64)> {
    let mut at: std::collections::HashMap<Decision, usize> = std::collections::HashMap::new();
    let mut out: Vec<(Decision, f64)> = Vec::new();
    for (d, c) in terms {
        match at.get(&d) {
            Some(&i) => out[i].1 += c,
            None => {
                at.insert(d, out.len());
                out.push((d, c));
            }
        }
    }
    out.retain(|&(_, c)| c != 0.0);
    out
}
