/*
 * export.c: the data files behind the figures (see model.h).
 *
 * The gnuplot scripts in plots/ only draw: every number they show is
 * written here as a column.  A file starts with a '#' line naming its
 * columns; '?' marks a missing value.  Lines of predictions come from the
 * rows the figure sweeps (experiments/fig-*.exp) stored; a point the store
 * lacks is computed with the same engine and spec, so a figure never has a
 * hole because a sweep was not run.  Measured points come from the
 * measurements table, predictions of measured rows from `leansim validate`.
 *
 *   speedup   speedup of streamk and split over fa2 vs context, per GPU
 *   scatter   measured vs predicted time, per schedule
 *   cdf       CDF of the absolute percentage error, per engine
 *   scaling   time vs SM count, predicted and measured
 *   timeline  one configuration's CTAs per SM, simulated and measured
 *   tuner     the tuner's schedule and tile length over context x batch
 *   whatif    predicted streamk speedup over split and fa2, every shipped spec
 *   paper     the LeanAttention paper's comparison on the A100 spec
 *   multigpu  kv over heads parallelism vs context, 2-8 GPUs (h100, b200)
 */
#include "results.h"
#include "fmt.h"
#include "multi.h"
#include "opts.h"
#include "trace.h"

#include <errno.h>
#include <glob.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const export_figures[] = {"speedup", "scatter", "cdf",   "scaling",  "timeline",
                                      "tuner",   "whatif",  "paper", "multigpu", NULL};

typedef struct exp_ctx {
    sqlite3 *db;
    const char *dir;
    const export_opts *o;
    char *err;
    int errlen;
    sim_ctx *sim;
    sqlite3_stmt *q;     /* a stored default-plan prediction */
    fmt_file *out;       /* [8]: the data files open, each written whole or not at all (f NULL: a free slot) */
} exp_ctx;

static FILE *out_open(exp_ctx *x, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", x->dir, name);
    fmt_file *o = NULL;
    for (int i = 0; i < 8 && !o; i++)
        if (!x->out[i].f) o = &x->out[i];
    if (!o || fmt_file_open(o, path)) {
        snprintf(x->err, (size_t)x->errlen, "%s: cannot open for writing: %s", path, o ? strerror(errno) : "too many open");
        return NULL;
    }
    return o->f;
}

static int out_close(exp_ctx *x, FILE *f, const char *name)
{
    for (int i = 0; i < 8; i++)
        if (f && x->out[i].f == f) {
            if (fmt_file_commit(&x->out[i])) break;
            return 0;
        }
    snprintf(x->err, (size_t)x->errlen, "%s/%s: write failed", x->dir, name);
    return STORE_EDB;
}

static void put_num(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, " %.6g", v);
    else fputs(" ?", f);
}

static void wl_set(workload *w, int batch, int heads, int kv_heads, int64_t ctx)
{
    workload_uniform(w, batch, heads, kv_heads, 128, DTYPE_FP16, ctx);
}

/* The chip spec and profile `kernel` a figure predicts GPU `gpu` with on
 * `sms` SMs (0: the spec's): --spec, --kernel and --set applied as validate
 * applies them (validate_spec).  0, or STORE_EINPUT with x->err set. */
static int spec_load(exp_ctx *x, gpu_spec *g, kernel_profile *kp, const char *gpu, const char *kernel, int sms)
{
    return validate_spec(g, kp, &x->o->v, gpu, kernel, sms, 0, x->err, x->errlen);
}

/*
 * Time of the default plan of schedule k for w on GPU `gpu` with `sms` SMs
 * (0: the spec's): the stored prediction of engine e if a sweep stored it,
 * else computed.  NAN when the engine refuses the configuration.
 */
