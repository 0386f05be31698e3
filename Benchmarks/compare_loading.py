#!/usr/bin/env python3
"""Loading a large CSV: SoftmaxData's reader against pandas.read_csv and
numpy.loadtxt, in the same run, on the same files (in the page cache).

    python3 Benchmarks/compare_loading.py [--rounds N] [--libsvm]

Makes two files under Benchmarks/.data (not in git):
  mnist.csv   60000 rows: 784 integer pixels (0..255) and a label (MNIST's
              training set when ../shared/data/mnist is there, else random
              bytes in its shape);
  floats.csv  1,000,000 rows: 10 floats printed with 17 significant digits
              (round-trip) and a text label.
Each reader reads each file `rounds` times (default 5); the table gives
each one's fastest time and the ratio to pandas (time / pandas time).
pandas is pip-installed if missing.

With --libsvm, also a LIBSVM file: synthetic-100k.svm (100,000 rows, 100 of
1,000,000 features each, 5 classes; `sparse-timing --generate`), read
sparse in Float by SoftmaxData (`load-timing --sparse`) on one thread and on
two, against scikit-learn's load_svmlight_file(dtype=float32) (installed
if missing); the ratio is to scikit-learn's time.
"""
import argparse, json, os, statistics, subprocess, sys, time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)


def ensure_pandas():
    try:
        import pandas  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "pandas"], check=True)


def make_files(folder):
    import numpy as np
    os.makedirs(folder, exist_ok=True)
    mnist = os.path.join(folder, "mnist.csv")
    if not os.path.exists(mnist):
        source = os.path.join(root, "..", "shared", "data", "mnist")
        images = os.path.join(source, "train-images.idx3-ubyte")
        if os.path.exists(images):
            x = np.fromfile(images, dtype=np.uint8, offset=16).reshape(60000, 784)
            y = np.fromfile(os.path.join(source, "train-labels.idx1-ubyte"), dtype=np.uint8, offset=8)
        else:
            rng = np.random.default_rng(0)
            x = (rng.integers(0, 256, size=(60000, 784)) * (rng.random((60000, 784)) < 0.2)).astype(np.uint8)
            y = rng.integers(0, 10, size=60000).astype(np.uint8)
        header = ",".join([f"p{i}" for i in range(784)] + ["label"])
        np.savetxt(mnist, np.column_stack([x, y]), fmt="%d", delimiter=",", header=header, comments="")
    floats = os.path.join(folder, "floats.csv")
    if not os.path.exists(floats):
        rng = np.random.default_rng(1)
        x = rng.normal(size=(1_000_000, 10))
        labels = np.array(["alpha", "beta", "gamma"])[rng.integers(0, 3, size=1_000_000)]
        with open(floats, "w") as f:
            f.write(",".join([f"x{i}" for i in range(10)] + ["label"]) + "\n")
            for row, label in zip(x, labels):
                f.write(",".join(repr(float(v)) for v in row) + "," + label + "\n")
    return [mnist, floats]


def time_python(label, function, rounds):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--libsvm", action="store_true")
    args = parser.parse_args()
    ensure_pandas()
    import numpy as np
    import pandas as pd
    files = make_files(os.path.join(here, ".data"))
    subprocess.run(["swift", "build", "-c", "release", "--package-path", here, "--product", "load-timing"],
                   check=True, stdout=subprocess.DEVNULL)
    binary = os.path.join(here, ".build", "release", "load-timing")
    print(f"pandas {pd.__version__}, numpy {np.__version__}; fastest of {args.rounds} reads, file in page cache")
    print(f"{'file':12} {'MB':>6} {'reader':28} {'seconds':>8} {'vs pandas':>9}")
    for path in files:
        size = os.path.getsize(path) / 1e6
        with open(path, "rb") as f:
            f.read()  # into the page cache
        columns = pd.read_csv(path, nrows=1).shape[1]
        results = {}
        results["pandas.read_csv"] = time_python("pandas", lambda: pd.read_csv(path), args.rounds)
        usecols = range(columns - 1)
        results["numpy.loadtxt (features)"] = time_python(
            "numpy", lambda: np.loadtxt(path, delimiter=",", skiprows=1, usecols=usecols), args.rounds)
        for flag, name in [([], "SoftmaxData (Double)"), (["--float"], "SoftmaxData (Float)")]:
            out = subprocess.run([binary, path, "--repeats", str(args.rounds)] + flag,
                                 check=True, capture_output=True, text=True).stdout
            results[name] = json.loads(out)["seconds"]
        base = min(results["pandas.read_csv"])
        for name, times in results.items():
            best = min(times)
            print(f"{os.path.basename(path):12} {size:6.0f} {name:28} {best:8.3f} {best / base:9.3f}")
    if args.libsvm:
        compare_libsvm(binary, args.rounds)


def compare_libsvm(binary, rounds):
    try:
        import sklearn  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "scikit-learn"], check=True)
    import sklearn
    from sklearn.datasets import load_svmlight_file
    path = os.path.join(here, ".data", "synthetic-100k.svm")
    if not os.path.exists(path):
        subprocess.run(["swift", "build", "-c", "release", "--package-path", here, "--product",
                        "sparse-timing"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([os.path.join(here, ".build", "release", "sparse-timing"), "--generate", path,
                        "--rows", "100000", "--features", "1000000", "--per-row", "100",
                        "--classes", "5"], check=True, stdout=subprocess.DEVNULL)
    size = os.path.getsize(path) / 1e6
    with open(path, "rb") as f:
        f.read()
    results = {}
    results["sklearn.load_svmlight_file"] = time_python(
        "sklearn", lambda: load_svmlight_file(path, dtype="float32"), rounds)
    for threads in (1, 2):
        out = subprocess.run([binary, path, "--sparse", "--repeats", str(rounds)], check=True,
                             capture_output=True, text=True,
                             env=dict(os.environ, SOFTMAX_THREADS=str(threads))).stdout
        results[f"SoftmaxData ({threads} thread{'s' if threads > 1 else ''})"] = json.loads(out)["seconds"]
    print(f"scikit-learn {sklearn.__version__}; fastest of {rounds} reads, file in page cache")
    print(f"{'file':20} {'MB':>6} {'reader':28} {'seconds':>8} {'vs sklearn':>10}")
    base = min(results["sklearn.load_svmlight_file"])
    for name, times in results.items():
        best = min(times)
        print(f"{os.path.basename(path):20} {size:6.0f} {name:28} {best:8.3f} {best / base:10.3f}")


if __name__ == "__main__":
    main()
