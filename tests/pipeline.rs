//! The `kind: pipeline` model (Singh et al., 2024): the stored instances
//! reproduce Table II and the crossovers and energy budget of Sec. IV-B,
//! the MILP agrees with enumeration on every backend, and bad inputs are
//! reported with their field paths.

use edgesplit::pipeline::eval::{self, Affine};
use edgesplit::pipeline::{
    load, load_plan_str, load_str, milp, sweep, Choice, EdgeLoad, Pipeline, PipelineInstance,
};
use edgesplit::solve::{BackendKind, SolveOptions, Status};
use std::path::Path;

const UNLOADED: &str = "instances/pipeline/mobilenet-unloaded.yaml";
const LOADED: &str = "instances/pipeline/mobilenet-loaded.yaml";

fn inst(path: &str) -> PipelineInstance {
    load(Path::new(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn pf70(i: &PipelineInstance) -> usize {
    i.variant_index(0.7).expect("pf = 70% variant")
}

fn choice(variant: usize, pipeline: Pipeline) -> Choice {
    Choice { variant, pipeline }
}

/// `model` equals `table` to the table's precision: within half a unit of
/// the last digit the table prints (`decimals` digits after the point).
fn same_to_precision(model: f64, table: f64, decimals: i32) -> bool {
    (model - table).abs() <= 0.5 * 10f64.powi(-decimals) + 1e-12
}

/// One row of Table II: edge load, choice (`None` variant = full model),
/// the "Q = 1" and "Q > 1" columns as printed and their decimals, and the
/// printed contributions (name, seconds, decimals).
struct Row {
    load: EdgeLoad,
    pruned: bool,
    pipeline: Pipeline,
    q1: (f64, i32),
    qn: (f64, i32),
    parts: &'static [(&'static str, f64, i32)],
}

fn table_ii() -> Vec<Row> {
    use EdgeLoad::*;
    use Pipeline::*;
    let r = |load, pruned, pipeline, q1, qn, parts| Row {
        load,
        pruned,
        pipeline,
        q1,
        qn,
        parts,
    };
    vec![
        // Full model, no load at the edge.
        r(
            Unloaded,
            false,
            EInf,
            (1.0, 0),
            (1.0, 0),
            &[("result exchange", 0.017, 3), ("inference", 0.98, 2)],
        ),
        r(
            Unloaded,
            false,
            DInf,
            (5.56, 2),
            (5.04, 2),
            &[("model exchange", 0.5203, 4), ("inference", 5.04, 2)],
        ),
        // Full model, edge loaded.
        r(
            Loaded,
            false,
            EInf,
            (5.88, 2),
            (5.88, 2),
            &[("result exchange", 0.017, 3), ("inference", 5.86, 2)],
        ),
        r(
            Loaded,
            false,
            DInf,
            (5.56, 2),
            (5.04, 2),
            &[("model exchange", 0.5203, 4), ("inference", 5.04, 2)],
        ),
        // Pruned model, pf = 70%, no load at the edge.
        r(
            Unloaded,
            true,
            EFtEInf,
            (577.0, 0),
            (0.16, 2),
            &[
                ("result exchange", 0.017, 3),
                ("pruning", 0.15, 2),
                ("encryption", 0.12, 2),
                ("dataset exchange", 23.75, 2),
                ("inference", 0.14, 2),
                ("fine-tuning", 553.0, 0),
            ],
        ),
        r(
            Unloaded,
            true,
            EFtDInf,
            (579.0, 0),
            (1.34, 2),
            &[
                ("model exchange", 0.195, 3),
                ("pruning", 0.15, 2),
                ("encryption", 0.12, 2),
                ("dataset exchange", 23.75, 2),
                ("inference", 1.34, 2),
                ("fine-tuning", 553.0, 0),
            ],
        ),
        r(
            Unloaded,
            true,
            DFtDInf,
            (735.0, 0),
            (1.34, 2),
            &[
                ("model exchange", 0.195, 3),
                ("pruning", 0.15, 2),
                ("inference", 1.34, 2),
                ("fine-tuning", 733.0, 0),
            ],
        ),
        // Pruned model, pf = 70%, edge loaded. The "Q = 1" entry of the
        // E-FT,E-Inf row is checked separately (see below).
        r(
            Loaded,
            true,
            EFtEInf,
            (f64::NAN, 0),
            (2.16, 2),
            &[
                ("result exchange", 0.017, 3),
                ("pruning", 0.75, 2),
                ("encryption", 0.12, 2),
                ("dataset exchange", 23.75, 2),
                ("inference", 2.14, 2),
                ("fine-tuning", 1172.0, 0),
            ],
        ),
        r(
            Loaded,
            true,
            EFtDInf,
            (1198.0, 0),
            (1.34, 2),
            &[
                ("model exchange", 0.195, 3),
                ("pruning", 0.75, 2),
                ("encryption", 0.12, 2),
                ("dataset exchange", 23.75, 2),
                ("inference", 1.34, 2),
                ("fine-tuning", 1172.0, 0),
            ],
        ),
        r(
            Loaded,
            true,
            DFtDInf,
            (735.0, 0),
            (1.34, 2),
            &[
                ("model exchange", 0.195, 3),
                ("pruning", 0.75, 2),
                ("inference", 1.34, 2),
                ("fine-tuning", 733.0, 0),
            ],
        ),
    ]
}

#[test]
fn table_ii_latency_of_every_row_to_the_tables_precision() {
    for row in table_ii() {
        let i = inst(if row.load == EdgeLoad::Loaded {
            LOADED
        } else {
            UNLOADED
        });
        let c = choice(if row.pruned { pf70(&i) } else { 0 }, row.pipeline);
        let ev = eval::evaluate(&i, c);
        let what = format!("{} (edge {})", ev.label, row.load.name());
        if !row.q1.0.is_nan() {
            assert!(
                same_to_precision(ev.latency_first(), row.q1.0, row.q1.1),
                "{what}: Q=1 {} vs {}",
                ev.latency_first(),
                row.q1.0
            );
        }
        assert!(
            same_to_precision(ev.latency_next(), row.qn.0, row.qn.1),
            "{what}: Q>1 {} vs {}",
            ev.latency_next(),
            row.qn.0
        );
        assert_eq!(
            ev.components.len(),
            row.parts.len(),
            "{what}: {:?}",
            ev.components
        );
        for &(name, secs, dec) in row.parts {
            let comp = ev
                .components
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("{what}: no {name}"));
            let model = comp.seconds.once + comp.seconds.per_request;
            assert!(
                same_to_precision(model, secs, dec),
                "{what}: {name} {model} vs {secs}"
            );
        }
    }
}

