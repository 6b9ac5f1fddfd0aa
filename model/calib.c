/*
 * calib.c: fitting the GPU spec fields no datasheet gives (see model.h).
 *
 * Nonlinear least squares with GSL's gsl_multifit_nlinear: trust region
 * (Levenberg-Marquardt steps), Jacobian by forward differences.  Unknowns
 * are the logarithms of the parameters, so they stay positive and a step
 * means the same relative change for a bandwidth (GB/s) and a delay (ns).
 * Residual of a row: predicted / measured - 1, predictions from the
 * simulator (the goal) or the closed-form model (calib_opts.engine).
 * Intervals: covariance (J^T J)^-1 scaled by chi^2 / dof, Student t at 95%,
 * mapped back from log space (asymmetric there; the half-width of the
 * linear interval is reported).
 */
#include "fmt.h"
#include "model.h"
#include "version.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *param_names[CALIB_COUNT] = {"mem_bw_achievable_gbps", "cta_inflight_bytes", "launch_us",
                                               "cta_prologue_ns", "cta_epilogue_ns", "partial_write_ns",
                                               "merge_round_ns", "kernel_gap_us", "fp32_eff", "tensor_eff",
                                               "graph_launch_us", "sm_gbps", "call_extra_us", "inflight_tiles", "mem_share_exp",
                                               "load_queue", "sm_stream_loss", "host_round_ns", "pdl_gap_us",
                                               "fp32_row_flops", "fp32_kv_flops", "fp32_issue_frac",
                                               "fp32_overlap_norm", "host_setup_ns", "flag_latency_ns",
                                               "partial_row_ns", "tc_kv_flops", "mem_sm_share_exp"};

const char *calib_param_name(int p)
{
    return p >= 0 && p < CALIB_COUNT ? param_names[p] : "?";
}

int calib_param_is_chip(int p)
{
    return p == CALIB_BW || p == CALIB_LAUNCH || p == CALIB_GAP || p == CALIB_GRAPH_LAUNCH || p == CALIB_SHARE_EXP ||
           p == CALIB_PDL_GAP || p == CALIB_SM_SHARE;
}

int calib_row_held(const calib_opts *o, const calib_row *rows, int i)
{
    return (o->half && rows[i].odd) || (o->holdout > 1 && i % o->holdout == o->holdout - 1);
}

static double *param_ptr(gpu_spec *g, kernel_profile *k, int p)
{
    switch (p) {
    case CALIB_BW: return &g->mem_bw_achievable_gbps;
    case CALIB_INFLIGHT: return &k->cta_inflight_bytes;
    case CALIB_LAUNCH: return &g->launch_us;
    case CALIB_PROLOGUE: return &k->cta_prologue_ns;
    case CALIB_EPILOGUE: return &k->cta_epilogue_ns;
    case CALIB_PARTIAL: return &k->partial_write_ns;
    case CALIB_MERGE: return &k->merge_round_ns;
    case CALIB_GAP: return &g->kernel_gap_us;
    case CALIB_FP32_EFF: return &k->fp32_eff;
    case CALIB_TENSOR_EFF: return &k->tensor_eff;
    case CALIB_GRAPH_LAUNCH: return &g->graph_launch_us;
    case CALIB_SM_GBPS: return &k->sm_gbps;
    case CALIB_CALL_EXTRA: return &k->call_extra_us;
    case CALIB_INFLIGHT_TILES: return &k->inflight_tiles;
    case CALIB_SHARE_EXP: return &g->mem_share_exp;
    case CALIB_LOAD_QUEUE: return &k->load_queue;
    case CALIB_STREAM_LOSS: return &k->sm_stream_loss;
    case CALIB_HOST_ROUND: return &k->host_round_ns;
    case CALIB_PDL_GAP: return &g->pdl_gap_us;
    case CALIB_FP32_ROW: return &k->fp32_row_flops;
    case CALIB_FP32_KV: return &k->fp32_kv_flops;
    case CALIB_ISSUE_FRAC: return &k->fp32_issue_frac;
    case CALIB_OVERLAP_NORM: return &k->fp32_overlap_norm;
    case CALIB_HOST_SETUP: return &k->host_setup_ns;
    case CALIB_FLAG: return &k->flag_latency_ns;
    case CALIB_PARTIAL_ROW: return &k->partial_row_ns;
    case CALIB_TC_KV: return &k->tc_kv_flops;
    case CALIB_SM_SHARE: return &g->mem_sm_share_exp;
    }
    return NULL;
}

double calib_param_get(const gpu_spec *g, const kernel_profile *k, int p)
{
    return *param_ptr((gpu_spec *)g, (kernel_profile *)k, p);
}

