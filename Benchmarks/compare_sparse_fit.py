#!/usr/bin/env python3
"""Time to scikit-learn's tight optimum on 20 Newsgroups tf-idf (issue 20's sparse gate).

One CSR matrix for both: scikit-learn's TfidfVectorizer on the "bydate" training posts
(load_files(encoding="latin-1"), token_pattern r"(?u)[^\\W_]{2,}", its other defaults:
sublinear_tf off, idf smoothed, rows of unit L2 norm), written as a LIBSVM file
(dump_svmlight_file, 1-based, labels 0..19). Then, in one run:

  * scikit-learn's default fit, LogisticRegression(C=1) (lbfgs, tol 1e-4, max_iter 100;
    OPENBLAS_NUM_THREADS=1), timed, rounds times (the best kept);
  * its tight fit (tol 1e-10, max_iter 20000), untimed: the optimum, in swift-softmax's
    form (the mean cross-entropy + λ/2·‖W‖², λ = 1/(C·n));
  * swift-softmax's `sparse-timing --fit` with L-BFGS and with trust-region Newton
    (2 threads, the same file read as Double): the seconds until the objective is within
    1e-6 (relative) of that optimum, reading excluded.

Prints each time, and the ratio to scikit-learn's default fit (gate: < 1.0).

    python3 Benchmarks/compare_sparse_fit.py [--rounds 2] [--tarball PATH]

scikit-learn is taken from Benchmarks/.venv-peers (pip-installed there if missing); the
tarball is ../shared/data/20newsgroups/20news-bydate.tar.gz by default.
"""
import argparse
import json
import os
import subprocess
import sys
import tarfile

# Benchmarks/.venv-peers with scikit-learn, made as compare_training.py makes it.
from compare_training import python

HERE = os.path.dirname(os.path.abspath(__file__))
TARBALL = os.path.join(HERE, os.pardir, os.pardir, "shared", "data", "20newsgroups",
                       "20news-bydate.tar.gz")

PREPARE = r'''
import json, sys
import numpy as np
from sklearn.datasets import load_files, dump_svmlight_file
from sklearn.feature_extraction.text import TfidfVectorizer
folder, out = sys.argv[1], sys.argv[2]
train = load_files(folder + "/20news-bydate-train", encoding="latin-1")
X = TfidfVectorizer(token_pattern=r"(?u)[^\W_]{2,}").fit_transform(train.data)
dump_svmlight_file(X, np.asarray(train.target), out, zero_based=False)
print(json.dumps(dict(rows=X.shape[0], features=X.shape[1], nnz=int(X.nnz))))
'''

SKLEARN = r'''
import json, sys, time, warnings
import numpy as np
from sklearn.datasets import load_svmlight_file
from sklearn.linear_model import LogisticRegression
X, y = load_svmlight_file(sys.argv[1], n_features=int(sys.argv[2]), zero_based=False)
y = y.astype(np.int64)
tight = sys.argv[3] == "tight"
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    t = time.perf_counter()
    m = (LogisticRegression(C=1.0, tol=1e-10, max_iter=20000) if tight
         else LogisticRegression(C=1.0)).fit(X, y)
    seconds = time.perf_counter() - t
n = X.shape[0]
z = X @ m.coef_.T + m.intercept_
z -= z.max(axis=1, keepdims=True)
nll = np.log(np.exp(z).sum(axis=1)) - z[np.arange(n), y]
objective = nll.mean() + 0.5 / n * float((m.coef_ ** 2).sum())
print(json.dumps(dict(seconds=seconds, n_iter=int(np.max(m.n_iter_)), objective=objective)))
'''


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tarball", default=TARBALL)
    args = parser.parse_args()
    if not os.path.exists(args.tarball):
        sys.exit(f"no {args.tarball}: the 20 Newsgroups bydate tarball "
                 "(https://ndownloader.figshare.com/files/5975967)")
    folder = os.path.join(HERE, ".data", "20news")
    if not os.path.isdir(os.path.join(folder, "20news-bydate-train")):
        os.makedirs(folder, exist_ok=True)
        with tarfile.open(args.tarball) as archive:
            archive.extractall(folder)
    exe = python()
    svm = os.path.join(folder, "train-tfidf.svm")
    shape = json.loads(subprocess.check_output([exe, "-c", PREPARE, folder, svm]))
    subprocess.check_call(["swift", "build", "-c", "release", "--product", "sparse-timing"],
                          cwd=HERE, stdout=subprocess.DEVNULL)
    tool = os.path.join(HERE, ".build", "release", "sparse-timing")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    d = str(shape["features"])
    tight = json.loads(subprocess.check_output([exe, "-c", SKLEARN, svm, d, "tight"], env=env))
    target = tight["objective"]
    l2 = 1 / shape["rows"]
    best = {}
    for _ in range(args.rounds):
        run = json.loads(subprocess.check_output([exe, "-c", SKLEARN, svm, d, "default"], env=env))
        if "sklearn" not in best or run["seconds"] < best["sklearn"]["seconds"]:
            best["sklearn"] = run
        for solver in ("lbfgs", "newton"):
            out = subprocess.check_output(
                [tool, "--fit", svm, "--features", d, "--l2", repr(l2), "--target", repr(target),
                 "--solver", solver, "--threads", "2"])
            run = json.loads(out.decode().strip().splitlines()[-1])
            key = f"swift {solver}"
            if key not in best or run["reached_1e-6_seconds"] < best[key]["reached_1e-6_seconds"]:
                best[key] = run
    sk = best["sklearn"]
    print(f"20 Newsgroups train tf-idf: {shape['rows']} rows x {shape['features']} features, "
          f"{shape['nnz']} stored entries, 20 classes, C = 1; best of {args.rounds} rounds")
    print(f"scikit-learn tight optimum (tol 1e-10, {tight['n_iter']} iterations, untimed): "
          f"{target:.10g}")
    print("| run | seconds | ratio |")
    print("|---|---|---|")
    print(f"| scikit-learn default fit ({sk['n_iter']} iterations, objective "
          f"{sk['objective']:.8g}, {(sk['objective'] - target) / target:.1e} above) | "
          f"{sk['seconds']:.2f} | |")
    for solver, name in (("lbfgs", "L-BFGS"), ("newton", "trust-region Newton")):
        r = best[f"swift {solver}"]
        reached = r["reached_1e-6_seconds"]
        print(f"| swift {name} to 1e-6 of the optimum (iteration "
              f"{r['reached_1e-6_at_iteration']}; whole fit {r['iterations']} iterations, "
              f"{r['evaluations']} passes, {r['seconds']:.2f} s, {r['stop']}) | {reached:.2f} | "
              f"{reached / sk['seconds']:.2f} of scikit-learn's default fit |")


if __name__ == "__main__":
    main()
