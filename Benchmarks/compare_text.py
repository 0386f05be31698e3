#!/usr/bin/env python3
"""Text classification end to end on 20 Newsgroups (bydate): `softmax train`
against scikit-learn (TfidfVectorizer + LogisticRegression(lbfgs)) and
fastText (`-loss softmax`, 2 threads), in the same run, on the same machine.

    python3 Benchmarks/compare_text.py [--venv /tmp/venv-sk] [--ngrams 1 2] [--rounds 1]
                                       [--min-count N]

Needs ../shared/data/20newsgroups/20news-bydate.tar.gz (a user's clone: get
scikit-learn's copy, https://ndownloader.figshare.com/files/5975967, and pass
--tarball). The venv is made if missing (scikit-learn 1.9.1, fasttext-wheel).

Untimed preparation: the tarball is unpacked into Benchmarks/.data/20news
(one file per post, one folder per group), and each split is also written in
fastText's format (one line per post, `__label__GROUP` first, the post's
lines joined by spaces; latin-1 read, UTF-8 written; the lines shuffled with
a fixed seed, as fastText's SGD needs: on lines sorted by group its last
epochs see only the last groups).

Timed, each the whole job (read the text, build the features, train,
predict the test set), wall clock:
  softmax       `softmax train TRAIN_DIR --test TEST_DIR [--ngrams 2]`
                (release build; tf-idf, L2 rows, C = 1, L-BFGS to its default
                tolerance, 1e-6; 2 threads); "softmax-tol", the same with
                `--tol 1e-4`, scikit-learn's stopping rule (both stop when the
                largest component of the gradient of the mean loss + L2 term
                is at most 1e-4); "softmax-tol-m5", that with
                `--lbfgs-memory 5` (5 correction pairs instead of 10: the
                passes over them bound an iteration at 2.5M parameters);
                "softmax-tol3", `--tol 1e-3`: ten times looser, the job
                the issue's gate asks of the time (its accuracy gate allows
                0.3 points below scikit-learn's tight optimum, and the
                row prints how far below it stops); "softmax-newton" and
                "softmax-newton-tol3", those with `--optimizer newton`
                (trust-region Newton-CG);
  softmax-embed fastText's architecture in softmax: `--hidden 10 --activation
                identity --optimizer adam --learning-rate 0.01 --batch-size 128
                --epochs 5 --precision float` on the same tf-idf rows (the
                first layer reads each row's stored entries); "softmax-embed-100"
                the same with 100 units (fastText's default dim);
  sklearn       load_files(encoding="latin-1") + TfidfVectorizer(
                token_pattern=r"(?u)[^\\W_]{2,}", ngram_range=(1, n)) (the same
                words as softmax's tokenizer) + LogisticRegression(C=1, lbfgs,
                tol=1e-4, max_iter=1000, its defaults but max_iter) and, for
                accuracy only, the same at its tight optimum (tol=1e-10,
                max_iter=20000; untimed);
  fasttext      fasttext.train_supervised(train.txt, loss="softmax",
                thread=2[, wordNgrams=2]) with its other defaults, then
                test(test.txt); and "fasttext-tuned", epoch=25, lr=0.5 (its
                defaults underfit posts this long: the loss stays near ln 20).
`--min-count N` keeps the terms that at least N training documents have,
in softmax (`--min-count N`) and in scikit-learn (`min_df=N`) alike, so both
still learn from the same features (default 1, every term; fastText is
unchanged). With bigrams, N = 2 drops the 789,316 of the 1,173,951 terms
that only one post has.

Prints test accuracy and seconds per tool, and the ratios the issue's gates
name: softmax / fastText and softmax / scikit-learn time; accuracy
differences in points.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
default_tarball = os.path.join(root, "..", "shared", "data", "20newsgroups", "20news-bydate.tar.gz")


def ensure_venv(venv):
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    code = "import sklearn, fasttext"
    if subprocess.run([python, "-c", code], capture_output=True).returncode != 0:
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "scikit-learn==1.9.1", "fasttext-wheel", "numpy<2.3"],
            check=True)
    return python


def prepare(tarball, folder):
    if not os.path.isdir(os.path.join(folder, "20news-bydate-train")):
        os.makedirs(folder, exist_ok=True)
        with tarfile.open(tarball) as archive:
            archive.extractall(folder, filter="data")
    import random
    for split in ["train", "test"]:
        out = os.path.join(folder, f"{split}-shuffled.txt")
        if os.path.exists(out):
            continue
        base = os.path.join(folder, f"20news-bydate-{split}")
        lines = []
        for group in sorted(os.listdir(base)):
            for name in sorted(os.listdir(os.path.join(base, group))):
                with open(os.path.join(base, group, name), encoding="latin-1") as post:
                    text = " ".join(post.read().split())
                lines.append(f"__label__{group} {text}\n")
        random.Random(16).shuffle(lines)
        with open(out, "w", encoding="utf-8") as f:
            f.writelines(lines)


SKLEARN = r'''
import json, sys, time
t0 = time.perf_counter()
from sklearn.datasets import load_files
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
folder, n, tight, min_df = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "tight", int(sys.argv[4])
train = load_files(folder + "/20news-bydate-train", encoding="latin-1")
test = load_files(folder + "/20news-bydate-test", encoding="latin-1")
vectorizer = TfidfVectorizer(token_pattern=r"(?u)[^\W_]{2,}", ngram_range=(1, n), min_df=min_df)
x = vectorizer.fit_transform(train.data)
xt = vectorizer.transform(test.data)
model = LogisticRegression(C=1.0, max_iter=20000 if tight else 1000, tol=1e-10 if tight else 1e-4)
model.fit(x, train.target)
accuracy = float((model.predict(xt) == test.target).mean())
print(json.dumps({"seconds": time.perf_counter() - t0, "accuracy": accuracy,
                  "features": x.shape[1], "iterations": int(model.n_iter_.max())}))
'''

FASTTEXT = r'''
import json, sys, time
t0 = time.perf_counter()
import fasttext
folder, n, tuned = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "tuned"
# Its defaults (lr 0.1, 5 epochs) barely move from the uniform loss on posts this long;
# "tuned" (25 epochs, lr 0.5) is for context.
extra = dict(epoch=25, lr=0.5) if tuned else {}
model = fasttext.train_supervised(folder + "/train-shuffled.txt", loss="softmax", thread=2, wordNgrams=n, verbose=0, **extra)
count, precision, recall = model.test(folder + "/test-shuffled.txt")
print(json.dumps({"seconds": time.perf_counter() - t0, "accuracy": precision, "documents": count}))
'''


def run_json(command):
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{command[0]} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# The softmax rows: the settings of each (see the docstring).
SOFTMAX_ROWS = {
    "softmax": {},
    "softmax-tol": {"tolerance": 1e-4},
    "softmax-tol-m5": {"tolerance": 1e-4, "memory": 5},
    "softmax-tol3": {"tolerance": 1e-3},
    # The trust-region Newton solver (--optimizer newton) at the default
    # tolerance and at 1e-3.
    "softmax-newton": {"solver": "newton"},
    "softmax-newton-tol3": {"solver": "newton", "tolerance": 1e-3},
    # fastText's architecture: each post's terms' embeddings summed (the
    # tf-idf weights), then a softmax: a hidden layer of width 10 (100 in
    # "-100", fastText's default dim) with the identity activation.
    "softmax-embed": {"network": "10"},
    "softmax-embed-100": {"network": "100"},
}
NETWORK_SETTINGS = ["--activation", "identity", "--optimizer", "adam", "--learning-rate", "0.01",
                    "--batch-size", "128", "--epochs", "5", "--precision", "float"]


def run_softmax(binary, folder, n, min_count, tolerance=None, memory=None, network=None,
                solver=None):
    model = os.path.join(folder, f"model-{n}.json")
    command = [binary, "train", os.path.join(folder, "20news-bydate-train"),
               "--test", os.path.join(folder, "20news-bydate-test"),
               "--ngrams", str(n), "--min-count", str(min_count), "--threads", "2",
               "--model", model, "--json"]
    if tolerance is not None:
        command += ["--tol", str(tolerance)]
    if memory is not None:
        command += ["--lbfgs-memory", str(memory)]
    if solver is not None:
        command += ["--optimizer", solver]
    if network is not None:
        command += ["--hidden", network] + NETWORK_SETTINGS
    t0 = time.perf_counter()
    result = run_json(command)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "accuracy": result["test_accuracy"], "features": result["features"],
            "iterations": result["iterations"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--venv", default="/tmp/venv-sk")
    parser.add_argument("--tarball", default=default_tarball)
    parser.add_argument("--ngrams", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--min-count", type=int, default=1)
    parser.add_argument(
        "--tools",
        default="softmax,softmax-tol,softmax-tol-m5,softmax-tol3,softmax-embed,sklearn,fasttext,"
                "fasttext-tuned,tight")
    args = parser.parse_args()
    if not os.path.exists(args.tarball):
        sys.exit(f"no {args.tarball}: see this script's docstring for where to get 20 Newsgroups")
    python = ensure_venv(args.venv)
    folder = os.path.join(here, ".data", "20news")
    prepare(args.tarball, folder)
    subprocess.run(["swift", "build", "-c", "release", "--product", "softmax"], cwd=root, check=True,
                   capture_output=True)
    binary = os.path.join(root, ".build", "release", "softmax")
    print(f"terms kept in at least {args.min_count} training document(s)")
    print("| n-grams | tool | test accuracy | seconds | features | iterations |")
    print("|---|---|---|---|---|---|")
    tools = args.tools.split(",")
    for n in args.ngrams:
        best = {}
        for _ in range(args.rounds):
            runs = {}
            for tool, settings in SOFTMAX_ROWS.items():
                if tool in tools:
                    runs[tool] = run_softmax(binary, folder, n, args.min_count, **settings)
            if "sklearn" in tools:
                runs["sklearn"] = run_json(
                    [python, "-c", SKLEARN, folder, str(n), "default", str(args.min_count)])
            if "fasttext" in tools:
                runs["fasttext"] = run_json([python, "-c", FASTTEXT, folder, str(n), "defaults"])
            if "fasttext-tuned" in tools:
                runs["fasttext-tuned"] = run_json([python, "-c", FASTTEXT, folder, str(n), "tuned"])
            for tool, result in runs.items():
                if tool not in best or result["seconds"] < best[tool]["seconds"]:
                    best[tool] = result
        if "tight" in tools:
            best["sklearn tight (untimed)"] = run_json(
                [python, "-c", SKLEARN, folder, str(n), "tight", str(args.min_count)])
        for tool, result in best.items():
            print(f"| {n} | {tool} | {result['accuracy']:.4f} | {result['seconds']:.2f} | "
                  f"{result.get('features', '-')} | {result.get('iterations', '-')} |", flush=True)
        k, f = best.get("sklearn"), best.get("fasttext")
        tight = best.get("sklearn tight (untimed)")
        for tool in SOFTMAX_ROWS:
            r = best.get(tool)
            if not r:
                continue
            if f:
                accuracy = (f", accuracy {tool} − fastText {100 * (r['accuracy'] - f['accuracy']):+.2f} points"
                            if tool == "softmax" or "embed" in tool else "")
                print(f"n-grams {n}: {tool}/fastText time {r['seconds'] / f['seconds']:.2f}{accuracy}")
            tuned = best.get("fasttext-tuned")
            if tuned and "embed" in tool:
                print(f"n-grams {n}: {tool}/fastText-tuned time {r['seconds'] / tuned['seconds']:.2f}, "
                      f"accuracy {tool} − fastText-tuned {100 * (r['accuracy'] - tuned['accuracy']):+.2f} points")
            if k:
                rule = (" (both stop at a largest gradient component of 1e-4)"
                        if SOFTMAX_ROWS[tool].get("tolerance") == 1e-4 else "")
                print(f"n-grams {n}: {tool}/sklearn time {r['seconds'] / k['seconds']:.2f}{rule}")
            if tight:
                print(f"n-grams {n}: accuracy {tool} − sklearn tight "
                      f"{100 * (r['accuracy'] - tight['accuracy']):+.2f} points")
        print(flush=True)


if __name__ == "__main__":
    main()
