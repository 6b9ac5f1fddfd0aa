#!/usr/bin/env python3
"""cta_spans.py: where each CTA of a measured launch spends its time.

    cta_spans.py TIMELINE.csv... > spans.txt

A timeline (`leanbench --timeline`) has a provenance header of '# key=value'
lines and one row per event (cta, sm, event, unit, t_ns): start, seg_end
(one per segment), wait_begin and wait_end (a stream-K host waiting for
its peers), end.  For each file, one line: the plan from the header ('?'
where an older file does not say), the
launch's span (first start to last end), and over its CTAs the median and
the spread of their start, their length (start to end), their segments
and their waits, and the SMs that hold 1, 2, 3... CTAs.  Times in us.  A
file without the columns exits 2 naming it.
"""
import os
import statistics as st
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlread  # noqa: E402

HEAD = ["schedule", "batch", "heads", "kv_heads", "head_dim", "ctx", "block_n", "ctas"]


def fail(msg):
    sys.stderr.write("cta_spans.py: %s\n" % msg)
    sys.exit(2)


def read(path):
    meta, rows = tlread.read(path, fail, (), ("cta", "sm", "event", "unit", "t_ns"))
    for k in HEAD:
        meta.setdefault(k, "?")   # older timelines lack some keys
    return meta, rows


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]


def summary(path):
    meta, rows = read(path)
    cta = {}
    for r in rows:
        c = cta.setdefault(int(r["cta"]), {"sm": int(r["sm"]), "seg": 0, "wait": 0.0})
        t = int(r["t_ns"]) / 1e3
        e = r["event"]
        if e == "start":
            c["start"] = t
        elif e == "end":
            c["end"] = t
        elif e == "seg_end":
            c["seg"] += 1
        elif e == "wait_begin":
            c["wb"] = t
        elif e == "wait_end" and "wb" in c:
            c["wait"] += t - c.pop("wb")
    done = [c for c in cta.values() if "start" in c and "end" in c]
    if not done:
        fail("%s: no CTA with a start and an end" % path)
    t0 = min(c["start"] for c in done)
    span = max(c["end"] for c in done) - t0
    starts = [c["start"] - t0 for c in done]
    lens = [c["end"] - c["start"] for c in done]
    ends = [c["end"] - t0 for c in done]
    per_sm = {}
    for c in done:
        per_sm[c["sm"]] = per_sm.get(c["sm"], 0) + 1
    occ = {}
    for n in per_sm.values():
        occ[n] = occ.get(n, 0) + 1
    return ("%-8s b=%-3s h=%-3s kvh=%-3s d=%-3s ctx=%-8s bn=%-3s ctas=%-4s span %8.2f | start p50 %5.2f max %5.2f"
            " | length p10 %7.2f p50 %7.2f max %7.2f | end p10 %7.2f p50 %7.2f | segs p50 %d max %d"
            " | wait sum %7.2f max %6.2f | SMs by CTAs %s" % (
                meta["schedule"], meta["batch"], meta["heads"], meta["kv_heads"], meta["head_dim"],
                meta["ctx"][:8], meta["block_n"], meta["ctas"], span, st.median(starts), max(starts),
                pct(lens, 0.1), st.median(lens), max(lens), pct(ends, 0.1), st.median(ends),
                int(st.median(c["seg"] for c in done)), max(c["seg"] for c in done),
                sum(c["wait"] for c in done), max(c["wait"] for c in done),
                " ".join("%d:%d" % (k, occ[k]) for k in sorted(occ))))


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        sys.exit(0 if len(sys.argv) > 1 else 2)
    lines = [summary(p) for p in sys.argv[1:]]   # every file read before a line is written
    print("\n".join(lines))


if __name__ == "__main__":
    main()
