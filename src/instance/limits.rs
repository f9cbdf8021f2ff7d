//! Size limits checked from the declared numbers, before anything is
//! expanded or allocated.
//!
//! A few bytes of YAML can declare a layer of ten million atoms, a dense
//! connection of 10¹² edges, or a noise fit over millions of monomials.
//! The loader and the noise fitter compute what a file asks for with
//! checked arithmetic first and refuse it, naming the limit, the declared
//! value and how to raise it, before they build anything. The defaults
//! leave every bundled instance far inside; see docs/instance-format.md
//! ("Size limits").

use super::raw::{RawDnn, RawLayer};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Upper bounds on what an instance may expand to. Every field has a
/// documented default ([`Limits::default`]); `--limits key=value,...` on
/// the command line (or the same keys in a server's configuration) raise
/// or lower them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Atoms of the DNN, the input and output atoms included.
    pub max_atoms: u64,
    /// Edges of the DNN as declared (every dense `inputs:` connection is
    /// |from layer| × |to layer| edges, and every `edges:` entry
    /// |from| × |to|), counted before duplicates are removed.
    pub max_edges: u64,
    /// Compute nodes (the effective links are one per ordered pair).
    pub max_nodes: u64,
    /// tasks × atoms × nodes: the placement variables of the MILP.
    pub max_instance_size: u64,
    /// Monomials of a noise fit: Σ_{d=1..degree} C(groups, d).
    pub max_noise_terms: u64,
    /// Bytes of the noise fit's least-squares matrix:
    /// (samples + terms + 1) × (terms + 1) × 8.
    pub max_fit_bytes: u64,
    /// Work of the `min_time` route search: pairs × links, for the node
    /// pairs whose lowest-latency path is not the fastest per byte (each
    /// needs its own searches over every link), counted before those
    /// searches run.
    pub max_routing_work: u64,
    /// Whose limits these are: a refusal names the server's options
    /// (`edgesplit serve --limits`, `--max-instance-size`) instead of the
    /// command line's.
    #[serde(skip)]
    pub for_server: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_atoms: 200_000,
            max_edges: 5_000_000,
            max_nodes: 1_000,
            max_instance_size: 50_000_000,
            max_noise_terms: 20_000,
            max_fit_bytes: 1 << 30,
            max_routing_work: 25_000_000,
            for_server: false,
        }
    }
}

/// The keys of `--limits`, in the order of the fields.
pub const LIMIT_KEYS: [&str; 7] = [
    "max_atoms",
    "max_edges",
    "max_nodes",
    "max_instance_size",
    "max_noise_terms",
    "max_fit_bytes",
    "max_routing_work",
];

impl Limits {
    fn slot(&mut self, key: &str) -> Option<&mut u64> {
        Some(match key {
            "max_atoms" => &mut self.max_atoms,
            "max_edges" => &mut self.max_edges,
            "max_nodes" => &mut self.max_nodes,
            "max_instance_size" => &mut self.max_instance_size,
            "max_noise_terms" => &mut self.max_noise_terms,
            "max_fit_bytes" => &mut self.max_fit_bytes,
            "max_routing_work" => &mut self.max_routing_work,
            _ => return None,
        })
    }

    /// The value of limit `key` (one of [`LIMIT_KEYS`]).
    pub fn get(&self, key: &str) -> Option<u64> {
        let mut l = *self;
        l.slot(key).map(|v| *v)
    }

    /// The message of a refused instance: `what` is `declared`, more than
    /// the limit `key`, and how to raise it.
    pub fn refusal(&self, key: &str, what: &str, declared: u128) -> String {
        let limit = self.get(key).unwrap_or_default();
        let how = match (self.for_server, key) {
            (true, "max_instance_size") => "the server's `--max-instance-size N`".to_string(),
            (true, _) => format!("the server's `edgesplit serve --limits {key}=N`"),
            (false, _) => format!("`--limits {key}=N`"),
        };
        format!(
            "{what} is {declared}, more than the limit {key} = {limit}: \
             refused before building anything; raise it with {how} \
             if the machine can take it"
        )
    }

