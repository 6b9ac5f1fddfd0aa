#!/usr/bin/env python3
"""sdpa_peer.py: times PyTorch's decode attention backends on decode shapes.

Peer of build/leanbench: same shapes, same timing method (CUDA events around
each call after warm-up, median/p10/p90 of --reps; KV sets rotated so that
their total exceeds 2x L2, or a >L2 scratch read between calls when only
one set fits; a read, so no dirty lines; KV sets carved from one arena
allocated at startup, as leanbench does, so that allocation history does
not move timings; --no-arena: fresh tensors per shape), same KV byte count (2 * sum(ctx) * kv_heads * d * 2), and the
same CSV columns as leanbench, read from sim/runcsv.h (runcsv.py; schedule =
torch-flash, torch-cudnn, torch-efficient, torch-flex; the plan columns,
requested and planned, and the knob and build columns left empty).
graph_us: time per call of n back-to-back calls replayed from a CUDA graph
(empty where the backend cannot be captured).

torch-flex is FlexAttention (torch.nn.attention.flex_attention) under
torch.compile with static shapes, so one compile per shape (its decode
kernel for q_len 1); its compile time is printed, not timed.

Usage: sdpa_peer.py --csv OUT [--reps 50] [--shapes standard|extra|quick]
                    [--flex none|subset|all] [--budget SECONDS] [--only SWEEP]
                    [--backends flash,cudnn,efficient]
Shapes: standard: batch 1, 8, 16; 32 and 64 query heads; GQA groups 1
and 4; d=128 fp16; contexts 1k..512k (powers of two).  extra: 30 shapes of
other batches (2, 4, 6, 32), heads (8, 16, 40, 128), groups (1, 4, 8, 16),
head dims (64, 128) and contexts (3000, 100000, 300000 among them).
quick (or --quick): a handful.  Shapes whose KV does not fit are skipped.
--flex subset: FlexAttention on the standard shapes with 32 heads, batch 1
and 8, contexts 4k, 64k, 512k (every shape for extra and quick).
--budget: start no new shape after SECONDS.  --only SWEEP: only the shapes
that lines of a leanbench sweep file name (the tuner's choices of a call).
--backends: the SDPA backends timed (default all three), e.g. flash,cudnn
where the memory-efficient backend is known not to be the fastest.
"""
import argparse
import datetime
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

import runcsv

BACKENDS = [("torch-flash", SDPBackend.FLASH_ATTENTION),
            ("torch-cudnn", SDPBackend.CUDNN_ATTENTION),
            ("torch-efficient", SDPBackend.EFFICIENT_ATTENTION)]


def pct(v, q):
    v = sorted(v)
    return v[int(q * (len(v) - 1) + 0.5)]


def time_calls(call, reps, scratch, flush):
    """call(i) runs the i-th call (KV set i mod sets); returns out, median, p10, p90, graph_us."""
    out = call(0)  # raises if the backend refuses the shape
    for i in range(5):
        call(i)
    st = torch.cuda.current_stream()
    evs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(reps)]
    for i in range(reps):
        if flush:
            scratch.sum()  # a read: no dirty lines written back during the call
        evs[i][0].record(st)
        call(i)
        evs[i][1].record(st)
    torch.cuda.synchronize()
    ms = [a.elapsed_time(b) for a, b in evs]
    t = pct(ms, 0.5) * 1e3
    # launch overhead: n back-to-back calls replayed from a CUDA graph
    n = max(2, min(20, int(10000 / max(t, 1))))
    graph_us = ""
    try:
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for i in range(2):
                call(i)
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            for i in range(n):
                call(i)
        g.replay()
        gt = []
        for _ in range(3):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            g.replay()
            b.record()
            torch.cuda.synchronize()
            gt.append(a.elapsed_time(b))
        graph_us = "%.3f" % (pct(gt, 0.5) * 1e3 / n)
        del g
    except Exception:  # graph capture unsupported for this backend
        torch.cuda.synchronize()
    return out, t, pct(ms, 0.1) * 1e3, pct(ms, 0.9) * 1e3, graph_us


