#!/usr/bin/env python3
"""gpc_rates.py: what each GPC of an H100 streamed in a measured launch.

    gpc_rates.py GPCMAP.csv TIMELINE.csv... > rates.txt

GPCMAP.csv is `build/gpcmap`'s output (kernels/gpcmap.cu): per cluster
size, the SMs each thread-block cluster ran on; a cluster runs within one
GPC, so the SMs that clusters of 8 or more CTAs join are one GPC.  SMs no
such cluster held are taken as one more GPC (on the H100 of
h100-20261207-gpcmap.csv: SMs 124-131).  A timeline is `leanbench
--timeline`'s (cta, sm, event, t_ns rows under a '# key=value' header) of
a plan whose CTAs each stream the same bytes, one KV unit of the header's
context (FA2's plan of a uniform batch): per GPC, its CTAs over its SMs,
the CTAs' median length and the GPC's rate while they ran (CTAs x bytes /
median length, GB/s), and the SMs that held two CTAs or more.  Bad input
exits 2 naming it.
"""
import csv
import os
import statistics as st
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlread  # noqa: E402


def fail(msg):
    sys.stderr.write("gpc_rates.py: %s\n" % msg)
    sys.exit(2)


def gpc_of(path, sms):
    """SM -> GPC index (GPCs numbered by their lowest SM)."""
    try:
        with open(path) as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        fail("%s: %s" % (path, e.strerror))
    if not rows or not {"kind", "cluster_size", "value", "cluster", "sm"} <= set(rows[0]):
        fail("%s: not a gpcmap CSV (kind, cluster_size, value, cluster, rank, sm)" % path)
    root = list(range(sms))

    def find(x):
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    clusters = {}
    for r in rows:
        if r["kind"] == "place" and int(r["cluster_size"]) >= 8:
            clusters.setdefault((r["cluster_size"], r["value"], r["cluster"]), []).append(int(r["sm"]))
    held = set()
    for members in clusters.values():
        for s in members:
            if not 0 <= s < sms:
                fail("%s: SM %d outside 0..%d" % (path, s, sms - 1))
            held.add(s)
            root[find(s)] = find(members[0])
    rest = [s for s in range(sms) if s not in held]
    for s in rest[1:]:
        root[find(s)] = find(rest[0])
    groups = {}
    for s in range(sms):
        groups.setdefault(find(s), []).append(s)
    order = sorted(groups.values(), key=min)
    return {s: i for i, g in enumerate(order) for s in g}, [len(g) for g in order]


def rates(path, gpc, sizes):
    """The line of one timeline, or None for a plan whose CTAs stream unequal bytes (not FA2's)."""
    meta, rows = tlread.read(path, fail, ("ctx", "head_dim", "ctas", "schedule"), ("cta", "sm", "event", "t_ns"))
    if meta["schedule"] != "fa2":
        return None
    try:
        ctx, d = int(meta["ctx"]), int(meta["head_dim"])
    except ValueError:
        fail("%s: one context length and head dim expected (ctx=%s, head_dim=%s)" % (path, meta["ctx"], meta["head_dim"]))
    unit_bytes = 2.0 * ctx * d * 2   # K and V of one KV head of one request, 16-bit
    cta = {}
    for r in rows:
        c, t, sm = int(r["cta"]), int(r["t_ns"]) / 1e3, int(r["sm"])
        if sm not in gpc:
            fail("%s: SM %d not in the GPC map" % (path, sm))
        s, a, b = cta.get(c, (sm, t, t))
        cta[c] = (s, min(a, t), max(b, t))
    per_sm = {}
    for s, _, _ in cta.values():
        per_sm[s] = per_sm.get(s, 0) + 1
    out = []
    for g, n_sms in enumerate(sizes):
        lens = [b - a for s, a, b in cta.values() if gpc[s] == g]
        if lens:
            out.append("%d/%d %.0f" % (len(lens), n_sms, len(lens) * unit_bytes / st.median(lens) / 1e3))
    crowded = sorted(s for s, n in per_sm.items() if n >= 2)
    return "%-7s ctas=%-4s ctx=%-6s | GPC CTAs/SMs GB/s: %s | SMs with 2+: %s" % (
        meta["schedule"], meta["ctas"], meta["ctx"], ", ".join(out),
        "none" if not crowded else "%d (%s)" % (len(crowded), " ".join(str(s) for s in crowded[:40])))


def main():
    if len(sys.argv) < 3:
        fail("usage: gpc_rates.py GPCMAP.csv TIMELINE.csv...")
    gpc, sizes = gpc_of(sys.argv[1], 132)
    print("# GPCs of %s: %s SMs" % (os.path.basename(sys.argv[1]), " ".join(str(n) for n in sizes)))
    for p in sys.argv[2:]:
        line = rates(p, gpc, sizes)
        if line is None:   # only FA2's CTAs each stream one whole unit
            sys.stderr.write("gpc_rates.py: %s: not FA2's plan, its CTAs stream unequal bytes; skipped\n" % p)
        else:
            print(line)


if __name__ == "__main__":
    main()