/// Table II prints 1201 s for E-FT,E-Inf on the loaded edge at Q = 1, but
/// its own contributions add up to 0.017 + 0.75 + 0.12 + 23.75 + 2.14 +
/// 1172 = 1198.78 s, and its 97.77% fine-tuning share gives 1172/0.9777 =
/// 1198.7 s. The model gives 1198.78 s (the printed contributions with
/// the exact transfer times), which rounds to 1199; the printed 1201 is
/// 2.2 s off its own row. (The same row
/// block also prints 87.82% for the fine-tuning share of E-FT,D-Inf, which
/// its numbers put at 97.82%.)
#[test]
fn table_ii_loaded_edge_ft_edge_inf_first_request_is_the_sum_of_its_row() {
    let i = inst(LOADED);
    let ev = eval::evaluate(&i, choice(pf70(&i), Pipeline::EFtEInf));
    let row_sum: f64 = [0.017, 0.75, 0.12, 23.75, 2.14, 1172.0].iter().sum();
    assert!(same_to_precision(row_sum, 1198.78, 2));
    assert!(
        same_to_precision(ev.latency_first(), 1199.0, 0),
        "{}",
        ev.latency_first()
    );
    assert!(
        (ev.latency_first() - 1198.778).abs() < 1e-3,
        "{}",
        ev.latency_first()
    );
    assert!((ev.latency_first() - row_sum).abs() < 0.5);
    assert!(
        (ev.latency_first() - 1201.0).abs() > 1.5,
        "the printed 1201 is not reproducible"
    );
    let ft_share = 1172.0 / ev.latency_first();
    assert!((ft_share - 0.9777).abs() < 0.001, "{ft_share}");
}

