/*
 * cmd_tune.c: `leansim tune`: for each context length (and batch), the
 * fastest schedule and its options by the simulator, the runner-up schedule
 * and the margin; optionally a C header with the chosen table.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "cmd.h"
#include "model.h"
#include "multi.h"
#include "opts.h"
#include "results.h"

enum {
    T_CTX, T_BATCHES, T_GPU, T_FORMAT, T_HEADER, T_SWEEP, T_KERNEL, T_SHORTLIST, T_MEASURED, T_GPUS, T_PARALLEL,
    T_SET, T_SEARCHED
};

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
    {"set", "KEY=VALUE", "override one chip or kernel field (what-if), e.g. --set sms=64 (repeatable)", T_SET},
    {"shortlist", "K", "also list the next K - 1 plans by simulated time, each unlike those before\n"
                       "it (rank 2..K; 1-8, default 1): what to time on the GPU where the margin\n"
                       "lies inside the model's error; --emit-sweep then writes all K", T_SHORTLIST},
    {"measured", "DB", "results database holding the shortlist's times (leanbench --sweep of\n"
                       "--emit-sweep's file, then leansim ingest): the fastest measured of each\n"
                       "workload's K plans is its choice (measured_best), which --emit-header\n"
                       "writes; the simulator's winner where none of them was measured", T_MEASURED},
    {"gpus", "N", "GPUs of one host sharing each workload (1-64, default 1): each parallelism's\n"
                  "share of a GPU tuned, then its gather and merge added (simulate --gpus)", T_GPUS},
    {"parallel", "P", "with --gpus: heads, kv, both, or all (default): the parallelisms tuned,\n"
                      "the fastest first", T_PARALLEL},
    {"format", "table|csv|json", "output format (default table)", T_FORMAT},
    {"emit-header", "FILE", "write the chosen table as a C header", T_HEADER},
    {"emit-sweep", "FILE", "write the choices as a leanbench sweep file (one option set per line),\n"
                           "so that the kernels run what the tuner chose", T_SWEEP},
    {NULL, NULL, NULL, 0},
};

typedef struct tune_args {
    const char *gpu, *header, *kernel, *sweep_out, *measured;
    int fmt, shortlist, gpus, parallel;   /* parallel: enum multi_parallel, or -1: all */
    const char *sets[32];
    int n_sets;
    int64_t ctxs[256], batches[256];
    int n_ctx, n_b;
} tune_args;