void calib_param_set(gpu_spec *g, kernel_profile *k, int p, double v)
{
    if ((p == CALIB_FP32_EFF || p == CALIB_TENSOR_EFF || p == CALIB_LOAD_QUEUE || p == CALIB_ISSUE_FRAC) && v > 1) v = 1;   /* fractions */
    if (p == CALIB_OVERLAP_NORM && v < 1) v = 1;   /* a p-norm */
    *param_ptr(g, k, p) = v;
}

unsigned calib_mask_fittable(const gpu_spec *g, const kernel_profile *k, unsigned mask)
{
    for (int p = 0; p < CALIB_COUNT; p++)
        if ((mask & (1u << p)) && p != CALIB_SM_SHARE && !(calib_param_get(g, k, p) > 0)) mask &= ~(1u << p);
    return mask;
}

unsigned calib_kernel_mask(const kernel_profile *k)
{
    unsigned m = (1u << (k->inflight_tiles > 0 ? CALIB_INFLIGHT_TILES : CALIB_INFLIGHT)) | (1u << CALIB_PROLOGUE) |
                 (1u << CALIB_PARTIAL) | (1u << CALIB_MERGE) | (1u << CALIB_CALL_EXTRA) |
                 (1u << (k->compute == KPROF_FP32 ? CALIB_FP32_EFF : CALIB_TENSOR_EFF));
    if (kprof_schedule_kind(k) == SCHED_FA2) m &= ~((1u << CALIB_PARTIAL) | (1u << CALIB_MERGE));
    return m;
}

void calib_opts_init(calib_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mask = CALIB_DEFAULT_MASK;
    o->xtol = 1e-8;
    o->gtol = 1e-8;
    o->ftol = 1e-10;
    o->maxiter = 100;
    o->engine = MODEL_ENGINE_SIM;
}

/* What the residual function needs. */
typedef struct fit_data {
    gpu_spec g;                /* working copies */
    kernel_profile k;
    const calib_row *rows;
    const int *idx;            /* rows used */
    int n;
    int params[CALIB_COUNT];   /* fitted parameter of each unknown */
    int np;
    int engine;                /* enum model_engine_id */
    sim_ctx *c;
} fit_data;

/* Relative error of row r under chip g and kernel k; NAN when it cannot run. */
static double row_err(fit_data *d, const gpu_spec *g, const kernel_profile *k, const calib_row *r)
{
    sim_result res;
    char err[256];
    gpu_spec gg;
    if (r->graph || (r->sms > 0 && r->sms != g->sms)) {
        gg = *g;
        if (r->graph) gg.launch_us = g->graph_launch_us;   /* timed by CUDA-graph replay */
        if (r->sms > 0 && r->sms != g->sms) gpu_spec_use_sms(&gg, r->sms);   /* run on fewer SMs */
        g = &gg;
    }
    int rc = model_engines[d->engine].run(d->c, g, k, &r->w, &r->po, &res, err, sizeof err);
    return rc == SIM_OK ? res.time_us / r->time_us - 1 : NAN;
}

static int fit_f(const gsl_vector *x, void *p, gsl_vector *f)
{
    fit_data *d = p;
    for (int k = 0; k < d->np; k++)
        calib_param_set(&d->g, &d->k, d->params[k], exp(gsl_vector_get(x, (size_t)k)));
    for (int i = 0; i < d->n; i++) {
        double e = row_err(d, &d->g, &d->k, &d->rows[d->idx[i]]);
        gsl_vector_set(f, (size_t)i, isfinite(e) ? e : 1.0);
    }
    return GSL_SUCCESS;
}

/* The fields of d->params no row of d moves with: each stepped by 0.1%
 * either way (a hundred times the solver's difference step) leaves every
 * residual as it was. */
static unsigned unmoved_params(fit_data *d)
{
    unsigned um = 0;
    gsl_vector *x = gsl_vector_alloc((size_t)d->np);
    gsl_vector *f0 = gsl_vector_alloc((size_t)d->n), *f1 = gsl_vector_alloc((size_t)d->n);
    if (!x || !f0 || !f1) goto out;
    for (int k = 0; k < d->np; k++)
        gsl_vector_set(x, (size_t)k, log(calib_param_get(&d->g, &d->k, d->params[k])));
    fit_f(x, d, f0);
    for (int k = 0; k < d->np; k++) {
        double x0 = gsl_vector_get(x, (size_t)k);
        int moved = 0;
        for (int side = -1; side <= 1 && !moved; side += 2) {   /* both ways: a field at its bound moves one way */
            gsl_vector_set(x, (size_t)k, x0 + side * 1e-3);
            fit_f(x, d, f1);
            for (int i = 0; i < d->n && !moved; i++)
                moved = gsl_vector_get(f1, (size_t)i) != gsl_vector_get(f0, (size_t)i);
        }
        gsl_vector_set(x, (size_t)k, x0);
        if (!moved) um |= 1u << d->params[k];
    }
    fit_f(x, d, f0);   /* the working copies back at the start */
out:
    if (x) gsl_vector_free(x);
    if (f0) gsl_vector_free(f0);
    if (f1) gsl_vector_free(f1);
    return um;
}

