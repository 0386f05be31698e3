#!/usr/bin/env python3
# ===--- compare_distributed.py --------------------------------------------===#
#
# This source file is part of the swift-softmax open source project
# Licensed under Apache License v2.0
#
# ===-----------------------------------------------------------------------===#
"""Distributed L-BFGS on MNIST, in one run (issue 19's gates):

- `mpirun -np 1 softmax-mpi --threads 1` against `mpirun -np 2 softmax-mpi
  --threads 1`: the seconds of an L-BFGS iteration (median of the run's
  iterations after the first, per evaluation), alternating runs;
- Spark MLlib's `LogisticRegression(family="multinomial")` in `local[2]` on
  the same rows (standardized, λ = 1/n, no elastic net): the seconds of an
  iteration (the fit of N iterations less the fit of 2, over N − 2), and
  its objective after N iterations against ours.

Needs Open MPI (libopenmpi-dev, openmpi-bin), Java 17 and pyspark (a venv:
`python3 -m venv /tmp/venv-spark && /tmp/venv-spark/bin/pip install pyspark
numpy`; pass its python with --spark-python).

    python3 Benchmarks/compare_distributed.py [--mnist ../shared/data/mnist]
        [--iterations 30] [--repeats 3] [--spark-python /tmp/venv-spark/bin/python]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SPARK = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    from pyspark.sql import SparkSession
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.linalg import Vectors
    features, labels, iterations, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    x = np.load(features)
    y = np.array([float(line) for line in open(labels) if line.strip()])
    spark = (SparkSession.builder.master("local[2]").appName("softmax-compare")
             .config("spark.driver.memory", "6g").config("spark.ui.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    rows = [(float(label), Vectors.dense(row)) for label, row in zip(y, x.astype(np.float64))]
    frame = spark.createDataFrame(rows, ["label", "features"]).repartition(2).cache()
    frame.count()
    def fit(n):
        model = LogisticRegression(family="multinomial", maxIter=n, regParam=1.0 / len(y),
                                   elasticNetParam=0.0, standardization=True, tol=0.0)
        start = time.perf_counter()
        fitted = model.fit(frame)
        return time.perf_counter() - start, fitted.summary
    fit(2)  # warm-up
    result = {"short": [], "long": [], "iterations": None, "objective": None}
    for _ in range(repeats):
        seconds, _ = fit(2)
        result["short"].append(seconds)
        seconds, summary = fit(iterations)
        result["long"].append(seconds)
        result["iterations"] = summary.totalIterations
        result["objective_history"] = list(summary.objectiveHistory)
    print(json.dumps(result))
    spark.stop()
""")


def ours(binary, data, labels, ranks, iterations):
    """One run of softmax-mpi: its JSON summary."""
    command = ["mpirun", "--oversubscribe", "-np", str(ranks)]
    if os.geteuid() == 0:
        command.append("--allow-run-as-root")
    command += [binary, data, "--labels", labels, "--standardize", "--threads", "1",
                "--max-iter", str(iterations), "--tol", "0", "--json",
                "--model", os.path.join(os.path.dirname(data), f"model-{ranks}.json")]
    out = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True).stdout
    return json.loads(out)


def per_evaluation(summary):
    trace = summary["trace"]
    steps = [(b["seconds"] - a["seconds"]) / max(1, b["evaluations"] - a["evaluations"])
             for a, b in zip(trace, trace[1:])]
    return statistics.median(steps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", default=os.path.join(ROOT, "../shared/data/mnist"))
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--spark-python", default="/tmp/venv-spark/bin/python")
    args = parser.parse_args()

    env = dict(os.environ, SOFTMAX_MPI="1")
    subprocess.run(["swift", "build", "-c", "release", "--product", "softmax-mpi"], cwd=ROOT,
                   env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["swift", "build", "-c", "release", "--product", "softmax"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    binary = os.path.join(ROOT, ".build/release/softmax-mpi")
    work = tempfile.mkdtemp(prefix="softmax-distributed-")
    data = os.path.join(work, "mnist.npy")
    subprocess.run([os.path.join(ROOT, ".build/release/softmax"), "convert",
                    os.path.join(args.mnist, "train-images.idx3-ubyte"), data],
                   check=True, stdout=subprocess.DEVNULL)
    labels = os.path.join(work, "mnist.labels.txt")

    one, two = [], []
    for _ in range(args.repeats):
        one.append(ours(binary, data, labels, 1, args.iterations))
        two.append(ours(binary, data, labels, 2, args.iterations))
    same = open(os.path.join(work, "model-1.json"), "rb").read() == \
        open(os.path.join(work, "model-2.json"), "rb").read()
    one_seconds = statistics.median(per_evaluation(s) for s in one)
    two_seconds = statistics.median(per_evaluation(s) for s in two)
    print(f"ours, 1 rank × 1 thread:  {one_seconds:.4f} s an iteration")
    print(f"ours, 2 ranks × 1 thread: {two_seconds:.4f} s an iteration "
          f"({two_seconds / one_seconds:.2f}× one rank's); the same model: {same}")
    print(f"ours: objective {two[0]['objective']:.8f} after {two[0]['iterations']} iterations")

    spark = subprocess.run([args.spark_python, "-c", SPARK, data, labels, str(args.iterations),
                            str(args.repeats)], stdout=subprocess.PIPE, text=True, check=True)
    result = json.loads(spark.stdout.strip().splitlines()[-1])
    spark_iterations = result["iterations"]
    spark_seconds = (statistics.median(result["long"]) - statistics.median(result["short"])) / \
        max(1, spark_iterations - 2)
    spark_objective = result["objective_history"][-1]
    print(f"Spark MLlib local[2]: {spark_seconds:.4f} s an iteration "
          f"({spark_seconds / two_seconds:.1f}× ours with 2 ranks); objective "
          f"{spark_objective:.8f} after {spark_iterations} iterations")
    # To the same objective: Spark's after N iterations. Ours from the start
    # of training, its share loaded (the setup passes included: maxima,
    # standardization, the preconditioner); Spark's fit, its rows cached.
    long_run = ours(binary, data, labels, 2, 10 * args.iterations)
    reach = next((point["seconds"] for point in long_run["trace"]
                  if point["objective"] <= spark_objective), None)
    reach_iterations = next((i + 1 for i, point in enumerate(long_run["trace"])
                             if point["objective"] <= spark_objective), None)
    spark_total = statistics.median(result["long"])
    if reach is not None:
        print(f"to Spark's objective after {spark_iterations} iterations: ours (2 ranks) "
              f"{reach:.2f} s ({reach_iterations} iterations, setup included; loading the file "
              f"{long_run['loading_seconds']:.2f} s more), Spark "
              f"{spark_total:.2f} s ({spark_total / reach:.1f}×)")
    print(json.dumps({
        "one_rank_iteration_seconds": one_seconds, "two_ranks_iteration_seconds": two_seconds,
        "two_over_one": two_seconds / one_seconds, "identical_models": same,
        "spark_iteration_seconds": spark_seconds, "spark_over_ours": spark_seconds / two_seconds,
        "our_objective": two[0]["objective"], "spark_objective": spark_objective,
        "our_seconds_to_spark_objective": reach, "our_iterations_to_spark_objective": reach_iterations,
        "spark_fit_seconds": spark_total,
        "iterations": args.iterations,
    }))


if __name__ == "__main__":
    main()
