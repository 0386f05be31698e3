#!/usr/bin/env python3
"""Sparse fixtures from scikit-learn, for the sparse reader and the sparse objective.

1. Tests/SoftmaxDataTests/Fixtures/sklearn.svm, a LIBSVM file of many shapes (Zipf
   indices, exponents, signs, qid pairs, comments, CRLF lines, rows with no pairs),
   and sklearn_svmlight.json: what scikit-learn's load_svmlight_file makes of it (the CSR
   arrays indptr, indices, data; the labels; the column count).
2. Tests/SoftmaxRegressionTests/Fixtures/sparse_text.svm and sklearn_sparse_optimum.json: a
   bag-of-words-like sparse problem (Zipf columns, tf-idf-like values, 4 classes) and
   scikit-learn's tight optimum of LogisticRegression(lbfgs) on it, fitted on the CSR
   matrix, written as this project's objective
       L(W, b) = sum_i nll_i / n + (lambda/2) ||W||^2,  lambda = 1/(C n)
   (scikit-learn's 0.5||W||^2 + C sum_i nll_i divided by C n: the same minimiser).

    python3 -m venv /tmp/venv-sk && /tmp/venv-sk/bin/pip install scikit-learn==1.9.1
    /tmp/venv-sk/bin/python Scripts/make_sparse_fixtures.py
"""
import json
import os

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.datasets import load_svmlight_file
from sklearn.linear_model import LogisticRegression

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
DATA = os.path.join(ROOT, "Tests", "SoftmaxDataTests", "Fixtures")
REGRESSION = os.path.join(ROOT, "Tests", "SoftmaxRegressionTests", "Fixtures")
rng = np.random.default_rng(16)


def zipf_columns(count, columns):
    """Distinct column indices, frequent ones far more often (Zipf, s = 1.1)."""
    picked = set()
    while len(picked) < count:
        picked.add(int(min(rng.zipf(1.1), columns)) - 1)
    return sorted(picked)


def reader_fixture():
    formats = ["{:.6g}", "{:.17g}", "{:e}", "{:+.3f}", "{:.0f}"]
    lines = []
    for row in range(60):
        label = ["1", "-1", "+1", "2", "3.0"][row % 5]
        pairs = []
        if row % 7 == 3:
            pairs.append(f"qid:{row}")
        for column in zipf_columns(int(rng.integers(0, 12)), 5000):
            value = rng.normal() * 10 ** int(rng.integers(-3, 4))
            pairs.append(f"{column + 1}:{formats[row % len(formats)].format(value)}")
        comment = " # a comment" if row % 11 == 0 else ""
        newline = "\r\n" if row % 5 == 4 else "\n"
        lines.append(" ".join([label] + pairs) + comment + newline)
        if row % 13 == 0:
            lines.append("# a comment line\n")
    text = "".join(lines).encode()
    path = os.path.join(DATA, "sklearn.svm")
    with open(path, "wb") as f:
        f.write(text)
    X, y = load_svmlight_file(path, dtype=np.float64, zero_based=False, query_id=False)
    X = sp.csr_matrix(X)
    X.sort_indices()
    labels = []
    for value in y:
        labels.append(str(int(value)) if value == int(value) else repr(value))
    expected = dict(
        generator="Scripts/make_sparse_fixtures.py", sklearn_version=sklearn.__version__,
        labels=labels,
        csr=dict(indptr=X.indptr.tolist(), indices=X.indices.tolist(), data=X.data.tolist(),
                 columns=int(X.shape[1])),
    )
    with open(os.path.join(DATA, "sklearn_svmlight.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print(f"sklearn.svm: {X.shape[0]} rows, {X.shape[1]} columns, {X.nnz} entries")


def objective(W, b, X, y, lam):
    Z = X @ W.T + b
    m = Z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(Z - m).sum(axis=1)) + m[:, 0]
    nll = lse - Z[np.arange(len(y)), y]
    return float(nll.mean() + 0.5 * lam * (W * W).sum())


def optimum_fixture():
    n, d, k = 400, 300, 4
    rows, cols, vals = [], [], []
    true_w = rng.normal(size=(k, d)) * 2
    labels = []
    for i in range(n):
        columns = zipf_columns(int(rng.integers(3, 25)), d)
        counts = rng.integers(1, 4, size=len(columns)).astype(float)
        values = np.log1p(counts) / np.sqrt((np.log1p(counts) ** 2).sum())
        rows += [i] * len(columns)
        cols += columns
        vals += values.tolist()
        z = true_w[:, columns] @ values + rng.gumbel(size=k)
        labels.append(int(np.argmax(z)))
    X = sp.csr_matrix((vals, (rows, cols)), shape=(n, d))
    y = np.array(labels)
    path = os.path.join(REGRESSION, "sparse_text.svm")
    with open(path, "w") as f:
        for i in range(n):
            start, end = X.indptr[i], X.indptr[i + 1]
            pairs = " ".join(f"{c + 1}:{float(v)!r}" for c, v in zip(X.indices[start:end], X.data[start:end]))
            f.write(f"{y[i]} {pairs}\n".replace(" \n", "\n"))
    # Read back as the project reads it: the values as written (repr round-trips).
    X2, y2 = load_svmlight_file(path, n_features=d, zero_based=False)
    assert (X2 != X).nnz == 0 and (y2 == y).all()
    C = 10.0
    model = LogisticRegression(solver="lbfgs", C=C, tol=1e-12, max_iter=100000).fit(X, y)
    lam = 1.0 / (C * n)
    value = objective(model.coef_, model.intercept_, X.toarray(), y, lam)
    out = dict(
        generator="Scripts/make_sparse_fixtures.py", sklearn_version=sklearn.__version__,
        data="sparse_text.svm", features=d, classes=k, C=C, l2=lam,
        iterations=int(np.max(model.n_iter_)), objective=value,
        weights=model.coef_.tolist(), bias=model.intercept_.tolist(),
    )
    with open(os.path.join(REGRESSION, "sklearn_sparse_optimum.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"sparse_text.svm: objective {value:.15g} after {out['iterations']} iterations")


if __name__ == "__main__":
    reader_fixture()
    optimum_fixture()
