#!/usr/bin/env python3
"""Writes the TIDE network as ONNX: an AlexNet for 32x32 CIFAR-100 images
with 448 convolution filters in all (the TIDE paper gives only that total).

The widths keep AlexNet's proportions (64:192:384:256:256, scaled by
448/1152 and rounded so that they sum to 448). Pooling follows AlexNet
(after conv1, conv2 and conv5); the kernels shrink to fit 32x32 inputs;
the dense layers are AlexNet's 4096-4096-1000 scaled to 512-256-100.

Weights are ConstantOfShape placeholders, as in the other files of models/onnx/, so the
file is small while shapes, FLOP and parameter counts are real.

Usage: pip install onnx==1.17.0
       python3 scripts/tide_alexnet_onnx.py models/onnx/tide-alexnet-cifar100.onnx
"""

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CONV = [  # name, filters, kernel, pad, pool after
    ("conv1", 25, 5, 2, True),
    ("conv2", 75, 5, 2, True),
    ("conv3", 148, 3, 1, False),
    ("conv4", 100, 3, 1, False),
    ("conv5", 100, 3, 1, True),
]
DENSE = [("fc6", 512, True), ("fc7", 256, True), ("fc8", 100, False)]


def main(out_path: str) -> None:
    assert sum(c[1] for c in CONV) == 448
    nodes, inits = [], []

    def weight(name, shape):
        # The shape is an initializer; the weight tensor is made from it.
        inits.append(numpy_helper.from_array(np.array(shape, dtype=np.int64), name + "_shape"))
        nodes.append(
            helper.make_node(
                "ConstantOfShape",
                [name + "_shape"],
                [name],
                value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.01]),
            )
        )
        return name

    x, cin, side = "input", 3, 32
    for name, filters, k, pad, pool in CONV:
        w = weight(name + "_w", [filters, cin, k, k])
        b = weight(name + "_b", [filters])
        nodes.append(
            helper.make_node("Conv", [x, w, b], [name], kernel_shape=[k, k], pads=[pad] * 4, strides=[1, 1])
        )
        nodes.append(helper.make_node("Relu", [name], [name + "_relu"]))
        x = name + "_relu"
        if pool:
            nodes.append(
                helper.make_node("MaxPool", [x], [name + "_pool"], kernel_shape=[2, 2], strides=[2, 2])
            )
            x = name + "_pool"
            side //= 2
        cin = filters
    nodes.append(helper.make_node("Flatten", [x], ["flat"], axis=1))
    x, fan_in = "flat", cin * side * side
    for name, units, relu in DENSE:
        w = weight(name + "_w", [units, fan_in])
        b = weight(name + "_b", [units])
        nodes.append(helper.make_node("Gemm", [x, w, b], [name], transB=1))
        x = name
        if relu:
            nodes.append(helper.make_node("Relu", [x], [name + "_relu"]))
            x = name + "_relu"
        fan_in = units
    nodes.append(helper.make_node("Softmax", [x], ["prob"], axis=1))

    graph = helper.make_graph(
        nodes,
        "tide-alexnet-cifar100",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 100])],
        initializer=inits,
    )
    model = helper.make_model(graph, producer_name="edgesplit scripts/tide_alexnet_onnx.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, out_path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
