/*
 * calrows.c: the measured rows calibration fits (results.h), read from the
 * store the way validation reads them, so that model/calib.c takes rows and
 * a spec and never opens the database itself.
 */
#include <stdlib.h>
#include <string.h>

#include "results.h"

int calrows_load(sqlite3 *db, const char *gpu, const char *kernel, int sm_rows, calib_row **out, char *err,
                  int errlen)
{
    /* the measured rows as validation reads them: GPU names mapped to specs
     * and plan options that reproduce the plan that ran */
    validate_opts vo = {.gpu = gpu};
    validate_row *vr;
    *out = NULL;
    int n = validate_rows_load(db, &vo, &vr, NULL, err, errlen);
    if (n < 0) return n;
    calib_row *rows = calloc((size_t)(n ? n : 1), sizeof *rows);
    if (!rows) {
        free(vr);
        snprintf(err, (size_t)errlen, "out of memory");
        return STORE_EDB;
    }
    int m = 0;
    for (int i = 0; i < n; i++) {
        /* the full GPU, or (sm_rows) the rows on fewer SMs alone */
        if (!vr[i].plan_ok || (vr[i].sms != vr[i].full_sms) != (sm_rows != 0)) continue;
        if (strcmp(vr[i].kernel, kernel ? kernel : KPROF_DEFAULT)) continue;
        rows[m].w = vr[i].w;
        rows[m].po = vr[i].po;
        rows[m].time_us = vr[i].time_us;
        rows[m].graph = vr[i].graph;
        rows[m].sms = vr[i].sms;
        rows[m].odd = report_row_heldout(&vr[i]);
        m++;
    }
    free(vr);
    *out = rows;
    return m;
}