static double mape(fit_data *d, const gpu_spec *g, const kernel_profile *k, const int *idx, int n)
{
    double s = 0;
    int m = 0;
    for (int i = 0; i < n; i++) {
        double e = row_err(d, g, k, &d->rows[idx[i]]);
        if (isfinite(e)) { s += fabs(e); m++; }
    }
    return m ? 100 * s / m : NAN;
}

/* The solver's callback: one line per iteration on the progress stream. */
static void fit_progress(const size_t iter, void *arg, const gsl_multifit_nlinear_workspace *w)
{
    FILE *f = arg;
    gsl_vector *r = gsl_multifit_nlinear_residual(w);
    double ss = 0;
    for (size_t i = 0; i < r->size; i++) ss += gsl_vector_get(r, i) * gsl_vector_get(r, i);
    fprintf(f, "calibrate: iteration %zu, rms relative error %.2f%%\n", iter, 100 * sqrt(ss / (double)r->size));
    fflush(f);
}

/* Sum of squared relative errors of the fit rows at mem_sm_share_exp = x. */
static double sm_share_ssr(double x, void *p)
{
    fit_data *d = p;
    d->g.mem_sm_share_exp = x;
    double ss = 0;
    for (int i = 0; i < d->n; i++) {
        double e = row_err(d, &d->g, &d->k, &d->rows[d->idx[i]]);
        ss += isfinite(e) ? e * e : 1.0;
    }
    return ss;
}

#define SM_SHARE_MAX 2.0    /* the scan's range: 0 (every CTA an equal share) .. 2 */
#define SM_SHARE_GRID 16    /* its steps */
#define SM_SHARE_WIN 3      /* the parabola takes the best step and this many either side */

/*
 * mem_sm_share_exp alone: the simulator's time jumps where a small change of
 * the weights reorders two events, so finite differences (the trust-region
 * solver's Jacobian) see steps, not the slope, and the solver stays where it
 * starts; at a fine scale the sum of squares is rough, and a line search
 * settles in any dip of it.  So a scan: the sum of squared relative errors
 * at SM_SHARE_GRID + 1 steps over 0 .. SM_SHARE_MAX, then a parabola fitted
 * (gsl_multifit_linear) to the best step and SM_SHARE_WIN either side: its
 * vertex, kept inside those steps, is the fit, and its curvature gives the
 * interval, var = 2 (SSR / dof) / SSR''.  Returns 0, or -1 with err set.
 */
static int fit_sm_share(fit_data *d, const calib_opts *o, calib_result *res, char *err, int errlen)
{
    double xs[SM_SHARE_GRID + 1], fs[SM_SHARE_GRID + 1];
    int b = 0;
    for (int i = 0; i <= SM_SHARE_GRID; i++) {
        xs[i] = SM_SHARE_MAX * i / SM_SHARE_GRID;
        fs[i] = sm_share_ssr(xs[i], d);
        if (o->progress) {
            fprintf(o->progress, "calibrate: mem_sm_share_exp %.3f, rms relative error %.2f%%\n", xs[i],
                    100 * sqrt(fs[i] / d->n));
            fflush(o->progress);
        }
        if (fs[i] < fs[b]) b = i;
    }
    int lo = b - SM_SHARE_WIN < 0 ? 0 : b - SM_SHARE_WIN, hi = b + SM_SHARE_WIN > SM_SHARE_GRID ? SM_SHARE_GRID : b + SM_SHARE_WIN;
    int m = hi - lo + 1;
    gsl_matrix *X = gsl_matrix_alloc((size_t)m, 3), *cov = gsl_matrix_alloc(3, 3);
    gsl_vector *y = gsl_vector_alloc((size_t)m), *c = gsl_vector_alloc(3);
    gsl_multifit_linear_workspace *wk = gsl_multifit_linear_alloc((size_t)m, 3);
    int ok = X && cov && y && c && wk;
    double chisq, x = xs[b], curv = 0;
    if (ok) {
        for (int i = 0; i < m; i++) {
            double xi = xs[lo + i];
            gsl_matrix_set(X, (size_t)i, 0, 1);
            gsl_matrix_set(X, (size_t)i, 1, xi);
            gsl_matrix_set(X, (size_t)i, 2, xi * xi);
            gsl_vector_set(y, (size_t)i, fs[lo + i]);
        }
        if (gsl_multifit_linear(X, y, c, cov, &chisq, wk) == GSL_SUCCESS && gsl_vector_get(c, 2) > 0) {
            curv = 2 * gsl_vector_get(c, 2);
            x = -gsl_vector_get(c, 1) / curv;
            if (x < xs[lo]) x = xs[lo];
            if (x > xs[hi]) x = xs[hi];
        }
    }
    if (X) gsl_matrix_free(X);
    if (cov) gsl_matrix_free(cov);
    if (y) gsl_vector_free(y);
    if (c) gsl_vector_free(c);
    if (wk) gsl_multifit_linear_free(wk);
    if (!ok) {
        snprintf(err, (size_t)errlen, "out of memory");
        return -1;
    }
    double f0 = sm_share_ssr(x, d);
    int dof = d->n - 1;
    double var = curv > 0 && dof > 0 ? 2 * (f0 / dof) / curv : INFINITY;
    res->value[CALIB_SM_SHARE] = x;
    res->ci95[CALIB_SM_SHARE] = isfinite(var) ? gsl_cdf_tdist_Pinv(0.975, dof) * sqrt(var) : INFINITY;
    res->covar[CALIB_SM_SHARE][CALIB_SM_SHARE] = var;
    res->iters = SM_SHARE_GRID + 2;
    res->status = GSL_SUCCESS;
    d->g.mem_sm_share_exp = x;
    return 0;
}

