/*
 * cmd_tune.c: `leansim tune`: for each context length (and batch), the
 * fastest schedule and its options by the simulator, the runner-up schedule
 * and the margin; optionally a C header with the chosen table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "cmd.h"
#include "model.h"
#include "opts.h"
#include "results.h"

enum { T_CTX, T_BATCHES, T_GPU, T_FORMAT, T_HEADER, T_SWEEP, T_KERNEL, T_SHORTLIST, T_MEASURED, T_SEARCHED };

static const args_opt tune_opts[] = {
    {NULL, NULL, "searched by tune (giving one is an error)", 0},
    {"block-n", "N", "KV tile length", T_SEARCHED},
    {"splits", "S", "split: chunks per head", T_SEARCHED},
    {"grid", "G", "streamk/hybrid: CTAs in the grid", T_SEARCHED},
    {"ctas-per-sm", "K", "CTAs per SM the schedule plans for", T_SEARCHED},
    {NULL, NULL, "options", 0},
    {"ctx", "L[,L...]", "context lengths to tune for (k, m suffixes; required)", T_CTX},
    {"batches", "B[,B...]", "batch sizes to tune for (instead of --batch)", T_BATCHES},
    {"gpu", "NAME|FILE", "chip spec (default h100)", T_GPU},
    {"kernel", "NAME|FILE", "kernel profile whose costs and resources are searched (default leansim)", T_KERNEL},
    {"shortlist", "K", "also list the next K - 1 plans by simulated time, each unlike those before\n"
                       "it (rank 2..K; 1-8, default 1): what to time on the GPU where the margin\n"
                       "lies inside the model's error; --emit-sweep then writes all K", T_SHORTLIST},
    {"measured", "DB", "results database holding the shortlist's times (leanbench --sweep of\n"
                       "--emit-sweep's file, then leansim ingest): the fastest measured of each\n"
                       "workload's K plans is its choice (measured_best), which --emit-header\n"
                       "writes; the simulator's winner where none of them was measured", T_MEASURED},
    {"format", "table|csv|json", "output format (default table)", T_FORMAT},
    {"emit-header", "FILE", "write the chosen table as a C header", T_HEADER},
    {"emit-sweep", "FILE", "write the choices as a leanbench sweep file (one option set per line),\n"
                           "so that the kernels run what the tuner chose", T_SWEEP},
    {NULL, NULL, NULL, 0},
};

typedef struct tune_args {
    const char *gpu, *header, *kernel, *sweep_out, *measured;
    int fmt, shortlist;
    int64_t ctxs[256], batches[256];
    int n_ctx, n_b;
} tune_args;

/* Parses a list of sizes in [1, max] for option name into out; the count, or -1 with err set. */
static int size_list(const char *name, const char *v, int64_t *out, int64_t max, const char *what, char *err,
                     int errlen)
{
    int n = opts_parse_size_list(v, out, 256);
    for (int k = 0; k < n; k++)
        if (out[k] < 1 || out[k] > max) n = -1;
    if (n < 1) snprintf(err, (size_t)errlen, "%s %s: not a list of %s in [1, %lld]", name, v, what, (long long)max);
    return n < 1 ? -1 : n;
}

