#!/usr/bin/env python3
# ===--- make_npz_fixtures.py ----------------------------------------------===#
#
# This source file is part of the swift-softmax open source project
# Licensed under Apache License v2.0
#
# ===-----------------------------------------------------------------------===#
"""SciPy sparse matrices saved by scipy.sparse.save_npz, for NPZRowStream's
tests (Tests/SoftmaxDataTests/Fixtures/npz), with the canonical CSR arrays
each must read as (expected.json: indptr, indices, data as float64, shape).

    python3 Scripts/make_npz_fixtures.py
"""

import json
import os
import struct
import zlib

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "SoftmaxDataTests", "Fixtures", "npz")


def npy_header(descr, shape):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()


def write_claiming_archive(path):
    """A CSR archive whose deflated indptr.npy claims 2^40 offsets (8 TiB):
    its header says so, and so does the directory's size, but the data
    holds a few bytes. A reader must refuse it before allocating."""
    rows = (1 << 40) - 1
    members = [
        ("format.npy", npy_header("|S3", "()") + b"csr", 0),
        ("shape.npy", npy_header("<i8", "(2,)") + struct.pack("<qq", rows, 3), 0),
        ("indices.npy", npy_header("<i4", "(0,)"), 0),
        ("data.npy", npy_header("<f8", "(0,)"), 0),
    ]
    indptr_header = npy_header("<i8", "(%d,)" % (rows + 1))
    claimed = len(indptr_header) + 8 * (rows + 1)
    out = bytearray()
    directory = bytearray()

    def add(name, data, size, method):
        offset = len(out)
        crc = zlib.crc32(data) & 0xFFFFFFFF
        if method == 8:
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            stored = compressor.compress(data) + compressor.flush()
        else:
            stored = data
        zip64 = size >= 0xFFFFFFFF
        extra = struct.pack("<HHQQ", 1, 16, size, len(stored)) if zip64 else b""
        name_bytes = name.encode()
        out.extend(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, method, 0, 0x21, crc,
                               0xFFFFFFFF if zip64 else len(stored),
                               0xFFFFFFFF if zip64 else size, len(name_bytes), len(extra)))
        out.extend(name_bytes + extra + stored)
        directory.extend(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, method, 0,
                                     0x21, crc, 0xFFFFFFFF if zip64 else len(stored),
                                     0xFFFFFFFF if zip64 else size, len(name_bytes),
                                     len(extra), 0, 0, 0, 0, offset))
        directory.extend(name_bytes + extra)

    for name, data, method in members:
        add(name, data, len(data), method)
    # The indptr member: its header and 64 bytes, claimed as 8 TiB.
    add("indptr.npy", indptr_header + bytes(64), claimed, 8)
    start = len(out)
    out.extend(directory)
    out.extend(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 5, 5, len(directory), start, 0))
    with open(path, "wb") as f:
        f.write(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(19)
    n, d = 57, 40
    dense = rng.random((n, d)) * (rng.random((n, d)) < 0.15)
    dense[3] = 0  # an empty row
    dense[10, 39] = 1e-300  # a tiny value, exact in float64
    base = sp.csr_matrix(dense)
    expected = {}

    def record(name, matrix, note):
        canonical = sp.csr_matrix(matrix, dtype=np.float64)
        canonical.sort_indices()
        expected[name] = {
            "note": note,
            "shape": list(canonical.shape),
            "indptr": canonical.indptr.tolist(),
            "indices": canonical.indices.tolist(),
            "data": [float(v) for v in canonical.data],
        }

    # Deflated (save_npz's default) and stored, float64, int32 indices.
    sp.save_npz(os.path.join(OUT, "deflated_f8.npz"), base)
    record("deflated_f8.npz", base, "save_npz default (deflated), float64")
    sp.save_npz(os.path.join(OUT, "stored_f8.npz"), base, compressed=False)
    record("stored_f8.npz", base, "compressed=False, float64")
    # float32 values, int64 indices and indptr.
    wide = base.astype(np.float32)
    wide.indices = wide.indices.astype(np.int64)
    wide.indptr = wide.indptr.astype(np.int64)
    sp.save_npz(os.path.join(OUT, "f4_i8.npz"), wide)
    record("f4_i8.npz", wide, "float32 values, int64 indices")
    # Integer values (counts), int8.
    counts = sp.csr_matrix((rng.integers(1, 5, size=(n, d)) * (rng.random((n, d)) < 0.1)).astype(np.int8))
    sp.save_npz(os.path.join(OUT, "counts_i1.npz"), counts)
    record("counts_i1.npz", counts, "int8 counts")
    # Unsorted indices within rows (allowed by SciPy): read sorted.
    shuffled = base.copy()
    for r in range(n):
        lo, hi = shuffled.indptr[r], shuffled.indptr[r + 1]
        order = rng.permutation(hi - lo)
        shuffled.indices[lo:hi] = shuffled.indices[lo:hi][order]
        shuffled.data[lo:hi] = shuffled.data[lo:hi][order]
    shuffled.has_sorted_indices = False
    sp.save_npz(os.path.join(OUT, "unsorted.npz"), shuffled)
    record("unsorted.npz", shuffled, "indices unsorted within rows")
    # Refused: CSC, and a CSR matrix with a repeated index.
    sp.save_npz(os.path.join(OUT, "csc.npz"), base.tocsc())
    repeated = sp.csr_matrix((np.array([1.0, 2.0]), np.array([2, 2]), np.array([0, 2])), shape=(1, 4))
    sp.save_npz(os.path.join(OUT, "repeated.npz"), repeated)
    write_claiming_archive(os.path.join(OUT, "claims_2e40_rows.npz"))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