static double pred_default(exp_ctx *x, const char *gpu, int sms, const workload *w, int k, int e)
{
    gpu_spec g;
    kernel_profile kp;
    char why[512];
    if (validate_spec(&g, &kp, &x->o->v, gpu, KPROF_DEFAULT, sms, 0, why, sizeof why)) return NAN;
    uint64_t h_plain = g.hash, h_over = h_plain;   /* sweep_run's key: the pair's hash */
    if (!x->q && sqlite3_prepare_v2(x->db,
                                    "SELECT time_us FROM predictions WHERE gpu=? AND engine=? AND schedule=? AND "
                                    "sms=? AND spec_hash IN (?, ?) AND batch=? AND heads=? AND kv_heads=? AND "
                                    "head_dim=? AND dtype=? AND ctx=? AND req_block_n=0 AND req_splits=0 AND "
                                    "req_grid=0 AND req_cps=0 LIMIT 1",
                                    -1, &x->q, NULL) != SQLITE_OK)
        x->q = NULL;
    if (x->q) {
        char h1[24], h2[24], ctx[32];
        snprintf(h1, sizeof h1, "%016llx", (unsigned long long)h_plain);
        snprintf(h2, sizeof h2, "%016llx", (unsigned long long)h_over);
        snprintf(ctx, sizeof ctx, "%lld", (long long)w->ctx[0]);
        sqlite3_reset(x->q);
        int b = 1;
        sqlite3_bind_text(x->q, b++, gpu, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(x->q, b++, model_engines[e].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(x->q, b++, sched_name(k), -1, SQLITE_STATIC);
        sqlite3_bind_int(x->q, b++, g.sms);
        sqlite3_bind_text(x->q, b++, h1, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(x->q, b++, h2, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(x->q, b++, w->batch);
        sqlite3_bind_int(x->q, b++, w->heads);
        sqlite3_bind_int(x->q, b++, w->kv_heads);
        sqlite3_bind_int(x->q, b++, w->head_dim);
        sqlite3_bind_text(x->q, b++, dtype_name(w->dtype), -1, SQLITE_STATIC);
        sqlite3_bind_text(x->q, b++, ctx, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(x->q) == SQLITE_ROW) return sqlite3_column_double(x->q, 0);
    }
    plan_opts po = {.kind = k};
    sim_result r;
    int rc = model_engines[e].run(x->sim, &g, &kp, w, &po, &r, why, sizeof why);
    return rc == SIM_OK ? r.time_us : NAN;
}

/* The measured rows of leansim's kernels (outside kernels have figures of
 * their own), with their predictions (validate) under --spec, --kernel and
 * --set, per --gpu.  need_pred: a figure of predictions, refused
 * (STORE_EINPUT) when rows were measured but none has a stored one. */
static int load_rows(exp_ctx *x, validate_row **rows, int need_pred)
{
    int n = validate_rows_load(x->db, &x->o->v, rows, NULL, x->err, x->errlen);
    if (n < 0) return n;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!strcmp((*rows)[i].kernel, KPROF_DEFAULT)) (*rows)[m++] = (*rows)[i];
    n = m;
    int f = validate_lookup(x->db, &x->o->v, *rows, n, x->err, x->errlen);
    if (f < 0 || (need_pred && n > 0 && f == 0)) {
        if (f == 0)
            snprintf(x->err, (size_t)x->errlen, "none of the %d measured rows has a stored prediction under this "
                     "spec (run leansim validate first, with the same --spec and --set)", n);
        free(*rows);
        *rows = NULL;
        return f < 0 ? f : STORE_EINPUT;
    }
    return n;
}

static int ctx_of(const validate_row *r)
{
    return r->w.ragged ? -1 : (int)r->w.ctx[0];
}

/* ------------------------------------------------------------- speedup */

static int fig_speedup(exp_ctx *x)
{
    validate_row *rows;
    int n = load_rows(x, &rows, 0);
    if (n < 0) return n;
    FILE *lf = out_open(x, "speedup.gpus");
    if (!lf) { free(rows); return STORE_EDB; }
    /* the GPUs measured, or --gpu's */
    const char *gpus[] = {"h100", "h200", "a100"};
    size_t ng = sizeof gpus / sizeof gpus[0];
    if (x->o->v.gpu) gpus[0] = validate_gpu_map(x->o->v.gpu), ng = 1;
    int rc = 0;
    for (size_t gi = 0; gi < ng && !rc; gi++) {
        const char *gpu = gpus[gi];
        fprintf(lf, "%s%s", gi ? " " : "", gpu);
        char name[64];
        snprintf(name, sizeof name, "speedup-%s-sim.dat", gpu);
        FILE *f = out_open(x, name);
        if (!f) { rc = STORE_EDB; break; }
        fprintf(f, "# %s, batch 1, 32 heads, MHA, d 128, fp16, simulator, default plans\n"
                   "# ctx streamk_over_fa2 split_over_fa2\n", gpu);
        workload w;
        for (int64_t c = 1024; c <= 512 * 1024; c *= 2) {
            wl_set(&w, 1, 32, 32, c);
            double fa2 = pred_default(x, gpu, 0, &w, SCHED_FA2, VAL_SIM);
            fprintf(f, "%lld", (long long)c);
            put_num(f, fa2 / pred_default(x, gpu, 0, &w, SCHED_STREAMK, VAL_SIM));
            put_num(f, fa2 / pred_default(x, gpu, 0, &w, SCHED_SPLIT, VAL_SIM));
            fputc('\n', f);
        }
        if ((rc = out_close(x, f, name))) break;
        snprintf(name, sizeof name, "speedup-%s-meas.dat", gpu);
        if (!(f = out_open(x, name))) { rc = STORE_EDB; break; }
        fprintf(f, "# measured: fastest measured variant of each schedule, full GPU\n"
                   "# ctx streamk_over_fa2 split_over_fa2\n");
        /* contexts measured for this workload, ascending */
        int cs[256], nc = 0;
        for (int i = 0; i < n; i++) {
            const validate_row *r = &rows[i];
            if (strcmp(r->gpu, gpu) || r->sms != r->full_sms || r->w.batch != 1 || r->w.heads != 32 ||
                r->w.kv_heads != 32 || r->w.head_dim != 128 || r->w.dtype != DTYPE_FP16 || ctx_of(r) < 0)
                continue;
            int have = 0;
            for (int q = 0; q < nc; q++) have |= cs[q] == ctx_of(r);
            if (!have && nc < 256) cs[nc++] = ctx_of(r);
        }
        for (int a = 1; a < nc; a++)
            for (int b = a; b > 0 && cs[b - 1] > cs[b]; b--) { int t = cs[b]; cs[b] = cs[b - 1]; cs[b - 1] = t; }
        for (int q = 0; q < nc; q++) {
            double best[SCHED_COUNT];
            for (int k = 0; k < SCHED_COUNT; k++) best[k] = NAN;
            for (int i = 0; i < n; i++) {
                const validate_row *r = &rows[i];
                if (strcmp(r->gpu, gpu) || r->sms != r->full_sms || r->w.batch != 1 || r->w.heads != 32 ||
                    r->w.kv_heads != 32 || r->w.head_dim != 128 || r->w.dtype != DTYPE_FP16 || ctx_of(r) != cs[q])
                    continue;
                if (!(r->time_us >= best[r->po.kind])) best[r->po.kind] = r->time_us;
            }
            fprintf(f, "%d", cs[q]);
            put_num(f, best[SCHED_FA2] / best[SCHED_STREAMK]);
            put_num(f, best[SCHED_FA2] / best[SCHED_SPLIT]);
            fputc('\n', f);
        }
        rc = out_close(x, f, name);
    }
    free(rows);
    if (rc) return rc;   /* speedup.gpus is dropped with the rest (export_figure) */
    fputc('\n', lf);
    return out_close(x, lf, "speedup.gpus");
}

/* ------------------------------------------------------- scatter, cdf */

static int fig_scatter(exp_ctx *x)
{
    validate_row *rows;
    int n = load_rows(x, &rows, 1);
    if (n < 0) return n;
    int rc = 0;
    for (int k = 0; k < SCHED_COUNT && !rc; k++) {
        char name[64];
        snprintf(name, sizeof name, "scatter-%s.dat", sched_name(k));
        FILE *f = out_open(x, name);
        if (!f) { rc = STORE_EDB; break; }
        fprintf(f, "# %s: measured and predicted time of every measured row\n"
                   "# measured_us sim_us model_us gpu sms\n", sched_name(k));
        for (int i = 0; i < n; i++) {
            const validate_row *r = &rows[i];
            if (r->po.kind != k) continue;
            fprintf(f, "%.6g", r->time_us);
            put_num(f, r->pred_us[VAL_SIM]);
            put_num(f, r->pred_us[VAL_MODEL]);
            fprintf(f, " %s %d\n", r->gpu, r->sms);
        }
        rc = out_close(x, f, name);
    }
    free(rows);
    return rc;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int fig_cdf(exp_ctx *x)
{
    validate_row *rows;
    int n = load_rows(x, &rows, 1);
    if (n < 0) return n;
    double *v = malloc(sizeof(double) * (size_t)(n + 1));
    int rc = v ? 0 : STORE_EDB;
    if (!v) snprintf(x->err, (size_t)x->errlen, "out of memory");
    /* one curve per GPU and engine: the H100's rows were fitted, the H200's are out of sample; --gpu:
     * that GPU's alone (export_check) */
    const char *gpus[] = {"h100", "h200"};
    int ng = 2;
    if (x->o->v.gpu) gpus[0] = validate_gpu_map(x->o->v.gpu), ng = 1;
    for (int gi = 0; gi < ng && !rc; gi++)
        for (int e = 0; e < VAL_ENGINES && !rc; e++) {
            int m = 0;
            for (int i = 0; i < n; i++)
                if (!strcmp(rows[i].gpu, gpus[gi]) && isfinite(rows[i].pred_us[e]))
                    v[m++] = 100.0 * fabs(rows[i].pred_us[e] / rows[i].time_us - 1.0);
            qsort(v, (size_t)m, sizeof *v, cmp_d);
            char name[64];
            snprintf(name, sizeof name, "cdf-%s-%s.dat", gpus[gi], model_engines[e].name);
            FILE *f = out_open(x, name);
            if (!f) { rc = STORE_EDB; break; }
            fprintf(f, "# %s, %s: absolute percentage error of time, sorted, and the fraction of rows at or below it\n"
                       "# ape_pct fraction\n", gpus[gi], model_engines[e].name);
            for (int i = 0; i < m; i++) fprintf(f, "%.6g %.6g\n", v[i] < 1e-3 ? 1e-3 : v[i], (double)(i + 1) / m);
            rc = out_close(x, f, name);
        }
    free(v);
    free(rows);
    return rc;
}

/* ------------------------------------------------------------- scaling */

static int fig_scaling(exp_ctx *x)
{
    validate_row *rows;
    int n = load_rows(x, &rows, 0);
    if (n < 0) return n;
    /* the workload: the first one measured on fewer SMs, else fig-scaling.exp's batch 1, GQA 32/8, 64k */
    const char *gpu = x->o->v.gpu ? validate_gpu_map(x->o->v.gpu) : "h100";
    workload w;
    wl_set(&w, 1, 32, 8, 65536);
    for (int i = 0; i < n; i++)
        if (rows[i].sms < rows[i].full_sms && (!x->o->v.gpu || !strcmp(rows[i].gpu, gpu))) {
            w = rows[i].w;
            gpu = validate_gpu_map(rows[i].gpu);
            break;
        }
    gpu_spec full;
    kernel_profile kp;
    if (spec_load(x, &full, &kp, gpu, KPROF_DEFAULT, 0)) {
        free(rows);
        return STORE_EINPUT;
    }
    int sms_list[] = {8, 16, 24, 32, 48, 64, 96, 0};
    sms_list[7] = full.sms;
    FILE *lf = out_open(x, "scaling.label");
    if (!lf) { free(rows); return STORE_EDB; }
    char ctx[64];
    store_ctx_text(&w, ctx, sizeof ctx);
    fprintf(lf, "%s: batch %d, %d heads, %d KV heads, d %d, ctx %s\n", gpu, w.batch, w.heads, w.kv_heads, w.head_dim,
            ctx);
    int rc = out_close(x, lf, "scaling.label");
    static const int ks[] = {SCHED_FA2, SCHED_SPLIT, SCHED_STREAMK, SCHED_BALANCED};
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0] && !rc; ki++) {
        int k = ks[ki];
        char name[64];
        snprintf(name, sizeof name, "scaling-pred-%s.dat", sched_name(k));
        FILE *f = out_open(x, name);
        if (!f) { rc = STORE_EDB; break; }
        fprintf(f, "# %s, default plan: predicted time vs SMs\n# sms sim_us model_us\n", sched_name(k));
        for (size_t s = 0; s < sizeof sms_list / sizeof sms_list[0]; s++) {
            if (sms_list[s] > full.sms) continue;
            fprintf(f, "%d", sms_list[s]);
            put_num(f, pred_default(x, gpu, sms_list[s], &w, k, VAL_SIM));
            put_num(f, pred_default(x, gpu, sms_list[s], &w, k, VAL_MODEL));
            fputc('\n', f);
        }
        if ((rc = out_close(x, f, name))) break;
        snprintf(name, sizeof name, "scaling-meas-%s.dat", sched_name(k));
        if (!(f = out_open(x, name))) { rc = STORE_EDB; break; }
        fprintf(f, "# %s measured (fastest variant per SM count)\n# sms measured_us\n", sched_name(k));
        for (int sms = 1; sms <= full.sms; sms++) {
            double best = NAN;
            for (int i = 0; i < n; i++) {
                const validate_row *r = &rows[i];
                if (r->sms == sms && r->po.kind == k && !strcmp(r->gpu, gpu) &&
                    !memcmp(&r->w, &w, sizeof w - sizeof w.ctx + sizeof w.ctx[0] * (size_t)w.batch) &&
                    !(r->time_us >= best))
                    best = r->time_us;
            }
            if (isfinite(best)) fprintf(f, "%d %.6g\n", sms, best);
        }
        rc = out_close(x, f, name);
    }
    free(rows);
    return rc;
}

/* ------------------------------------------------------------ timeline */

/* Parses "gpu-schedule-bBhH[kvK]-CTX-..." into the configuration. */
static int timeline_config(const char *path, char *gpu, int *kind, workload *w)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char g[32], s[32], c[32];
    int b, h, kvh;
    if (sscanf(base, "%31[^-]-%31[^-]-b%dh%dkv%d-%31[^-.]", g, s, &b, &h, &kvh, c) != 6) {
        if (sscanf(base, "%31[^-]-%31[^-]-b%dh%d-%31[^-.]", g, s, &b, &h, c) != 5) return -1;
        kvh = h;
    }
    int64_t ctx;
    if (opts_parse_size(c, &ctx) || sched_parse(s) < 0 || b < 1 || b > WL_MAX_BATCH || h < 1 || kvh < 1 || h % kvh)
        return -1;
    const char *spec = validate_gpu_map(g);
    if (!spec) return -1;
    snprintf(gpu, 32, "%s", spec);
    *kind = sched_parse(s);
    wl_set(w, b, h, kvh, ctx);
    return 0;
}

/* An integer of a provenance header, by the size parser of the options (64k), in [lo, hi]; 0 or -1. */
static int header_int(const char *v, int lo, int hi, int *out)
{
    int64_t x;
    if (opts_parse_size(v, &x) || x < lo || x > hi) return -1;
    *out = (int)x;
    return 0;
}

/*
 * The configuration from a timeline's provenance header (leanbench writes
 * "# key=value" lines before the column header; hdr: those lines, NULL if
 * none): returns 1 and fills gpu, kind, w and po (the plan options asked)
 * when the header names the GPU, schedule and workload; 0 when there is no
 * header (older timelines: the name says it); -1 with the bad key in
 * bad[32] when a header is there but lacks a key or holds a bad value.
 */
static int timeline_header(const char *hdr, char *gpu, int *kind, workload *w, plan_opts *po, char *bad)
{
    if (!hdr) return 0;
    char line[16384], g[128] = "", sc[32] = "", dt[16] = "fp16", ctx[16384] = "";
    int b = 0, h = 0, kvh = 0, d = 128, seen = 0;
    plan_opts o = {0};
    snprintf(bad, 32, "%s", "");
    for (const char *p = hdr; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0)) {
        snprintf(line, sizeof line, "%.*s", (int)strcspn(p, "\n"), p);
        char *eq = strchr(line, '='), *k = line + 1;
        if (!eq) continue;
        *eq = 0;
        while (*k == ' ') k++;
        const char *v = eq + 1;
        int r = 0;
        if (!strcmp(k, "gpu")) snprintf(g, sizeof g, "%s", v), seen |= 1;
        else if (!strcmp(k, "schedule")) snprintf(sc, sizeof sc, "%s", v), seen |= 2;
        else if (!strcmp(k, "batch")) r = header_int(v, 1, WL_MAX_BATCH, &b), seen |= 4;
        else if (!strcmp(k, "heads")) r = header_int(v, 1, 1 << 20, &h), seen |= 8;
        else if (!strcmp(k, "ctx")) snprintf(ctx, sizeof ctx, "%s", v), seen |= 16;
        else if (!strcmp(k, "kv_heads")) r = header_int(v, 1, 1 << 20, &kvh);
        else if (!strcmp(k, "head_dim")) r = header_int(v, 1, 1 << 20, &d);
        else if (!strcmp(k, "dtype")) snprintf(dt, sizeof dt, "%s", v);
        else if (!strcmp(k, "req_block_n")) r = header_int(v, 0, 1 << 30, &o.block_n);
        else if (!strcmp(k, "req_splits")) r = header_int(v, 0, 1 << 30, &o.splits);
        else if (!strcmp(k, "req_grid")) r = header_int(v, 0, 1 << 30, &o.grid);
        else if (!strcmp(k, "req_cps")) r = header_int(v, 0, 1 << 30, &o.ctas_per_sm);
        if (r && !bad[0]) snprintf(bad, 32, "%.31s", k);
    }
    static const char *const need[] = {"gpu", "schedule", "batch", "heads", "ctx"};
    for (int i = 0; i < 5 && !bad[0]; i++)
        if (!(seen >> i & 1)) snprintf(bad, 32, "no %s", need[i]);
    const char *spec = validate_gpu_map(g);
    if (!bad[0] && !spec) snprintf(bad, 32, "gpu");
    if (!bad[0] && sched_parse(sc) < 0) snprintf(bad, 32, "schedule");
    if (!bad[0] && dtype_parse(dt) < 0) snprintf(bad, 32, "dtype");
    if (bad[0]) return -1;
    /* ctx: one length, or one per request (ragged) */
    int64_t c[WL_MAX_BATCH];
    int m = 0;
    for (char *save = NULL, *t = strtok_r(ctx, ";", &save); t; t = strtok_r(NULL, ";", &save))
        if (m == WL_MAX_BATCH || opts_parse_size(t, &c[m++])) {   /* a bad length ends the list: refused */
            m = -1;
            break;
        }
    if (m != 1 && m != b) {
        snprintf(bad, 32, "ctx");
        return -1;
    }
    workload_uniform(w, b, h, kvh > 0 ? kvh : h, d, dtype_parse(dt), c[0]);
    if (m > 1) {
        memcpy(w->ctx, c, sizeof c[0] * (size_t)m);
        w->ragged = 1;
    }
    if (workload_check(w, NULL, 0)) {
        snprintf(bad, 32, "the workload");
        return -1;
    }
    snprintf(gpu, 32, "%s", spec);
    *kind = sched_parse(sc);
    o.kind = *kind;
    *po = o;
    return 1;
}