/// The crossing Q of two latency curves built from Table II's printed
/// columns: T(Q) = T(Q=1) + (Q - 1) · T(Q>1).
fn table_crossing(a_q1: f64, a_qn: f64, b_q1: f64, b_qn: f64) -> f64 {
    1.0 + (b_q1 - a_q1) / (a_qn - b_qn)
}

fn latency(i: &PipelineInstance, c: Choice) -> Affine {
    eval::evaluate(i, c).latency
}

/// Sec. IV-B reads three crossovers off Fig. 3(a) (edge without load).
/// The rows of Table II and the model put them at:
///
/// | crossover                                   | text  | Table II rows | model (real) | first whole Q after |
/// |---------------------------------------------|-------|---------------|--------------|---------------------|
/// | E-Inf full stops beating E-FT/E-Inf pf70    | ~600  | 686.7         | 686.93       | 687                 |
/// | D-Inf full stops beating E-FT/E-Inf pf70    | ~120  | 118.1         | 118.07       | 119                 |
/// | D-Inf full stops beating D-FT/D-Inf pf70    | ~200  | 198.1         | 198.06       | 199                 |
///
/// The table-row values differ from the model's by the rounding of the
/// printed columns (577 s, 0.16 s, ...); the model uses the exact transfer
/// times (0.017401 s for sample and result at D = 17.355 MB/s, 0.19499 s
/// for the pruned model). 118 and 198 are the text's "120" and "200"
/// rounded to a figure's grid. The text's "600" is 13% below what the
/// paper's own numbers give: the curves meet where the 577 s one-off cost
/// of pruning and fine-tuning is paid back at 0.997 - 0.157 = 0.840 s per
/// request, i.e. after 577 / 0.840 = 687 requests; no rounding of Table II
/// moves that to 600, so the text's value is a coarse reading of the
/// log-scaled plot.
#[test]
fn crossovers_of_fig_3a_where_the_model_and_the_table_put_them() {
    let i = inst(UNLOADED);
    let k = pf70(&i);
    let e_full = latency(&i, choice(0, Pipeline::EInf));
    let d_full = latency(&i, choice(0, Pipeline::DInf));
    let ee = latency(&i, choice(k, Pipeline::EFtEInf));
    let dd = latency(&i, choice(k, Pipeline::DFtDInf));
    let cases = [
        // (a, b, model crossing, first whole Q, table crossing, text)
        (
            e_full,
            ee,
            686.93,
            687,
            table_crossing(1.0, 1.0, 577.0, 0.16),
            600.0,
        ),
        (
            d_full,
            ee,
            118.07,
            119,
            table_crossing(5.56, 5.04, 577.0, 0.16),
            120.0,
        ),
        (
            d_full,
            dd,
            198.06,
            199,
            table_crossing(5.56, 5.04, 735.0, 1.34),
            200.0,
        ),
    ];
    for (a, b, model_q, first, table_q, text_q) in cases {
        let q = a.crossing(&b).unwrap();
        assert!(
            (q - model_q).abs() < 0.01,
            "model crossing {q} vs {model_q}"
        );
        // Before the crossing the full model is faster, from `first` on the
        // pruned pipeline is.
        assert!(a.at((first - 1) as f64) < b.at((first - 1) as f64));
        assert!(a.at(first as f64) > b.at(first as f64));
        assert!(
            (table_q - q).abs() < 1.0,
            "table rows {table_q} vs model {q}"
        );
        if text_q == 600.0 {
            assert!(
                (q - text_q) / text_q > 0.1 && (q - text_q) / text_q < 0.15,
                "{q}"
            );
        } else {
            assert!((q - text_q).abs() < 2.5, "{q} vs text {text_q}");
        }
    }
    // The sweep finds the same points and the optimum switches at 687.
    let s = sweep::sweep(&i, 1, 5000, None, None).unwrap();
    let find = |lo: &str, hi: &str| {
        s.crossovers
            .iter()
            .find(|c| {
                c.metric == "latency"
                    && c.edge_load == Some(EdgeLoad::Unloaded)
                    && c.lower_before == lo
                    && c.lower_after == hi
            })
            .map(|c| c.first_q_after)
    };
    assert_eq!(find("E-Inf full", "E-FT/E-Inf pf70"), Some(687));
    assert_eq!(find("D-Inf full", "E-FT/E-Inf pf70"), Some(119));
    assert_eq!(find("D-Inf full", "D-FT/D-Inf pf70"), Some(199));
    assert_eq!(s.switches.len(), 1, "{:?}", s.switches);
    assert_eq!(
        (s.switches[0].q, s.switches[0].to.as_str()),
        (687, "E-FT/E-Inf pf70")
    );
}

