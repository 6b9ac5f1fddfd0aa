/*
 * bench_model.c: predictions per second of the closed-form model on one
 * core, over a mix of schedules, batches and context lengths.
 */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "testhelp.h"

int main(void)
{
    gpu_spec g;
    char err[256];
    if (gpu_spec_load(&g, "h100", err, sizeof err)) {
        fprintf(stderr, "bench_model: %s\n", err);
        return 1;
    }
    static workload w;
    w.heads = 32;
    w.kv_heads = 8;
    w.head_dim = 128;
    static const int batches[] = {1, 4, 16, 64};
    double sink = 0;
    long n = 0;
    double t0 = th_now_s();
    for (int rep = 0; rep < 500; rep++)
        for (int bi = 0; bi < 4; bi++)
            for (int64_t ctx = 1024; ctx <= 524288; ctx *= 2)
                for (int k = 0; k < SCHED_COUNT; k++) {
                    w.batch = batches[bi];
                    for (int r = 0; r < w.batch; r++) w.ctx[r] = ctx;
                    plan_opts po = {.kind = k};
                    sim_result r;
                    if (model_predict(&g, th_kernel(), &w, &po, &r, err, sizeof err) == SIM_OK) sink += r.time_us;
                    n++;
                }
    double dt = th_now_s() - t0;
    printf("bench_model: %ld predictions in %.3f s: %.0f predictions/s (checksum %.6g)\n", n, dt, n / dt, sink);
    return 0;
}
