#!/usr/bin/env python3
"""mkmanifest.py: writes experiments/data/MANIFEST.tsv, one line per data file:
file, role, kernel commit, sha256.

Roles: evidence (behind the README's results and `make figures`: the
campaign files and the newest run of each kind), superseded (an older run
of a kind a newer file replaces), ab (an A/B, variant or exploration run,
kept as evidence for kernels/NOTES.md).  The kernel commit is read from a
CSV's commit column (the first row), else '-'.  `make test` checks that
every file here is listed and matches its hash (tests/cli_data.sh).
"""
import csv
import glob
import gzip
import hashlib
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = {"MANIFEST.tsv", "README.md", "campaign.txt", "mkmanifest.py"}


def role(name, campaign):
    if name in campaign or "20261127" in name:
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


def main():
    campaign = set()
    with open(os.path.join(HERE, "campaign.txt")) as f:
        for ln in f:
            ln = ln.strip()
            if ln and not ln.startswith("#"):
                campaign.add(ln)
    lines = []
    for path in sorted(glob.glob(os.path.join(HERE, "*"))):
        name = os.path.basename(path)
        if name in SKIP or os.path.isdir(path):
            continue
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        lines.append("%s\t%s\t%s\t%s" % (name, role(name, campaign), commit_of(path), digest))
    with open(os.path.join(HERE, "MANIFEST.tsv"), "w") as f:
        f.write("# file\trole\tkernel_commit\tsha256   (written by mkmanifest.py; checked by make test)\n")
        for ln in lines:
            f.write(ln + "\n")
    print("MANIFEST.tsv: %d files" % len(lines))


if __name__ == "__main__":
    main()
