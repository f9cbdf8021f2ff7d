//! Reference plans that need no solver.

use crate::instance::Instance;
use crate::network::NodeIx;
use crate::plan::Plan;

/// The reference methods of `edgesplit plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReferenceMethod {
    /// Every task runs the full parent DNN on the single most capable node
    /// (TIDE's cost normalization unit), nothing quantized.
    Centralized,
    /// Every task runs the full parent DNN on its own source node.
    AllOnSource,
}

impl ReferenceMethod {
    /// The method's name as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ReferenceMethod::Centralized => "centralized",
            ReferenceMethod::AllOnSource => "all-on-source",
        }
    }
}

/// The most capable node: the least time to run every atom of the DNN
/// unquantized ([`Instance::compute_s`]: profiled times where given,
/// otherwise the highest speed), then the highest speed, then most memory,
/// then first.
pub fn most_capable_node(inst: &Instance) -> NodeIx {
    let nodes = &inst.network.nodes;
    let time = |n: NodeIx| -> f64 {
        (0..inst.dnn.len())
            .map(|a| inst.compute_s(a, n, false))
            .sum()
    };
    let times: Vec<f64> = (0..nodes.len()).map(time).collect();
    (0..nodes.len())
        .max_by(|&a, &b| {
            (-times[a], nodes[a].speed, nodes[a].memory)
                .partial_cmp(&(-times[b], nodes[b].speed, nodes[b].memory))
                .expect("validated numbers are finite")
                .then(b.cmp(&a))
        })
        .expect("a validated instance has a node")
}

/// The plan of `method`: every atom of the task's DNN used, input on the source, output on
/// the sink, every compute atom on the method's node; nothing quantized.
pub fn reference_plan(inst: &Instance, method: ReferenceMethod) -> Plan {
    let central = most_capable_node(inst);
    let mut plan = Plan::empty(inst);
    for (t, task) in inst.tasks.iter().enumerate() {
        let node = match method {
            ReferenceMethod::Centralized => central,
            ReferenceMethod::AllOnSource => task.source,
        };
        for a in inst.dnn.atoms_of(task.dnn) {
            plan.placement[t][a] = Some(node);
        }
        plan.placement[t][inst.input_of(t)] = Some(task.source);
        plan.placement[t][inst.output_of(t)] = Some(task.sink);
    }
    plan
}