/// Sec. IV-B: on-device fine-tuning stays within the device's 3.7 Wh for
/// up to 3,000 requests, and beats on-device inference with the full model
/// in energy beyond about 200 requests. The model: 2053.5 J once plus
/// 3.752 J per request (2.8 W × 1.34 s), so the budget holds up to Q =
/// 3002 (3,000 in the text, rounded); the energy crossing with the full
/// model (14.112 J per request) is at Q = 197.94.
#[test]
fn device_fine_tuning_energy_stays_within_3_7_wh_up_to_3000_requests() {
    for path in [UNLOADED, LOADED] {
        let i = inst(path);
        let k = pf70(&i);
        let dd = eval::evaluate(&i, choice(k, Pipeline::DFtDInf)).device_energy;
        let budget = 3.7 * 3600.0;
        assert_eq!(i.requirements.max_device_energy_j, Some(budget));
        assert!(dd.at(3000.0) <= budget);
        assert!(
            dd.at(3002.0) <= budget && dd.at(3003.0) > budget,
            "{:?}",
            dd
        );
        assert!((dd.per_request - 2.8 * 1.34).abs() < 1e-12);
        let full = eval::evaluate(&i, choice(0, Pipeline::DInf)).device_energy;
        let q = dd.crossing(&full).unwrap();
        assert!((q - 197.94).abs() < 0.01 && (q - 200.0).abs() < 2.5, "{q}");
        // With Q = 3003 the budget rules D-FT/D-Inf out.
        let ev = eval::evaluate(&i.with_requests(3003), choice(k, Pipeline::DFtDInf));
        assert!(!ev.feasible() && ev.violations[0].contains("device energy"));
    }
}

/// The MILP optimum equals the enumerated one for a range of Q, budgets,
/// accuracy targets and objective weights, on every built-in backend.
#[test]
fn milp_optimum_equals_enumeration_on_every_backend() {
    let kinds = BackendKind::built_in();
    assert!(!kinds.is_empty(), "no backend built in");
    let qs = [
        1, 2, 30, 118, 119, 199, 300, 686, 687, 1000, 3002, 3003, 5000,
    ];
    let mut solved = 0;
    for path in [UNLOADED, LOADED] {
        let base = inst(path);
        for &q in &qs {
            for variant in 0..6 {
                let mut i = base.with_requests(q);
                let r = &mut i.requirements;
                match variant {
                    0 => {}
                    1 => r.max_device_energy_j = None,
                    2 => r.max_device_energy_j = Some(2500.0),
                    3 => {
                        r.min_accuracy = 0.0;
                        i.objective.device_energy = 1.0;
                    }
                    4 => {
                        r.min_accuracy = 0.8;
                        r.max_latency_s = Some(1.2 * q as f64 + 600.0);
                        i.objective.data = 1e-6;
                    }
                    _ => r.min_accuracy = 0.9, // nothing is that accurate
                }
                let best = eval::enumerate_best(&i);
                for &kind in &kinds {
                    let rep = milp::solve(&i, kind, &SolveOptions::default());
                    solved += 1;
                    let what = format!("{path} Q={q} case {variant} {kind}");
                    match &best {
                        None => {
                            assert_eq!(rep.status, Status::Infeasible, "{what}: {:?}", rep.message)
                        }
                        Some(b) => {
                            assert_eq!(rep.status, Status::Optimal, "{what}: {:?}", rep.message);
                            let ev = rep.evaluation.as_ref().unwrap();
                            assert!(ev.feasible(), "{what}");
                            let tol = 1e-6 * b.objective.abs().max(1.0);
                            assert!(
                                (ev.objective - b.objective).abs() <= tol,
                                "{what}: {} ({}) vs {} ({})",
                                ev.objective,
                                ev.label,
                                b.objective,
                                b.label
                            );
                            assert!(
                                (rep.milp_objective.unwrap() - b.objective).abs() <= tol,
                                "{what}"
                            );
                        }
                    }
                }
            }
        }
    }
    assert_eq!(solved, 2 * qs.len() * 6 * kinds.len());
}

