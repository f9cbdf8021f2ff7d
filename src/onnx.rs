//! Import an ONNX model as a DNN atom graph (`edgesplit import-onnx`).
//!
//! tract-onnx parses the file and infers every tensor's type and shape; this
//! module then walks the typed graph in evaluation order. Every compute
//! operator (convolution, matrix product) starts a new atom; every other
//! operator (activation, normalization, pooling, element-wise arithmetic,
//! reshaping, concatenation) is folded into the most recent atom among those
//! that produce its inputs, and the other producing atoms become edges. So
//! skip connections and branch merges stay in the graph, and atoms are
//! numbered in topological order, which makes the result a DAG by
//! construction.
//!
//! Costs: FLOP is 2 × the multiply–accumulate count tract reports for the
//! compute operators (element-wise work is not counted, like the usual
//! published figures); parameter bytes are 4 × the element count of every
//! floating-point constant with more than one element (scalars are operator
//! settings) feeding a node of the atom, taken from shapes only
//! (weights replaced by `ConstantOfShape` placeholders count the same);
//! output bytes are 4 × the element count of the tensor the atom emits (its
//! last node's output).
//!
//! Safety: a few bytes of ONNX can declare a tensor of 10¹⁵ elements, which
//! tract would allocate (and abort on) while it folds constants. Before
//! tract analyses anything, [`check_declared_sizes`] walks the protobuf and
//! refuses every constant tensor, `ConstantOfShape`/`Expand` shape and
//! input shape with a negative dimension or more than
//! [`MAX_TENSOR_ELEMENTS`] elements; any panic left inside tract is caught
//! and reported as an error naming the file.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use tract_onnx::pb;
use tract_onnx::prelude::*;

/// The most elements a tensor the importer lets tract build may have
/// (2²⁸ ≈ 2.7·10⁸, 1 GiB of f32: more than any layer of the bundled
/// models, VGG-19's largest weight having 1.03·10⁸).
pub const MAX_TENSOR_ELEMENTS: u64 = 1 << 28;

/// Largest ONNX model read from standard input, bytes (protobuf's own
/// limit for one message is 2 GiB).
pub const MAX_ONNX_BYTES: u64 = 2 << 30;

use crate::instance::raw::{RawDnn, RawEndpoint, RawLayer};

/// How finely the imported network is cut into atoms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// One atom per compute layer.
    Layer,
    /// One atom per convolution output channel; other layers stay whole.
    Filter,
}

impl std::str::FromStr for Granularity {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "layer" => Ok(Granularity::Layer),
            "filter" => Ok(Granularity::Filter),
            other => bail!("unknown granularity '{other}': expected layer or filter"),
        }
    }
}

/// One compute layer found in the model, before granularity is applied.
#[derive(Debug, Clone)]
pub struct ImportedLayer {
    /// Atom (layer) name, unique in the DNN.
    pub name: String,
    /// tract operator name of the compute node (`Conv`, `EinSum`, ...).
    pub op: String,
    /// Multiply–accumulate operations.
    pub macs: f64,
    /// Parameter elements (weights, biases, folded normalization).
    pub params: f64,
    /// Bytes of the emitted tensor (f32).
    pub out_bytes: f64,
    /// Output channels of a convolution (`None` for other operators).
    pub out_channels: Option<u64>,
    /// Indices of the layers feeding this one (`None` entry = the input).
    pub inputs: BTreeSet<Option<usize>>,
}

/// The model as a list of compute layers in topological order.
#[derive(Debug, Clone)]
pub struct Imported {
    /// Bytes of the model input (f32).
    pub input_bytes: f64,
    /// The input shape used.
    pub input_shape: Vec<usize>,
    /// Compute layers.
    pub layers: Vec<ImportedLayer>,
    /// Layers feeding the model output (`None` = the input itself).
    pub outputs: BTreeSet<Option<usize>>,
}

impl Imported {
    /// Total multiply–accumulate operations.
    pub fn total_macs(&self) -> f64 {
        self.layers.iter().map(|l| l.macs).sum()
    }
    /// Total parameter elements.
    pub fn total_params(&self) -> f64 {
        self.layers.iter().map(|l| l.params).sum()
    }
}

