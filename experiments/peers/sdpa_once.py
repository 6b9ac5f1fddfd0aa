#!/usr/bin/env python3
"""sdpa_once.py: one call of each PyTorch SDPA backend on one decode shape.

For a profiler (ncu) to read the peer kernels' launch configuration, time
and DRAM bytes: the script launches nothing else after its inputs exist.

Usage: sdpa_once.py BATCH HEADS KV_HEADS CTX [HEAD_DIM]
"""
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def main():
    if len(sys.argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    b, h, kvh, ctx = (int(x) for x in sys.argv[1:5])
    d = int(sys.argv[5]) if len(sys.argv) > 5 else 128
    q = torch.rand(b, h, 1, d, device="cuda", dtype=torch.float16)
    k = torch.rand(b, kvh, ctx, d, device="cuda", dtype=torch.float16)
    v = torch.rand(b, kvh, ctx, d, device="cuda", dtype=torch.float16)
    torch.cuda.synchronize()
    for name, be in (("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)):
        with sdpa_kernel([be]):
            try:
                F.scaled_dot_product_attention(q, k, v, enable_gqa=kvh != h)
                torch.cuda.synchronize()
                print("%s: ran b=%d h=%d kvh=%d ctx=%d d=%d" % (name, b, h, kvh, ctx, d))
            except Exception as e:  # backend refuses the shape
                print("%s: refused: %s" % (name, str(e).splitlines()[0][:100]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