    /// `Err(message)` when `declared` exceeds limit `key`.
    pub fn check(&self, key: &str, what: &str, declared: u128) -> Result<(), String> {
        let limit = self.get(key).unwrap_or_default();
        if declared > u128::from(limit) {
            Err(self.refusal(key, what, declared))
        } else {
            Ok(())
        }
    }

    /// Checks a noise fit of `degree` over `groups` groups and `samples`
    /// samples: the number of monomials, then the matrix bytes.
    pub fn check_noise_fit(
        &self,
        groups: usize,
        degree: usize,
        samples: usize,
    ) -> Result<(), String> {
        let terms = noise_terms(groups, degree);
        self.check(
            "max_noise_terms",
            &format!("the number of noise terms of degree ≤ {degree} over {groups} groups"),
            terms,
        )?;
        let p = terms + 1;
        let bytes = (samples as u128 + p) * p * 8;
        self.check(
            "max_fit_bytes",
            &format!("the noise fit's matrix ({samples} samples, {terms} terms) in bytes"),
            bytes,
        )
    }
}

/// Σ_{d=1..degree} C(groups, d), saturating at `u128::MAX` (never
/// overflowing or allocating).
pub fn noise_terms(groups: usize, degree: usize) -> u128 {
    let g = groups as u128;
    let mut total: u128 = 0;
    let mut c: u128 = 1; // C(g, 0)
    for d in 1..=degree.min(groups) as u128 {
        // C(g, d) = C(g, d-1) · (g - d + 1) / d, exact at every step.
        c = match c.checked_mul(g - d + 1) {
            Some(x) => x / d,
            None => return u128::MAX,
        };
        total = total.saturating_add(c);
    }
    total
}

impl std::str::FromStr for Limits {
    type Err = String;

    /// `max_atoms=500000,max_edges=1e7`: keys of [`LIMIT_KEYS`], whole
    /// numbers (`_` separators and `1e7`-style powers of ten allowed);
    /// unnamed limits keep their defaults.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut l = Limits::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let Some((k, v)) = item.split_once('=') else {
                return Err(format!(
                    "'{item}': expected key=value, with a key among {}",
                    LIMIT_KEYS.join(", ")
                ));
            };
            let k = k.trim();
            let value = parse_count(v.trim()).ok_or_else(|| {
                format!("{k}={v}: expected a whole number ≥ 0, e.g. 1000000 or 1e6")
            })?;
            let slot = l.slot(k).ok_or_else(|| {
                format!(
                    "unknown limit '{k}': expected one of {}",
                    LIMIT_KEYS.join(", ")
                )
            })?;
            *slot = value;
        }
        Ok(l)
    }
}

/// A whole number written `1000000`, `1_000_000` or `1e6`.
fn parse_count(s: &str) -> Option<u64> {
    let s = s.replace('_', "");
    if let Ok(v) = s.parse::<u64>() {
        return Some(v);
    }
    let (m, e) = s.split_once(['e', 'E'])?;
    let m: u64 = m.parse().ok()?;
    let e: u32 = e.parse().ok()?;
    m.checked_mul(10u64.checked_pow(e)?)
}

/// The sizes a DNN declares, computed from the counts alone.
struct Declared<'a> {
    /// Atoms per layer name (input, layers, output).
    sizes: HashMap<&'a str, u128>,
}

impl<'a> Declared<'a> {
    fn size(&self, name: &str) -> u128 {
        // An atom id that is no layer name stands for one atom; an unknown
        // name is reported later and counts as one here.
        self.sizes.get(name).copied().unwrap_or(1)
    }
}

fn layer_atoms(l: &RawLayer) -> u128 {
    match &l.atoms {
        Some(list) => list.len() as u128,
        None => u128::from(l.count.unwrap_or(1)),
    }
}