/// Parse a shape written `1x3x224x224`.
pub fn parse_shape(s: &str) -> Result<Vec<usize>> {
    s.split(['x', 'X', ','])
        .map(|d| {
            d.trim()
                .parse::<usize>()
                .map_err(|_| anyhow!("bad input shape '{s}': expected e.g. 1x3x224x224"))
        })
        .collect()
}

fn is_compute(op: &str) -> bool {
    op == "Conv" || op.contains("EinSum") || op.contains("MatMul") || op == "Gemm"
}

fn is_float(dt: DatumType) -> bool {
    matches!(dt, DatumType::F16 | DatumType::F32 | DatumType::F64)
}

fn concrete_volume(fact: &TypedFact, what: &str) -> Result<f64> {
    let shape = fact
        .shape
        .as_concrete()
        .ok_or_else(|| anyhow!("shape of {what} is not fully known ({:?})", fact.shape))?;
    Ok(shape.iter().map(|&d| d as f64).product())
}

fn sanitize(name: &str, taken: &mut HashSet<String>, fallback: &str) -> String {
    let mut base: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if base.is_empty() || base == "input" || base == "output" {
        base = fallback.to_string();
    }
    let mut name = base.clone();
    let mut k = 1;
    while !taken.insert(name.clone()) {
        k += 1;
        name = format!("{base}_{k}");
    }
    name
}

/// Load an ONNX file and cut it into compute layers. Declared sizes are
/// checked before tract analyses the model, and a panic inside tract is
/// an error naming the file.
pub fn import(path: &Path, input_shape: Option<&[usize]>) -> Result<Imported> {
    let bytes = if crate::instance::source::is_stdin(path) {
        crate::instance::source::stdin_bytes(MAX_ONNX_BYTES)
            .map_err(|e| anyhow::anyhow!("cannot read the ONNX model from standard input: {e}"))?
            .to_vec()
    } else {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
    };
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        import_bytes(&bytes, path, input_shape)
    }));
    caught.unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(anyhow!(
            "{}: the ONNX importer (tract) failed on this model: {what}",
            path.display()
        ))
    })
}

fn import_bytes(bytes: &[u8], path: &Path, input_shape: Option<&[usize]>) -> Result<Imported> {
    let onnx = tract_onnx::onnx();
    let proto = onnx
        .proto_model_for_read(&mut &bytes[..])
        .map_err(|e| anyhow!("{}: not a readable ONNX model: {e:#}", path.display()))?;
    check_declared_sizes(&proto).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    if let Some(s) = input_shape {
        check_elements(s.iter().map(|&d| d as i64), "the input shape")
            .map_err(|e| anyhow!("{}: --input-shape: {e}", path.display()))?;
    }
    let mut model = onnx
        .model_for_proto_model(&proto)
        .map_err(|e| anyhow!("{}: not a readable ONNX model: {e:#}", path.display()))?;
    for node in model.nodes() {
        let op = node.op.name();
        if let Some(inner) = op.strip_prefix("Unimplemented(") {
            bail!(
                "{}: unsupported operator {} at node '{}'",
                path.display(),
                inner.trim_end_matches(')'),
                node.name
            );
        }
    }
    if model.inputs.len() != 1 {
        bail!(
            "{}: the model has {} inputs; only single-input models are supported",
            path.display(),
            model.inputs.len()
        );
    }
    let shape: Vec<usize> = match input_shape {
        Some(s) => s.to_vec(),
        None => model
            .input_fact(0)?
            .shape
            .as_concrete_finite()?
            .map(|s| s.to_vec())
            .ok_or_else(|| {
                anyhow!(
                    "{}: the model's input shape is not fixed; pass --input-shape (e.g. 1x3x224x224)",
                    path.display()
                )
            })?,
    };
    model.set_input_fact(0, f32::fact(&shape).into())?;
    let typed = model
        .into_typed()
        .map_err(|e| anyhow!("{}: shape inference failed: {e:#}", path.display()))?;
    walk(&typed, shape).with_context(|| format!("importing {}", path.display()))
}

/// Refuses a model whose constant tensors, `ConstantOfShape` or `Expand`
/// shapes (when constant), or graph inputs declare a negative dimension or
/// more than [`MAX_TENSOR_ELEMENTS`] elements, before tract builds any of
/// them. Subgraphs (`If`, `Loop` bodies) are checked too.
pub fn check_declared_sizes(model: &pb::ModelProto) -> Result<()> {
    match &model.graph {
        Some(g) => check_graph(g, 0),
        None => Ok(()),
    }
}

