#!/usr/bin/env python3
"""scikit-learn's temperature scaling of frozen models, for the calibration
tests (Tests/SoftmaxRegressionTests/Fixtures/sklearn_temperature.json).

Data/digits.csv (8x8 digits, 64 features, 10 classes) split in file order:
the first 1000 rows train, the next 400 calibrate. Two frozen models, each a
LogisticRegression fitted on the training rows (lbfgs, tight tolerance):

  overconfident  C = 100 (weak regularization: the held-out log loss is
                 lowered by a temperature above 1),
  underconfident C = 0.001 (strong regularization: a temperature below 1).

For each, CalibratedClassifierCV(FrozenEstimator(model), method="temperature")
is fitted on the calibration rows (once with unit weights, once with seeded
sample weights in [0.5, 2)), and its inverse temperature beta_ written with
tau = 1/beta_, the held-out log loss at tau = 1 and at tau, and the Brier
score (brier_score_loss, multiclass: mean of the squared differences summed
over classes) and the top-label expected calibration error with 15
equal-width bins of the calibrated probabilities (computed here in numpy).

The model's coef_ and intercept_ are written so that the test rebuilds the
same logits; the calibration rows are written as they are (small integers).

    python3 -m venv /tmp/venv-nn && /tmp/venv-nn/bin/pip install scikit-learn==1.9.1
    /tmp/venv-nn/bin/python Scripts/make_calibration_fixtures.py
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
OUT = os.path.join(ROOT, "Tests", "SoftmaxRegressionTests", "Fixtures", "sklearn_temperature.json")

data = np.loadtxt(os.path.join(ROOT, "Data", "digits.csv"), delimiter=",", skiprows=1)
x, y = data[:, :-1], data[:, -1].astype(int)
x_train, y_train = x[:1000], y[:1000]
x_cal, y_cal = x[1000:1400], y[1000:1400]
weights = np.random.default_rng(5).uniform(0.5, 2.0, size=len(y_cal))


def ece(p, labels, bins=15):
    confidence = p.max(axis=1)
    predicted = p.argmax(axis=1)
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            total += members.sum() / len(labels) * abs(
                (predicted[members] == labels[members]).mean() - confidence[members].mean())
    return total


# FrozenEstimator takes no sample weights: they weight the calibration only,
# which is what is wanted here.
warnings.filterwarnings("ignore", message="Since FrozenEstimator")
cases = []
for name, c in [("overconfident", 100.0), ("underconfident", 0.001)]:
    model = LogisticRegression(C=c, tol=1e-10, max_iter=100000).fit(x_train, y_train)
    for weighted in (False, True):
        w = weights if weighted else None
        calibrated = CalibratedClassifierCV(FrozenEstimator(model), method="temperature")
        calibrated.fit(x_cal, y_cal, sample_weight=w)
        beta = float(calibrated.calibrated_classifiers_[0].calibrators[0].beta_)
        p = calibrated.predict_proba(x_cal)
        cases.append({
            "name": name + (" weighted" if weighted else ""),
            "weight": model.coef_.tolist(),
            "bias": model.intercept_.tolist(),
            "sample_weights": w.tolist() if weighted else None,
            "beta": beta,
            "temperature": 1.0 / beta,
            "log_loss_before": float(log_loss(y_cal, model.predict_proba(x_cal), sample_weight=w)),
            "log_loss_after": float(log_loss(y_cal, p, sample_weight=w)),
            "brier_after": None if weighted else float(brier_score_loss(y_cal, p)),
            "ece_after": None if weighted else ece(p, y_cal),
        })

with open(OUT, "w") as f:
    json.dump({
        "sklearn_version": sklearn.__version__,
        "features": x_cal.astype(int).tolist(),
        "labels": y_cal.tolist(),
        "cases": cases,
    }, f)
    f.write("\n")
print("wrote", OUT, [(c["name"], round(c["temperature"], 6)) for c in cases])