/// A relaxed limit never makes the optimum worse (metamorphic check on the
/// enumeration the MILP is compared with).
#[test]
fn relaxing_the_energy_budget_never_worsens_the_optimum() {
    let base = inst(LOADED);
    for q in [100, 1000, 2500, 4000] {
        let mut last = f64::INFINITY;
        for budget in [1500.0, 3000.0, 6000.0, 13320.0, 30000.0, f64::INFINITY] {
            let mut i = base.with_requests(q);
            i.requirements.max_device_energy_j = budget.is_finite().then_some(budget);
            let o = eval::enumerate_best(&i).map_or(f64::INFINITY, |b| b.objective);
            assert!(o <= last, "Q={q} budget {budget}: {o} > {last}");
            last = o;
        }
    }
}

fn base_text() -> String {
    std::fs::read_to_string(UNLOADED).unwrap()
}

fn problems(text: &str) -> Vec<String> {
    match load_str(text, Some(Path::new("bad.yaml"))) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .diagnostics()
            .expect("a validation error")
            .problems
            .iter()
            .map(|p| p.to_string())
            .collect(),
    }
}

fn assert_problem(text: &str, path: &str, says: &str) {
    let ps = problems(text);
    assert!(
        ps.iter()
            .any(|p| p.starts_with(&format!("bad.yaml: {path}: ")) && p.contains(says)),
        "expected `{path}: …{says}…`, got {ps:#?}"
    );
}

#[test]
fn bad_pipeline_inputs_are_reported_with_field_paths() {
    let t = base_text();
    assert!(problems(&t).is_empty());
    assert_problem(
        &t.replace("pruning_factor: 0.60", "pruning_factor: 1.2"),
        "pruned[1].pruning_factor",
        "in (0, 1)",
    );
    assert_problem(
        &t.replace("pruning_factor: 0.60", "pruning_factor: 0.50"),
        "pruned[1].pruning_factor",
        "already the pruning factor of pruned[0]",
    );
    assert_problem(
        &t.replace("accuracy_fine_tuned: 0.87", "accuracy_fine_tuned: 87"),
        "pruned[0].accuracy_fine_tuned",
        "fraction in [0, 1]",
    );
    assert_problem(
        &t.replace("data_rate: 17.355e6", "data_rate: -1"),
        "data_rate",
        "> 0",
    );
    assert_problem(
        &t.replace("data_rate: 17.355e6", "data_rate: fast"),
        "data_rate",
        "",
    );
    assert_problem(
        &t.replace("requests: 1000 ", "requests: 0 "),
        "requests",
        "≥ 1",
    );
    assert_problem(
        &t.replace("kind: pipeline", "kind: pipelines"),
        "kind",
        "expected `pipeline`",
    );
    assert_problem(
        &t.replace("  tx: 0.01", "  tx: 0.01\n  idle: 0.5"),
        "power.idle",
        "unknown field `idle`",
    );
    assert_problem(
        &t.replace("  tx: 0.01 ", "  tx: .nan "),
        "power.tx",
        "finite",
    );
    assert_problem(
        &t.replace("min_accuracy: 0.85", "min_accuracy: 1.5"),
        "requirements.min_accuracy",
        "[0, 1]",
    );
    assert_problem(
        &t.replace("latency: 1\n", "latency: 0\n"),
        "objective",
        "at least one positive weight",
    );
    // A loaded edge needs every loaded timing.
    let loaded = t
        .replace("edge_load: unloaded", "edge_load: loaded")
        .replace(
            "inference_s: {edge: 0.14, edge_loaded: 2.14, device: 1.34}",
            "inference_s: {edge: 0.14, device: 1.34}",
        );
    assert_problem(
        &loaded,
        "pruned[2].inference_s.edge_loaded",
        "edge_load: loaded",
    );
    assert_problem(
        &t.replace("edge_load: unloaded", "edge_load: busy"),
        "edge_load",
        "unloaded",
    );
    // Several problems are all reported at once.
    let many = t
        .replace("data_rate: 17.355e6", "data_rate: 0")
        .replace("pruning_factor: 0.80", "pruning_factor: 0");
    let ps = problems(&many);
    assert!(
        ps.len() >= 2
            && ps.iter().any(|p| p.contains(": data_rate: "))
            && ps.iter().any(|p| p.contains("pruned[3].pruning_factor")),
        "{ps:#?}"
    );
}