/* calib_fit's work, with GSL's error handler off. */
static int fit_run(gpu_spec *g, kernel_profile *kp, const calib_row *rows, int n, const calib_opts *o,
                   calib_result *res, char *err, int errlen)
{
    memset(res, 0, sizeof *res);
    fit_data d;
    memset(&d, 0, sizeof d);
    d.g = *g;
    d.k = *kp;
    d.rows = rows;
    d.engine = o->engine;
    for (int p = 0; p < CALIB_COUNT; p++) {
        res->value[p] = calib_param_get(g, kp, p);
        if (o->mask & (1u << p)) {
            if (res->value[p] <= 0 && p != CALIB_SM_SHARE) {
                snprintf(err, (size_t)errlen, "%s = %g: must start above 0 to be fitted in log space", param_names[p],
                         res->value[p]);
                return -1;
            }
            d.params[d.np++] = p;
        }
    }
    if ((o->mask & (1u << CALIB_SM_SHARE)) && d.np != 1) {
        snprintf(err, (size_t)errlen, "mem_sm_share_exp is fitted alone (a scan, not the solver): fit it in a run of its own");
        return -1;
    }
    int *fit_idx = malloc(sizeof(int) * (size_t)(n + 1)), *hold_idx = malloc(sizeof(int) * (size_t)(n + 1));
    int nf = 0, nh = 0;
    for (int i = 0; i < n; i++) {
        if (calib_row_held(o, rows, i)) hold_idx[nh++] = i;
        else fit_idx[nf++] = i;
    }
    res->n_fit = nf;
    res->n_holdout = nh;
    int rc = -1;
    gsl_multifit_nlinear_workspace *wk = NULL;
    gsl_matrix *covar = NULL;
    gsl_vector *x = NULL;
    d.c = sim_ctx_alloc();
    if (!fit_idx || !hold_idx || !d.c) {
        snprintf(err, (size_t)errlen, "out of memory");
        goto done;
    }
    if (!(o->mask & (1u << CALIB_SM_SHARE)) && d.np > 0 && nf > 0) {
        d.idx = fit_idx;
        d.n = nf;
        unsigned um = unmoved_params(&d);
        for (int p = 0; p < CALIB_COUNT && um; p++) {
            if (!(um & (1u << p))) continue;
            if (!o->drop_unmoved) {
                snprintf(err, (size_t)errlen,
                         "%s = %g: no fitted row's time moves with it (not identified by these rows); leave it "
                         "out of --params or start it where it binds",
                         param_names[p], res->value[p]);
                goto done;
            }
        }
        res->unmoved = um;
        int np = 0;
        for (int k = 0; k < d.np; k++)
            if (!(um & (1u << d.params[k]))) d.params[np++] = d.params[k];
        d.np = np;
        if (d.np == 0) {
            snprintf(err, (size_t)errlen, "no fitted row's time moves with any of the fields asked: nothing to fit");
            goto done;
        }
    }
    if (d.np == 0 || nf <= d.np) {
        snprintf(err, (size_t)errlen, "%d rows to fit %d parameters: need more rows than parameters", nf, d.np);
        goto done;
    }
    d.idx = fit_idx;
    d.n = nf;
    res->n_params = d.np;
    res->mape_before = mape(&d, g, kp, fit_idx, nf);
    res->mape_holdout_before = nh ? mape(&d, g, kp, hold_idx, nh) : 0;
    if (o->mask & (1u << CALIB_SM_SHARE)) {
        if (fit_sm_share(&d, o, res, err, errlen)) goto done;
        g->mem_sm_share_exp = res->value[CALIB_SM_SHARE];
        res->mape_after = mape(&d, g, kp, fit_idx, nf);
        res->mape_holdout_after = nh ? mape(&d, g, kp, hold_idx, nh) : 0;
        rc = 0;
        goto done;
    }

    gsl_multifit_nlinear_fdf fdf;
    fdf.f = fit_f;
    fdf.df = NULL;   /* forward differences */
    fdf.fvv = NULL;
    fdf.n = (size_t)nf;
    fdf.p = (size_t)d.np;
    fdf.params = &d;
    gsl_multifit_nlinear_parameters fp = gsl_multifit_nlinear_default_parameters();
    fp.trs = gsl_multifit_nlinear_trs_lm;
    fp.h_df = 1e-5;   /* the simulator is smooth at this scale; 1e-8 steps meet event-order ties */
    wk = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, (size_t)nf, (size_t)d.np);
    x = gsl_vector_alloc((size_t)d.np);
    covar = gsl_matrix_alloc((size_t)d.np, (size_t)d.np);
    if (!wk || !x || !covar) {
        snprintf(err, (size_t)errlen, "out of memory");
        goto done;
    }
    for (int k = 0; k < d.np; k++) gsl_vector_set(x, (size_t)k, log(res->value[d.params[k]]));
    int st = gsl_multifit_nlinear_init(x, &fdf, wk);
    if (st != GSL_SUCCESS) {
        snprintf(err, (size_t)errlen, "solver failed to start: %s", gsl_strerror(st));
        goto done;
    }
    int info = 0;
    st = gsl_multifit_nlinear_driver((size_t)o->maxiter, o->xtol, o->gtol, o->ftol,
                                     o->progress ? fit_progress : NULL, (void *)o->progress, &info, wk);
    res->status = st;
    res->iters = (int)gsl_multifit_nlinear_niter(wk);
    if (st != GSL_SUCCESS && st != GSL_EMAXITER) {
        snprintf(err, (size_t)errlen, "solver failed: %s", gsl_strerror(st));
        goto done;
    }
    gsl_vector *xs = gsl_multifit_nlinear_position(wk);
    gsl_vector *fres = gsl_multifit_nlinear_residual(wk);
    gsl_matrix *J = gsl_multifit_nlinear_jac(wk);
    gsl_multifit_nlinear_covar(J, 0.0, covar);
    double chi2;
    gsl_blas_ddot(fres, fres, &chi2);
    int dof = nf - d.np;
    double t = gsl_cdf_tdist_Pinv(0.975, dof);
    double scale = sqrt(chi2 / dof);
    for (int k = 0; k < d.np; k++)
        for (int l = 0; l < d.np; l++)
            res->covar[d.params[k]][d.params[l]] = scale * scale * gsl_matrix_get(covar, (size_t)k, (size_t)l);
    for (int k = 0; k < d.np; k++) {
        int p = d.params[k];
        double lx = gsl_vector_get(xs, (size_t)k);
        double s = scale * sqrt(gsl_matrix_get(covar, (size_t)k, (size_t)k));
        res->value[p] = exp(lx);
        res->ci95[p] = 0.5 * (exp(lx + t * s) - exp(lx - t * s));
        calib_param_set(g, kp, p, res->value[p]);
        res->value[p] = calib_param_get(g, kp, p);   /* as set: a fraction of a peak stops at 1 */
    }
    res->mape_after = mape(&d, g, kp, fit_idx, nf);
    res->mape_holdout_after = nh ? mape(&d, g, kp, hold_idx, nh) : 0;
    rc = 0;
