//! Criterion benchmarks of the hot paths: building the MILP of the
//! TIDE-sized instance (target: under 1 s on one core) and evaluating a
//! plan of it.

use criterion::{criterion_group, criterion_main, Criterion};
use edgesplit::bench::{generated, tide_sized_params};
use edgesplit::eval::evaluate;
use edgesplit::milp::{build, ObjectiveSpec};
use edgesplit::reference::{reference_plan, ReferenceMethod};

fn model_building(c: &mut Criterion) {
    let inst = generated(&tide_sized_params());
    let mut g = c.benchmark_group("tide-sized");
    g.sample_size(10);
    g.bench_function("build_milp", |b| {
        b.iter(|| build(&inst, ObjectiveSpec::Instance, None))
    });
    let plan = reference_plan(&inst, ReferenceMethod::Centralized);
    g.bench_function("evaluate_centralized", |b| {
        b.iter(|| evaluate(&inst, &plan, None))
    });
    g.finish();
}

criterion_group!(benches, model_building);
criterion_main!(benches);