static int tune_opt(void *ctx, int id, const char *name, const char *v, char *err, int errlen)
{
    tune_args *a = ctx;
    switch (id) {
    case T_CTX: return (a->n_ctx = size_list(name, v, a->ctxs, WL_MAX_CTX, "lengths", err, errlen)) < 0 ? 2 : 0;
    case T_BATCHES:
        return (a->n_b = size_list(name, v, a->batches, WL_MAX_BATCH, "batch sizes", err, errlen)) < 0 ? 2 : 0;
    case T_GPU: a->gpu = v; return 0;
    case T_KERNEL: a->kernel = v; return 0;
    case T_HEADER: a->header = v; return 0;
    case T_SWEEP: a->sweep_out = v; return 0;
    case T_MEASURED: a->measured = v; return 0;
    case T_SHORTLIST: {
        char *end;
        long k = strtol(v, &end, 10);
        if (end == v || *end || k < 1 || k > TUNE_SHORTLIST_MAX) {
            snprintf(err, (size_t)errlen, "%s %s: not a count of plans in [1, %d]", name, v, TUNE_SHORTLIST_MAX);
            return 2;
        }
        a->shortlist = (int)k;
        return 0;
    }
    case T_SEARCHED: snprintf(err, (size_t)errlen, "%s: tune searches it (leave it out)", name); return 2;
    case T_FORMAT:
        if ((a->fmt = out_format_parse(v)) < 0) {
            snprintf(err, (size_t)errlen, "%s %s: unknown format (table, csv, json)", name, v);
            return 2;
        }
        return 0;
    }
    return 2;
}

