#!/usr/bin/env python3
"""Softmax regression on MNIST: swift-softmax against scikit-learn, in the same run.

Runs, interleaved for --rounds rounds:
  * swift: Benchmarks' `regression-timing` (one fused gradient evaluation, a plain
    read pass over X, with 1 and 2 threads);
  * scikit-learn: LogisticRegression(lbfgs, C=1, max_iter=100) with
    OPENBLAS_NUM_THREADS=1 (its faster setting on this machine), fit time / n_iter =
    its time per L-BFGS iteration, as ../shared/baselines/bench_train.py times it;
then prints the ratios of issue 5 (gradient <= 1/4 of scikit-learn's iteration;
gradient within 2x of the read pass). With --fit, also times swift's L-BFGS fit to
scikit-learn's tight optimum (1e-6 relative) against scikit-learn's default fit.

    python3 Benchmarks/compare_training.py [--rounds 2] [--fit]

scikit-learn is taken from Benchmarks/.venv-peers (pip-installed there if missing).
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(HERE, ".venv-peers")
MNIST = os.path.join(HERE, os.pardir, os.pardir, "shared", "data", "mnist")

SKLEARN = r'''
import json, sys, time, warnings
import numpy as np
from sklearn.linear_model import LogisticRegression
def idx(path):
    data = open(path, "rb").read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)
X = idx(sys.argv[1] + "/train-images.idx3-ubyte").reshape(60000, -1).astype(np.float32) / 255
y = idx(sys.argv[1] + "/train-labels.idx1-ubyte").astype(np.int64)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    t = time.perf_counter()
    m = LogisticRegression(solver="lbfgs", C=1.0, max_iter=100).fit(X, y)
    seconds = time.perf_counter() - t
print(json.dumps(dict(seconds=seconds, n_iter=int(np.max(m.n_iter_)))))
'''


def python():
    exe = os.path.join(VENV, "bin", "python")
    if not os.path.exists(exe):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    if subprocess.call([exe, "-c", "import sklearn"], stderr=subprocess.DEVNULL) != 0:
        subprocess.check_call([exe, "-m", "pip", "install", "-q", "scikit-learn", "numpy"])
    return exe


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--fit", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(MNIST, "train-images.idx3-ubyte")):
        sys.exit(f"no MNIST at {MNIST}")
    subprocess.check_call(["swift", "build", "-c", "release", "--product", "regression-timing"],
                          cwd=HERE, stdout=subprocess.DEVNULL)
    tool = os.path.join(HERE, ".build", "release", "regression-timing")
    exe = python()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    best = {}
    for round_index in range(args.rounds):
        print(f"round {round_index + 1} of {args.rounds}...", file=sys.stderr)
        for threads in (1, 2):
            out = subprocess.check_output([tool, "--mnist", MNIST, "--no-fit", "--threads", str(threads)])
            for line in out.decode().splitlines():
                record = json.loads(line)
                key = f"{record['what']} t{threads}" if record["what"] != "read-pass" else "read-pass"
                best[key] = min(best.get(key, 1e9), record["seconds"])
        out = subprocess.check_output([exe, "-c", SKLEARN, MNIST], env=env)
        record = json.loads(out)
        per_iteration = record["seconds"] / record["n_iter"]
        best["sklearn iteration"] = min(best.get("sklearn iteration", 1e9), per_iteration)
        best["sklearn fit"] = min(best.get("sklearn fit", 1e9), record["seconds"])
    if args.fit:
        out = subprocess.check_output([tool, "--mnist", MNIST, "--repeats", "1", "--threads", "2"])
        fit = [json.loads(l) for l in out.decode().splitlines() if '"fit"' in l][0]
        best["swift fit"] = fit
    print("MNIST 60000 x 784, 10 classes, C = 1: best of", args.rounds, "interleaved rounds")
    print("| measurement | ms | ratio |")
    print("|---|---|---|")
    sk = best["sklearn iteration"]
    read = best["read-pass"]
    for threads in (1, 2):
        g = best[f"gradient t{threads}"]
        print(f"| swift gradient, {threads} thread(s) | {g * 1e3:.1f} | "
              f"{g / sk:.3f} of scikit-learn's iteration; {g / read:.2f}x the read pass |")
    print(f"| plain read pass over X (1 thread) | {read * 1e3:.1f} | |")
    print(f"| scikit-learn time per L-BFGS iteration (OPENBLAS_NUM_THREADS=1) | {sk * 1e3:.1f} | |")
    print(f"| scikit-learn default fit (max_iter=100) | {best['sklearn fit'] * 1e3:.0f} | |")
    if args.fit:
        fit = best["swift fit"]
        print(f"| swift L-BFGS fit, 2 threads: {fit['iterations']} iterations, objective "
              f"{fit['objective']:.9g} ({fit['stop']}); 1e-6 of the optimum at iteration "
              f"{fit['reached_1e-6_at_iteration']} | {fit['seconds'] * 1e3:.0f} | "
              f"{(fit['reached_1e-6_seconds'] or float('nan')) / best['sklearn fit']:.2f} of "
              "scikit-learn's default fit, to 1e-6 |")


if __name__ == "__main__":
    main()