static int tune_opt(void *ctx, int id, const char *name, const char *v, char *err, int errlen)
{
    tune_args *a = ctx;
    switch (id) {
    case T_CTX:
        a->n_ctx = opts_size_list(name, v, a->ctxs, 256, 1, WL_MAX_CTX, "lengths", err, errlen);
        return a->n_ctx < 0 ? 2 : 0;
    case T_BATCHES:
        a->n_b = opts_size_list(name, v, a->batches, 256, 1, WL_MAX_BATCH, "batch sizes", err, errlen);
        return a->n_b < 0 ? 2 : 0;
    case T_GPU: a->gpu = v; return 0;
    case T_KERNEL: a->kernel = v; return 0;
    case T_HEADER: a->header = v; return 0;
    case T_SWEEP: a->sweep_out = v; return 0;
    case T_MEASURED: a->measured = v; return 0;
    case T_SET: return args_list_add(a->sets, &a->n_sets, 32, name, v, err, errlen);
    case T_GPUS: return opts_parse_int(name, v, 1, 64, &a->gpus, err, errlen) ? 2 : 0;
    case T_PARALLEL:
        if (!strcmp(v, "all")) a->parallel = -1;
        else if ((a->parallel = multi_parallel_parse(v)) < 0) {
            snprintf(err, (size_t)errlen, "%s %s: unknown parallelism (heads, kv, both, all)", name, v);
            return 2;
        }
        return 0;
    case T_SHORTLIST: return opts_parse_int(name, v, 1, TUNE_SHORTLIST_MAX, &a->shortlist, err, errlen) ? 2 : 0;
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

/* The plans of one parallelism (one GPU's: MULTI_HEADS over 1) of a workload: GPU 0's share tuned, its
 * times with the gather and merge after it (comm_us, none on one GPU). */
typedef struct tuned_mode {
    tune_choice l[TUNE_SHORTLIST_MAX];
    int nl, tried, par;
    double comm_us;
    multi_result m;
} tuned_mode;

/* Tunes w under each parallelism of modes[0..n) that cuts it, skipping one
 * that cuts it as an earlier one does; fills mo, the fastest first.
 * Returns how many. */
static int tune_modes(const gpu_spec *g, const kernel_profile *kp, const workload *w, unsigned sched_mask, int gpus,
                      const int *modes, int n, int want, tuned_mode *mo)
{
    int nmo = 0;
    char err[256];
    for (int mi = 0; mi < n; mi++) {
        static workload share;   /* large (ctx per request): not on the stack */
        tuned_mode *t = &mo[nmo];
        int dup = 0;
        if (multi_share(w, gpus, modes[mi], &share, &t->m, err, sizeof err) != SIM_OK) continue;
        for (int q = 0; q < nmo; q++) dup |= mo[q].m.head_ways == t->m.head_ways && mo[q].m.kv_ways == t->m.kv_ways;
        if (dup || tune_shortlist(g, kp, &share, sched_mask, t->l, want, &t->nl, &t->tried)) continue;
        t->comm_us = multi_comm(g, w, &t->m, NULL);
        t->par = modes[mi];
        for (int k = 0; k < t->nl; k++) {
            t->l[k].time_us += t->comm_us;
            t->l[k].time_lo_us += t->comm_us;
            t->l[k].time_hi_us += t->comm_us;
        }
        nmo++;
    }
    for (int q = 1; q < nmo; q++)   /* the fastest parallelism first */
        for (int r = q; r > 0 && mo[r].l[0].time_us < mo[r - 1].l[0].time_us; r--) {
            tuned_mode x = mo[r];
            mo[r] = mo[r - 1];
            mo[r - 1] = x;
        }
    return nmo;
}

/* What one printed plan needs besides itself. */
typedef struct tune_out {
    int fmt, gpus, measured;   /* measured: --measured given */
    const gpu_spec *g;
    const workload *w;
    long long ctx;
    const tuned_mode *mo;
    const char *par;           /* the parallelism's note ("" on one GPU) */
    const int *tie;            /* [k]: plan k inside the winner's interval */
    const double *t_meas;      /* [k]: its measured time, NAN where none */
    int mbest;                 /* the fastest measured plan, -1 if none */
    fmt_json *j;
} tune_out;

/* Prints plan k of x->mo (0: the winner, with its runner-up and margin; a later rank: its margin over the winner). */
static void put_plan(const tune_out *x, int k)
{
    const tune_choice *l = x->mo->l, *b = &l[0], *pc = &l[k];
    static const tune_choice none;
    const tune_choice *s = x->mo->nl > 1 ? &l[1] : &none;   /* the runner-up: the best plan unlike the winner */
    const double margin = k ? pc->time_us / b->time_us - 1 : s->time_us > 0 ? s->time_us / b->time_us - 1 : 0;
    const int t = k ? x->tie[k] : s->time_us > 0 && x->tie[1], tried = x->mo->tried;
    const char *by = k ? "shortlist" : tune_rule_name(b->rule);
    const char *par = x->gpus > 1 ? multi_parallel_name(x->mo->par) : "none";
    if (x->fmt == OUT_TABLE) {
        char ru[48] = "-", rut[16] = "-", note[320] = "", rule[64], meas[64];
        if (!k && s->time_us > 0)
            snprintf(ru, sizeof ru, "%s/%d/%d/%d", sched_name(s->schedule), s->block_n,
                     s->schedule == SCHED_SPLIT ? s->splits : s->ctas, s->ctas_per_sm);
        else if (k)
            snprintf(ru, sizeof ru, "#%d", k + 1);
        if (!k && s->time_us > 0) snprintf(rut, sizeof rut, "%.2f", s->time_us);
        /* the notes, joined by "; ": a tie, the rule that chose the winner, the measured time, the parallelism */
        const char *parts[4] = {t ? "tie within model error" : NULL, NULL, NULL, !k && x->par[0] ? x->par : NULL};
        if (!k && b->rule != TUNE_RULE_FASTEST) {
            snprintf(rule, sizeof rule, "taken for its %s", tune_rule_name(b->rule));
            parts[1] = rule;
        }
        if (x->measured) {
            if (isfinite(x->t_meas[k]))
                snprintf(meas, sizeof meas, "measured %.2f us%s", x->t_meas[k],
                         k == x->mbest ? ", the fastest: the choice" : "");
            else
                snprintf(meas, sizeof meas, "not measured");
            parts[2] = meas;
        }
        for (int q = 0, m = 0; q < 4; q++)
            if (parts[q]) m += snprintf(note + m, sizeof note - (size_t)m, "%s%s", m ? "; " : "  ", parts[q]);
        printf("%6d %8lld  %-9s %7d %6d %5d %4d %5d %10.2f  %-22s %10s %6.1f%% %6d%s\n", x->w->batch, x->ctx,
               sched_name(pc->schedule), pc->block_n, pc->splits, pc->grid, pc->ctas_per_sm, pc->ctas, pc->time_us, ru,
               rut, 100 * margin, tried, note);
    } else if (x->fmt == OUT_CSV) {
        fmt_csv_field(stdout, x->g->name);
        printf(",%d,%lld,%s,%d,%d,%d,%d,%.4f,%s,", x->w->batch, x->ctx, sched_name(pc->schedule), pc->block_n,
               pc->splits, pc->grid, pc->ctas_per_sm, pc->time_us, !k && s->time_us > 0 ? sched_name(s->schedule) : "");
        if (!k && s->time_us > 0) printf("%.4f", s->time_us);   /* empty: none, or a later rank (JSON's null) */
        printf(",%.4f,%d,%d,%d,%s,%d,", margin, tried, t, pc->ctas, by, k + 1);
        if (isfinite(x->t_meas[k])) printf("%.4f", x->t_meas[k]);
        printf(",%d,%.4f,%.4f,%d,%s,%.4f\n", k == x->mbest, pc->time_lo_us, pc->time_hi_us, x->gpus, par,
               pc->time_us - x->mo->comm_us);
    } else {
        fmt_json *j = x->j;
        fmt_json_obj(j, NULL);
        fmt_json_str(j, "gpu", x->g->name);
        fmt_json_int(j, "batch", x->w->batch);
        fmt_json_int(j, "ctx", x->ctx);
        fmt_json_str(j, "schedule", sched_name(pc->schedule));
        fmt_json_int(j, "block_n", pc->block_n);
        fmt_json_int(j, "splits", pc->splits);
        fmt_json_int(j, "grid", pc->grid);
        fmt_json_int(j, "ctas_per_sm", pc->ctas_per_sm);
        fmt_json_num(j, "time_us", pc->time_us, 4);
        fmt_json_str(j, "runner_up", !k && s->time_us > 0 ? sched_name(s->schedule) : NULL);   /* null: none, or a later rank */
        fmt_json_num(j, "runner_up_us", !k && s->time_us > 0 ? s->time_us : NAN, 4);
        fmt_json_num(j, "margin", margin, 4);
        fmt_json_int(j, "tried", tried);
        fmt_json_bool(j, "tie_within_model_error", t);
        fmt_json_int(j, "ctas", pc->ctas);
        fmt_json_str(j, "chosen_by", by);
        fmt_json_int(j, "rank", k + 1);
        fmt_json_num(j, "measured_us", x->t_meas[k], 4);
        fmt_json_bool(j, "measured_best", k == x->mbest);
        fmt_json_num(j, "time_lo_us", pc->time_lo_us, 4);
        fmt_json_num(j, "time_hi_us", pc->time_hi_us, 4);
        fmt_json_int(j, "gpus", x->gpus);
        fmt_json_str(j, "parallel", par);
        fmt_json_num(j, "per_gpu_us", pc->time_us - x->mo->comm_us, 4);
        fmt_json_close(j);
    }
}

/* Writes plan c of workload w (one context length, ctx) as a leanbench option set. */
static void put_sweep_line(FILE *sf, const workload *w, long long ctx, const tune_choice *c)
{
    fprintf(sf, "--batch %d --heads %d --kv-heads %d --head-dim %d --dtype %s --ctx %lld --schedule %s --block-n %d",
            w->batch, w->heads, w->kv_heads, w->head_dim, dtype_name(w->dtype), ctx, sched_name(c->schedule),
            c->block_n);
    if (c->schedule == SCHED_SPLIT) fprintf(sf, " --splits %d", c->splits);
    if ((c->schedule == SCHED_STREAMK || c->schedule == SCHED_HYBRID) && c->grid) fprintf(sf, " --grid %d", c->grid);
    if (c->ctas_per_sm) fprintf(sf, " --ctas-per-sm %d", c->ctas_per_sm);
    fputc('\n', sf);
}

/* The measured rows of GPU gpu in the results database at path into *rows (*n of them); 0, or prints the
 * reason and returns an exit code. */
static int load_measured(const char *path, const char *gpu, validate_row **rows, int *n)
{
    struct stat sb;
    sqlite3 *db = NULL;
    validate_stats st;
    validate_opts vo = {0};
    char err[512];
    vo.gpu = gpu;
    *rows = NULL;
    *n = 0;
    if (stat(path, &sb) || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "leansim tune: --measured %s: no such database (leansim ingest creates it)\n", path);
        return 2;
    }
    int src = store_open_readonly(&db, path, err, sizeof err);
    if (!src) src = (*n = validate_rows_load(db, &vo, rows, &st, err, sizeof err)) < 0 ? *n : 0;
    if (db) store_close(db);
    if (src) {
        /* the store names its file as --db's */
        const char *why = !strncmp(err, "--db ", 5) && strstr(err, ": ") ? strstr(err, ": ") + 2 : err;
        fprintf(stderr, "leansim tune: --measured %s: %s\n", path, why);
        return src == STORE_EINPUT ? 2 : 1;
    }
    fprintf(stderr, "leansim tune: --measured %s: %d rows of %s\n", path, *n, gpu);
    return 0;
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
        "  and --measured DB chooses among them by their measured times; --gpus N tunes each\n"
        "  parallelism's share of a GPU and adds its gather and merge\n",
        1, {tune_opts, NULL}};
    static wl_opts o;
    static tune_args a;
    char err[512];
    memset(&a, 0, sizeof a);
    a.gpus = 1;
    a.parallel = -1;
    a.gpu = "h100";
    a.kernel = KPROF_DEFAULT;
    a.fmt = OUT_TABLE;
    wl_opts_init(&o);
    int prc = args_parse(&c, argc, argv, &o, tune_opt, &a, NULL, 0, NULL);
    if (prc >= 0) return prc;
    const char *gpu = a.gpu, *header = a.header, *kernel = a.kernel, *sweep_out = a.sweep_out;
    int fmt = a.fmt, n_ctx = a.n_ctx, n_b = a.n_b, shortlist = a.shortlist ? a.shortlist : 1;
    const int gpus = a.gpus;
    if (a.parallel >= 0 && gpus <= 1) {
        fprintf(stderr, "leansim tune: --parallel %s: needs --gpus 2 or more\n", multi_parallel_name(a.parallel));
        return 2;
    }
    if (gpus > 1 && (a.header || a.sweep_out || a.measured)) {
        fprintf(stderr, "leansim tune: %s: one GPU's choices only (leave out --gpus %d)\n",
                a.header ? "--emit-header" : a.sweep_out ? "--emit-sweep" : "--measured", gpus);
        return 2;
    }
    /* the parallelisms tuned: one GPU's, or those asked that cut the work differently */
    int modes[3], n_modes = 0;
    if (gpus <= 1) modes[n_modes++] = MULTI_HEADS;
    else if (a.parallel >= 0) modes[n_modes++] = a.parallel;
    else
        for (int p = MULTI_HEADS; p <= MULTI_BOTH; p++) modes[n_modes++] = p;
    int64_t *ctxs = a.ctxs, *batches = a.batches;
    if (n_ctx == 0) {
        fprintf(stderr, "leansim tune: --ctx L1,L2,...: missing\n");
        return 2;
    }
    if (n_b && o.batch_given) {
        fprintf(stderr, "leansim tune: --batch and --batches: give one of them\n");
        return 2;
    }
    if (n_b == 0) {
        n_b = 1;
        batches[0] = o.wl.batch;
    }
    gpu_spec g;
    kernel_profile kp;
    if (kprof_pair_load(&g, &kp, gpu, kernel, a.sets, a.n_sets, err, sizeof err)) {
        fprintf(stderr, "leansim tune: %s\n", err);
        return 2;
    }
    if (!o.sched_given) o.sched_mask = kprof_sched_mask(&kp);   /* the schedules the kernel runs, as simulate */
    validate_row *mrows = NULL;   /* the measured rows of --measured, this GPU's */
    int n_mrows = 0;
    if (a.measured && (prc = load_measured(a.measured, g.name, &mrows, &n_mrows))) return prc;
    for (int bi = 0; bi < n_b; bi++)   /* every workload checked before any output */
        for (int ci = 0; ci < n_ctx; ci++) {
            static wl_opts w;
            w = o;
            w.wl.batch = (int)batches[bi];
            w.n_ctx_list = 1;
            w.ctx_list[0] = ctxs[ci];
            /* a parallelism that cuts it into a share the kernel runs and the planner can cut: some schedule
             * asked, at its default or its longest tile (sim_start_of: the profile's limits, the occupancy,
             * the plan's shape); the tiles the search tries: every one for leansim's kernels, another
             * kernel's own (tune_shortlist) */
            int cut = 0;
            static workload share;
            const int bn_max = kprof_is_default(&kp) ? 256 : 0;
            if (!wl_opts_finish(&w, err, sizeof err))
                for (int mi = 0; mi < n_modes && !cut; mi++) {
                    multi_result m;
                    char why[256];
                    if (multi_share(&w.wl, gpus, modes[mi], &share, &m, why, sizeof why) != SIM_OK) {
                        snprintf(err, sizeof err, "%s", why);
                        continue;
                    }
                    for (int k = 0; k < SCHED_COUNT && !cut; k++)
                        for (int bn = 0; bn <= bn_max && !cut && (w.sched_mask >> k & 1u); bn += 256) {
                            plan_opts po = w.po;
                            po.kind = k;
                            if (!po.block_n) po.block_n = bn;
                            sim_start st;
                            /* on more GPUs, the kernel's limits checked on the workload asked first (multi_run):
                             * the error names its heads, not GPU 0's share's */
                            if ((gpus <= 1 || sim_resident_of(&g, &kp, &w.wl, &po, why, sizeof why) > 0) &&
                                sim_start_of(&g, &kp, &share, &po, &st, why, sizeof why) == SIM_OK)
                                cut = 1;
                            else
                                snprintf(err, sizeof err, "batch %d, ctx %lld: %s", w.wl.batch, (long long)ctxs[ci],
                                         why);
                        }
                }
            if (!cut) {
                fprintf(stderr, "leansim tune: %s\n", err);
                free(mrows);
                return 2;
            }
        }
    /* the files are written whole or not at all: a file already at the path stays until then */
    fmt_file sfo, hfo;
    FILE *hf = NULL, *sf = NULL;
    if (sweep_out && fmt_file_open(&sfo, sweep_out)) {
        fprintf(stderr, "leansim tune: --emit-sweep %s: cannot open for writing\n", sweep_out);
        free(mrows);
        return 2;
    }
    if (sweep_out) sf = sfo.f;
    if (sf)
        fprintf(sf, "# leansim tune's choices for %s (kernel %s): one leanbench option set per line%s\n", g.name, kp.name,
                shortlist > 1 ? "; each workload's shortlist in rank order, the winner first" : "");
    if (header && fmt_file_open(&hfo, header)) {
        fprintf(stderr, "leansim tune: --emit-header %s: cannot open for writing\n", header);
        if (sf) fmt_file_abort(&sfo);
        free(mrows);
        return 2;
    }
    if (header) hf = hfo.f;
    if (hf) {
        /* the chip's name as a C identifier (h100-pcie: h100_pcie), for the table and the include guard */
        char id[sizeof g.name], guard[sizeof g.name];
        size_t q = 0;
        for (; g.name[q] && q + 1 < sizeof id; q++) {
            unsigned char ch = (unsigned char)g.name[q];
            id[q] = isalnum(ch) ? (char)ch : '_';
            guard[q] = (char)toupper((unsigned char)id[q]);
        }
        id[q] = guard[q] = 0;
        char cname[2 * sizeof g.name];   /* the name inside a comment: a "*" "/" in it would end the comment */
        size_t m = 0;
        for (size_t i = 0; g.name[i] && m + 3 < sizeof cname; i++) {
            cname[m++] = g.name[i];
            if (g.name[i] == '*' && g.name[i + 1] == '/') cname[m++] = ' ';
        }
        cname[m] = 0;
        fprintf(hf, "/* generated by leansim tune for %s: heads %d, kv_heads %d, d %d, %s.\n"
                    " * Each row: the tuner's choice %s for a batch and context length. */\n"
                    "#ifndef LEANSIM_TUNED_%s_H\n#define LEANSIM_TUNED_%s_H\n\n"
                    "#ifndef LEANSIM_TUNED_STRUCT\n#define LEANSIM_TUNED_STRUCT\n"
                    "struct leansim_tuned { int batch; long ctx; const char *schedule; int block_n, splits, grid, "
                    "ctas_per_sm; double time_us; };\n#endif\n\nstatic const struct leansim_tuned leansim_tuned_%s[] = {\n",
                cname, o.wl.heads, o.wl.kv_heads ? o.wl.kv_heads : o.wl.heads, o.wl.head_dim,
                dtype_name(o.wl.dtype),
                a.measured ? "(the fastest of its shortlist as measured, time_us measured; the simulator's where none was)"
                           : "(the simulator's fastest, or within 0.5% of it the plan its tie rules take)",
                guard, guard, id);
    }
    if (fmt == OUT_TABLE && a.n_sets) {   /* what-if overrides first, so that the table says what it is of */
        printf("# overrides:");
        for (int k = 0; k < a.n_sets; k++) printf(" --set %s", a.sets[k]);
        printf("\n");
    }
    if (fmt == OUT_TABLE)
        printf("# tune on %s: heads %d, kv_heads %d, d %d, %s (simulator); runner-up: the best other plan, "
               "schedule/block_n/splits or CTAs/cps;\n# grid and cps as asked of the planner (0: its rule), ctas as planned%s%s\n"
               "%6s %8s  %-9s %7s %6s %5s %4s %5s %10s  %-22s %10s %7s %6s\n",
               g.name, o.wl.heads, o.wl.kv_heads ? o.wl.kv_heads : o.wl.heads, o.wl.head_dim, dtype_name(o.wl.dtype),
               shortlist > 1 ? ";\n# rows #2..: the shortlist (#2 the runner-up, then by simulated time among the closed "
                               "form's 24 best), each plan unlike those before it; margin over the winner" : "",
               a.measured ? ";\n# measured: the plan's time in --measured's database; the fastest measured plan is the "
                            "choice" : "",
               "batch", "ctx", "winner", "block_n", "splits", "grid", "cps", "ctas", "time_us", "runner-up", "time_us",
               "margin", "tried");
    else if (fmt == OUT_CSV)
        printf("gpu,batch,ctx,schedule,block_n,splits,grid,ctas_per_sm,time_us,runner_up,runner_up_us,margin,tried,tie,ctas,"
               "chosen_by,rank,measured_us,measured_best,time_lo_us,time_hi_us,gpus,parallel,per_gpu_us\n");
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
            tuned_mode mo[3];
            int nmo = tune_modes(&g, &kp, &w.wl, w.sched_mask, gpus, modes, n_modes, shortlist > 2 ? shortlist : 2, mo);
            if (!nmo) {
                fprintf(stderr, "leansim tune: batch %d, ctx %lld: no schedule runs on %s\n", w.wl.batch,
                        (long long)ctxs[ci], g.name);
                rc = 1;
                continue;
            }
            for (int mi = 0; mi < nmo; mi++) {
                const tune_choice *l = mo[mi].l, *b = &l[0];
                const int nl = mo[mi].nl, nshow = shortlist < nl ? shortlist : nl;
                char par[96] = "";
                if (gpus > 1)
                    snprintf(par, sizeof par, "%s over %d GPUs (%dx%d), gather and merge %.2f us%s",
                             multi_parallel_name(mo[mi].par), gpus, mo[mi].m.head_ways, mo[mi].m.kv_ways,
                             mo[mi].comm_us, nmo > 1 && !mi ? ", the fastest" : "");
                /* a plan inside the winner's 90% interval: the model cannot tell them apart */
                double blo, bhi, t_meas[TUNE_SHORTLIST_MAX];
                sim_band(&g, &kp, b->schedule, &w.wl, 0, &blo, &bhi);
                int tie[TUNE_SHORTLIST_MAX] = {0};
                for (int k = 0; k < nl; k++) {
                    tie[k] = k && l[k].time_us <= b->time_us * (1 + bhi / 100) &&
                             b->time_us <= l[k].time_us * (1 - blo / 100);
                    t_meas[k] = NAN;
                }
                int mbest = a.measured ? pick_measured(mrows, n_mrows, g.name, &w.wl, g.sms, l, nshow, t_meas) : -1;
                const tune_choice *chosen = mbest >= 0 ? &l[mbest] : b;
                const tune_out x = {fmt, gpus, a.measured != NULL, &g, &w.wl, (long long)ctxs[ci], &mo[mi], par,
                                    tie, t_meas, mbest, &j};
                for (int k = 0; k < nshow; k++) {
                    put_plan(&x, k);
                    if (sf) put_sweep_line(sf, &w.wl, (long long)ctxs[ci], &l[k]);
                }
                if (hf)
                    fprintf(hf, "    {%d, %lld, \"%s\", %d, %d, %d, %d, %.2f},%s\n", w.wl.batch, (long long)ctxs[ci],
                            sched_name(chosen->schedule), chosen->block_n, chosen->splits, chosen->grid,
                            chosen->ctas_per_sm, mbest >= 0 ? t_meas[mbest] : chosen->time_us,
                            !a.measured ? "" : mbest >= 0 ? "   /* measured */" : "   /* simulated: none measured */");
            }
        }
out:
    if (fmt == OUT_JSON) fmt_json_end(&j);
    /* the files hold every workload's choice or are not written */
    if (hf) fprintf(hf, "};\n\n#endif\n");
    if (rc) {
        if (sf) fmt_file_abort(&sfo);
        if (hf) fmt_file_abort(&hfo);
        if (sf || hf) fprintf(stderr, "leansim tune: %s%s%s not written\n", sf ? sweep_out : "", sf && hf ? " and " : "",
                              hf ? header : "");
    } else {
        if (sf && fmt_file_commit(&sfo)) {
            fprintf(stderr, "leansim tune: --emit-sweep %s: write failed\n", sweep_out);
            rc = 1;
        }
        if (hf && (rc ? (fmt_file_abort(&hfo), 1) : fmt_file_commit(&hfo))) {
            fprintf(stderr, "leansim tune: --emit-header %s: %s\n", header, rc ? "not written" : "write failed");
            rc = 1;
        }
    }
    free(mrows);
    return rc;
}