done:
    if (wk) gsl_multifit_nlinear_free(wk);
    if (x) gsl_vector_free(x);
    if (covar) gsl_matrix_free(covar);
    sim_ctx_free(d.c);
    free(fit_idx);
    free(hold_idx);
    return rc;
}

int calib_fit(gpu_spec *g, kernel_profile *kp, const calib_row *rows, int n, const calib_opts *o, calib_result *res,
              char *err, int errlen)
{
    /* GSL's default handler aborts the process on a singular system; its
     * status codes are checked here instead. */
    gsl_error_handler_t *gsl_was = gsl_set_error_handler_off();
    int rc = fit_run(g, kp, rows, n, o, res, err, errlen);
    gsl_set_error_handler(gsl_was);
    return rc;
}

/* Writes the head comment of a calibrated file. */
static void write_head(FILE *f, const char *what, const char *source, const calib_result *res, const char *from)
{
    char when[32];
    time_t t = time(NULL);
    struct tm tmv;
    gmtime_r(&t, &tmv);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    fprintf(f, "# %s: calibrated by leansim calibrate %s (commit %s) on %s\n", what, LEANSIM_VERSION,
            LEANSIM_GIT_COMMIT, when);
    fprintf(f, "# from %s; starting file %s\n", from, source);
    if (!res->n_params) {   /* --band-only, --chip-band: no MAPE moved */
        fprintf(f, "# nothing fitted: the bands of %d rows, %d held out; the other fields are the starting file's\n",
                res->n_fit, res->n_holdout);
        return;
    }
    fprintf(f, "# %d rows fitted, %d held out; MAPE %.2f%% -> %.2f%%", res->n_fit, res->n_holdout, res->mape_before,
            res->mape_after);
    if (res->n_holdout) fprintf(f, " (held out: %.2f%% -> %.2f%%)", res->mape_holdout_before, res->mape_holdout_after);
    fprintf(f, "\n# fitted fields carry their 95%% interval; the others are the starting file's\n");
}