/* Figure timeline's input: a measured timeline read, its configuration. */
typedef struct tl_input {
    const char *path;        /* NULL: none (the simulator's default configuration alone) */
    trace_timeline tl;       /* read when path */
    char gpu[32];
    int kind, from_header;   /* from_header: po as recorded; 0: the defaults */
    workload w;
    plan_opts po;
    char buf[1024];          /* path's storage when found under traces/measured */
} tl_input;

/* The GPU spec a timeline at path names: its header's gpu, else its file name's first word; "" if neither. */
static void timeline_gpu(const char *path, char *gpu)
{
    char line[512], name[32] = "";
    gpu[0] = 0;
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f) && line[0] == '#')
        if (!strncmp(line, "# gpu=", 6)) snprintf(name, sizeof name, "%.*s", (int)strcspn(line + 6, "\r\n"), line + 6);
    if (f) fclose(f);
    if (!name[0]) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        snprintf(name, sizeof name, "%.*s", (int)strcspn(base, "-"), base);
    }
    const char *spec = validate_gpu_map(name);
    if (spec) snprintf(gpu, 32, "%s", spec);
}

/*
 * Reads figure timeline's input: --timeline, else the first measured
 * timeline under traces/measured (in name order; of --gpu's GPU with
 * --gpu), and its configuration (the provenance header, else the name).
 * Returns 0 (tl_input_free frees it), or STORE_EINPUT / STORE_EDB (out of
 * memory) with err set.
 */
