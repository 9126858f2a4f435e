#!/usr/bin/env python3
"""PyTorch-exported CNNs for @neurite/onnx's import test (test/torch-cnn.test.ts): the .onnx files, their inputs and
PyTorch's outputs.

Run with Debian's python3-torch (PyTorch 1.13, which exports ONNX without the onnx Python package), from this
package's directory:

    /usr/bin/python3 scripts/torch-cnn.py

It writes test/fixtures/torch-cnn-*.onnx and .json; the test reads only those and needs no Python.

The models follow the user path of the package README ("Importing a PyTorch model"): Neurite's images are NHWC, so
each model's forward starts with x.permute(0, 3, 1, 2), is exported with an NHWC example input, and goes back to
channels last (x.permute(0, 2, 3, 1)) before a flatten of a feature map. Inputs are multiples of 1/1024 (exact in
float32, short in JSON). `y64` is the model run in float64 on the same input and float32 weights (the reference);
`y32` is PyTorch's float32 output. The script checks that y32 meets the test's tolerance against y64 (the "MLP z, a"
row of fixtures/reference/README.md: rtol 1e-5, atol 1e-6), so the tolerance is attainable in float32.
"""
import io
import json
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures")
RTOL, ATOL = 1e-5, 1e-6


class Nhwc(nn.Module):
    """A CNN that takes NHWC images: permute to PyTorch's NCHW, the body, then the head."""

    def __init__(self, body, head):
        super().__init__()
        self.body = body
        self.head = head

    def forward(self, x):
        return self.head(self.body(x.permute(0, 3, 1, 2)))


class ChannelsLastFlatten(nn.Module):
    """Back to channels last before flattening, so the features come in Neurite's order (h, w, c)."""

    def forward(self, x):
        return torch.flatten(x.permute(0, 2, 3, 1), 1)


def randomize_batch_norm(bn, g):
    # non-trivial running statistics, scale and offset (the defaults, ones and zeros, would hide a swapped input)
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(bn.num_features, generator=g) * 0.5)
        bn.running_var.copy_(torch.rand(bn.num_features, generator=g) * 1.5 + 0.25)
        bn.weight.copy_(torch.rand(bn.num_features, generator=g) + 0.5)
        bn.bias.copy_(torch.randn(bn.num_features, generator=g) * 0.3)


def nhwc_input(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-2048, 2049, shape, generator=g).float() / 1024


def export(name, model, x, opset, description):
    model.eval()
    buffer = io.BytesIO()
    torch.onnx.export(
        model, x, buffer, opset_version=opset, input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
    )
    with torch.no_grad():
        y32 = model(x)
        y64 = model.double()(x.double())
    model.float()
    bad = (y32.double() - y64).abs() > torch.clamp(RTOL * y64.abs(), min=ATOL)
    assert not bad.any(), f"{name}: PyTorch's float32 output misses rtol {RTOL}, atol {ATOL}"
    with open(os.path.join(OUT, f"{name}.onnx"), "wb") as f:
        f.write(buffer.getvalue())
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump({
            "model": f"{name}.onnx", "torch": torch.__version__, "opset": opset, "description": description,
            "tolerance": {"rtol": RTOL, "atol": ATOL},
            "input": {"shape": list(x.shape), "data": x.reshape(-1).tolist()},
            "output": {"shape": list(y64.shape), "y64": y64.reshape(-1).tolist(), "y32": y32.reshape(-1).tolist()},
        }, f, separators=(",", ":"))
    print(f"wrote {name}.onnx ({len(buffer.getvalue())} bytes)")


torch.manual_seed(0)
gen = torch.Generator().manual_seed(1)
# 14×14 images: maxPool to 7, so the stride-2 conv runs on an odd size, where PyTorch's padding=1 equals
# TensorFlow's "same" split (on an even size "same" pads one row after only; see the README)
gap = Nhwc(
    nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),  # the BatchNorm folds into the Conv at export
        nn.MaxPool2d(2),
        nn.BatchNorm2d(8),  # stays a BatchNormalization node
        nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.ReLU(),  # depthwise
        nn.Conv2d(8, 12, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(12, 12, 3, padding=2, dilation=2), nn.ReLU(),
        nn.AvgPool2d(2),  # exported as a Pad of zeros, then AveragePool
        nn.Dropout(0.25),
    ),
    nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(12, 10), nn.Softmax(dim=1)),
)
randomize_batch_norm(gap.body[1], gen)
randomize_batch_norm(gap.body[4], gen)
with torch.no_grad():
    # logits spread over several units, so the probabilities are far from uniform and show any error in them
    gap.head[2].weight.mul_(40)
export("torch-cnn-gap-opset17", gap, nhwc_input((4, 14, 14, 3), 2), 17, str(gap))

torch.manual_seed(3)
# an untrained BatchNorm: its weight equals its running variance (ones) and its bias its running mean (zeros), and
# torch.onnx.export keeps one copy of each, feeding the other name through an Identity node
flat = Nhwc(
    nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1, bias=False), nn.LeakyReLU(0.1),
        nn.BatchNorm2d(6),
        nn.MaxPool2d(3, stride=1, padding=1),
        nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
    ),
    nn.Sequential(ChannelsLastFlatten(), nn.Linear(5 * 5 * 6, 5)),
)
export("torch-cnn-flatten-opset13", flat, nhwc_input((3, 9, 9, 3), 4), 13, str(flat))


def export_refused(name, model, x, opset):
    """A model importOnnx must refuse (the test checks the message): only the .onnx file is written."""
    model.eval()
    buffer = io.BytesIO()
    torch.onnx.export(
        model, x, buffer, opset_version=opset, input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
    )
    with open(os.path.join(OUT, f"{name}.onnx"), "wb") as f:
        f.write(buffer.getvalue())
    print(f"wrote {name}.onnx ({len(buffer.getvalue())} bytes)")


torch.manual_seed(5)
# AvgPool2d's default count_include_pad=True: a Pad of zeros the average counts, which Neurite's avgPool2d does not
export_refused("torch-cnn-refused-count-include-pad", Nhwc(nn.Sequential(nn.Conv2d(3, 4, 1), nn.AvgPool2d(3, 1, padding=1)), ChannelsLastFlatten()), nhwc_input((2, 6, 6, 3), 6), 17)
# x.view(x.size(0), -1) with a dynamic batch: Shape, Gather, Unsqueeze, Concat feeding the Reshape
export_refused("torch-cnn-refused-view", Nhwc(nn.Sequential(nn.Conv2d(3, 4, 1)), lambda y: y.permute(0, 2, 3, 1).reshape(y.size(0), -1)), nhwc_input((2, 6, 6, 3), 7), 17)
