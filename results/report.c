/*
 * report.c: how well the simulator and the closed-form model predict the
 * measured rows (see model.h).  Reads the measured rows and the predictions
 * `leansim validate` stored for them; computes nothing it could read.
 *
 * Errors are absolute percentage errors of time, |predicted / measured - 1|.
 * A configuration is a workload on one GPU and SM count; where one was
 * measured under two or more schedules the report asks whether the engine
 * picks the measured fastest, and what its pick costs (regret).
 *
 * Held-out calibration (--holdout): each configuration's FNV-1a hash
 * decides its half, even -> fit, odd -> test, so repeated measurements of
 * one configuration never straddle the halves.  calib_fit fits the spec on
 * the even half of each GPU's full-SM rows; the report gives the error on
 * the odd half before and after.
 */
#include "results.h"
#include "fmt.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>


static double ape_pct(const validate_row *r, int e)
{
    return 100.0 * fabs(r->pred_us[e] / r->time_us - 1.0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void report_errors(const validate_row *const *rows, int n, int e, report_err *out)
{
    memset(out, 0, sizeof *out);
    double *v = malloc(sizeof(double) * (size_t)(n + 1));
    if (!v) return;
    double s = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(rows[i]->pred_us[e])) s += v[out->n++] = ape_pct(rows[i], e);
    if (out->n) {
        qsort(v, (size_t)out->n, sizeof *v, cmp_double);
        out->mape_pct = s / out->n;
        int k = (int)ceil(0.95 * out->n) - 1;   /* nearest rank */
        out->p95_pct = v[k < 0 ? 0 : k];
        out->max_pct = v[out->n - 1];
    } else {
        out->mape_pct = out->p95_pct = out->max_pct = NAN;
    }
    free(v);
}

static int same_config(const validate_row *a, const validate_row *b)
{
    return a->sms == b->sms && !strcmp(a->gpu, b->gpu) && workload_same(&a->w, &b->w);
}

/*
 * Calls fn on each configuration (rows of one workload, GPU and SM count
 * that engine e predicted), with its members in rows' order.
 */
typedef void (*group_fn)(const validate_row *const *m, int k, int e, void *arg);

static void for_each_config(const validate_row *const *rows, int n, int e, group_fn fn, void *arg)
{
    char *seen = calloc((size_t)n + 1, 1);
    const validate_row **m = malloc(sizeof *m * (size_t)(n + 1));
    if (!seen || !m) goto done;
    for (int i = 0; i < n; i++) {
        if (seen[i] || !isfinite(rows[i]->pred_us[e])) continue;
        int k = 0;
        for (int j = i; j < n; j++)
            if (!seen[j] && isfinite(rows[j]->pred_us[e]) && same_config(rows[i], rows[j])) {
                seen[j] = 1;
                m[k++] = rows[j];
            }
        fn(m, k, e, arg);
    }
done:
    free(seen);
    free(m);
}

typedef struct choice_acc {
    int configs, agree, near;
    double regret_sum, regret_max;
} choice_acc;

static void choice_group(const validate_row *const *m, int k, int e, void *arg)
{
    choice_acc *a = arg;
    int two = 0;
    for (int i = 1; i < k; i++)
        if (m[i]->po.kind != m[0]->po.kind) two = 1;
    if (!two) return;
    int best = 0, pick = 0;
    for (int i = 1; i < k; i++) {
        if (m[i]->time_us < m[best]->time_us) best = i;
        if (m[i]->pred_us[e] < m[pick]->pred_us[e]) pick = i;
    }
    double regret = 100.0 * (m[pick]->time_us / m[best]->time_us - 1.0);
    a->configs++;
    a->agree += m[pick]->po.kind == m[best]->po.kind;
    a->near += regret <= 1.0;
    a->regret_sum += regret;
    if (regret > a->regret_max) a->regret_max = regret;
}

void report_choices(const validate_row *const *rows, int n, int e, report_choice *out)
{
    choice_acc a = {0, 0, 0, 0, 0};
    for_each_config(rows, n, e, choice_group, &a);
    memset(out, 0, sizeof *out);
    out->configs = a.configs;
    if (a.configs) {
        out->agree_frac = (double)a.agree / a.configs;
        out->near_frac = (double)a.near / a.configs;
        out->regret_mean_pct = a.regret_sum / a.configs;
        out->regret_max_pct = a.regret_max;
    } else {
        out->agree_frac = out->near_frac = out->regret_mean_pct = out->regret_max_pct = NAN;
    }
}

typedef struct speedup_acc {
    int schedule, n;
    double sum, max;
} speedup_acc;

/* The fastest measured row of schedule k in a configuration, or NULL. */
static const validate_row *fastest_of(const validate_row *const *m, int n, int k)
{
    const validate_row *b = NULL;
    for (int i = 0; i < n; i++)
        if (m[i]->po.kind == k && (!b || m[i]->time_us < b->time_us)) b = m[i];
    return b;
}

static void speedup_group(const validate_row *const *m, int k, int e, void *arg)
{
    speedup_acc *a = arg;
    const validate_row *f = fastest_of(m, k, SCHED_FA2), *s = fastest_of(m, k, a->schedule);
    if (!f || !s) return;
    double meas = f->time_us / s->time_us, pred = f->pred_us[e] / s->pred_us[e];
    double err = 100.0 * fabs(pred / meas - 1.0);
    a->n++;
    a->sum += err;
    if (err > a->max) a->max = err;
}

void report_speedups(const validate_row *const *rows, int n, int e, int schedule, report_speedup *out)
{
    speedup_acc a = {schedule, 0, 0, 0};
    for_each_config(rows, n, e, speedup_group, &a);
    out->n = a.n;
    out->err_mean_pct = a.n ? a.sum / a.n : NAN;
    out->err_max_pct = a.n ? a.max : NAN;
}

int report_row_heldout(const validate_row *r)
{
    char buf[16384];
    int m = snprintf(buf, sizeof buf, "%s,%d,%s,%d,%d,%d,%d,%s,", r->gpu, r->sms, r->label, r->w.batch,
                     r->w.heads, r->w.kv_heads, r->w.head_dim, dtype_name(r->w.dtype));
    store_ctx_text(&r->w, buf + m, (int)sizeof buf - m);
    m = (int)strlen(buf);
    snprintf(buf + m, sizeof buf - (size_t)m, ",%d,%d,%d,%d", r->block_n, r->ctas, r->splits, r->po.ctas_per_sm);
    return (int)(gpu_hash_text(buf) & 1);
}

/* ------------------------------------------------------------ printing */

/* The report as a table, or as one JSON object (sim/fmt.h) whose lists
 * hold one object a line: the same calls write either. */
typedef struct jw {
    FILE *f;
    int json;
    fmt_json w;        /* the JSON writer (json) */
} jw;

static void list_begin(jw *j, const char *key, const char *table_head)
{
    if (j->json) fmt_json_arr(&j->w, key);
    else fprintf(j->f, "%s\n", table_head);
}

static void list_end(jw *j)
{
    if (j->json) fmt_json_close(&j->w);
    else fputc('\n', j->f);
}

static void obj_begin(jw *j)
{
    if (j->json) fmt_json_obj(&j->w, NULL);
}

static void obj_end(jw *j)
{
    if (j->json) fmt_json_close(&j->w);
    else fputc('\n', j->f);
}

/* One field: "key": value in JSON, a column in the table ("-" when not finite). */
static void fld_s(jw *j, int first, const char *key, int width, const char *v)
{
    (void)first;
    if (j->json) fmt_json_str(&j->w, key, v);
    else fprintf(j->f, "%-*s", width, v);
}

static void fld_i(jw *j, const char *key, int width, int v)
{
    if (j->json) fmt_json_int(&j->w, key, v);
    else fprintf(j->f, "%*d", width, v);
}

static void fld_d(jw *j, const char *key, int width, int prec, double v)
{
    if (j->json) fmt_json_num(&j->w, key, v, prec);
    else if (!isfinite(v)) fprintf(j->f, "%*s", width, "-");
    else fprintf(j->f, "%*.*f", width, prec, v);
}

/* Distinct GPUs of rows, in order of first appearance. */
static int gpus_of(const validate_row *rows, int n, const char **out, int max)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        int have = 0;
        for (int j = 0; j < k; j++)
            if (!strcmp(out[j], rows[i].gpu)) have = 1;
        if (!have && k < max) out[k++] = rows[i].gpu;
    }
    return k;
}

