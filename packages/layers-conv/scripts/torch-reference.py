#!/usr/bin/env python3
"""PyTorch reference values for @neurite/layers-conv: conv2d, max/avg pooling and batch norm, forward and backward.

Run with Debian's python3-torch (PyTorch 1.13), from this package's directory:

    /usr/bin/python3 scripts/torch-reference.py > test/fixtures/torch-reference.json

PyTorch computes in NCHW with weights [F, C/groups, kH, kW]; this script converts every tensor to the package's
layouts (NHWC inputs, [kH, kW, C/groups, F] kernels) before writing it. The reference is float64; inputs are
float32 numbers. TensorFlow's "same" padding (the package's) is written as an explicit F.pad, the extra row after;
average pooling with padding divides by the taps inside the image (count_include_pad=False). For every case the
script checks that PyTorch's own float32 result passes the file's tolerances, so they are attainable.
"""
import json
import math

import torch
import torch.nn.functional as F

TOL = {"forward": {"rtol": 1e-5, "atol": 1e-5}, "gradient": {"rtol": 1e-4, "atol": 1e-5}, "running": {"rtol": 1e-5, "atol": 1e-6}}

gen = torch.Generator().manual_seed(20261206)


def rand(*shape, scale=1.0):
    # float32 numbers, held in float64
    return ((torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1) * scale).float().double()


def nchw_to_nhwc(t):
    return t.permute(0, 2, 3, 1)


def oihw_to_hwio(t):
    return t.permute(2, 3, 1, 0)


def flat(t):
    return [float(v) for v in t.contiguous().reshape(-1).tolist()]


def record(t):
    return {"shape": list(t.shape), "values": flat(t)}


def same_pad(size, k, s, d):
    span = (k - 1) * d + 1
    out = math.ceil(size / s)
    total = max((out - 1) * s + span - size, 0)
    return total // 2, total - total // 2


def pad_for(x, k, s, d, padding):
    """(left, right, top, bottom) padding of an NCHW x, as F.pad wants it."""
    if padding == "valid":
        return (0, 0, 0, 0)
    top, bottom = same_pad(x.shape[2], k[0], s[0], d[0])
    left, right = same_pad(x.shape[3], k[1], s[1], d[1])
    return (left, right, top, bottom)


def check(name, y32, y64, tol):
    a, e = y32.double().reshape(-1), y64.reshape(-1)
    bad = (a - e).abs() > torch.maximum(tol["rtol"] * e.abs(), torch.full_like(e, tol["atol"]))
    assert not bad.any(), f"{name}: PyTorch's float32 result misses the tolerance"


