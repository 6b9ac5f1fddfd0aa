"""runcsv.py: the kernel runner's CSV columns, read from sim/runcsv.h.

The columns are defined once, in sim/runcsv.h (an X-macro: one line
`X(name, since)` per column, in file order); build/leanbench and the
ingester use it from C, the Python writers through this module, so the
three cannot drift apart (tests/cli_runcsv.sh).

COLUMNS: the column names in order; HEADER: the header line (no newline);
line(values): one CSV line from a dict naming every column (None or ""
for an empty field), refusing unknown or missing names and fields with a
comma or a newline.
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "..", "sim", "runcsv.h")


def _columns(path):
    cols = []
    with open(path) as f:
        for ln in f:
            m = re.match(r"\s*X\((\w+),\s*(\d+)\)\s*\\?\s*$", ln)
            if m:
                cols.append(m.group(1))
    if not cols:
        raise SystemExit("%s: no X(name, since) column lines" % path)
    return cols


COLUMNS = _columns(SOURCE)
HEADER = ",".join(COLUMNS)


def line(values):
    unknown = sorted(set(values) - set(COLUMNS))
    missing = [c for c in COLUMNS if c not in values]
    if unknown or missing:
        raise ValueError("runner CSV row: unknown columns %s, missing %s (sim/runcsv.h)" % (unknown, missing))
    out = []
    for c in COLUMNS:
        v = "" if values[c] is None else str(values[c])
        if "," in v or "\n" in v:
            raise ValueError("runner CSV row: column %s holds a comma or newline: %r" % (c, v))
        out.append(v)
    return ",".join(out)


if __name__ == "__main__":
    print(HEADER)
