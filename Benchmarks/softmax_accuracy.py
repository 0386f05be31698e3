#!/usr/bin/env python3
"""The accuracy of float32 softmax: swift-softmax's kernels, ONNX Runtime and NumPy on the
same inputs, in ulps of a float64 reference (issue 20: where ONNX Runtime's speed comes from).

Inputs (seeded): the shapes 4096 × 1000 and 1024 × 128 of compare.py, each row normal with a
standard deviation of 1, 10 or 30 (a third of the rows each: softmaxes from flat to nearly
one-hot). The reference is the softmax computed in float64 from the same float32 inputs
(its own error, about 1e-16 relative, is 1e-9 of a float32 ulp). Each output above 1e-30
(SoftmaxCore's accuracy claim covers those) is scored |y − ref| / ulp(ref) in float32;
the table prints the largest and the 99.9th percentile per tool.

swift-softmax runs through `softmax apply --type float` (the release build; its text
output reads back to the same floats). ONNX Runtime (the Softmax operator, opset 13,
1 and 2 threads) and NumPy come from Benchmarks/.venv-peers (compare.py installs them).

    python3 Benchmarks/softmax_accuracy.py
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV_PYTHON = os.path.join(HERE, ".venv-peers", "bin", "python")

MEASURE = r'''
import json, os, subprocess, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
binary, folder = sys.argv[2], sys.argv[3]
from peers import softmax_tool
results = {}
for rows, cols in ((4096, 1000), (1024, 128)):
    rng = np.random.default_rng(7)
    scales = np.repeat([1.0, 10.0, 30.0], (rows + 2) // 3)[:rows, None]
    x = (rng.standard_normal((rows, cols)) * scales).astype(np.float32)
    x64 = x.astype(np.float64)
    z = x64 - x64.max(axis=1, keepdims=True)
    ref = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    ref32 = ref.astype(np.float32)
    keep = ref >= 1e-30
    ulp = np.spacing(np.abs(ref32)).astype(np.float64)
    def score(y):
        e = (np.abs(y.astype(np.float64) - ref) / ulp)[keep]
        return dict(max=float(e.max()), p999=float(np.percentile(e, 99.9)),
                    over1=float((e > 1).mean()))
    outputs = {}
    for tool in ("ort1", "ort2"):
        outputs[tool] = softmax_tool(tool, x)()[0]
    e = np.exp(x - x.max(axis=1, keepdims=True))
    outputs["numpy"] = e / e.sum(axis=1, keepdims=True)
    path = os.path.join(folder, f"x-{rows}x{cols}.csv")
    np.savetxt(path, x, delimiter=",", fmt="%.9g")
    out = subprocess.run([binary, "apply", path, "--type", "float"], capture_output=True,
                         check=True).stdout.decode()
    outputs["swift"] = np.loadtxt(out.splitlines(), delimiter=",", dtype=np.float64).astype(np.float32)
    results[f"{rows} x {cols}"] = {tool: score(y) for tool, y in outputs.items()}
print(json.dumps(results))
'''


def main():
    if not os.path.exists(VENV_PYTHON):
        sys.exit("no Benchmarks/.venv-peers: run Benchmarks/compare.py once (it installs the peers)")
    subprocess.run(["swift", "build", "-c", "release", "--product", "softmax"], cwd=ROOT,
                   check=True, capture_output=True)
    binary = os.path.join(ROOT, ".build", "release", "softmax")
    folder = os.path.join(HERE, ".data", "accuracy")
    os.makedirs(folder, exist_ok=True)
    import json
    out = subprocess.run([VENV_PYTHON, "-c", MEASURE, HERE, binary, folder], check=True,
                         capture_output=True, text=True).stdout
    results = json.loads(out.strip().splitlines()[-1])
    print("| shape | tool | largest error (ulps) | 99.9th percentile | outputs above 1 ulp |")
    print("|---|---|---|---|---|")
    for shape, tools in results.items():
        for tool, s in tools.items():
            print(f"| {shape} | {tool} | {s['max']:.2f} | {s['p999']:.2f} | {100 * s['over1']:.3f} % |")


if __name__ == "__main__":
    main()