static int tl_input_read(tl_input *in, const export_opts *o, char *err, int errlen)
{
    memset(in, 0, sizeof *in);
    const char *want = o->v.gpu ? validate_gpu_map(o->v.gpu) : NULL;
    in->path = o->timeline;
    if (!in->path) {
        glob_t gl;
        if (glob("traces/measured/*.csv", 0, NULL, &gl) == 0) {
            for (size_t i = 0; i < gl.gl_pathc && !in->path; i++) {
                char g[32];
                timeline_gpu(gl.gl_pathv[i], g);
                if (want && strcmp(g, want)) continue;
                snprintf(in->buf, sizeof in->buf, "%s", gl.gl_pathv[i]);
                in->path = in->buf;
            }
            globfree(&gl);
        }
    }
    snprintf(in->gpu, sizeof in->gpu, "%s", want ? want : "h100");
    in->kind = SCHED_STREAMK;
    wl_set(&in->w, 1, 32, 32, 65536);
    in->po = (plan_opts){.kind = in->kind};
    if (!in->path) return 0;
    FILE *f = fopen(in->path, "r");
    if (!f) {
        snprintf(err, (size_t)errlen, "--timeline %s: cannot open: %s", in->path, strerror(errno));
        return STORE_EINPUT;
    }
    int rc = trace_timeline_read(&in->tl, f, in->path, err, errlen);
    fclose(f);
    if (rc) return rc == TRACE_ENOMEM ? STORE_EDB : STORE_EINPUT;
    char bad[32];
    in->from_header = timeline_header(in->tl.header, in->gpu, &in->kind, &in->w, &in->po, bad);
    if (in->from_header < 0) {
        snprintf(err, (size_t)errlen, "--timeline %s: provenance header: %s%s", in->path,
                 strncmp(bad, "no ", 3) ? "bad " : "", bad);
        trace_timeline_free(&in->tl);
        return STORE_EINPUT;
    }
    if (!in->from_header && timeline_config(in->path, in->gpu, &in->kind, &in->w)) {
        snprintf(err, (size_t)errlen,
                 "--timeline %s: name must be GPU-SCHEDULE-bBATCHhHEADS[kvKV]-CTX-*.csv (e.g. h100-streamk-b1h32-64k-v1.csv)",
                 in->path);
        trace_timeline_free(&in->tl);
        return STORE_EINPUT;
    }
    if (want && strcmp(want, in->gpu)) {
        snprintf(err, (size_t)errlen, "--gpu %s: figure timeline draws its timeline's GPU, %s (%s)", o->v.gpu,
                 in->gpu, in->path);
        trace_timeline_free(&in->tl);
        return STORE_EINPUT;
    }
    if (!in->from_header) {   /* no plan asked recorded: the defaults, with the measured CTA count as the grid */
        in->po = (plan_opts){.kind = in->kind};
        if (in->kind == SCHED_STREAMK || in->kind == SCHED_HYBRID) in->po.grid = in->tl.n_cta;
    }
    return 0;
}

