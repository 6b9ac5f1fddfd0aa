#!/usr/bin/env python3
"""launch_probe.py: one call of each PyTorch decode-attention backend per shape,
for Nsight Compute to read the launch configuration of every kernel it runs.

Two modes.

Probe (run under ncu with --profile-from-start off):

    ncu --profile-from-start off --print-kernel-base function -o REP \\
        --metrics launch__grid_size,... python3 launch_probe.py probe \\
        --backends sdpa|flex|all --manifest M.txt [--budget S]

For each shape and backend: inputs are made and one warm-up call runs outside
the profiled region (FlexAttention compiles there); then, inside one
cudaProfilerStart/Stop region, a marker kernel (torch.cuda._sleep, whose
kernel is spin_kernel) and the call.  The manifest lists, in order, every call
that ran in a profiled region (and, as comments, those the backend refused),
so that the kernels between two markers belong to one manifest line.
Backends: torch-flash, torch-cudnn, torch-efficient (scaled_dot_product_attention
under sdpa_kernel) and torch-flex (flex_attention under torch.compile, one
compile per shape, static shapes).  --budget: start no new shape after S seconds.

Summary of a launch CSV (no GPU needed): launch_probe.py summary --csv launch.csv

Parse (no GPU needed):

    launch_probe.py parse --raw RAW.csv --manifest M.txt --csv launch.csv

RAW.csv is `ncu --import REP --csv --page raw --print-units base
--print-kernel-base function`.  One row per kernel launch is appended to
launch.csv (header once); the marker kernels are dropped.
"""
import argparse
import csv
import datetime
import os
import re
import sys
import time

HEADER = ("gpu,driver,commit,date,schedule,batch,heads,kv_heads,head_dim,ctx,kernel_index,kernel_name,"
          "grid_x,grid_y,grid_z,grid_size,block_size,regs_per_thread,smem_static,smem_dynamic,"
          "occ_limit_regs,occ_limit_smem,occ_limit_blocks,occ_limit_warps,duration_ns,dram_read_bytes")

MARKER = "spin_kernel"

# (batch, heads, kv_heads, head_dim, ctx); KV = 4 * b * kvh * ctx * d bytes, at most ~9 GB
SHAPES = [
    (1, 32, 32, 128, 1024), (1, 32, 32, 128, 4096), (1, 32, 32, 128, 16384), (1, 32, 32, 128, 65536),
    (1, 32, 32, 128, 262144), (1, 32, 32, 128, 524288),
    (1, 32, 8, 128, 65536), (1, 32, 8, 128, 524288), (1, 32, 4, 128, 262144),
    (1, 64, 8, 128, 100000), (1, 128, 8, 128, 65536), (1, 64, 64, 128, 16384),
    (4, 32, 32, 128, 16384), (4, 32, 8, 128, 100000), (4, 64, 4, 128, 65536),
    (8, 32, 32, 128, 4096), (8, 32, 8, 128, 16384), (8, 64, 8, 128, 65536),
    (16, 32, 32, 128, 1024), (16, 32, 8, 128, 16384), (16, 64, 64, 128, 4096), (16, 128, 16, 128, 4096),
    (64, 32, 8, 128, 1024), (64, 32, 32, 128, 4096),
    (1, 32, 32, 64, 65536), (8, 32, 8, 64, 16384),
]


