//! The joint MILP of docs/formulation.md §2–6, built once from an [`Instance`] and
//! solved by any [`crate::solve::Backend`].
//!
//! [`Builder`] owns the model and the variables every family shares (y, z,
//! q, and lazily the traffic variables and linearized products); each
//! constraint family in [`families`] adds its own variables and rows
//! through the [`families::Family`] trait and can be switched off from the
//! instance's `constraints:` section.

pub mod families;
pub mod model;

use crate::dnn::AtomIx;
use crate::instance::{DelayModel, GroupIx, Instance, PayoffTable, Tec};
use crate::network::NodeIx;
use crate::plan::Plan;
use model::{Model, Sense, Var};
use std::collections::HashMap;

/// Linear expression terms.
pub type Terms = Vec<(Var, f64)>;

/// Latency columns, each with the index of its path among the pair's
/// routes.
pub type LatencyColumns = Vec<(Var, usize)>;

/// What to optimize: the instance's own objective, one total alone (for
/// payoff tables and ε-constraint fronts), or the relaxation factor of a
/// diagnosis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ObjectiveSpec {
    /// The instance's weights and normalization (payoff needs the table).
    Instance,
    /// Minimize T, E or C alone, unnormalized.
    Single(Total),
    /// Minimize `time·T + energy·E + cost·C` with these (non-negative)
    /// coefficients, unnormalized: the second stage of a lexicographic
    /// payoff row.
    Weighted(Tec),
    /// Minimize s, the uniform relaxation of one kind of limit.
    Relax(Relax),
}

/// One of the three totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Total {
    /// T, rate-weighted mean delay.
    Time,
    /// E, average power.
    Energy,
    /// C, cost per second.
    Cost,
}

impl Total {
    /// `time`, `energy` or `cost`, as in `--objectives`.
    pub fn name(self) -> &'static str {
        match self {
            Total::Time => "time",
            Total::Energy => "energy",
            Total::Cost => "cost",
        }
    }
}

/// A limit scaled by a free factor (1 + s) to measure how far an
/// infeasible instance is from feasibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Relax {
    /// Every max_delay(t) becomes max_delay(t)·(1 + s).
    Delay,
    /// Every memory(n) becomes memory(n)·(1 + s).
    Memory,
}

/// The model under construction and the shared variables.
pub struct Builder<'a> {
    /// The instance.
    pub inst: &'a Instance,
    /// The MILP.
    pub model: Model,
    /// `y[t][a]`.
    pub y: Vec<Vec<Var>>,
    /// `z[t][a][n]`.
    pub z: Vec<Vec<Vec<Var>>>,
    /// `q[g]`.
    pub q: Vec<Var>,
    /// `u(a,n)`, created by the memory family.
    pub u: HashMap<(AtomIx, NodeIx), Var>,
    /// `x(a,k,h,t)`, created by the traffic family.
    pub x: HashMap<(AtomIx, NodeIx, NodeIx, usize), Var>,
    /// `v(C,k,h,t)`, created by the traffic family.
    pub v: HashMap<(usize, NodeIx, NodeIx, usize), Var>,
    /// The latency column of class C's members on level l crossing k → h
    /// for t, keyed `(C, l, k, h, t)`: `v(C,k,h,t)` itself when C lies on
    /// one level, else `v(C@l,k,h,t)` (layered model only).
    pub v_level: HashMap<(usize, usize, NodeIx, NodeIx, usize), Var>,
    /// `r(C,h,t)`, created by the traffic family.
    pub r: HashMap<(usize, NodeIx, usize), Var>,
    /// The latency columns of class C crossing k → h for t, keyed
    /// `(C, k, h, t)`: one per path its members' tensors may take, with the
    /// path's index among [`crate::network::Network::routes`] (`v` itself
    /// when they all take one path). Read by the sequential delay and the
    /// waiting energy.
    pub lat_class: HashMap<(usize, NodeIx, NodeIx, usize), LatencyColumns>,
    /// The same for class C's members on level l, keyed `(C, l, k, h, t)`
    /// (`v_level` itself when they all take one path). Read by the
    /// layered delay.
    pub lat_level: HashMap<(usize, usize, NodeIx, NodeIx, usize), LatencyColumns>,
    /// The relaxation factor s of a diagnosis solve.
    pub relax: Option<(Relax, Var)>,
    /// Δ(t), created on first use.
    delay: Vec<Option<Var>>,
    zq: HashMap<(AtomIx, NodeIx, usize), Var>,
    xq: HashMap<(AtomIx, NodeIx, NodeIx, usize), Var>,
    /// The xq columns that also have their lower row xq ≥ x + q − 1.
    xq_exact: std::collections::HashSet<(AtomIx, NodeIx, NodeIx, usize)>,
    eta: Option<Terms>,
    /// The totals the objective is made of, with their terms.
    objective_totals: Vec<(Total, Terms)>,
}

