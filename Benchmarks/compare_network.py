#!/usr/bin/env python3
"""A multi-layer network on MNIST: swift-softmax against PyTorch and
scikit-learn's MLPClassifier, in the same run, on the same machine.

    python3 Benchmarks/compare_network.py [--venv /tmp/venv-nn] [--epochs 20]
                                          [--hidden 256] [--sklearn-epochs 3]

Needs ../shared/data/mnist (the four IDX files; a user's clone: pass
--mnist DIR). The venv is made if missing (torch from PyPI, ~5 minutes and
~6 GB with its CUDA libraries, unused here; scikit-learn 1.9.1).

Every tool trains 784-HIDDEN-10 with ReLU on pixels/255 in float32, Adam
(learning rate 1e-3, betas 0.9/0.999, eps 1e-8), minibatches of 128
reshuffled each epoch, no weight decay, 2 threads:
  softmax   Benchmarks/.build/release/network-timing (the library's
            NetworkObjective and Adam; He-uniform initialization);
  torch     torch.set_num_threads(2); nn.Sequential(Linear, ReLU, Linear),
            F.cross_entropy, torch.optim.Adam; the data as float32 tensors
            in memory, each minibatch indexed from them with a permutation;
  sklearn   MLPClassifier(hidden_layer_sizes=(HIDDEN,), solver="adam",
            batch_size=128, learning_rate_init=1e-3, alpha=0, tol=0,
            n_iter_no_change=epochs+1, max_iter=--sklearn-epochs) (its
            BLAS on 2 threads): its epoch time is the fit's time over its
            epochs (it is slow: a few epochs tell its speed).

Epoch time: the minibatch steps of one epoch, wall clock, the median over
the epochs (the test accuracy is measured between epochs, untimed). Also
softmax's peak resident memory while training (VmHWM, reset after
loading; the test set is resident too) against the float32 size of X plus
the network.
Prints a table, each tool's best test accuracy within --epochs and the
epoch it was reached, and the ratios the issue's gates name: softmax /
torch and softmax / sklearn epoch time.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)

TORCH = r"""
import json, sys, time, numpy as np, torch
import torch.nn.functional as F
directory, hidden, epochs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(2)
torch.manual_seed(seed)
def idx(path):
    data = open(path, "rb").read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * a: 8 + 4 * a], "big") for a in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)