def probe(args):
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    sdpa = [("torch-flash", SDPBackend.FLASH_ATTENTION), ("torch-cudnn", SDPBackend.CUDNN_ATTENTION),
            ("torch-efficient", SDPBackend.EFFICIENT_ATTENTION)]
    flex = None
    flex_err = ""
    if args.backends in ("flex", "all"):
        try:
            import torch._dynamo
            from torch.nn.attention.flex_attention import flex_attention
            for k in ("cache_size_limit", "recompile_limit", "accumulated_cache_size_limit",
                      "accumulated_recompile_limit"):
                if hasattr(torch._dynamo.config, k):
                    setattr(torch._dynamo.config, k, 4096)
            flex = torch.compile(flex_attention, dynamic=False)
        except Exception as e:  # no FlexAttention in this PyTorch
            flex_err = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
    man = open(args.manifest, "w")
    man.write("# gpu %s\n# torch %s\n" % (torch.cuda.get_device_name(0), torch.__version__))
    if flex_err:
        man.write("# torch-flex unavailable: %s\n" % flex_err)
    man.flush()
    t0 = time.time()
    idx = 0
    flex_ok = flex is not None
    flex_fails = flex_runs = 0
    # FlexAttention's grid does not depend on the context: spread its first shapes
    shapes = SHAPES if args.backends != "flex" else SHAPES[0::3] + SHAPES[1::3] + SHAPES[2::3]
    for (b, h, kvh, d, L) in shapes:
        if time.time() - t0 > args.budget:
            man.write("# budget of %d s spent: stopped before b=%d h=%d kvh=%d d=%d ctx=%d\n" % (args.budget, b, h, kvh, d, L))
            break
        torch.manual_seed(b * 7919 + L)
        q = torch.randn(b, h, 1, d, device="cuda", dtype=torch.float16)
        k = torch.randn(b, kvh, L, d, device="cuda", dtype=torch.float16)
        v = torch.randn(b, kvh, L, d, device="cuda", dtype=torch.float16)
        gqa = kvh != h
        calls = []
        if args.backends in ("sdpa", "all"):
            for name, be in sdpa:
                def call(be=be):
                    with sdpa_kernel([be]):
                        return F.scaled_dot_product_attention(q, k, v, enable_gqa=gqa)
                calls.append((name, call))
        if args.backends in ("flex", "all") and flex_ok:
            calls.append(("torch-flex", lambda: flex(q, k, v, enable_gqa=gqa)))
        for name, call in calls:
            tag = "%s %d %d %d %d %d" % (name, b, h, kvh, d, L)
            tc = time.time()
            try:
                call()  # warm-up, outside the profiled region (compiles FlexAttention)
                torch.cuda.synchronize()
            except Exception as e:  # the backend refuses this shape
                msg = (str(e).splitlines() or [type(e).__name__])[0][:140].replace("\n", " ")
                man.write("# refused %s: %s\n" % (tag, msg))
                man.flush()
                torch.cuda.synchronize()
                if name == "torch-flex":
                    flex_fails += 1
                    if flex_fails >= 2 and flex_runs == 0:  # it does not compile here: stop trying
                        man.write("# torch-flex failed twice and never ran: skipped from here on\n")
                        flex_ok = False
                continue
            if name == "torch-flex":
                flex_runs += 1
            warm_s = time.time() - tc
            torch.cuda.profiler.start()
            torch.cuda._sleep(1000)
            call()
            torch.cuda.synchronize()
            torch.cuda.profiler.stop()
            man.write("%d %s warm_s=%.2f\n" % (idx, tag, warm_s))
            man.flush()
            idx += 1
        del q, k, v
        torch.cuda.empty_cache()
    man.write("# %d profiled calls in %.0f s\n" % (idx, time.time() - t0))
    man.close()
    return 0


def num(s):
    s = (s or "").replace(",", "").strip().strip('"')
    if s in ("", "n/a", "N/A"):
        return None
    try:
        return float(s)
    except ValueError:
        return None


SCALE = {"": 1, "byte": 1, "Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9, "KB": 1e3, "MB": 1e6, "GB": 1e9,
         "KiB": 1024, "MiB": 1 << 20, "nsecond": 1, "usecond": 1e3, "msecond": 1e6, "second": 1e9,
         "register/thread": 1, "block": 1, "thread": 1, "warp": 1}