impl<'a> Builder<'a> {
    /// Creates y, z and q with the bounds that fix the input and output
    /// atoms (placement is structural, so z always exists).
    pub fn new(inst: &'a Instance) -> Builder<'a> {
        let mut model = Model::default();
        let dnn = &inst.dnn;
        let net = &inst.network;
        let mut y = Vec::new();
        let mut z = Vec::new();
        for (t, task) in inst.tasks.iter().enumerate() {
            let mut yt = Vec::with_capacity(dnn.len());
            let mut zt = Vec::with_capacity(dnn.len());
            for (a, atom) in dnn.atoms.iter().enumerate() {
                let yv = model.binary(format!("y({},{})", atom.id, task.name));
                let fixed_node = if a == inst.input_of(t) {
                    Some(task.source)
                } else if a == inst.output_of(t) {
                    Some(task.sink)
                } else {
                    None
                };
                if !inst.own_atom(t, a) {
                    // Another DNN's atom: never used by this task.
                    model.columns[yv.0].ub = 0.0;
                } else if fixed_node.is_some() || atom.mandatory {
                    model.columns[yv.0].lb = 1.0;
                }
                let zs = (0..net.len())
                    .map(|n| {
                        let zv = model.binary(format!(
                            "z({},{},{})",
                            atom.id, net.nodes[n].name, task.name
                        ));
                        match fixed_node {
                            Some(f) if f == n => model.columns[zv.0].lb = 1.0,
                            Some(_) => model.columns[zv.0].ub = 0.0,
                            None if !inst.own_atom(t, a) => model.columns[zv.0].ub = 0.0,
                            None => {}
                        }
                        zv
                    })
                    .collect();
                yt.push(yv);
                zt.push(zs);
            }
            y.push(yt);
            z.push(zt);
        }
        let q = inst
            .quantization
            .groups
            .iter()
            .map(|g| model.binary(format!("q({g})")))
            .collect();
        Builder {
            inst,
            model,
            y,
            z,
            q,
            u: HashMap::new(),
            x: HashMap::new(),
            v: HashMap::new(),
            v_level: HashMap::new(),
            r: HashMap::new(),
            lat_class: HashMap::new(),
            lat_level: HashMap::new(),
            relax: None,
            delay: vec![None; inst.tasks.len()],
            zq: HashMap::new(),
            xq: HashMap::new(),
            xq_exact: Default::default(),
            eta: None,
            objective_totals: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, name: String, terms: Terms, sense: Sense, rhs: f64) {
        self.model.add_row(name, terms, sense, rhs);
    }

    fn group_of(&self, a: AtomIx) -> Option<GroupIx> {
        self.inst.dnn.atoms[a].group
    }

    /// The name of the column xq(a,k,h,t): x(a,k,h,t) times its group's q.
    fn xq_name(&self, a: AtomIx, k: NodeIx, h: NodeIx, t: usize) -> String {
        let net = &self.inst.network;
        format!(
            "xq({},{},{},{})",
            self.inst.dnn.atoms[a].id,
            net.nodes[k].name,
            net.nodes[h].name,
            self.inst.tasks[t].name
        )
    }

    /// A column `name` for the product b·q_g with only its upper bounds,
    /// `p ≤ b` and `p ≤ q_g`: enough for a product that only ever lowers a
    /// ≤ row or the minimized objective (a "discount").
    pub fn upper_product(&mut self, name: String, b: Var, b_label: &str, g: GroupIx) -> Var {
        let p = self.model.continuous(name.clone(), 0.0, 1.0);
        let q = self.q[g];
        self.row(
            format!("{name}<={b_label}"),
            vec![(p, 1.0), (b, -1.0)],
            Sense::Le,
            0.0,
        );
        self.row(
            format!("{name}<=q"),
            vec![(p, 1.0), (q, -1.0)],
            Sense::Le,
            0.0,
        );
        p
    }

    /// `ct(a,n,t)` = ct(a,n)·z + (ctq(a,n) − ct(a,n))·zq, with ct and ctq
    /// the fp32 and quantized times of [`Instance::compute_s`] (profiled,
    /// or flops/speed and flops/speed/quant_speedup). When quantizing
    /// saves time the product zq = z·q only ever lowers a ≤ row or the
    /// minimized objective, so its upper bounds zq ≤ z, zq ≤ q suffice;
    /// when a profile makes the quantized atom slower, zq also gets its
    /// lower row zq ≥ z + q − 1.
    pub fn compute_time(&mut self, a: AtomIx, n: NodeIx, t: usize) -> Terms {
        let inst = self.inst;
        let base = inst.compute_s(a, n, false);
        let z = self.z[t][a][n];
        let mut terms = Vec::new();
        if base != 0.0 {
            terms.push((z, base));
        }
        let Some(g) = self.group_of(a) else {
            return terms;
        };
        let delta = inst.compute_s(a, n, true) - base;
        if delta == 0.0 {
            return terms;
        }
        let zq = match self.zq.get(&(a, n, t)) {
            Some(&v) => v,
            None => {
                let name = format!(
                    "zq({},{},{})",
                    inst.dnn.atoms[a].id, inst.network.nodes[n].name, inst.tasks[t].name
                );
                let v = self.upper_product(name.clone(), z, "z", g);
                if delta > 0.0 {
                    let q = self.q[g];
                    self.row(
                        format!("{name}>=z+q-1"),
                        vec![(v, 1.0), (z, -1.0), (q, -1.0)],
                        Sense::Ge,
                        -1.0,
                    );
                }
                self.zq.insert((a, n, t), v);
                v
            }
        };
        terms.push((zq, delta));
        terms
    }

    /// Bytes of a's output sent k → h for t:
    /// out_bytes·(x − (1 − activation_factor)·xq), xq with upper bounds only.
    /// Empty when traffic is off or a sends nothing.
    pub fn sent_bytes(&mut self, a: AtomIx, k: NodeIx, h: NodeIx, t: usize) -> Terms {
        let Some(&x) = self.x.get(&(a, k, h, t)) else {
            return Vec::new();
        };
        let bytes = self.inst.dnn.atoms[a].out_bytes;
        let mut terms = vec![(x, bytes)];
        let discount = 1.0 - self.inst.quantization.activation_factor;
        if let (Some(g), true) = (self.group_of(a), discount > 0.0) {
            let xq = match self.xq.get(&(a, k, h, t)) {
                Some(&v) => v,
                None => {
                    let name = self.xq_name(a, k, h, t);
                    let v = self.upper_product(name, x, "x", g);
                    self.xq.insert((a, k, h, t), v);
                    v
                }
            };
            terms.push((xq, -bytes * discount));
        }
        terms
    }

    /// The paths a's output takes from k to h: unquantized, and quantized
    /// when that size takes another path (index among the pair's routes).
    pub fn atom_paths(&self, a: AtomIx, k: NodeIx, h: NodeIx) -> (usize, Option<usize>) {
        let net = &self.inst.network;
        let bytes = self.inst.dnn.atoms[a].out_bytes;
        let Some((pu, _)) = net.route(k, h, bytes) else {
            return (0, None);
        };
        let af = self.inst.quantization.activation_factor;
        if self.group_of(a).is_none() || af >= 1.0 {
            return (pu, None);
        }
        match net.route(k, h, bytes * af) {
            Some((pq, _)) if pq != pu => (pu, Some(pq)),
            _ => (pu, None),
        }
    }

    /// xq(a,k,h,t) with its lower row `xq ≥ x + q − 1` as well, so that it
    /// equals x·q at every integer point: needed where the quantized tensor
    /// takes another path, since the terms of that path carry xq with a
    /// positive coefficient.
    fn exact_xq(&mut self, a: AtomIx, k: NodeIx, h: NodeIx, t: usize) -> Var {
        let x = self.x[&(a, k, h, t)];
        self.sent_bytes(a, k, h, t);
        let xq = self.xq[&(a, k, h, t)];
        if self.xq_exact.insert((a, k, h, t)) {
            let g = self.group_of(a).expect("a quantizable atom");
            let name = format!("{}>=x+q-1", self.xq_name(a, k, h, t));
            let q = self.q[g];
            self.row(name, vec![(xq, 1.0), (x, -1.0), (q, -1.0)], Sense::Ge, -1.0);
        }
        xq
    }

    /// [`Builder::sent_bytes`] split by the path the bytes take: (path
    /// index among the pair's routes, terms). One entry unless the
    /// quantized tensor takes another path than the full one.
    /// Empty when there is no x or h cannot be reached from k.
    pub fn path_bytes(&mut self, a: AtomIx, k: NodeIx, h: NodeIx, t: usize) -> Vec<(usize, Terms)> {
        let Some(&x) = self.x.get(&(a, k, h, t)) else {
            return Vec::new();
        };
        if self.inst.network.routes(k, h).is_empty() {
            return Vec::new();
        }
        match self.atom_paths(a, k, h) {
            (pu, None) => vec![(pu, self.sent_bytes(a, k, h, t))],
            (pu, Some(pq)) => {
                let bytes = self.inst.dnn.atoms[a].out_bytes;
                let af = self.inst.quantization.activation_factor;
                let xq = self.exact_xq(a, k, h, t);
                vec![
                    (pu, vec![(x, bytes), (xq, -bytes)]),
                    (pq, vec![(xq, af * bytes)]),
                ]
            }
        }
    }

    /// "a's output crosses k → h on path p" as terms, per path: x, or
    /// x − xq and xq when the quantized tensor takes another path.
    pub fn path_indicator(
        &mut self,
        a: AtomIx,
        k: NodeIx,
        h: NodeIx,
        t: usize,
    ) -> Vec<(usize, Terms)> {
        let Some(&x) = self.x.get(&(a, k, h, t)) else {
            return Vec::new();
        };
        if self.inst.network.routes(k, h).is_empty() {
            return Vec::new();
        }
        match self.atom_paths(a, k, h) {
            (pu, None) => vec![(pu, vec![(x, 1.0)])],
            (pu, Some(pq)) => {
                let xq = self.exact_xq(a, k, h, t);
                vec![(pu, vec![(x, 1.0), (xq, -1.0)]), (pq, vec![(xq, 1.0)])]
            }
        }
    }

    /// Node pairs (k ≠ h) that carry traffic variables.
    fn pairs(&self) -> Vec<(NodeIx, NodeIx)> {
        let n = self.inst.network.len();
        (0..n)
            .flat_map(|k| (0..n).filter(move |&h| h != k).map(move |h| (k, h)))
            .collect()
    }

    /// Δ(t) as a variable defined by equality rows (sequential) or by the
    /// per-level τ/χ rows (layered).
    pub fn delay_var(&mut self, t: usize) -> Var {
        if let Some(v) = self.delay[t] {
            return v;
        }
        let inst = self.inst;
        let tn = inst.tasks[t].name.clone();
        let d = self
            .model
            .continuous(format!("delay({tn})"), 0.0, f64::INFINITY);
        let mut def = vec![(d, -1.0)];
        match inst.delay_model {
            DelayModel::Sequential => {
                for a in 0..inst.dnn.len() {
                    for n in 0..inst.network.len() {
                        def.extend(self.compute_time(a, n, t));
                    }
                }
                for (k, h) in self.pairs() {
                    let routes = inst.network.routes(k, h);
                    if routes.is_empty() {
                        continue;
                    }
                    for a in 0..inst.dnn.len() {
                        for (p, terms) in self.path_bytes(a, k, h, t) {
                            let tb = routes[p].time_per_byte;
                            def.extend(terms.into_iter().map(|(v, c)| (v, c * tb)));
                        }
                    }
                    for c in 0..inst.dnn.classes.len() {
                        for &(v, p) in self.lat_class.get(&(c, k, h, t)).into_iter().flatten() {
                            def.push((v, routes[p].latency));
                        }
                    }
                }
            }
            DelayModel::Layered => {
                for (l, atoms) in inst.dnn.levels.clone().iter().enumerate() {
                    let tau = self
                        .model
                        .continuous(format!("tau({l},{tn})"), 0.0, f64::INFINITY);
                    def.push((tau, 1.0));
                    for n in 0..inst.network.len() {
                        let mut row = vec![(tau, -1.0)];
                        for &a in atoms {
                            row.extend(self.compute_time(a, n, t));
                        }
                        if row.len() > 1 {
                            let name = format!("tau({l},{},{tn})", inst.network.nodes[n].name);
                            self.row(name, row, Sense::Le, 0.0);
                        }
                    }
                    let classes: Vec<usize> = {
                        let mut cs: Vec<usize> =
                            atoms.iter().filter_map(|&a| inst.dnn.class_of[a]).collect();
                        cs.sort_unstable();
                        cs.dedup();
                        cs
                    };
                    if classes.is_empty() {
                        continue;
                    }
                    let chi = self
                        .model
                        .continuous(format!("chi({l},{tn})"), 0.0, f64::INFINITY);
                    def.push((chi, 1.0));
                    for (k, h) in self.pairs() {
                        let routes = inst.network.routes(k, h);
                        if routes.is_empty() {
                            continue;
                        }
                        // Per path: the time of level l's bytes on it.
                        let mut bytes_time: Vec<Terms> = vec![Vec::new(); routes.len()];
                        for &a in atoms {
                            for (p, terms) in self.path_bytes(a, k, h, t) {
                                let tb = routes[p].time_per_byte;
                                bytes_time[p].extend(terms.into_iter().map(|(v, c)| (v, c * tb)));
                            }
                        }
                        for &c in &classes {
                            let Some(cols) = self.lat_level.get(&(c, l, k, h, t)).cloned() else {
                                continue;
                            };
                            for (v, p) in cols {
                                let mut row = bytes_time[p].clone();
                                row.push((v, routes[p].latency));
                                row.push((chi, -1.0));
                                let (kn, hn) =
                                    (&inst.network.nodes[k].name, &inst.network.nodes[h].name);
                                let name = if routes.len() == 1 {
                                    format!("chi({l},{c},{kn},{hn},{tn})")
                                } else {
                                    format!("chi({l},{c},{kn},{hn},#{p},{tn})")
                                };
                                self.row(name, row, Sense::Le, 0.0);
                            }
                        }
                    }
                }
            }
        }
        self.row(format!("delay_def({tn})"), def, Sense::Eq, 0.0);
        self.delay[t] = Some(d);
        d
    }

    /// E(t) (`energy` = true) or c(t): compute and transfer terms, per
    /// inference; `only_from` restricts to work on / sent from one node.
    pub fn energy_or_cost(&mut self, t: usize, energy: bool, only_from: Option<NodeIx>) -> Terms {
        let inst = self.inst;
        let mut terms = Vec::new();
        for n in 0..inst.network.len() {
            if only_from.is_some_and(|f| f != n) {
                continue;
            }
            let node = &inst.network.nodes[n];
            let per_s = if energy { node.power } else { node.price };
            if per_s == 0.0 {
                continue;
            }
            for a in 0..inst.dnn.len() {
                for (v, c) in self.compute_time(a, n, t) {
                    terms.push((v, c * per_s));
                }
            }
        }
        for (k, h) in self.pairs() {
            if only_from.is_some_and(|f| f != k) {
                continue;
            }
            let routes = inst.network.routes(k, h);
            let per_byte = |p: usize| {
                if energy {
                    routes[p].energy_per_byte
                } else {
                    routes[p].price_per_byte
                }
            };
            if routes.is_empty() || (0..routes.len()).all(|p| per_byte(p) == 0.0) {
                continue;
            }
            for a in 0..inst.dnn.len() {
                for (p, part) in self.path_bytes(a, k, h, t) {
                    let c = per_byte(p);
                    if c != 0.0 {
                        terms.extend(part.into_iter().map(|(v, b)| (v, b * c)));
                    }
                }
            }
        }
        if energy && inst.network.latency_energy {
            terms.extend(self.waiting_energy(t, only_from));
        }
        terms
    }

    /// The sender's power during each latency a transfer waits on
    /// (`network.latency_energy`): `power(k)·lat(p)` per latency column of
    /// a class crossing k → h on path p, the crossings the sequential delay
    /// charges a latency for.
    fn waiting_energy(&mut self, t: usize, only_from: Option<NodeIx>) -> Terms {
        let inst = self.inst;
        let mut terms = Vec::new();
        for (k, h) in self.pairs() {
            let power = inst.network.nodes[k].power;
            if only_from.is_some_and(|f| f != k) || power == 0.0 {
                continue;
            }
            let routes = inst.network.routes(k, h);
            for c in 0..inst.dnn.classes.len() {
                for &(v, p) in self.lat_class.get(&(c, k, h, t)).into_iter().flatten() {
                    let j = power * routes[p].latency;
                    if j != 0.0 {
                        terms.push((v, j));
                    }
                }
            }
        }
        terms
    }

    /// η(q) as terms, linearizing each monomial only on the side its sign
    /// needs (η is only ever bounded above or subtracted from quality):
    /// β > 0 needs w ≥ Σq − (|S|−1), β < 0 needs w ≤ q_g. The intercept
    /// counts through any_q (η(0) = 0).
    pub fn noise_terms(&mut self) -> Terms {
        if let Some(e) = &self.eta {
            return e.clone();
        }
        let noise = self.inst.quantization.noise.clone();
        let groups = self.inst.quantization.groups.clone();
        let mut terms = Vec::new();
        if !groups.is_empty() && noise.intercept != 0.0 {
            let any = self.model.continuous("any_q".into(), 0.0, 1.0);
            if noise.intercept > 0.0 {
                for (g, name) in groups.iter().enumerate() {
                    let q = self.q[g];
                    self.row(
                        format!("any_q>=q({name})"),
                        vec![(any, 1.0), (q, -1.0)],
                        Sense::Ge,
                        0.0,
                    );
                }
            } else {
                let mut row = vec![(any, 1.0)];
                row.extend(self.q.iter().map(|&q| (q, -1.0)));
                self.row("any_q<=sum_q".into(), row, Sense::Le, 0.0);
            }
            terms.push((any, noise.intercept));
        }
        for (s, beta) in &noise.terms {
            if *beta == 0.0 {
                continue;
            }
            if s.len() == 1 {
                terms.push((self.q[s[0]], *beta));
                continue;
            }
            let label = s
                .iter()
                .map(|&g| groups[g].as_str())
                .collect::<Vec<_>>()
                .join("*");
            let w = self.model.continuous(format!("w({label})"), 0.0, 1.0);
            if *beta > 0.0 {
                let mut row = vec![(w, 1.0)];
                row.extend(s.iter().map(|&g| (self.q[g], -1.0)));
                self.row(
                    format!("w({label})>=prod"),
                    row,
                    Sense::Ge,
                    1.0 - s.len() as f64,
                );
            } else {
                for &g in s {
                    let q = self.q[g];
                    self.row(
                        format!("w({label})<=q({})", groups[g]),
                        vec![(w, 1.0), (q, -1.0)],
                        Sense::Le,
                        0.0,
                    );
                }
            }
            terms.push((w, *beta));
        }
        self.eta = Some(terms.clone());
        terms
    }

    /// Terms of one total (T, E or C) over all tasks.
    pub fn total(&mut self, which: Total) -> Terms {
        let inst = self.inst;
        let rate_sum = inst.total_rate();
        let mut terms = Vec::new();
        for (t, task) in inst.tasks.iter().enumerate() {
            match which {
                Total::Time => {
                    let d = self.delay_var(t);
                    terms.push((d, task.rate / rate_sum));
                }
                Total::Energy | Total::Cost => {
                    for (v, c) in self.energy_or_cost(t, which == Total::Energy, None) {
                        terms.push((v, c * task.rate));
                    }
                }
            }
        }
        terms
    }

    /// Sets the objective.
    pub fn set_objective(&mut self, spec: ObjectiveSpec, payoff: Option<&PayoffTable>) {
        match spec {
            ObjectiveSpec::Relax(_) => {
                let (_, s) = self.relax.expect("set by build_with");
                self.model.add_objective(&[(s, 1.0)], 1.0);
            }
            ObjectiveSpec::Single(which) => {
                let terms = self.total(which);
                self.model.add_objective(&terms, 1.0);
                self.objective_totals.push((which, terms));
            }
            ObjectiveSpec::Weighted(c) => {
                for (which, wt) in [
                    (Total::Time, c.time),
                    (Total::Energy, c.energy),
                    (Total::Cost, c.cost),
                ] {
                    if wt > 0.0 {
                        let terms = self.total(which);
                        self.model.add_objective(&terms, wt);
                        self.objective_totals.push((which, terms));
                    }
                }
            }
            ObjectiveSpec::Instance => {
                let obj = self.inst.objective.clone();
                let (mult, offset) = obj
                    .affine(payoff)
                    .expect("payoff normalization needs the payoff table");
                let w = obj.weights;
                for (which, wt, m, off) in [
                    (Total::Time, w.time, mult.time, offset.time),
                    (Total::Energy, w.energy, mult.energy, offset.energy),
                    (Total::Cost, w.cost, mult.cost, offset.cost),
                ] {
                    if wt * m == 0.0 {
                        continue;
                    }
                    let terms = self.total(which);
                    self.model.add_objective(&terms, wt * m);
                    self.model.obj_constant -= wt * m * off;
                    self.objective_totals.push((which, terms));
                }
            }
        }
    }
}

/// A built model with the variables needed to read a plan back.
pub struct Built {
    /// The MILP.
    pub model: Model,
    y: Vec<Vec<Var>>,
    z: Vec<Vec<Vec<Var>>>,
    q: Vec<Var>,
    /// Families that added rows, with their row counts.
    pub family_rows: Vec<(&'static str, usize)>,
    /// The totals (T, E, C) the objective is made of, as terms, so that the
    /// MILP's value of each can be checked against the evaluator's.
    pub objective_totals: Vec<(Total, Terms)>,
}

/// Builds the MILP of `inst` for `spec`.
pub fn build(inst: &Instance, spec: ObjectiveSpec, payoff: Option<&PayoffTable>) -> Built {
    build_with(inst, spec, payoff, &[])
}

/// Builds the MILP with extra rows `extra` of the form total ≤ bound (used
/// by ε-constraint methods).
pub fn build_with(
    inst: &Instance,
    spec: ObjectiveSpec,
    payoff: Option<&PayoffTable>,
    extra: &[(Total, f64)],
) -> Built {
    let mut b = Builder::new(inst);
    if let ObjectiveSpec::Relax(kind) = spec {
        let s = b.model.continuous("relax".into(), 0.0, f64::INFINITY);
        b.relax = Some((kind, s));
    }
    let mut family_rows = Vec::new();
    for fam in families::all() {
        if fam.enabled(inst) {
            let before = b.model.rows.len();
            fam.add(&mut b);
            family_rows.push((fam.name(), b.model.rows.len() - before));
        }
    }
    b.set_objective(spec, payoff);
    for &(which, bound) in extra {
        let terms = b.total(which);
        b.row(format!("eps({which:?})"), terms, Sense::Le, bound);
    }
    Built {
        model: b.model,
        y: b.y,
        z: b.z,
        q: b.q,
        family_rows,
        objective_totals: b.objective_totals,
    }
}

impl Built {
    /// The column of each q_g, to fix or read a quantization choice.
    pub fn q_columns(&self) -> &[Var] {
        &self.q
    }

    /// Column values of a plan's decisions (y, z, q), to start a backend.
    pub fn start_values(&self, plan: &Plan) -> Vec<(usize, f64)> {
        let mut out = Vec::new();
        for (t, zt) in self.z.iter().enumerate() {
            for (a, zs) in zt.iter().enumerate() {
                let node = plan.placement[t][a];
                out.push((self.y[t][a].0, node.is_some() as u8 as f64));
                for (n, v) in zs.iter().enumerate() {
                    out.push((v.0, (node == Some(n)) as u8 as f64));
                }
            }
        }
        for (g, v) in self.q.iter().enumerate() {
            out.push((v.0, plan.quantized[g] as u8 as f64));
        }
        out
    }

    /// A copy of the model with the decisions of `plan` fixed: for every
    /// task with `fix_task(t)` its y and z; for the other tasks, with
    /// `fix_selection`, their y alone (so only where their atoms run stays
    /// free); and with `fix_quantization`, every q. A neighbourhood for a
    /// search that re-solves part of a plan.
    pub fn fixed_to(
        &self,
        plan: &Plan,
        fix_task: impl Fn(usize) -> bool,
        fix_selection: bool,
        fix_quantization: bool,
    ) -> Model {
        let mut m = self.model.clone();
        let mut fix = |v: Var, on: bool| {
            let x = on as u8 as f64;
            m.columns[v.0].lb = x;
            m.columns[v.0].ub = x;
        };
        for (t, zt) in self.z.iter().enumerate() {
            let whole = fix_task(t);
            if !whole && !fix_selection {
                continue;
            }
            for (a, zs) in zt.iter().enumerate() {
                let node = plan.placement[t][a];
                fix(self.y[t][a], node.is_some());
                if whole {
                    for (n, &v) in zs.iter().enumerate() {
                        fix(v, node == Some(n));
                    }
                }
            }
        }
        if fix_quantization {
            for (g, &v) in self.q.iter().enumerate() {
                fix(v, plan.quantized[g]);
            }
        }
        m
    }

    /// The plan encoded by column values (binaries rounded).
    pub fn plan(&self, values: &[f64]) -> Plan {
        let placement = self
            .z
            .iter()
            .map(|zt| {
                zt.iter()
                    .map(|zs| zs.iter().position(|v| values[v.0] > 0.5))
                    .collect()
            })
            .collect();
        Plan {
            placement,
            quantized: self.q.iter().map(|v| values[v.0] > 0.5).collect(),
        }
    }
}

/// Value of `terms` at the column values `values`.
pub fn terms_value(terms: &[(Var, f64)], values: &[f64]) -> f64 {
    terms.iter().map(|&(v, c)| c * values[v.0]).sum()
}

/// Totals of an evaluation as a [`Tec`], for payoff tables.
pub fn total_of(t: Tec, which: Total) -> f64 {
    match which {
        Total::Time => t.time,
        Total::Energy => t.energy,
        Total::Cost => t.cost,
    }
}