static void tl_input_free(tl_input *in)
{
    trace_timeline_free(&in->tl);
}

/* Where the simulator's slices go: one line each, as the measured ones. */
typedef struct slice_out {
    FILE *f;
    double t0_ns;    /* the launch: the measured timeline counts from the first CTA's start */
} slice_out;

static void put_slice(void *arg, int kernel, int sm, int slot, const char *phase, double t0_ns, double t1_ns)
{
    slice_out *o = arg;
    int kind = kernel == 1 ? 3 : !strcmp(phase, "wait") ? 2 : 1;
    fprintf(o->f, "%.3f %.4f %.4f %d\n", sm + 0.2 * slot, (t0_ns - o->t0_ns) / 1e3, (t1_ns - t0_ns) / 1e3, kind);
}

/* The simulator's timeline of the same configuration, as CTA slices. */
static int sim_timeline(exp_ctx *x, const gpu_spec *g, const kernel_profile *kp, const workload *w, const plan_opts *po,
                        FILE *out)
{
    sim_result r;
    char why[512];
    slice_out so = {out, (g->launch_us + kp->call_extra_us) * 1e3};
    if (sim_run_slices(x->sim, g, kp, w, po, &r, put_slice, &so, why, sizeof why) != SIM_OK) {
        snprintf(x->err, (size_t)x->errlen, "timeline: %s", why);
        return STORE_EINPUT;
    }
    return 0;
}

static int fig_timeline(exp_ctx *x)
{
    static tl_input in;   /* large (a path and a workload): not on the stack */
    int rc = tl_input_read(&in, x->o, x->err, x->errlen);
    if (rc) return rc;
    gpu_spec g;
    kernel_profile kp;
    if (spec_load(x, &g, &kp, in.gpu, KPROF_DEFAULT, 0)) {
        tl_input_free(&in);
        return STORE_EINPUT;
    }
    FILE *lf = out_open(x, "timeline.label");
    if (!lf) { tl_input_free(&in); return STORE_EDB; }
    char ctx[32];
    store_ctx_text(&in.w, ctx, sizeof ctx);
    fprintf(lf, "%s on %s: batch %d, %d heads, %d KV heads, ctx %s%s%s\n", sched_name(in.kind), in.gpu, in.w.batch,
            in.w.heads, in.w.kv_heads, ctx, in.path ? "; measured: " : "", in.path ? in.path : "");
    rc = out_close(x, lf, "timeline.label");
    FILE *f = rc ? NULL : out_open(x, "timeline-sim.dat");
    if (!f) { tl_input_free(&in); return STORE_EDB; }
    fprintf(f, "# simulated CTA phases: lane = SM + 0.2 x resident slot; kind 1 run, 2 wait, 3 combine kernel\n"
               "# lane t0_us dur_us kind\n");
    rc = sim_timeline(x, &g, &kp, &in.w, &in.po, f);
    int rc2 = out_close(x, f, "timeline-sim.dat");
    if (rc || rc2) { tl_input_free(&in); return rc ? rc : rc2; }
    if (!(f = out_open(x, "timeline-meas.dat"))) { tl_input_free(&in); return STORE_EDB; }
    fprintf(f, "# measured CTA phases: lane = SM + 0.2 x overlap lane; kind 1 run, 2 wait\n"
               "# lane t0_us dur_us kind\n");
    /* each CTA's span, then the waits (the phases as `leansim timeline` names them) */
    const trace_timeline *tl = &in.tl;
    for (int i = 0; i < tl->n_cta; i++) {
        const trace_tl_cta *c = &tl->cta[i];
        double lane = c->sm + 0.2 * c->slot;
        fprintf(f, "%.3f %.4f %.4f 1\n", lane, c->t0_ns / 1e3, (c->t1_ns - c->t0_ns) / 1e3);
    }
    for (int e = 0; e < tl->n_ev; e++) {
        const char *phase = trace_timeline_phase(tl, e);
        if (!phase || strcmp(phase, "wait")) continue;
        const trace_tl_cta *c = &tl->cta[tl->cta_of[tl->ev[e].cta]];
        double t0 = tl->ev[tl->ev[e].prev].t_ns;
        fprintf(f, "%.3f %.4f %.4f 2\n", c->sm + 0.2 * c->slot, t0 / 1e3, (tl->ev[e].t_ns - t0) / 1e3);
    }
    tl_input_free(&in);
    return out_close(x, f, "timeline-meas.dat");
}

