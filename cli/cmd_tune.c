/*
 * cmd_tune.c: `leansim tune`: for each context length (and batch), the
 * fastest schedule and its options by the simulator, the runner-up schedule
 * and the margin; optionally a C header with the chosen table.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "model.h"
#include "opts.h"

int cmd_tune(int argc, char **argv)
{
    static wl_opts o;
    char err[512];
    const char *gpu = "h100", *header = NULL, *kernel = KPROF_DEFAULT, *sweep_out = NULL;
    int fmt = OUT_TABLE;
    int64_t ctxs[256], batches[256];
    int n_ctx = 0, n_b = 0;
    wl_opts_init(&o);
    for (int i = 1; i < argc;) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: leansim tune --gpu G [workload options] --ctx L1,L2,... [--batches B1,B2,...]\n"
                   "  searches schedule x block_n x splits/grid x ctas_per_sm with the simulator and prints,\n"
                   "  per context length (and batch), the winner, its time, the runner-up and the margin\n\n");
            wl_opts_help(stdout);
            printf("  %-26s %s\n  %-26s %s\n  %-26s %s\n  %-26s %s\n", "--batches B[,B...]", "batch sizes to tune for (instead of --batch)",
                   "--gpu NAME|FILE", "chip spec (default h100)", "--format table|csv|json", "output format",
                   "--emit-header FILE", "write the chosen table as a C header");
            printf("  %-26s %s\n", "--emit-sweep FILE", "write the choices as a leanbench sweep file (one option set per line),\n"
                   "                             so that the kernels run what the tuner chose");
            printf("  %-26s %s\n", "--kernel NAME|FILE", "kernel profile whose costs and resources are searched (default leansim)");
            return 0;
        }
        if (!strcmp(a, "--ctx") || !strcmp(a, "--batches") || !strcmp(a, "--gpu") || !strcmp(a, "--format") ||
            !strcmp(a, "--kernel") ||
            !strcmp(a, "--emit-header") || !strcmp(a, "--emit-sweep")) {
            if (!v) {
                fprintf(stderr, "leansim tune: %s: missing value\n", a);
                return 2;
            }
            if (!strcmp(a, "--ctx")) {
                n_ctx = opts_parse_size_list(v, ctxs, 256);
                for (int k = 0; k < n_ctx; k++)
                    if (ctxs[k] < 1 || ctxs[k] > WL_MAX_CTX) n_ctx = -1;
                if (n_ctx < 1) {
                    fprintf(stderr, "leansim tune: --ctx %s: not a list of lengths in [1, %d]\n", v, WL_MAX_CTX);
                    return 2;
                }
            } else if (!strcmp(a, "--batches")) {
                n_b = opts_parse_size_list(v, batches, 256);
                for (int k = 0; k < n_b; k++)
                    if (batches[k] < 1 || batches[k] > WL_MAX_BATCH) n_b = -1;
                if (n_b < 1) {
                    fprintf(stderr, "leansim tune: --batches %s: not a list of batch sizes in [1, %d]\n", v, WL_MAX_BATCH);
                    return 2;
                }
            } else if (!strcmp(a, "--gpu")) gpu = v;
            else if (!strcmp(a, "--kernel")) kernel = v;
            else if (!strcmp(a, "--emit-header")) header = v;
            else if (!strcmp(a, "--emit-sweep")) sweep_out = v;
            else if ((fmt = out_format_parse(v)) < 0) {
                fprintf(stderr, "leansim tune: --format %s: unknown format (table, csv, json)\n", v);
                return 2;
            }
            i += 2;
            continue;
        }
        int rc = wl_opts_parse(&o, &i, argc, argv, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "leansim tune: %s\n", err);
            return 2;
        }
        if (rc == 0) {
            fprintf(stderr, "leansim tune: unknown option '%s' (leansim tune --help)\n", a);
            return 2;
        }
        if (o.po.splits || o.po.grid || o.po.block_n || o.po.ctas_per_sm) {
            fprintf(stderr, "leansim tune: %s: tune searches it (leave it out)\n", a);
            return 2;
        }
    }
    if (n_ctx == 0) {
        fprintf(stderr, "leansim tune: --ctx L1,L2,...: missing\n");
        return 2;
    }
    if (n_b == 0) {
        n_b = 1;
        batches[0] = o.wl.batch;
    }
    gpu_spec g;
    kernel_profile kp;
    if (kprof_pair_load(&g, &kp, gpu, kernel, NULL, 0, err, sizeof err)) {
        fprintf(stderr, "leansim tune: %s\n", err);
        return 2;
    }
    FILE *hf = NULL, *sf = NULL;
    if (sweep_out && !(sf = fopen(sweep_out, "w"))) {
        fprintf(stderr, "leansim tune: --emit-sweep %s: cannot open for writing\n", sweep_out);
        return 2;
    }
    if (sf) fprintf(sf, "# leansim tune's choices for %s (kernel %s): one leanbench option set per line\n", g.name, kp.name);
    if (header && !(hf = fopen(header, "w"))) {
        fprintf(stderr, "leansim tune: --emit-header %s: cannot open for writing\n", header);
        return 2;
    }
    if (hf)
        fprintf(hf, "/* generated by leansim tune for %s: heads %d, kv_heads %d, d %d, %s.\n"
                    " * Each row: the fastest schedule by the simulator for a batch and context length. */\n"
                    "#ifndef LEANSIM_TUNED_H\n#define LEANSIM_TUNED_H\n\n"
                    "struct leansim_tuned { int batch; long ctx; const char *schedule; int block_n, splits, grid, "
                    "ctas_per_sm; double time_us; };\n\nstatic const struct leansim_tuned leansim_tuned_%s[] = {\n",
                g.name, o.wl.heads, o.wl.kv_heads ? o.wl.kv_heads : o.wl.heads, o.wl.head_dim,
                dtype_name(o.wl.dtype), g.name);
    if (fmt == OUT_TABLE)
        printf("# tune on %s: heads %d, kv_heads %d, d %d, %s (simulator); runner-up: the best other plan, "
               "schedule/block_n/splits or CTAs/cps;\n# grid and cps as asked of the planner (0: its rule), ctas as planned\n"
               "%6s %8s  %-9s %7s %6s %5s %4s %5s %10s  %-22s %10s %7s %6s\n",
               g.name, o.wl.heads, o.wl.kv_heads ? o.wl.kv_heads : o.wl.heads, o.wl.head_dim, dtype_name(o.wl.dtype),
               "batch", "ctx", "winner", "block_n", "splits", "grid", "cps", "ctas", "time_us", "runner-up", "time_us",
               "margin", "tried");
    else if (fmt == OUT_CSV)
        printf("gpu,batch,ctx,schedule,block_n,splits,grid,ctas_per_sm,time_us,runner_up,runner_up_us,margin,tried,tie,ctas\n");
    else
        printf("[\n");
    int rc = 0, first = 1;
    for (int bi = 0; bi < n_b; bi++)
        for (int ci = 0; ci < n_ctx; ci++) {
            wl_opts w = o;
            w.wl.batch = (int)batches[bi];
            w.n_ctx_list = 1;
            w.ctx_list[0] = ctxs[ci];
            if (wl_opts_finish(&w, err, sizeof err)) {
                fprintf(stderr, "leansim tune: %s\n", err);
                rc = 2;
                goto out;
            }
            tune_choice b, s;
            int tried;
            if (tune_search(&g, &kp, &w.wl, w.sched_mask, &b, &s, &tried)) {
                fprintf(stderr, "leansim tune: batch %d, ctx %lld: no schedule runs on %s\n", w.wl.batch,
                        (long long)ctxs[ci], g.name);
                rc = 1;
                continue;
            }
            double margin = s.time_us > 0 ? s.time_us / b.time_us - 1 : 0;
            /* the runner-up inside the winner's 90% interval: the model cannot tell them apart */
            int tie = s.time_us > 0 && s.time_us <= b.time_us * (1 + kp.err_hi_pct / 100) &&
                      b.time_us <= s.time_us * (1 - kp.err_lo_pct / 100);
            if (fmt == OUT_TABLE)
            {
                char ru[48] = "-";
                if (s.time_us > 0)
                    snprintf(ru, sizeof ru, "%s/%d/%d/%d", sched_name(s.schedule), s.block_n,
                             s.schedule == SCHED_SPLIT ? s.splits : s.ctas, s.ctas_per_sm);
                printf("%6d %8lld  %-9s %7d %6d %5d %4d %5d %10.2f  %-22s %10.2f %6.1f%% %6d%s\n", w.wl.batch,
                       (long long)ctxs[ci], sched_name(b.schedule), b.block_n, b.splits, b.grid, b.ctas_per_sm,
                       b.ctas, b.time_us, ru, s.time_us, 100 * margin, tried, tie ? "  tie within model error" : "");
            }
            else if (fmt == OUT_CSV)
                printf("%s,%d,%lld,%s,%d,%d,%d,%d,%.4f,%s,%.4f,%.4f,%d,%d,%d\n", g.name, w.wl.batch, (long long)ctxs[ci],
                       sched_name(b.schedule), b.block_n, b.splits, b.grid, b.ctas_per_sm, b.time_us,
                       s.time_us > 0 ? sched_name(s.schedule) : "", s.time_us, margin, tried, tie, b.ctas);
            else {
                printf("%s  {\"gpu\":\"%s\",\"batch\":%d,\"ctx\":%lld,\"schedule\":\"%s\",\"block_n\":%d,\"splits\":%d,"
                       "\"grid\":%d,\"ctas_per_sm\":%d,\"time_us\":%.4f,\"runner_up\":\"%s\",\"runner_up_us\":%.4f,"
                       "\"margin\":%.4f,\"tried\":%d,\"tie_within_model_error\":%s,\"ctas\":%d}",
                       first ? "" : ",\n", g.name, w.wl.batch, (long long)ctxs[ci], sched_name(b.schedule), b.block_n,
                       b.splits, b.grid, b.ctas_per_sm, b.time_us, s.time_us > 0 ? sched_name(s.schedule) : "",
                       s.time_us, margin, tried, tie ? "true" : "false", b.ctas);
            }
            first = 0;
            if (sf) {
                fprintf(sf, "--batch %d --heads %d --kv-heads %d --head-dim %d --dtype %s --ctx %lld --schedule %s "
                            "--block-n %d", w.wl.batch, w.wl.heads, w.wl.kv_heads, w.wl.head_dim, dtype_name(w.wl.dtype),
                        (long long)ctxs[ci], sched_name(b.schedule), b.block_n);
                if (b.schedule == SCHED_SPLIT) fprintf(sf, " --splits %d", b.splits);
                if ((b.schedule == SCHED_STREAMK || b.schedule == SCHED_HYBRID) && b.grid) fprintf(sf, " --grid %d", b.grid);
                if (b.ctas_per_sm) fprintf(sf, " --ctas-per-sm %d", b.ctas_per_sm);
                fputc('\n', sf);
            }
            if (hf)
                fprintf(hf, "    {%d, %lld, \"%s\", %d, %d, %d, %d, %.2f},\n", w.wl.batch, (long long)ctxs[ci],
                        sched_name(b.schedule), b.block_n, b.splits, b.grid, b.ctas_per_sm, b.time_us);
        }
out:
    if (fmt == OUT_JSON) printf("\n]\n");
    if (sf && fclose(sf)) {
        fprintf(stderr, "leansim tune: --emit-sweep %s: write failed\n", sweep_out);
        return 1;
    }
    if (hf) {
        fprintf(hf, "};\n\n#endif\n");
        if (fclose(hf)) {
            fprintf(stderr, "leansim tune: --emit-header %s: write failed\n", header);
            return 1;
        }
    }
    return rc;
}
