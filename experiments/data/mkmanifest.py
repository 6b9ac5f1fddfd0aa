#!/usr/bin/env python3
"""mkmanifest.py: writes experiments/data/MANIFEST.tsv, one line per data file
(here and under archive/): file, role, kernel commit, sha256; and
traces/measured/MANIFEST.tsv, one line per measured timeline (there and
under its archive/): file, role, sha256.

Roles: evidence (behind the README's results and `make figures`: the
campaign files and the newest run of each kind), superseded (an older run
of a kind a newer file replaces: these live under archive/, and a file
under archive/ is superseded), ab (an A/B, variant or exploration run,
kept as evidence for kernels/NOTES.md).  A file that the rules below call
superseded but that is not under archive/ is an error: move it there (git
mv) and update what names it.  The kernel commit is read from a CSV's
commit column (the first row), else '-'.  `make test` checks that every
file is listed and matches its hash (tests/cli_data.sh).
"""
import csv
import glob
import hashlib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TRACES = os.path.join(HERE, "..", "..", "traces", "measured")
SKIP = {"MANIFEST.tsv", "README.md", "campaign.txt", "mkmanifest.py"}


def role(name, campaign):
    if name.startswith("archive/"):
        return "superseded"
    if name in campaign or re.search(r"-202611(27|28)-|-20261207-", name):
        return "evidence"
    if re.search(r"-(ab|variants|explore|history|l2hint|rowscap|grids|readceil|quick|peers-quick|compare-v4pf)", name):
        return "ab"
    if re.search(r"-v4", name):
        return "evidence"
    return "superseded"


def commit_of(path):
    if not path.endswith(".csv"):
        return "-"
    try:
        with open(path, newline="") as f:
            r = csv.DictReader(f)
            row = next(r, None)
            return (row or {}).get("commit") or "-"
    except (OSError, UnicodeDecodeError):
        return "-"


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def files(top):
    """Names of the files of top and of top/archive, archive's as archive/NAME."""
    out = []
    for sub in ("", "archive"):
        for path in sorted(glob.glob(os.path.join(top, sub, "*"))):
            name = os.path.basename(path)
            if name in SKIP or os.path.isdir(path):
                continue
            out.append((os.path.join(sub, name) if sub else name, path))
    return out


def main():
    campaign = set()
    with open(os.path.join(HERE, "campaign.txt")) as f:
        for ln in f:
            ln = ln.strip()
            if ln and not ln.startswith("#"):
                campaign.add(ln)
    lines, bad = [], []
    for name, path in files(HERE):
        r = role(name, campaign)
        if r == "superseded" and not name.startswith("archive/"):
            bad.append(name)
        lines.append("%s\t%s\t%s\t%s" % (name, r, commit_of(path), sha(path)))
    tlines = []
    for name, path in files(TRACES):
        if not name.startswith("archive/") and not re.search(r"(-v4|-2026112[78]-[a-z0-9]+|-20261207-[a-z0-9]+)\.csv$", name):
            bad.append("traces/measured/" + name)
        tlines.append("%s\t%s\t%s" % (name, "superseded" if name.startswith("archive/") else "evidence", sha(path)))
    if bad:
        sys.exit("superseded, not under archive/ (git mv them there): " + " ".join(bad))
    with open(os.path.join(HERE, "MANIFEST.tsv"), "w") as f:
        f.write("# file\trole\tkernel_commit\tsha256   (written by mkmanifest.py; checked by make test)\n")
        for ln in lines:
            f.write(ln + "\n")
    with open(os.path.join(TRACES, "MANIFEST.tsv"), "w") as f:
        f.write("# file\trole\tsha256   (written by experiments/data/mkmanifest.py; checked by make test)\n")
        for ln in tlines:
            f.write(ln + "\n")
    print("MANIFEST.tsv: %d files; traces/measured/MANIFEST.tsv: %d timelines" % (len(lines), len(tlines)))


if __name__ == "__main__":
    main()