/* --------------------------------------------------------------- tuner */

#define TUNER_NC 6
#define TUNER_NB 7

typedef struct tuner_job {
    const gpu_spec *g;
    const kernel_profile *k;
    atomic_int next;
    tune_choice best[TUNER_NC * TUNER_NB], second[TUNER_NC * TUNER_NB];
    int ok[TUNER_NC * TUNER_NB];
} tuner_job;

static int64_t tuner_ctx(int i) { return (int64_t)512 << (2 * i); }   /* 512 .. 512k, x4 */
static int tuner_batch(int j) { return 1 << j; }                       /* 1 .. 64 */

static void *tuner_worker(void *arg)
{
    tuner_job *jb = arg;
    workload w;
    for (;;) {
        int c = atomic_fetch_add(&jb->next, 1);
        if (c >= TUNER_NC * TUNER_NB) break;
        /* largest cells first: they bound the wall time */
        int cell = TUNER_NC * TUNER_NB - 1 - c;
        wl_set(&w, tuner_batch(cell / TUNER_NC), 32, 8, tuner_ctx(cell % TUNER_NC));
        int tried;
        jb->ok[cell] = !tune_search(jb->g, jb->k, &w, (1u << SCHED_COUNT) - 1, &jb->best[cell], &jb->second[cell], &tried);
    }
    return NULL;
}

static int fig_tuner(exp_ctx *x)
{
    const char *gpu = x->o->v.gpu ? validate_gpu_map(x->o->v.gpu) : "h100";
    gpu_spec g;
    kernel_profile kp;
    if (spec_load(x, &g, &kp, gpu, KPROF_DEFAULT, 0)) return STORE_EINPUT;
    tuner_job *jb = calloc(1, sizeof *jb);
    if (!jb) return STORE_EDB;
    jb->g = &g;
    jb->k = &kp;
    atomic_init(&jb->next, 0);
    enum { NT = 4 };
    pthread_t th[NT];
    int started = 0;
    for (int i = 0; i < NT; i++)
        if (!pthread_create(&th[i], NULL, tuner_worker, jb)) started++;
    if (!started) tuner_worker(jb);
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    FILE *f = out_open(x, "tuner.dat");
    if (!f) { free(jb); return STORE_EDB; }
    fprintf(f, "# tuner (simulator) on %s, 32 heads, 8 KV heads, d 128, fp16\n"
               "# ctx_i batch_i schedule_i block_n ctx batch schedule time_us margin_pct\n", gpu);
    for (int j = 0; j < TUNER_NB; j++)
        for (int i = 0; i < TUNER_NC; i++) {
            int cell = j * TUNER_NC + i;
            const tune_choice *b = &jb->best[cell], *s = &jb->second[cell];
            if (!jb->ok[cell]) {
                fprintf(f, "%d %d ? ? %lld %d ? ? ?\n", i, j, (long long)tuner_ctx(i), tuner_batch(j));
                continue;
            }
            fprintf(f, "%d %d %d %d %lld %d %s %.6g", i, j, b->schedule, b->block_n, (long long)tuner_ctx(i),
                    tuner_batch(j), sched_name(b->schedule), b->time_us);
            put_num(f, s->time_us > 0 ? 100.0 * (s->time_us / b->time_us - 1.0) : NAN);
            fputc('\n', f);
        }
    free(jb);
    int rc = out_close(x, f, "tuner.dat");
    if (rc) return rc;
    /* tick labels as gnuplot commands: the script loads them */
    if (!(f = out_open(x, "tuner-tics.gp"))) return STORE_EDB;
    fprintf(f, "# axis tick labels of tuner.dat's index columns\nset xtics (");
    for (int i = 0; i < TUNER_NC; i++) {
        int64_t c = tuner_ctx(i);
        if (c >= 1024) fprintf(f, "%s\"%lldk\" %d", i ? ", " : "", (long long)(c / 1024), i);
        else fprintf(f, "%s\"%lld\" %d", i ? ", " : "", (long long)c, i);
    }
    fprintf(f, ")\nset ytics (");
    for (int j = 0; j < TUNER_NB; j++) fprintf(f, "%s\"%d\" %d", j ? ", " : "", tuner_batch(j), j);
    fprintf(f, ")\n");
    return out_close(x, f, "tuner-tics.gp");
}

/* -------------------------------------------------------------- whatif */

/* Measured rows in the database of GPUs that map to spec `gpu`. */
static int64_t measured_rows_of(exp_ctx *x, const char *gpu)
{
    sqlite3_stmt *q;
    int64_t n = 0;
    if (sqlite3_prepare_v2(x->db, "SELECT gpu, count(*) FROM measurements GROUP BY gpu", -1, &q, NULL) != SQLITE_OK)
        return 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *spec = validate_gpu_map((const char *)sqlite3_column_text(q, 0));
        if (spec && !strcmp(spec, gpu)) n += sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    return n;
}

/* whatif.gpus: the spec names; whatif.kinds: for each, "measured" when the
 * database holds measured rows of that GPU, else "estimate" (a spec from
 * datasheets and the H100's per-cycle figures, never checked on the chip). */