def parse(args):
    calls = []
    gpu = "unknown"
    with open(args.manifest) as f:
        for line in f:
            if line.startswith("# gpu "):
                gpu = line[6:].strip()
            if line.startswith("#") or not line.strip():
                continue
            p = line.split()
            calls.append((p[1], int(p[2]), int(p[3]), int(p[4]), int(p[5]), int(p[6])))
    with open(args.raw, newline="") as f:
        lines = [l for l in f if not l.startswith("==")]
    rows = list(csv.reader(lines))
    if not rows:
        sys.stderr.write("parse: %s is empty\n" % args.raw)
        return 1
    hdr = rows[0]
    col = {n: i for i, n in enumerate(hdr)}
    units = {}
    body = rows[1:]
    if body and (not body[0][col["ID"]].strip().isdigit()):  # the units row
        units = {hdr[i]: u for i, u in enumerate(body[0])}
        body = body[1:]
    body.sort(key=lambda r: int(r[col["ID"]]))

    def metric(r, name):
        if name not in col:
            return None
        x = num(r[col[name]])
        return None if x is None else x * SCALE.get(units.get(name, ""), 1)

    def dims(r, name):
        m = re.findall(r"\d+", r[col[name]]) if name in col else []
        return [int(x) for x in m[:3]] if len(m) >= 3 else [None, None, None]

    groups = []
    for r in body:
        name = r[col["Kernel Name"]]
        if MARKER in name:
            groups.append([])
        elif groups:
            groups[-1].append(r)
        else:
            sys.stderr.write("parse: kernel %s before the first marker; dropped\n" % name)
    if len(groups) != len(calls):
        sys.stderr.write("parse: %d marker groups but %d manifest calls: rows map in order, check them\n"
                         % (len(groups), len(calls)))
    facts = [gpu, os.environ.get("LEANBENCH_DRIVER", ""), os.environ.get("LEANBENCH_COMMIT", "unknown"),
             os.environ.get("LEANBENCH_DATE", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))]
    new = not os.path.exists(args.csv) or os.path.getsize(args.csv) == 0
    out = open(args.csv, "a")
    if new:
        out.write(HEADER + "\n")
    n = 0

    def fmt(x):
        return "" if x is None else "%.0f" % x

    for call, grp in zip(calls, groups):
        if not grp:
            sys.stderr.write("parse: no kernels for %s\n" % (call,))
        for ki, r in enumerate(grp):
            kname = re.sub(r"[,\"\s]+", "_", r[col["Kernel Name"]].strip())[:100]
            gx, gy, gz = dims(r, "Grid Size")
            bx, by, bz = dims(r, "Block Size")
            grid = metric(r, "launch__grid_size")
            block = metric(r, "launch__block_size")
            if block is None and bx is not None:
                block = bx * by * bz
            vals = [grid, block, metric(r, "launch__registers_per_thread"),
                    metric(r, "launch__shared_mem_per_block_static"), metric(r, "launch__shared_mem_per_block_dynamic"),
                    metric(r, "launch__occupancy_limit_registers"), metric(r, "launch__occupancy_limit_shared_mem"),
                    metric(r, "launch__occupancy_limit_blocks"), metric(r, "launch__occupancy_limit_warps"),
                    metric(r, "gpu__time_duration.sum"), metric(r, "dram__bytes_read.sum")]
            out.write(",".join(facts + [call[0]] + [str(x) for x in call[1:]] + [str(ki), kname]
                               + [fmt(x) for x in (gx, gy, gz)] + [fmt(x) for x in vals]) + "\n")
            n += 1
    out.close()
    print("parse: %d kernel rows from %d calls into %s" % (n, min(len(calls), len(groups)), args.csv))
    return 0


def short(name):
    return name if len(name) <= 22 else name[:12] + "~" + name[-9:]


def summary(args):
    rows = list(csv.DictReader(open(args.csv)))
    calls = {}
    for r in rows:
        key = (r["schedule"], int(r["batch"]), int(r["heads"]), int(r["kv_heads"]), int(r["head_dim"]), int(r["ctx"]))
        calls.setdefault(key, []).append(r)
    print("%d kernel rows, %d calls" % (len(rows), len(calls)))
    print("grids per call (kernel: x,y,z, duration us):")
    for key in sorted(calls):
        ks = calls[key]
        print("%-15s b=%-2d h=%-3d kvh=%-3d d=%-3d ctx=%-6d " % key + " | ".join(
            "%s %s,%s,%s %.0f" % (short(r["kernel_name"]), r["grid_x"], r["grid_y"], r["grid_z"],
                                   float(r["duration_ns"] or 0) / 1e3) for r in ks))
    kinds = {}
    for r in rows:
        k = (r["schedule"], r["kernel_name"][:60], r["block_size"], r["regs_per_thread"],
             r["smem_static"], r["smem_dynamic"], r["occ_limit_regs"], r["occ_limit_smem"])
        kinds[k] = kinds.get(k, 0) + 1
    print("schedule        kernel (first 60 chars)                                      block regs smem_s smem_d occR occS  n")
    for k, n in sorted(kinds.items()):
        print("%-15s %-60s %5s %4s %6s %6s %4s %4s %3d" % (k + (n,)))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("probe")
    p.add_argument("--backends", choices=("sdpa", "flex", "all"), default="all")
    p.add_argument("--manifest", required=True)
    p.add_argument("--budget", type=float, default=1e9)
    q = sub.add_parser("parse")
    q.add_argument("--raw", required=True)
    q.add_argument("--manifest", required=True)
    q.add_argument("--csv", required=True)
    r = sub.add_parser("summary")
    r.add_argument("--csv", required=True)
    args = ap.parse_args()
    return {"probe": probe, "parse": parse, "summary": summary}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
