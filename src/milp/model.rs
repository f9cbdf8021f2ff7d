//! A solver-neutral MILP: columns, rows and a linear objective, built once
//! and handed to any [`crate::solve::Backend`]; also written as LP or MPS.

use std::fmt::Write as _;

/// A column of a [`Model`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Var(pub usize);

/// Integrality of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarKind {
    /// Real-valued.
    Continuous,
    /// 0 or 1.
    Binary,
}

/// A column's definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Readable name, e.g. `z(conv1.0,edge,cats)`.
    pub name: String,
    /// Lower bound.
    pub lb: f64,
    /// Upper bound (may be infinite).
    pub ub: f64,
    /// Integrality.
    pub kind: VarKind,
    /// Objective coefficient.
    pub obj: f64,
}

/// Sense of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sense {
    /// Σ ≤ rhs.
    Le,
    /// Σ ≥ rhs.
    Ge,
    /// Σ = rhs.
    Eq,
}

/// A linear constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Readable name, e.g. `max_delay(cats)`.
    pub name: String,
    /// Non-zero coefficients (each column at most once).
    pub terms: Vec<(Var, f64)>,
    /// Sense.
    pub sense: Sense,
    /// Right-hand side.
    pub rhs: f64,
}

/// Sizes of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ModelSize {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub columns: usize,
    /// Non-zero coefficients in the rows.
    pub nonzeros: usize,
    /// Binary columns.
    pub binaries: usize,
}

/// A minimization MILP.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Columns.
    pub columns: Vec<Column>,
    /// Rows.
    pub rows: Vec<Row>,
    /// Constant added to the objective.
    pub obj_constant: f64,
    /// The size of a typical objective value (the evaluated objective of a
    /// reference plan, without the constant), when known: the backends
    /// scale the objective by it (see `solve::Scaling`).
    pub objective_hint: Option<f64>,
}

impl Model {
    /// Adds a column.
    pub fn add_var(&mut self, name: String, lb: f64, ub: f64, kind: VarKind) -> Var {
        self.columns.push(Column {
            name,
            lb,
            ub,
            kind,
            obj: 0.0,
        });
        Var(self.columns.len() - 1)
    }

    /// Adds a binary column.
    pub fn binary(&mut self, name: String) -> Var {
        self.add_var(name, 0.0, 1.0, VarKind::Binary)
    }

    /// Adds a continuous column in `[lb, ub]`.
    pub fn continuous(&mut self, name: String, lb: f64, ub: f64) -> Var {
        self.add_var(name, lb, ub, VarKind::Continuous)
    }

    /// Adds a row; repeated columns in `terms` are merged and zero
    /// coefficients dropped.
    pub fn add_row(&mut self, name: String, terms: Vec<(Var, f64)>, sense: Sense, rhs: f64) {
        let terms = merge(terms);
        self.rows.push(Row {
            name,
            terms,
            sense,
            rhs,
        });
    }

    /// Adds `coef` to the objective coefficient of each term.
    pub fn add_objective(&mut self, terms: &[(Var, f64)], scale: f64) {
        for &(v, c) in terms {
            self.columns[v.0].obj += c * scale;
        }
    }

    /// Sizes.
    pub fn size(&self) -> ModelSize {
        ModelSize {
            rows: self.rows.len(),
            columns: self.columns.len(),
            nonzeros: self.rows.iter().map(|r| r.terms.len()).sum(),
            binaries: self
                .columns
                .iter()
                .filter(|c| c.kind == VarKind::Binary)
                .count(),
        }
    }

    /// Objective value of a full assignment of the columns.
    pub fn objective_of(&self, values: &[f64]) -> f64 {
        self.obj_constant
            + self
                .columns
                .iter()
                .zip(values)
                .map(|(c, v)| c.obj * v)
                .sum::<f64>()
    }

    /// The model in CPLEX LP format. Names are made LP-safe; the objective
    /// constant is a column fixed at 1 so that every reader keeps it.
    pub fn to_lp(&self) -> String {
        let names = self.safe_names();
        let mut s = String::new();
        s.push_str("\\ edgesplit joint split/placement/quantization model\nMinimize\n obj:");
        let mut n = 0;
        for (i, c) in self.columns.iter().enumerate() {
            if c.obj != 0.0 {
                push_term(&mut s, c.obj, &names[i], &mut n);
            }
        }
        push_term(&mut s, self.obj_constant, "obj_constant", &mut n);
        s.push_str("\nSubject To\n");
        let row_names = self.safe_row_names();
        for (ri, r) in self.rows.iter().enumerate() {
            let _ = write!(s, " {}:", row_names[ri]);
            let mut n = 0;
            for &(v, c) in &r.terms {
                push_term(&mut s, c, &names[v.0], &mut n);
            }
            if r.terms.is_empty() {
                s.push_str(" 0 obj_constant");
            }
            let op = match r.sense {
                Sense::Le => "<=",
                Sense::Ge => ">=",
                Sense::Eq => "=",
            };
            let _ = writeln!(s, " {op} {}", num(r.rhs));
        }
        s.push_str("Bounds\n obj_constant = 1\n");
        for (i, c) in self.columns.iter().enumerate() {
            if c.kind == VarKind::Binary && c.lb == 0.0 && c.ub == 1.0 {
                continue;
            }
            match (c.lb.is_finite(), c.ub.is_finite()) {
                (true, true) if c.lb == c.ub => {
                    let _ = writeln!(s, " {} = {}", names[i], num(c.lb));
                }
                (true, true) => {
                    let _ = writeln!(s, " {} <= {} <= {}", num(c.lb), names[i], num(c.ub));
                }
                (true, false) => {
                    let _ = writeln!(s, " {} >= {}", names[i], num(c.lb));
                }
                (false, true) => {
                    let _ = writeln!(s, " -inf <= {} <= {}", names[i], num(c.ub));
                }
                (false, false) => {
                    let _ = writeln!(s, " {} free", names[i]);
                }
            }
        }
        s.push_str("General\n");
        for (i, c) in self.columns.iter().enumerate() {
            if c.kind == VarKind::Binary && !(c.lb == 0.0 && c.ub == 1.0) {
                let _ = writeln!(s, " {}", names[i]);
            }
        }
        s.push_str("Binaries\n");
        for (i, c) in self.columns.iter().enumerate() {
            if c.kind == VarKind::Binary && c.lb == 0.0 && c.ub == 1.0 {
                let _ = writeln!(s, " {}", names[i]);
            }
        }
        s.push_str("End\n");
        s
    }

