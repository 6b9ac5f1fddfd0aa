/*
 * validate.c: measured rows against both engines (see model.h).
 *
 * A measured row says which schedule ran, on how many SMs, with which plan
 * options asked (req_block_n, req_splits, req_grid, req_cps: the runner's
 * CSV format 2), which plan they built (tile length, CTA count, splits) and
 * the resident CTAs per SM of the kernel.  To predict that very run, the
 * shared planner rebuilds the plan from the options asked, with the
 * measured residency, and the result is checked against the plan recorded:
 * nothing is searched.  Rows of format 1 files (every measurement committed
 * before format 2) do not say what was asked: for them alone,
 * legacy_match_plan searches the options that rebuild the recorded plan,
 * and validate says how many rows took that path.  One rule of the planner
 * changed after rows were measured under it: a balanced plan's wave was
 * every resident CTA, whatever the CTAs per SM asked; such rows are
 * rebuilt by that rule, and counted.  A row whose plan cannot be rebuilt
 * is still predicted, and counted.
 *
 * The GPU name the driver reports maps to a spec name in one table here
 * (validate_gpu_map); report and export use the same function.
 */
#include "results.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* Driver names to spec names, matched on whole words of the name: every
 * word of `words` must be there and no word of `not`, so that a GH200 is
 * no H200 and an H100 NVL no H100 SXM.  The more specific ones come first. */
static const struct {
    const char *words[3];
    const char *not[3];
    const char *spec;
} gpu_map[] = {
    {{"H100", "PCIe"}, {NULL}, "h100-pcie"},
    {{"H100"}, {"NVL", "PCIe"}, "h100"},
    {{"H200"}, {"NVL"}, "h200"},
    {{"A100"}, {"PCIe"}, "a100"},
    {{"B200"}, {NULL}, "b200"},
    {{"L40S"}, {NULL}, "l40s"},
    {{"RTX", "4090"}, {NULL}, "rtx4090"},
};

/* 1 when word w (case as given) is a whole word of name. */
static int has_word(const char *name, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = name; (p = strstr(p, w)) != NULL; p++) {
        int start = p == name || p[-1] == ' ' || p[-1] == '-';
        int end = p[n] == 0 || p[n] == ' ' || p[n] == '-';
        if (start && end) return 1;
    }
    return 0;
}

const char *validate_gpu_map(const char *name)
{
    if (!name) return NULL;
    for (int i = 0; i < gpu_builtin_count(); i++)
        if (!strcmp(name, gpu_builtin_name(i))) return gpu_builtin_name(i);
    for (size_t i = 0; i < sizeof gpu_map / sizeof gpu_map[0]; i++) {
        int ok = 1;
        for (int k = 0; k < 3 && gpu_map[i].words[k]; k++) ok &= has_word(name, gpu_map[i].words[k]);
        for (int k = 0; k < 3 && gpu_map[i].not[k]; k++) ok &= !has_word(name, gpu_map[i].not[k]);
        if (ok) return gpu_map[i].spec;
    }
    return NULL;
}

static int is_builtin(const char *name)
{
    for (int i = 0; i < gpu_builtin_count(); i++)
        if (!strcmp(name, gpu_builtin_name(i))) return 1;
    return 0;
}

int validate_spec(gpu_spec *g, kernel_profile *k, const validate_opts *o, const char *gpu, const char *kernel, int sms,
                  int graph, char *err, int errlen)
{
    char why[512];
    const char *src = o && o->spec ? o->spec : gpu;
    const char *ksrc = kernel;
    for (int i = 0; o && i < o->n_kernel; i++) {
        kernel_profile t;
        if (kprof_load(&t, o->kernel[i], why, sizeof why) != KPROF_OK) {
            snprintf(err, (size_t)errlen, "%s", why);
            return STORE_EINPUT;
        }
        if (!strcmp(t.name, kernel)) {
            if (ksrc != kernel) {   /* two files for one kernel: which one predicts its rows is no guess */
                snprintf(err, (size_t)errlen, "--kernel %s: a second profile of kernel %s (after --kernel %s)",
                         o->kernel[i], kernel, ksrc);
                return STORE_EINPUT;
            }
            ksrc = o->kernel[i];
        }
    }
    if (kprof_pair_load(g, k, src, ksrc, o ? o->set : NULL, o ? o->n_set : 0, why, sizeof why) != KPROF_OK) {
        const char *rest = o && o->spec && strstr(why, "--gpu ") == why ? strstr(why, ": ") : NULL;
        if (rest) snprintf(err, (size_t)errlen, "--spec %s: %s", o->spec, rest + 2);
        else snprintf(err, (size_t)errlen, "%s", why);
        return STORE_EINPUT;
    }
    if (sms > 0 && sms != g->sms) {
        char a[32];
        snprintf(a, sizeof a, "sms=%d", sms);
        if (gpu_spec_set(g, a, why, sizeof why) != GPU_OK) {
            snprintf(err, (size_t)errlen, "%s: %s", gpu, why);
            return STORE_EINPUT;
        }
    }
    if (graph) {
        g->launch_us = g->graph_launch_us;
        g->hash ^= 0x6a09e667f3bcc909ULL;
    }
    g->hash = kprof_pair_hash(g, k);
    return 0;
}

