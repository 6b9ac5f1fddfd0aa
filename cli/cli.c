/*
 * cli.c: the options shared by the commands that run a workload (simulate,
 * predict): one table (args.h) beside the workload's (sim/opts.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmd.h"
#include "model.h"
#include "multi.h"
#include "sim.h"

enum { R_GPU, R_KERNEL, R_SET, R_FORMAT, R_POLICY, R_TRACE, R_GPUS, R_PARALLEL };

static const args_opt run_opts[] = {
    {NULL, NULL, "GPU, kernel and output", 0},
    {"gpu", "NAME|FILE", "chip spec: a name from `leansim gpus` or a .gpu file (default h100)", R_GPU},
    {"kernel", "NAME|FILE", "kernel profile: a name from `leansim kernels` or a .kernel file (default leansim);\n"
                            "without --schedule, the profile's own schedule", R_KERNEL},
    {"set", "KEY=VALUE", "override one chip or kernel field, e.g. --set sms=64 (repeatable)", R_SET},
    {"format", "table|csv|json", "output format (default table)", R_FORMAT},
    {"policy", "NAME", "the plan a library's rule picks: fa2, fa3, flashinfer, leanattention, flashmla\n"
                       "(predict also takes tune: the tuner's pick)", R_POLICY},
    {NULL, NULL, NULL, 0},
};

static const args_opt trace_opts[] = {
    {"trace", "FILE", "Chrome trace-event JSON of the CTA timeline (one schedule)", R_TRACE},
    {NULL, NULL, NULL, 0},
};

static const args_opt multi_opts[] = {
    {NULL, NULL, "more than one GPU (the chip's link_gbps and link_latency_us)", 0},
    {"gpus", "N", "GPUs of one host the workload is spread over (default 1)", R_GPUS},
    {"parallel", "heads|kv|both", "heads: each GPU takes whole KV heads, no communication (default);\n"
                                  "kv: each GPU a shard of every request's KV, partials gathered\n"
                                  "into GPU 0 and merged there; both: the heads over as many GPUs as\n"
                                  "the KV heads allow, each group's KV over the rest (16 GPUs, 8 KV\n"
                                  "heads: 8 x 2)", R_PARALLEL},
    {NULL, NULL, NULL, 0},
};

/* What the handler fills beside cli_run_opts. */
typedef struct run_args {
    cli_run_opts *o;
    const char *gpu, *kernel;
    const char *sets[32];
    int n_sets;
    int par_given;
} run_args;

static int run_opt(void *ctx, int id, const char *name, const char *v, char *err, int errlen)
{
    run_args *a = ctx;
    cli_run_opts *o = a->o;
    switch (id) {
    case R_GPU: a->gpu = v; return 0;
    case R_KERNEL: a->kernel = v; return 0;
    case R_POLICY: o->policy = v; return 0;
    case R_TRACE: o->trace = v; return 0;
    case R_GPUS: return opts_parse_int(name, v, 1, 64, &o->gpus, err, errlen) ? 2 : 0;
    case R_PARALLEL:
        if ((o->parallel = multi_parallel_parse(v)) < 0) {
            snprintf(err, (size_t)errlen, "%s %s: unknown parallelism (heads, kv, both)", name, v);
            return 2;
        }
        a->par_given = 1;
        return 0;
    case R_SET: return args_list_add(a->sets, &a->n_sets, 32, name, v, err, errlen);
    case R_FORMAT:
        if ((o->fmt = out_format_parse(v)) < 0) {
            snprintf(err, (size_t)errlen, "%s %s: unknown format (table, csv, json)", name, v);
            return 2;
        }
        return 0;
    }
    return 2;
}

