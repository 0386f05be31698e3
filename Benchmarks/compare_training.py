#!/usr/bin/env python3
"""Softmax regression on MNIST: swift-softmax against scikit-learn, in the same run.

Runs, interleaved for --rounds rounds:
  * swift: Benchmarks' `regression-timing` (one fused gradient evaluation with 1
    and 2 threads, and a plain read pass over X on one thread and on two);
  * scikit-learn: LogisticRegression(lbfgs, C=1, max_iter=100) with
    OPENBLAS_NUM_THREADS=1 (its faster setting on this machine), fit time / n_iter =
    its time per L-BFGS iteration, as ../shared/baselines/bench_train.py times it;
then prints the ratios of issue 5 (gradient <= 1/4 of scikit-learn's iteration;
gradient within 2x of the read pass). With --fit, also times swift's L-BFGS and
trust-region Newton fits to scikit-learn's tight optimum (1e-6 relative) against
scikit-learn's default fit (issue 20's gate: ratio < 1.0).
With --sgd, also runs minibatch SGD (batch 256, momentum 0.9, lr 0.1, 5 epochs) in
swift (`regression-timing --sgd`, 2 threads) and the NumPy loop of
../shared/baselines/bench_train.py (`mnist --only numpy`), interleaved, and prints
the epoch-time ratio (gate: <= 1/3), the accuracies (gate: within 0.3 %) and the
peak resident memory while training against the float32 size of X (gate: <= 1.5x).

    python3 Benchmarks/compare_training.py [--rounds 2] [--fit] [--sgd]

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
BENCH_TRAIN = os.path.join(HERE, os.pardir, os.pardir, "shared", "baselines", "bench_train.py")

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
    parser.add_argument("--sgd", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(MNIST, "train-images.idx3-ubyte")):
        sys.exit(f"no MNIST at {MNIST}")
    subprocess.check_call(["swift", "build", "-c", "release", "--product", "regression-timing"],
                          cwd=HERE, stdout=subprocess.DEVNULL)
    tool = os.path.join(HERE, ".build", "release", "regression-timing")
    exe = python()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    best = {}
    sgd_runs = {}
    for round_index in range(args.rounds):
        print(f"round {round_index + 1} of {args.rounds}...", file=sys.stderr)
        for threads in (1, 2):
            out = subprocess.check_output([tool, "--mnist", MNIST, "--no-fit", "--threads", str(threads)])
            for line in out.decode().splitlines():
                record = json.loads(line)
                key = (f"{record['what']} t{threads}"
                       if record["what"] not in ("read-pass", "read-pass-2") else record["what"])
                best[key] = min(best.get(key, 1e9), record["seconds"])
        out = subprocess.check_output([exe, "-c", SKLEARN, MNIST], env=env)
        record = json.loads(out)
        per_iteration = record["seconds"] / record["n_iter"]
        best["sklearn iteration"] = min(best.get("sklearn iteration", 1e9), per_iteration)
        best["sklearn fit"] = min(best.get("sklearn fit", 1e9), record["seconds"])
        if args.sgd:
            out = subprocess.check_output([tool, "--mnist", MNIST, "--no-fit", "--repeats", "1",
                                           "--threads", "2", "--sgd"])
            swift = [json.loads(l) for l in out.decode().splitlines() if '"sgd"' in l][0]
            sgd_runs.setdefault("swift", []).append(swift)
            out = subprocess.check_output(
                [exe, BENCH_TRAIN, "mnist", "--only", "numpy", "--no-ref"],
                env=dict(os.environ, RESULTS_OUT=os.devnull))
            numpy = [json.loads(l) for l in out.decode().splitlines() if l.startswith("{")][-1]
            sgd_runs.setdefault("numpy", []).append(numpy)
    if args.fit:
        for solver in ("lbfgs", "newton"):
            out = subprocess.check_output([tool, "--mnist", MNIST, "--repeats", "1", "--threads", "2",
                                           "--solver", solver])
            fit = [json.loads(l) for l in out.decode().splitlines() if '"fit"' in l][0]
            best[f"swift fit {solver}"] = fit
    print("MNIST 60000 x 784, 10 classes, C = 1: best of", args.rounds, "interleaved rounds")
    print("| measurement | ms | ratio |")
    print("|---|---|---|")
    sk = best["sklearn iteration"]
    read = best["read-pass"]
    read2 = best.get("read-pass-2")
    for threads in (1, 2):
        g = best[f"gradient t{threads}"]
        against2 = f"; {g / read2:.2f}x the two-thread read pass" if read2 else ""
        print(f"| swift gradient, {threads} thread(s) | {g * 1e3:.1f} | "
              f"{g / sk:.3f} of scikit-learn's iteration; {g / read:.2f}x the read pass{against2} |")
    print(f"| plain read pass over X (1 thread) | {read * 1e3:.1f} | |")
    if read2:
        print(f"| plain read pass over X (2 threads) | {read2 * 1e3:.1f} | |")
    print(f"| scikit-learn time per L-BFGS iteration (OPENBLAS_NUM_THREADS=1) | {sk * 1e3:.1f} | |")
    print(f"| scikit-learn default fit (max_iter=100) | {best['sklearn fit'] * 1e3:.0f} | |")
    if args.fit:
        for solver, name in (("lbfgs", "L-BFGS"), ("newton", "trust-region Newton")):
            fit = best[f"swift fit {solver}"]
            print(f"| swift {name} fit, 2 threads: {fit['iterations']} iterations, "
                  f"{fit['evaluations']} passes, objective "
                  f"{fit['objective']:.9g} ({fit['stop']}); 1e-6 of the optimum at iteration "
                  f"{fit['reached_1e-6_at_iteration']}, "
                  f"{(fit['reached_1e-6_seconds'] or float('nan')) * 1e3:.0f} ms | "
                  f"{fit['seconds'] * 1e3:.0f} | "
                  f"{(fit['reached_1e-6_seconds'] or float('nan')) / best['sklearn fit']:.2f} of "
                  "scikit-learn's default fit, to 1e-6 |")

    if args.sgd:
        print_sgd(sgd_runs)


def print_sgd(runs):
    """Epoch times (median and min over every round's epochs 2-5), accuracies, memory."""
    def epochs(name):
        return sorted(t for run in runs[name] for t in run["epoch_times_s"][1:])
    swift, numpy = epochs("swift"), epochs("numpy")
    median = lambda values: values[len(values) // 2]
    s, n = runs["swift"][-1], runs["numpy"][-1]
    print()
    print("Minibatch SGD, batch 256, momentum 0.9, lr 0.1, 5 epochs (epochs 2-5 of every round)")
    print("| | swift (2 threads) | NumPy loop | ratio |")
    print("|---|---|---|---|")
    print(f"| epoch, median ms | {median(swift) * 1e3:.1f} | {median(numpy) * 1e3:.1f} | "
          f"{median(swift) / median(numpy):.3f} (gate <= 0.333) |")
    print(f"| epoch, min ms | {swift[0] * 1e3:.1f} | {numpy[0] * 1e3:.1f} | {swift[0] / numpy[0]:.3f} |")
    print(f"| final train accuracy | {s['final_train_acc']:.4f} | {n['final_train_acc']:.4f} | "
          f"{(s['final_train_acc'] - n['final_train_acc']) * 100:+.2f} points |")
    print(f"| test accuracy | {s['test_acc']:.4f} | {n['test_acc']:.4f} | "
          f"{(s['test_acc'] - n['test_acc']) * 100:+.2f} points |")
    print(f"| final train loss | {s['final_train_loss']:.4f} | {n['final_train_loss']:.4f} | |")
    x = s["x_float32_bytes"]
    print(f"| swift peak resident memory while training (whole process) / float32 X | "
          f"{s['peak_resident_bytes_training'] / 2**20:.0f} MiB / {x / 2**20:.0f} MiB | | "
          f"{s['peak_resident_bytes_training'] / x:.2f}x (gate <= 1.5) |")
    print(f"| swift peak resident memory while loading / float32 X | "
          f"{s['peak_resident_bytes_before'] / 2**20:.0f} MiB | | "
          f"{s['peak_resident_bytes_before'] / x:.2f}x |")


if __name__ == "__main__":
    main()
