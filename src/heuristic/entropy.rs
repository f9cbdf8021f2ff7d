//! The entropy rate H(Y) of the task–atom graph (docs/heuristics.md), after the
//! entropy-rate clustering of Liu et al. (TPAMI 2013).
//!
//! The graph is undirected and bipartite on the vertices `A ∪ T`; the pair
//! `(a,t)` is an edge of weight `w(a,t) = σ(a,t) + ε`. Every vertex keeps the
//! total `w_i` of its edges in the *full* assignment; an edge that leaves Y
//! hands its weight to a self-loop on each of its two ends. The random walk
//! with `p_ij = w_ij / w_i` therefore always has the stationary distribution
//! `μ_i = w_i / Σ_j w_j`, and
//!
//! ```text
//! H(Y) = Σ_i μ_i h_i,   h_i = −Σ_j p_ij log p_ij   (self-loop included)
//! ```
//!
//! is monotone and submodular in Y. Removing `(a,t)` changes only `h_a` and
//! `h_t`: the edge's term disappears and the self-loop term grows, an O(1)
//! update ([`EntropyRate::remove`]). [`EntropyRate::from_scratch`] is the
//! direct formula, kept for tests.

/// `x·ln x`, with `0·ln 0 = 0`.
fn xlogx(x: f64) -> f64 {
    if x > 0.0 {
        x * x.ln()
    } else {
        0.0
    }
}

/// H(Y) of a task–atom assignment, updated in O(1) per removed or added pair.
#[derive(Debug, Clone)]
pub struct EntropyRate {
    atoms: usize,
    /// `w(a,t)` at `t·atoms + a`.
    weight: Vec<f64>,
    /// Whether `(a,t)` is in Y.
    present: Vec<bool>,
    /// Vertex totals on the full assignment: atoms, then tasks.
    total: Vec<f64>,
    /// Current self-loop weight of each vertex.
    selfloop: Vec<f64>,
    /// `p·ln p` of the self-loop of each vertex (cached).
    loop_xlogx: Vec<f64>,
    /// `p·ln p` of each pair's edge seen from its atom, then from its task
    /// (fixed: the totals never change).
    edge_xlogx: [Vec<f64>; 2],
    /// `h_i` of each vertex.
    term: Vec<f64>,
    /// Σ_i w_i.
    grand: f64,
    /// Current H(Y).
    value: f64,
}

impl EntropyRate {
    /// The full assignment (every pair in Y) of `weights[t][a]` (already
    /// including ε; every weight must be positive).
    pub fn full(weights: &[Vec<f64>]) -> EntropyRate {
        let tasks = weights.len();
        let atoms = weights.first().map_or(0, Vec::len);
        let mut weight = Vec::with_capacity(tasks * atoms);
        let mut total = vec![0.0; atoms + tasks];
        for (t, row) in weights.iter().enumerate() {
            assert_eq!(row.len(), atoms, "one weight per atom and task");
            for (a, &w) in row.iter().enumerate() {
                assert!(
                    w > 0.0 && w.is_finite(),
                    "entropy-rate weights must be positive"
                );
                weight.push(w);
                total[a] += w;
                total[atoms + t] += w;
            }
        }
        let mut term = vec![0.0; atoms + tasks];
        for t in 0..tasks {
            for a in 0..atoms {
                let w = weight[t * atoms + a];
                term[a] -= xlogx(w / total[a]);
                term[atoms + t] -= xlogx(w / total[atoms + t]);
            }
        }
        let grand: f64 = total.iter().sum();
        let value = total.iter().zip(&term).map(|(w, h)| w / grand * h).sum();
        let edge = |side: usize| -> Vec<f64> {
            (0..weight.len())
                .map(|k| {
                    let i = if side == 0 {
                        k % atoms.max(1)
                    } else {
                        atoms + k / atoms.max(1)
                    };
                    xlogx(weight[k] / total[i])
                })
                .collect()
        };
        let edge_xlogx = [edge(0), edge(1)];
        EntropyRate {
            atoms,
            present: vec![true; weight.len()],
            loop_xlogx: vec![0.0; atoms + tasks],
            edge_xlogx,
            weight,
            selfloop: vec![0.0; atoms + tasks],
            total,
            term,
            grand,
            value,
        }
    }

