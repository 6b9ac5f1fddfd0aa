#!/usr/bin/env python3
"""compare.py: ours best vs PyTorch best per shape, from leanbench and sdpa_peer CSVs.

Usage: compare.py OURS.csv PEERS.csv [--time graph|call]

Like for like: both sides are compared on the same timing method.  The
default, graph, is the time per call of back-to-back calls replayed from a
CUDA graph (the graph_us column of both CSVs): it leaves out the host's
launch cost, which for PyTorch's per-call time at short contexts is mostly
Python's dispatch rather than the kernel.  call compares the per-call
medians (time_us), launch included on both sides.  Rows of ours with sms !=
the GPU's full count are ignored; a row without the chosen time is skipped.
Prints one line per shape present in both: batch, heads, kv_heads, ctx,
our best schedule and time, their best backend and time, ratio ours/theirs
(< 1: ours faster), then a summary.  Bad input (no such file, a missing
column) exits 2 naming it.
"""
import csv
import sys


NEED = ("sms", "schedule", "batch", "heads", "kv_heads", "head_dim", "dtype", "ctx", "kv_bytes", "time_us", "graph_us")


def fail(msg):
    sys.stderr.write("compare.py: %s\n" % msg)
    sys.exit(2)


def best(path, col, full_sms=None):
    rows = {}
    sms_max = 0
    try:
        with open(path, newline="") as f:
            rd = csv.DictReader(f)
            data = list(rd)
            missing = [c for c in NEED if c not in (rd.fieldnames or [])]
    except OSError as e:
        fail("%s: %s" % (path, e.strerror))
    if missing:
        fail("%s: no column %s" % (path, missing[0]))
    for r in data:
        sms_max = max(sms_max, int(r["sms"]))
    for r in data:
        if int(r["sms"]) != (full_sms or sms_max) or not r.get(col):
            continue
        key = (int(r["batch"]), int(r["heads"]), int(r["kv_heads"]), int(r["head_dim"]), r["dtype"], r["ctx"])
        t = float(r[col])
        if t <= 0:
            continue
        bw = float(r["kv_bytes"]) / t / 1e3
        if key not in rows or t < rows[key][1]:
            rows[key] = (r["schedule"], t, bw)
    return rows, sms_max


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    method = "graph"
    if "--time" in sys.argv:
        i = sys.argv.index("--time")
        method = sys.argv[i + 1] if i + 1 < len(sys.argv) else ""
        args = [a for a in args if a != method]
    if len(args) != 2 or method not in ("graph", "call"):
        sys.stderr.write(__doc__)
        return 2
    col = "graph_us" if method == "graph" else "time_us"
    ours, _ = best(args[0], col)
    theirs, _ = best(args[1], col)

    def num(c):
        return [int(x) for x in c.split(";")]
    keys = sorted((k for k in ours if k in theirs), key=lambda k: k[:5] + (num(k[5]),))
    print("# times: %s (%s)" % (col, "CUDA-graph replay, per call" if method == "graph" else "per-call median, launch included"))
    print("%5s %5s %4s %8s  %-9s %10s %8s  %-15s %10s %8s  %6s" % (
        "batch", "heads", "kvh", "ctx", "ours", "us", "GB/s", "theirs", "us", "GB/s", "ratio"))
    worse = worse5 = better5 = 0
    for k in keys:
        o, t = ours[k], theirs[k]
        ratio = o[1] / t[1]
        worse += ratio > 1.0
        worse5 += ratio > 1.05
        better5 += ratio < 0.95
        print("%5d %5d %4d %8s  %-9s %10.2f %8.1f  %-15s %10.2f %8.1f  %6.3f%s" % (
            k[0], k[1], k[2], k[5], o[0], o[1], o[2], t[0], t[1], t[2], ratio, "  <-- slower" if ratio > 1.0 else ""))
    print("%d shapes compared (%s): ours slower on %d (by more than 5%% on %d), more than 5%% faster on %d" % (
        len(keys), col, worse, worse5, better5))
    return 0


if __name__ == "__main__":
    sys.exit(main())