#[test]
fn bad_pipeline_plans_are_reported_with_field_paths() {
    let i = inst(UNLOADED);
    let plan = |s: &str| load_plan_str(s, Some(Path::new("plan.yaml")), &i);
    let ok = plan("kind: pipeline\npruning_factor: 0.7\npipeline: e-ft,d-inf\n").unwrap();
    assert_eq!(ok, choice(pf70(&i), Pipeline::EFtDInf));
    let msg = |s: &str| plan(s).unwrap_err().to_string();
    let m = msg("kind: pipeline\npruning_factor: 0.33\npipeline: D-Inf\n");
    assert!(
        m.contains("plan.yaml: pruning_factor: 0.33 is not a variant"),
        "{m}"
    );
    let m = msg("kind: pipeline\npruning_factor: 0.7\npipeline: C-FT/C-Inf\n");
    assert!(
        m.contains("plan.yaml: pipeline: unknown pipeline `C-FT/C-Inf`"),
        "{m}"
    );
    let m = msg("kind: pipeline\npruning_factor: 0\npipeline: D-FT/D-Inf\n");
    assert!(
        m.contains(
            "plan.yaml: pipeline: D-FT/D-Inf fine-tunes, but the full model is never fine-tuned"
        ),
        "{m}"
    );
    let m = msg("kind: pipeline\npruning_factor: 0.7\npipeline: D-Inf\nnodes: 3\n");
    assert!(m.contains("unknown field `nodes`"), "{m}");
}

/// The commands end to end on the stored instances: validate, solve with
/// a plan file, evaluate that plan, and sweep-q with its CSV and plots.
#[test]
fn cli_solve_evaluate_and_sweep_q_on_the_stored_instances() {
    let exe = env!("CARGO_BIN_EXE_edgesplit");
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = std::process::Command::new(exe).args(args).output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let (code, out, err) = run(&["validate", UNLOADED, LOADED]);
    assert_eq!(code, Some(0), "{out}{err}");
    let plan = dir.path().join("plan.yaml");
    let (code, out, err) = run(&["solve", LOADED, "-o", plan.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("choice D-FT/D-Inf pf70"), "{out}");
    let (code, out, err) = run(&["evaluate", LOADED, plan.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("ML pipeline latency: Q=1 735.3 s"), "{out}");
    let (code, out, err) = run(&[
        "evaluate",
        UNLOADED,
        "instances/pipeline/plan-eft-dinf-pf70.yaml",
        "--json",
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["label"], "E-FT/D-Inf pf70");
    let sw = dir.path().join("sweep");
    let (code, out, err) = run(&[
        "sweep-q",
        UNLOADED,
        "--q",
        "1..5000",
        "-o",
        sw.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("equal at Q = 686.93; lower from Q = 687"),
        "{out}"
    );
    let csv = std::fs::read_to_string(sw.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5001);
    assert!(csv.lines().nth(687).unwrap().starts_with("687,"));
    assert!(csv.lines().nth(687).unwrap().contains("E-FT/E-Inf pf70"));
    for f in [
        "fig3a_latency_unloaded.svg",
        "fig3b_latency_loaded.svg",
        "fig3c_data.svg",
        "fig3d_energy.svg",
    ] {
        let svg = std::fs::read_to_string(sw.join(f)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("D-FT/D-Inf pf70"),
            "{f}"
        );
    }
    let (code, _, err) = run(&["sweep-q", UNLOADED, "--q", "5..1"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--q 5..1: expected FROM..TO"), "{err}");
}
