#!/usr/bin/env python3
"""confirm.py: time the tuner's pick again beside an oracle's fastest plans.

An oracle (`leanbench --oracle`) times each of some hundred plans of a
workload a few times (`run-on-gpu.sh oracle`: 10 launches), so its fastest
measured plan is partly chance: the minimum of many noisy medians is
biased low, and a regret against it carries that noise.  This tool builds a
second, smaller run that times, per workload, the tuner's pick and the
oracle's K fastest distinct plans with many launches each, one after the
other, and scores the pick against the fastest of them.

    confirm.py sweep ORACLE.csv --gpu G [--half even|odd] [--top K] [--reps N] > SWEEP.txt
    confirm.py score SWEEP.txt CONFIRM.csv [CONFIRM2.csv ...]

sweep: one leanbench sweep line per plan (the workload's options, the
plan's requested options, --reps N), the tuner's pick first; a comment line
before each workload names the pick ("# pick: workload | schedule block_n
ctas splits"), which `score` reads.  The pick comes from `build/leansim
predict --policy tune --gpu G` (run from the repository root); --half takes
the workloads of one half (experiments/halves.py's hash).
score: for each workload of the sweep, the pick's time over the fastest
time among its rows (time_us, the medians of event-timed launches), minus
one: mean, p95 and max over workloads, and the workloads whose pick was not
timed.  With several CSVs, each workload is scored on the first that timed
its pick, against that file's rows alone (one call's times are compared
only with each other).  Bad input (a missing column, no such file) exits 2 naming it.
"""
import csv
import io
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from halves import KEYS, fnv1a64  # noqa: E402


def fail(msg):
    sys.stderr.write("confirm.py: %s\n" % msg)
    sys.exit(2)


def read_csv(path):
    try:
        with open(path) as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        fail("%s: %s" % (path, e.strerror))
    need = set(KEYS) | {"schedule", "block_n", "ctas", "splits", "time_us"}
    if rows and not need <= set(rows[0]):
        fail("%s: no column %s" % (path, sorted(need - set(rows[0]))[0]))
    return rows


def wkey(r):
    return tuple(r[k] for k in KEYS)


def plan_key(r):
    return (r["schedule"], int(r["block_n"]), int(r["ctas"]), int(r["splits"]))


def workload_opts(k):
    b, h, kvh, d, dt, ctx = k
    return "--batch %s --heads %s --kv-heads %s --head-dim %s --dtype %s --ctx %s" % (
        b, h, kvh, d, dt, ctx.replace(";", ","))


def tuner_pick(k, gpu):
    cmd = ["build/leansim", "predict", "--gpu", gpu, "--policy", "tune", "--format", "csv"] + workload_opts(k).split()
    r = subprocess.run(cmd, capture_output=True, text=True)
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    if r.returncode or not rows:
        fail("leansim predict failed for %s: %s" % (workload_opts(k), r.stderr.strip()[:200]))
    return rows[0]


def plan_of(k, gpu, opts):
    """(CTAs, closed-form time) of the plan leansim builds for workload k under opts, or None."""
    cmd = ["build/leansim", "predict", "--gpu", gpu, "--format", "csv"] + opts.split() + workload_opts(k).split()
    got = list(csv.DictReader(io.StringIO(subprocess.run(cmd, capture_output=True, text=True).stdout)))
    return (got[0]["ctas"], float(got[0]["time_us"])) if got else None


def plan_options(k, p, gpu):
    """Options that make the runner build plan p (its schedule, block_n,
    ctas, splits, sms; time_us when p is a prediction) of workload k: a
    stream-K or hybrid grid (hybrid's CTAs count its data-parallel ones
    too) and a balanced plan's CTAs per SM are found by asking leansim which
    builds p's CTA count and, where p carries its predicted time, that time
    (two hybrid grids can launch one CTA count and cut the work apart)."""
    s = p["schedule"]
    o = "--schedule %s --block-n %s" % (s, p["block_n"])
    if s == "split":
        return o + " --splits %s" % p["splits"]
    if s in ("streamk", "hybrid"):
        sms = int(p["sms"])
        tries = [" --grid %d" % g for g in [int(p["ctas"])] + [sms * m for m in range(1, 9)]] + [""]
    elif s == "balanced":
        tries = [" --ctas-per-sm %d" % c for c in range(1, 9)]
    else:
        return o
    want_t = float(p["time_us"]) if p.get("engine") == "model" and p.get("time_us") else None
    for t in tries:
        got = plan_of(k, gpu, o + t)
        if got and got[0] == p["ctas"] and (want_t is None or abs(got[1] - want_t) <= 1e-6 * want_t):
            return o + t
    fail("%s: no option builds the plan's %s CTAs (%s)" % (s, p["ctas"], workload_opts(k)))


def req_opts(r, gpu):
    """The options that rebuild row r's plan: its requested ones where the
    file has them (req_* columns), else plan_options (and always for a
    balanced plan: the runner's rule for it has changed since some oracles
    ran)."""
    if "req_block_n" not in r or r["schedule"] == "balanced":
        return plan_options(wkey(r), r, gpu)
    o = "--schedule %s" % r["schedule"]
    for col, opt in (("req_block_n", "--block-n"), ("req_splits", "--splits"), ("req_grid", "--grid"),
                     ("req_cps", "--ctas-per-sm")):
        if int(r[col]) > 0:
            o += " %s %s" % (opt, r[col])
    return o


