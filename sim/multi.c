/*
 * multi.c: decode attention over several GPUs of one host (multi.h).
 */
#include "multi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int multi_sim_engine(void *ctx, const gpu_spec *g, const kernel_profile *k, const workload *w, const plan_opts *o,
                     sim_result *r, char *err, int errlen)
{
    return sim_run(ctx, g, k, w, o, r, NULL, err, errlen);
}

int multi_parallel_parse(const char *s)
{
    if (!strcmp(s, "heads")) return MULTI_HEADS;
    if (!strcmp(s, "kv")) return MULTI_KV;
    if (!strcmp(s, "both")) return MULTI_BOTH;
    return -1;
}

const char *multi_parallel_name(int p)
{
    return p == MULTI_KV ? "kv" : p == MULTI_BOTH ? "both" : "heads";
}

int multi_run(multi_engine run, void *ctx, const gpu_spec *g, const kernel_profile *k, const workload *w,
              const plan_opts *o, int gpus, int par, sim_result *r, multi_result *m, char *err, int errlen)
{
    memset(m, 0, sizeof *m);
    m->gpus = gpus;
    m->parallel = par;
    m->head_ways = m->kv_ways = 1;
    if (gpus <= 1) {
        int rc = run(ctx, g, k, w, o, r, err, errlen);
        m->per_gpu_us = rc == SIM_OK ? r->time_us : 0;
        return rc;
    }
    int hw = par == MULTI_KV ? 1 : gpus;   /* GPUs over the heads */
    if (par == MULTI_BOTH)
        while (w->kv_heads % hw || gpus % hw) hw--;
    const int kw = gpus / hw;              /* GPUs over each KV */
    m->head_ways = hw;
    m->kv_ways = kw;
    workload *share = malloc(sizeof *share);   /* large (ctx per request): not on the stack */
    if (!share) {
        snprintf(err, (size_t)errlen, "out of memory");
        return SIM_ENOMEM;
    }
    *share = *w;
    int rc = SIM_OK;
    if (w->kv_heads % hw) {
        snprintf(err, (size_t)errlen, "--kv-heads %d: not a multiple of --gpus %d (heads parallelism gives each "
                 "GPU whole KV heads)", w->kv_heads, gpus);
        rc = SIM_EPLAN;
    }
    share->heads = w->heads / hw;
    share->kv_heads = w->kv_heads / hw;
    for (int q = 0; q < w->batch && rc == SIM_OK && kw > 1; q++) {
        if (w->ctx[q] < kw) {
            snprintf(err, (size_t)errlen, "--ctx %lld: fewer tokens than --gpus %d (kv parallelism gives each GPU "
                     "a shard of every request)", (long long)w->ctx[q], kw);
            rc = SIM_EPLAN;
        }
        share->ctx[q] = (w->ctx[q] + kw - 1) / kw;
    }
    if (rc == SIM_OK) rc = run(ctx, g, k, share, o, r, err, errlen);
    free(share);
    if (rc != SIM_OK) return rc;
    m->per_gpu_us = r->time_us;
    if (kw > 1) {
        /* each head's partial: its normalised O in 16 bits (the kernels' output type) and its log-sum-exp;
         * a group's first GPU receives its kw - 1 peers' partials of the group's heads */
        double part = (double)w->batch * (w->heads / hw) * (w->head_dim * 2.0 + 4.0);
        m->link_bytes = part * (kw - 1);
        m->gather_us = g->link_latency_us + m->link_bytes / (g->link_gbps * 1e3);
        double o_bytes = (double)w->batch * (w->heads / hw) * w->head_dim * dtype_bytes(w->dtype);
        m->merge_us = g->kernel_gap_us + g->mem_latency_ns / 1e3 +
                      (part * kw + o_bytes) / (g->mem_bw_achievable_gbps * 1e3);
        r->hbm_bytes += part * kw + o_bytes;
    }
    double extra = m->gather_us + m->merge_us;
    r->time_lo_us += extra;
    r->time_hi_us += extra;
    r->time_us += extra;
    r->bw_gbps = r->hbm_bytes / (r->time_us * 1e3);
    return SIM_OK;
}
