#!/usr/bin/env python3
"""Runs an exported ONNX model in ONNX Runtime and compares it with the
library's predictions, for the ONNX tests (Tests/SoftmaxONNXTests).

    python check_onnx.py DIR

DIR holds what the test wrote: model.onnx, features.bin (n x d, float32 or
float64 little-endian, C order), probabilities.bin (n x k float64: the
library's), labels.txt (the library's predicted class names, one a line)
and meta.json ({"rows", "features", "classes", "dtype"}). Checks the model
with onnx.checker.check_model(full_check=True), runs it on the CPU provider,
and prints one JSON object: the largest absolute difference of the
probabilities, whether every label is the library's, the row count, and
the output names and types. Exit code 0 unless something could not run.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime

directory = sys.argv[1]
meta = json.load(open(os.path.join(directory, "meta.json")))
n, d, k = meta["rows"], meta["features"], meta["classes"]
dtype = np.float32 if meta["dtype"] == "float" else np.float64
model = onnx.load(os.path.join(directory, "model.onnx"))
onnx.checker.check_model(model, full_check=True)
features = np.fromfile(os.path.join(directory, "features.bin"), dtype="<" + np.dtype(dtype).str[1:])
features = features.reshape(n, d)
expected = np.fromfile(os.path.join(directory, "probabilities.bin"), dtype="<f8").reshape(n, k)
labels = open(os.path.join(directory, "labels.txt"), encoding="utf-8").read().split("\n")[:n]
options = onnxruntime.SessionOptions()
options.intra_op_num_threads = 1
session = onnxruntime.InferenceSession(
    os.path.join(directory, "model.onnx"), options, providers=["CPUExecutionProvider"])
probabilities, predicted = session.run(["probabilities", "label"], {"features": features})
print(json.dumps({
    "max_abs_diff": float(np.max(np.abs(probabilities.astype(np.float64) - expected))),
    "labels_equal": [str(x) for x in predicted] == labels,
    "label_mismatches": int(sum(str(a) != b for a, b in zip(predicted, labels))),
    "rows": int(probabilities.shape[0]),
    "probabilities_dtype": str(probabilities.dtype),
    "inputs": [i.name for i in session.get_inputs()],
    "outputs": [o.name for o in session.get_outputs()],
    "onnxruntime": onnxruntime.__version__,
}))
