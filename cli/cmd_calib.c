/*
 * cmd_calib.c: `leansim calibrate --db results.db --gpu G`: fits the spec
 * fields no datasheet gives to the GPU's measured rows and prints each with
 * its 95% interval and the error before and after; --out writes a spec file.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmd.h"
#include "results.h"

enum { C_DB, C_GPU, C_KERNEL, C_SET, C_OUT, C_OUT_KERNEL, C_PARAMS, C_HALF, C_HOLDOUT, C_SM_ROWS, C_BAND_ONLY, C_CHIP_BAND,
       C_MICROBENCH, C_MODEL, C_XTOL, C_GTOL, C_FTOL, C_MAXITER };

static const args_opt calib_table[] = {
    {"db", "FILE", "the results database with the measured rows (required)", C_DB},
    {"gpu", "G", "whose rows: a spec name (required)", C_GPU},
    {"kernel", "NAME|FILE", "whose rows (default leansim; an outside kernel's rows are its CUDA-graph times)", C_KERNEL},
    {"set", "KEY=VALUE", "start from this value of a chip or kernel field (repeatable), e.g. a field at 0\n"
                         "set above 0 to fit it in log space", C_SET},
    {"out", "FILE.gpu", "write the fitted chip spec", C_OUT},
    {"out-kernel", "FILE.kernel", "write the fitted kernel profile", C_OUT_KERNEL},
    {"params", "P,...", "the fields to fit (below)", C_PARAMS},
    {"half", NULL, "fit the configurations of even hash and score the odd ones (as report --holdout)", C_HALF},
    {"holdout", "K", "keep every K-th row out (2 or more; 0: none)", C_HOLDOUT},
    {"sm-rows", NULL, "fit the rows run on fewer SMs instead of the whole GPU's (e.g. --params sm_gbps)", C_SM_ROWS},
    {"band-only", NULL, "fit nothing: the files' 90% error band (err_lo_pct, err_hi_pct) on the rows\n"
                        "(with --half: on the even half, and the share of the odd half inside it)", C_BAND_ONLY},
    {"chip-band", NULL, "fit nothing: the chip's spread beyond the kernel profile's band, for a chip the\n"
                        "profile was not fitted on (leansim's rows: band_lo_pct, band_hi_pct; another kernel's:\n"
                        "its entry of band_kernel); --out writes it", C_CHIP_BAND},
    {"microbench", "FILE.csv[,...]", "leanbench --sm-bandwidth CSVs: the chip's sm_max_gbps from the per-SM plateau and\n"
                               "its mem_bw_sms ceilings by SM count, before the fit", C_MICROBENCH},
    {"model", NULL, "residuals from the closed form instead of the simulator (with --band-only: the\n"
                    "closed form's own bands, err_model_*)", C_MODEL},
    {"xtol", "X", "solver step tolerance (GSL)", C_XTOL},
    {"gtol", "X", "solver gradient tolerance (GSL)", C_GTOL},
    {"ftol", "X", "solver residual tolerance (GSL)", C_FTOL},
    {"maxiter", "N", "solver iterations at most", C_MAXITER},
    {NULL, NULL, NULL, 0},
};

typedef struct calib_args {
    const char *dbpath, *gpu, *out, *kernel, *out_kernel, *microbench;
    const char *sets[32];
    int n_sets;
    int params_given, sm_rows, band_only, chip_band, holdout_given;
    const char *solver_opt;    /* the last of --xtol, --gtol, --ftol, --maxiter given (NULL: none) */
    calib_opts o;
} calib_args;

/* A solver tolerance for option name: above 0 (at 0 a test never passes,
 * and GSL's trust region can then shrink its step forever) and below 1. */
static int num_arg(const char *name, const char *v, double *out, char *err, int errlen)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !(x > 0 && x < 1)) {
        snprintf(err, (size_t)errlen, "%s %s: not a tolerance above 0 and below 1 (e.g. 1e-8)", name, v);
        return 2;
    }
    *out = x;
    return 0;
}