/* Writes "key = value", with the fit's interval when key was fitted. */
static void write_field(FILE *f, const char *key, const char *val, const calib_result *res)
{
    fprintf(f, "%s = %s", key, val);
    for (int p = 0; p < CALIB_COUNT; p++)
        if (!strcmp(key, param_names[p]) && res->ci95[p] > 0) {
            if (isfinite(res->ci95[p])) fprintf(f, "    # fit, 95%% CI +- %.3g", res->ci95[p]);
            else fprintf(f, "    # fit, not identified by these rows (interval unbounded)");
        }
    fputc('\n', f);
}

/* Writes a calibrated file: the head, then every key of a file type
 * through its accessors (key and value text of key i of obj). */
typedef struct file_type {
    int (*count)(void);
    const char *(*key)(int i);
    void (*format)(const void *obj, int i, char *buf, int len);
    int (*parse)(const char *text, const char *file, char *err, int errlen);   /* 0 when text loads */
} file_type;

/* The text is parsed as `simulate --gpu/--kernel FILE` will read it before
 * it is put in place: a fitted value outside what the file holds (a
 * fraction above 1, a ceiling below 1 GB/s) is refused, not written. */
static int write_file(const char *opt, const char *path, const file_type *ft, const void *obj, const char *what,
                      const char *source, const calib_result *res, const char *from, char *err, int errlen)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        snprintf(err, (size_t)errlen, "%s %s: out of memory", opt, path);
        return -1;
    }
    write_head(f, what, source, res, from);
    char val[640];
    for (int i = 0; i < ft->count(); i++) {
        ft->format(obj, i, val, sizeof val);
        write_field(f, ft->key(i), val, res);
    }
    if (fclose(f) || !text) {
        free(text);
        snprintf(err, (size_t)errlen, "%s %s: out of memory", opt, path);
        return -1;
    }
    char why[512];
    if (ft->parse(text, path, why, sizeof why)) {
        free(text);
        snprintf(err, (size_t)errlen, "%s %s: not written, it would not load back: %s", opt, path, why);
        return -1;
    }
    fmt_file o;   /* written whole or not at all */
    if (fmt_file_open(&o, path)) {
        free(text);
        snprintf(err, (size_t)errlen, "%s %s: cannot open for writing", opt, path);
        return -1;
    }
    int wrc = fwrite(text, 1, len, o.f) != len;
    free(text);
    if (wrc) {
        fmt_file_abort(&o);
        snprintf(err, (size_t)errlen, "%s %s: write failed", opt, path);
        return -1;
    }
    if (fmt_file_commit(&o)) {
        snprintf(err, (size_t)errlen, "%s %s: write failed", opt, path);
        return -1;
    }
    return 0;
}

static void spec_format(const void *obj, int i, char *buf, int len)
{
    gpu_spec_format(obj, i, buf, len);
}

static void prof_format(const void *obj, int i, char *buf, int len)
{
    kprof_format(obj, i, buf, len);
}

static int spec_parse(const char *text, const char *file, char *err, int errlen)
{
    gpu_spec g;
    return gpu_spec_parse(&g, text, file, err, errlen);
}

static int prof_parse(const char *text, const char *file, char *err, int errlen)
{
    kernel_profile k;
    return kprof_parse(&k, text, file, err, errlen);
}

int calib_spec_write(const gpu_spec *g, const char *path, const calib_result *res, const char *from, char *err,
                     int errlen)
{
    static const file_type ft = {gpu_spec_key_count, gpu_spec_key, spec_format, spec_parse};
    return write_file("--out", path, &ft, g, g->full_name, g->source, res, from, err, errlen);
}

int calib_kernel_write(const kernel_profile *k, const char *path, const calib_result *res, const char *from,
                       char *err, int errlen)
{
    static const file_type ft = {kprof_key_count, kprof_key, prof_format, prof_parse};
    return write_file("--out-kernel", path, &ft, k, k->full_name, k->source, res, from, err, errlen);
}

enum { SMBW_MAX_SMS = 4096 };

/* Adds one microbenchmark file to *plateau, *used and best[] (the most
 * read on each SM count), its rows of chip `gpu` (calib_sm_bandwidth);
 * 0, or -1 with err set. */