    /// The model in free MPS format (same naming and constant as LP).
    pub fn to_mps(&self) -> String {
        let names = self.safe_names();
        let row_names = self.safe_row_names();
        let mut cols: Vec<Vec<(usize, f64)>> = vec![Vec::new(); self.columns.len()];
        for (ri, r) in self.rows.iter().enumerate() {
            for &(v, c) in &r.terms {
                cols[v.0].push((ri, c));
            }
        }
        let mut s = String::from("NAME edgesplit\nROWS\n N obj\n");
        for (ri, r) in self.rows.iter().enumerate() {
            let t = match r.sense {
                Sense::Le => "L",
                Sense::Ge => "G",
                Sense::Eq => "E",
            };
            let _ = writeln!(s, " {t} {}", row_names[ri]);
        }
        s.push_str("COLUMNS\n");
        let mut in_int = false;
        for (i, c) in self.columns.iter().enumerate() {
            let int = c.kind == VarKind::Binary;
            if int != in_int {
                let m = if int { "'INTORG'" } else { "'INTEND'" };
                let _ = writeln!(s, "    MARKER 'MARKER' {m}");
                in_int = int;
            }
            let _ = writeln!(s, "    {} obj {}", names[i], num(c.obj));
            for &(ri, v) in &cols[i] {
                let _ = writeln!(s, "    {} {} {}", names[i], row_names[ri], num(v));
            }
        }
        if in_int {
            s.push_str("    MARKER 'MARKER' 'INTEND'\n");
        }
        let _ = writeln!(s, "    obj_constant obj {}", num(self.obj_constant));
        s.push_str("RHS\n");
        for (ri, r) in self.rows.iter().enumerate() {
            if r.rhs != 0.0 {
                let _ = writeln!(s, "    RHS {} {}", row_names[ri], num(r.rhs));
            }
        }
        s.push_str("BOUNDS\n FX BND obj_constant 1\n");
        for (i, c) in self.columns.iter().enumerate() {
            let n = &names[i];
            if c.lb == c.ub {
                let _ = writeln!(s, " FX BND {n} {}", num(c.lb));
                continue;
            }
            if c.lb.is_finite() {
                let _ = writeln!(s, " LO BND {n} {}", num(c.lb));
            } else {
                let _ = writeln!(s, " MI BND {n}");
            }
            if c.ub.is_finite() {
                let _ = writeln!(s, " UP BND {n} {}", num(c.ub));
            } else {
                let _ = writeln!(s, " PL BND {n}");
            }
        }
        s.push_str("ENDATA\n");
        s
    }

    fn safe_names(&self) -> Vec<String> {
        unique_safe(self.columns.iter().map(|c| c.name.as_str()), "c")
    }

    fn safe_row_names(&self) -> Vec<String> {
        unique_safe(self.rows.iter().map(|r| r.name.as_str()), "r")
    }
}

/// LP/MPS-safe names, made unique by an index suffix where sanitizing
/// made two equal.
fn unique_safe<'a>(names: impl Iterator<Item = &'a str>, prefix: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    names
        .enumerate()
        .map(|(i, n)| {
            let s = safe(n, &format!("{prefix}{i}"));
            if seen.insert(s.clone()) {
                s
            } else {
                let s = format!("{s}_{prefix}{i}");
                seen.insert(s.clone());
                s
            }
        })
        .collect()
}

/// Sorts terms by column, adds duplicates, drops zeros.
pub fn merge(mut terms: Vec<(Var, f64)>) -> Vec<(Var, f64)> {
    terms.sort_by_key(|t| t.0);
    let mut out: Vec<(Var, f64)> = Vec::with_capacity(terms.len());
    for (v, c) in terms {
        match out.last_mut() {
            Some(last) if last.0 == v => last.1 += c,
            _ => out.push((v, c)),
        }
    }
    out.retain(|t| t.1 != 0.0);
    out
}

/// A name every LP/MPS reader accepts: characters outside letters, digits
/// and `()_.,` become `_`; names are made unique by the caller's index
/// suffix when they would start badly or be empty.
fn safe(name: &str, fallback: &str) -> String {
    let s: String = name
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || "()_.,".contains(ch) {
                ch
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || !s.starts_with(|c: char| c.is_ascii_alphabetic()) || s.len() > 255 {
        format!("{fallback}_{}", &s[..s.len().min(200)])
    } else {
        s
    }
}

fn num(x: f64) -> String {
    if x == f64::INFINITY {
        "inf".into()
    } else if x == f64::NEG_INFINITY {
        "-inf".into()
    } else {
        format!("{x:e}")
    }
}

fn push_term(s: &mut String, c: f64, name: &str, n: &mut usize) {
    if *n % 8 == 7 {
        s.push_str("\n   ");
    }
    let sign = if c < 0.0 { "-" } else { "+" };
    let _ = write!(s, " {sign} {} {name}", num(c.abs()));
    *n += 1;
}
