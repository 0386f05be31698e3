#!/usr/bin/env python3
"""Writes the malformed and hostile input files of the CLI's catalogue.

    python3 Scripts/make_malformed_catalogue.py

Output: Tests/SoftmaxCLITests/Fixtures/Malformed/ (the files only; what the
user must see for each is written by hand in catalogue.json there). Binary
formats are built byte by byte with struct, so each file is exactly the
damage its name says. Deterministic: rerunning rewrites the same bytes.
"""
import json
import os
import struct

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SoftmaxCLITests",
                   "Fixtures", "Malformed")

HEADER = "f1,f2,f3,label\n"
GOOD_ROWS = "1,2,3,a\n4,5,6,b\n7,8,9,a\n2,1,0,b\n"


def write(name, content):
    data = content.encode("utf-8") if isinstance(content, str) else content
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def npy(descr, shape, payload, fortran=False, magic=b"\x93NUMPY"):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", shape)
    while (10 + len(header) + 1) % 64:
        header += " "
    header += "\n"
    return magic + bytes([1, 0]) + struct.pack("<H", len(header)) + header.encode() + payload


def idx(type_byte, dims, payload):
    return bytes([0, 0, type_byte, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def model(**changes):
    document = {
        "format": "swift-softmax-model",
        "version": 1,
        "classes": ["a", "b"],
        "feature_names": ["f1", "f2", "f3"],
        "weights": [[0.5, -0.25, 0.125], [-0.5, 0.25, -0.125]],
        "bias": [0.1, -0.1],
    }
    document.update(changes)
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main():
    os.makedirs(OUT, exist_ok=True)
    # A good data set and model, for the cases that damage only one thing.
    write("good.csv", HEADER + GOOD_ROWS)
    write("model.json", model())

    # CSV
    write("empty.csv", "")
    write("blank_lines.csv", "\n\n   \n\n")
    write("header_only.csv", HEADER)
    write("ragged_long.csv", HEADER + "1,2,3,a\n4,5,6,7,b\n")
    write("ragged_short.csv", HEADER + "1,2,3,a\n4,5,b\n")
    write("missing_value.csv", HEADER + "1,2,3,a\n4,,6,b\n")
    write("nan_field.csv", HEADER + "1,2,3,a\n4,NaN,6,b\n")
    write("inf_field.csv", HEADER + "1,2,3,a\n4,5,-inf,b\n")
    write("text_field.csv", HEADER + "1,2,3,a\n4,five,6,b\n")
    write("huge_number.csv", HEADER + "1,2,3,a\n4,5,1e400,b\n")
    write("float_overflow.csv", HEADER + "1,2,3,a\n4,5,3.5e38,b\n")
    write("unclosed_quote.csv", HEADER + '1,2,3,"a\n4,5,6,b\n')
    write("after_quote.csv", HEADER + '1,2,3,"a"x\n')
    write("duplicate_header.csv", "f1,f2,f1,label\n1,2,3,a\n4,5,6,b\n")
    write("invalid_utf8_label.csv", HEADER.encode() + b"1,2,3,caf\xe9\n4,5,6,b\n")
    write("invalid_utf8_header.csv", b"f1,f\xff2,f3,label\n1,2,3,a\n4,5,6,b\n")
    write("empty_label.csv", HEADER + "1,2,3,a\n4,5,6,\n")
    write("single_class.csv", HEADER + "1,2,3,a\n4,5,6,a\n7,8,9,a\n")
    write("binary.csv", bytes(range(256)) * 4)
    write("wrong_columns.csv", "f1,f2,label\n1,2,a\n3,4,b\n")
    write("unseen_label.csv", HEADER + "1,2,3,a\n4,5,6,z\n")
    write("renamed_columns.csv", "f1,f2,g3,label\n1,2,3,a\n")

    # LIBSVM
    write("unsorted.svm", "1 1:0.5 3:1\n2 3:1 2:0.5\n")
    write("duplicate_index.svm", "1 1:0.5 2:1\n2 2:1 2:0.5\n")
    write("zero_index.svm", "1 0:0.5 2:1\n2 1:1\n")
    write("negative_index.svm", "1 1:0.5\n2 -3:1\n")
    write("no_colon.svm", "1 1:0.5 2\n")
    write("bad_value.svm", "1 1:0.5\n2 2:abc\n")
    write("huge_index.svm", "1 1:1\n2 4000000000:1\n")
    write("beyond_model.svm", "a 1:1 2:1 3:1\nb 1:1 7:1\n")

    # IDX
    write("lying-images-idx3-ubyte", idx(0x08, [60000, 28, 28], bytes(100)))
    write("extra-images-idx3-ubyte", idx(0x08, [2, 2, 2], bytes(8) + b"tail"))
    write("type-images-idx3-ubyte", idx(0x0A, [1, 2, 2], bytes(4)))
    write("cut-images-idx3-ubyte", bytes([0, 0, 8, 3, 0, 0, 0]))
    write("zero-images-idx3-ubyte", idx(0x08, [0xFFFFFFFF, 0, 28], b""))
    write("count-images-idx3-ubyte", idx(0x08, [3, 2, 2], bytes(range(12))))
    write("count-labels-idx1-ubyte", idx(0x08, [2], bytes([0, 1])))

    # NPY
    write("strings.npy", npy("<U5", (2, 2), bytes(80)))
    write("objects.npy", npy("|O", (2, 2), bytes(32)))
    write("short.npy", npy("<f8", (1000, 3), bytes(48)))
    write("lying.npy", npy("<f8", (1 << 40, 1 << 40), bytes(48)))
    write("magic.npy", npy("<f8", (2, 2), bytes(32), magic=b"\x93NUMPZ"))
    write("three_d.npy", npy("<f4", (2, 2, 2), bytes(32)))
    write("header_garbage.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': <f8',\n" + bytes(16))

    # Model files
    good = model()
    write("truncated_model.json", good[: len(good) // 2])
    write("shapes_model.json", model(weights=[[0.5, -0.25], [-0.5, 0.25, -0.125]]))
    write("bias_model.json", model(bias=[0.1]))
    write("newer_model.json", model(version=4))
    write("other_format.json", model(format="onnx"))
    write("infinite_model.json", good.replace("0.125", "1e999", 1))
    write("not_json_model.json", "\x00\x01binary, not a model\n")

    # Round 2: values that are finite but huge or tiny, models that are
    # valid JSON but not usable, text that hides an error.
    rows = "".join("%d,%s,%d,%s\n" % (i, "%de199" % (i + 1), i % 3, "ab"[i % 2]) for i in range(8))
    write("huge_feature.csv", HEADER + rows)
    rows = "".join("%d,%s,1,%s\n" % (i, "-1.7e308" if i == 3 else "1.7e308", "ab"[i % 2])
                   for i in range(8))
    write("spanning_feature.csv", HEADER + rows)
    write("subnormal_scale_model.json",
          model(standardization={"mean": [0, 0, 0], "scale": [1, 5e-324, 1]}))
    write("version_model.json", model(version=1.5))
    write("duplicate_features_model.json", model(feature_names=["f1", "f2", "f1"]))
    write("empty_field.txt", "1,2,3\n4,,6\n")
    classes = ["c%d" % j for j in range(1001)]
    write("many_classes_model.json", json.dumps({
        "format": "swift-softmax-model", "version": 1, "classes": classes,
        "feature_names": ["f1"], "weights": [[0.0]] * 1001, "bias": [0.0] * 1001}) + "\n")
    write("one_feature.csv", "f1,label\n1,c0\n2,c1\n")

    # Round 3: compressed files, formats told by content, text.
    import gzip
    with open(os.path.join(os.path.dirname(__file__), "..", "Data", "iris.csv"), "rb") as f:
        iris = f.read()
    write("truncated.csv.gz", gzip.compress(iris, mtime=0)[:-100])
    write("zstd.csv", bytes([0x28, 0xB5, 0x2F, 0xFD, 0x24, 0x06, 0x31, 0, 0]) + b"1,2,a")
    write("data.parquet", b"PAR1\x00\x15\x00\x07binary")
    write("no_label.txt", "__label__a one two\nthree four\n")
    write("empty_label.txt", "__label__a one\nx __label__ y\n")
    write("not_utf8.txt", b"__label__a caf\xe9\n__label__b tea\n")
    write("one_class.txt", "__label__a one two\n__label__a three four\n")
    write("no_words.txt", "__label__a !!!\n__label__b ... x\n")
    write("utf16.txt", "__label__a one two\n__label__b three\n".encode("utf-16"))


if __name__ == "__main__":
    main()