    /// H(Y) now.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Whether `(a,t)` is in Y.
    pub fn contains(&self, a: usize, t: usize) -> bool {
        self.present[t * self.atoms + a]
    }

    /// Change of `h_i` (side 0: the atom of pair k, 1: its task) when the
    /// edge moves to (`to_loop`) or back from the self-loop; with μ_i and
    /// the new self-loop `p·ln p`.
    fn vertex_delta(&self, k: usize, side: usize, to_loop: bool) -> (f64, f64, f64, usize) {
        let i = if side == 0 {
            k % self.atoms
        } else {
            self.atoms + k / self.atoms
        };
        let wi = self.total[i];
        let p = self.weight[k] / wi;
        let s = self.selfloop[i] / wi;
        let e = self.edge_xlogx[side][k];
        let old_loop = self.loop_xlogx[i];
        // The edge term −p·ln p and the self-loop term change; nothing else.
        let (d, new_loop) = if to_loop {
            let nl = xlogx(s + p);
            (-nl + e + old_loop, nl)
        } else {
            let nl = xlogx((s - p).max(0.0));
            (-e - nl + old_loop, nl)
        };
        (d, wi / self.grand, new_loop, i)
    }

    /// H(Y) − H(Y ∖ {(a,t)}): how much H drops if the pair leaves Y (≥ 0;
    /// 0 if it is not in Y).
    pub fn removal_drop(&self, a: usize, t: usize) -> f64 {
        let k = t * self.atoms + a;
        if !self.present[k] {
            return 0.0;
        }
        let (da, ma, ..) = self.vertex_delta(k, 0, true);
        let (dt, mt, ..) = self.vertex_delta(k, 1, true);
        -(ma * da + mt * dt)
    }

    /// Takes `(a,t)` out of Y in O(1); returns the drop of H.
    pub fn remove(&mut self, a: usize, t: usize) -> f64 {
        let k = t * self.atoms + a;
        if !self.present[k] {
            return 0.0;
        }
        let w = self.weight[k];
        let mut drop = 0.0;
        for side in 0..2 {
            let (d, m, nl, i) = self.vertex_delta(k, side, true);
            self.term[i] += d;
            self.selfloop[i] += w;
            self.loop_xlogx[i] = nl;
            drop -= m * d;
        }
        self.present[k] = false;
        self.value -= drop;
        drop
    }

    /// Puts `(a,t)` back into Y in O(1); returns the rise of H.
    pub fn add(&mut self, a: usize, t: usize) -> f64 {
        let k = t * self.atoms + a;
        if self.present[k] {
            return 0.0;
        }
        let w = self.weight[k];
        let mut rise = 0.0;
        for side in 0..2 {
            let (d, m, nl, i) = self.vertex_delta(k, side, false);
            self.term[i] += d;
            self.selfloop[i] = (self.selfloop[i] - w).max(0.0);
            self.loop_xlogx[i] = nl;
            rise += m * d;
        }
        self.present[k] = true;
        self.value += rise;
        rise
    }

    /// H(Y) by the direct formula, for `present[t][a]` ⊆ the full
    /// assignment of `weights[t][a]` (O(|A|·|T|); tests only).
    pub fn from_scratch(weights: &[Vec<f64>], present: &[Vec<bool>]) -> f64 {
        let tasks = weights.len();
        let atoms = weights.first().map_or(0, Vec::len);
        let mut total = vec![0.0; atoms + tasks];
        for (t, row) in weights.iter().enumerate() {
            for (a, &w) in row.iter().enumerate() {
                total[a] += w;
                total[atoms + t] += w;
            }
        }
        let grand: f64 = total.iter().sum();
        let mut kept = vec![0.0; atoms + tasks];
        let mut h = vec![0.0; atoms + tasks];
        for t in 0..tasks {
            for a in 0..atoms {
                if present[t][a] {
                    let w = weights[t][a];
                    kept[a] += w;
                    kept[atoms + t] += w;
                    h[a] -= xlogx(w / total[a]);
                    h[atoms + t] -= xlogx(w / total[atoms + t]);
                }
            }
        }
        (0..atoms + tasks)
            .map(|i| {
                let self_p = ((total[i] - kept[i]) / total[i]).max(0.0);
                total[i] / grand * (h[i] - xlogx(self_p))
            })
            .sum()
    }
}
