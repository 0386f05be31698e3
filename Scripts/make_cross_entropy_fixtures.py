#!/usr/bin/env python3
"""Writes Tests/SoftmaxCoreTests/Fixtures/cross_entropy_torch.json.

Reference values for SoftmaxCore's cross-entropy, computed by PyTorch's
F.cross_entropy in float64 (losses for reduction none / mean / sum, and the
gradients of the mean and the sum with respect to the logits by autograd).

Sample weights are not a PyTorch option; for the cases that have them, the
script derives the reference from PyTorch's per-sample losses and gradients
(reduction='none'): mean = Σ s_i·l_i / Σ s_i·w_(y_i) (labels) or Σ s_i·l_i / Σ s_i
(probabilities), which is what SoftmaxCore documents.

Run it from the repository root:

    python3 Scripts/make_cross_entropy_fixtures.py

It installs torch into .venv-fixtures/ (about 5 minutes, several GB) if the
running Python has no torch. The tests only read the JSON file.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "SoftmaxCoreTests", "Fixtures", "cross_entropy_torch.json")


def ensure_torch():
    try:
        import torch  # noqa: F401
        return
    except ImportError:
        pass
    venv = os.path.join(ROOT, ".venv-fixtures")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.check_call([sys.executable, "-m", "venv", "--system-site-packages", venv])
    subprocess.check_call([python, "-m", "pip", "install", "-q", "torch", "numpy"])
    os.execv(python, [python] + sys.argv)


def main():
    ensure_torch()
    import numpy as np
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(20261125)
    cases = []

    def add(name, logits, labels=None, probabilities=None, class_weights=None,
            ignore_index=None, label_smoothing=0.0, sample_weights=None):
        z = torch.tensor(logits, dtype=torch.float64)
        if labels is not None:
            target = torch.tensor(labels, dtype=torch.int64)
        else:
            target = torch.tensor(probabilities, dtype=torch.float64)
        w = None if class_weights is None else torch.tensor(class_weights, dtype=torch.float64)
        kwargs = dict(weight=w, label_smoothing=label_smoothing)
        if ignore_index is not None:
            kwargs["ignore_index"] = ignore_index

        def run(reduction):
            zz = z.clone().requires_grad_(True)
            loss = F.cross_entropy(zz, target, reduction=reduction, **kwargs)
            if reduction == "none":
                return loss.detach().numpy().tolist(), None
            loss.backward()
            return float(loss.detach()), zz.grad.numpy().tolist()

        none, _ = run("none")
        mean, grad_mean = run("mean")
        total, grad_sum = run("sum")

        if sample_weights is not None:
            # Extension: weight PyTorch's per-sample losses and gradients.
            s = np.array(sample_weights)
            per_sample = np.array(none)
            zz = z.clone().requires_grad_(True)
            losses = F.cross_entropy(zz, target, reduction="none", **kwargs)
            (losses * torch.tensor(s)).sum().backward()
            grad_sum = zz.grad.numpy()
            none = (s * per_sample).tolist()
            total = float(np.sum(s * per_sample))
            if labels is not None:
                wy = np.array([0.0 if (ignore_index is not None and y == ignore_index)
                               else (1.0 if class_weights is None else class_weights[y])
                               for y in labels])
                denominator = float(np.sum(s * wy))
            else:
                denominator = float(np.sum(s))
            mean = total / denominator
            grad_mean = (grad_sum / denominator).tolist()
            grad_sum = grad_sum.tolist()

        def clean(x):
            # JSON has no NaN: write null.
            if isinstance(x, list):
                return [clean(v) for v in x]
            return None if x != x else x

        cases.append(dict(
            name=name, logits=logits, labels=labels, probabilities=probabilities,
            class_weights=class_weights, sample_weights=sample_weights,
            ignore_index=ignore_index, label_smoothing=label_smoothing,
            none=clean(none), mean=clean(mean), sum=clean(total),
            grad_mean=clean(grad_mean), grad_sum=clean(grad_sum)))

    def logits(n, c, scale=2.0):
        return (rng.standard_normal((n, c)) * scale).tolist()

    def labels(n, c):
        return rng.integers(0, c, n).tolist()

    def soft(n, c):
        p = rng.random((n, c))
        return (p / p.sum(axis=1, keepdims=True)).tolist()

    n, c = 7, 5
    add("plain", logits(n, c), labels=labels(n, c))
    add("class weights", logits(n, c), labels=labels(n, c),
        class_weights=rng.uniform(0.2, 3.0, c).tolist())
    y = labels(n, c)
    y[1] = -100
    y[4] = -100
    add("ignore index -100", logits(n, c), labels=y, ignore_index=-100)
    add("label smoothing 0.1", logits(n, c), labels=labels(n, c), label_smoothing=0.1)
    y = labels(n, c)
    y[2] = 3
    y[5] = 3
    add("weights + smoothing 0.25 + ignore 3", logits(n, c), labels=y,
        class_weights=rng.uniform(0.2, 3.0, c).tolist(), ignore_index=3, label_smoothing=0.25)
    add("smoothing + ignore, unweighted", logits(n, c), labels=y, ignore_index=3,
        label_smoothing=0.3)
    add("every target ignored", logits(3, c), labels=[-100, -100, -100], ignore_index=-100)
    add("sample weights", logits(n, c), labels=labels(n, c),
        sample_weights=rng.uniform(0.0, 2.0, n).tolist())
    add("sample weights + class weights + smoothing", logits(n, c), labels=labels(n, c),
        class_weights=rng.uniform(0.2, 3.0, c).tolist(), label_smoothing=0.2,
        sample_weights=rng.uniform(0.0, 2.0, n).tolist())
    add("large logits", logits(n, c, scale=300.0), labels=labels(n, c))
    add("one class", logits(4, 1), labels=[0, 0, 0, 0])
    add("probabilities", logits(n, c), probabilities=soft(n, c))
    add("probabilities + class weights", logits(n, c), probabilities=soft(n, c),
        class_weights=rng.uniform(0.2, 3.0, c).tolist())
    add("probabilities + smoothing 0.15", logits(n, c), probabilities=soft(n, c),
        label_smoothing=0.15)
    add("probabilities + everything", logits(n, c), probabilities=soft(n, c),
        class_weights=rng.uniform(0.2, 3.0, c).tolist(), label_smoothing=0.05,
        sample_weights=rng.uniform(0.0, 2.0, n).tolist())

    meta = dict(torch=torch.__version__, numpy=np.__version__,
                generator="Scripts/make_cross_entropy_fixtures.py", dtype="float64")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(dict(meta=meta, cases=cases), f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