store_key validate_key(const validate_row *r, const gpu_spec *g, const kernel_profile *kp, int e)
{
    (void)kp;   /* g->hash is the pair's (validate_spec) */
    store_key k = {r->gpu,        g->hash,      g->sms,         &r->w,          r->po.kind, r->po.block_n,
                   r->po.splits, r->po.grid,    r->po.ctas_per_sm, model_engines[e].name, r->label};
    return k;
}

/* Parses "a" or "a;b;c" into w->ctx; returns 0 or -1. */
static int parse_ctx(workload *w, const char *s)
{
    int m = 0;
    const char *p = s;
    while (*p && m < WL_MAX_BATCH) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p) return -1;
        w->ctx[m++] = v;
        if (*end != ';') break;
        p = end + 1;
    }
    if (m == 1) {
        for (int q = 1; q < w->batch && q < WL_MAX_BATCH; q++) w->ctx[q] = w->ctx[0];
        w->ragged = 0;
    } else {
        if (m != w->batch) return -1;
        w->ragged = 1;
    }
    return 0;
}

/* Resident CTAs per SM of row r: the runner's ctas_per_sm column (the
 * kernel's occupancy), or when 0 (not reported) the simulator's own
 * occupancy on spec g with the row's SMs. */
static int row_resident(const validate_row *r, int cps_column, const gpu_spec *g, const kernel_profile *kp)
{
    if (cps_column > 0) return cps_column;
    gpu_spec s = *g;
    s.sms = r->sms;
    return sim_resident_per_sm(&s, kp, &r->w, r->po.block_n);
}

/*
 * Rows that recorded the options asked (r->po holds them): the plan is
 * built from them with the measured residency, once, and checked against
 * the plan that ran (CTA count, splits, tile length, and the CTAs per SM it
 * assumed when recorded, plan_cps > 0).
 */
static void rebuild_plan(plan *p, validate_row *r, int resident, int plan_cps)
{
    r->resident = resident;
    r->po.resident = resident;
    r->plan_ok = resident > 0 && plan_build(p, &r->w, &r->po, r->sms, resident) == PLAN_OK && p->grid == r->ctas &&
                 p->splits == r->splits && p->block_n == r->block_n && (plan_cps <= 0 || p->ctas_per_sm == plan_cps);
}

/*
 * Legacy path, for rows of runner CSV format 1 only (no options asked
 * recorded): chooses r->po so that the planner rebuilds the measured plan,
 * by search.  First the planner's defaults are tried with the measured
 * residency, then the residency as the planned CTAs per SM; for stream-K
 * and hybrid, the measured CTA count and the runner's default grids.
 */
static void legacy_match_plan(plan *p, validate_row *r, const gpu_spec *g, const kernel_profile *kp)
{
    const int k = r->po.kind;
    const int resident = row_resident(r, r->po.ctas_per_sm, g, kp);
    int cand[4], nc = 0;
    if (k == SCHED_STREAMK) {
        cand[nc++] = r->ctas;
    } else if (k == SCHED_HYBRID) {
        cand[nc++] = 2 * r->sms;
        cand[nc++] = r->ctas;
        cand[nc++] = r->sms;
    } else {
        cand[nc++] = 0;
    }
    r->plan_ok = 0;
    plan_opts base = r->po;
    for (int v = 0; v < 2 && resident > 0; v++)
        for (int i = 0; i < nc; i++) {
            plan_opts po = base;
            po.grid = cand[i];
            po.ctas_per_sm = v == 0 ? 0 : resident;
            if (plan_build(p, &r->w, &po, r->sms, resident) != PLAN_OK) continue;
            if (p->grid == r->ctas && p->splits == r->splits && p->block_n == r->block_n) {
                po.resident = resident;
                r->po = po;
                r->resident = resident;
                r->plan_ok = 1;
                return;
            }
        }
    r->po.grid = cand[0];
    r->po.resident = resident;
    r->resident = resident;
}

