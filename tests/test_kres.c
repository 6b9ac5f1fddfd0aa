/*
 * test_kres.c: the simulator's occupancy of every decode kernel (from the
 * resources in sim/kres.c and the chip's limits) equals the occupancy the
 * driver reported for the built kernel on the H100
 * (experiments/data/h100-20261127-occupancy.csv, leanbench --occupancy).
 */
#include <stdio.h>
#include <string.h>

#include "kprof.h"
#include "sim.h"
#include "testhelp.h"

int main(void)
{
    const char *path = "experiments/data/h100-20261127-occupancy.csv";
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "%s: cannot open", path);
    if (!f) TEST_DONE("test_kres");
    gpu_spec g;
    kernel_profile k;
    char err[256], line[512];
    CHECK(kprof_pair_load(&g, &k, "h100", KPROF_DEFAULT, NULL, 0, err, sizeof err) == 0, "%s", err);
    int rows = 0;
    CHECK(fgets(line, sizeof line, f) && !strncmp(line, "gpu,sms,driver,commit,date,dtype,head_dim,rows_cap,", 51),
          "%s: header", path);
    while (fgets(line, sizeof line, f)) {
        char dt[16];
        int d, cap, threads, occ;
        /* the last five columns: dtype, head_dim, rows_cap, threads, occupancy */
        const char *p = line;
        for (int c = 0; c < 5 && p; c++) p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
        CHECK(p && sscanf(p, "%15[a-z0-9],%d,%d,%d,%d", dt, &d, &cap, &threads, &occ) == 5, "%s: row '%s'", path, line);
        if (!p) continue;
        workload w;
        workload_uniform(&w, 1, cap, 1, d, dtype_parse(dt), 4096);
        int sim = sim_resident_per_sm(&g, &k, &w, 0);
        CHECK(sim == occ, "%s d %d group %d: simulator %d resident CTAs per SM, the driver %d", dt, d, cap, sim, occ);
        rows++;
    }
    fclose(f);
    CHECK(rows >= 28, "%d kernels compared", rows);
    TEST_DONE("test_kres");
}
