//! The noise regressor: exact recovery, cross-validation by hand, rank
//! checks, the MILP's η against the polynomial on every q, fitting at load,
//! the sweep and the Pareto front.

mod common;

use edgesplit::instance::{load_str, NoiseModel};
use edgesplit::milp::{build, ObjectiveSpec, Total};
use edgesplit::noise::{cross_validate, fit, monomials, NoiseFit, Samples};
use edgesplit::solve::run::solve_built;
use edgesplit::solve::{BackendKind, SolveOptions, Status};
use std::path::Path;

fn all_q(g: usize) -> Vec<Vec<bool>> {
    (0..1usize << g)
        .map(|m| (0..g).map(|i| m >> i & 1 == 1).collect())
        .collect()
}

fn truth(g: usize, degree: usize) -> NoiseFit {
    // Mixed signs, distinct magnitudes.
    NoiseFit {
        groups: (0..g).map(|i| format!("g{i}")).collect(),
        intercept: if degree < g { 0.004 } else { 0.0 },
        terms: monomials(g, degree)
            .into_iter()
            .enumerate()
            .map(|(k, m)| {
                let c = if m.len() % 2 == 1 {
                    0.01 * (k + 1) as f64
                } else {
                    -0.003 * (k + 1) as f64
                };
                (m, c)
            })
            .collect(),
    }
}

#[test]
fn a_known_polynomial_is_recovered_exactly_from_all_samples() {
    for g in 1..=4 {
        for degree in 1..=g {
            let t = truth(g, degree);
            let q = all_q(g);
            let s = Samples {
                groups: t.groups.clone(),
                noise: q.iter().map(|q| t.predict(q)).collect(),
                q,
            };
            let f = fit(&s, degree, 0.0).unwrap();
            assert!(
                (f.intercept - t.intercept).abs() < 1e-12,
                "g {g} d {degree}"
            );
            for ((m1, c1), (m2, c2)) in f.terms.iter().zip(&t.terms) {
                assert_eq!(m1, m2);
                assert!(
                    (c1 - c2).abs() < 1e-12,
                    "g {g} d {degree} {m1:?}: {c1} vs {c2}"
                );
            }
        }
    }
}

#[test]
fn cross_validation_matches_a_hand_computed_case() {
    // One group, degree 1 (no intercept: degree ≥ |G|), folds i mod 2:
    // fold 0 = samples 0, 2; fold 1 = samples 1, 3.
    let s = Samples {
        groups: vec!["g".into()],
        q: vec![vec![true], vec![true], vec![false], vec![true]],
        noise: vec![1.0, 2.0, 0.0, 3.0],
    };
    // Fold 0 trains on (1, 2.0), (1, 3.0): β = 2.5; predicts 2.5 and 0.
    // Fold 1 trains on (1, 1.0), (0, 0.0): β = 1.0; predicts 1.0 and 1.0.
    let errors = [1.0 - 2.5, 2.0 - 1.0, 0.0 - 0.0, 3.0 - 1.0];
    let sse: f64 = errors.iter().map(|e| e * e).sum(); // 2.25 + 1 + 0 + 4
    let mean = 1.5;
    let sst: f64 = [1.0, 2.0, 0.0, 3.0]
        .iter()
        .map(|y: &f64| (y - mean) * (y - mean))
        .sum(); // 5
    let cv = cross_validate(&s, 1, 0.0, 2).unwrap();
    assert!((cv.r2 - (1.0 - sse / sst)).abs() < 1e-12, "{cv:?}"); // −0.45
    assert!((cv.rmse - (sse / 4.0).sqrt()).abs() < 1e-12);
    assert!((cv.mae - 4.5 / 4.0).abs() < 1e-12);
}

#[test]
fn rank_deficient_samples_are_refused_unless_a_ridge_is_given() {
    // Only q = (1,0) and (0,1) seen: the pair term cannot be determined.
    let s = Samples {
        groups: vec!["a".into(), "b".into(), "c".into()],
        q: vec![
            vec![true, false, false],
            vec![false, true, false],
            vec![true, true, false],
            vec![false, false, false],
        ],
        noise: vec![0.01, 0.02, 0.025, 0.0],
    };
    let err = fit(&s, 2, 0.0).unwrap_err();
    assert!(
        err.contains("rank deficient") && err.contains("--ridge"),
        "{err}"
    );
    let f = fit(&s, 2, 1e-6).unwrap();
    assert!(f.terms.iter().all(|(_, c)| c.is_finite()));
}

/// For every q of three groups, the MILP's η(q) equals the polynomial: with
/// q fixed, max_noise = η(q) is feasible and max_noise = η(q) − 1e-7 is not.
#[test]
fn the_milp_noise_equals_the_polynomial_on_every_q() {
    let g = 3;
    for degree in 1..=3 {
        for sign in [1.0, -1.0] {
            let t = truth(g, degree);
            // Shift so that η ≥ 0 on every q ≠ 0 (a bound below 0 is not allowed).
            let mut model = NoiseModel {
                intercept: t.intercept * sign + 0.05,
                terms: t.terms.iter().map(|(m, c)| (m.clone(), c * sign)).collect(),
            };
            if degree >= g {
                // No intercept term: put the shift on the single-group terms.
                model.intercept = 0.0;
                for (m, c) in model.terms.iter_mut() {
                    if m.len() == 1 {
                        *c += 0.05;
                    }
                }
            }
            let text = std::fs::read_to_string("instances/default.yaml")
                .unwrap()
                .replace("../models/", "models/");
            let mut inst = load_str(&text, Some(Path::new("instance.yaml"))).unwrap();
            inst.families.switch("quality", false);
            inst.families.switch("delay", false);
            inst.families.switch("memory", false);
            inst.quantization.noise = model.clone();
            for q in all_q(g) {
                let eta = model.eval(&q);
                if eta < 0.0 {
                    continue;
                }
                for (limit, expect) in [
                    (eta + 1e-9, Status::Optimal),
                    (eta - 1e-7, Status::Infeasible),
                ] {
                    if limit < 0.0 {
                        continue;
                    }
                    inst.quantization.max_noise = Some(limit);
                    let mut built = build(&inst, ObjectiveSpec::Single(Total::Time), None);
                    for (k, v) in built.q_columns().to_vec().into_iter().enumerate() {
                        let x = q[k] as u8 as f64;
                        built.model.columns[v.0].lb = x;
                        built.model.columns[v.0].ub = x;
                    }
                    let (o, _) = solve_built(&built, BackendKind::Highs, &SolveOptions::default());
                    assert_eq!(
                        o.status, expect,
                        "degree {degree} sign {sign} q {q:?}: η {eta}, limit {limit}"
                    );
                }
            }
        }
    }
}