fn check_graph(g: &pb::GraphProto, depth: usize) -> Result<()> {
    if depth > 32 {
        bail!("subgraphs nested more than 32 deep");
    }
    let mut consts: HashMap<&str, &pb::TensorProto> = HashMap::new();
    for t in &g.initializer {
        check_tensor(t, &format!("initializer '{}'", t.name))?;
        consts.insert(t.name.as_str(), t);
    }
    for vi in &g.input {
        check_value_info(vi)?;
    }
    for node in &g.node {
        let what = format!("node '{}' ({})", node.name, node.op_type);
        for a in &node.attribute {
            let at = format!("{what} attribute '{}'", a.name);
            if let Some(t) = &a.t {
                check_tensor(t, &at)?;
            }
            for t in &a.tensors {
                check_tensor(t, &at)?;
            }
            for sub in a.g.iter().chain(&a.graphs) {
                check_graph(sub, depth + 1)?;
            }
        }
        if node.op_type == "Constant" {
            if let (Some(out), Some(t)) = (
                node.output.first(),
                node.attribute.iter().find_map(|a| a.t.as_ref()),
            ) {
                consts.insert(out.as_str(), t);
            }
        }
        let shape_input = match node.op_type.as_str() {
            "ConstantOfShape" => node.input.first(),
            "Expand" => node.input.get(1),
            _ => None,
        };
        if let Some(t) = shape_input.and_then(|i| consts.get(i.as_str())) {
            let dims = int64_values(t).with_context(|| format!("the shape of {what}"))?;
            check_elements(dims.into_iter(), &format!("the shape of {what}"))?;
        }
    }
    Ok(())
}

fn check_value_info(vi: &pb::ValueInfoProto) -> Result<()> {
    use pb::tensor_shape_proto::dimension::Value;
    use pb::type_proto::Value as Ty;
    let Some(Ty::TensorType(t)) = vi.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Ok(());
    };
    let Some(shape) = &t.shape else {
        return Ok(());
    };
    let dims = shape.dim.iter().filter_map(|d| match d.value {
        Some(Value::DimValue(v)) => Some(v),
        _ => None,
    });
    check_elements(dims, &format!("input '{}'", vi.name))
}

fn check_tensor(t: &pb::TensorProto, what: &str) -> Result<()> {
    check_elements(
        t.dims.iter().copied(),
        &format!("{what} (tensor '{}')", t.name),
    )
}

/// Every dimension ≥ 0 and their product at most [`MAX_TENSOR_ELEMENTS`].
fn check_elements(dims: impl Iterator<Item = i64>, what: &str) -> Result<()> {
    let mut n: u64 = 1;
    let mut shown = Vec::new();
    let mut over = false;
    for d in dims {
        if d < 0 {
            bail!("{what} has the negative dimension {d}: expected dimensions ≥ 0");
        }
        shown.push(d.to_string());
        n = n.saturating_mul(d as u64);
        over |= n > MAX_TENSOR_ELEMENTS;
    }
    if over {
        bail!(
            "{what} has the shape [{}], more than {MAX_TENSOR_ELEMENTS} elements: refused before building it",
            shown.join(", ")
        );
    }
    Ok(())
}

/// The values of a small int64 (or int32) tensor, from its typed field or
/// its little-endian raw bytes.
fn int64_values(t: &pb::TensorProto) -> Result<Vec<i64>> {
    const INT32: i32 = pb::tensor_proto::DataType::Int32 as i32;
    const INT64: i32 = pb::tensor_proto::DataType::Int64 as i32;
    match t.data_type {
        INT64 if !t.raw_data.is_empty() => Ok(t
            .raw_data
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect()),
        INT64 => Ok(t.int64_data.clone()),
        INT32 if !t.raw_data.is_empty() => Ok(t
            .raw_data
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().expect("4 bytes")) as i64)
            .collect()),
        INT32 => Ok(t.int32_data.iter().map(|&v| v as i64).collect()),
        other => bail!("data type {other}: expected an int64 shape tensor"),
    }
}