static int calib_opt(void *ctx, int id, const char *name, const char *v, char *err, int errlen)
{
    calib_args *a = ctx;
    calib_opts *o = &a->o;
    switch (id) {
    case C_DB: a->dbpath = v; return 0;
    case C_GPU: a->gpu = v; return 0;
    case C_KERNEL: a->kernel = v; return 0;
    case C_SET: return args_list_add(a->sets, &a->n_sets, 32, name, v, err, errlen);
    case C_OUT: a->out = v; return 0;
    case C_OUT_KERNEL: a->out_kernel = v; return 0;
    case C_MICROBENCH: a->microbench = v; return 0;
    case C_HALF: o->half = 1; return 0;
    case C_SM_ROWS: a->sm_rows = 1; return 0;
    case C_BAND_ONLY: a->band_only = 1; return 0;
    case C_CHIP_BAND: a->band_only = a->chip_band = 1; return 0;
    case C_MODEL: o->engine = MODEL_ENGINE_MODEL; return 0;
    case C_XTOL: a->solver_opt = "--xtol"; return num_arg(name, v, &o->xtol, err, errlen);
    case C_GTOL: a->solver_opt = "--gtol"; return num_arg(name, v, &o->gtol, err, errlen);
    case C_FTOL: a->solver_opt = "--ftol"; return num_arg(name, v, &o->ftol, err, errlen);
    case C_MAXITER: a->solver_opt = "--maxiter"; return opts_parse_int(name, v, 1, 1000000, &o->maxiter, err, errlen) ? 2 : 0;
    case C_HOLDOUT:
        a->holdout_given = 1;
        if (opts_parse_int(name, v, 0, 1000000, &o->holdout, err, errlen)) return 2;
        if (o->holdout == 1) {   /* every row out: nothing left to fit */
            snprintf(err, (size_t)errlen, "%s 1: would keep every row out (2 or more; 0: none)", name);
            return 2;
        }
        return 0;
    case C_PARAMS: {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", v);
        o->mask = 0;
        a->params_given = 1;
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int p;
            for (p = 0; p < CALIB_COUNT; p++)
                if (!strcmp(t, calib_param_name(p))) break;
            if (p == CALIB_COUNT) {
                snprintf(err, (size_t)errlen, "%s %s: unknown parameter '%s' (leansim calibrate --help)", name, v, t);
                return 2;
            }
            o->mask |= 1u << p;
        }
        if (!o->mask) {
            snprintf(err, (size_t)errlen, "%s '%s': none named", name, v);
            return 2;
        }
        return 0;
    }
    }
    return 2;
}

