/*
 * tune.c: search of the schedule options for one workload (see model.h).
 *
 * Candidates are what the CUDA kernels can run: tile lengths the kernels are
 * built for (kres_decode) and that fit on an SM, CTAs per SM up to what is
 * resident, split counts 1..128 where the chunk length changes (other counts
 * give the same chunks), and stream-K/hybrid grids of a whole number of
 * CTAs per SM up to residency plus LeanAttention's own rule.  Each candidate
 * is costed with the simulator.
 */
#include "model.h"

#include <string.h>

#define TUNE_MAX_CPS 8

int tune_search(const gpu_spec *g, const kernel_profile *kp, const workload *w, unsigned sched_mask, tune_choice *best,
                tune_choice *second, int *tried)
{
    static const int bns[] = {32, 64, 128, 256};
    sim_ctx *c = sim_ctx_alloc();
    if (!c) return -1;
    tune_choice per[SCHED_COUNT];
    for (int k = 0; k < SCHED_COUNT; k++) per[k].time_us = 0;
    char err[256];
    *tried = 0;
    int64_t longest = 0;
    for (int r = 0; r < w->batch; r++)
        if (w->ctx[r] > longest) longest = w->ctx[r];
    for (size_t bi = 0; bi < sizeof bns / sizeof bns[0]; bi++) {
        int bn = bns[bi];
        kernel_res kr;
        if (kprof_resources(kp, w->head_dim, bn, w->dtype, w->heads / w->kv_heads, &kr)) continue;
        int res = gpu_occupancy(g, &kr);
        int n_blocks = plan_tiles_of(longest, bn);
        for (int cps = 1; cps <= res && cps <= TUNE_MAX_CPS; cps++)
            for (int k = 0; k < SCHED_COUNT; k++) {
                if (!(sched_mask & (1u << k))) continue;
                int vals[PLAN_MAX_SPLITS + 2], nv = 0;
                if (k == SCHED_SPLIT) {
                    for (int s = 1; s <= PLAN_MAX_SPLITS && s <= n_blocks; s++)
                        if (s == 1 || (n_blocks + s - 1) / s != (n_blocks + s - 2) / (s - 1)) vals[nv++] = s;
                } else if (k == SCHED_STREAMK || k == SCHED_HYBRID) {
                    vals[nv++] = 0;
                    for (int m = 1; m <= cps; m++) vals[nv++] = g->sms * m;
                } else {
                    vals[nv++] = 0;
                }
                for (int v = 0; v < nv; v++) {
                    plan_opts po = {.kind = k, .block_n = bn, .splits = k == SCHED_SPLIT ? vals[v] : 0,
                                    .grid = (k == SCHED_STREAMK || k == SCHED_HYBRID) ? vals[v] : 0,
                                    .ctas_per_sm = cps};
                    sim_result r;
                    if (sim_run(c, g, kp, w, &po, &r, NULL, err, sizeof err) != SIM_OK) continue;
                    (*tried)++;
                    if (per[k].time_us == 0 || r.time_us < per[k].time_us) {
                        per[k] = (tune_choice){k, bn, r.splits, k == SCHED_STREAMK || k == SCHED_HYBRID ? r.ctas : 0,
                                               cps, r.time_us};
                    }
                }
            }
    }
    sim_ctx_free(c);
    int b = -1, s = -1;
    for (int k = 0; k < SCHED_COUNT; k++) {
        if (per[k].time_us == 0) continue;
        if (b < 0 || per[k].time_us < per[b].time_us) { s = b; b = k; }
        else if (s < 0 || per[k].time_us < per[s].time_us) s = k;
    }
    if (b < 0) return -1;
    *best = per[b];
    if (s >= 0) *second = per[s];
    else memset(second, 0, sizeof *second);
    return 0;
}