/// Checks the atoms, edges, nodes and tasks × atoms × nodes that a DNN and
/// a network declare against `limits`, from the numbers alone (nothing is
/// expanded): `Err((field path, message))` names the first field that goes
/// over a limit. `prefix` is `dnn.` for an inline DNN, empty for a DNN file.
pub(crate) fn check_declared(
    raw: &RawDnn,
    prefix: &str,
    tasks: usize,
    nodes: usize,
    limits: &Limits,
) -> Result<(), (String, String)> {
    limits
        .check("max_nodes", "the number of nodes", nodes as u128)
        .map_err(|m| ("network.nodes".to_string(), m))?;
    let mut sizes = HashMap::new();
    sizes.insert(raw.input.name.as_str(), 1);
    let mut atoms: u128 = 2;
    for (i, l) in raw.layers.iter().enumerate() {
        let n = layer_atoms(l);
        atoms = atoms.saturating_add(n);
        let field = if l.atoms.is_some() { "atoms" } else { "count" };
        limits
            .check("max_atoms", "the number of atoms the DNN declares", atoms)
            .map_err(|m| (format!("{prefix}layers[{i}].{field}"), m))?;
        sizes.insert(l.name.as_str(), n);
    }
    sizes.insert(raw.output.name.as_str(), 1);
    let size = (tasks as u128)
        .saturating_mul(atoms)
        .saturating_mul(nodes as u128);
    limits
        .check(
            "max_instance_size",
            &format!("tasks × atoms × nodes ({tasks} × {atoms} × {nodes})"),
            size,
        )
        .map_err(|m| ("tasks".to_string(), m))?;
    check_edges(raw, prefix, &Declared { sizes }, limits)
}

fn check_edges(
    raw: &RawDnn,
    prefix: &str,
    d: &Declared,
    limits: &Limits,
) -> Result<(), (String, String)> {
    let what = "the number of edges the DNN declares (dense layer inputs and `edges`)";
    let mut edges: u128 = 0;
    let mut prev = raw.input.name.as_str();
    let dense = |inputs: &Option<Vec<String>>, prev: &str, to: u128| -> u128 {
        match inputs {
            Some(list) => list
                .iter()
                .map(|n| d.size(n).saturating_mul(to))
                .fold(0, u128::saturating_add),
            None => d.size(prev).saturating_mul(to),
        }
    };
    for (i, l) in raw.layers.iter().enumerate() {
        edges = edges.saturating_add(dense(&l.inputs, prev, layer_atoms(l)));
        limits
            .check("max_edges", what, edges)
            .map_err(|m| (format!("{prefix}layers[{i}].inputs"), m))?;
        prev = l.name.as_str();
    }
    edges = edges.saturating_add(dense(&raw.output.inputs, prev, 1));
    limits
        .check("max_edges", what, edges)
        .map_err(|m| (format!("{prefix}output.inputs"), m))?;
    for (i, (from, to)) in raw.edges.iter().enumerate() {
        edges = edges.saturating_add(d.size(from).saturating_mul(d.size(to)));
        limits
            .check("max_edges", what, edges)
            .map_err(|m| (format!("{prefix}edges[{i}]"), m))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_terms_are_binomial_sums() {
        assert_eq!(noise_terms(3, 2), 6);
        assert_eq!(noise_terms(3, 9), 7);
        assert_eq!(noise_terms(40, 5), 40 + 780 + 9880 + 91390 + 658008);
        assert_eq!(noise_terms(40, 40), (1u128 << 40) - 1);
        assert_eq!(noise_terms(200, 200), u128::MAX);
    }

    #[test]
    fn limits_parse_from_key_value_lists() {
        let l: Limits = "max_atoms=1e6, max_edges=2_000".parse().unwrap();
        assert_eq!(l.max_atoms, 1_000_000);
        assert_eq!(l.max_edges, 2000);
        assert_eq!(l.max_nodes, Limits::default().max_nodes);
        assert!("atoms=5"
            .parse::<Limits>()
            .unwrap_err()
            .contains("max_atoms"));
        assert!("max_atoms=-1".parse::<Limits>().is_err());
        assert!("max_atoms=1e40".parse::<Limits>().is_err());
    }
}
