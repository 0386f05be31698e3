#!/usr/bin/env python3
"""Computes the textbook example of the WorkedExample article independently,
in NumPy float64, and prints the value table that the article shows.

    python3 Scripts/worked_example.py

The tests (WorkedExampleTests) read the table back from the article and
check SoftmaxCore against every number in it.
"""
import numpy as np

o = np.array([0.1, 0.2, 0.7])
W = np.array([[0.1, 0.2, 0.3], [0.3, 0.2, 0.7], [0.4, 0.3, 0.9]])  # W[j, i] = w_(j+4)(i+1)
b = np.array([1.0, 1.0, 1.0])
y = np.array([1.0, 0.0, 0.0])  # target z4
eta = 0.5

z = W @ o + b
a = np.exp(z - z.max())
a /= a.sum()
L = -np.log(a[0])
J = np.diag(a) - np.outer(a, a)
dz = a - y
dW = np.outer(dz, o)
db = dz
L_after = -np.log(np.exp((W - eta * dW) @ o + (b - eta * db))[0] / np.exp((W - eta * dW) @ o + (b - eta * db)).sum())

rows = []
for j in range(3):
    rows.append((f"z{j+4}", z[j], f"w{j+4}1·o1 + w{j+4}2·o2 + w{j+4}3·o3 + b{j+4}"))
for j in range(3):
    rows.append((f"a{j+4}", a[j], f"e^z{j+4} / (e^z4 + e^z5 + e^z6)"))
rows.append(("L", L, "-log a4"))
for i in range(3):
    for j in range(3):
        formula = f"a{i+4}(1 - a{i+4})" if i == j else f"-a{i+4}·a{j+4}"
        rows.append((f"da{i+4}/dz{j+4}", J[i, j], formula))
for j in range(3):
    rows.append((f"dL/dz{j+4}", dz[j], f"a{j+4} - y{j+4}"))
for j in range(3):
    for i in range(3):
        rows.append((f"dL/dw{j+4}{i+1}", dW[j, i], f"(a{j+4} - y{j+4})·o{i+1}"))
for j in range(3):
    rows.append((f"dL/db{j+4}", db[j], f"a{j+4} - y{j+4}"))
rows.append(("L after one step", L_after, "η = 0.5"))

print("| quantity | value | formula |")
print("|---|---|---|")
for name, value, formula in rows:
    print(f"| `{name}` | {value:.10f} | {formula} |")
