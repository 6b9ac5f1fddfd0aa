#!/usr/bin/env python3
"""gap_probe.py: the gap between a PyTorch decode call's dependent kernels.

FlashAttention-2's split-KV path (SDPA's flash backend) runs a split kernel
and then a combine kernel in one stream, launched the ordinary way.  The
profiler's kernel records (CUPTI, through torch.profiler) give each kernel's
start and end on the GPU's clock, so the time from the split kernel's end to
the combine kernel's start is read directly: the chip's gap between
back-to-back dependent kernels, apart from any kernel's own work.

    gap_probe.py --csv gap-peer.csv [--calls N]

For each shape: inputs, a warm-up call, then N calls (default 30), each
after a read of a buffer larger than L2, inside one profiled region.  One
CSV row per kernel of each call: gpu, driver, backend, shape, call index,
kernel index and name, start and end in ns from the call's first kernel.
"""
import argparse
import csv
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.profiler import ProfilerActivity, profile

# (batch, heads, kv_heads, head_dim, ctx): shapes where FA2's heuristic splits
SHAPES = [
    (1, 32, 32, 128, 1024), (1, 32, 32, 128, 4096), (1, 32, 32, 128, 16384), (1, 32, 32, 128, 65536),
    (1, 32, 8, 128, 8192), (1, 64, 16, 128, 32768), (2, 32, 32, 128, 8192), (1, 8, 8, 256, 16384),
    (1, 32, 32, 64, 8192),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", required=True)
    ap.add_argument("--calls", type=int, default=30)
    a = ap.parse_args()
    dev = torch.cuda.get_device_properties(0)
    driver = os.environ.get("LEANBENCH_DRIVER", "unknown")
    l2 = getattr(dev, "L2_cache_size", 50 * 2**20)
    scratch = torch.ones(3 * l2 // 2, dtype=torch.float16, device="cuda")
    new = not os.path.exists(a.csv)
    with open(a.csv, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["gpu", "driver", "backend", "batch", "heads", "kv_heads", "head_dim", "ctx", "call",
                        "kernel_index", "kernel_name", "start_ns", "end_ns"])
        for b, h, kvh, d, ctx in SHAPES:
            q = torch.randn(b, h, 1, d, device="cuda", dtype=torch.float16)
            k = torch.randn(b, kvh, ctx, d, device="cuda", dtype=torch.float16)
            v = torch.randn(b, kvh, ctx, d, device="cuda", dtype=torch.float16)
            with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
                try:
                    F.scaled_dot_product_attention(q, k, v, enable_gqa=kvh != h)
                except Exception as e:  # the backend refuses the shape
                    print("refused b=%d h=%d kvh=%d d=%d ctx=%d: %s" % (b, h, kvh, d, ctx, str(e).splitlines()[0][:80]))
                    continue
                torch.cuda.synchronize()
                marks = []
                with profile(activities=[ProfilerActivity.CUDA]) as prof:
                    for _ in range(a.calls):
                        scratch.add_(1)   # evicts the KV from L2; its kernel marks a call's start
                        F.scaled_dot_product_attention(q, k, v, enable_gqa=kvh != h)
                    torch.cuda.synchronize()
            kern = sorted(((e.time_range.start, e.time_range.end, e.name) for e in prof.events()
                           if e.device_type == torch.autograd.DeviceType.CUDA), key=lambda t: t[0])
            calls, cur = [], None
            for t0, t1, name in kern:
                if "elementwise" in name or "add" in name.lower() and "flash" not in name:
                    cur = []
                    calls.append(cur)
                elif cur is not None:
                    cur.append((t0, t1, name))
            for ci, ks in enumerate(calls):
                if not ks:
                    continue
                base = ks[0][0]
                for ki, (t0, t1, name) in enumerate(ks):
                    w.writerow([dev.name, driver, "torch-flash", b, h, kvh, d, ctx, ci, ki, name[:120],
                                round((t0 - base) * 1e3), round((t1 - base) * 1e3)])
            gaps = sorted((ks[1][0] - ks[0][1]) * 1e3 for ks in calls if len(ks) >= 2)
            print("b=%d h=%d kvh=%d d=%d ctx=%d: %d calls, %d kernels each; gap median %s ns" % (
                b, h, kvh, d, ctx, len(calls), max((len(k) for k in calls), default=0),
                "%.0f" % gaps[len(gaps) // 2] if gaps else "-"))
            del q, k, v
    return 0


if __name__ == "__main__":
    sys.exit(main())