def time_backend(backend, q, ks, vs, gqa, reps, scratch, flush):
    def call(i):
        return F.scaled_dot_product_attention(q, ks[i % len(ks)], vs[i % len(vs)], enable_gqa=gqa)

    with sdpa_kernel([backend]):
        return time_calls(call, reps, scratch, flush)


_flex = None


def flex_compiled():
    """flex_attention under torch.compile, static shapes (one compile per shape)."""
    global _flex
    if _flex is None:
        import torch._dynamo
        from torch.nn.attention.flex_attention import flex_attention
        for k in ("cache_size_limit", "recompile_limit", "accumulated_cache_size_limit",
                  "accumulated_recompile_limit"):
            if hasattr(torch._dynamo.config, k):
                setattr(torch._dynamo.config, k, 4096)
        _flex = torch.compile(flex_attention, dynamic=False)
    return _flex


def time_flex(q, ks, vs, gqa, reps, scratch, flush):
    fx = flex_compiled()

    def call(i):
        return fx(q, ks[i % len(ks)], vs[i % len(vs)], enable_gqa=gqa)

    t0 = time.time()
    call(0)  # compiles for this shape
    torch.cuda.synchronize()
    compile_s = time.time() - t0
    return time_calls(call, reps, scratch, flush) + (compile_s,)


