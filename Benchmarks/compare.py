#!/usr/bin/env python3
"""SoftmaxCore's Float kernels side by side with NumPy, SciPy, PyTorch, JAX,
ONNX Runtime, MLX, the AVX-512 C reference and STREAM, in one run, and one
table of GB/s and ratios per shape.

    python3 Benchmarks/compare.py [--rounds 2] [--no-install] [--tools ...]

What it does:
- builds Benchmarks' `softmax-timing` (release) and, from ../shared/baselines
  if present, the C reference (softmax_ref.c) and STREAM (stream.c);
- makes a venv Benchmarks/.venv-peers with the peers (pip; torch is ~5 min
  and several GB the first time) unless --no-install;
- runs every tool once per round, tools interleaved, rounds repeated: the
  machine is shared and its memory bandwidth jumps between runs, so each
  tool's best round is kept and all rounds are printed with --verbose;
- prints GB/s (bytes = 2·n·4: read the input once, write the output once)
  and the ratios the issue asks for.

Timing method everywhere: median per call of 21 repeats of >= 50 ms.
Swift softmax writes a preallocated output (`softmax(x, into: &y)`); the
Python peers allocate their output in every call (that is their API);
the C reference writes a preallocated output. Cross-entropy everywhere
allocates its gradient per call (Swift included).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "baselines")
BUILD = os.path.join(ROOT, ".build-bench")
VENV = os.path.join(HERE, ".venv-peers")
PEERS = ["numpy", "scipy", "torch1", "torch2", "jax", "ort1", "ort2", "mlx"]


def run(cmd, env=None, cwd=None):
    return subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True, text=True).stdout


def prepare(args):
    print("building softmax-timing (release)...", file=sys.stderr)
    run(["swift", "build", "-c", "release", "--product", "softmax-timing"], cwd=HERE)
    timing = os.path.join(run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=HERE).strip(),
                          "softmax-timing")
    os.makedirs(BUILD, exist_ok=True)
    c_ref = stream = None
    if os.path.isdir(SHARED):
        c_ref, stream = os.path.join(BUILD, "softmax_ref"), os.path.join(BUILD, "stream")
        run(["gcc", "-O3", "-march=native", "-ffast-math", "-fopenmp",
             os.path.join(SHARED, "softmax_ref.c"), "-o", c_ref, "-lm"])
        run(["gcc", "-O3", "-march=native", "-fopenmp", os.path.join(SHARED, "stream.c"), "-o", stream])
    else:
        print(f"note: {SHARED} not found: no C reference and no STREAM in this run", file=sys.stderr)
    python = sys.executable
    if not args.no_install:
        if not os.path.exists(os.path.join(VENV, "bin", "python")):
            run([sys.executable, "-m", "venv", "--system-site-packages", VENV])
        python = os.path.join(VENV, "bin", "python")
        check = "import jax, onnx, onnxruntime, mlx.core, torch"
        if subprocess.run([python, "-c", check], capture_output=True).returncode != 0:
            print("installing the peers into Benchmarks/.venv-peers (torch takes minutes)...", file=sys.stderr)
            run([python, "-m", "pip", "install", "-q", "jax[cpu]", "onnx", "onnxruntime", "mlx[cpu]", "torch"])
    elif os.path.exists(os.path.join(VENV, "bin", "python")):
        python = os.path.join(VENV, "bin", "python")
    return timing, c_ref, stream, python


def swift_records(timing, op, threads, shapes):
    out = run([timing, "--op", op, "--threads", str(threads), "--shapes",
               ",".join(f"{r}x{c}" for r, c in shapes)])
    for line in out.splitlines():
        r = json.loads(line)
        yield (f"swift t{threads}", op, tuple(r["shape"])), r["gbps"], r["median_s"]


def c_records(c_ref, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_PROC_BIND="close")
    pattern = re.compile(r"^(\S+)\s+threads=\d+ \(\s*(\d+),\s*(\d+)\) median\s+([\d.]+) us\s+([\d.]+) GB/s")
    for line in run([c_ref], env=env).splitlines():
        m = pattern.match(line)
        if not m:
            continue
        name, rows, cols, us, gbps = m.groups()
        if name == "c_softmax_3p_poly":
            yield (f"C t{threads}", "softmax", (int(rows), int(cols))), float(gbps), float(us) * 1e-6
        elif name == "c_ce_fwd_bwd":
            yield (f"C t{threads}", "cross-entropy", (int(rows), int(cols))), float(gbps), float(us) * 1e-6


def stream_records(stream):
    env = dict(os.environ, OMP_NUM_THREADS="2", OMP_PROC_BIND="close")
    for line in run([stream], env=env).splitlines():
        m = re.match(r"^copy .*median\s+([\d.]+) GB/s", line)
        if m:
            yield ("STREAM copy t2", "stream", ()), float(m.group(1)), 0.0


def peer_records(python, op, tools):
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    out = subprocess.run([python, os.path.join(HERE, "peers.py"), "--op", op, "--tools", ",".join(tools)],
                         env=env, capture_output=True, text=True).stdout
    for line in out.splitlines():
        r = json.loads(line)
        if "error" in r:
            print(f"note: {r['tool']} {r['shape']}: {r['error']}", file=sys.stderr)
            continue
        yield (r["tool"], op, tuple(r["shape"])), r["gbps"], r["median_s"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-install", action="store_true", help="use only the peers already installed")
    ap.add_argument("--tools", default=",".join(PEERS))
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--json", default=None, help="write every measurement to this file")
    args = ap.parse_args()
    timing, c_ref, stream, python = prepare(args)
    peers = [t for t in args.tools.split(",") if t]
    softmax_shapes = [(65536, 10), (4096, 1000), (256, 32768), (16, 1048576), (1024, 128)]
    ce_shapes = [(65536, 10), (4096, 1000)]
    best, everything = {}, []

    def keep(records):
        for key, gbps, seconds in records:
            everything.append(dict(tool=key[0], op=key[1], shape=list(key[2]), gbps=gbps, seconds=seconds))
            if args.verbose:
                print(f"  {key[0]:16s} {key[1]:14s} {str(key[2]):18s} {gbps:7.2f} GB/s", file=sys.stderr)
            if gbps > best.get(key, (0, 0))[0]:
                best[key] = (gbps, seconds)

    # One job per tool; the order rotates from round to round so that no
    # tool always runs right after another (STREAM in particular leaves the
    # kernel busy returning 768 MiB for a moment: it runs last, then a pause).
    jobs = []
    for threads in (1, 2):
        jobs.append(lambda threads=threads: (
            list(swift_records(timing, "softmax", threads, softmax_shapes))
            + list(swift_records(timing, "cross-entropy", threads, ce_shapes))))
    if c_ref:
        for threads in (1, 2):
            jobs.append(lambda threads=threads: list(c_records(c_ref, threads)))
    if peers:
        jobs.append(lambda: list(peer_records(python, "softmax", peers)))
        jobs.append(lambda: list(peer_records(python, "cross-entropy", [p for p in peers if p != "scipy"])))
    for round_ in range(args.rounds):
        print(f"round {round_ + 1} of {args.rounds}...", file=sys.stderr)
        start = round_ % len(jobs)
        for job in jobs[start:] + jobs[:start]:
            keep(job())
        if stream:
            keep(stream_records(stream))
            time.sleep(3)

    stream_bw = best.get(("STREAM copy t2", "stream", ()), (None,))[0]
    print(f"\nSoftmax, float32, last axis: GB/s (best of {args.rounds} interleaved rounds); "
          f"ratio = swift t2 / that tool")
    print("| shape | swift t1 | swift t2 | best peer | swift t2 / best peer | C t1 | C t2 | "
          "swift/C (t1, t2) | STREAM copy t2 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for shape in softmax_shapes:
        g = lambda tool: best.get((tool, "softmax", shape), (None,))[0]
        peer_values = [(g(p), p) for p in peers if g(p)]
        top = max(peer_values) if peer_values else (None, "-")
        ratio = lambda a, b: f"{a / b:.2f}" if a and b else "-"
        fmt = lambda v: f"{v:.1f}" if v else "-"
        print(f"| {shape[0]} × {shape[1]} | {fmt(g('swift t1'))} | {fmt(g('swift t2'))} | "
              f"{fmt(top[0])} ({top[1]}) | {ratio(g('swift t2'), top[0])} | {fmt(g('C t1'))} | "
              f"{fmt(g('C t2'))} | {ratio(g('swift t1'), g('C t1'))}, {ratio(g('swift t2'), g('C t2'))} | "
              f"{fmt(stream_bw)} ({ratio(g('swift t2'), stream_bw)}×) |")
    print("\nCross-entropy forward + backward, float32: ms (best round); ratio = best peer time / swift t2 time")
    print("| shape | swift t1 | swift t2 | best peer | speed-up vs best peer | C t2 |")
    print("|---|---|---|---|---|---|")
    for shape in ce_shapes:
        s = lambda tool: best.get((tool, "cross-entropy", shape), (0, None))[1]
        peer_values = [(s(p), p) for p in peers if s(p)]
        top = min(peer_values) if peer_values else (None, "-")
        fmt = lambda v: f"{v * 1e3:.3f}" if v else "-"
        speedup = f"{top[0] / s('swift t2'):.2f}" if top[0] and s("swift t2") else "-"
        print(f"| {shape[0]} × {shape[1]} | {fmt(s('swift t1'))} | {fmt(s('swift t2'))} | "
              f"{fmt(top[0])} ({top[1]}) | {speedup} | {fmt(s('C t2'))} |")
    print("\nEvery tool, softmax GB/s (best round):")
    tools = sorted({k[0] for k in best if k[1] == "softmax"})
    print("| tool | " + " | ".join(f"{r}×{c}" for r, c in softmax_shapes) + " |")
    print("|---|" + "---|" * len(softmax_shapes))
    for tool in tools:
        cells = [best.get((tool, "softmax", sh), (None,))[0] for sh in softmax_shapes]
        print(f"| {tool} | " + " | ".join(f"{c:.1f}" if c else "-" for c in cells) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(everything, f, indent=1)


if __name__ == "__main__":
    main()