int validate_rows_load(sqlite3 *db, const validate_opts *o, validate_row **out, validate_stats *st, char *err,
                       int errlen)
{
    *out = NULL;
    if (o && o->gpu && !is_builtin(o->gpu)) {
        snprintf(err, (size_t)errlen, "--gpu %s: unknown GPU (leansim gpus lists them)", o->gpu);
        return STORE_EINPUT;
    }
    sqlite3_stmt *q = NULL;
    /* a database of before the runner's CSV format 2, opened read-only (not migrated), has no
     * columns of the options asked: all its rows take the legacy path */
    sqlite3_stmt *probe = NULL;
    int fmt2 = sqlite3_prepare_v2(db, "SELECT req_block_n, req_splits, req_grid, req_cps, plan_cps FROM measurements",
                                  -1, &probe, NULL) == SQLITE_OK;
    sqlite3_finalize(probe);
#define ROW_COLS "SELECT id, gpu, sms, schedule, batch, heads, kv_heads, head_dim, dtype, ctx, block_n, ctas, splits, " \
                 "ctas_per_sm, time_us, graph_us, "
    if (sqlite3_prepare_v2(db,
                           fmt2 ? ROW_COLS "req_block_n, req_splits, req_grid, req_cps, plan_cps FROM measurements "
                                           "ORDER BY id"
                                : ROW_COLS "NULL, NULL, NULL, NULL, NULL FROM measurements ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK) {
        snprintf(err, (size_t)errlen, "sqlite: %s (reading measurements)", sqlite3_errmsg(db));
        return STORE_EDB;
    }
#undef ROW_COLS
    plan *p = plan_alloc();
    validate_row *rows = NULL;
    int n = 0, cap = 0, rc;
    if (!p) goto oom;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *sname = (const char *)sqlite3_column_text(q, 3);
        int k = sched_parse(sname);
        kernel_profile kp;
        char why[256];
        if (k >= 0) {
            if (kprof_load(&kp, KPROF_DEFAULT, why, sizeof why) != KPROF_OK) continue;
        } else {   /* an outside kernel: predicted under the profile of its name, if one is shipped */
            if (kprof_load(&kp, sname, why, sizeof why) != KPROF_OK || (k = kprof_schedule_kind(&kp)) < 0) {
                if (st) st->no_profile++;
                continue;
            }
        }
        const char *spec = validate_gpu_map((const char *)sqlite3_column_text(q, 1));
        if (!spec) {
            if (st) st->unknown_gpu++;
            continue;
        }
        if (o && o->gpu && strcmp(spec, o->gpu)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            validate_row *nr = realloc(rows, sizeof *rows * (size_t)cap);
            if (!nr) goto oom;
            rows = nr;
        }
        validate_row *r = &rows[n];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(q, 0);
        snprintf(r->gpu, sizeof r->gpu, "%s", spec);
        r->sms = sqlite3_column_int(q, 2);
        r->w.batch = sqlite3_column_int(q, 4);
        r->w.heads = sqlite3_column_int(q, 5);
        r->w.kv_heads = sqlite3_column_int(q, 6);
        r->w.head_dim = sqlite3_column_int(q, 7);
        r->w.dtype = dtype_parse((const char *)sqlite3_column_text(q, 8));
        if (r->w.batch < 1 || r->w.batch > WL_MAX_BATCH || r->w.dtype < 0 ||
            parse_ctx(&r->w, (const char *)sqlite3_column_text(q, 9)) || workload_check(&r->w, NULL, 0))
            continue;
        snprintf(r->kernel, sizeof r->kernel, "%s", kp.name);
        snprintf(r->label, sizeof r->label, "%s", kprof_is_default(&kp) ? sched_name(k) : kp.name);
        r->po.kind = k;
        r->block_n = sqlite3_column_int(q, 10);
        r->ctas = sqlite3_column_int(q, 11);
        r->splits = sqlite3_column_int(q, 12);
        const int cps_column = sqlite3_column_int(q, 13);
        int asked = 1;   /* the row recorded the options asked (format 2) */
        for (int c = 16; c <= 19; c++) asked &= sqlite3_column_type(q, c) != SQLITE_NULL;
        if (asked) {
            r->po.block_n = sqlite3_column_int(q, 16);
            r->po.splits = sqlite3_column_int(q, 17);
            r->po.grid = sqlite3_column_int(q, 18);
            r->po.ctas_per_sm = sqlite3_column_int(q, 19);
        } else {   /* legacy_match_plan's starting point */
            r->po.block_n = r->block_n;
            r->po.splits = k == SCHED_SPLIT ? r->splits : 0;
            r->po.ctas_per_sm = cps_column;
        }
        r->time_us = sqlite3_column_double(q, 14);
        if (!kprof_is_default(&kp)) {
            /* like for like: an outside kernel's per-call time at short contexts is mostly the
             * framework's launch cost, so its rows are its CUDA-graph replay times */
            r->time_us = sqlite3_column_double(q, 15);
            r->graph = 1;
            r->po.ctas_per_sm = 0;
        }
        r->pred_us[VAL_SIM] = r->pred_us[VAL_MODEL] = NAN;
        gpu_spec full;
        if (gpu_spec_load(&full, spec, why, sizeof why) != GPU_OK) continue;
        r->full_sms = full.sms;
        if (r->sms < 1 || r->time_us <= 0) continue;
        if (r->graph) {
            r->plan_ok = 1;   /* no plan columns to match: the profile's rules make the plan */
            r->resident = sim_resident_per_sm(&full, &kp, &r->w, 0);
            if (kprof_schedule_kind(&kp) == SCHED_SPLIT && strcmp(kp.single, "none")) {
                /* one split: the library ran its other kernel, whose profile predicts (and fits) the row */
                plan_opts po = r->po;
                kprof_plan_opts(&kp, &r->w, &po);
                if (r->resident > 0 && plan_build(p, &r->w, &po, r->sms, r->resident) == PLAN_OK && p->splits == 1) {
                    snprintf(r->kernel, sizeof r->kernel, "%s", kp.single);
                    r->po.kind = SCHED_FA2;
                    kernel_profile k1;
                    if (kprof_load(&k1, kp.single, why, sizeof why) == KPROF_OK)
                        r->resident = sim_resident_per_sm(&full, &k1, &r->w, 0);
                }
            }
        } else if (asked) {
            rebuild_plan(p, r, row_resident(r, cps_column, &full, &kp), sqlite3_column_int(q, 20));
            if (!r->plan_ok && k == SCHED_BALANCED && r->po.ctas_per_sm > 0) {
                /* measured while the runner sized a balanced plan's wave by every resident
                 * CTA, whatever the CTAs per SM asked: rebuilt by that rule */
                const plan_opts asked_po = r->po;
                r->po.ctas_per_sm = r->resident;
                rebuild_plan(p, r, r->resident, 0);
                if (r->plan_ok && st) st->earlier_rule++;
                if (!r->plan_ok) {
                    r->po = asked_po;
                    rebuild_plan(p, r, row_resident(r, cps_column, &full, &kp), sqlite3_column_int(q, 20));
                }
            }
        } else {
            legacy_match_plan(p, r, &full, &kp);
            if (st) st->legacy++;
        }
        if (st && !r->plan_ok) st->plan_mismatch++;
        n++;
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, (size_t)errlen, "sqlite: %s (reading measurements)", sqlite3_errmsg(db));
        sqlite3_finalize(q);
        plan_free(p);
        free(rows);
        return STORE_EDB;
    }
    sqlite3_finalize(q);
    plan_free(p);
    if (st) st->rows = n;
    *out = rows;
    return n;
