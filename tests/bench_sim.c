/*
 * bench_sim.c: simulated configurations per second on one core.
 *
 * Sweeps a mix of sizes (batch 1..64, contexts 1k..512k, MHA and GQA,
 * head dims 64 and 128, every schedule) through sim_run on the H100 spec and
 * reports the rate and the slowest single configuration.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "testhelp.h"

int main(void)
{
    gpu_spec g;
    char err[512];
    if (gpu_spec_load(&g, "h100", err, sizeof err)) {
        fprintf(stderr, "bench_sim: %s\n", err);
        return 1;
    }
    sim_ctx *c = sim_ctx_alloc();
    static workload w;
    static const int batches[] = {1, 2, 4, 8, 16, 32, 64};
    static const int heads[][2] = {{32, 32}, {32, 8}, {64, 64}, {64, 8}};
    static const int dims[] = {64, 128};
    long n = 0, failed = 0;
    double worst = 0, total = 0;
    char worst_desc[160] = "";
    double t_start = th_now_s();
    for (int rep = 0; rep < 2; rep++)
        for (size_t bi = 0; bi < sizeof batches / sizeof *batches; bi++)
            for (size_t hi = 0; hi < sizeof heads / sizeof *heads; hi++)
                for (size_t di = 0; di < sizeof dims / sizeof *dims; di++)
                    for (long ctx = 1024; ctx <= 524288; ctx *= 2)
                        for (int k = 0; k < SCHED_COUNT; k++) {
                            workload_uniform(&w, batches[bi], heads[hi][0], heads[hi][1], dims[di],
                                             DTYPE_FP16, ctx);
                            plan_opts po = {.kind = k};
                            sim_result res;
                            double t0 = th_now_s();
                            int rc = sim_run(c, &g, th_kernel(), &w, &po, &res, NULL, err, sizeof err);
                            double dt = th_now_s() - t0;
                            total += dt;
                            n++;
                            if (rc) failed++;
                            if (dt > worst) {
                                worst = dt;
                                snprintf(worst_desc, sizeof worst_desc, "%s batch %d heads %d/%d d %d ctx %ld",
                                         sched_name(k), w.batch, w.heads, w.kv_heads, w.head_dim, ctx);
                            }
                        }
    double wall = th_now_s() - t_start;
    printf("bench_sim: %ld configurations (%ld failed) in %.3f s on one core: %.0f configurations/s\n", n, failed,
           wall, n / wall);
    printf("bench_sim: mean %.1f us, slowest %.3f ms (%s)\n", total / n * 1e6, worst * 1e3, worst_desc);
    printf("bench_sim: goal >= 10000 configurations/s and slowest <= 10 ms: %s\n",
           (n / wall >= 10000 && worst <= 0.010) ? "met" : "NOT met");
    sim_ctx_free(c);
    return failed ? 1 : 0;
}