fn walk(model: &TypedModel, input_shape: Vec<usize>) -> Result<Imported> {
    // Owner of each node's outputs: None = the model input, Some(i) = layer i.
    // Constant nodes have no owner (absent from the map).
    let mut owner: HashMap<usize, Option<usize>> = HashMap::new();
    let mut last_node: Vec<usize> = Vec::new();
    let mut layers: Vec<ImportedLayer> = Vec::new();
    let mut taken = HashSet::new();
    let input_bytes = 4.0 * input_shape.iter().map(|&d| d as f64).product::<f64>();
    for id in model.eval_order()? {
        let node = model.node(id);
        let op = node.op.name().to_string();
        if model.inputs.iter().any(|o| o.node == id) {
            owner.insert(id, None);
            continue;
        }
        // Inputs produced by the graph (not constants) and constant ones.
        let mut producers: BTreeSet<Option<usize>> = BTreeSet::new();
        let mut params = 0.0;
        for (ix, inlet) in node.inputs.iter().enumerate() {
            let fact = model.outlet_fact(*inlet)?;
            match owner.get(&inlet.node) {
                Some(o) if fact.konst.is_none() => {
                    producers.insert(*o);
                }
                _ => {
                    // Scalars are operator settings (epsilon, clip bounds),
                    // not learned parameters.
                    if is_float(fact.datum_type) {
                        let n =
                            concrete_volume(fact, &format!("input {ix} of node '{}'", node.name))?;
                        if n > 1.0 {
                            params += n;
                        }
                    }
                }
            }
        }
        if producers.is_empty() {
            // Constant subgraph: its outputs are parameters of whoever uses them.
            continue;
        }
        let target = if is_compute(&op) {
            let facts: Vec<&TypedFact> = node
                .inputs
                .iter()
                .map(|i| model.outlet_fact(*i))
                .collect::<TractResult<_>>()?;
            let mut macs = 0.0;
            for (cost, n) in node.op.cost(&facts)? {
                if let tract_onnx::tract_core::ops::Cost::FMA(_) = cost {
                    macs += n.to_i64().map_err(|_| {
                        anyhow!("cost of node '{}' ({op}) is not a number: {n}", node.name)
                    })? as f64;
                }
            }
            let out_channels = if op == "Conv" {
                let out = model.outlet_fact(OutletId::new(id, 0))?;
                out.shape
                    .as_concrete()
                    .and_then(|s| s.get(1).copied())
                    .map(|c| c as u64)
            } else {
                None
            };
            let fallback = format!("layer{}", layers.len());
            layers.push(ImportedLayer {
                name: sanitize(&node.name, &mut taken, &fallback),
                op: op.clone(),
                macs,
                params: 0.0,
                out_bytes: 0.0,
                out_channels,
                inputs: producers.clone(),
            });
            last_node.push(id);
            Some(layers.len() - 1)
        } else {
            // Fold into the most recent producing layer; None (the input)
            // sorts first, so any layer wins over it.
            let t = *producers.iter().next_back().unwrap();
            if let Some(t) = t {
                for p in &producers {
                    if *p != Some(t) {
                        layers[t].inputs.insert(*p);
                    }
                }
                last_node[t] = id;
            }
            t
        };
        if let Some(t) = target {
            layers[t].params += params;
        }
        owner.insert(id, target);
    }
    for (i, &id) in last_node.iter().enumerate() {
        let fact = model.outlet_fact(OutletId::new(id, 0))?;
        layers[i].out_bytes =
            4.0 * concrete_volume(fact, &format!("output of '{}'", layers[i].name))?;
    }
    let mut outputs = BTreeSet::new();
    for o in &model.outputs {
        match owner.get(&o.node) {
            Some(t) => {
                outputs.insert(*t);
            }
            None => bail!("model output '{}' is a constant", model.node(o.node).name),
        }
    }
    if layers.is_empty() {
        bail!("the model has no compute operator (convolution or matrix product)");
    }
    Ok(Imported {
        input_bytes,
        input_shape,
        layers,
        outputs,
    })
}

