#!/usr/bin/env python3
"""A tiny network's loss and gradients from PyTorch's autograd, for the
network objective's tests (Tests/SoftmaxRegressionTests/Fixtures/
torch_network.json).

For each activation (relu, tanh, gelu with the exact erf, sigmoid, identity),
a network 4-5-3-3 in float64: features, labels and sample weights of 7 rows,
seeded parameters, class weights, and an L2 penalty on the weights (not the
biases). The loss is this project's objective

    L = sum_i s_i c_{y_i} nll_i / sum_i s_i + (lambda/2) sum_l ||W_l||^2

computed with torch.nn.functional.cross_entropy(reduction="none") and
differentiated by autograd; the gradient is written flattened as the
objective takes its parameters: layer by layer, W row by row (outputs x
inputs, as nn.Linear), then b.

    python3 -m venv /tmp/venv-nn && /tmp/venv-nn/bin/pip install torch
    /tmp/venv-nn/bin/python Scripts/make_network_fixtures.py
"""
import json
import os

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
OUT = os.path.join(ROOT, "Tests", "SoftmaxRegressionTests", "Fixtures", "torch_network.json")

ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "gelu": lambda z: torch.nn.functional.gelu(z, approximate="none"),
    "logistic": torch.sigmoid,
    "identity": lambda z: z,
}

rng = np.random.default_rng(17)
widths = [4, 5, 3, 3]
rows = 7
x = rng.uniform(-2, 2, size=(rows, widths[0]))
y = rng.integers(0, widths[-1], size=rows)
sample_weights = rng.uniform(0.5, 1.5, size=rows)
class_weights = np.array([1.0, 2.0, 0.5])
l2 = 0.05

cases = []
for name, activation in ACTIVATIONS.items():
    layers = []
    flat = []
    for inputs, outputs in zip(widths[:-1], widths[1:]):
        w = rng.uniform(-1, 1, size=(outputs, inputs))
        b = rng.uniform(-0.5, 0.5, size=outputs)
        layers.append((torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)))
        flat += list(w.reshape(-1)) + list(b)
    a = torch.tensor(x)
    for index, (w, b) in enumerate(layers):
        a = a @ w.T + b
        if index + 1 < len(layers):
            a = activation(a)
    nll = torch.nn.functional.cross_entropy(a, torch.tensor(y), reduction="none")
    s = torch.tensor(sample_weights)
    c = torch.tensor(class_weights)[torch.tensor(y)]
    loss = (s * c * nll).sum() / s.sum()
    loss = loss + 0.5 * l2 * sum((w * w).sum() for w, _ in layers)
    loss.backward()
    gradient = []
    for w, b in layers:
        gradient += list(w.grad.numpy().reshape(-1)) + list(b.grad.numpy())
    cases.append({"activation": name, "parameters": [float(v) for v in flat],
                  "loss": float(loss.detach()), "gradient": [float(v) for v in gradient]})

fixture = {
    "torch_version": torch.__version__,
    "hidden_widths": widths[1:-1],
    "features": x.tolist(),
    "labels": [int(v) for v in y],
    "sample_weights": sample_weights.tolist(),
    "class_weights": class_weights.tolist(),
    "l2": l2,
    "cases": cases,
}
with open(OUT, "w") as f:
    json.dump(fixture, f, indent=1)
    f.write("\n")
print(f"wrote {OUT}")