#[test]
fn fitting_at_load_is_reproducible_and_checks_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let csv = edgesplit::noise::synthetic_samples(
        &["conv1".into(), "conv2".into(), "fc".into()],
        9,
        2,
        None,
        0.05,
        &Default::default(),
    )
    .unwrap();
    std::fs::write(dir.path().join("noise.csv"), &csv).unwrap();
    let text = std::fs::read_to_string("instances/default.yaml").unwrap();
    let models = std::fs::canonicalize("models").unwrap();
    let text = text.replace("../models/", &format!("{}/", models.display()));
    let start = text.find("  noise:").unwrap();
    let end = text.find("  max_noise").unwrap();
    let with_fit = format!(
        "{}  noise:\n    fit: {{samples: noise.csv, degree: 2}}\n{}",
        &text[..start],
        &text[end..]
    );
    let path = dir.path().join("inst.yaml");
    std::fs::write(&path, &with_fit).unwrap();
    let a = edgesplit::load(&path).unwrap();
    let b = edgesplit::load(&path).unwrap();
    assert_eq!(a.quantization.noise, b.quantization.noise);
    assert_eq!(a.quantization.noise.terms.len(), 6);
    // Same as fitting by hand.
    let s = edgesplit::noise::parse_samples(&csv, Path::new("noise.csv")).unwrap();
    let f = fit(&s, 2, 0.0).unwrap();
    assert!((a.quantization.noise.intercept - f.intercept).abs() < 1e-15);
    // A column that is not a group is an error at the field.
    std::fs::write(
        dir.path().join("noise.csv"),
        csv.replace("conv1,conv2,fc,noise", "conv1,conv9,fc,noise"),
    )
    .unwrap();
    let err = edgesplit::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("quantization.noise.fit.samples")
            && err.contains("column 'conv9' is not a quantization group"),
        "{err}"
    );
}

#[test]
fn the_sweep_never_gets_slower_as_the_noise_limit_grows() {
    let text = std::fs::read_to_string("instances/default.yaml")
        .unwrap()
        .replace("../models/", "models/");
    let inst = load_str(&text, Some(Path::new("instance.yaml"))).unwrap();
    let limits = [0.0, 0.005, 0.01, 0.02, 0.04];
    let device = inst.network.node_by_name("device").unwrap();
    let edge = inst.network.node_by_name("edge").unwrap();
    let sets = vec![vec![device, edge], (0..inst.network.len()).collect()];
    let points = edgesplit::solve::sweep::noise_sweep(
        &inst,
        &limits,
        &sets,
        BackendKind::Highs,
        &SolveOptions::default(),
        |_| {},
    )
    .unwrap();
    assert_eq!(points.len(), limits.len() * 2);
    for curve in points.chunks(limits.len()) {
        let mut prev = f64::INFINITY;
        for p in curve {
            assert_eq!(p.status, Status::Optimal, "{p:?}");
            let obj = p.objective.unwrap();
            assert!(
                obj <= prev + 1e-12,
                "relaxing the noise limit made it worse: {p:?}"
            );
            assert!(p.noise.unwrap() <= p.limit + 1e-9);
            prev = obj;
        }
    }
    // More nodes never hurt.
    for (a, b) in points[..limits.len()].iter().zip(&points[limits.len()..]) {
        assert!(b.objective.unwrap() <= a.objective.unwrap() + 1e-12);
    }
}

#[test]
fn the_pareto_front_is_non_dominated_and_starts_at_the_time_optimum() {
    let text = std::fs::read_to_string("instances/default.yaml")
        .unwrap()
        .replace("../models/", "models/");
    let inst = load_str(&text, Some(Path::new("instance.yaml"))).unwrap();
    // The default instance's time–energy front has more than 4 points; the
    // first 4 are checked (each costs two solves).
    let front = edgesplit::solve::sweep::pareto(
        &inst,
        Total::Time,
        Total::Energy,
        4,
        BackendKind::Highs,
        &SolveOptions::default(),
        |_| {},
    );
    assert_eq!(front.len(), 4, "{front:?}");
    for w in front.windows(2) {
        assert!(
            w[1].first > w[0].first && w[1].second < w[0].second,
            "not a front: {w:?}"
        );
    }
    assert!(front.iter().all(|p| p.proven));
    let built = build(&inst, ObjectiveSpec::Single(Total::Time), None);
    let (o, _) = solve_built(&built, BackendKind::Highs, &SolveOptions::default());
    let (opt, first) = (o.objective.unwrap(), front[0].first);
    assert!(
        (opt - first).abs() <= 1e-6 * opt.abs().max(1e-9),
        "time optimum {opt} vs first point {first}"
    );
}
