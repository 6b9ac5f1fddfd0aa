/*
 * cli.c: option parsing shared by the commands that run a workload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "multi.h"
#include "sim.h"

int cli_parse_run(const char *cmd, const char *what, int argc, char **argv, cli_run_opts *o, int allow_trace)
{
    char err[512];
    const char *gpu = "h100", *kernel = KPROF_DEFAULT;
    const char *sets[32];
    int n_sets = 0;
    wl_opts_init(&o->wl);
    o->fmt = OUT_TABLE;
    o->trace = NULL;
    o->policy = NULL;
    o->gpus = 1;
    o->parallel = MULTI_HEADS;
    int par_given = 0;
    for (int i = 1; i < argc;) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: leansim %s [options]\n  %s\n\nworkload and schedule:\n", cmd, what);
            wl_opts_help(stdout);
            printf("\nGPU, kernel and output:\n  %-26s %s\n  %-26s %s\n  %-26s %s\n  %-26s %s\n",
                   "--gpu NAME|FILE", "chip spec: a name from `leansim gpus` or a .gpu file (default h100)",
                   "--kernel NAME|FILE",
                   "kernel profile: a name from `leansim kernels` or a .kernel file (default leansim);\n"
                   "                             without --schedule, the profile's own schedule",
                   "--set KEY=VALUE", "override one chip or kernel field, e.g. --set sms=64 (repeatable)",
                   "--format table|csv|json", "output format (default table)");
            printf("  %-26s %s\n", "--policy NAME",
                   "the plan a library's rule picks: fa2, fa3, flashinfer, leanattention, flashmla\n"
                   "                             (predict also takes tune: the tuner's pick)");
            if (allow_trace)
                printf("  %-26s %s\n", "--trace FILE", "Chrome trace-event JSON of the CTA timeline (one schedule)");
            printf("\nmore than one GPU (the chip's link_gbps and link_latency_us):\n  %-26s %s\n  %-26s %s\n",
                   "--gpus N", "GPUs of one host the workload is spread over (default 1)",
                   "--parallel heads|kv", "heads: each GPU takes whole KV heads, no communication (default);\n"
                   "                             kv: each GPU a shard of every request's KV, partials gathered\n"
                   "                             into GPU 0 and merged there");
            return 0;
        }
        int rc = wl_opts_parse(&o->wl, &i, argc, argv, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "leansim %s: %s\n", cmd, err);
            return 2;
        }
        if (rc > 0) continue;
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--gpu") || !strcmp(a, "--kernel") || !strcmp(a, "--format") || !strcmp(a, "--set") ||
            !strcmp(a, "--policy") || !strcmp(a, "--gpus") || !strcmp(a, "--parallel") ||
            (allow_trace && !strcmp(a, "--trace"))) {
            if (!v) {
                fprintf(stderr, "leansim %s: %s: missing value\n", cmd, a);
                return 2;
            }
            if (!strcmp(a, "--gpu")) gpu = v;
            else if (!strcmp(a, "--kernel")) kernel = v;
            else if (!strcmp(a, "--policy")) o->policy = v;
            else if (!strcmp(a, "--gpus")) {
                char *end;
                long g = strtol(v, &end, 10);
                if (end == v || *end || g < 1 || g > 64) {
                    fprintf(stderr, "leansim %s: --gpus %s: not a GPU count in [1, 64]\n", cmd, v);
                    return 2;
                }
                o->gpus = (int)g;
            } else if (!strcmp(a, "--parallel")) {
                if ((o->parallel = multi_parallel_parse(v)) < 0) {
                    fprintf(stderr, "leansim %s: --parallel %s: unknown parallelism (heads, kv)\n", cmd, v);
                    return 2;
                }
                par_given = 1;
            }
            else if (!strcmp(a, "--set")) {
                if (n_sets == 32) {
                    fprintf(stderr, "leansim %s: --set %s: at most 32 overrides\n", cmd, v);
                    return 2;
                }
                sets[n_sets++] = v;
            }
            else if (!strcmp(a, "--trace")) o->trace = v;
            else if ((o->fmt = out_format_parse(v)) < 0) {
                fprintf(stderr, "leansim %s: --format %s: unknown format (table, csv, json)\n", cmd, v);
                return 2;
            }
            i += 2;
            continue;
        }
        fprintf(stderr, "leansim %s: unknown option '%s' (leansim %s --help)\n", cmd, a, cmd);
        return 2;
    }
    if (par_given && o->gpus == 1) {
        fprintf(stderr, "leansim %s: --parallel %s: needs --gpus 2 or more\n", cmd, multi_parallel_name(o->parallel));
        return 2;
    }
    if (o->policy && o->gpus > 1) {
        fprintf(stderr, "leansim %s: --policy %s: a policy plans one GPU's work (leave out --gpus)\n", cmd, o->policy);
        return 2;
    }
    if (o->trace && o->gpus > 1) {
        fprintf(stderr, "leansim %s: --trace %s: one GPU only (leave out --gpus)\n", cmd, o->trace);
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
