#!/usr/bin/env python3
"""Fits the polynomial of the kernels' exp (Sources/_SoftmaxKernels/kernels_impl.h).

e^r = 1 + r + r^2 * q(r) on |r| <= 0.347 (ln 2 / 2 plus the Cody-Waite and 2Sum
slack), q of degree 4, fitted for minimal maximal relative error by Lawson's
iteratively reweighted least squares (converges to the minimax fit). Prints the
float32 coefficients (lowest degree first), the fit's relative error, and the
error of the float32 evaluation (Horner, as the kernel) in units of 2^-24.

    python3 Scripts/fit_exp_polynomial.py
"""
import numpy as np

HALF_WIDTH = 0.3466 * 1.001
DEGREE = 4


def fit(degree):
    x = np.cos(np.linspace(0, np.pi, 4001)) * HALF_WIDTH
    x = x[np.abs(x) > 1e-6]
    target = (np.expm1(x) - x) / x**2
    basis = np.vander(x, degree + 1, increasing=True)
    relative = x**2 / np.exp(x)  # error in q times this is the error in e^r, relative
    weights = np.ones_like(x)
    for _ in range(200):
        coefficients = np.linalg.lstsq(
            basis * (relative * weights)[:, None], target * relative * weights, rcond=None
        )[0]
        error = np.abs((basis @ coefficients - target) * relative)
        weights = weights * np.sqrt(error / error.max()) + 1e-12
        weights /= weights.max()
    return coefficients, error.max()


def main():
    coefficients, error = fit(DEGREE)
    c32 = [np.float32(c) for c in coefficients]
    print("coefficients (float32, degree 0 first):")
    for c in c32:
        print(f"  {float(c)!r}")
    print(f"fit: max relative error {error:.3g}")
    r = np.linspace(-HALF_WIDTH, HALF_WIDTH, 200001).astype(np.float32)
    p = c32[-1]
    for c in reversed(c32[:-1]):
        p = np.float32(p * r + c)
    value = np.float32(np.float32(p * np.float32(r * r)) + r) + np.float32(1)
    exact = np.exp(r.astype(np.float64))
    worst = np.max(np.abs(value - exact) / exact) / 2.0**-24
    print(f"float32 evaluation: max relative error {worst:.3f} x 2^-24")


if __name__ == "__main__":
    main()