oom:
    snprintf(err, (size_t)errlen, "out of memory");
    sqlite3_finalize(q);
    plan_free(p);
    free(rows);
    return STORE_EDB;
}

/* Pairs measured row r with its stored predictions (one per engine that ran). */
static int pair_row(sqlite3 *db, const validate_row *r, const store_key *k0, const store_key *k1, char *err, int errlen)
{
    const store_key *k[2] = {k0, k1};
    for (int e = 0; e < 2; e++) {
        int64_t id = store_prediction_id(db, k[e]);
        if (id < 0) {
            snprintf(err, (size_t)errlen, "sqlite: %s (lookup)", sqlite3_errmsg(db));
            return STORE_EDB;
        }
        if (id > 0 && store_pairing_put(db, r->id, id, r->time_us, err, errlen)) return STORE_EDB;
    }
    return STORE_OK;
}

int validate_opts_check(const validate_opts *o, char *err, int errlen)
{
    gpu_spec g;
    kernel_profile k;
    if (!o) return STORE_OK;
    for (int i = 0; i < o->n_kernel; i++) {   /* each file loads, and no two are of one kernel (validate_spec) */
        kernel_profile a;
        char why[512];
        if (kprof_load(&a, o->kernel[i], why, sizeof why) != KPROF_OK) {
            snprintf(err, (size_t)errlen, "%s", why);
            return STORE_EINPUT;
        }
        if (validate_spec(&g, &k, o, "h100", a.name, 0, 0, err, errlen)) return STORE_EINPUT;
    }
    return validate_spec(&g, &k, o, "h100", KPROF_DEFAULT, 0, 0, err, errlen);
}

