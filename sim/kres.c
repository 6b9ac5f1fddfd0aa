/*
 * kres.c: resources of the CUDA decode kernels, for occupancy.
 *
 * The simulator must assume the same CTAs per SM as the real kernels get,
 * so these figures come from the compiler's report (nvcc -Xptxas -v) on the
 * kernels in kernels/; kernels/ptxas-res.sh regenerates the table below.
 *
 * One kernel is built per head dim, dtype and GQA row capacity (1, 2, 4, 8,
 * and 16 at head dims up to 128:
 * a group of 3 runs in the capacity-4 kernel).  The KV tile length block_n
 * only decides how the planner cuts work; the kernel streams every segment
 * through the same 4-stage pipeline of 8 KB K + 8 KB V chunks, so block_n
 * does not change its resources.  No fp8 kernel is built: fp8 (a what-if
 * of the simulator) takes the fp16 kernel's figures.
 */
#include "gpu.h"
#include "plan.h"

#include <stddef.h>

typedef struct kres_row {
    int head_dim, dtype, rows_cap, regs, smem_static, smem_dynamic;
} kres_row;

static const kres_row kres_table[] = {
    /* BEGIN ptxas table (kernels/ptxas-res.sh) */
    /* nvcc 13.0, sm_90; {head_dim, dtype, row capacity, regs, static smem, dynamic smem} */
    {64, DTYPE_FP16, 1, 114, 32, 65536},
    {64, DTYPE_FP16, 2, 118, 64, 65536},
    {64, DTYPE_FP16, 4, 118, 128, 65536},
    {64, DTYPE_FP16, 8, 124, 256, 65536},
    {64, DTYPE_FP16, 16, 120, 512, 65536},
    {64, DTYPE_BF16, 1, 114, 32, 65536},
    {64, DTYPE_BF16, 2, 118, 64, 65536},
    {64, DTYPE_BF16, 4, 118, 128, 65536},
    {64, DTYPE_BF16, 8, 124, 256, 65536},
    {64, DTYPE_BF16, 16, 120, 512, 65536},
    {128, DTYPE_FP16, 1, 158, 32, 65536},
    {128, DTYPE_FP16, 2, 158, 64, 65536},
    {128, DTYPE_FP16, 4, 158, 128, 65536},
    {128, DTYPE_FP16, 8, 158, 256, 65536},
    {128, DTYPE_FP16, 16, 162, 512, 65536},
    {128, DTYPE_BF16, 1, 158, 32, 65536},
    {128, DTYPE_BF16, 2, 158, 64, 65536},
    {128, DTYPE_BF16, 4, 158, 128, 65536},
    {128, DTYPE_BF16, 8, 158, 256, 65536},
    {128, DTYPE_BF16, 16, 162, 512, 65536},
    {256, DTYPE_FP16, 1, 72, 32, 65536},
    {256, DTYPE_FP16, 2, 80, 64, 65536},
    {256, DTYPE_FP16, 4, 128, 128, 65536},
    {256, DTYPE_FP16, 8, 231, 256, 65536},
    {256, DTYPE_BF16, 1, 72, 32, 65536},
    {256, DTYPE_BF16, 2, 80, 64, 65536},
    {256, DTYPE_BF16, 4, 128, 128, 65536},
    {256, DTYPE_BF16, 8, 224, 256, 65536},
    /* END ptxas table */
};

int kres_decode(int head_dim, int block_n, int dtype, int rows, kernel_res *out)
{
    if (head_dim != 64 && head_dim != 128 && head_dim != 256) return -1;
    if (block_n != 32 && block_n != 64 && block_n != 128 && block_n != 256) return -1;
    if (dtype < 0 || dtype >= DTYPE_COUNT || rows < 1 || rows > 16) return -1;
    int cap = plan_kernel_cap(rows, head_dim);
    int dt = dtype == DTYPE_BF16 ? DTYPE_BF16 : DTYPE_FP16;
    for (size_t i = 0; i < sizeof kres_table / sizeof kres_table[0]; i++) {
        const kres_row *r = &kres_table[i];
        if (r->head_dim == head_dim && r->dtype == dt && r->rows_cap == cap) {
            out->threads = 128;
            out->regs = r->regs;
            out->smem_bytes = r->smem_static + r->smem_dynamic;
            return 0;
        }
    }
    return -1;
}
