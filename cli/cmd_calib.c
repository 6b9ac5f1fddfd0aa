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

#include "cmd.h"
#include "results.h"

static int num_arg(const char *opt, const char *v, double lo, double *out)
{
    char *end;
    errno = 0;
    double x = v ? strtod(v, &end) : 0;
    if (!v || end == v || *end || errno || !(x >= lo)) {
        fprintf(stderr, "leansim calibrate: %s %s: not a number >= %g\n", opt, v ? v : "(missing)", lo);
        return -1;
    }
    *out = x;
    return 0;
}

int cmd_calibrate(int argc, char **argv)
{
    const char *dbpath = NULL, *gpu = NULL, *out = NULL, *kernel = KPROF_DEFAULT, *out_kernel = NULL;
    const char *microbench = NULL;
    int params_given = 0, sm_rows = 0, band_only = 0;
    calib_opts o;
    calib_opts_init(&o);
    char err[1024];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: leansim calibrate --db results.db --gpu G [--kernel NAME|FILE] [--out FILE.gpu]\n"
                   "                         [--out-kernel FILE.kernel] [--params P,...] [--half] [--holdout K] [--sm-rows]\n"
                   "                         [--band-only]\n"
                   "                         [--microbench FILE.csv] [--model] [--xtol X --gtol X --ftol X --maxiter N]\n"
                   "  fits chip and kernel fields to the rows G measured with one kernel (gsl_multifit_nlinear,\n"
                   "  trust region, parameters in log space, residual = simulated / measured time - 1).\n"
                   "  --kernel: whose rows (default leansim; an outside kernel's rows are its CUDA-graph times);\n"
                   "  --out writes the chip spec, --out-kernel the kernel profile; --model uses the closed form;\n"
                   "  --half fits the configurations of even hash and scores the odd ones (as report --holdout);\n"
                   "  --holdout K keeps every K-th row out; --microbench FILE (leanbench --sm-bandwidth CSV) sets\n"
                   "  the chip's sm_max_gbps from the per-SM plateau before the fit; --sm-rows fits the rows run on\n"
                   "  fewer SMs instead of the whole GPU's (e.g. --params sm_gbps); --band-only fits nothing and\n"
                   "  gives the files' 90%% error band (err_lo_pct, err_hi_pct) on the rows (with --half: on the\n"
                   "  even half, and the share of the odd half inside it).\n"
                   "  params (default: leansim's rows: all but tensor_eff and graph_launch_us; an outside kernel's:\n"
                   "  its kernel fields cta_inflight_bytes, cta_prologue_ns, partial_write_ns, merge_round_ns and\n"
                   "  the efficiency of its compute path):");
            for (int p = 0; p < CALIB_COUNT; p++) printf(" %s%s", calib_param_name(p), calib_param_is_chip(p) ? "(chip)" : "");
            printf("\n");
            return 0;
        }
        if (!strcmp(a, "--model")) { o.use_model = 1; continue; }
        if (!strcmp(a, "--half")) { o.half = 1; continue; }
        if (!strcmp(a, "--sm-rows")) { sm_rows = 1; continue; }
        if (!strcmp(a, "--band-only")) { band_only = 1; continue; }
        if (!v) {
            fprintf(stderr, "leansim calibrate: %s: missing value (or unknown option)\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--db")) dbpath = v;
        else if (!strcmp(a, "--gpu")) gpu = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--kernel")) kernel = v;
        else if (!strcmp(a, "--out-kernel")) out_kernel = v;
        else if (!strcmp(a, "--microbench")) microbench = v;
        else if (!strcmp(a, "--xtol")) { if (num_arg(a, v, 0, &o.xtol)) return 2; }
        else if (!strcmp(a, "--gtol")) { if (num_arg(a, v, 0, &o.gtol)) return 2; }
        else if (!strcmp(a, "--ftol")) { if (num_arg(a, v, 0, &o.ftol)) return 2; }
        else if (!strcmp(a, "--maxiter") || !strcmp(a, "--holdout")) {
            if (num_arg(a, v, a[2] == 'm' ? 1 : 0, &x) || x != (int)x || x > 1e6) {
                fprintf(stderr, "leansim calibrate: %s %s: not an integer\n", a, v);
                return 2;
            }
            if (a[2] == 'm') o.maxiter = (int)x;
            else o.holdout = (int)x;
        } else if (!strcmp(a, "--params")) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s", v);
            o.mask = 0;
            params_given = 1;
            for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                int p;
                for (p = 0; p < CALIB_COUNT; p++)
                    if (!strcmp(t, calib_param_name(p))) break;
                if (p == CALIB_COUNT) {
                    fprintf(stderr, "leansim calibrate: --params %s: unknown parameter '%s' (leansim calibrate --help)\n", v, t);
                    return 2;
                }
                o.mask |= 1u << p;
            }
            if (!o.mask) {
                fprintf(stderr, "leansim calibrate: --params '%s': none named\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "leansim calibrate: unknown option '%s'\n", a);
            return 2;
        }
    }
    if (!dbpath || !gpu) {
        fprintf(stderr, "leansim calibrate: --db and --gpu are required\n");
        return 2;
    }
    gpu_spec g;
    kernel_profile kp;
    if (kprof_pair_load(&g, &kp, gpu, kernel, NULL, 0, err, sizeof err)) {
        fprintf(stderr, "leansim calibrate: %s\n", err);
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
    if (microbench) {
        double plateau;
        int used;
        if (calib_sm_bandwidth(microbench, &plateau, &used, err, sizeof err)) {
            fprintf(stderr, "leansim calibrate: %s\n", err);
            return 2;
        }
        printf("# sm_max_gbps from %s: %.1f (%.1f before; the most one SM read, over %d rows on <= 32 SMs)\n",
               microbench, plateau, g.sm_max_gbps, used);
        g.sm_max_gbps = plateau;
    }
    if (!params_given && !kprof_is_default(&kp)) o.mask = calib_kernel_mask(&kp);
    FILE *probe = fopen(dbpath, "rb");
    if (!probe) {
        fprintf(stderr, "leansim calibrate: --db %s: cannot open\n", dbpath);
        return 2;
    }
    fclose(probe);
    sqlite3 *db;
    if (store_open(&db, dbpath, err, sizeof err)) {
        fprintf(stderr, "leansim calibrate: %s\n", err);
        return 1;
    }
    calib_row *rows;
    int n = calrows_load(db, g.name, kp.name, sm_rows, &rows, err, sizeof err);
    store_close(db);
    if (n < 0) {
        fprintf(stderr, "leansim calibrate: %s\n", err);
        return 1;
    }
    calib_result res;
    o.progress = stderr;
    fprintf(stderr, "calibrate: %d rows, %d parameters; one simulation of every row per parameter and iteration\n", n,
            __builtin_popcount(o.mask));
    gpu_spec start = g;
    kernel_profile kstart = kp;
    if (band_only) {
        memset(&res, 0, sizeof res);
        o.mask = 0;
        res.n_fit = n;
    } else if (calib_fit(&g, &kp, rows, n, &o, &res, err, sizeof err)) {
        fprintf(stderr, "leansim calibrate: %s, kernel %s: %s\n", g.name, kp.name, err);
        free(rows);
        return n == 0 ? 2 : 1;
    }
    printf("# calibrate %s, kernel %s, from %s: %d rows fitted, %d held out, %d iterations (%s), engine %s\n", g.name,
           kp.name, dbpath, res.n_fit, res.n_holdout, res.iters, res.status == 0 ? "converged" : "iteration limit",
           o.use_model ? "model" : "sim");
    printf("%-24s %14s %14s %14s\n", "parameter", "start", "fit", "95% CI +-");
    for (int p = 0; p < CALIB_COUNT; p++) {
        if (!(o.mask & (1u << p))) continue;
        printf("%-24s %14.6g %14.6g %14.3g  %s\n", calib_param_name(p), calib_param_get(&start, &kstart, p),
               res.value[p], res.ci95[p], calib_param_is_chip(p) ? "chip" : "kernel");
    }
    printf("MAPE fit rows:  %.2f%% -> %.2f%%\n", res.mape_before, res.mape_after);
    {
        double lo, hi, cov;
        if (!calib_band(&g, &kp, rows, n, &o, &lo, &hi, &cov)) {
            kp.err_lo_pct = lo;
            kp.err_hi_pct = hi;
            printf("90%% band of measured / predicted - 1 on the fit rows: %+.2f%% .. %+.2f%%", lo, hi);
            if (isfinite(cov)) printf(" (held-out rows inside it: %.0f%%)", 100 * cov);
            printf("\n");
        }
    }
    if (res.n_holdout) printf("MAPE held out:  %.2f%% -> %.2f%%\n", res.mape_holdout_before, res.mape_holdout_after);
    free(rows);
    char from[600];
    snprintf(from, sizeof from, "measurements of gpu '%s', kernel '%s' in %s%s", g.name, kp.name, dbpath,
             o.half ? " (even half)" : "");
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
