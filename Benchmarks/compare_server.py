#!/usr/bin/env python3
"""The prediction server under load: softmax-server against scikit-learn's
predict_proba behind a minimal Flask app, with wrk on loopback, in the same
run, on the same machine.

    python3 Benchmarks/compare_server.py [--seconds 30] [--connections 64]
                                         [--venv /tmp/venv-serve]

Both serve a softmax regression of digits (Data/digits.csv: 64 features, 10
classes, standardized, C = 1), trained by each library on the same rows,
and answer POST /v1/predict with {"rows": [[64 numbers], ...]} by the
labels and the probabilities of every class, as JSON:
  softmax   Server/.build/release/softmax-server (built here, release);
  flask     Flask's own server (threaded=True), a view that parses the JSON
            body, calls pipeline.predict_proba (StandardScaler then
            LogisticRegression) and returns labels and probabilities with
            jsonify (scikit-learn and Flask pip-installed into the venv).
Each is loaded by `wrk -t2 -c CONNECTIONS -d SECONDS --latency` with a Lua
script posting the same body: one row, then 256 rows (the first rows of
digits). The table gives requests/s, rows/s, p50 and p99 latency and the
errors (non-2xx answers and socket errors: both must be 0), and the ratio
of softmax's rows/s to Flask's. The machine has 2 cores: wrk, the server
and its threads share them, for both servers alike.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)

FLASK_APP = r"""
import json, sys
import numpy as np
from flask import Flask, request, jsonify
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
x, y = data[:, :-1], data[:, -1].astype(int).astype(str)
pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
classes = [str(c) for c in pipeline.classes_]
app = Flask(__name__)

@app.post("/v1/predict")
def predict():
    rows = np.asarray(request.get_json()["rows"], dtype=np.float64)
    probabilities = pipeline.predict_proba(rows)
    labels = pipeline.classes_[probabilities.argmax(axis=1)]
    return jsonify(classes=classes, predictions=[
        {"label": str(label), "probabilities": p.tolist()} for label, p in zip(labels, probabilities)])

import logging
logging.getLogger("werkzeug").setLevel(logging.ERROR)
app.run(host="127.0.0.1", port=int(sys.argv[2]), threaded=True)
"""

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{body}", "r")
wrk.body = f:read("*a")
f:close()
"""


def ensure_venv(venv):
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    probe = subprocess.run([python, "-c", "import sklearn, flask"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([python, "-m", "pip", "install", "-q", "scikit-learn==1.9.1", "flask"],
                       check=True)
    return python


def wait_ready(port, body):
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/v1/predict", data=body.encode(),
                headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.loads(response.read())
        except Exception:
            time.sleep(0.5)
    raise RuntimeError(f"the server on port {port} did not answer")


def seconds(text):
    value, unit = float(text[:-2] if text.endswith(("us", "ms")) else text[:-1]), text
    if unit.endswith("us"):
        return value / 1e6
    if unit.endswith("ms"):
        return value / 1e3
    if unit.endswith("m"):
        return value * 60
    return value


def run_wrk(port, body_path, connections, duration):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA.format(body=body_path))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script.name,
         f"http://127.0.0.1:{port}/v1/predict"], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    requests = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = seconds(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))
    p99 = seconds(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(g) for g in socket.groups()) if socket else 0)
    return requests, p50, p99, errors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--venv", default="/tmp/venv-serve")
    args = parser.parse_args()
    python = ensure_venv(args.venv)
    digits = os.path.join(root, "Data", "digits.csv")
    work = tempfile.mkdtemp()
    model = os.path.join(work, "model.json")
    subprocess.run(["swift", "build", "-c", "release", "--product", "softmax"], cwd=root, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["swift", "build", "-c", "release", "--package-path", "Server", "--product",
                    "softmax-server"], cwd=root, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([os.path.join(root, ".build", "release", "softmax"), "train", digits,
                    "--standardize", "--quiet", "--model", model], check=True)
    rows = [line.split(",")[:-1] for line in open(digits).read().splitlines()[1:]]
    bodies = {}
    for count in (1, 256):
        path = os.path.join(work, f"body-{count}.json")
        with open(path, "w") as f:
            f.write(json.dumps({"rows": [[float(v) for v in row] for row in rows[:count]]}))
        bodies[count] = path
    servers = {
        "softmax": ([os.path.join(root, "Server", ".build", "release", "softmax-server"), model,
                     "--port", "18080"], 18080),
        "flask": ([python, "-c", FLASK_APP, digits, "18081"], 18081),
    }
    results = {}
    for name, (command, port) in servers.items():
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            answer = wait_ready(port, open(bodies[1]).read())
            assert len(answer["predictions"]) == 1
            for count, path in bodies.items():
                results[(name, count)] = run_wrk(port, path, args.connections, args.seconds)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    print(f"wrk -t2 -c{args.connections} -d{args.seconds}s on loopback, digits (64 features, "
          f"10 classes); {os.cpu_count()} cores")
    print(f"{'server':8} {'rows':>5} {'requests/s':>11} {'rows/s':>11} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'errors':>6}")
    for (name, count), (requests, p50, p99, errors) in results.items():
        print(f"{name:8} {count:5} {requests:11.0f} {requests * count:11.0f} {p50 * 1e3:8.2f} "
              f"{p99 * 1e3:8.2f} {errors:6}")
    for count in (1, 256):
        ratio = results[("softmax", count)][0] / results[("flask", count)][0]
        print(f"softmax / flask rows/s, {count} row{'s' if count > 1 else ''} a request: "
              f"{ratio:.1f}x (gate: at least 10x)")


if __name__ == "__main__":
    main()