int cmd_tune(int argc, char **argv)
{
    static const args_cmd c = {
        "tune", "[--gpu G] [workload options] --ctx L1,L2,... [--batches B1,B2,...]",
        "  searches schedule x block_n x splits/grid x ctas_per_sm with the simulator and prints,\n"
        "  per context length (and batch), the winner, its time, the runner-up and the margin;\n"
        "  within 0.5% of the fastest, a plan of one CTA per unit that fills one wave evenly wins,\n"
        "  a plan whose one wave leaves a quarter or more of the SMs a CTA short of the others\n"
        "  comes last, then the longest tile wins; --shortlist K adds the next plans to time,\n"
        "  and --measured DB chooses among them by their measured times\n",
        1, {tune_opts, NULL}};
    static wl_opts o;
    static tune_args a;
    char err[512];
    memset(&a, 0, sizeof a);
    a.gpu = "h100";
    a.kernel = KPROF_DEFAULT;
    a.fmt = OUT_TABLE;
    wl_opts_init(&o);
    int prc = args_parse(&c, argc, argv, &o, tune_opt, &a, NULL, 0, NULL);
    if (prc >= 0) return prc;
    const char *gpu = a.gpu, *header = a.header, *kernel = a.kernel, *sweep_out = a.sweep_out;
    int fmt = a.fmt, n_ctx = a.n_ctx, n_b = a.n_b, shortlist = a.shortlist ? a.shortlist : 1;
    int64_t *ctxs = a.ctxs, *batches = a.batches;
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
    validate_row *mrows = NULL;   /* the measured rows of --measured, this GPU's */
    int n_mrows = 0;
    if (a.measured) {
        struct stat sb;
        sqlite3 *db = NULL;
        validate_stats st;
        validate_opts vo = {0};
        vo.gpu = g.name;
        if (stat(a.measured, &sb) || !S_ISREG(sb.st_mode)) {
            fprintf(stderr, "leansim tune: --measured %s: no such database (leansim ingest creates it)\n", a.measured);
            return 2;
        }
        int src = store_open_readonly(&db, a.measured, err, sizeof err);
        if (!src) src = (n_mrows = validate_rows_load(db, &vo, &mrows, &st, err, sizeof err)) < 0 ? n_mrows : 0;
        if (db) store_close(db);
        if (src) {
            fprintf(stderr, "leansim tune: --measured %s: %s\n", a.measured, err);
            return src == STORE_EINPUT ? 2 : 1;
        }
        fprintf(stderr, "leansim tune: --measured %s: %d rows of %s\n", a.measured, n_mrows, g.name);
    }
    for (int bi = 0; bi < n_b; bi++)   /* every workload checked before any output */
        for (int ci = 0; ci < n_ctx; ci++) {
            static wl_opts w;
            w = o;
            w.wl.batch = (int)batches[bi];
            w.n_ctx_list = 1;
            w.ctx_list[0] = ctxs[ci];
            if (wl_opts_finish(&w, err, sizeof err)) {
                fprintf(stderr, "leansim tune: %s\n", err);
                free(mrows);
                return 2;
            }
        }
    FILE *hf = NULL, *sf = NULL;
    if (sweep_out && !(sf = fopen(sweep_out, "w"))) {
        fprintf(stderr, "leansim tune: --emit-sweep %s: cannot open for writing\n", sweep_out);
        free(mrows);
        return 2;
    }
    if (sf)
        fprintf(sf, "# leansim tune's choices for %s (kernel %s): one leanbench option set per line%s\n", g.name, kp.name,
                shortlist > 1 ? "; each workload's shortlist in rank order, the winner first" : "");
    if (header && !(hf = fopen(header, "w"))) {
        fprintf(stderr, "leansim tune: --emit-header %s: cannot open for writing\n", header);
        if (sf) {
            fclose(sf);
            remove(sweep_out);
        }
        free(mrows);
        return 2;
    }
    if (hf)
        fprintf(hf, "/* generated by leansim tune for %s: heads %d, kv_heads %d, d %d, %s.\n"
                    " * Each row: the fastest schedule %s for a batch and context length. */\n"
                    "#ifndef LEANSIM_TUNED_H\n#define LEANSIM_TUNED_H\n\n"
                    "struct leansim_tuned { int batch; long ctx; const char *schedule; int block_n, splits, grid, "
                    "ctas_per_sm; double time_us; };\n\nstatic const struct leansim_tuned leansim_tuned_%s[] = {\n",
                g.name, o.wl.heads, o.wl.kv_heads ? o.wl.kv_heads : o.wl.heads, o.wl.head_dim,
                dtype_name(o.wl.dtype),
                a.measured ? "of the shortlist as measured (time_us measured), by the simulator where none was"
                           : "by the simulator",
                g.name);
    if (fmt == OUT_TABLE)
        printf("# tune on %s: heads %d, kv_heads %d, d %d, %s (simulator); runner-up: the best other plan, "
               "schedule/block_n/splits or CTAs/cps;\n# grid and cps as asked of the planner (0: its rule), ctas as planned%s%s\n"
               "%6s %8s  %-9s %7s %6s %5s %4s %5s %10s  %-22s %10s %7s %6s\n",
               g.name, o.wl.heads, o.wl.kv_heads ? o.wl.kv_heads : o.wl.heads, o.wl.head_dim, dtype_name(o.wl.dtype),
               shortlist > 1 ? ";\n# rows #2..: the shortlist, by simulated time, each plan unlike those before it; margin over "
                               "the winner" : "",
               a.measured ? ";\n# measured: the plan's time in --measured's database; the fastest measured plan is the "
                            "choice" : "",
               "batch", "ctx", "winner", "block_n", "splits", "grid", "cps", "ctas", "time_us", "runner-up", "time_us",
               "margin", "tried");
    else if (fmt == OUT_CSV)
        printf("gpu,batch,ctx,schedule,block_n,splits,grid,ctas_per_sm,time_us,runner_up,runner_up_us,margin,tried,tie,ctas,"
               "chosen_by,rank,measured_us,measured_best,time_lo_us,time_hi_us\n");
    fmt_json j;
    fmt_json_init(&j, stdout, 1u << 1, 2, 0);   /* one choice a line */
    if (fmt == OUT_JSON) fmt_json_arr(&j, NULL);
    int rc = 0;
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
            tune_choice l[TUNE_SHORTLIST_MAX];
            int tried, nl, want = shortlist > 2 ? shortlist : 2;
            if (tune_shortlist(&g, &kp, &w.wl, w.sched_mask, l, want, &nl, &tried)) {
                fprintf(stderr, "leansim tune: batch %d, ctx %lld: no schedule runs on %s\n", w.wl.batch,
                        (long long)ctxs[ci], g.name);
                rc = 1;
                continue;
            }
            const tune_choice *b = &l[0];
            tune_choice s0 = {0};
            const tune_choice *s = nl > 1 ? &l[1] : &s0;   /* the runner-up: the best plan unlike the winner */
            /* a plan inside the winner's 90% interval: the model cannot tell them apart */
            double blo, bhi;
            sim_band(&g, &kp, b->schedule, &w.wl, 0, &blo, &bhi);
            int tie[TUNE_SHORTLIST_MAX] = {0};
            for (int k = 1; k < nl; k++)
                tie[k] = l[k].time_us <= b->time_us * (1 + bhi / 100) && b->time_us <= l[k].time_us * (1 - blo / 100);
            int nshow = shortlist < nl ? shortlist : nl;
            double t_meas[TUNE_SHORTLIST_MAX];
            for (int k = 0; k < nl; k++) t_meas[k] = NAN;
            int mbest = a.measured ? pick_measured(mrows, n_mrows, g.name, &w.wl, g.sms, l, nshow, t_meas) : -1;
            const tune_choice *chosen = mbest >= 0 ? &l[mbest] : b;
            for (int k = 0; k < nshow; k++) {
                const tune_choice *pc = &l[k];
                /* the winner's row: its runner-up and margin; a later rank's: its margin over the winner */
                double margin = k ? pc->time_us / b->time_us - 1 : s->time_us > 0 ? s->time_us / b->time_us - 1 : 0;
                int t = k ? tie[k] : s->time_us > 0 && tie[1];
                const char *by = k ? "shortlist" : tune_rule_name(b->rule);
                if (fmt == OUT_TABLE) {
                    char ru[48] = "-";
                    if (!k && s->time_us > 0)
                        snprintf(ru, sizeof ru, "%s/%d/%d/%d", sched_name(s->schedule), s->block_n,
                                 s->schedule == SCHED_SPLIT ? s->splits : s->ctas, s->ctas_per_sm);
                    else if (k)
                        snprintf(ru, sizeof ru, "#%d", k + 1);
                    char rut[16] = "-", meas[64] = "";
                    if (!k) snprintf(rut, sizeof rut, "%.2f", s->time_us);
                    if (a.measured && isfinite(t_meas[k]))
                        snprintf(meas, sizeof meas, "%smeasured %.2f us%s", t || (!k && b->rule) ? "; " : "  ",
                                 t_meas[k], k == mbest ? ", the fastest: the choice" : "");
                    else if (a.measured)
                        snprintf(meas, sizeof meas, "%snot measured", t || (!k && b->rule) ? "; " : "  ");
                    printf("%6d %8lld  %-9s %7d %6d %5d %4d %5d %10.2f  %-22s %10s %6.1f%% %6d%s%s%s%s\n", w.wl.batch,
                           (long long)ctxs[ci], sched_name(pc->schedule), pc->block_n, pc->splits, pc->grid,
                           pc->ctas_per_sm, pc->ctas, pc->time_us, ru, rut, 100 * margin, tried,
                           t ? "  tie within model error" : "",
                           !k && b->rule != TUNE_RULE_FASTEST ? (t ? "; taken for its " : "  taken for its ") : "",
                           !k && b->rule != TUNE_RULE_FASTEST ? tune_rule_name(b->rule) : "", meas);
                } else if (fmt == OUT_CSV) {
                    fmt_csv_field(stdout, g.name);
                    printf(",%d,%lld,%s,%d,%d,%d,%d,%.4f,%s,%.4f,%.4f,%d,%d,%d,%s,%d,", w.wl.batch, (long long)ctxs[ci],
                           sched_name(pc->schedule), pc->block_n, pc->splits, pc->grid, pc->ctas_per_sm, pc->time_us,
                           !k && s->time_us > 0 ? sched_name(s->schedule) : "", k ? 0.0 : s->time_us, margin, tried, t,
                           pc->ctas, by, k + 1);
                    if (isfinite(t_meas[k])) printf("%.4f", t_meas[k]);
                    printf(",%d,%.4f,%.4f\n", k == mbest, pc->time_lo_us, pc->time_hi_us);
                } else {
                    fmt_json_obj(&j, NULL);
                    fmt_json_str(&j, "gpu", g.name);
                    fmt_json_int(&j, "batch", w.wl.batch);
                    fmt_json_int(&j, "ctx", ctxs[ci]);
                    fmt_json_str(&j, "schedule", sched_name(pc->schedule));
                    fmt_json_int(&j, "block_n", pc->block_n);
                    fmt_json_int(&j, "splits", pc->splits);
                    fmt_json_int(&j, "grid", pc->grid);
                    fmt_json_int(&j, "ctas_per_sm", pc->ctas_per_sm);
                    fmt_json_num(&j, "time_us", pc->time_us, 4);
                    fmt_json_str(&j, "runner_up", !k && s->time_us > 0 ? sched_name(s->schedule) : "");
                    fmt_json_num(&j, "runner_up_us", k ? 0.0 : s->time_us, 4);
                    fmt_json_num(&j, "margin", margin, 4);
                    fmt_json_int(&j, "tried", tried);
                    fmt_json_bool(&j, "tie_within_model_error", t);
                    fmt_json_int(&j, "ctas", pc->ctas);
                    fmt_json_str(&j, "chosen_by", by);
                    fmt_json_int(&j, "rank", k + 1);
                    fmt_json_num(&j, "measured_us", t_meas[k], 4);
                    fmt_json_bool(&j, "measured_best", k == mbest);
                    fmt_json_num(&j, "time_lo_us", pc->time_lo_us, 4);
                    fmt_json_num(&j, "time_hi_us", pc->time_hi_us, 4);
                    fmt_json_close(&j);
                }
                if (sf) {
                    fprintf(sf, "--batch %d --heads %d --kv-heads %d --head-dim %d --dtype %s --ctx %lld --schedule %s "
                                "--block-n %d", w.wl.batch, w.wl.heads, w.wl.kv_heads, w.wl.head_dim,
                            dtype_name(w.wl.dtype), (long long)ctxs[ci], sched_name(pc->schedule), pc->block_n);
                    if (pc->schedule == SCHED_SPLIT) fprintf(sf, " --splits %d", pc->splits);
                    if ((pc->schedule == SCHED_STREAMK || pc->schedule == SCHED_HYBRID) && pc->grid)
                        fprintf(sf, " --grid %d", pc->grid);
                    if (pc->ctas_per_sm) fprintf(sf, " --ctas-per-sm %d", pc->ctas_per_sm);
                    fputc('\n', sf);
                }
            }
            if (hf)
                fprintf(hf, "    {%d, %lld, \"%s\", %d, %d, %d, %d, %.2f},%s\n", w.wl.batch, (long long)ctxs[ci],
                        sched_name(chosen->schedule), chosen->block_n, chosen->splits, chosen->grid,
                        chosen->ctas_per_sm, mbest >= 0 ? t_meas[mbest] : chosen->time_us,
                        !a.measured ? "" : mbest >= 0 ? "   /* measured */" : "   /* simulated: none measured */");
        }
out:
    if (fmt == OUT_JSON) fmt_json_end(&j);
    /* the files hold every workload's choice or are not left behind */
    if (sf && fclose(sf) && !rc) {
        fprintf(stderr, "leansim tune: --emit-sweep %s: write failed\n", sweep_out);
        rc = 1;
    }
    if (hf) {
        fprintf(hf, "};\n\n#endif\n");
        if (fclose(hf) && !rc) {
            fprintf(stderr, "leansim tune: --emit-header %s: write failed\n", header);
            rc = 1;
        }
    }
    free(mrows);
    if (rc) {
        if (sf) remove(sweep_out);
        if (hf) remove(header);
        if (sf || hf) fprintf(stderr, "leansim tune: %s%s%s not written\n", sf ? sweep_out : "", sf && hf ? " and " : "",
                              hf ? header : "");
    }
    return rc;
}