STANDARD = [(b, h, h // g, 128, 1024 << i) for b in (1, 8, 16) for h in (32, 64) for g in (1, 4) for i in range(10)]
QUICK = [(1, 32, 32, 128, L) for L in (4096, 65536, 524288)] + [(8, 32, 8, 128, 16384)]
# (batch, heads, kv_heads, head_dim, ctx): none of them in STANDARD
EXTRA = [
    (2, 8, 8, 128, 3000), (2, 8, 2, 128, 100000), (2, 16, 16, 128, 32768), (2, 16, 4, 64, 300000),
    (2, 40, 40, 128, 8192), (2, 128, 8, 128, 65536), (2, 32, 4, 128, 300000), (2, 64, 64, 64, 131072),
    (2, 8, 1, 128, 300000),
    (4, 8, 8, 64, 100000), (4, 16, 2, 128, 65536), (4, 40, 40, 128, 3000), (4, 40, 40, 64, 100000),
    (4, 128, 16, 128, 16384), (4, 128, 8, 128, 300000), (4, 32, 32, 128, 300000),
    (6, 8, 8, 128, 16384), (6, 16, 16, 64, 3000), (6, 32, 8, 128, 100000), (6, 40, 40, 128, 32768),
    (6, 128, 32, 128, 8192), (6, 64, 4, 128, 65536),
    (32, 8, 8, 128, 3000), (32, 16, 4, 128, 8192), (32, 40, 40, 64, 3000), (32, 128, 8, 128, 4096),
    (32, 32, 32, 128, 16384), (32, 64, 8, 128, 32768), (32, 128, 128, 64, 1024), (32, 16, 16, 128, 100000),
]


def flex_subset(shape):
    b, h, kvh, d, L = shape
    return h == 32 and b in (1, 8) and L in (4096, 65536, 524288)


def sweep_shapes(path):
    """The (batch, heads, kv_heads, head_dim, ctx) of every line of a
    leanbench sweep file (head dim 128 unless given); exits 2 naming the
    file when it cannot be read or a line lacks one of them."""
    out = set()
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        sys.stderr.write("sdpa_peer.py: --only %s: %s\n" % (path, e.strerror))
        sys.exit(2)
    for n, line in enumerate(lines, 1):
        t = line.split("#")[0].split()
        if not t:
            continue
        o = {t[i]: t[i + 1] for i in range(len(t) - 1) if t[i].startswith("--")}
        try:
            out.add((int(o["--batch"]), int(o["--heads"]), int(o["--kv-heads"]), int(o.get("--head-dim", 128)),
                     int(o["--ctx"])))
        except (KeyError, ValueError):
            sys.stderr.write("sdpa_peer.py: --only %s:%d: a line without --batch, --heads, --kv-heads and a single "
                             "--ctx\n" % (path, n))
            sys.exit(2)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="a handful of shapes only (--shapes quick)")
    ap.add_argument("--shapes", choices=("standard", "extra", "quick"), default="standard")
    ap.add_argument("--flex", choices=("none", "subset", "all"), default="none",
                    help="FlexAttention (torch-flex) on no shape, a subset of the standard ones, or all")
    ap.add_argument("--budget", type=float, default=1e9, help="start no new shape after this many seconds")
    ap.add_argument("--only", metavar="SWEEP", help="only the shapes a leanbench sweep file names (its --batch, "
                    "--heads, --kv-heads, --head-dim and --ctx)")
    ap.add_argument("--no-arena", action="store_true", help="allocate each shape's KV tensors anew")
    ap.add_argument("--backends", default="flash,cudnn,efficient",
                    help="comma-separated SDPA backends to time, of flash, cudnn, efficient (default all three)")
    args = ap.parse_args()
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    known = [n[len("torch-"):] for n, _ in BACKENDS]
    bad = [n for n in names if n not in known]
    if bad or not names:
        sys.stderr.write("--backends %s: %s (known: %s)\n" % (args.backends, "no such backend '%s'" % bad[0] if bad
                                                            else "none named", ", ".join(known)))
        return 2
    chosen = [(n, be) for n, be in BACKENDS if n[len("torch-"):] in names]

    def smi_clock(field):
        """The GPU's maximum clock in MHz from nvidia-smi (as leanbench reads it), or 0 when unknown."""
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=" + field, "--format=csv,noheader,nounits"],
                                 capture_output=True, text=True, timeout=20).stdout.split()
            return out[0] if out and out[0].isdigit() else "0"
        except (OSError, subprocess.SubprocessError):
            return "0"

    dev = torch.cuda.current_device()
    prop = torch.cuda.get_device_properties(dev)
    l2 = getattr(prop, "L2_cache_size", 50 * 2**20)
    facts = dict(gpu=prop.name, sms=prop.multi_processor_count,
                 driver=os.environ.get("LEANBENCH_DRIVER", "torch-cuda" + str(torch.version.cuda)),
                 sm=os.environ.get("LEANBENCH_SM_MHZ") or smi_clock("clocks.max.sm"),
                 mem=os.environ.get("LEANBENCH_MEM_MHZ") or smi_clock("clocks.max.mem"),
                 nvcc="torch" + torch.__version__.split("+")[0],
                 commit=os.environ.get("LEANBENCH_COMMIT", "unknown"),
                 date=os.environ.get("LEANBENCH_DATE",
                                     datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")))
    new = not os.path.exists(args.csv) or os.path.getsize(args.csv) == 0
    if not new:  # rows of another column set would be misread
        with open(args.csv) as old:
            if old.readline().rstrip("\r\n") != runcsv.HEADER:
                sys.stderr.write("--csv %s: its header is not the runner's (sim/runcsv.h): not appended to\n" % args.csv)
                return 2
    f = open(args.csv, "a")
    if new:
        f.write(runcsv.HEADER + "\n")
    scratch = torch.ones(3 * l2 // 2, dtype=torch.float16, device="cuda")
    free_total = torch.cuda.mem_get_info()[1]
    arena = None
    if not args.no_arena:  # every shape's KV sets from the start of one allocation
        free_now = torch.cuda.mem_get_info()[0]
        keep = 4 << 30  # q, outputs, backends' workspaces
        if free_now > keep:
            arena = torch.empty((free_now - keep) // 2, dtype=torch.float16, device="cuda")

    if args.quick:
        args.shapes = "quick"
    shapes = {"standard": STANDARD, "extra": EXTRA, "quick": QUICK}[args.shapes]
    if args.only:
        shapes = [s for s in shapes if s in sweep_shapes(args.only)]
    t_start = time.time()
    flex_on = args.flex != "none"
    flex_fails = flex_runs = 0

    for (b, h, kvh, d, L) in shapes:
        if time.time() - t_start > args.budget:
            print("budget of %.0f s spent: stopped before b=%d h=%d kvh=%d d=%d ctx=%d" % (args.budget, b, h, kvh, d, L))
            break
        kv_set = 2 * b * kvh * L * d * 2
        if kv_set > (2 * arena.numel() if arena is not None else 0.75 * free_total):
            print("skip b=%d h=%d kvh=%d ctx=%d: %.1f GB of KV does not fit" % (b, h, kvh, L, kv_set / 1e9))
            continue
        nsets = max(2, -(-2 * l2 // kv_set) + 1)
        nsets = min(nsets, 16)
        room = 2 * arena.numel() if arena is not None else 0.7 * free_total
        while nsets > 1 and nsets * kv_set > room:
            nsets -= 1
        flush = nsets * kv_set < 2 * l2 + kv_set
        torch.manual_seed(b * 1000 + L)
        q = torch.rand(b, h, 1, d, device="cuda", dtype=torch.float16) * 6 - 3
        n = b * kvh * L * d
        if arena is not None and 2 * nsets * n <= arena.numel():  # K0, V0, K1, V1, ... from the arena's start
            ks = [arena[2 * i * n:(2 * i + 1) * n].view(b, kvh, L, d).uniform_(-1, 1) for i in range(nsets)]
            vs = [arena[(2 * i + 1) * n:(2 * i + 2) * n].view(b, kvh, L, d).uniform_(-1, 1) for i in range(nsets)]
        else:
            ks = [torch.rand(b, kvh, L, d, device="cuda", dtype=torch.float16) * 2 - 1 for _ in range(nsets)]
            vs = [torch.rand(b, kvh, L, d, device="cuda", dtype=torch.float16) * 2 - 1 for _ in range(nsets)]
        ref = None
        backends = list(chosen)
        if flex_on and (args.flex == "all" or args.shapes != "standard" or flex_subset((b, h, kvh, d, L))):
            backends.append(("torch-flex", None))
        for name, be in backends:
            try:
                if be is None:
                    out, t, p10, p90, gus, compile_s = time_flex(q, ks, vs, kvh != h, args.reps, scratch, flush)
                    print("torch-flex      b=%-3d h=%-3d kvh=%-3d d=%-3d ctx=%-7d compiled in %.1f s" % (b, h, kvh, d, L, compile_s))
                    flex_runs += 1
                else:
                    out, t, p10, p90, gus = time_backend(be, q, ks, vs, kvh != h, args.reps, scratch, flush)
            except Exception as e:  # backend does not take this shape
                print("%-15s b=%-3d h=%-3d kvh=%-3d d=%-3d ctx=%-7d refused: %s" % (name, b, h, kvh, d, L,
                                                                                   (str(e).splitlines() or [type(e).__name__])[0][:100]))
                torch.cuda.synchronize()
                if be is None:
                    flex_fails += 1
                    if flex_fails >= 2 and flex_runs == 0:
                        print("torch-flex failed twice and never ran: skipped from here on")
                        flex_on = False
                continue
            err = ""
            if ref is None:
                ref = out.float()
            else:
                err = "%.3g" % ((out.float() - ref).abs().max().item() / max(ref.abs().max().item(), 1e-30))
            bw = kv_set / (t * 1e-6) / 1e9
            print("%-15s b=%-3d h=%-3d kvh=%-3d d=%-3d ctx=%-7d %9.2f us  %7.1f GB/s  graph %s" % (name, b, h, kvh, d, L, t, bw, gus))
            row = {c: None for c in runcsv.COLUMNS}   # plan, knob and build columns: none for a library
            row.update(gpu=facts["gpu"], sms=facts["sms"], driver=facts["driver"], sm_clock_mhz=facts["sm"],
                       mem_clock_mhz=facts["mem"], nvcc=facts["nvcc"], commit=facts["commit"], date=facts["date"],
                       schedule=name, batch=b, heads=h, kv_heads=kvh, head_dim=d, dtype="fp16", ctx=L,
                       reps=args.reps, time_us="%.3f" % t, time_p10_us="%.3f" % p10, time_p90_us="%.3f" % p90,
                       graph_us=gus, kv_bytes=kv_set, bw_gbps="%.1f" % bw, max_err=err)
            f.write(runcsv.line(row) + "\n")
            f.flush()
        del q, ks, vs, ref
        torch.cuda.empty_cache()
    f.close()


if __name__ == "__main__":
    sys.exit(main())