int cmd_calibrate(int argc, char **argv)
{
    char about[2048];
    int m = snprintf(about, sizeof about,
                     "  fits chip and kernel fields to the rows G measured with one kernel (gsl_multifit_nlinear,\n"
                     "  trust region, parameters in log space, residual = simulated / measured time - 1).\n"
                     "  params (default, leansim's rows:");
    for (int p = 0; p < CALIB_COUNT && m < (int)sizeof about; p++)
        if (CALIB_DEFAULT_MASK & (1u << p)) m += snprintf(about + m, sizeof about - (size_t)m, " %s", calib_param_name(p));
    if (m < (int)sizeof about)
        m += snprintf(about + m, sizeof about - (size_t)m,
                      ";\n  an outside kernel's: its kernel fields cta_inflight_bytes, cta_prologue_ns, partial_write_ns,\n"
                      "  merge_round_ns, call_extra_us and the efficiency of its compute path); all:");
    for (int p = 0; p < CALIB_COUNT && m < (int)sizeof about; p++)
        m += snprintf(about + m, sizeof about - (size_t)m, " %s%s", calib_param_name(p),
                      calib_param_is_chip(p) ? "(chip)" : "");
    if (m < (int)sizeof about)
        snprintf(about + m, sizeof about - (size_t)m,
                 ";\n  mem_sm_share_exp is fitted alone: a scan of 0..2 and a parabola through its best steps\n"
                 "  (the simulator's time jumps at small changes of it, which the solver's differences meet)\n");
    args_cmd c = {"calibrate",
                  "--db results.db --gpu G [--kernel NAME|FILE] [--out FILE.gpu] [--out-kernel FILE.kernel] [options]",
                  about, 0, {calib_table, NULL}};
    static calib_args a;
    memset(&a, 0, sizeof a);
    a.kernel = KPROF_DEFAULT;
    calib_opts_init(&a.o);
    int prc = args_parse(&c, argc, argv, NULL, calib_opt, &a, NULL, 0, NULL);
    if (prc >= 0) return prc;
    const char *dbpath = a.dbpath, *gpu = a.gpu, *out = a.out, *kernel = a.kernel, *out_kernel = a.out_kernel;
    const char *microbench = a.microbench;
    int params_given = a.params_given, sm_rows = a.sm_rows, band_only = a.band_only, chip_band = a.chip_band;
    calib_opts o = a.o;
    char err[1024];
    if (!dbpath || !gpu) {
        fprintf(stderr, "leansim calibrate: --db and --gpu are required\n");
        return 2;
    }
    /* options that would be ignored, or would write what they do not mean, are refused */
    const char *nofit = chip_band ? "--chip-band" : "--band-only";
    char why[256] = "";
    if (a.holdout_given && o.half)
        snprintf(why, sizeof why, "--holdout with --half: --half holds out the odd half already (one or the other)");
    else if (band_only && params_given)
        snprintf(why, sizeof why, "--params with %s: %s fits nothing", nofit, nofit);
    else if (band_only && a.solver_opt)
        snprintf(why, sizeof why, "%s with %s: %s fits nothing (no solver runs)", a.solver_opt, nofit, nofit);
    else if (band_only && sm_rows)
        snprintf(why, sizeof why, "--sm-rows with %s: a band is of the rows on the whole GPU (a profile's bands "
                 "apply to every prediction)", nofit);
    else if (chip_band && out_kernel)
        snprintf(why, sizeof why, "--out-kernel with --chip-band: it changes nothing of the kernel profile (--out "
                 "writes the chip's band)");
    else if (out && out_kernel && !strcmp(out, out_kernel))
        snprintf(why, sizeof why, "--out and --out-kernel %s: one file for two (the profile would replace the spec)",
                 out);
    else if (band_only && !chip_band && out && !microbench)
        snprintf(why, sizeof why, "--out with --band-only: it changes nothing of the chip (--out-kernel writes the "
                 "bands)");
    if (why[0]) {
        fprintf(stderr, "leansim calibrate: %s\n", why);
        return 2;
    }
    gpu_spec g;
    kernel_profile kp;
    if (kprof_pair_load(&g, &kp, gpu, kernel, a.sets, a.n_sets, err, sizeof err)) {
        fprintf(stderr, "leansim calibrate: %s\n", err);
        return 2;
    }
    const unsigned at0 = params_given && !band_only ? o.mask & ~calib_mask_fittable(&g, &kp, o.mask) : 0;
    for (int p = 0; p < CALIB_COUNT; p++)   /* a named field must start above 0 */
        if (at0 & (1u << p)) {
            fprintf(stderr, "leansim calibrate: --params %s: it is 0 in %s, and fits run in log space (--set %s=X "
                            "above 0 to start it there)\n", calib_param_name(p), calib_param_is_chip(p) ? g.name : kp.name,
                    calib_param_name(p));
            return 2;
        }
    /* outputs are checked before the fit, which can take minutes */
    const char *outs[2] = {out, out_kernel}, *names[2] = {"--out", "--out-kernel"};
    for (int i = 0; i < 2; i++) {
        if (!outs[i]) continue;
        FILE *t = fopen(outs[i], "r");
        int existed = t != NULL;
        if (t) fclose(t);
        if (!(t = fopen(outs[i], "a"))) {
            fprintf(stderr, "leansim calibrate: %s %s: cannot open for writing: %s\n", names[i], outs[i], strerror(errno));
            return 2;
        }
        fclose(t);
        if (!existed) remove(outs[i]);
    }
    FILE *probe = fopen(dbpath, "rb");
    if (!probe) {
        fprintf(stderr, "leansim calibrate: --db %s: cannot open\n", dbpath);
        return 2;
    }
    fclose(probe);
    sqlite3 *db;
    int src = store_open(&db, dbpath, err, sizeof err);
    if (src) {
        fprintf(stderr, "leansim calibrate: %s\n", err);
        return src == STORE_EINPUT ? 2 : 1;
    }
    int microbench_ceil = 0;   /* 1: mem_bw_sms from the microbenchmark */
    if (microbench) {
        double plateau;
        int used;
        specfile_pairs ceil;
        if (calib_sm_bandwidth(microbench, g.name, validate_gpu_map, &plateau, &used, &ceil, err, sizeof err)) {
            fprintf(stderr, "leansim calibrate: %s\n", err);
            store_close(db);
            return 2;
        }
        printf("# sm_max_gbps from %s: %.1f (%.1f before; the most one SM read, over %d rows on <= 32 SMs)\n",
               microbench, plateau, g.sm_max_gbps, used);
        g.sm_max_gbps = plateau;
        if (ceil.n) g.mem_bw_sms = ceil;   /* none found: the chip's table stays, not "none" */
        microbench_ceil = ceil.n > 0;
        char t[640] = "";
        for (int i = 0; i < gpu_spec_key_count(); i++)
            if (!strcmp(gpu_spec_key(i), "mem_bw_sms")) gpu_spec_format(&g, i, t, sizeof t);
        if (ceil.n)
            printf("# mem_bw_sms from %s: %s (the most each SM count read, where below 90%% of its SMs at that "
                   "rate)\n", microbench, t);
        else
            printf("# mem_bw_sms: %s as in %s (%s has fewer than two SM counts that read below 90%% of their SMs "
                   "at that rate)\n", t, g.source, microbench);
    }
    if (!params_given && !kprof_is_default(&kp)) o.mask = calib_kernel_mask(&kp);
    if (!params_given && !band_only) {   /* a default field at 0 cannot start a fit in log space: left as it is */
        unsigned fit = calib_mask_fittable(&g, &kp, o.mask);
        for (int p = 0; p < CALIB_COUNT; p++)
            if ((o.mask & ~fit) & (1u << p))
                fprintf(stderr, "calibrate: %s is 0 in %s: not fitted (--set it above 0 and name it in --params to fit it)\n",
                        calib_param_name(p), calib_param_is_chip(p) ? g.name : kp.name);
        o.mask = fit;
    }
    calib_row *rows;
    int n = calrows_load(db, g.name, kp.name, sm_rows, &rows, err, sizeof err);
    store_close(db);
    if (n < 0) {
        fprintf(stderr, "leansim calibrate: %s\n", err);
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, "leansim calibrate: --db %s: no measured rows of %s under kernel %s%s\n", dbpath, g.name, kp.name,
                sm_rows ? " run on fewer SMs than the GPU has" : " on the whole GPU");
        free(rows);
        return 2;
    }
    calib_result res;
    o.progress = stderr;
    if (band_only || chip_band)
        fprintf(stderr, "calibrate: %d rows, nothing fitted (%s)\n", n, chip_band ? "--chip-band" : "--band-only");
    else
        fprintf(stderr, "calibrate: %d rows, %d parameters; one simulation of every row per parameter and iteration\n", n,
                __builtin_popcount(o.mask));
    gpu_spec start = g;
    kernel_profile kstart = kp;
    o.drop_unmoved = !params_given;   /* the default fields: those these rows do not pin are left as they are */
    if (band_only) {
        memset(&res, 0, sizeof res);
        o.mask = 0;
        for (int i = 0; i < n; i++) res.n_holdout += calib_row_held(&o, rows, i);
        res.n_fit = n - res.n_holdout;
    } else if (calib_fit(&g, &kp, rows, n, &o, &res, err, sizeof err)) {
        fprintf(stderr, "leansim calibrate: %s, kernel %s: %s\n", g.name, kp.name, err);
        free(rows);
        return 1;
    }
    for (int p = 0; p < CALIB_COUNT; p++)
        if (res.unmoved & (1u << p)) {
            fprintf(stderr, "calibrate: no fitted row's time moves with %s = %g: not fitted (--params without it to "
                            "silence this)\n", calib_param_name(p), calib_param_get(&start, &kstart, p));
            o.mask &= ~(1u << p);
        }
    if (band_only)
        printf("# calibrate %s, kernel %s, from %s: %d rows, nothing fitted (the bands only: of %d rows, %d held out "
               "and scored), engine %s\n", g.name, kp.name, dbpath, n, res.n_fit, res.n_holdout,
               model_engines[o.engine].name);
    else
        printf("# calibrate %s, kernel %s, from %s: %d rows fitted, %d held out, %d iterations (%s), engine %s\n",
               g.name, kp.name, dbpath, res.n_fit, res.n_holdout, res.iters,
               res.status == 0 ? "converged" : "iteration limit", model_engines[o.engine].name);
    if (!band_only) printf("%-24s %14s %14s %14s\n", "parameter", "start", "fit", "95% CI +-");
    for (int p = 0; p < CALIB_COUNT; p++) {
        if (!(o.mask & (1u << p))) continue;
        printf("%-24s %14.6g %14.6g %14.3g  %s\n", calib_param_name(p), calib_param_get(&start, &kstart, p),
               res.value[p], res.ci95[p], calib_param_is_chip(p) ? "chip" : "kernel");
    }
    if (!band_only) printf("MAPE fit rows:  %.2f%% -> %.2f%%\n", res.mape_before, res.mape_after);
    if (!chip_band) {   /* the profile's own band; --chip-band keeps it as loaded */
        double lo, hi, cov, blo[KPROF_BAND_COUNT], bhi[KPROF_BAND_COUNT];
        static const char *const band_names[KPROF_BAND_COUNT] = {
            "CUDA-core path", "fa2", "split", "streamk, hybrid", "balanced",
            "fa2, wide group", "split, wide group", "streamk, wide group", "balanced, wide group"};
        if (!calib_band(&g, &kp, rows, n, &o, &lo, &hi, blo, bhi, &cov)) {
            /* written as printed: to 0.01% */
            lo = round(lo * 100) / 100 + 0.0, hi = round(hi * 100) / 100 + 0.0;   /* + 0.0: no -0 */
            for (int b = 0; b < KPROF_BAND_COUNT; b++)
                blo[b] = round(blo[b] * 100) / 100 + 0.0, bhi[b] = round(bhi[b] * 100) / 100 + 0.0;
            /* the closed form's residuals give its own bands (err_model_*) */
            const int cf = o.engine == MODEL_ENGINE_MODEL;
            *(cf ? &kp.err_model_lo_pct : &kp.err_lo_pct) = lo;
            *(cf ? &kp.err_model_hi_pct : &kp.err_hi_pct) = hi;
            printf("90%% band of measured / predicted - 1 on the fit rows%s: %+.2f%% .. %+.2f%%\n",
                   cf ? " (closed form: the err_model_ fields)" : "", lo, hi);
            for (int b = 0; b < KPROF_BAND_COUNT; b++) {
                (cf ? kp.err_model_band_lo_pct : kp.err_band_lo_pct)[b] = blo[b];
                (cf ? kp.err_model_band_hi_pct : kp.err_band_hi_pct)[b] = bhi[b];
                if (blo[b] != 0 || bhi[b] != 0)
                    printf("  by regime, %-21s %+.2f%% .. %+.2f%%\n", band_names[b], blo[b], bhi[b]);
                else
                    printf("  by regime, %-21s fewer than %d rows: the band above\n", band_names[b], CALIB_BAND_MIN_ROWS);
            }
            if (isfinite(cov)) printf("held-out rows inside their regime's band: %.0f%%\n", 100 * cov);
        }
    }
    if (chip_band) {
        double lo, hi, cov;
        if (calib_chip_band(&g, &kp, rows, n, &o, &lo, &hi, &cov)) {
            fprintf(stderr, "leansim calibrate: --chip-band: no row of %s runs\n", g.name);
            free(rows);
            return 1;
        }
        lo = round(lo * 100) / 100 + 0.0, hi = round(hi * 100) / 100 + 0.0;   /* + 0.0: no -0 */
        if (kprof_is_default(&kp)) {   /* leansim's rows: the chip's band, for every kernel without its own */
            g.band_lo_pct = lo;
            g.band_hi_pct = hi;
        } else if (gpu_spec_band_set(&g, kp.name, lo, hi)) {   /* an outside kernel's rows: its entry of band_kernel */
            fprintf(stderr, "leansim calibrate: --chip-band: %s's band_kernel holds %d kernels already\n", g.name,
                    SPECF_BANDS_MAX);
            free(rows);
            return 1;
        }
        printf("chip band: %s beyond kernel %s's band: %+.2f%% .. %+.2f%% (%s)\n", g.name, kp.name, lo, hi,
               kprof_is_default(&kp) ? "band_lo_pct, band_hi_pct" : "its entry of band_kernel");
        if (isfinite(cov)) printf("held-out rows inside the widened band: %.0f%%\n", 100 * cov);
    }
    if (res.n_holdout) printf("MAPE held out:  %.2f%% -> %.2f%%\n", res.mape_holdout_before, res.mape_holdout_after);
    free(rows);
    char from[1600], held[64] = "";
    if (o.half) snprintf(held, sizeof held, " (even half)");
    else if (o.holdout) snprintf(held, sizeof held, " (one row in %d held out)", o.holdout);
    int fm = snprintf(from, sizeof from, "measurements of gpu '%s', kernel '%s' in %s%s", g.name, kp.name, dbpath, held);
    if (microbench && fm > 0 && fm < (int)sizeof from)
        snprintf(from + fm, sizeof from - (size_t)fm, "; sm_max_gbps%s from --microbench %s",
                 microbench_ceil ? " and mem_bw_sms" : "", microbench);
    if (out) {
        if (calib_spec_write(&g, out, &res, from, err, sizeof err)) {
            fprintf(stderr, "leansim calibrate: %s\n", err);
            return 1;
        }
        printf("wrote %s\n", out);
    }
    if (out_kernel) {
        if (calib_kernel_write(&kp, out_kernel, &res, from, err, sizeof err)) {
            fprintf(stderr, "leansim calibrate: %s\n", err);
            return 1;
        }
        printf("wrote %s\n", out_kernel);
    }
    return 0;
}
