/*
 * multi.c: decode attention over several GPUs of one host (multi.h).
 */
#include "multi.h"

#include <stdio.h>
#include "trace.h"
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

int multi_share(const workload *w, int gpus, int par, workload *share, multi_result *m, char *err, int errlen)
{
    memset(m, 0, sizeof *m);
    m->gpus = gpus;
    m->parallel = par;
    m->head_ways = m->kv_ways = 1;
    *share = *w;
    if (gpus <= 1) return SIM_OK;
    int hw = par == MULTI_KV ? 1 : gpus;   /* GPUs over the heads */
    if (par == MULTI_BOTH)
        while (w->kv_heads % hw || gpus % hw) hw--;
    const int kw = gpus / hw;              /* GPUs over each KV */
    m->head_ways = hw;
    m->kv_ways = kw;
    if (w->kv_heads % hw) {   /* the KV heads may be --kv-heads, --heads (MHA) or --model's: the count, not an option */
        if (w->kv_heads < hw)
            snprintf(err, (size_t)errlen, "--gpus %d: more GPUs than the %d KV heads (heads parallelism gives each GPU "
                     "whole KV heads; --parallel kv or both also cut the sequence)", gpus, w->kv_heads);
        else
            snprintf(err, (size_t)errlen, "--gpus %d: the %d KV heads do not divide among %d GPUs (heads parallelism "
                     "gives each GPU whole KV heads; --parallel kv or both also cut the sequence)", gpus, w->kv_heads,
                     gpus);
        return SIM_EPLAN;
    }
    share->heads = w->heads / hw;
    share->kv_heads = w->kv_heads / hw;
    for (int q = 0; q < w->batch && kw > 1; q++) {
        /* every GPU needs a shard: shards of ceil(ctx / kw) tokens (plan_kv_shard, the kernels' cut) leave the
         * last ones none when ctx is short (5 over 4: 2, 2, 1, 0), and the kernel runner refuses that too */
        if (plan_kv_shard(w->ctx[q], kw, kw - 1) < 1) {
            char at[96], by[96] = "";
            if (w->ragged) snprintf(at, sizeof at, "--ctx: entry %d of %d, %lld", q + 1, w->batch, (long long)w->ctx[q]);
            else snprintf(at, sizeof at, "--ctx %lld", (long long)w->ctx[q]);
            if (hw > 1) snprintf(by, sizeof by, "; --gpus %d --parallel both: %d over the heads x %d over each KV", gpus,
                                 hw, kw);
            const long long each = (long long)plan_kv_shard(w->ctx[q], kw, 0);
            snprintf(err, (size_t)errlen, "%s: too short for %d KV shards (shards of %lld token%s leave the last GPU "
                     "none; kv parallelism gives every GPU a shard of every request%s)", at, kw, each,
                     each == 1 ? "" : "s", by);
            return SIM_EPLAN;
        }
        share->ctx[q] = plan_kv_shard(w->ctx[q], kw, 0);   /* GPU 0's, the longest */
    }
    return SIM_OK;
}

double multi_comm(const gpu_spec *g, const workload *w, multi_result *m, double *merge_bytes)
{
    const int hw = m->head_ways, kw = m->kv_ways;
    m->gather_us = m->merge_us = m->link_bytes = 0;
    if (merge_bytes) *merge_bytes = 0;
    if (kw > 1) {
        /* each head's partial: its normalised O in 16 bits (the kernels' output type) and its log-sum-exp;
         * a group's first GPU receives its kw - 1 peers' partials of the group's heads */
        double part = (double)w->batch * (w->heads / hw) * (w->head_dim * 2.0 + 4.0);
        m->link_bytes = part * (kw - 1);
        m->gather_us = g->link_latency_us + m->link_bytes / (g->link_gbps * 1e3);
        double o_bytes = (double)w->batch * (w->heads / hw) * w->head_dim * dtype_bytes(w->dtype);
        m->merge_us = g->kernel_gap_us + g->mem_latency_ns / 1e3 +
                      (part * kw + o_bytes) / (g->mem_bw_achievable_gbps * 1e3);
        if (merge_bytes) *merge_bytes = part * kw + o_bytes;
    }
    return m->gather_us + m->merge_us;
}