static int smbw_read(const char *path, const char *gpu, const char *(*gpu_map)(const char *), double *plateau,
                     int *used, double *best, char *err, int errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, (size_t)errlen, "--microbench %s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int c_sms = -1, c_rate = -1, c_bw = -1, c_gpu = -1, lineno = 0, rows = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        char *col[64];
        int n = 0;
        for (char *p = line, *c; n < 64; p = c + 1) {
            col[n++] = p;
            if (!(c = strchr(p, ','))) break;
            *c = 0;
        }
        if (lineno == 1) {
            for (int i = 0; i < n; i++) {
                if (!strcmp(col[i], "sms_used")) c_sms = i;
                if (!strcmp(col[i], "gbps_per_sm")) c_rate = i;
                if (!strcmp(col[i], "gbps")) c_bw = i;
                if (!strcmp(col[i], "gpu")) c_gpu = i;
            }
            if (c_sms < 0 || c_rate < 0 || c_bw < 0) {
                fclose(f);
                snprintf(err, (size_t)errlen, "--microbench %s:1: no sms_used, gbps and gbps_per_sm columns "
                         "(a leanbench --sm-bandwidth CSV)", path);
                return -1;
            }
            continue;
        }
        if (!line[0]) continue;
        char *e1 = NULL, *e2 = NULL, *e3 = NULL;
        double sms = c_sms < n ? strtod(col[c_sms], &e1) : NAN, rate = c_rate < n ? strtod(col[c_rate], &e2) : NAN;
        double bw = c_bw < n ? strtod(col[c_bw], &e3) : NAN;
        if (c_sms >= n || c_rate >= n || c_bw >= n || *e1 || *e2 || *e3 || !(sms >= 1 && sms <= SMBW_MAX_SMS) ||
            sms != floor(sms) || !(rate >= 0) || !isfinite(rate) || !(bw >= 0) || !isfinite(bw)) {
            fclose(f);
            snprintf(err, (size_t)errlen, "--microbench %s:%d: bad sms_used, gbps or gbps_per_sm", path, lineno);
            return -1;
        }
        const char *of = c_gpu >= 0 && c_gpu < n && gpu_map ? gpu_map(col[c_gpu]) : NULL;
        if (of && gpu && strcmp(of, gpu)) {   /* another chip's ceilings would pass for this one's */
            snprintf(err, (size_t)errlen, "--microbench %s:%d: a row of %s, not %s >>> '%.60s'", path, lineno, of,
                     gpu, col[c_gpu]);
            fclose(f);
            return -1;
        }
        rows++;
        if (bw > best[(int)sms]) best[(int)sms] = bw;
        if (sms > 32) continue;   /* on few SMs no shared limit of the chip binds */
        if (rate > *plateau) *plateau = rate;
        (*used)++;
    }
    fclose(f);
    if (!rows) {
        snprintf(err, (size_t)errlen, "--microbench %s: %s", path,
                 lineno ? "no rows below its header" : "empty (a leanbench --sm-bandwidth CSV has a header line)");
        return -1;
    }
    return 0;
}

int calib_sm_bandwidth(const char *paths, const char *gpu, const char *(*gpu_map)(const char *), double *plateau,
                       int *used, specfile_pairs *ceil, char *err, int errlen)
{
    static double best[SMBW_MAX_SMS + 1];
    memset(best, 0, sizeof best);
    *plateau = 0;
    *used = 0;
    memset(ceil, 0, sizeof *ceil);
    char path[1024];
    for (const char *p = paths; *p;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof path) {
            snprintf(err, (size_t)errlen, "--microbench %s: expected FILE.csv[,FILE.csv...]", paths);
            return -1;
        }
        memcpy(path, p, n);
        path[n] = 0;
        if (smbw_read(path, gpu, gpu_map, plateau, used, best, err, errlen)) return -1;
        p += n + (p[n] == ',');
    }
    if (!*used) {
        snprintf(err, (size_t)errlen, "--microbench %s: no rows on 32 SMs or fewer", paths);
        return -1;
    }
    for (int m = 1; m <= SMBW_MAX_SMS && ceil->n < SPECF_PAIRS_MAX; m++)
        if (best[m] > 0 && best[m] < 0.9 * m * *plateau) {
            ceil->at[ceil->n] = m;
            ceil->v[ceil->n++] = best[m];
        }
    if (ceil->n < 2) ceil->n = 0;
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int calib_chip_band(const gpu_spec *g, const kernel_profile *k, const calib_row *rows, int n, const calib_opts *o,
                    double *lo, double *hi, double *coverage)
{
    fit_data d;
    memset(&d, 0, sizeof d);
    d.rows = rows;
    d.engine = o->engine;
    d.c = sim_ctx_alloc();
    gpu_spec g0 = *g;
    g0.band_lo_pct = g0.band_hi_pct = 0;
    g0.band_kernel.n = 0;
    /* per row: measured / predicted - 1 (percent) beyond the regime's lower and upper bound */
    double *below = malloc(sizeof(double) * (size_t)(n + 1)), *above = malloc(sizeof(double) * (size_t)(n + 1));
    double *out = malloc(sizeof(double) * (size_t)(n + 1)), *olo = malloc(sizeof(double) * (size_t)(n + 1)),
           *ohi = malloc(sizeof(double) * (size_t)(n + 1));
    int ni = 0, no = 0, rc = -1;
    if (!d.c || !below || !above || !out || !olo || !ohi) goto done;
    for (int i = 0; i < n; i++) {
        double e = row_err(&d, &g0, k, &rows[i]);   /* predicted / measured - 1 */
        if (!isfinite(e) || e <= -1) continue;
        double r = 100 * (1.0 / (1.0 + e) - 1.0);    /* measured / predicted - 1, percent */
        double l, h;
        sim_band(&g0, k, rows[i].po.kind, &rows[i].w, d.engine == MODEL_ENGINE_MODEL, &l, &h);
        if (calib_row_held(o, rows, i)) {
            out[no] = r;
            olo[no] = l;
            ohi[no++] = h;
        } else {
            below[ni] = r - l;
            above[ni++] = r - h;
        }
    }
    if (!ni) goto done;
    qsort(below, (size_t)ni, sizeof *below, cmp_d);
    qsort(above, (size_t)ni, sizeof *above, cmp_d);
    *lo = fmin(0, below[(int)floor(0.05 * (ni - 1) + 0.5)]);
    *hi = fmax(0, above[(int)floor(0.95 * (ni - 1) + 0.5)]);
    int cov = 0;
    for (int i = 0; i < no; i++) cov += out[i] >= olo[i] + *lo && out[i] <= ohi[i] + *hi;
    *coverage = no ? (double)cov / no : NAN;
    rc = 0;
done:
    sim_ctx_free(d.c);
    free(below);
    free(above);
    free(out);
    free(olo);
    free(ohi);
    return rc;
}

