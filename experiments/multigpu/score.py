#!/usr/bin/env python3
"""score.py: measured multi-GPU decode (leanbench --gpus) against leansim's prediction.

    python3 experiments/multigpu/score.py [--leansim build/leansim] [--engine sim|model]
                                          [--dat DIR] MGPU.csv [...]

For every measured row (kv or heads parallelism on N GPUs) runs
`leansim simulate` (or `predict`) with the same workload, schedule, GPU count
and parallelism on the chip spec of the GPU that was measured, and prints one
line per row, then the MAPE of the total time per GPU count and parallelism
over 64k tokens and more, and the error of the communication (gather + merge)
at 4k-16k tokens, where it dominates.  Bad input (no such file, a missing
column, a GPU no chip spec maps to, a row leansim refuses) exits naming
the file.  Nothing here is fitted to these rows:
the chip's link figures come from build/linkbench, the rest from the
single-GPU calibration.  With --dat DIR, writes DIR/multigpu-measured-SPEC.dat
per chip spec: the measured and predicted kv / heads time ratio per GPU
count and context (64 query heads over 8 KV heads, batch 1, stream-K on
each GPU, NCCL gather: a split row of the same workload is not mixed in),
for plots/multigpu.gp.
"""
import argparse
import csv
import os
import subprocess
import sys

GPU_SPECS = [("H100", "h100"), ("H200", "h200"), ("B200", "b200"), ("A100", "a100")]


def spec_of(name):
    for key, spec in GPU_SPECS:
        if key in name.split():
            return spec
    return None


def predict(leansim, engine, row, spec):
    cmd = [leansim, "simulate" if engine == "sim" else "predict", "--gpu", spec, "--format", "csv",
           "--gpus", row["gpus"], "--parallel", row["parallel"], "--batch", row["batch"], "--heads", row["heads"],
           "--kv-heads", row["kv_heads"], "--head-dim", row["head_dim"], "--dtype", row["dtype"],
           "--ctx", row["ctx"].replace(";", ","), "--schedule", row["schedule"], "--block-n", row["block_n"]]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), out.stderr.strip()))
    lines = [l for l in out.stdout.splitlines() if l and not l.startswith("#")]
    return next(csv.DictReader(lines))


def mape(xs):
    return 100.0 * sum(abs(x) for x in xs) / len(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description="measured multi-GPU decode against leansim's prediction")
    ap.add_argument("--leansim", default="build/leansim")
    ap.add_argument("--engine", choices=["sim", "model"], default="sim")
    ap.add_argument("--dat", help="directory for multigpu-measured-SPEC.dat, one per chip spec")
    ap.add_argument("csv", nargs="+")
    a = ap.parse_args()
    need = ("gpu", "gpus", "parallel", "batch", "heads", "kv_heads", "head_dim", "dtype", "ctx", "schedule", "block_n",
            "time_us", "gather_us", "merge_us")
    rows = []   # (file, row)
    for path in a.csv:
        try:
            with open(path, newline="") as f:
                rd = csv.DictReader(f)
                rows += [(path, r) for r in rd]
                missing = [c for c in need if c not in (rd.fieldnames or [])]
        except OSError as e:
            sys.exit("score.py: %s: %s" % (path, e.strerror))
        if missing:
            sys.exit("score.py: %s: no column %s (not a leanbench --gpus CSV)" % (path, missing[0]))
    if not rows:
        sys.exit("score.py: no rows in %s" % ", ".join(a.csv))
    print("%-5s %2s %-8s %2s %4s %3s %8s %10s %10s %7s %9s %9s" % (
        "gpu", "N", "par", "b", "h", "kvh", "ctx", "meas_us", "pred_us", "err%", "comm_meas", "comm_pred"))
    res = []
    for path, r in rows:
        spec = spec_of(r["gpu"])
        if not spec:
            sys.exit("score.py: %s: no chip spec for GPU %r" % (path, r["gpu"]))
        try:
            p = predict(a.leansim, a.engine, r, spec)
        except (OSError, RuntimeError) as e:
            sys.exit("score.py: %s: %s" % (path, e))
        meas, pred = float(r["time_us"]), float(p["time_us"])
        cm = float(r["gather_us"]) + float(r["merge_us"])
        cp = float(p["gather_us"]) + float(p["merge_us"])
        ctx = max(int(c) for c in r["ctx"].split(";"))
        par = r["parallel"] + ("/" + r["gather"] if r["parallel"] == "kv" and r.get("gather") else "")
        res.append((spec, int(r["gpus"]), par, int(r["batch"]), int(r["heads"]), int(r["kv_heads"]), ctx,
                    meas, pred, cm, cp, r["schedule"]))
        print("%-5s %2s %-8s %2s %4s %3s %8d %10.2f %10.2f %+7.1f %9.2f %9.2f" % (
            spec, r["gpus"], par, r["batch"], r["heads"], r["kv_heads"], ctx, meas, pred,
            100 * (pred / meas - 1), cm, cp))
    print("\nMAPE of the total time, contexts >= 64k (engine %s):" % a.engine)
    for spec in sorted({x[0] for x in res}):
        for n in sorted({x[1] for x in res}):
            for par in sorted({x[2] for x in res}):
                e = [x[8] / x[7] - 1 for x in res if x[0] == spec and x[1] == n and x[2] == par and x[6] >= 65536]
                if e:
                    print("  %-5s %d GPUs %-8s %3d rows  %5.1f%%  (worst %+.1f%%)" % (
                        spec, n, par, len(e), mape(e), 100 * max(e, key=abs)))
        e = [x[8] / x[7] - 1 for x in res if x[0] == spec and x[6] >= 65536]
        print("  %-5s all              %3d rows  %5.1f%%" % (spec, len(e), mape(e)))
        for par in sorted({x[2] for x in res if x[2].startswith("kv")}):
            c = [x[10] / x[9] - 1 for x in res if x[0] == spec and x[2] == par and x[6] <= 16384 and x[9] > 0]
            if c:
                print("  %-5s communication (gather + merge), %s, 4k-16k: %d rows, MAPE %.1f%% (worst %+.1f%%)" % (
                    spec, par, len(c), mape(c), 100 * max(c, key=abs)))
    if a.dat:
        os.makedirs(a.dat, exist_ok=True)
        for spec in sorted({x[0] for x in res}):
            with open(os.path.join(a.dat, "multigpu-measured-%s.dat" % spec), "w") as f:
                f.write("# gpus ctx measured_kv_over_heads predicted_kv_over_heads (64 heads over 8 KV heads, "
                        "batch 1, streamk, %s); one block per GPU count\n" % spec)
                key = {}
                for x in res:
                    if x[0] == spec and x[3] == 1 and x[4] == 64 and x[5] == 8 and x[11] == "streamk":
                        key[(x[1], x[6], x[2].split("/")[0] if x[2] != "kv/p2p" else "p2p")] = x
                for n in sorted({k[0] for k in key}):
                    for ctx in sorted({k[1] for k in key if k[0] == n}):
                        kv, hd = key.get((n, ctx, "kv")), key.get((n, ctx, "heads"))
                        if kv and hd:
                            f.write("%d %d %.4f %.4f\n" % (n, ctx, kv[7] / hd[7], kv[8] / hd[8]))
                    f.write("\n\n")

if __name__ == "__main__":
    main()