/* Pointers to the rows that pass a filter. */
/* Rows of GPU gpu (NULL: any) with schedule column label (NULL: leansim's
 * rows of every schedule; "*": every row); sms_mode 1: full GPU only, 2:
 * run on `sms` SMs. */
static int pick(const validate_row *rows, int n, const char *gpu, const char *label, int sms_mode, int sms,
                const validate_row **out)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        const validate_row *r = &rows[i];
        if (gpu && strcmp(r->gpu, gpu)) continue;
        if (!label && strcmp(r->kernel, KPROF_DEFAULT)) continue;
        if (label && strcmp(label, "*") && strcmp(r->label, label)) continue;
        if (sms_mode == 1 && r->sms != r->full_sms) continue;   /* full GPU only */
        if (sms_mode == 2 && r->sms != sms) continue;           /* this SM count */
        out[k++] = r;
    }
    return k;
}

/* Held-out calibration of one GPU; fills the per-engine test errors. */
typedef struct holdout_res {
    int n_fit, n_test, fitted;
    double before[VAL_ENGINES], after[VAL_ENGINES], fit_after[VAL_ENGINES];
    char note[160];
} holdout_res;

static double mape_with(sim_ctx *c, const gpu_spec *fitted, const kernel_profile *kp, const validate_row *const *m,
                        int k, int e)
{
    double s = 0;
    int n = 0;
    for (int i = 0; i < k; i++) {
        gpu_spec g = *fitted;
        char a[32], why[256];
        snprintf(a, sizeof a, "sms=%d", m[i]->sms);
        if (m[i]->sms != g.sms && gpu_spec_set(&g, a, why, sizeof why)) continue;
        if (m[i]->graph) g.launch_us = g.graph_launch_us;
        sim_result r;
        int rc = model_engines[e].run(c, &g, kp, &m[i]->w, &m[i]->po, &r, why, sizeof why);
        if (rc != SIM_OK) continue;
        s += fabs(r.time_us / m[i]->time_us - 1.0);
        n++;
    }
    return n ? 100.0 * s / n : NAN;
}