/// Turn the imported layers into the instance format's DNN.
pub fn to_raw(imp: &Imported, granularity: Granularity, name: &str, description: &str) -> RawDnn {
    let in_name = "input".to_string();
    let refname = |p: &Option<usize>| match p {
        None => in_name.clone(),
        Some(i) => imp.layers[*i].name.clone(),
    };
    let layers = imp
        .layers
        .iter()
        .map(|l| {
            let split = match (granularity, l.out_channels) {
                (Granularity::Filter, Some(c)) if c > 1 => c,
                _ => 1,
            };
            let k = split as f64;
            RawLayer {
                name: l.name.clone(),
                count: (split > 1).then_some(split),
                flops: Some(2.0 * l.macs / k),
                param_bytes: Some(4.0 * l.params / k),
                out_bytes: Some(l.out_bytes / k),
                group: None,
                mandatory: None,
                inputs: Some(l.inputs.iter().map(refname).collect()),
                atoms: None,
            }
        })
        .collect();
    RawDnn {
        name: Some(name.to_string()),
        description: Some(description.to_string()),
        input: RawEndpoint {
            name: in_name.clone(),
            out_bytes: Some(imp.input_bytes),
            inputs: None,
        },
        layers,
        output: RawEndpoint {
            name: "output".to_string(),
            out_bytes: None,
            inputs: Some(imp.outputs.iter().map(refname).collect()),
        },
        edges: Vec::new(),
    }
}

/// Decisions added to an imported DNN for layer-level studies.
#[derive(Debug, Clone, Copy, Default)]
pub struct Annotations {
    /// Mark every layer mandatory (a layer-level split: each task runs the
    /// whole network).
    pub mandatory: bool,
    /// Put the this many highest-FLOP layers in their own quantization
    /// group `q_<layer>` (0: none).
    pub quant_groups: usize,
}

/// Apply `ann` to `raw`; refuses a tie at the last quantized rank, which
/// would make the choice of layers arbitrary.
pub fn annotate(raw: &mut RawDnn, ann: Annotations) -> Result<()> {
    if ann.mandatory {
        for l in &mut raw.layers {
            l.mandatory = Some(true);
        }
    }
    let k = ann.quant_groups;
    if k == 0 {
        return Ok(());
    }
    let flops = |l: &RawLayer| l.flops.unwrap_or(0.0) * l.count.unwrap_or(1) as f64;
    let mut ranked: Vec<usize> = (0..raw.layers.len()).collect();
    ranked.sort_by(|&a, &b| {
        flops(&raw.layers[b])
            .total_cmp(&flops(&raw.layers[a]))
            .then(a.cmp(&b))
    });
    if k > ranked.len() {
        bail!(
            "--quant-groups {k}: the model has only {} compute layers",
            ranked.len()
        );
    }
    if k < ranked.len() && flops(&raw.layers[ranked[k - 1]]) == flops(&raw.layers[ranked[k]]) {
        bail!(
            "--quant-groups {k}: layers '{}' and '{}' tie at rank {k} with {} FLOP; choose another count",
            raw.layers[ranked[k - 1]].name,
            raw.layers[ranked[k]].name,
            flops(&raw.layers[ranked[k]])
        );
    }
    for &i in &ranked[..k] {
        raw.layers[i].group = Some(format!("q_{}", raw.layers[i].name));
    }
    Ok(())
}

/// Import `path` and write the DNN as YAML text.
pub fn import_to_yaml(
    path: &Path,
    granularity: Granularity,
    input_shape: Option<&[usize]>,
    name: &str,
    description: &str,
) -> Result<(String, Imported)> {
    import_annotated(
        path,
        granularity,
        input_shape,
        name,
        description,
        Annotations::default(),
    )
}

/// [`import_to_yaml`] with [`Annotations`].
pub fn import_annotated(
    path: &Path,
    granularity: Granularity,
    input_shape: Option<&[usize]>,
    name: &str,
    description: &str,
    ann: Annotations,
) -> Result<(String, Imported)> {
    let imp = import(path, input_shape)?;
    let mut raw = to_raw(&imp, granularity, name, description);
    annotate(&mut raw, ann)?;
    let mut value = serde_yaml::to_value(&raw)?;
    drop_nulls(&mut value);
    Ok((serde_yaml::to_string(&value)?, imp))
}

/// Remove `key: null` entries: unset optional fields are left out.
pub(crate) fn drop_nulls(v: &mut serde_yaml::Value) {
    match v {
        serde_yaml::Value::Mapping(m) => {
            m.retain(|_, x| !x.is_null());
            for (_, x) in m.iter_mut() {
                drop_nulls(x);
            }
        }
        serde_yaml::Value::Sequence(s) => s.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}
