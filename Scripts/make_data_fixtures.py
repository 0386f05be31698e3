#!/usr/bin/env python3
"""Writes the reader fixtures of Tests/SoftmaxDataTests/Fixtures and, for each,
what Python's own readers make of it (expected.json): numpy.load for NPY,
the csv module + float() for CSV, a direct decoding of the IDX header for IDX.
The Swift readers must agree with these, value for value.

    python3 Scripts/make_data_fixtures.py
"""
import csv, io, json, os, struct
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "Tests", "SoftmaxDataTests", "Fixtures")
os.makedirs(out, exist_ok=True)
expected = {}
rng = np.random.default_rng(7)


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


# --- CSV: the same table in several dialects -------------------------------
rows = [["sepal length", "width, in cm", "species"],
        ["5.1", "3.5", "setosa"],
        ["4.9", "-3.0e-1", "versi\"color"],
        ["6.25", "  .5 ", "virginica, big"],
        ["1e3", "0.1", "日本"]]


def table(delimiter, newline, bom=False):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline,
                        quoting=csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    text = buffer.getvalue()
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


for name, delimiter, newline, bom in [("comma.csv", ",", "\n", False),
                                      ("semicolon_crlf.csv", ";", "\r\n", False),
                                      ("tab_bom.tsv", "\t", "\n", True)]:
    data = table(delimiter, newline, bom)
    write(name, data)
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))
    expected[name] = {
        "featureNames": parsed[0][:-1],
        "features": [[float(v) for v in r[:-1]] for r in parsed[1:]],
        "labels": [r[-1] for r in parsed[1:]],
    }

# A field with a line break inside quotes, and numbers needing correct rounding.
hard = ["0.1", "2.2250738585072011e-308", "9007199254740993", "123456789012345678901234567890",
        "1.7976931348623157e308", "4.9e-324", "0.30000000000000004", "-0", "3.14159265358979323846"]
text = "x,label\n" + "".join(f"{v},\"line\nbreak {i}\"\n" for i, v in enumerate(hard))
write("rounding.csv", text.encode())
expected["rounding.csv"] = {"features": [[float(v)] for v in hard],
                            "labels": [f"line\nbreak {i}" for i in range(len(hard))]}

# --- LIBSVM ----------------------------------------------------------------
libsvm_one = b"+1 1:0.5 3:-2 # comment\n-1 qid:3 2:1.5\n\n# a comment line\n2 1:1e-3 4:7\n"
write("one_based.svm", libsvm_one)
expected["one_based.svm"] = {"features": [[0.5, 0, -2, 0], [0, 1.5, 0, 0], [1e-3, 0, 0, 7]],
                             "labels": ["1", "-1", "2"], "zeroBased": False}
libsvm_zero = b"0 0:1 2:2\r\n1 1:3\r\n"
write("zero_based.svm", libsvm_zero)
expected["zero_based.svm"] = {"features": [[1, 0, 2], [0, 3, 0]], "labels": ["0", "1"],
                              "zeroBased": True}

# --- NPY -------------------------------------------------------------------
matrix = rng.normal(size=(5, 3))
labels = np.array([0, 2, 1, 2, 0], dtype=np.int64)
for name, array in [("f8.npy", matrix), ("f4.npy", matrix.astype(np.float32)),
                    ("u1.npy", rng.integers(0, 256, size=(4, 6)).astype(np.uint8)),
                    ("fortran_f8.npy", np.asfortranarray(matrix)),
                    ("big_endian_f4.npy", matrix.astype(">f4")),
                    ("i2.npy", rng.integers(-300, 300, size=(3, 2)).astype(np.int16))]:
    np.save(os.path.join(out, name), array)
    expected[name] = {"features": np.asarray(array, dtype=np.float64).tolist()}
np.save(os.path.join(out, "labels_i8.npy"), labels)
expected["labels_i8.npy"] = {"labels": [str(v) for v in labels]}

# --- IDX (MNIST's layout: big-endian header, then bytes) --------------------
images = rng.integers(0, 256, size=(4, 2, 3)).astype(np.uint8)
image_labels = np.array([3, 1, 4, 1], dtype=np.uint8)
write("tiny-images-idx3-ubyte", struct.pack(">BBBBIII", 0, 0, 8, 3, 4, 2, 3) + images.tobytes())
write("tiny-labels-idx1-ubyte", struct.pack(">BBBBI", 0, 0, 8, 1, 4) + image_labels.tobytes())
expected["tiny-images-idx3-ubyte"] = {"features": images.reshape(4, 6).astype(float).tolist(),
                                      "labels": [str(v) for v in image_labels]}
floats = rng.normal(size=(2, 2)).astype(">f4")
write("floats.idx", struct.pack(">BBBBII", 0, 0, 0x0D, 2, 2, 2) + floats.tobytes())
expected["floats.idx"] = {"features": floats.astype(np.float64).tolist()}

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, ensure_ascii=False)
    f.write("\n")
print("wrote", len(expected), "fixtures to", os.path.normpath(out))