static void holdout_gpu(const report_opts *o, const validate_row *rows, int n, const char *gpu, const char *kernel,
                        holdout_res *h)
{
    memset(h, 0, sizeof *h);
    for (int e = 0; e < VAL_ENGINES; e++) h->before[e] = h->after[e] = h->fit_after[e] = NAN;
    const validate_row **fit = malloc(sizeof *fit * (size_t)(n + 1)), **test = malloc(sizeof *test * (size_t)(n + 1));
    calib_row *cr = malloc(sizeof *cr * (size_t)(n + 1));
    sim_ctx *c = sim_ctx_alloc();
    if (!fit || !test || !cr || !c) {
        snprintf(h->note, sizeof h->note, "out of memory");
        goto done;
    }
    int full = 0;
    for (int i = 0; i < n; i++) {
        const validate_row *r = &rows[i];
        if (strcmp(r->gpu, gpu) || strcmp(r->kernel, kernel)) continue;
        if (report_row_heldout(r)) test[h->n_test++] = r;
        else if (r->sms == r->full_sms) {   /* calib_row has no SM count: fit on full-GPU rows */
            memset(&cr[h->n_fit], 0, sizeof cr[h->n_fit]);
            cr[h->n_fit].w = r->w;
            cr[h->n_fit].po = r->po;
            cr[h->n_fit].time_us = r->time_us;
            cr[h->n_fit].graph = r->graph;
            fit[h->n_fit++] = r;
            full = r->full_sms;
        }
    }
    for (int e = 0; e < VAL_ENGINES; e++) {
        report_err re;
        report_errors(test, h->n_test, e, &re);
        h->before[e] = re.mape_pct;
    }
    gpu_spec g;
    kernel_profile kp;
    char err[512];
    if (!full || validate_spec(&g, &kp, &o->v, gpu, kernel, full, 0, err, sizeof err)) {
        snprintf(h->note, sizeof h->note, "no full-GPU rows to fit");
        goto done;
    }
    calib_opts co;
    calib_opts_init(&co);
    if (!kprof_is_default(&kp)) {
        /* an outside kernel: its own fields, on the chip as it is */
        co.mask = calib_kernel_mask(&kp);
    } else if (h->n_fit < 3 * CALIB_COUNT) {
        /* few rows: fit only the fields that move most predictions */
        co.mask = (1u << CALIB_BW) | (1u << CALIB_INFLIGHT) | (1u << CALIB_LAUNCH) | (1u << CALIB_GAP);
    }
    co.mask = calib_mask_fittable(&g, &kp, co.mask);
    co.drop_unmoved = 1;
    calib_result res;
    if (calib_fit(&g, &kp, cr, h->n_fit, &co, &res, err, sizeof err)) {
        snprintf(h->note, sizeof h->note, "fit failed: %.140s", err);
        goto done;
    }
    h->fitted = 1;
    for (int e = 0; e < VAL_ENGINES; e++) {
        h->after[e] = mape_with(c, &g, &kp, test, h->n_test, e);
        h->fit_after[e] = mape_with(c, &g, &kp, fit, h->n_fit, e);
    }
done:
    sim_ctx_free(c);
    free(fit);
    free(test);
    free(cr);
}

/* ------------------------------------------------------------ decisions */

#define ORACLE_MIN_PLANS 20   /* a workload timed under this many plans or more is an oracle workload */
#define N_POLICIES (PLAN_POLICY_COUNT + 1)   /* the planner's named policies, then the tuner */
#define N_SHORT 4   /* the tuner's shortlist scored for its first 1..N_SHORT plans, timed and the fastest taken */

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Mean, 95th percentile and max of v[0..n) into out[0..2] (NAN each when
 * n is 0); sorts v. */
static void regret_summary(double *v, int n, double out[3])
{
    out[0] = out[1] = out[2] = NAN;
    if (n <= 0) return;
    double mean = 0;
    for (int i = 0; i < n; i++) mean += v[i];
    qsort(v, (size_t)n, sizeof(double), cmp_dbl);
    int r95 = (int)ceil(0.95 * n) - 1;
    out[0] = mean / n;
    out[1] = v[r95 < 0 ? 0 : r95];
    out[2] = v[n - 1];
}

/* The tuner's pick on one oracle workload, beside the measured best (report --picks). */
typedef struct pick_row {
    const workload *w;   /* the oracle workload: a measured row's, alive while the report prints */
    char pick[48], best[48];
    double pick_sim_us, pick_us, best_sim_us, best_us, regret_pct;   /* pick_us NAN: never measured */
} pick_row;

typedef struct tuner_acc {
    const gpu_spec *g;
    const kernel_profile *kp;
    plan *p;
    pick_row *picks;                 /* NULL, or one per workload (the tuner's) */
    int n_picks;
    int workloads, missing[N_POLICIES];
    double *regret[N_POLICIES];      /* per workload, percent */
    double log_speedup[N_POLICIES];  /* sum of log(fa2 pick / this pick) */
    int n[N_POLICIES];
    double *noise;                   /* per workload with a twin of its fastest plan: the twins' mean regret, percent */
    int n_noise;
    double *short_regret[N_SHORT];   /* [k - 1]: per workload, the fastest measured of the shortlist's first k, percent */
    int n_short[N_SHORT], short_missing[N_SHORT], short_plans[N_SHORT], short_unmeasured[N_SHORT];
    plan_shape *shapes;              /* a workload's rows' shapes, planned once (row_shape) */
    char *shape_ok;
} tuner_acc;

/* "b8 h64/16 d128 4096" or, ragged, the requests' tokens joined by ';' (cut short to fit:
 * WORKLOAD_TEXT_LEN holds every request of the largest batch). */
#define WORKLOAD_TEXT_LEN (32 + WL_MAX_BATCH * 10)
static void workload_text(const workload *w, char *s, size_t len)
{
    int m = snprintf(s, len, "b%d h%d/%d d%d ", w->batch, w->heads, w->kv_heads, w->head_dim);
    for (int i = 0; i < (w->ragged ? w->batch : 1) && m > 0 && (size_t)m < len; i++)
        m += snprintf(s + m, len - (size_t)m, "%s%lld", i ? ";" : "", (long long)w->ctx[i]);
}

/* "streamk bn64 264" (schedule, tile, CTAs), with "x7" for a split's
 * chunks and "sk264" for a hybrid's stream-K CTAs (two hybrids of one CTA
 * count cut the work apart); the plan's shape, or NULL for the counts alone. */
