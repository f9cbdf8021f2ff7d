//! Criterion benchmark of TIDE (Steps 2.1–2.3 and the final evaluation) on
//! the TIDE-sized instance: 448 filter atoms, 10 tasks, 4 nodes. Target:
//! under 100 ms.

use criterion::{criterion_group, criterion_main, Criterion};
use edgesplit::bench::{generated, tide_sized_params};
use edgesplit::heuristic::{run, Method};

fn tide(c: &mut Criterion) {
    let inst = generated(&tide_sized_params());
    let mut g = c.benchmark_group("tide-sized");
    g.sample_size(10);
    g.bench_function("tide", |b| b.iter(|| run(&inst, Method::Tide, None)));
    g.finish();
}

criterion_group!(benches, tide);
criterion_main!(benches);