int calib_band(const gpu_spec *g, const kernel_profile *k, const calib_row *rows, int n, const calib_opts *o,
               double *lo, double *hi, double *band_lo, double *band_hi, double *coverage)
{
    fit_data d;
    memset(&d, 0, sizeof d);
    d.rows = rows;
    d.engine = o->engine;
    d.c = sim_ctx_alloc();
    double *in = malloc(sizeof(double) * (size_t)(n + 1)), *out = malloc(sizeof(double) * (size_t)(n + 1));
    double *rin = malloc(sizeof(double) * (size_t)(n + 1));
    int *out_band = malloc(sizeof(int) * (size_t)(n + 1)), *in_band = malloc(sizeof(int) * (size_t)(n + 1));
    int ni = 0, no = 0, rc = -1;
    if (!d.c || !in || !out || !rin || !out_band || !in_band) goto done;
    for (int i = 0; i < n; i++) {
        double e = row_err(&d, g, k, &rows[i]);   /* predicted / measured - 1 */
        if (!isfinite(e) || e <= -1) continue;
        double r = 1.0 / (1.0 + e) - 1.0;            /* measured / predicted - 1 */
        int held = calib_row_held(o, rows, i);
        int band = kprof_band_of(k, rows[i].po.kind, rows[i].w.heads / rows[i].w.kv_heads, rows[i].w.head_dim);
        if (held) {
            out_band[no] = band;
            out[no++] = r;
        } else {
            in_band[ni] = band;
            in[ni++] = r;
        }
    }
    if (!ni) goto done;
    /* 5th and 95th percentiles of v[m], in percent, the band holding 0 */
#define PCT_BAND(v, m, l, h) do { qsort(v, (size_t)(m), sizeof *(v), cmp_d); \
        l = fmin(0, 100 * (v)[(int)floor(0.05 * ((m) - 1) + 0.5)]); \
        h = fmax(0, 100 * (v)[(int)floor(0.95 * ((m) - 1) + 0.5)]); } while (0)
    kernel_profile kb;   /* the bands found, for the coverage */
    memset(&kb, 0, sizeof kb);
    for (int b = 0; band_lo && b < KPROF_BAND_COUNT; b++) {
        int m = 0;
        for (int i = 0; i < ni; i++)
            if (in_band[i] == b) rin[m++] = in[i];
        band_lo[b] = band_hi[b] = 0;
        if (m >= CALIB_BAND_MIN_ROWS) PCT_BAND(rin, m, band_lo[b], band_hi[b]);
        kb.err_band_lo_pct[b] = band_lo[b];
        kb.err_band_hi_pct[b] = band_hi[b];
    }
    PCT_BAND(in, ni, *lo, *hi);
#undef PCT_BAND
    kb.err_lo_pct = *lo;
    kb.err_hi_pct = *hi;
    int cov = 0;
    for (int i = 0; i < no; i++) {
        double l, h;
        kprof_band(&kb, out_band[i], 0, &l, &h);
        cov += 100 * out[i] >= l && 100 * out[i] <= h;
    }
    *coverage = no ? (double)cov / no : NAN;
    rc = 0;
done:
    sim_ctx_free(d.c);
    free(in);
    free(out);
    free(rin);
    free(in_band);
    free(out_band);
    return rc;
}
