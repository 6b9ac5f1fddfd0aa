#!/usr/bin/env python3
"""halves.py: the rows of a leanbench CSV whose workload falls in one half.

    python3 experiments/halves.py even|odd FILE.csv > HALF.csv

A workload is the columns batch, heads, kv_heads, head_dim, dtype and ctx;
its half is the parity of the FNV-1a hash (64-bit) of those six values
joined by commas, so every plan of one workload lands in the same half.
An oracle file (`leanbench --oracle`) split this way gives workloads to fit
on (even) and whole workloads to score a tuner on (odd): the rows of a
workload the tuner is judged on never take part in a fit.  The header is
kept; bad input (no such column, unknown half) exits 2 naming it.
"""
import csv
import sys

KEYS = ("batch", "heads", "kv_heads", "head_dim", "dtype", "ctx")


def fnv1a64(text):
    h = 0xcbf29ce484222325
    for b in text.encode():
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def main(argv):
    if len(argv) != 3 or argv[1] not in ("even", "odd"):
        sys.stderr.write("usage: halves.py even|odd FILE.csv\n")
        return 2
    want = 0 if argv[1] == "even" else 1
    try:
        f = open(argv[2], newline="")
    except OSError as e:
        sys.stderr.write("halves.py: %s: %s\n" % (argv[2], e.strerror))
        return 2
    with f:
        rd = csv.reader(f)
        header = next(rd, None)
        if header is None:
            sys.stderr.write("halves.py: %s: empty file\n" % argv[2])
            return 2
        missing = [k for k in KEYS if k not in header]
        if missing:
            sys.stderr.write("halves.py: %s: no column %s\n" % (argv[2], missing[0]))
            return 2
        idx = [header.index(k) for k in KEYS]
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(header)
        for row in rd:
            if fnv1a64(",".join(row[i] for i in idx)) % 2 == want:
                out.writerow(row)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
