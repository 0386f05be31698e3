#!/usr/bin/env python3
# ===--- out_of_core_sparse.py ---------------------------------------------===#
#
# This source file is part of the swift-softmax open source project
# Licensed under Apache License v2.0
#
# ===-----------------------------------------------------------------------===#
"""A LIBSVM file larger than its memory limit, streamed as sparse rows, in one
run (issue 19):

1. generates a LIBSVM file of --rows rows with about --nonzeros entries each
   (Zipf-distributed feature indices among --features, values in (0, 1] with
   three decimals, labels from a planted linear model with noise) in --dir
   (default $TMPDIR/softmax-out-of-core-sparse), removed at the end unless
   --keep;
2. times `cat FILE > /dev/null` with the page cache warm (median of 3);
3. trains it with `softmax train FILE --stream --memory-limit LIMIT` and in
   memory with `--sparse` (no limit), the same --max-iter, each under GNU time
   for its peak resident memory (ru_maxrss: VmHWM at exit), and compares the
   model files byte for byte;
4. converts it once to a SciPy .npz (`softmax convert FILE OUT.npz`), and
   trains that streamed under the same limit, with the same model file;
5. prints the time of a streamed pass (the run's time over its passes: two
   for the first read and the value check, one for the column sums, one per
   evaluation, one to evaluate the model) against cat's, for the text and
   the .npz.

Everything reads float32 (--precision float), so that the three models
are the same bytes.

    python3 Benchmarks/out_of_core_sparse.py [--rows 2000000] [--nonzeros 30]
        [--features 100000] [--classes 10] [--limit 640M] [--iterations 10]
        [--dir DIR] [--keep]
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np

# The same measurements as the dense benchmark (this directory is on the path).
from out_of_core import cat_seconds, timed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def generate(path, n, m, d, k, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((d, k)).astype(np.float64)
    entries = 0
    with open(path, "w") as out:
        for start in range(0, n, 1 << 15):
            rows = min(n, start + (1 << 15)) - start
            columns = (rng.zipf(1.2, size=(rows, m)) - 1) % d
            values = np.round(rng.random((rows, m)) * 0.999 + 0.001, 3)
            lines = []
            for r in range(rows):
                c, first = np.unique(columns[r], return_index=True)
                v = values[r][first]
                score = v @ w[c] + rng.standard_normal(k) * 0.5
                entries += len(c)
                lines.append(str(int(np.argmax(score))) + " " + " ".join(
                    f"{ci + 1}:{vi:g}" for ci, vi in zip(c.tolist(), v.tolist())))
            out.write("\n".join(lines) + "\n")
    return entries


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--nonzeros", type=int, default=30)
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--limit", default="640M")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument(
        "--dir", default=os.path.join(tempfile.gettempdir(), "softmax-out-of-core-sparse"))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    subprocess.run(["swift", "build", "-c", "release", "--product", "softmax"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    softmax = os.path.join(ROOT, ".build/release/softmax")
    path = os.path.join(args.dir, "synthetic.svm")
    try:
        if not os.path.exists(path):  # a --keep run's file, same arguments
            start = time.perf_counter()
            generate(path, args.rows, args.nonzeros, args.features, args.classes)
            print(f"generated in {time.perf_counter() - start:.0f} s", flush=True)
        size = os.path.getsize(path)
        print(f"{path}: {args.rows} rows, {args.features} features, {size / (1 << 20):.0f} MiB",
              flush=True)
        cat, _ = cat_seconds(path)
        print(f"cat (warm): {cat:.3f} s ({size / cat / 1e9:.1f} GB/s)", flush=True)

        common = ["--max-iter", str(args.iterations), "--l2", "1e-4", "--json",
                  "--precision", "float"]
        streamed_model = os.path.join(args.dir, "streamed.json")
        memory_model = os.path.join(args.dir, "in-memory.json")
        streamed_seconds, streamed_kib, out = timed(
            [softmax, "train", path, "--stream", "--memory-limit", args.limit,
             "--model", streamed_model] + common)
        report = json.loads(out)
        print(f"streamed (--memory-limit {args.limit}): {streamed_seconds:.1f} s, "
              f"peak RSS {streamed_kib / 1024:.0f} MiB", flush=True)
        memory_seconds, memory_kib, _ = timed(
            [softmax, "train", path, "--sparse", "--model", memory_model] + common)
        print(f"in memory (--sparse): {memory_seconds:.1f} s, peak RSS {memory_kib / 1024:.0f} MiB",
              flush=True)
        npz = os.path.join(args.dir, "synthetic.npz")
        labels = os.path.join(args.dir, "synthetic.labels.txt")
        convert_seconds, convert_kib, _ = timed(
            [softmax, "convert", path, npz, "--precision", "float", "--labels-out", labels])
        npz_size = os.path.getsize(npz)
        print(f"convert to .npz: {convert_seconds:.1f} s, peak RSS {convert_kib / 1024:.0f} MiB, "
              f"{npz_size / (1 << 20):.0f} MiB", flush=True)
        npz_model = os.path.join(args.dir, "npz.json")
        npz_seconds, npz_kib, _ = timed(
            [softmax, "train", npz, "--labels", labels, "--stream", "--memory-limit", args.limit,
             "--model", npz_model] + common)
        npz_cat, _ = cat_seconds(npz)
        print(f"streamed .npz (--memory-limit {args.limit}): {npz_seconds:.1f} s, "
              f"peak RSS {npz_kib / 1024:.0f} MiB; cat {npz_cat:.3f} s", flush=True)
        with open(streamed_model, "rb") as a, open(memory_model, "rb") as b:
            same = a.read() == b.read()
        # The .npz model says where its data came from ("input"); the rest
        # must be the same.
        with open(streamed_model) as a, open(npz_model) as c:
            text_model, npz_model_json = json.load(a), json.load(c)
        text_model.pop("input", None)
        npz_model_json.pop("input", None)
        same = same and text_model == npz_model_json
        evaluations = report.get("evaluations", report.get("iterations", args.iterations) + 1)
        passes = 2 + 1 + evaluations + 1
        pass_seconds = streamed_seconds / passes
        limit = args.limit
        limit_bytes = int(limit[:-1]) << {"K": 10, "M": 20, "G": 30}[limit[-1].upper()] \
            if limit[-1].isalpha() else int(limit)
        summary = {
            "bytes": size, "rows": args.rows, "features": args.features,
            "classes": args.classes, "cat_seconds": cat,
            "streamed_seconds": streamed_seconds, "passes": passes,
            "pass_seconds": pass_seconds, "pass_vs_cat": cat / pass_seconds,
            "streamed_peak_rss_bytes": streamed_kib * 1024, "limit_bytes": limit_bytes,
            "under_limit": streamed_kib * 1024 <= limit_bytes,
            "in_memory_seconds": memory_seconds, "in_memory_peak_rss_bytes": memory_kib * 1024,
            "identical_models": same,
            "npz_bytes": npz_size, "npz_cat_seconds": npz_cat, "convert_seconds": convert_seconds,
            "npz_streamed_seconds": npz_seconds, "npz_pass_seconds": npz_seconds / passes,
            "npz_pass_vs_cat": npz_cat / (npz_seconds / passes),
            "npz_peak_rss_bytes": npz_kib * 1024,
        }
        print(f"model files identical: {same}")
        print(f"a streamed pass (parse + objective): about {pass_seconds:.2f} s = "
              f"{cat / pass_seconds:.3f}× cat's speed ({passes} passes)")
        print(f"a streamed .npz pass: about {npz_seconds / passes:.2f} s = "
              f"{npz_cat / (npz_seconds / passes):.3f}× cat's speed of the .npz")
        print(json.dumps(summary))
    finally:
        if not args.keep:
            shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
