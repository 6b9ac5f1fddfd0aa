"""tlread.py: reads a CTA timeline as `leanbench --timeline` writes it.

A timeline opens with a provenance header of '# key=value' lines (the
first of each key is kept), then one CSV row per event: cta, sm, event,
unit, t_ns.  read() returns (meta, rows); on a file it cannot open, a
header key in `head` that is missing, or rows without the columns `cols`,
it calls fail(message) with the file's name in the message.
"""
import csv


def read(path, fail, head=(), cols=("cta", "event", "unit", "t_ns")):
    meta, body = {}, []
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("# ") and "=" in line:
                    k, v = line[2:].rstrip("\n").split("=", 1)
                    meta.setdefault(k, v)
                elif not line.startswith("#"):
                    body.append(line)
    except OSError as e:
        fail("%s: %s" % (path, e.strerror))
    missing = [k for k in head if k not in meta]
    if missing:
        fail("%s: no '# %s=' header line" % (path, missing[0]))
    rows = list(csv.DictReader(body))
    if not rows or not set(cols) <= set(rows[0]):
        fail("%s: no event rows with columns %s" % (path, ", ".join(cols)))
    return meta, rows
