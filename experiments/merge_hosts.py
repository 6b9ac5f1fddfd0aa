#!/usr/bin/env python3
"""merge_hosts.py: each stream-K host's wait and merge in leanbench timelines.

    merge_hosts.py TIMELINE.csv... > hosts.csv

A timeline (`leanbench --timeline`) has a provenance header of '# key=value'
lines and one row per event (cta, sm, event, unit, t_ns).  A host CTA of a
unit waits for its peers (wait_begin, wait_end), then merges their partial
states and writes the unit's output (its seg_end of that unit after
wait_end).  One output row per host: the workload and plan from the header,
the unit, its parts (CTAs that ended a segment of it), the wait and the
merge in ns.  A file without the header keys or the columns exits 2 naming
it.
"""
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlread  # noqa: E402

HEAD = ["gpu", "schedule", "batch", "heads", "kv_heads", "head_dim", "ctx", "block_n", "ctas", "ctas_per_sm"]


def fail(msg):
    sys.stderr.write("merge_hosts.py: %s\n" % msg)
    sys.exit(2)


def hosts(path):
    meta, rows = tlread.read(path, fail, HEAD)
    parts, ev = {}, {}
    for r in rows:
        c, u, t = int(r["cta"]), int(r["unit"]), float(r["t_ns"])
        if r["event"] == "seg_end":
            parts.setdefault(u, set()).add(c)
        ev.setdefault((c, u), []).append((r["event"], t))
    out = []
    for (c, u), es in ev.items():
        wb = [t for e, t in es if e == "wait_begin"]
        we = [t for e, t in es if e == "wait_end"]
        if not wb or not we:
            continue
        after = [t for e, t in es if e == "seg_end" and t >= we[0]]
        if not after:
            continue
        out.append([meta[k] for k in HEAD] + [u, len(parts.get(u, ())), "%.0f" % (we[0] - wb[0]),
                                              "%.0f" % (min(after) - we[0])])
    return out


def main(argv):
    if not argv:
        fail("usage: merge_hosts.py TIMELINE.csv... > hosts.csv")
    out = [row for p in argv for row in hosts(p)]   # every file read before a line is written
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(HEAD + ["unit", "parts", "wait_ns", "merge_ns"])
    w.writerows(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