static void plan_text(const plan_shape *ps, int kind, int block_n, int ctas, int splits, char *s, size_t len)
{
    if (splits > 1) snprintf(s, len, "%s bn%d %d x%d", sched_name(kind), block_n, ctas, splits);
    else if (kind == SCHED_HYBRID && ps) snprintf(s, len, "%s bn%d %d sk%d", sched_name(kind), block_n, ctas, ps->sk_grid);
    else snprintf(s, len, "%s bn%d %d", sched_name(kind), block_n, ctas);
}

/* Worst regret first; picks never measured last. */
static int cmp_pick(const void *x, const void *y)
{
    double a = ((const pick_row *)x)->regret_pct, b = ((const pick_row *)y)->regret_pct;
    if (!isfinite(a) || !isfinite(b)) return isfinite(b) - isfinite(a);
    return (a < b) - (a > b);
}

static void tuner_group(const validate_row *const *m, int k, int e, void *arg)
{
    (void)e;
    tuner_acc *a = arg;
    if (k < ORACLE_MIN_PLANS || m[0]->sms != m[0]->full_sms || strcmp(m[0]->kernel, KPROF_DEFAULT)) return;
    int ib = 0;
    for (int i = 0; i < k; i++) {
        if (m[i]->time_us < m[ib]->time_us) ib = i;
        a->shape_ok[i] = (char)pick_row_shape(m[i], &a->shapes[i]);
    }
    const validate_row *best = m[ib];
    if (a->shape_ok[ib]) {   /* the oracle's noise: other rows that ran the fastest's cut */
        double sum = 0;
        int cnt = 0;
        for (int i = 0; i < k; i++) {
            if (i == ib || !a->shape_ok[i] || !plan_shape_same_work(&a->shapes[i], &a->shapes[ib])) continue;
            sum += 100.0 * (m[i]->time_us / best->time_us - 1.0);
            cnt++;
        }
        if (cnt) a->noise[a->n_noise++] = sum / cnt;
    }
    const workload *w = &m[0]->w;
    const int res = m[0]->resident > 0 ? m[0]->resident : 1;
    double t_pick[N_POLICIES], tune_sim_us = NAN;
    tune_choice sl[N_SHORT];
    int n_sl = 0;
    pick_row *pr = a->picks ? &a->picks[a->n_picks] : NULL;
    for (int pol = 0; pol < N_POLICIES; pol++) {
        plan_opts po;
        t_pick[pol] = NAN;
        if (pol < PLAN_POLICY_COUNT) {
            plan_policy_apply(pol, w, a->g->sms, res, a->g->l2_bytes, &po);
            if (po.kind == SCHED_BALANCED && po.ctas_per_sm > res) po.ctas_per_sm = res;
        } else {
            int tried;
            if (tune_shortlist(a->g, a->kp, w, (1u << SCHED_COUNT) - 1, sl, N_SHORT, &n_sl, &tried)) continue;
            po = tune_plan_opts(&sl[0]);
            tune_sim_us = sl[0].time_us;
        }
        if (!po.block_n) po.block_n = plan_default_block_n(w->head_dim);
        if (plan_build(a->p, w, &po, a->g->sms, res) != PLAN_OK) continue;
        const validate_row *r = pick_measured_plan(m, a->shapes, a->shape_ok, k, &a->p->shape);
        if (r) t_pick[pol] = r->time_us;
        if (pol == PLAN_POLICY_COUNT && pr) {
            pr->w = w;
            plan_text(&a->p->shape, a->p->kind, a->p->block_n, a->p->grid, a->p->splits, pr->pick, sizeof pr->pick);
            plan_text(a->shape_ok[ib] ? &a->shapes[ib] : NULL, best->po.kind, best->block_n, best->ctas, best->splits,
                      pr->best, sizeof pr->best);
            pr->pick_sim_us = tune_sim_us;
            pr->pick_us = t_pick[pol];
            pr->best_sim_us = best->pred_us[VAL_SIM];
            pr->best_us = best->time_us;
            pr->regret_pct = 100.0 * (t_pick[pol] / best->time_us - 1.0);
            a->n_picks++;
        }
    }
    /* the shortlist: each of its first k plans timed, the fastest taken */
    double t_best_k = NAN;
    for (int q = 0; q < N_SHORT; q++) {
        if (q < n_sl) {
            const validate_row *r =
                pick_measured_opts(m, a->shapes, a->shape_ok, k, w, tune_plan_opts(&sl[q]), a->g->sms, res, a->p);
            a->short_plans[q]++;
            if (!r) a->short_unmeasured[q]++;
            else if (!(r->time_us >= t_best_k)) t_best_k = r->time_us;
        }
        if (!isfinite(t_best_k)) a->short_missing[q]++;
        else a->short_regret[q][a->n_short[q]++] = 100.0 * (t_best_k / best->time_us - 1.0);
    }
    a->workloads++;
    for (int pol = 0; pol < N_POLICIES; pol++) {
        if (!isfinite(t_pick[pol])) {
            a->missing[pol]++;
            continue;
        }
        a->regret[pol][a->n[pol]] = 100.0 * (t_pick[pol] / best->time_us - 1.0);
        if (isfinite(t_pick[PLAN_POLICY_FA2])) a->log_speedup[pol] += log(t_pick[PLAN_POLICY_FA2] / t_pick[pol]);
        a->n[pol]++;
    }
}