int validate_run(sqlite3 *db, const validate_opts *o, validate_stats *st, char *err, int errlen)
{
    memset(st, 0, sizeof *st);
    int vrc = validate_opts_check(o, err, errlen);   /* a bad --spec, --kernel or --set, before any row */
    if (vrc) return vrc;
    validate_row *rows;
    int n = validate_rows_load(db, o, &rows, st, err, errlen);
    if (n < 0) return n;
    for (int i = 0; o && i < o->n_kernel && !st->unused_kernel; i++) {   /* a profile no row is of */
        kernel_profile t;
        char why[512];
        if (kprof_load(&t, o->kernel[i], why, sizeof why) != KPROF_OK) continue;
        int used = 0;
        for (int r = 0; r < n && !used; r++) used = !strcmp(rows[r].kernel, t.name);
        if (!used) st->unused_kernel = o->kernel[i];
    }
    sim_ctx *c = sim_ctx_alloc();
    int rc = STORE_OK, in_tx = 0;
    int64_t run_id = 0;
    if (!c) {
        snprintf(err, (size_t)errlen, "out of memory");
        rc = STORE_EDB;
        goto done;
    }
    /* check every spec before the first write: bad input leaves the database untouched */
    for (int i = 0; i < n; i++) {
        gpu_spec g;
        kernel_profile kp;
        if ((rc = validate_spec(&g, &kp, o, rows[i].gpu, rows[i].kernel, rows[i].sms, rows[i].graph, err, errlen)))
            goto done;
    }
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, (size_t)errlen, "sqlite: %s (begin)", sqlite3_errmsg(db));
        rc = STORE_EDB;
        goto done;
    }
    in_tx = 1;
    for (int i = 0; i < n; i++) {
        validate_row *r = &rows[i];
        gpu_spec g;
        kernel_profile kp;
        if (o && o->progress && (i % 500 == 0 || i == n - 1)) {
            fprintf(o->progress, "\rvalidate: %d/%d rows   ", i + 1, n);
            fflush(o->progress);
        }
        validate_spec(&g, &kp, o, r->gpu, r->kernel, r->sms, r->graph, err, errlen);
        store_key k0 = validate_key(r, &g, &kp, VAL_SIM), k1 = validate_key(r, &g, &kp, VAL_MODEL);
        int h0 = store_prediction_has(db, &k0), h1 = store_prediction_has(db, &k1);
        if (h0 < 0 || h1 < 0) {
            snprintf(err, (size_t)errlen, "sqlite: %s (lookup)", sqlite3_errmsg(db));
            rc = STORE_EDB;
            goto done;
        }
        if (h0 && h1) {   /* a re-run: nothing to add but the pairings, no runs row */
            st->present += 2;
            if (pair_row(db, r, &k0, &k1, err, errlen)) {
                rc = STORE_EDB;
                goto done;
            }
            continue;
        }
        if (!run_id) {
            char args[512];
            snprintf(args, sizeof args, "validate%s%s%s%s", o && o->gpu ? " --gpu " : "", o && o->gpu ? o->gpu : "",
                     o && o->spec ? " --spec " : "", o && o->spec ? o->spec : "");
            if (store_run_begin(db, "validate", args, &g, &run_id, err, errlen)) {
                rc = STORE_EDB;
                goto done;
            }
        }
        for (int e = 0; e < VAL_ENGINES; e++) {
            sim_result res;
            char why[512];
            int src = model_engines[e].run(c, &g, &kp, &r->w, &r->po, &res, why, sizeof why);
            if (src == SIM_ENOMEM) {
                snprintf(err, (size_t)errlen, "out of memory");
                rc = STORE_EDB;
                goto done;
            }
            if (src != SIM_OK) {
                st->failed++;
                continue;
            }
            r->pred_us[e] = res.time_us;
            store_key key = validate_key(r, &g, &kp, e);
            int put = store_prediction_put(db, run_id, &key, &res, err, errlen);
            if (put < 0) {
                rc = STORE_EDB;
                goto done;
            }
            st->added += put;
            st->present += !put;
        }
        if (pair_row(db, r, &k0, &k1, err, errlen)) {
            rc = STORE_EDB;
            goto done;
        }
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, (size_t)errlen, "sqlite: %s (commit)", sqlite3_errmsg(db));
        rc = STORE_EDB;
        goto done;
    }
    in_tx = 0;