int cli_parse_run(const char *cmd, const char *what, int argc, char **argv, cli_run_opts *o, int allow_trace)
{
    char err[512], about[256];
    snprintf(about, sizeof about, "  %s\n", what);
    args_cmd c = {cmd, "[options]", about, 1, {run_opts, allow_trace ? trace_opts : multi_opts,
                                               allow_trace ? multi_opts : NULL, NULL}};
    run_args a = {o, "h100", KPROF_DEFAULT, {NULL}, 0, 0};
    wl_opts_init(&o->wl);
    o->fmt = OUT_TABLE;
    o->trace = NULL;
    o->policy = NULL;
    o->gpus = 1;
    o->parallel = MULTI_HEADS;
    int rc = args_parse(&c, argc, argv, &o->wl, run_opt, &a, NULL, 0, NULL);
    if (rc >= 0) return rc;
    const char *gpu = a.gpu, *kernel = a.kernel, *const *sets = a.sets;
    int n_sets = a.n_sets, par_given = a.par_given;
    if (par_given && o->gpus == 1) {
        fprintf(stderr, "leansim %s: --parallel %s: needs --gpus 2 or more\n", cmd, multi_parallel_name(o->parallel));
        return 2;
    }
    if (o->policy && o->gpus > 1) {
        fprintf(stderr, "leansim %s: --policy %s: a policy plans one GPU's work (leave out --gpus)\n", cmd, o->policy);
        return 2;
    }
    if (wl_opts_finish(&o->wl, err, sizeof err)) {
        fprintf(stderr, "leansim %s: %s\n", cmd, err);
        return 2;
    }
    if (kprof_pair_load(&o->gpu, &o->kern, gpu, kernel, sets, n_sets, err, sizeof err)) {
        fprintf(stderr, "leansim %s: %s\n", cmd, err);
        return 2;
    }
    for (int k = 0; k < n_sets; k++) {   /* provenance: the source names the overrides */
        size_t len = strlen(o->gpu.source);
        snprintf(o->gpu.source + len, sizeof o->gpu.source - len, " --set %s", sets[k]);
    }
    if (!o->wl.sched_given) o->wl.sched_mask = kprof_sched_mask(&o->kern);
    if (o->policy) {
        int pol = plan_policy_parse(o->policy);
        if (pol < 0 && strcmp(o->policy, "tune")) {
            fprintf(stderr, "leansim %s: --policy %s: unknown policy (fa2, fa3, flashinfer, leanattention, flashmla, "
                    "tune)\n", cmd, o->policy);
            return 2;
        }
        if (o->wl.sched_given || o->wl.po.splits || o->wl.po.grid || o->wl.po.block_n || o->wl.po.ctas_per_sm) {
            fprintf(stderr, "leansim %s: --policy %s: the policy chooses the plan (leave out --schedule, --splits, "
                    "--grid, --block-n, --ctas-per-sm)\n", cmd, o->policy);
            return 2;
        }
        if (pol >= 0) {
            int res = sim_resident_per_sm(&o->gpu, &o->kern, &o->wl.wl, 0);
            plan_opts po;
            plan_policy_apply(pol, &o->wl.wl, o->gpu.sms, res > 0 ? res : 1, o->gpu.l2_bytes, &po);
            if (po.kind == SCHED_BALANCED && po.ctas_per_sm > res) po.ctas_per_sm = res;
            o->wl.po = po;
            o->wl.sched_mask = 1u << po.kind;
        }
    }
    return -1;
}

int cli_rows_run(const char *cmd, int e, void *ctx, const cli_run_opts *o)
{
    sim_result rows[SCHED_COUNT], fa2;
    multi_result mr[SCHED_COUNT], mfa2;
    int n = 0;
    char err[512];
    const multi_engine run = model_engines[e].run;
    plan_opts po = o->wl.po;
    po.kind = SCHED_FA2;
    po.splits = po.grid = 0;
    int have_fa2 = multi_run(run, ctx, &o->gpu, &o->kern, &o->wl.wl, &po, o->gpus, o->parallel, &fa2, &mfa2, err,
                             sizeof err) == SIM_OK;
    for (int k = 0; k < SCHED_COUNT; k++) {
        if (!(o->wl.sched_mask & (1u << k))) continue;
        if (k == SCHED_FA2 && have_fa2) {   /* the baseline above is this row: fa2 ignores splits and grid */
            rows[n] = fa2;
            mr[n] = mfa2;
            rows[n++].speedup_vs_fa2 = 1;
            continue;
        }
        po = o->wl.po;
        po.kind = k;
        int mrc = multi_run(run, ctx, &o->gpu, &o->kern, &o->wl.wl, &po, o->gpus, o->parallel, &rows[n], &mr[n], err,
                            sizeof err);
        if (mrc != SIM_OK) {
            fprintf(stderr, "leansim %s: %s\n", cmd, err);
            return mrc == SIM_ENOMEM ? 1 : 2;   /* out of memory is the run's failure, the rest the input's */
        }
        rows[n].speedup_vs_fa2 = have_fa2 ? fa2.time_us / rows[n].time_us : 0;
        n++;
    }
    if (o->wl.model[0] && o->fmt == OUT_TABLE && n > 0)
        printf("# model %s: %d heads, %d KV heads, head dim %d (one layer)\n", o->wl.model, o->wl.wl.heads,
               o->wl.wl.kv_heads, o->wl.wl.head_dim);
    out_rows_print(stdout, o->fmt, model_engines[e].name, &o->gpu, &o->kern, &o->wl.wl, rows, mr, n);
    return 0;
}