static int fig_whatif(exp_ctx *x)
{
    FILE *lf = out_open(x, "whatif.gpus");
    if (!lf) return STORE_EDB;
    FILE *kf = out_open(x, "whatif.kinds");
    if (!kf) return STORE_EDB;   /* export_figure drops whatif.gpus, as every file left open */
    int rc = 0;
    const char *only = x->o->v.gpu ? validate_gpu_map(x->o->v.gpu) : NULL;   /* --gpu: its line alone */
    for (int gi = 0, m = 0; gi < gpu_builtin_count() && !rc; gi++) {
        const char *gpu = gpu_builtin_name(gi);
        if (only && strcmp(only, gpu)) continue;
        fprintf(lf, "%s%s", m ? " " : "", gpu);
        fprintf(kf, "%s%s", m++ ? " " : "", measured_rows_of(x, gpu) > 0 ? "measured" : "estimate");
        char name[64];
        snprintf(name, sizeof name, "whatif-%s.dat", gpu);
        FILE *f = out_open(x, name);
        if (!f) { rc = STORE_EDB; break; }
        fprintf(f, "# %s, batch 1, 32 heads, 8 KV heads, d 128, fp16, simulator, default plans\n"
                   "# ctx streamk_over_fa2 streamk_over_split\n", gpu);
        workload w;
        for (int64_t c = 1024; c <= 512 * 1024; c *= 2) {
            wl_set(&w, 1, 32, 8, c);
            double sk = pred_default(x, gpu, 0, &w, SCHED_STREAMK, VAL_SIM);
            fprintf(f, "%lld", (long long)c);
            put_num(f, pred_default(x, gpu, 0, &w, SCHED_FA2, VAL_SIM) / sk);
            put_num(f, pred_default(x, gpu, 0, &w, SCHED_SPLIT, VAL_SIM) / sk);
            fputc('\n', f);
        }
        rc = out_close(x, f, name);
    }
    if (rc) return rc;   /* the lists are dropped with the rest (export_figure) */
    fputc('\n', lf);
    fputc('\n', kf);
    if ((rc = out_close(x, lf, "whatif.gpus"))) return rc;
    return out_close(x, kf, "whatif.kinds");
}

/* Simulated time of workload w under schedule k run by kernel profile `kernel` on chip `gpu`; NAN on refusal. */
static double pred_kernel(exp_ctx *x, const char *gpu, const char *kernel, const workload *w, int k)
{
    gpu_spec g;
    kernel_profile kp;
    char why[512];
    if (validate_spec(&g, &kp, &x->o->v, gpu, kernel, 0, 0, why, sizeof why)) return NAN;
    plan_opts po = {.kind = k};
    sim_result r;
    return sim_run(x->sim, &g, &kp, w, &po, &r, NULL, why, sizeof why) == SIM_OK ? r.time_us : NAN;
}

/*
 * The LeanAttention paper's comparison on the A100 spec, batch 1, 32 heads
 * (MHA), d = 64 and 128: LeanAttention (stream-K on FA2's split-KV costs)
 * over FlashAttention-2 without split (its forward kernel, fa2-fwd) and
 * over FlashDecoding (FA2 split-KV with its heuristic, torch-flash), and
 * the first split in two: the implementation (the forward kernel against
 * the split-KV kernel at one CTA per head) times the schedule (the same
 * split-KV kernel at one CTA per head against stream-K).
 */
static int fig_paper(exp_ctx *x)
{
    const char *gpu = x->o->v.gpu ? validate_gpu_map(x->o->v.gpu) : "a100";
    static const int dims[] = {64, 128};
    int rc = 0;
    for (int di = 0; di < 2 && !rc; di++) {
        char name[64];
        snprintf(name, sizeof name, "paper-d%d.dat", dims[di]);
        FILE *f = out_open(x, name);
        if (!f) return STORE_EDB;
        fprintf(f, "# %s, batch 1, 32 heads (MHA), d %d, fp16, simulator; speedups of LeanAttention (leanattention "
                   "profile, stream-K)\n# ctx over_fa2 over_flashdecoding implementation_share schedule_share "
                   "fa2_us fd_us lean_us\n",
                gpu, dims[di]);
        workload w;
        for (int64_t c = 1024; c <= 512 * 1024; c *= 2) {
            workload_uniform(&w, 1, 32, 32, dims[di], DTYPE_FP16, c);
            double fa2 = pred_kernel(x, gpu, "fa2-fwd", &w, SCHED_FA2);
            double fd = pred_kernel(x, gpu, "torch-flash", &w, SCHED_SPLIT);
            double lean = pred_kernel(x, gpu, "leanattention", &w, SCHED_STREAMK);
            double lean_nosplit = pred_kernel(x, gpu, "leanattention", &w, SCHED_FA2);
            fprintf(f, "%lld", (long long)c);
            put_num(f, fa2 / lean);
            put_num(f, fd / lean);
            put_num(f, fa2 / lean_nosplit);
            put_num(f, lean_nosplit / lean);
            put_num(f, fa2);
            put_num(f, fd);
            put_num(f, lean);
            fputc('\n', f);
        }
        rc = out_close(x, f, name);
    }
    return rc;
}

/* ------------------------------------------------------------ multigpu */

/* Best of split and streamk for w on `gpus` GPUs under parallelism par (simulator); NAN if neither runs. */
static double multi_best(exp_ctx *x, const gpu_spec *g, const kernel_profile *kp, const workload *w, int gpus,
                         int par)
{
    static const int ks[] = {SCHED_SPLIT, SCHED_STREAMK};
    double best = NAN;
    for (int i = 0; i < 2; i++) {
        plan_opts po = {.kind = ks[i]};
        sim_result r;
        multi_result m;
        char why[512];
        if (multi_run(multi_sim_engine, x->sim, g, kp, w, &po, gpus, par, &r, &m, why, sizeof why) == SIM_OK &&
            !(r.time_us >= best))
            best = r.time_us;
    }
    return best;
}

/*
 * multigpu-GPU.dat: kv parallelism's time over heads parallelism's against
 * context length (4k-4M), Llama-3.1-70B (64 heads, 8 KV heads), batch 1, on
 * 2, 4 and 8 GPUs of the h100 and b200 specs (simulator, the better of
 * split and streamk on each side); no measured points yet.
 */