def cmd_sweep(argv):
    args = {"--gpu": None, "--half": None, "--top": "3", "--reps": "100"}
    pos = []
    i = 0
    while i < len(argv):
        if argv[i] in args:
            if i + 1 >= len(argv):
                fail("%s: missing value" % argv[i])
            args[argv[i]] = argv[i + 1]
            i += 2
        else:
            pos.append(argv[i])
            i += 1
    if len(pos) != 1 or not args["--gpu"]:
        fail("usage: confirm.py sweep ORACLE.csv --gpu G [--half even|odd] [--top K] [--reps N]")
    if args["--half"] not in (None, "even", "odd"):
        fail("--half %s: expected even or odd" % args["--half"])
    top, reps = int(args["--top"]), int(args["--reps"])
    rows = read_csv(pos[0])
    by = {}
    for r in rows:
        by.setdefault(wkey(r), []).append(r)
    print("# confirm.py sweep %s --gpu %s%s --top %d --reps %d: per workload the tuner's pick, then the oracle's"
          " %d fastest distinct plans" % (pos[0], args["--gpu"], " --half " + args["--half"] if args["--half"] else "",
                                          top, reps, top))
    for k, rs in by.items():
        if args["--half"] and (fnv1a64(",".join(k)) % 2 == 1) != (args["--half"] == "odd"):
            continue
        p = tuner_pick(k, args["--gpu"])
        pk = (p["schedule"], int(p["block_n"]), int(p["ctas"]), int(p["splits"]))
        print("# pick: %s | %s %d %d %d" % (",".join(k), *pk))
        print("%s %s --reps %d" % (workload_opts(k), plan_options(k, p, args["--gpu"]), reps))
        seen = {pk}
        for r in sorted(rs, key=lambda r: float(r["time_us"])):
            if len(seen) > top:
                break
            if plan_key(r) in seen:
                continue
            seen.add(plan_key(r))
            print("%s %s --reps %d" % (workload_opts(k), req_opts(r, args["--gpu"]), reps))
    return 0


PICK_OPTS = (("--block-n", "req_block_n"), ("--splits", "req_splits"), ("--grid", "req_grid"),
             ("--ctas-per-sm", "req_cps"))


def line_req(line):
    """The plan options a sweep line asks, as the runner's req_* columns (0: not asked)."""
    t = line.split()
    req = {col: 0 for _, col in PICK_OPTS}
    for opt, col in PICK_OPTS:
        if opt in t:
            req[col] = int(t[t.index(opt) + 1])
    return req


def pick_rows(rs, pk, req):
    """Rows of one workload that ran the pick: those that asked the pick's
    options; else, where the file timed the pick's schedule, tile, CTAs and
    splits under one set of options only, those (a plan timed under
    equivalent options before); else none (two plans share the count)."""
    mine = [r for r in rs if plan_key(r) == pk]
    asked = [r for r in mine if all(int(r.get(c) or 0) == v for c, v in req.items())]   # a version 1 file has no req_*
    if asked:
        return asked
    sets = {tuple(int(r.get(c) or 0) for c in req) for r in mine}
    return mine if len(sets) == 1 else []


def cmd_score(argv):
    if len(argv) < 2:
        fail("usage: confirm.py score SWEEP.txt CONFIRM.csv [CONFIRM2.csv ...]")
    picks = {}
    try:
        with open(argv[0]) as f:
            want = None
            for line in f:
                if line.startswith("# pick: "):
                    w, p = line[8:].strip().split(" | ")
                    s, bn, ctas, sp = p.split()
                    want = tuple(w.split(","))
                    picks[want] = [(s, int(bn), int(ctas), int(sp)), None]
                elif want and line.strip() and not line.startswith("#"):
                    picks[want][1] = line_req(line)   # the pick's own line follows its comment
                    want = None
    except OSError as e:
        fail("%s: %s" % (argv[0], e.strerror))
    if not picks:
        fail("%s: no '# pick:' lines" % argv[0])
    bys = []
    for path in argv[1:]:
        by = {}
        for r in read_csv(path):
            by.setdefault(wkey(r), []).append(r)
        bys.append(by)
    reg, missing = [], 0
    for k, (pk, req) in picks.items():
        kk = k[:5] + (k[5].replace(",", ";"),)
        for by in bys:
            rs = by.get(k) or by.get(kk) or []
            t = [float(r["time_us"]) for r in pick_rows(rs, pk, req or {})]
            if rs and t:
                best = min(float(r["time_us"]) for r in rs)
                reg.append((100.0 * (min(t) / best - 1.0), k))
                break
        else:
            missing += 1
    reg.sort()
    if not reg:
        fail("%s: no workload of the sweep was timed" % argv[1])
    n = len(reg)
    p95 = reg[max(0, -(-95 * n // 100) - 1)][0]
    print("workloads %d  regret_mean %.2f%%  p95 %.2f%%  max %.2f%%  missing %d" % (
        n, sum(x for x, _ in reg) / n, p95, reg[-1][0], missing))
    for x, k in reg[::-1][:5]:
        print("  %.2f%%  %s" % (x, ",".join(k)))
    return 0


def main(argv):
    if len(argv) < 2 or argv[1] not in ("sweep", "score"):
        sys.stderr.write(__doc__)
        return 2
    return cmd_sweep(argv[2:]) if argv[1] == "sweep" else cmd_score(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