done:
    if (o && o->progress && n > 0) fprintf(o->progress, "\r%40s\r", "");
    if (in_tx) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sim_ctx_free(c);
    free(rows);
    return rc;
}

int validate_lookup(sqlite3 *db, const validate_opts *o, validate_row *rows, int n, char *err, int errlen)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT time_us FROM predictions WHERE gpu=? AND spec_hash=? AND engine=? AND schedule=? "
                           "AND batch=? AND heads=? AND kv_heads=? AND head_dim=? AND dtype=? AND ctx=? AND "
                           "req_block_n=? AND req_splits=? AND req_grid=? AND req_cps=?",
                           -1, &q, NULL) != SQLITE_OK) {
        snprintf(err, (size_t)errlen, "sqlite: %s (reading predictions)", sqlite3_errmsg(db));
        return STORE_EDB;
    }
    int found = 0;
    char ctx[16384], hash[24];
    for (int i = 0; i < n; i++) {
        validate_row *r = &rows[i];
        gpu_spec g;
        kernel_profile kp;
        char why[512];
        r->pred_us[VAL_SIM] = r->pred_us[VAL_MODEL] = NAN;
        if (validate_spec(&g, &kp, o, r->gpu, r->kernel, r->sms, r->graph, why, sizeof why)) continue;
        snprintf(hash, sizeof hash, "%016llx", (unsigned long long)g.hash);
        store_ctx_text(&r->w, ctx, sizeof ctx);
        for (int e = 0; e < VAL_ENGINES; e++) {
            sqlite3_reset(q);
            int b = 1;
            sqlite3_bind_text(q, b++, r->gpu, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(q, b++, hash, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(q, b++, model_engines[e].name, -1, SQLITE_STATIC);
            sqlite3_bind_text(q, b++, r->label, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(q, b++, r->w.batch);
            sqlite3_bind_int(q, b++, r->w.heads);
            sqlite3_bind_int(q, b++, r->w.kv_heads);
            sqlite3_bind_int(q, b++, r->w.head_dim);
            sqlite3_bind_text(q, b++, dtype_name(r->w.dtype), -1, SQLITE_STATIC);
            sqlite3_bind_text(q, b++, ctx, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(q, b++, r->po.block_n);
            sqlite3_bind_int(q, b++, r->po.splits);
            sqlite3_bind_int(q, b++, r->po.grid);
            sqlite3_bind_int(q, b++, r->po.ctas_per_sm);
            int s = sqlite3_step(q);
            if (s == SQLITE_ROW) {
                r->pred_us[e] = sqlite3_column_double(q, 0);
                found++;
            } else if (s != SQLITE_DONE) {
                snprintf(err, (size_t)errlen, "sqlite: %s (reading predictions)", sqlite3_errmsg(db));
                sqlite3_finalize(q);
                return STORE_EDB;
            }
        }
    }
    sqlite3_finalize(q);
    return found;
}