static int fig_multigpu(exp_ctx *x)
{
    const char *gpus[] = {"h100", "b200"};
    int ng = 2, rc = 0;
    if (x->o->v.gpu) gpus[0] = validate_gpu_map(x->o->v.gpu), ng = 1;   /* one of the two (export_check) */
    for (int gi = 0; gi < ng && !rc; gi++) {
        gpu_spec g;
        kernel_profile kp;
        char name[64];
        if (spec_load(x, &g, &kp, gpus[gi], KPROF_DEFAULT, 0)) return STORE_EINPUT;
        snprintf(name, sizeof name, "multigpu-%s.dat", gpus[gi]);
        FILE *f = out_open(x, name);
        if (!f) return STORE_EDB;
        fprintf(f, "# %s, Llama-3.1-70B attention (64 heads, 8 KV heads, d 128, fp16), batch 1, simulator,\n"
                   "# link %.0f GB/s, %.1f us; kv time / heads time (below 1: kv parallelism wins)\n"
                   "# ctx gpus2 gpus4 gpus8\n", gpus[gi], g.link_gbps, g.link_latency_us);
        workload w;
        for (int64_t c = 4096; c <= 4 * 1024 * 1024; c *= 2) {
            workload_uniform(&w, 1, 64, 8, 128, DTYPE_FP16, c);
            fprintf(f, "%lld", (long long)c);
            for (int n = 2; n <= 8; n *= 2)
                put_num(f, multi_best(x, &g, &kp, &w, n, MULTI_KV) / multi_best(x, &g, &kp, &w, n, MULTI_HEADS));
            fputc('\n', f);
        }
        rc = out_close(x, f, name);
    }
    return rc;
}

/* 1 when `name` is one of the NULL-terminated list. */
static int one_of(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(name, *list)) return 1;
    return 0;
}

int export_check(sqlite3 *db, const char *fig, const char *dir, const export_opts *o, char *err, int errlen)
{
    struct stat sb;
    if (!stat(dir, &sb) && !S_ISDIR(sb.st_mode)) {
        snprintf(err, (size_t)errlen, "--out %s: not a directory", dir);
        return STORE_EINPUT;
    }
    if (!one_of(fig, export_figures)) {
        snprintf(err, (size_t)errlen, "unknown figure '%s'", fig);
        return STORE_EINPUT;
    }
    const char *gpu = o->v.gpu ? validate_gpu_map(o->v.gpu) : NULL;
    if (o->v.gpu && !gpu) {
        snprintf(err, (size_t)errlen, "--gpu %s: unknown GPU (leansim gpus lists them)", o->v.gpu);
        return STORE_EINPUT;
    }
    int vrc = validate_opts_check(&o->v, err, errlen);   /* a bad --spec, --kernel or --set, before any file */
    if (vrc) return vrc;
    /* figures of fixed GPUs (their scripts read those files) take one of them as --gpu */
    static const char *const cdf_gpus[] = {"h100", "h200", NULL}, *const multi_gpus[] = {"h100", "b200", NULL};
    const char *const *fixed = !strcmp(fig, "cdf") ? cdf_gpus : !strcmp(fig, "multigpu") ? multi_gpus : NULL;
    if (gpu && fixed && !one_of(gpu, fixed)) {
        snprintf(err, (size_t)errlen, "--gpu %s: figure %s draws %s and %s only", o->v.gpu, fig, fixed[0], fixed[1]);
        return STORE_EINPUT;
    }
    /* figures that compare chips: one spec file for every chip would draw the same line under each name */
    if (o->v.spec && !gpu && (!strcmp(fig, "whatif") || !strcmp(fig, "multigpu"))) {
        snprintf(err, (size_t)errlen, "--spec %s: figure %s compares chip specs; name the chip it replaces with --gpu",
                 o->v.spec, fig);
        return STORE_EINPUT;
    }
    /* a profile the figure never runs */
    static const char *const paper_kernels[] = {"fa2-fwd", "torch-flash", "leanattention", NULL},
                             *const own[] = {KPROF_DEFAULT, NULL};
    const char *const *kernels = !strcmp(fig, "paper") ? paper_kernels : own;
    for (int i = 0; i < o->v.n_kernel; i++) {
        kernel_profile k;
        if (kprof_load(&k, o->v.kernel[i], err, errlen) != KPROF_OK) return STORE_EINPUT;
        if (!one_of(k.name, kernels)) {
            snprintf(err, (size_t)errlen, "--kernel %s: figure %s does not run profile '%s'", o->v.kernel[i], fig,
                     k.name);
            return STORE_EINPUT;
        }
    }
    /* the inputs a figure reads: the measured timeline, the stored predictions */
    if (!strcmp(fig, "timeline")) {
        static tl_input in;
        int rc = tl_input_read(&in, o, err, errlen);
        tl_input_free(&in);
        return rc;
    }
    if (!strcmp(fig, "scatter") || !strcmp(fig, "cdf")) {
        exp_ctx x = {db, dir, o, err, errlen, NULL, NULL, NULL};
        validate_row *rows;
        int n = load_rows(&x, &rows, 1);
        if (n < 0) return n;
        free(rows);
    }
    return STORE_OK;
}

int export_figure(sqlite3 *db, const char *fig, const char *dir, const export_opts *o, char *err, int errlen)
{
    static const struct {
        const char *name;
        int (*fn)(exp_ctx *);
    } figs[] = {{"speedup", fig_speedup},   {"scatter", fig_scatter}, {"cdf", fig_cdf},      {"scaling", fig_scaling},
                {"timeline", fig_timeline}, {"tuner", fig_tuner},     {"whatif", fig_whatif},
                {"paper", fig_paper},       {"multigpu", fig_multigpu}};
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
        if (strcmp(fig, figs[i].name)) continue;
        if (mkdir(dir, 0777) && errno != EEXIST) {
            snprintf(err, (size_t)errlen, "--out %s: %s", dir, strerror(errno));
            return STORE_EINPUT;
        }
        static fmt_file slots[8];   /* large (two paths each): not on the stack */
        memset(slots, 0, sizeof slots);
        exp_ctx x = {db, dir, o, err, errlen, sim_ctx_alloc(), NULL, slots};
        if (!x.sim) {
            snprintf(err, (size_t)errlen, "out of memory");
            return STORE_EDB;
        }
        int rc = figs[i].fn(&x);
        for (int k = 0; k < 8; k++)   /* a file a failed figure left open: not written */
            if (x.out[k].f) fmt_file_abort(&x.out[k]);
        sqlite3_finalize(x.q);
        sim_ctx_free(x.sim);
        return rc;
    }
    snprintf(err, (size_t)errlen, "unknown figure '%s'", fig);
    return STORE_EINPUT;
}
