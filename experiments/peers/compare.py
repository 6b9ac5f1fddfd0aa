#!/usr/bin/env python3
"""compare.py: ours best vs PyTorch best per shape, from leanbench and sdpa_peer CSVs.

Usage: compare.py OURS.csv PEERS.csv   (rows of ours with sms != the GPU's
full count are ignored).  Prints one line per shape present in both:
batch, heads, kv_heads, ctx, our best schedule and time, their best backend
and time, ratio ours/theirs (< 1: ours faster).
"""
import csv
import sys


def best(path, full_sms=None):
    rows = {}
    sms_max = 0
    data = list(csv.DictReader(open(path)))
    for r in data:
        sms_max = max(sms_max, int(r["sms"]))
    for r in data:
        if int(r["sms"]) != (full_sms or sms_max):
            continue
        key = (int(r["batch"]), int(r["heads"]), int(r["kv_heads"]), int(r["head_dim"]), r["dtype"], r["ctx"])
        t = float(r["time_us"])
        if key not in rows or t < rows[key][1]:
            rows[key] = (r["schedule"], t, float(r["bw_gbps"]))
    return rows, sms_max


def main():
    ours, sms = best(sys.argv[1])
    theirs, _ = best(sys.argv[2])
    def num(c):
        return [int(x) for x in c.split(";")]
    keys = sorted((k for k in ours if k in theirs), key=lambda k: k[:5] + (num(k[5]),))
    print("%5s %5s %4s %8s  %-9s %10s %8s  %-15s %10s %8s  %6s" % (
        "batch", "heads", "kvh", "ctx", "ours", "us", "GB/s", "theirs", "us", "GB/s", "ratio"))
    worse = 0
    for k in keys:
        o, t = ours[k], theirs[k]
        ratio = o[1] / t[1]
        worse += ratio > 1.0
        print("%5d %5d %4d %8s  %-9s %10.2f %8.1f  %-15s %10.2f %8.1f  %6.3f%s" % (
            k[0], k[1], k[2], k[5], o[0], o[1], o[2], t[0], t[1], t[2], ratio, "  <-- slower" if ratio > 1.0 else ""))
    print("%d shapes compared, ours slower on %d" % (len(keys), worse))


if __name__ == "__main__":
    main()
