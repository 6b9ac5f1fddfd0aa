#!/usr/bin/env python3
"""sdpa_peer.py: times PyTorch's scaled_dot_product_attention on decode shapes.

Peer of build/leanbench: same shapes, same timing method (CUDA events around
each call after warm-up, median/p10/p90 of --reps; KV sets rotated so that
their total exceeds 2x L2, or a >L2 scratch read between calls when only
one set fits; a read, so no dirty lines; KV sets carved from one arena
allocated at startup, as leanbench does, so that allocation history does
not move timings; --no-arena: fresh tensors per shape), same KV byte count (2 * sum(ctx) * kv_heads * d * 2), and the
same CSV columns as leanbench (schedule = torch-flash, torch-cudnn,
torch-efficient; ctas/splits/ctas_per_sm left empty).

Usage: sdpa_peer.py --csv OUT [--reps 50] [--quick]
Shapes (standard sweep): batch 1, 8, 16; 32 and 64 query heads; GQA groups 1
and 4; d=128 fp16; contexts 1k..512k (powers of two); shapes whose KV does
not fit are skipped.
"""
import argparse
import datetime
import os
import subprocess
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

HEADER = ("gpu,sms,driver,sm_clock_mhz,mem_clock_mhz,nvcc,commit,date,schedule,batch,heads,kv_heads,head_dim,"
          "dtype,ctx,block_n,ctas,splits,ctas_per_sm,reps,time_us,time_p10_us,time_p90_us,graph_us,kv_bytes,"
          "bw_gbps,max_err")

BACKENDS = [("torch-flash", SDPBackend.FLASH_ATTENTION),
            ("torch-cudnn", SDPBackend.CUDNN_ATTENTION),
            ("torch-efficient", SDPBackend.EFFICIENT_ATTENTION)]


def pct(v, q):
    v = sorted(v)
    return v[int(q * (len(v) - 1) + 0.5)]


def time_backend(backend, q, ks, vs, gqa, reps, scratch, flush):
    def call(i):
        return F.scaled_dot_product_attention(q, ks[i % len(ks)], vs[i % len(vs)], enable_gqa=gqa)

    with sdpa_kernel([backend]):
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="a handful of shapes only")
    ap.add_argument("--no-arena", action="store_true", help="allocate each shape's KV tensors anew")
    args = ap.parse_args()

    dev = torch.cuda.current_device()
    prop = torch.cuda.get_device_properties(dev)
    l2 = getattr(prop, "L2_cache_size", 50 * 2**20)
    facts = dict(gpu=prop.name, sms=prop.multi_processor_count,
                 driver=os.environ.get("LEANBENCH_DRIVER", "torch-cuda" + str(torch.version.cuda)),
                 sm=os.environ.get("LEANBENCH_SM_MHZ", ""), mem=os.environ.get("LEANBENCH_MEM_MHZ", ""),
                 nvcc="torch" + torch.__version__.split("+")[0],
                 commit=os.environ.get("LEANBENCH_COMMIT", "unknown"),
                 date=os.environ.get("LEANBENCH_DATE",
                                     datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")))
    new = not os.path.exists(args.csv) or os.path.getsize(args.csv) == 0
    f = open(args.csv, "a")
    if new:
        f.write(HEADER + "\n")
    scratch = torch.ones(3 * l2 // 2, dtype=torch.float16, device="cuda")
    free_total = torch.cuda.mem_get_info()[1]
    arena = None
    if not args.no_arena:  # every shape's KV sets from the start of one allocation
        free_now = torch.cuda.mem_get_info()[0]
        keep = 4 << 30  # q, outputs, backends' workspaces
        if free_now > keep:
            arena = torch.empty((free_now - keep) // 2, dtype=torch.float16, device="cuda")

    shapes = []
    ctxs = [1024 << i for i in range(10)]
    for b in (1, 8, 16):
        for h in (32, 64):
            for g in (1, 4):
                for L in ctxs:
                    shapes.append((b, h, h // g, 128, L))
    if args.quick:
        shapes = [(1, 32, 32, 128, L) for L in (4096, 65536, 524288)] + [(8, 32, 8, 128, 16384)]

    for (b, h, kvh, d, L) in shapes:
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
        for name, be in BACKENDS:
            try:
                out, t, p10, p90, gus = time_backend(be, q, ks, vs, kvh != h, args.reps, scratch, flush)
            except Exception as e:  # backend does not take this shape
                print("%-15s b=%-3d h=%-3d kvh=%-3d ctx=%-7d refused: %s" % (name, b, h, kvh, L,
                                                                            str(e).splitlines()[0][:80]))
                torch.cuda.synchronize()
                continue
            err = ""
            if ref is None:
                ref = out.float()
            else:
                err = "%.3g" % ((out.float() - ref).abs().max().item() / max(ref.abs().max().item(), 1e-30))
            bw = kv_set / (t * 1e-6) / 1e9
            print("%-15s b=%-3d h=%-3d kvh=%-3d ctx=%-7d %9.2f us  %7.1f GB/s  graph %s" % (name, b, h, kvh, L, t, bw, gus))
            f.write(",".join(str(x) for x in [
                facts["gpu"], facts["sms"], facts["driver"], facts["sm"], facts["mem"], facts["nvcc"], facts["commit"],
                facts["date"], name, b, h, kvh, d, "fp16", L, "", "", "", "", args.reps, "%.3f" % t, "%.3f" % p10,
                "%.3f" % p90, gus, kv_set, "%.1f" % bw, err]) + "\n")
            f.flush()
        del q, ks, vs, ref
        torch.cuda.empty_cache()
    f.close()


if __name__ == "__main__":
    sys.exit(main())