def conv_case(cid, n, h, w, c, f, k, s, d, groups, padding):
    x = rand(n, c, h, w)
    wt = rand(f, c // groups, k[0], k[1], scale=0.5)
    b = rand(f)
    g = rand(n, f, *conv_out(h, w, k, s, d, padding))
    out = {}
    for dtype in (torch.float64, torch.float32):
        xx, ww, bb = (t.to(dtype).clone().requires_grad_() for t in (x, wt, b))
        y = F.conv2d(F.pad(xx, pad_for(xx, k, s, d, padding)), ww, bb, stride=s, dilation=d, groups=groups)
        y.backward(g.to(dtype))
        out[dtype] = (y.detach(), xx.grad, ww.grad, bb.grad)
    y, dx, dw, db = out[torch.float64]
    for name, i, tol in (("y", 0, TOL["forward"]), ("dx", 1, TOL["gradient"]), ("dw", 2, TOL["gradient"]), ("db", 3, TOL["gradient"])):
        check(f"{cid} {name}", out[torch.float32][i], out[torch.float64][i], tol)
    return {
        "id": cid, "op": "conv2d",
        "params": {"strides": list(s), "padding": padding, "dilation": list(d), "groups": groups},
        "x": record(nchw_to_nhwc(x)), "kernel": record(oihw_to_hwio(wt)), "bias": record(b), "g": record(nchw_to_nhwc(g)),
        "y64": record(nchw_to_nhwc(y)), "dx64": record(nchw_to_nhwc(dx)), "dkernel64": record(oihw_to_hwio(dw)), "dbias64": record(db),
    }


def conv_out(h, w, k, s, d, padding):
    def one(size, kk, ss, dd):
        if padding == "same":
            return math.ceil(size / ss)
        return (size - ((kk - 1) * dd + 1)) // ss + 1
    return one(h, k[0], s[0], d[0]), one(w, k[1], s[1], d[1])


def pool_case(cid, kind, n, h, w, c, k, s, padding):
    x = rand(n, c, h, w)
    oh, ow = conv_out(h, w, k, s, (1, 1), padding)
    g = rand(n, c, oh, ow)
    out = {}
    for dtype in (torch.float64, torch.float32):
        xx = x.to(dtype).clone().requires_grad_()
        p = pad_for(xx, k, s, (1, 1), padding)
        if kind == "max":
            y = F.max_pool2d(F.pad(xx, p, value=-math.inf), k, s)
        else:
            # divide by the taps inside the image (count_include_pad=False)
            total = F.avg_pool2d(F.pad(xx, p), k, s) * (k[0] * k[1])
            count = F.avg_pool2d(F.pad(torch.ones_like(xx), p), k, s) * (k[0] * k[1])
            y = total / count
        y.backward(g.to(dtype))
        out[dtype] = (y.detach(), xx.grad)
    check(f"{cid} y", out[torch.float32][0], out[torch.float64][0], TOL["forward"])
    check(f"{cid} dx", out[torch.float32][1], out[torch.float64][1], TOL["gradient"])
    y, dx = out[torch.float64]
    return {
        "id": cid, "op": f"{kind}Pool2d", "params": {"poolSize": list(k), "strides": list(s), "padding": padding},
        "x": record(nchw_to_nhwc(x)), "g": record(nchw_to_nhwc(g)), "y64": record(nchw_to_nhwc(y)), "dx64": record(nchw_to_nhwc(dx)),
    }


def bn_case(cid, n, h, w, c, momentum, eps, training):
    x = rand(n, c, h, w, scale=3.0) + 2
    gamma, beta = rand(c) + 1, rand(c)
    rm, rv = rand(c), rand(c) * 0.5 + 1
    g = rand(n, c, h, w)
    out = {}
    for dtype in (torch.float64, torch.float32):
        xx, gg, bb = (t.to(dtype).clone().requires_grad_() for t in (x, gamma, beta))
        rmean, rvar = rm.to(dtype).clone(), rv.to(dtype).clone()
        y = F.batch_norm(xx, rmean, rvar, gg, bb, training=training, momentum=momentum, eps=eps)
        y.backward(g.to(dtype))
        out[dtype] = (y.detach(), xx.grad, gg.grad, bb.grad, rmean, rvar)
    for name, i, tol in (("y", 0, TOL["forward"]), ("dx", 1, TOL["gradient"]), ("dgamma", 2, TOL["gradient"]), ("dbeta", 3, TOL["gradient"]),
                         ("runningMean", 4, TOL["running"]), ("runningVariance", 5, TOL["running"])):
        check(f"{cid} {name}", out[torch.float32][i], out[torch.float64][i], tol)
    y, dx, dg, db, rmean, rvar = out[torch.float64]
    return {
        "id": cid, "op": "batchNorm", "params": {"momentum": momentum, "epsilon": eps, "training": training},
        "x": record(nchw_to_nhwc(x)), "gamma": record(gamma), "beta": record(beta), "runningMean": record(rm), "runningVariance": record(rv),
        "g": record(nchw_to_nhwc(g)), "y64": record(nchw_to_nhwc(y)), "dx64": record(nchw_to_nhwc(dx)), "dgamma64": record(dg), "dbeta64": record(db),
        "runningMeanAfter64": record(rmean), "runningVarianceAfter64": record(rvar),
    }


cases = [
    conv_case("conv2d/3x3 valid", 2, 6, 5, 3, 4, (3, 3), (1, 1), (1, 1), 1, "valid"),
    conv_case("conv2d/3x3 same stride 2", 2, 7, 6, 2, 5, (3, 3), (2, 2), (1, 1), 1, "same"),
    conv_case("conv2d/2x4 same strides [1,3]", 1, 5, 9, 3, 2, (2, 4), (1, 3), (1, 1), 1, "same"),
    conv_case("conv2d/dilation 2 same", 2, 8, 7, 2, 3, (3, 3), (1, 1), (2, 2), 1, "same"),
    conv_case("conv2d/groups 2", 2, 5, 5, 4, 6, (3, 3), (1, 1), (1, 1), 2, "same"),
    conv_case("conv2d/depthwise x2 stride [2,1]", 1, 6, 5, 3, 6, (3, 3), (2, 1), (1, 1), 3, "same"),
    conv_case("conv2d/1x1 batch 1", 1, 4, 4, 5, 3, (1, 1), (1, 1), (1, 1), 1, "valid"),
    pool_case("maxPool2d/2x2 valid", "max", 2, 6, 6, 3, (2, 2), (2, 2), "valid"),
    pool_case("maxPool2d/3x3 stride 2 same", "max", 1, 7, 5, 2, (3, 3), (2, 2), "same"),
    pool_case("avgPool2d/2x2 valid", "avg", 2, 6, 6, 3, (2, 2), (2, 2), "valid"),
    pool_case("avgPool2d/3x3 stride 2 same", "avg", 1, 7, 5, 2, (3, 3), (2, 2), "same"),
    pool_case("avgPool2d/2x3 stride 1 same", "avg", 2, 4, 5, 2, (2, 3), (1, 1), "same"),
    bn_case("batchNorm/training momentum 0.1", 4, 3, 3, 3, 0.1, 1e-5, True),
    bn_case("batchNorm/training momentum 0.3 eps 1e-3", 2, 2, 3, 4, 0.3, 1e-3, True),
    bn_case("batchNorm/inference", 3, 2, 2, 3, 0.1, 1e-5, False),
]

print(json.dumps({
    "meta": {
        "source": "packages/layers-conv/scripts/torch-reference.py",
        "torch": torch.__version__,
        "layout": "NHWC inputs and outputs, kernels [kH, kW, C/groups, F]; converted from PyTorch's NCHW / OIHW in the script",
        "padding": "TensorFlow's 'same' as an explicit F.pad (extra row after); avg pooling divides by the taps inside the image",
        "gradients": "vector-Jacobian products: the gradients of sum(y * g)",
        "comparison": "|a - e| <= max(rtol·|e|, atol); PyTorch's own float32 results pass every case",
        "recommended_tolerances": TOL,
    },
    "cases": cases,
}, indent=None, separators=(",", ":")))