x = torch.from_numpy(idx(directory + "/train-images.idx3-ubyte").reshape(60000, 784).astype(np.float32) / 255)
y = torch.from_numpy(idx(directory + "/train-labels.idx1-ubyte").astype(np.int64))
xt = torch.from_numpy(idx(directory + "/t10k-images.idx3-ubyte").reshape(10000, 784).astype(np.float32) / 255)
yt = torch.from_numpy(idx(directory + "/t10k-labels.idx1-ubyte").astype(np.int64))
model = torch.nn.Sequential(torch.nn.Linear(784, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
generator = torch.Generator().manual_seed(seed)
for epoch in range(1, epochs + 1):
    start = time.perf_counter()
    order = torch.randperm(60000, generator=generator)
    total = 0.0
    for b in range(0, 60000, 128):
        index = order[b:b + 128]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x[index]), y[index])
        loss.backward()
        optimizer.step()
        total += float(loss.detach())
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = float((model(xt).argmax(1) == yt).float().mean())
    print(json.dumps({"epoch": epoch, "seconds": seconds, "test_accuracy": accuracy,
                      "loss": total / ((60000 + 127) // 128)}), flush=True)
"""

SKLEARN = r"""
import json, sys, time, numpy as np
from threadpoolctl import threadpool_limits
from sklearn.neural_network import MLPClassifier
directory, hidden, epochs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def idx(path):
    data = open(path, "rb").read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * a: 8 + 4 * a], "big") for a in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)
x = idx(directory + "/train-images.idx3-ubyte").reshape(60000, 784).astype(np.float32) / 255
y = idx(directory + "/train-labels.idx1-ubyte").astype(np.int64)
xt = idx(directory + "/t10k-images.idx3-ubyte").reshape(10000, 784).astype(np.float32) / 255
yt = idx(directory + "/t10k-labels.idx1-ubyte").astype(np.int64)
model = MLPClassifier(hidden_layer_sizes=(hidden,), solver="adam", batch_size=128,
                      learning_rate_init=1e-3, alpha=0.0, tol=0.0, n_iter_no_change=epochs + 1,
                      max_iter=epochs, random_state=seed, shuffle=True)
import warnings
warnings.filterwarnings("ignore")
with threadpool_limits(2):
    start = time.perf_counter()
    model.fit(x, y)
    seconds = time.perf_counter() - start
accuracy = float((model.predict(xt) == yt).mean())
for epoch in range(1, model.n_iter_ + 1):
    print(json.dumps({"epoch": epoch, "seconds": seconds / model.n_iter_,
                      "test_accuracy": accuracy if epoch == model.n_iter_ else None,
                      "loss": model.loss_curve_[epoch - 1]}), flush=True)
"""


def ensure_venv(venv):
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    probe = subprocess.run([python, "-c", "import torch, sklearn, threadpoolctl"],
                           capture_output=True)
    if probe.returncode != 0:
        subprocess.run([python, "-m", "pip", "install", "-q", "torch", "scikit-learn==1.9.1",
                        "threadpoolctl"], check=True)
    return python


def run_lines(command, env=None):
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"{command[0]} failed:\n{result.stderr}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def summary(lines):
    epochs = [line for line in lines if "epoch" in line]
    memory = [line for line in lines if "peak_rss_mb" in line]
    timed = [e["seconds"] for e in epochs]
    scored = [e for e in epochs if e["test_accuracy"] is not None]
    best = max(scored, key=lambda e: e["test_accuracy"])
    return {"epoch_seconds": statistics.median(timed), "best_accuracy": best["test_accuracy"],
            "best_epoch": best["epoch"], "last_accuracy": scored[-1]["test_accuracy"],
            "epochs": len(epochs), "memory": memory[0] if memory else None}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--venv", default="/tmp/venv-nn")
    parser.add_argument("--mnist", default=os.path.join(root, "..", "shared", "data", "mnist"))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--sklearn-epochs", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tools", default="softmax,torch,sklearn")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(args.mnist, "train-images.idx3-ubyte")):
        sys.exit(f"no MNIST in {args.mnist}: pass --mnist DIR")
    tools = args.tools.split(",")
    results = {}
    if "softmax" in tools:
        subprocess.run(["swift", "build", "-c", "release", "--package-path", here, "--product",
                        "network-timing"], check=True, capture_output=True)
        binary = os.path.join(here, ".build", "release", "network-timing")
        results["softmax"] = summary(run_lines(
            [binary, "--mnist", args.mnist, "--hidden", str(args.hidden), "--epochs",
             str(args.epochs), "--seed", str(args.seed), "--threads", "2"]))
    if "torch" in tools or "sklearn" in tools:
        python = ensure_venv(args.venv)
        env = dict(os.environ, OMP_NUM_THREADS="2", MKL_NUM_THREADS="2",
                   OPENBLAS_NUM_THREADS="2")
        if "torch" in tools:
            results["torch"] = summary(run_lines(
                [python, "-c", TORCH, args.mnist, str(args.hidden), str(args.epochs),
                 str(args.seed)], env))
        if "sklearn" in tools:
            results["sklearn"] = summary(run_lines(
                [python, "-c", SKLEARN, args.mnist, str(args.hidden), str(args.sklearn_epochs),
                 str(args.seed)], env))
    print(f"MNIST 784-{args.hidden}-10 ReLU, Adam 1e-3, batch 128, 2 threads")
    print("| tool | epoch seconds (median) | best test accuracy (epoch) | last | epochs |")
    print("|---|---|---|---|---|")
    for tool, r in results.items():
        print(f"| {tool} | {r['epoch_seconds']:.3f} | {100 * r['best_accuracy']:.2f} % "
              f"({r['best_epoch']}) | {100 * r['last_accuracy']:.2f} % | {r['epochs']} |")
    memory = results.get("softmax", {}).get("memory")
    if memory:
        print(f"softmax peak memory while training {memory['peak_rss_mb']:.0f} MB: "
              f"{memory['ratio']:.2f}x the float32 X ({memory['x_mb']:.0f} MB) and network "
              f"({memory['network_mb']:.1f} MB)")
    for peer in ("torch", "sklearn"):
        if "softmax" in results and peer in results:
            ratio = results["softmax"]["epoch_seconds"] / results[peer]["epoch_seconds"]
            print(f"softmax/{peer} epoch time {ratio:.2f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
