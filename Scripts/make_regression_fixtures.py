#!/usr/bin/env python3
"""Reference optima of softmax regression from scikit-learn, for SoftmaxRegressionTests.

For each case, fits LogisticRegression(solver="lbfgs", C, tol=1e-10, max_iter=20000) in
float64 (as ../shared/baselines/bench_train.py's tight reference) and writes the optimum
in this project's form of the objective,

    L(W, b) = sum_i s_i c_{y_i} nll_i / sum_i s_i + (lambda/2) ||W||_F^2,  lambda = 1/(C sum_i s_i),

which is scikit-learn's 0.5||W||^2 + C sum_i s_i c_{y_i} nll_i divided by C sum_i s_i, so the
two have the same minimiser. Standardized cases fit StandardScaler + LogisticRegression and
evaluate the objective in the standardized space, as the project's `standardize` option does.

    python3 -m venv /tmp/venv-sklearn && /tmp/venv-sklearn/bin/pip install scikit-learn==1.9.1   # "balanced" counts sample weights since 1.8
    /tmp/venv-sklearn/bin/python Scripts/make_regression_fixtures.py

Writes Tests/SoftmaxRegressionTests/Fixtures/sklearn_optima.json.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)


def load(name):
    data = np.loadtxt(os.path.join(ROOT, "Data", f"{name}.csv"), delimiter=",", skiprows=1)
    return data[:, :-1], data[:, -1].astype(int)


def objective(W, b, X, y, s, c, lam):
    Z = X @ W.T + b
    m = Z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(Z - m).sum(axis=1)) + m[:, 0]
    nll = lse - Z[np.arange(len(y)), y]
    return float((s * c[y] * nll).sum() / s.sum() + 0.5 * lam * (W * W).sum())


def case(name, dataset, C, standardize=False, balanced=False, sample_weights=False, rows=None):
    X, y = load(dataset)
    if rows is not None:
        X, y = X[rows], y[rows]
    s = np.ones(len(y))
    if sample_weights:
        s = 0.5 + (np.arange(len(y)) % 3)  # 0.5, 1.5, 2.5, ...
    classes = np.unique(y)
    c = np.ones(len(classes))
    if balanced:
        # Weighted counts when sample weights are given (scikit-learn >= 1.8).
        c = compute_class_weight("balanced", classes=classes, y=y, sample_weight=s)
    Xs = StandardScaler().fit(X, sample_weight=s).transform(X) if standardize else X
    model = LogisticRegression(
        solver="lbfgs", C=C, tol=1e-10, max_iter=20000,
        class_weight="balanced" if balanced else None,
    ).fit(Xs, y, sample_weight=s)
    lam = 1.0 / (C * s.sum())
    value = objective(model.coef_, model.intercept_, Xs, y, s, c, lam)
    return dict(
        name=name, dataset=dataset, C=C, l2=lam, standardize=standardize, balanced=balanced,
        sample_weights=sample_weights, rows=None if rows is None else [int(r) for r in rows],
        iterations=int(np.max(model.n_iter_)), objective=value,
        weights=model.coef_.tolist(), bias=model.intercept_.tolist(),
    )


def main():
    imbalanced = list(range(0, 50)) + list(range(50, 70)) + list(range(100, 110))
    cases = [
        case("iris C=1", "iris", 1.0),
        case("iris C=0.1 standardized", "iris", 0.1, standardize=True),
        case("iris imbalanced, balanced class weights, sample weights", "iris", 1.0,
             balanced=True, sample_weights=True, rows=imbalanced),
        case("digits C=1", "digits", 1.0),
        case("digits C=0.05 standardized", "digits", 0.05, standardize=True),
    ]
    out = dict(
        generator="Scripts/make_regression_fixtures.py",
        sklearn_version=sklearn.__version__, numpy_version=np.__version__,
        sample_weight_rule="s_i = 0.5 + (i mod 3)", cases=cases,
    )
    path = os.path.join(ROOT, "Tests", "SoftmaxRegressionTests", "Fixtures", "sklearn_optima.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    for c in cases:
        print(f"{c['name']}: objective {c['objective']:.12g} ({c['iterations']} iterations)")


if __name__ == "__main__":
    main()
