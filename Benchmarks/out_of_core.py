#!/usr/bin/env python3
# ===--- out_of_core.py ----------------------------------------------------===#
#
# This source file is part of the swift-softmax open source project
# Licensed under Apache License v2.0
#
# ===-----------------------------------------------------------------------===#
"""The out-of-core gate of issue 19, in one run:

1. generates a float32 .npy of --gib GiB (rows of --features uniform values in
   [0, 1), labels from a planted linear model with noise, int64 .npy) in --dir
   (default $TMPDIR/softmax-out-of-core), and removes it at the end (--keep
   keeps it);
2. times `cat FILE > /dev/null` with the page cache warm (median of 3);
3. trains with `softmax train FILE --labels Y --memory-limit 1G` (streamed) and
   without a limit (in memory: the machine's memory is the default limit),
   the same --max-iter, each under GNU time for its peak resident memory
   (ru_maxrss: the kernel's VmHWM at exit), and compares the model files
   byte for byte;
4. times passes over the file with Benchmarks' stream-timing: a plain read of
   the rows, and an evaluation of the objective and its gradient during
   L-BFGS (one pass), and the same evaluation on the file loaded in memory
   (its arithmetic alone), and prints each against cat's speed.

    python3 Benchmarks/out_of_core.py [--gib 8] [--features 784] [--classes 10]
        [--limit 1G] [--iterations 10] [--dir DIR] [--keep]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def generate(path, labels_path, gib, d, k, seed=0):
    n = int(gib * (1 << 30)) // (4 * d)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((d, k)).astype(np.float32) / np.sqrt(d / 12)
    x = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    labels = np.empty(n, dtype=np.int64)
    for start in range(0, n, 1 << 16):
        end = min(n, start + (1 << 16))
        block = rng.random((end - start, d), dtype=np.float32)
        x[start:end] = block
        scores = (block - 0.5) @ w + rng.standard_normal((end - start, k)).astype(np.float32)
        labels[start:end] = np.argmax(scores, axis=1)
    x.flush()
    del x
    np.save(labels_path, labels)
    return n


def timed(command, **kwargs):
    """Runs `command` under GNU time: (seconds, peak resident KiB, stdout)."""
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M"] + command,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    seconds, kib = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib), result.stdout


def cat_seconds(path):
    with open(os.devnull, "wb") as null:
        for _ in range(2):
            subprocess.run(["cat", path], stdout=null, check=True)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(["cat", path], stdout=null, check=True)
            times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gib", type=float, default=8)
    parser.add_argument("--features", type=int, default=784)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--limit", default="1G")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument(
        "--dir", default=os.path.join(tempfile.gettempdir(), "softmax-out-of-core"))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    need = int(args.gib * (1 << 30)) + (1 << 30)
    free = shutil.disk_usage(args.dir).free
    if free < need:
        sys.exit(f"{args.dir}: {free >> 30} GiB free; the file needs {need >> 30} GiB")
    subprocess.run(["swift", "build", "-c", "release", "--product", "softmax"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["swift", "build", "-c", "release", "--product", "stream-timing"],
                   cwd=os.path.join(ROOT, "Benchmarks"), check=True, stdout=subprocess.DEVNULL)
    softmax = os.path.join(ROOT, ".build/release/softmax")
    timing = os.path.join(ROOT, "Benchmarks/.build/release/stream-timing")

    features = os.path.join(args.dir, "features.npy")
    labels = os.path.join(args.dir, "labels.npy")
    try:
        start = time.perf_counter()
        n = generate(features, labels, args.gib, args.features, args.classes)
        size = os.path.getsize(features)
        print(f"generated {features}: {n} rows × {args.features} float32, {size / (1 << 30):.2f} GiB, "
              f"{args.classes} classes, in {time.perf_counter() - start:.1f} s", flush=True)

        cat, cats = cat_seconds(features)
        print(f"cat {features} > /dev/null (warm): {cat:.3f} s ({size / cat / 1e9:.1f} GB/s) {cats}",
              flush=True)

        common = ["--labels", labels, "--max-iter", str(args.iterations), "--quiet"]
        streamed_model = os.path.join(args.dir, "streamed.json")
        memory_model = os.path.join(args.dir, "in-memory.json")
        streamed_seconds, streamed_kib, _ = timed(
            [softmax, "train", features, "--memory-limit", args.limit, "--model", streamed_model]
            + common)
        print(f"streamed  (--memory-limit {args.limit}): {streamed_seconds:.1f} s, "
              f"peak RSS {streamed_kib / 1024:.0f} MiB", flush=True)
        memory_seconds, memory_kib, _ = timed(
            [softmax, "train", features, "--model", memory_model] + common)
        print(f"in memory: {memory_seconds:.1f} s, peak RSS {memory_kib / 1024:.0f} MiB", flush=True)
        with open(streamed_model, "rb") as a, open(memory_model, "rb") as b:
            same = a.read() == b.read()
        print(f"model files identical: {same}", flush=True)

        out = subprocess.run(
            [timing, features, labels, "--iterations", str(args.iterations), "--in-memory"],
            stdout=subprocess.PIPE, text=True, check=True).stdout
        rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        read = next(r for r in rows if r["what"] == "read-pass")
        fit = next(r for r in rows if r["what"] == "fit")
        memory_fit = next(r for r in rows if r["what"] == "fit-in-memory")
        limit_bytes = int(args.limit[:-1]) << {"K": 10, "M": 20, "G": 30}[args.limit[-1].upper()] \
            if args.limit[-1].isalpha() else int(args.limit)
        summary = {
            "bytes": size, "rows": n, "features": args.features, "classes": args.classes,
            "cat_seconds": cat,
            "read_pass_seconds": read["seconds"], "read_pass_vs_cat": cat / read["seconds"],
            "training_pass_seconds": fit["pass_seconds"],
            "training_pass_vs_cat": cat / fit["pass_seconds"],
            "in_memory_pass_seconds": memory_fit["pass_seconds"],
            "in_memory_pass_vs_cat": cat / memory_fit["pass_seconds"],
            "evaluations": fit["evaluations"], "iterations": fit["iterations"],
            "streamed_peak_rss_bytes": streamed_kib * 1024, "limit_bytes": limit_bytes,
            "under_limit": streamed_kib * 1024 <= limit_bytes,
            "in_memory_peak_rss_bytes": memory_kib * 1024,
            "streamed_seconds": streamed_seconds, "in_memory_seconds": memory_seconds,
            "identical_models": same,
        }
        print(f"a pass reading the rows: {read['seconds']:.3f} s = {cat / read['seconds']:.2f}× cat's speed")
        print(f"a training pass (an L-BFGS evaluation): {fit['pass_seconds']:.3f} s = "
              f"{cat / fit['pass_seconds']:.2f}× cat's speed")
        print(f"the same pass on the rows in memory (no reading): {memory_fit['pass_seconds']:.3f} s = "
              f"{cat / memory_fit['pass_seconds']:.2f}× cat's speed")
        print(json.dumps(summary))
    finally:
        if not args.keep:
            shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
