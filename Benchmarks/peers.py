#!/usr/bin/env python3
"""Times the peers of swift-softmax on the benchmark shapes: NumPy, SciPy,
PyTorch (1 and 2 threads), JAX (jit), ONNX Runtime (1 and 2 threads) and
MLX (CPU). One JSON object per line on stdout.

    peers.py --op softmax|cross-entropy --tools numpy,scipy,torch1,...

Method (as ../shared/baselines/benchutil.py): 3 warm-up calls, calls per
repeat calibrated to at least 50 ms, 21 repeats, the median per call.
Output allocation is part of every call (that is what these APIs cost a
user). Input: float32 standard normal × 4 (softmax) or × 2 (cross-entropy),
softmax along the last axis; cross-entropy is the mean loss and its
gradient with respect to the logits.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

SOFTMAX_SHAPES = [(65536, 10), (4096, 1000), (256, 32768), (16, 1048576), (1024, 128)]
CE_SHAPES = [(65536, 10), (4096, 1000)]


def bench(fn, target=0.05, repeat=21, warmup=3):
    for _ in range(warmup):
        fn()
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        dt = time.perf_counter() - t0
        if dt >= target or number >= 100000:
            break
        number = min(100000, max(number * 2, int(number * target / max(dt, 1e-9) * 1.2)))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times), min(times), number


def softmax_tool(name, x):
    if name == "numpy":
        def f():
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        return f
    if name == "scipy":
        import scipy.special
        return lambda: scipy.special.softmax(x, axis=-1)
    if name.startswith("torch"):
        import torch
        torch.set_num_threads(int(name[5:]))
        xt = torch.from_numpy(x)
        return lambda: torch.softmax(xt, dim=-1)
    if name == "jax":
        import jax
        xj = jax.numpy.asarray(x)
        g = jax.jit(lambda a: jax.nn.softmax(a, axis=-1))
        return lambda: g(xj).block_until_ready()
    if name == "mlx":
        import mlx.core as mx
        mx.set_default_device(mx.cpu)
        xm = mx.array(x)
        mx.eval(xm)
        def f():
            r = mx.softmax(xm, axis=-1)
            mx.eval(r)
        return f
    if name.startswith("ort"):
        import onnxruntime as ort
        from onnx import TensorProto, helper
        X = helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x.shape))
        Y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, list(x.shape))
        graph = helper.make_graph([helper.make_node("Softmax", ["X"], ["Y"], axis=-1)], "s", [X], [Y])
        return ort_runner(graph, int(name[3:]), {"X": x})
    raise ValueError(name)


def ort_runner(graph, threads, feed):
    import onnxruntime as ort
    from onnx import helper
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), sess_options=options,
                                   providers=["CPUExecutionProvider"])
    return lambda: session.run(None, feed)


def cross_entropy_tool(name, x, t):
    n, c = x.shape
    if name == "numpy":
        rows = np.arange(n)
        def f():
            z = x - x.max(axis=1, keepdims=True)
            e = np.exp(z)
            s = e.sum(axis=1, keepdims=True)
            loss = float(np.mean(np.log(s[:, 0]) - z[rows, t]))
            e *= (1.0 / (s * n)).astype(np.float32)
            e[rows, t] -= np.float32(1.0 / n)
            return loss, e
        return f
    if name.startswith("torch"):
        import torch
        import torch.nn.functional as F
        torch.set_num_threads(int(name[5:]))
        xt = torch.from_numpy(x.copy()).requires_grad_(True)
        tt = torch.from_numpy(t.astype(np.int64))
        def f():
            xt.grad = None
            loss = F.cross_entropy(xt, tt)
            loss.backward()
            return loss.item(), xt.grad
        return f
    if name == "jax":
        import jax
        import jax.numpy as jnp
        xj, tj = jnp.asarray(x), jnp.asarray(t.astype(np.int32))
        def loss(z, y):
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(z, axis=1), y[:, None], axis=1))
        g = jax.jit(jax.value_and_grad(loss))
        def f():
            value, grad = g(xj, tj)
            grad.block_until_ready()
            return value, grad
        return f
    if name == "mlx":
        import mlx.core as mx
        import mlx.nn as nn
        mx.set_default_device(mx.cpu)
        xm, tm = mx.array(x), mx.array(t.astype(np.int32))
        g = mx.value_and_grad(lambda z: nn.losses.cross_entropy(z, tm, reduction="mean"))
        def f():
            value, grad = g(xm)
            mx.eval(value, grad)
        return f
    if name.startswith("ort"):
        from onnx import TensorProto, helper
        X = helper.make_tensor_value_info("X", TensorProto.FLOAT, [n, c])
        T = helper.make_tensor_value_info("T", TensorProto.INT64, [n])
        L = helper.make_tensor_value_info("L", TensorProto.FLOAT, [])
        G = helper.make_tensor_value_info("G", TensorProto.FLOAT, [n, c])
        const = lambda name, kind, values, dims: helper.make_tensor(name, kind, dims, values)
        nodes = [
            helper.make_node("LogSoftmax", ["X"], ["LS"], axis=1),
            helper.make_node("Exp", ["LS"], ["P"]),
            helper.make_node("OneHot", ["T", "depth", "onoff"], ["OH"], axis=-1),
            helper.make_node("Mul", ["LS", "OH"], ["picked"]),
            helper.make_node("ReduceSum", ["picked"], ["total"], keepdims=0),
            helper.make_node("Div", ["total", "minus_n"], ["L"]),
            helper.make_node("Sub", ["P", "OH"], ["diff"]),
            helper.make_node("Div", ["diff", "n"], ["G"]),
        ]
        init = [const("depth", TensorProto.INT64, [c], []),
                const("onoff", TensorProto.FLOAT, [0.0, 1.0], [2]),
                const("minus_n", TensorProto.FLOAT, [-float(n)], []),
                const("n", TensorProto.FLOAT, [float(n)], [])]
        graph = helper.make_graph(nodes, "ce", [X, T], [L, G], initializer=init)
        return ort_runner(graph, int(name[3:]), {"X": x, "T": t.astype(np.int64)})
    raise ValueError(name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--op", default="softmax", choices=["softmax", "cross-entropy"])
    ap.add_argument("--tools", default="numpy,scipy,torch1,torch2,jax,ort1,ort2,mlx")
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    shapes = SOFTMAX_SHAPES if args.op == "softmax" else CE_SHAPES
    for shape in shapes:
        rng = np.random.default_rng(0)
        scale = 4.0 if args.op == "softmax" else 2.0
        x = (rng.standard_normal(shape, dtype=np.float32) * scale).astype(np.float32)
        t = (np.arange(shape[0]) * 7919) % shape[1]
        for tool in args.tools.split(","):
            if args.op == "cross-entropy" and tool == "scipy":
                continue
            try:
                f = softmax_tool(tool, x) if args.op == "softmax" else cross_entropy_tool(tool, x, t)
                median, fastest, number = bench(f, repeat=args.repeat)
            except Exception as error:  # a missing peer is reported, not fatal
                print(json.dumps(dict(tool=tool, op=args.op, shape=list(shape), error=str(error)[:200])), flush=True)
                continue
            n = shape[0] * shape[1]
            print(json.dumps(dict(tool=tool, op=args.op, shape=list(shape), median_s=median,
                                  min_s=fastest, number=number, gbps=2 * n * 4 / median / 1e9)),
                  flush=True)


if __name__ == "__main__":
    sys.exit(main())
