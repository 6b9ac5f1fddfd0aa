/*
 * cmd_calib.c: `leansim calibrate --db results.db --gpu G`: fits the spec
 * fields no datasheet gives to the GPU's measured rows and prints each with
 * its 95% interval and the error before and after; --out writes a spec file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "model.h"

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
    const char *dbpath = NULL, *gpu = NULL, *out = NULL;
    calib_opts o;
    calib_opts_init(&o);
    char err[1024];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: leansim calibrate --db results.db --gpu G [--out FILE.gpu] [--params P,...]\n"
                   "                         [--holdout K] [--model] [--xtol X --gtol X --ftol X --maxiter N]\n"
                   "  fits spec fields to G's measured rows (gsl_multifit_nlinear, trust region, parameters in\n"
                   "  log space, residual = simulated / measured time - 1); --model uses the closed form\n"
                   "  instead of the simulator; --holdout K keeps every K-th row out of the fit.\n"
                   "  params (default: all but tensor_eff):");
            for (int p = 0; p < CALIB_COUNT; p++) printf(" %s", calib_param_name(p));
            printf("\n");
            return 0;
        }
        if (!strcmp(a, "--model")) { o.use_model = 1; continue; }
        if (!v) {
            fprintf(stderr, "leansim calibrate: %s: missing value (or unknown option)\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--db")) dbpath = v;
        else if (!strcmp(a, "--gpu")) gpu = v;
        else if (!strcmp(a, "--out")) out = v;
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
    if (gpu_spec_load(&g, gpu, err, sizeof err)) {
        fprintf(stderr, "leansim calibrate: %s\n", err);
        return 2;
    }
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
    int n = calib_rows_load(db, g.name, &rows, err, sizeof err);
    store_close(db);
    if (n < 0) {
        fprintf(stderr, "leansim calibrate: %s\n", err);
        return 1;
    }
    calib_result res;
    gpu_spec start = g;
    if (calib_fit(&g, rows, n, &o, &res, err, sizeof err)) {
        fprintf(stderr, "leansim calibrate: %s: %s\n", g.name, err);
        free(rows);
        return n == 0 ? 2 : 1;
    }
    free(rows);
    printf("# calibrate %s from %s: %d rows fitted, %d held out, %d iterations (%s), engine %s\n", g.name, dbpath,
           res.n_fit, res.n_holdout, res.iters, res.status == 0 ? "converged" : "iteration limit",
           o.use_model ? "model" : "sim");
    printf("%-24s %14s %14s %14s\n", "parameter", "start", "fit", "95% CI +-");
    for (int p = 0; p < CALIB_COUNT; p++) {
        if (!(o.mask & (1u << p))) continue;
        printf("%-24s %14.6g %14.6g %14.3g\n", calib_param_name(p), calib_param_get(&start, p), res.value[p],
               res.ci95[p]);
    }
    printf("MAPE fit rows:  %.2f%% -> %.2f%%\n", res.mape_before, res.mape_after);
    if (res.n_holdout) printf("MAPE held out:  %.2f%% -> %.2f%%\n", res.mape_holdout_before, res.mape_holdout_after);
    if (out) {
        char from[600];
        snprintf(from, sizeof from, "measurements of gpu '%s' in %s", g.name, dbpath);
        if (calib_spec_write(&g, out, &res, from, err, sizeof err)) {
            fprintf(stderr, "leansim calibrate: %s\n", err);
            return 1;
        }
        printf("wrote %s\n", out);
    }
    return 0;
}
