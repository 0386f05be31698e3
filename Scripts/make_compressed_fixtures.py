#!/usr/bin/env python3
"""Compressed fixtures, written by Python's own gzip, bz2 and lzma modules (zlib, libbzip2
and liblzma), for the readers' decompression tests: each is a plain fixture of this
project compressed, some as several concatenated members or streams (as `cat a.gz b.gz`
makes, and as pigz and pbzip2 write), and some under names that do not say their format.

    python3 Scripts/make_compressed_fixtures.py

Writes Tests/SoftmaxDataTests/Fixtures/compressed/:
    iris.csv.gz             two gzip members (the rows split at byte 2000)
    iris.csv.bz2            two bzip2 streams
    iris.csv.xz             two xz streams
    sklearn.t.gz            sklearn.svm, LIBSVM under a name that says nothing (as news20.t)
    tiny-images-idx3-ubyte.gz, tiny-labels-idx1-ubyte.gz   the IDX pair, as MNIST ships
    bad_value.csv.gz        a CSV with a bad value at line 3, column 3
"""
import bz2
import gzip
import lzma
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
FIXTURES = os.path.join(ROOT, "Tests", "SoftmaxDataTests", "Fixtures")
OUT = os.path.join(FIXTURES, "compressed")
os.makedirs(OUT, exist_ok=True)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


iris = read(os.path.join(ROOT, "Data", "iris.csv"))
# mtime=0: the same bytes on every run.
write("iris.csv.gz", gzip.compress(iris[:2000], mtime=0) + gzip.compress(iris[2000:], mtime=0))
write("iris.csv.bz2", bz2.compress(iris[:2000]) + bz2.compress(iris[2000:]))
write("iris.csv.xz", lzma.compress(iris[:2000]) + lzma.compress(iris[2000:]))
write("sklearn.t.gz", gzip.compress(read(os.path.join(FIXTURES, "sklearn.svm")), mtime=0))
for name in ["tiny-images-idx3-ubyte", "tiny-labels-idx1-ubyte"]:
    write(name + ".gz", gzip.compress(read(os.path.join(FIXTURES, name)), mtime=0))
# A bad value on line 3, column 3 of the decompressed text.
write("bad_value.csv.gz", gzip.compress(b"f1,f2,label\n1,2,a\n3,oops,b\n", mtime=0))