void multi_finish(const gpu_spec *g, const workload *w, multi_result *m, sim_result *r)
{
    double merge_bytes;
    m->per_gpu_us = r->time_us;
    double extra = multi_comm(g, w, m, &merge_bytes);
    r->hbm_bytes += merge_bytes;
    r->time_lo_us += extra;
    r->time_hi_us += extra;
    r->time_us += extra;
    r->bw_gbps = r->hbm_bytes / (r->time_us * 1e3);
}

int multi_run(multi_engine run, void *ctx, const gpu_spec *g, const kernel_profile *k, const workload *w,
              const plan_opts *o, int gpus, int par, sim_result *r, multi_result *m, char *err, int errlen)
{
    if (gpus <= 1) {
        memset(m, 0, sizeof *m);
        m->gpus = gpus;
        m->parallel = par;
        m->head_ways = m->kv_ways = 1;
        int rc = run(ctx, g, k, w, o, r, err, errlen);
        m->per_gpu_us = rc == SIM_OK ? r->time_us : 0;
        return rc;
    }
    workload *share = malloc(sizeof *share);   /* large (ctx per request): not on the stack */
    if (!share) {
        snprintf(err, (size_t)errlen, "out of memory");
        return SIM_ENOMEM;
    }
    /* the kernel's limits (its GQA groups, head dims, CTAs per SM) are the share's: checked on the workload asked,
     * the error names its heads, not GPU 0's share's */
    int rc = sim_resident_of(g, k, w, o, err, errlen) > 0 ? SIM_OK : SIM_EOCCUPANCY;
    if (rc == SIM_OK) rc = multi_share(w, gpus, par, share, m, err, errlen);
    if (rc == SIM_OK) rc = run(ctx, g, k, share, o, r, err, errlen);
    free(share);
    if (rc != SIM_OK) return rc;
    multi_finish(g, w, m, r);
    return SIM_OK;
}

int multi_trace(sim_ctx *c, const gpu_spec *g, const kernel_profile *k, const workload *w, const plan_opts *o,
                const multi_result *m, FILE *f, char *err, int errlen)
{
    const int hw = m->head_ways > 0 ? m->head_ways : 1, kw = m->kv_ways > 0 ? m->kv_ways : 1;
    workload *share = malloc(sizeof *share);
    if (!share) {
        snprintf(err, (size_t)errlen, "out of memory");
        return SIM_ENOMEM;
    }
    trace_writer tw;
    trace_begin(&tw, f);
    int rc = SIM_OK;
    for (int gi = 0; gi < hw * kw && rc == SIM_OK; gi++) {
        const int shard = gi % kw;   /* GPUs gi / kw * kw .. + kw - 1 share one head group */
        *share = *w;
        share->heads = w->heads / hw;
        share->kv_heads = w->kv_heads / hw;
        for (int q = 0; q < w->batch; q++)   /* none empty: multi_share refuses a cut that leaves a GPU none */
            share->ctx[q] = plan_kv_shard(w->ctx[q], kw, shard);
        char name[32];
        snprintf(name, sizeof name, "GPU %d: ", gi);
        sim_result r;
        rc = sim_run_into(c, g, k, share, o, &r, &tw, 2 * gi, name, err, errlen);
        if (rc == SIM_OK && shard == 0 && kw > 1) {   /* the group's first GPU gathers and merges */
            const int pid = 2 * hw * kw + gi / kw;
            snprintf(name, sizeof name, "GPU %d: gather, merge", gi);
            trace_name_process(&tw, pid, name);
            trace_name_thread(&tw, pid, 0, "link, then merge kernel");
            double t0 = r.time_us * 1e3, t1 = t0 + m->gather_us * 1e3, t2 = t1 + m->merge_us * 1e3;
            trace_slice(&tw, pid, 0, "gather", "gather", t0, t1, 0, -1);
            trace_slice(&tw, pid, 0, "merge", "merge", t1, t2, 0, -1);
        }
    }
    free(share);
    if (trace_end(&tw) && rc == SIM_OK) {
        snprintf(err, (size_t)errlen, "--trace: write failed");
        rc = SIM_EPLAN;
    }
    return rc;
}