int report_print(FILE *f, sqlite3 *db, const report_opts *o, char *err, int errlen)
{
    validate_row *rows;
    validate_stats vs;
    memset(&vs, 0, sizeof vs);
    int vrc = validate_opts_check(&o->v, err, errlen);   /* a bad --spec, --kernel or --set, before any row */
    if (vrc) return vrc;
    int n = validate_rows_load(db, &o->v, &rows, &vs, err, errlen);
    if (n < 0) return n;
    int rc = STORE_EINPUT;
    const validate_row **m = malloc(sizeof *m * (size_t)(n + 1));
    if (!m) {
        snprintf(err, (size_t)errlen, "out of memory");
        rc = STORE_EDB;
        goto done;
    }
    if (n == 0) {
        if (o->v.gpu)
            snprintf(err, (size_t)errlen, "--gpu %s: no measured rows of this GPU (leansim ingest FILE.csv)",
                     o->v.gpu);
        else
            snprintf(err, (size_t)errlen, "no measured rows of a known GPU and kernel (leansim ingest FILE.csv)");
        goto done;
    }
    int found = validate_lookup(db, &o->v, rows, n, err, errlen);
    if (found < 0) {
        rc = found;
        goto done;
    }
    if (found == 0) {
        snprintf(err, (size_t)errlen, "none of the %d measured rows has a stored prediction under this spec "
                 "(run leansim validate first, with the same --spec and --set)", n);
        goto done;
    }
    jw j = {f, o->json, {0}};
    const char *gpus[64];
    int ng = gpus_of(rows, n, gpus, 64);
    int missing[VAL_ENGINES] = {0, 0};   /* leansim's rows without a prediction: the totals' */
    for (int i = 0; i < n; i++)
        for (int e = 0; e < VAL_ENGINES; e++)
            missing[e] += !strcmp(rows[i].kernel, KPROF_DEFAULT) && !isfinite(rows[i].pred_us[e]);

    if (j.json) {
        fmt_json_init(&j.w, f, 1u << 1 | 1u << 2, 2, 1);   /* top-level keys and list items a line each */
        fmt_json_obj(&j.w, NULL);
        fmt_json_str(&j.w, "spec", o->v.spec ? o->v.spec : "builtin");
        fmt_json_int(&j.w, "rows", n);
        fmt_json_int(&j.w, "plan_mismatch", vs.plan_mismatch);
    } else {
        fprintf(f, "# validation of %d measured rows against sim and model (spec: %s", n,
                o->v.spec ? o->v.spec : "builtin");
        for (int i = 0; i < o->v.n_set; i++) fprintf(f, " --set %s", o->v.set[i]);
        fprintf(f, "); %d rows whose plan could not be rebuilt\n", vs.plan_mismatch);
        fprintf(f, "# APE = |predicted / measured - 1| in percent; full-GPU rows\n");
    }

    /* labels: leansim's schedules, then the outside kernels in order of appearance */
    const char *labels[SCHED_COUNT + 64];
    int nl = 0;
    for (int k = 0; k < SCHED_COUNT; k++) labels[nl++] = sched_name(k);
    for (int i = 0; i < n; i++) {
        int have = 0;
        for (int q = 0; q < nl; q++) have |= !strcmp(labels[q], rows[i].label);
        if (!have && nl < SCHED_COUNT + 64) labels[nl++] = rows[i].label;
    }
    list_begin(&j, "errors",
               "# outside kernels (torch-*) against their CUDA-graph replay times, under their kernel profiles\n"
               "gpu        schedule          engine     n    MAPE%     p95%     max%");
    for (int gi = 0; gi < ng; gi++)
        for (int k = 0; k < nl; k++)
            for (int e = 0; e < VAL_ENGINES; e++) {
                int c = pick(rows, n, gpus[gi], labels[k], 1, 0, m);
                if (!c) continue;
                report_err re;
                report_errors(m, c, e, &re);
                obj_begin(&j);
                fld_s(&j, 1, "gpu", 11, gpus[gi]);
                fld_s(&j, 0, "schedule", 18, labels[k]);
                fld_s(&j, 0, "engine", 6, model_engines[e].name);
                fld_i(&j, "n", 6, re.n);
                fld_d(&j, "mape_pct", 9, 2, re.mape_pct);
                fld_d(&j, "p95_ape_pct", 9, 2, re.p95_pct);
                fld_d(&j, "max_ape_pct", 9, 2, re.max_pct);
                obj_end(&j);
            }
    list_end(&j);

    list_begin(&j, "choice",
               "# fastest schedule, over configurations measured under >= 2 schedules\n"
               "gpu        engine configs  agree  within1%  regret_mean%  regret_max%");
    for (int gi = 0; gi < ng; gi++)
        for (int e = 0; e < VAL_ENGINES; e++) {
            int c = pick(rows, n, gpus[gi], NULL, 0, 0, m);
            report_choice ch;
            report_choices(m, c, e, &ch);
            obj_begin(&j);
            fld_s(&j, 1, "gpu", 11, gpus[gi]);
            fld_s(&j, 0, "engine", 6, model_engines[e].name);
            fld_i(&j, "configs", 8, ch.configs);
            fld_d(&j, "agree_frac", 7, 2, ch.agree_frac);
            fld_d(&j, "within_1pct_frac", 10, 2, ch.near_frac);
            fld_d(&j, "regret_mean_pct", 14, 2, ch.regret_mean_pct);
            fld_d(&j, "regret_max_pct", 13, 2, ch.regret_max_pct);
            obj_end(&j);
        }
    list_end(&j);

    list_begin(&j, "speedup",
               "# predicted speedup over fa2: |predicted / measured speedup - 1| in percent\n"
               "gpu        engine schedule     n  err_mean%  err_max%");
    static const int sp_sched[] = {SCHED_STREAMK, SCHED_SPLIT};
    for (int gi = 0; gi < ng; gi++)
        for (int e = 0; e < VAL_ENGINES; e++)
            for (int s = 0; s < 2; s++) {
                int c = pick(rows, n, gpus[gi], NULL, 0, 0, m);
                report_speedup sp;
                report_speedups(m, c, e, sp_sched[s], &sp);
                if (!sp.n) continue;
                obj_begin(&j);
                fld_s(&j, 1, "gpu", 11, gpus[gi]);
                fld_s(&j, 0, "engine", 7, model_engines[e].name);
                fld_s(&j, 0, "schedule", 9, sched_name(sp_sched[s]));
                fld_i(&j, "n", 5, sp.n);
                fld_d(&j, "err_mean_pct", 11, 2, sp.err_mean_pct);
                fld_d(&j, "err_max_pct", 10, 2, sp.err_max_pct);
                obj_end(&j);
            }
    list_end(&j);

    list_begin(&j, "sm_scaling",
               "# SM scaling: rows run on fewer SMs than the GPU has\n"
               "gpu        engine   sms     n    MAPE%     max%");
    for (int gi = 0; gi < ng; gi++) {
        int sms_list[256], ns = 0;
        for (int i = 0; i < n; i++) {
            if (strcmp(rows[i].gpu, gpus[gi]) || rows[i].sms >= rows[i].full_sms) continue;
            int have = 0;
            for (int q = 0; q < ns; q++) have |= sms_list[q] == rows[i].sms;
            if (!have && ns < 256) sms_list[ns++] = rows[i].sms;
        }
        for (int a = 1; a < ns; a++)   /* few values: insertion sort */
            for (int b = a; b > 0 && sms_list[b - 1] > sms_list[b]; b--) {
                int t = sms_list[b];
                sms_list[b] = sms_list[b - 1];
                sms_list[b - 1] = t;
            }
        for (int q = 0; q < ns; q++)
            for (int e = 0; e < VAL_ENGINES; e++) {
                int c = pick(rows, n, gpus[gi], NULL, 2, sms_list[q], m);
                report_err re;
                report_errors(m, c, e, &re);
                obj_begin(&j);
                fld_s(&j, 1, "gpu", 11, gpus[gi]);
                fld_s(&j, 0, "engine", 6, model_engines[e].name);
                fld_i(&j, "sms", 6, sms_list[q]);
                fld_i(&j, "n", 6, re.n);
                fld_d(&j, "mape_pct", 9, 2, re.mape_pct);
                fld_d(&j, "max_ape_pct", 9, 2, re.max_pct);
                obj_end(&j);
            }
    }
    list_end(&j);

    list_begin(&j, "totals",
               "# totals over leansim's rows (all GPUs, all SM counts)\n"
               "engine      n    MAPE%     p95%     max%  missing");
    for (int e = 0; e < VAL_ENGINES; e++) {
        int c = pick(rows, n, NULL, NULL, 0, 0, m);
        report_err re;
        report_errors(m, c, e, &re);
        obj_begin(&j);
        fld_s(&j, 1, "engine", 6, model_engines[e].name);
        fld_i(&j, "n", 7, re.n);
        fld_d(&j, "mape_pct", 9, 2, re.mape_pct);
        fld_d(&j, "p95_ape_pct", 9, 2, re.p95_pct);
        fld_d(&j, "max_ape_pct", 9, 2, re.max_pct);
        fld_i(&j, "missing", 9, missing[e]);
        obj_end(&j);
    }
    list_end(&j);

    {   /* intervals: measured times inside each prediction's 90% interval, on held-out rows; all
         * kernels together, then each kernel */
        list_begin(&j, "interval",
                   "# 90% intervals (each profile's error band) on the held-out rows: configurations of odd\n"
                   "# hash, full GPU; every kernel together (all), then each; coverage should be near 0.90\n"
                   "gpu        engine kernel                n  coverage");
        const char *kernels[64];
        int nk = 0;
        for (int i = 0; i < n && nk < 64; i++) {
            int have = 0;
            for (int q = 0; q < nk; q++) have |= !strcmp(kernels[q], rows[i].kernel);
            if (!have) kernels[nk++] = rows[i].kernel;
        }
        for (int gi = 0; gi < ng; gi++)
            for (int e = 0; e < VAL_ENGINES; e++)
                for (int ki = -1; ki < nk; ki++) {
                    int nn = 0, in = 0;
                    for (int i = 0; i < n; i++) {
                        const validate_row *r = &rows[i];
                        if (strcmp(r->gpu, gpus[gi]) || r->sms != r->full_sms || !report_row_heldout(r) ||
                            !isfinite(r->pred_us[e]) || (ki >= 0 && strcmp(r->kernel, kernels[ki])))
                            continue;
                        gpu_spec g;
                        kernel_profile kp;
                        char why[512];
                        if (validate_spec(&g, &kp, &o->v, r->gpu, r->kernel, r->sms, r->graph, why, sizeof why))
                            continue;
                        double blo, bhi;
                        sim_band(&g, &kp, r->po.kind, &r->w, e == MODEL_ENGINE_MODEL, &blo, &bhi);
                        double lo = r->pred_us[e] * (1 + blo / 100), hi = r->pred_us[e] * (1 + bhi / 100);
                        nn++;
                        in += r->time_us >= lo && r->time_us <= hi;
                    }
                    if (!nn) continue;
                    obj_begin(&j);
                    fld_s(&j, 1, "gpu", 11, gpus[gi]);
                    fld_s(&j, 0, "engine", 6, model_engines[e].name);
                    fld_s(&j, 0, "kernel", 16, ki < 0 ? "all" : kernels[ki]);
                    fld_i(&j, "n", 6, nn);
                    fld_d(&j, "coverage_frac", 9, 3, (double)in / nn);
                    obj_end(&j);
                }
        list_end(&j);
    }

    /* the tuner's picks by GPU (report --picks), kept from the decisions' pass for the block after it */
    pick_row *gpicks[64] = {NULL};   /* as gpus */
    int gnpicks[64] = {0};
    /* the oracle's noise by GPU, kept likewise: workloads, mean, p95 and max of the twins' regret */
    int gnoise_n[64] = {0};
    double gnoise[64][3];
    /* the tuner's shortlist by GPU and length, kept likewise */
    struct { int n, missing, plans, unmeasured; double sum[3]; } gshort[64][N_SHORT];
    memset(gshort, 0, sizeof gshort);
    {   /* decisions: each policy's measured pick against the measured best (oracle workloads) */
        list_begin(&j, "tuner",
                   "# decisions, over workloads timed under every plan of the tuner's space (oracle): regret of\n"
                   "# each policy's measured pick against the fastest measured plan; speedup of its pick over\n"
                   "# FA2's heuristic's (geomean); missing: workloads whose pick was not measured\n"
                   "gpu        policy          workloads  regret_mean%  regret_p95%  regret_max%  geomean_vs_fa2  missing");
        for (int gi = 0; gi < ng; gi++) {
            gpu_spec g;
            kernel_profile kp;
            char why[512];
            int full = 0;
            for (int i = 0; i < n && !full; i++)
                if (!strcmp(rows[i].gpu, gpus[gi])) full = rows[i].full_sms;
            if (validate_spec(&g, &kp, &o->v, gpus[gi], KPROF_DEFAULT, full, 0, why, sizeof why)) continue;
            int c = pick(rows, n, gpus[gi], NULL, 1, 0, m);
            tuner_acc a;
            memset(&a, 0, sizeof a);
            a.g = &g;
            a.kp = &kp;
            a.p = plan_alloc();
            int okm = a.p != NULL;
            for (int q = 0; q < N_POLICIES; q++) okm &= (a.regret[q] = malloc(sizeof(double) * (size_t)(c + 1))) != NULL;
            if (o->picks) okm &= (a.picks = malloc(sizeof *a.picks * (size_t)(c + 1))) != NULL;
            okm &= (a.noise = malloc(sizeof(double) * (size_t)(c + 1))) != NULL;
            for (int q = 0; q < N_SHORT; q++) okm &= (a.short_regret[q] = malloc(sizeof(double) * (size_t)(c + 1))) != NULL;
            okm &= (a.shapes = malloc(sizeof *a.shapes * (size_t)(c + 1))) != NULL;
            okm &= (a.shape_ok = malloc((size_t)(c + 1))) != NULL;
            if (okm) for_each_config(m, c, VAL_SIM, tuner_group, &a);
            if (okm && a.picks) {
                qsort(a.picks, (size_t)a.n_picks, sizeof *a.picks, cmp_pick);
                gpicks[gi] = a.picks;
                gnpicks[gi] = a.n_picks;
            } else {
                free(a.picks);
            }
            for (int q = 0; q < N_POLICIES && okm && a.workloads; q++) {
                double sum[3];
                regret_summary(a.regret[q], a.n[q], sum);
                obj_begin(&j);
                fld_s(&j, 1, "gpu", 11, gpus[gi]);
                fld_s(&j, 0, "policy", 15, q < PLAN_POLICY_COUNT ? plan_policy_name(q) : "tune");
                fld_i(&j, "workloads", 10, a.n[q]);
                fld_d(&j, "regret_mean_pct", 13, 2, sum[0]);
                fld_d(&j, "regret_p95_pct", 12, 2, sum[1]);
                fld_d(&j, "regret_max_pct", 12, 2, sum[2]);
                fld_d(&j, "geomean_speedup_vs_fa2_heuristic", 15, 3, a.n[q] ? exp(a.log_speedup[q] / a.n[q]) : NAN);
                fld_i(&j, "missing", 8, a.missing[q]);
                obj_end(&j);
            }
            if (okm && a.n_noise) {
                gnoise_n[gi] = a.n_noise;
                regret_summary(a.noise, a.n_noise, gnoise[gi]);
            }
            for (int q = 0; q < N_SHORT && okm && a.workloads; q++) {
                gshort[gi][q].n = a.n_short[q];
                gshort[gi][q].missing = a.short_missing[q];
                gshort[gi][q].plans = a.short_plans[q];
                gshort[gi][q].unmeasured = a.short_unmeasured[q];
                regret_summary(a.short_regret[q], a.n_short[q], gshort[gi][q].sum);
            }
            for (int q = 0; q < N_SHORT; q++) free(a.short_regret[q]);
            free(a.noise);
            free(a.shapes);
            free(a.shape_ok);
            for (int q = 0; q < N_POLICIES; q++) free(a.regret[q]);
            plan_free(a.p);
        }
        list_end(&j);
    }

    {   /* the oracle's own noise, the floor under the regrets above */
        list_begin(&j, "oracle_noise",
                   "# the oracle's noise: on workloads where another measured row ran the same cut of the work\n"
                   "# as the fastest plan (stream-K and a hybrid without data-parallel CTAs on one grid; two\n"
                   "# option sets planned alike), that row's regret: what a pick no model can tell from the\n"
                   "# fastest loses to the GPU's noise alone: about the least regret any policy above can have\n"
                   "gpu        workloads  regret_mean%  regret_p95%  regret_max%");
        for (int gi = 0; gi < ng; gi++) {
            if (!gnoise_n[gi]) continue;
            obj_begin(&j);
            fld_s(&j, 1, "gpu", 11, gpus[gi]);
            fld_i(&j, "workloads", 10, gnoise_n[gi]);
            fld_d(&j, "regret_mean_pct", 13, 2, gnoise[gi][0]);
            fld_d(&j, "regret_p95_pct", 12, 2, gnoise[gi][1]);
            fld_d(&j, "regret_max_pct", 12, 2, gnoise[gi][2]);
            obj_end(&j);
        }
        list_end(&j);
    }

    {   /* the tuner's shortlist: what timing its first k plans on the GPU leaves */
        list_begin(&j, "shortlist",
                   "# the tuner's shortlist (tune --shortlist K): its winner, then the other plans by simulated\n"
                   "# time; regret of the fastest measured of its first k plans against the fastest measured plan\n"
                   "# (k = 1: the tuner's pick, above); missing: workloads none of whose first k plans was measured;\n"
                   "# unmeasured: workloads whose k-th plan (that one alone) the oracle never ran\n"
                   "gpu         k  workloads  regret_mean%  regret_p95%  regret_max%  missing  unmeasured");
        for (int gi = 0; gi < ng; gi++)
            for (int q = 0; q < N_SHORT; q++) {
                if (!gshort[gi][q].plans) continue;
                obj_begin(&j);
                fld_s(&j, 1, "gpu", 11, gpus[gi]);
                fld_i(&j, "k", 2, q + 1);
                fld_i(&j, "workloads", 10, gshort[gi][q].n);
                fld_d(&j, "regret_mean_pct", 13, 2, gshort[gi][q].sum[0]);
                fld_d(&j, "regret_p95_pct", 12, 2, gshort[gi][q].sum[1]);
                fld_d(&j, "regret_max_pct", 12, 2, gshort[gi][q].sum[2]);
                fld_i(&j, "missing", 8, gshort[gi][q].missing);
                fld_i(&j, "unmeasured", 11, gshort[gi][q].unmeasured);
                obj_end(&j);
            }
        list_end(&j);
    }

    if (o->picks) {   /* the tuner's pick on each oracle workload, worst first */
        list_begin(&j, "picks",
                   "# the tuner's pick on each oracle workload beside the measured fastest plan, worst regret first\n"
                   "# (plans: schedule, tile, CTAs, xN a split's chunks, skN a hybrid's stream-K CTAs; sim_us: the\n"
                   "# simulator's time of the plan; pick_us '-': the pick was never measured)\n"
                   "gpu        workload                                     pick                      sim_us   pick_us"
                   "  best                      sim_us   best_us  regret%");
        for (int gi = 0; gi < ng; gi++)
            for (int i = 0; i < gnpicks[gi]; i++) {
                const pick_row *r = &gpicks[gi][i];
                obj_begin(&j);
                fld_s(&j, 1, "gpu", 11, gpus[gi]);
                char wt[WORKLOAD_TEXT_LEN];   /* the whole batch in JSON; the table cuts it */
                workload_text(r->w, wt, sizeof wt);
                if (!j.json && strlen(wt) > 44) memcpy(wt + 41, "...", 4);   /* a long ragged batch, cut */
                fld_s(&j, 0, "workload", 45, wt);
                fld_s(&j, 0, "pick", 24, r->pick);
                fld_d(&j, "pick_sim_us", 9, 2, r->pick_sim_us);
                fld_d(&j, "pick_us", 10, 2, r->pick_us);
                if (!j.json) fputs("  ", j.f);
                fld_s(&j, 0, "best", 24, r->best);
                fld_d(&j, "best_sim_us", 9, 2, r->best_sim_us);
                fld_d(&j, "best_us", 10, 2, r->best_us);
                fld_d(&j, "regret_pct", 9, 2, r->regret_pct);
                obj_end(&j);
            }
        list_end(&j);
    }
    for (int gi = 0; gi < ng; gi++) free(gpicks[gi]);

    if (o->holdout) {
        list_begin(&j, "holdout",
                   "# calibration held out: fit on configurations of even hash, error on the odd ones (MAPE%)\n"
                   "# (leansim: chip and kernel fields; an outside kernel: its kernel fields on the chip as shipped)\n"
                   "gpu        kernel            engine  n_fit n_test  test_before  test_after  fit_after  note");
        const char *kernels[64];
        int nk = 0;
        for (int i = 0; i < n; i++) {
            int have = 0;
            for (int q = 0; q < nk; q++) have |= !strcmp(kernels[q], rows[i].kernel);
            if (!have && nk < 64) kernels[nk++] = rows[i].kernel;
        }
        for (int gi = 0; gi < ng; gi++)
            for (int ki = 0; ki < nk; ki++) {
            holdout_res h;
            holdout_gpu(o, rows, n, gpus[gi], kernels[ki], &h);
            if (!h.n_fit && !h.n_test) continue;
            if (o->progress) fprintf(o->progress, "report: held-out fit of %s, kernel %s done\n", gpus[gi], kernels[ki]);
            for (int e = 0; e < VAL_ENGINES; e++) {
                obj_begin(&j);
                fld_s(&j, 1, "gpu", 11, gpus[gi]);
                fld_s(&j, 0, "kernel", 18, kernels[ki]);
                fld_s(&j, 0, "engine", 6, model_engines[e].name);
                fld_i(&j, "n_fit", 7, h.n_fit);
                fld_i(&j, "n_test", 7, h.n_test);
                fld_d(&j, "mape_test_before_pct", 13, 2, h.before[e]);
                fld_d(&j, "mape_test_after_pct", 12, 2, h.after[e]);
                fld_d(&j, "mape_fit_after_pct", 11, 2, h.fit_after[e]);
                if (j.json) fmt_json_str(&j.w, "note", h.note);
                else fprintf(f, "  %s", h.note);
                obj_end(&j);
            }
        }
        list_end(&j);
    }
    if (j.json) fmt_json_end(&j.w);
    rc = 0;
done:
    free(m);
    free(rows);
    return rc;
}
