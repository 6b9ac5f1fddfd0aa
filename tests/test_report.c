/*
 * test_report.c: the validation report's metrics on rows with known errors,
 * the GPU name map, the held-out split, and validate + report end to end on
 * a synthetic database whose measured times are the simulator's plus 10%.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "results.h"
#include "testhelp.h"

static void row_set(validate_row *r, const char *gpu, int kind, int64_t ctx, double meas, double pred)
{
    memset(r, 0, sizeof *r);
    snprintf(r->gpu, sizeof r->gpu, "%s", gpu);
    r->sms = r->full_sms = 132;
    r->w.batch = 1;
    r->w.heads = 32;
    r->w.kv_heads = 32;
    r->w.head_dim = 128;
    r->w.ctx[0] = ctx;
    r->po.kind = kind;
    r->po.block_n = r->block_n = 128;
    r->time_us = meas;
    r->pred_us[VAL_SIM] = pred;
    r->pred_us[VAL_MODEL] = NAN;
}

/* report_print's JSON for db (picks: with the block picks) in a malloc'd string, NULL on failure. */
static char *report_json(sqlite3 *db, int picks)
{
    char *buf = NULL, err[512];
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    if (!mf) return NULL;
    report_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.json = 1;
    ro.picks = picks;
    int rc = report_print(mf, db, &ro, err, sizeof err);
    fclose(mf);
    if (rc) {
        fprintf(stderr, "report_json: %s\n", err);
        free(buf);
        return NULL;
    }
    return buf;
}

static void test_errors(void)
{
    validate_row rows[20];
    const validate_row *p[20];
    for (int i = 0; i < 20; i++) {
        row_set(&rows[i], "h100", SCHED_SPLIT, 1024 << i % 8, 100.0 + i, 1.1 * (100.0 + i));
        p[i] = &rows[i];
    }
    report_err e;
    report_errors(p, 20, VAL_SIM, &e);
    CHECK(e.n == 20, "n %d", e.n);
    CHECK_REL(e.mape_pct, 10.0, 1e-9, "MAPE of predictions 10% high");
    CHECK_REL(e.p95_pct, 10.0, 1e-9, "p95");
    CHECK_REL(e.max_pct, 10.0, 1e-9, "max");
    report_errors(p, 20, VAL_MODEL, &e);
    CHECK(e.n == 0 && isnan(e.mape_pct), "no model predictions: n %d mape %g", e.n, e.mape_pct);

    /* errors 1..20 %: MAPE 10.5, p95 (nearest rank 19) 19, max 20; low and high predictions alike */
    for (int i = 0; i < 20; i++) rows[i].pred_us[VAL_SIM] = rows[i].time_us * (1 + (i % 2 ? 1 : -1) * (i + 1) / 100.0);
    report_errors(p, 20, VAL_SIM, &e);
    CHECK_REL(e.mape_pct, 10.5, 1e-9, "MAPE of 1..20%");
    CHECK_REL(e.p95_pct, 19.0, 1e-9, "p95 of 1..20%");
    CHECK_REL(e.max_pct, 20.0, 1e-9, "max of 1..20%");
}

static void test_choices(void)
{
    /* configuration A (64k): measured fa2 100, split 50, streamk 40; predicted split fastest (45 < 48):
     * wrong pick, regret 50/40 - 1 = 25%.  B (128k): streamk fastest in both.  C (256k): one schedule
     * only, not a configuration.  D: same workload as A on 66 SMs, predicted right. */
    validate_row r[10];
    row_set(&r[0], "h100", SCHED_FA2, 65536, 100, 100);
    row_set(&r[1], "h100", SCHED_SPLIT, 65536, 50, 45);
    row_set(&r[2], "h100", SCHED_STREAMK, 65536, 40, 48);
    row_set(&r[3], "h100", SCHED_FA2, 131072, 200, 210);
    row_set(&r[4], "h100", SCHED_STREAMK, 131072, 80, 82);
    row_set(&r[5], "h100", SCHED_STREAMK, 262144, 160, 150);
    row_set(&r[6], "h100", SCHED_FA2, 65536, 120, 130);
    row_set(&r[7], "h100", SCHED_STREAMK, 65536, 60, 70);
    r[6].sms = r[7].sms = 66;
    const validate_row *p[8];
    for (int i = 0; i < 8; i++) p[i] = &r[i];
    report_choice c;
    report_choices(p, 8, VAL_SIM, &c);
    CHECK(c.configs == 3, "configs %d, want 3", c.configs);
    CHECK_REL(c.agree_frac, 2.0 / 3, 1e-9, "agreement");
    CHECK_REL(c.near_frac, 2.0 / 3, 1e-9, "within 1%");
    CHECK_REL(c.regret_mean_pct, 25.0 / 3, 1e-9, "mean regret");
    CHECK_REL(c.regret_max_pct, 25.0, 1e-9, "max regret");

    report_speedup s;
    report_speedups(p, 8, VAL_SIM, SCHED_STREAMK, &s);
    /* A: measured 2.5, predicted 100/48 -> 16.67%; B: 2.5 vs 210/82 -> 2.439%; D: 2 vs 130/70 -> 7.143% */
    CHECK(s.n == 3, "speedup configurations %d", s.n);
    double a = 100 * fabs((100.0 / 48) / 2.5 - 1), b = 100 * fabs((210.0 / 82) / 2.5 - 1),
           d = 100 * fabs((130.0 / 70) / 2.0 - 1);
    CHECK_REL(s.err_mean_pct, (a + b + d) / 3, 1e-9, "speedup error mean");
    CHECK_REL(s.err_max_pct, a, 1e-9, "speedup error max");
    report_speedups(p, 8, VAL_SIM, SCHED_SPLIT, &s);
    CHECK(s.n == 1, "split speedup configurations %d", s.n);
    CHECK_REL(s.err_mean_pct, 100 * fabs((100.0 / 45) / 2.0 - 1), 1e-9, "split speedup error");
}

static void test_map_and_split(void)
{
    CHECK(!strcmp(validate_gpu_map("NVIDIA H100 80GB HBM3"), "h100"), "H100 SXM");
    CHECK(!strcmp(validate_gpu_map("NVIDIA H100 PCIe"), "h100-pcie"), "H100 PCIe");
    CHECK(!strcmp(validate_gpu_map("NVIDIA H200"), "h200"), "H200");
    CHECK(!strcmp(validate_gpu_map("NVIDIA A100-SXM4-80GB"), "a100"), "A100");
    CHECK(!strcmp(validate_gpu_map("h200"), "h200"), "spec name maps to itself");
    CHECK(validate_gpu_map("NVIDIA GH200 480GB") == NULL, "a GH200 is no H200");
    CHECK(validate_gpu_map("NVIDIA H100 NVL") == NULL, "an H100 NVL is no H100 SXM");
    CHECK(validate_gpu_map("Radeon VII") == NULL, "unknown GPU");

    validate_row r;
    int odd = 0, again = 0;
    for (int i = 0; i < 64; i++) {
        row_set(&r, "h100", i % SCHED_COUNT, 1024 * (i + 1), 100, 100);
        int h = report_row_heldout(&r);
        odd += h;
        again += h == report_row_heldout(&r);
    }
    CHECK(odd > 16 && odd < 48, "held-out half has %d of 64 configurations", odd);
    CHECK(again == 64, "the split is deterministic");
}

/* validate + report on a synthetic database: measured = simulated x 1.1.  The
 * measurements' UNIQUE key has no SM count, so each SM count gets its own date. */
static void test_end_to_end(void)
{
    char dir[] = "/tmp/leansim-report-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char csv[256], dbp[256];
    snprintf(csv, sizeof csv, "%s/m.csv", dir);
    snprintf(dbp, sizeof dbp, "%s/r.db", dir);
    FILE *f = fopen(csv, "w");
    CHECK(f != NULL, "open %s", csv);
    if (!f) return;
    char hdr[2048];   /* rows below are of the runner's CSV format 1 */
    store_csv_header(1, hdr, sizeof hdr);
    fprintf(f, "%s\n", hdr);
    gpu_spec g;
    char err[512];
    CHECK(gpu_spec_load(&g, "h100", err, sizeof err) == GPU_OK, "%s", err);
    sim_ctx *c = sim_ctx_alloc();
    int rows = 0;
    for (int k = 0; k < SCHED_COUNT; k++)
        for (int64_t ctx = 4096; ctx <= 262144; ctx *= 4)
            for (int sms = 66; sms <= 132; sms += 66) {
                gpu_spec gs = g;
                char a[32];
                snprintf(a, sizeof a, "sms=%d", sms);
                CHECK(gpu_spec_set(&gs, a, err, sizeof err) == GPU_OK, "%s", err);
                workload w = {0};
                w.batch = 2;
                w.heads = 32;
                w.kv_heads = 8;
                w.head_dim = 128;
                w.ctx[0] = w.ctx[1] = ctx;
                plan_opts po = {.kind = k, .block_n = 128, .ctas_per_sm = 3};
                sim_result r;
                if (sim_run(c, &gs, th_kernel(), &w, &po, &r, NULL, err, sizeof err) != SIM_OK) continue;
                double t = 1.1 * r.time_us;
                fprintf(f, "NVIDIA H100 80GB HBM3,%d,580,1980,2619,13.0,abc,2026-11-21-sms%d,%s,2,32,8,128,fp16,%lld,%d,%d,%d,"
                           "%d,20,%.6f,%.6f,%.6f,0,1,1,0\n",
                        sms, sms, sched_name(k), (long long)ctx, r.block_n, r.ctas, r.splits, r.ctas_per_sm, t, t, t);
                rows++;
            }
    fprintf(f, "NVIDIA H100 80GB HBM3,132,580,1980,2619,torch,abc,2026-11-21,torch-flash,2,32,8,128,fp16,4096,0,0,0,0,"
               "20,12.5,12,13,0,1,1,0\n");
    /* an outside kernel with a graph time and a shipped profile; one with no profile */
    double flash_us = 0;
    {
        gpu_spec gf;
        kernel_profile kf;
        CHECK(kprof_pair_load(&gf, &kf, "h100", "torch-flash", NULL, 0, err, sizeof err) == 0, "%s", err);
        gf.launch_us = gf.graph_launch_us;
        workload w = {0};
        workload_uniform(&w, 1, 32, 8, 128, DTYPE_FP16, 65536);
        plan_opts po = {.kind = SCHED_SPLIT};
        sim_result r;
        CHECK(sim_run(c, &gf, &kf, &w, &po, &r, NULL, err, sizeof err) == SIM_OK, "torch-flash: %s", err);
        flash_us = r.time_us;
    }
    fprintf(f, "NVIDIA H100 80GB HBM3,132,580,1980,2619,torch,abc,2026-11-21,torch-flash,1,32,8,128,fp16,65536,,,,,"
               "20,130,129,131,%.6f,1,1,\n", 1.25 * flash_us);
    fprintf(f, "NVIDIA H100 80GB HBM3,132,580,1980,2619,x,abc,2026-11-21,some-library,1,32,8,128,fp16,65536,,,,,"
               "20,130,129,131,120,1,1,\n");
    fclose(f);
    sim_ctx_free(c);
    CHECK(rows >= 20, "%d synthetic rows", rows);

    sqlite3 *db;
    CHECK(store_open(&db, dbp, err, sizeof err) == STORE_OK, "%s", err);
    int added = 0;
    CHECK(store_ingest_csv(db, csv, &added, err, sizeof err) == STORE_OK, "ingest: %s", err);
    validate_stats st;
    CHECK(validate_run(db, NULL, &st, err, sizeof err) == STORE_OK, "validate: %s", err);
    CHECK(st.rows == rows + 1, "validate saw %d rows, want %d (one outside kernel with a profile)", st.rows, rows + 1);
    CHECK(st.no_profile == 1, "%d rows of kernels without a profile, want 1", st.no_profile);
    CHECK(st.added == 2 * rows + 2, "%d predictions added, want %d", st.added, 2 * rows + 2);
    CHECK(st.plan_mismatch == 0, "%d plans not rebuilt", st.plan_mismatch);
    CHECK(validate_run(db, NULL, &st, err, sizeof err) == STORE_OK && st.added == 0 && st.present == 2 * rows + 2,
          "re-run: %d added, %d present", st.added, st.present);

    validate_row *vr;
    int n = validate_rows_load(db, NULL, &vr, NULL, err, sizeof err);
    CHECK(n == rows + 1, "rows %d", n);
    CHECK(validate_lookup(db, NULL, vr, n, err, sizeof err) == 2 * rows + 2, "lookup finds every prediction");
    const validate_row **p = malloc(sizeof *p * (size_t)(n + 1));
    int np = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(vr[i].kernel, KPROF_DEFAULT)) {
            /* the outside kernel: predicted under its profile, against its graph time */
            CHECK(vr[i].graph && !strcmp(vr[i].label, "torch-flash") && fabs(vr[i].time_us / (1.25 * flash_us) - 1) < 1e-5,
                  "outside row: graph %d, label %s, time %g", vr[i].graph, vr[i].label, vr[i].time_us);
            CHECK_REL(vr[i].pred_us[VAL_SIM], flash_us, 1e-6, "torch-flash predicted under its profile");
            continue;
        }
        p[np++] = &vr[i];
    }
    report_err e;
    report_errors(p, np, VAL_SIM, &e);
    CHECK_REL(e.mape_pct, 100.0 / 11, 1e-5, "sim MAPE when measured = sim x 1.1");
    CHECK_REL(e.max_pct, 100.0 / 11, 1e-5, "sim max APE");
    free(p);
    free(vr);

    /* the view pairs every measured row with its predictions: leansim's rows at
     * measured = sim x 1.1, the outside kernel against its graph time */
    {
        sqlite3_stmt *q;
        CHECK(sqlite3_prepare_v2(db,
                                 "SELECT COUNT(*), SUM(v.schedule = 'torch-flash'), "
                                 "MAX(ABS(v.rel_err + 1.0 / 11)) FILTER (WHERE v.engine = 'sim' AND v.schedule <> 'torch-flash'), "
                                 "SUM(v.measured_us = m.graph_us) FROM measured_vs_predicted v JOIN measurements m "
                                 "ON m.id = v.measurement_id",
                                 -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW,
              "measured_vs_predicted: %s", sqlite3_errmsg(db));
        CHECK(sqlite3_column_int(q, 0) == 2 * rows + 2, "view: %d pairs, want %d", sqlite3_column_int(q, 0), 2 * rows + 2);
        CHECK(sqlite3_column_int(q, 1) == 2, "view: %d outside-kernel pairs, want 2", sqlite3_column_int(q, 1));
        CHECK(sqlite3_column_double(q, 2) < 1e-6, "view: sim rel_err off -1/11 by %g", sqlite3_column_double(q, 2));
        CHECK(sqlite3_column_int(q, 3) == 2, "view: %d pairs compared at the graph time, want 2", sqlite3_column_int(q, 3));
        sqlite3_finalize(q);
    }

    validate_opts bad = {.gpu = "nosuchgpu"};
    CHECK(validate_run(db, &bad, &st, err, sizeof err) == STORE_EINPUT && strstr(err, "nosuchgpu"),
          "unknown --gpu: %s", err);
    /* two profile files of one kernel: refused by validate_spec itself, which report and export call per chip */
    {
        gpu_spec g2;
        kernel_profile k2;
        validate_opts two = {.n_kernel = 2, .kernel = {"experiments/kernels/torch-flash.kernel", "torch-flash"}};
        CHECK(validate_spec(&g2, &k2, &two, "h100", "torch-flash", 0, 0, err, sizeof err) == STORE_EINPUT &&
                  strstr(err, "--kernel torch-flash: a second profile of kernel torch-flash"),
              "two files of one kernel: %s", err);
        CHECK(validate_opts_check(&two, err, sizeof err) == STORE_EINPUT &&
                  strstr(err, "a second profile of kernel torch-flash"),
              "two files of one kernel, checked first: %s", err);
    }

    char *buf = report_json(db, 0);
    CHECK(buf != NULL, "report");
    CHECK(buf && strstr(buf, "\"totals\": [") && strstr(buf, "\"mape_pct\": 9.09"), "JSON totals: %.300s",
          buf ? buf : "");
    CHECK(buf && strstr(buf, "\"sm_scaling\": [") && strstr(buf, "\"sms\": 66"), "JSON SM scaling block");
    CHECK(buf && strstr(buf, "\"schedule\": \"torch-flash\"") && strstr(buf, "\"mape_pct\": 20.00"),
          "JSON errors list the outside kernel under its name (predicted = measured / 1.25: 20%%)");
    free(buf);
    store_close(db);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "clean up");
}

/* A temporary directory for a synthetic oracle on the H100 spec (g): dir
 * (a mkdtemp template), its CSV and database paths. */
static void oracle_paths(char *dir, char *csv, char *dbp, size_t len, gpu_spec *g)
{
    char err[512];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(csv, len, "%s/m.csv", dir);
    snprintf(dbp, len, "%s/r.db", dir);
    CHECK(gpu_spec_load(g, "h100", err, sizeof err) == GPU_OK, "%s", err);
}

/* Resident CTAs per SM of leansim's kernel at d = 128 for each tile length. */
static void resident_by_bn(const gpu_spec *g, const kernel_profile *kp, int group, int res[4])
{
    for (int i = 0; i < 4; i++) {
        kernel_res kr;
        res[i] = kprof_resources(kp, 128, 32 << i, DTYPE_FP16, group, &kr) ? 0 : gpu_occupancy(g, &kr);
    }
}

/* The database of a synthetic oracle's CSV, ingested and validated; NULL on failure. */
static sqlite3 *oracle_db(const char *dbp, const char *csv, validate_stats *st)
{
    sqlite3 *db;
    char err[512];
    int added = 0;
    CHECK(store_open(&db, dbp, err, sizeof err) == STORE_OK, "%s", err);
    CHECK(store_ingest_csv(db, csv, &added, err, sizeof err) == STORE_OK, "ingest: %s", err);
    CHECK(validate_run(db, NULL, st, err, sizeof err) == STORE_OK, "validate: %s", err);
    return db;
}

/* Frees a synthetic oracle's candidates and plans and removes its directory. */
static void oracle_done(plan_cand *cands, plan *p, plan *pk, const char *dir)
{
    free(cands);
    plan_free(p);
    plan_free(pk);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "clean up");
}

/* A plan as a measured row names it: schedule, tile, CTAs and splits (one split: none). */
typedef struct plan_key {
    int kind, block_n, ctas, splits;
} plan_key;

static plan_key key_of(const plan *p)
{
    return (plan_key){p->kind, p->block_n, p->grid, p->splits > 1 ? p->splits : 0};
}

static int key_same(plan_key a, plan_key b)
{
    return a.kind == b.kind && a.block_n == b.block_n && a.ctas == b.ctas && a.splits == b.splits;
}

/* Writes the CSV of a synthetic oracle of w (batch 2, 32 heads over 8, d 128,
 * 4096 tokens): a row for every candidate's plan at 100 us, but plans like
 * marked[i] at times[i] (i < nm), and the first plan like none of them
 * (*best) at t_best.  Returns the rows written. */
static int oracle_write(const char *csv, const gpu_spec *g, const workload *w, const plan_cand *cands, int n,
                        const int res_by_bn[4], const plan_key *marked, const double *times, int nm, double t_best,
                        plan_key *best)
{
    FILE *f = fopen(csv, "w");
    plan *p = plan_alloc();
    CHECK(f != NULL && p != NULL, "open %s", csv);
    if (!f || !p) return 0;
    char hdr[2048];
    store_csv_header(1, hdr, sizeof hdr);
    fprintf(f, "%s\n", hdr);
    int rows = 0, have_best = 0;
    for (int i = 0; i < n; i++) {
        const plan_cand *c = &cands[i];
        const int res = res_by_bn[plan_block_n_index(c->block_n)];
        plan_opts po = {c->kind, c->block_n, c->splits, c->grid, c->ctas_per_sm, 0};
        if (plan_build(p, w, &po, g->sms, res) != PLAN_OK) continue;
        const plan_key k = key_of(p);
        int m = -1;
        for (int q = 0; q < nm && m < 0; q++)
            if (key_same(k, marked[q])) m = q;
        if (m < 0 && !have_best) {
            *best = k;
            have_best = 1;
        }
        const double t = m >= 0 ? times[m] : key_same(k, *best) ? t_best : 100.0;
        fprintf(f, "NVIDIA H100 80GB HBM3,132,580,1980,2619,13.0,abc,2026-12-07,%s,2,32,8,128,fp16,4096,%d,%d,%d,%d,"
                   "10,%.3f,%.3f,%.3f,0,1,1,0\n",
                sched_name(p->kind), p->block_n, p->grid, p->splits, res, t, t, t);
        rows++;
    }
    fclose(f);
    plan_free(p);
    CHECK(have_best, "a plan like none of the marked");
    return rows;
}

/* The tuner's row, the picks block and the shortlist block on a synthetic
 * oracle: every plan of the tuner's space measured at 100 us but its
 * shortlist's first three (104, 101, 97) and one other plan (95), so the
 * tuner's regret is 104 / 95 - 1. */
static void test_tuner_picks(void)
{
    char dir[] = "/tmp/leansim-picks-XXXXXX", csv[256], dbp[256];
    gpu_spec g;
    oracle_paths(dir, csv, dbp, sizeof csv, &g);
    const kernel_profile *kp = th_kernel();
    workload w = {0};
    workload_uniform(&w, 2, 32, 8, 128, DTYPE_FP16, 4096);
    tune_choice l[3];
    int tried, nl;
    CHECK(tune_shortlist(&g, kp, &w, (1u << SCHED_COUNT) - 1, l, 3, &nl, &tried) == 0 && nl == 3, "tune_shortlist");
    int res_by_bn[4];
    resident_by_bn(&g, kp, 4, res_by_bn);
    plan_cand *cands = malloc(sizeof *cands * 4096);
    plan *p = plan_alloc(), *pk = plan_alloc();
    CHECK(cands && p && pk, "alloc");
    const int n = plan_candidates(&w, g.sms, res_by_bn, (1u << SCHED_COUNT) - 1, g.l2_bytes, cands, 4096);
    CHECK(n >= 20 && n <= 4096, "%d candidates", n);
    plan_key ranks[3];
    for (int i = 0; i < 3; i++) {
        plan_opts po = tune_plan_opts(&l[i]);
        CHECK(plan_build(pk, &w, &po, g.sms, res_by_bn[plan_block_n_index(l[i].block_n)]) == PLAN_OK, "plan %d", i);
        ranks[i] = key_of(pk);
    }
    static const double t_rank[3] = {104.0, 101.0, 97.0};
    plan_key bk = {-1, 0, 0, 0};
    const int rows = oracle_write(csv, &g, &w, cands, n, res_by_bn, ranks, t_rank, 3, 95.0, &bk);
    const int best_kind = bk.kind, best_bn = bk.block_n, best_ctas = bk.ctas;
    CHECK(rows >= 20 && best_kind >= 0, "%d rows written", rows);

    validate_stats st;
    sqlite3 *db = oracle_db(dbp, csv, &st);
    char *buf = report_json(db, 1);
    CHECK(buf != NULL, "report --picks");
    const char *t = buf ? strstr(buf, "\"policy\": \"tune\"") : NULL;
    CHECK(t && strstr(t, "\"workloads\": 1,") && strstr(t, "\"regret_mean_pct\": 9.47") &&
          strstr(t, "\"regret_max_pct\": 9.47") && strstr(t, "\"missing\": 0"),
          "tuner row: regret 104 / 95 - 1: %.400s", t ? t : (buf ? buf : ""));
    const char *pb = buf ? strstr(buf, "\"picks\": [") : NULL;
    char want[96];
    snprintf(want, sizeof want, "\"best\": \"%s bn%d %d", sched_name(best_kind), best_bn, best_ctas);
    CHECK(pb && strstr(pb, "\"workload\": \"b2 h32/8 d128 4096\"") && strstr(pb, "\"pick_us\": 104.00") &&
          strstr(pb, "\"best_us\": 95.00") && strstr(pb, "\"regret_pct\": 9.47") && strstr(pb, want),
          "picks block names the workload, the pick and the best (%s): %.500s", want, pb ? pb : "");
    /* the shortlist: its first three plans ran 104, 101 and 97 us; timing the first k leaves 104, 101, 97, 97 */
    const char *sb = buf ? strstr(buf, "\"shortlist\": [") : NULL;
    static const char *want_k[4] = {"\"k\": 1, \"workloads\": 1, \"regret_mean_pct\": 9.47",
                                    "\"k\": 2, \"workloads\": 1, \"regret_mean_pct\": 6.32",
                                    "\"k\": 3, \"workloads\": 1, \"regret_mean_pct\": 2.11",
                                    "\"k\": 4, \"workloads\": 1, \"regret_mean_pct\": 2.11"};
    for (int k = 0; k < 4; k++)
        CHECK(sb && strstr(sb, want_k[k]), "shortlist block, first %d plans timed (%s): %.700s", k + 1, want_k[k],
              sb ? sb : "");
    free(buf);
    /* without --picks there is no block */
    buf = report_json(db, 0);
    CHECK(buf && strstr(buf, "\"tuner\"") && !strstr(buf, "\"picks\""), "no picks block by default");
    free(buf);
    store_close(db);
    oracle_done(cands, p, pk, dir);
}

/* The tuner's shortlist: its first plans as tune_search ranks them, each
 * unlike those before it. */
static void test_tuner_shortlist(void)
{
    gpu_spec g;
    char err[512];
    CHECK(gpu_spec_load(&g, "h100", err, sizeof err) == GPU_OK, "%s", err);
    const kernel_profile *kp = th_kernel();
    workload w = {0};
    workload_uniform(&w, 2, 32, 8, 128, DTYPE_FP16, 4096);
    tune_choice b, sc, l[TUNE_SHORTLIST_MAX];
    int tried, tried2, nl;
    CHECK(tune_search(&g, kp, &w, (1u << SCHED_COUNT) - 1, &b, &sc, &tried) == 0, "tune_search");
    CHECK(tune_shortlist(&g, kp, &w, (1u << SCHED_COUNT) - 1, l, TUNE_SHORTLIST_MAX, &nl, &tried2) == 0 &&
          nl >= 4 && nl <= TUNE_SHORTLIST_MAX && tried2 == tried, "tune_shortlist: %d plans", nl);
    CHECK(!memcmp(&l[0], &b, sizeof b) && !memcmp(&l[1], &sc, sizeof sc), "its first two: the winner and the runner-up");
    for (int i = 2; i + 1 < nl; i++)
        CHECK(l[i].time_us <= l[i + 1].time_us, "by simulated time after the winner: %g then %g", l[i].time_us,
              l[i + 1].time_us);
    for (int i = 0; i < nl; i++)
        for (int k = i + 1; k < nl; k++)
            CHECK(l[i].ctas != l[k].ctas || l[i].splits != l[k].splits || l[i].block_n != l[k].block_n ||
                  l[i].time_us != l[k].time_us, "plans %d and %d alike", i, k);
    CHECK(tune_shortlist(&g, kp, &w, (1u << SCHED_COUNT) - 1, l, 0, &nl, &tried2) == -1, "max 0: -1");
    CHECK(tune_shortlist(&g, kp, &w, (1u << SCHED_COUNT) - 1, l, 3, &nl, &tried2) == 0 && nl == 3, "max 3: 3 plans");
}

/* The oracle's noise on a synthetic oracle: every plan at 100 us but one
 * (90), and the rows that ran its cut of the work under other options (a
 * hybrid without data-parallel CTAs beside stream-K) at 99: the block
 * oracle_noise gives 99 / 90 - 1.  With the fastest a plan no other row
 * shares, the block is empty. */
static void test_oracle_noise(void)
{
    gpu_spec g;
    const kernel_profile *kp = th_kernel();
    workload w = {0};
    workload_uniform(&w, 1, 8, 8, 128, DTYPE_FP16, 4096);   /* 8 units: a hybrid has no full wave */
    int res_by_bn[4] = {0};
    plan_cand *cands = malloc(sizeof *cands * 4096);
    plan *p = plan_alloc(), *pb = plan_alloc();
    CHECK(cands && p && pb, "alloc");
    for (int twin = 1; twin >= 0 && cands && p && pb; twin--) {
        char dir[] = "/tmp/leansim-noise-XXXXXX", csv[256], dbp[256];
        oracle_paths(dir, csv, dbp, sizeof csv, &g);
        resident_by_bn(&g, kp, 1, res_by_bn);
        const int n = plan_candidates(&w, g.sms, res_by_bn, (1u << SCHED_COUNT) - 1, g.l2_bytes, cands, 4096);
        /* the fastest: a stream-K plan with a row of its cut (twin), or a plan with none (!twin) */
        int best = -1;
        for (int i = 0; i < n && best < 0; i++) {
            plan_opts po = {cands[i].kind, cands[i].block_n, cands[i].splits, cands[i].grid, cands[i].ctas_per_sm, 0};
            if ((twin && po.kind != SCHED_STREAMK) ||
                plan_build(pb, &w, &po, g.sms, res_by_bn[plan_block_n_index(po.block_n)]) != PLAN_OK)
                continue;
            int shared = 0;
            for (int k = 0; k < n; k++) {
                plan_opts qo = {cands[k].kind, cands[k].block_n, cands[k].splits, cands[k].grid, cands[k].ctas_per_sm, 0};
                shared += k != i && plan_build(p, &w, &qo, g.sms, res_by_bn[plan_block_n_index(qo.block_n)]) == PLAN_OK &&
                          plan_shape_same_work(&p->shape, &pb->shape);
            }
            if (twin ? shared > 0 : shared == 0) best = i;
        }
        CHECK(best >= 0, "a fastest plan %s a row of its cut among %d candidates", twin ? "with" : "without", n);
        if (best < 0) {
            oracle_done(NULL, NULL, NULL, dir);
            continue;
        }
        plan_opts bo = {cands[best].kind, cands[best].block_n, cands[best].splits, cands[best].grid,
                        cands[best].ctas_per_sm, 0};
        CHECK(plan_build(pb, &w, &bo, g.sms, res_by_bn[plan_block_n_index(bo.block_n)]) == PLAN_OK, "best's plan");
        FILE *f = fopen(csv, "w");
        CHECK(f != NULL, "open %s", csv);
        char hdr[2048];
        store_csv_header(2, hdr, sizeof hdr);
        if (f) fprintf(f, "%s\n", hdr);
        int same = 0;
        for (int i = 0; i < n && f; i++) {
            plan_opts po = {cands[i].kind, cands[i].block_n, cands[i].splits, cands[i].grid, cands[i].ctas_per_sm, 0};
            const int res = res_by_bn[plan_block_n_index(po.block_n)];
            if (plan_build(p, &w, &po, g.sms, res) != PLAN_OK) continue;
            const int is_same = i != best && plan_shape_same_work(&p->shape, &pb->shape);
            same += is_same;
            const double t = i == best ? 90.0 : is_same ? 99.0 : 100.0;
            fprintf(f, "NVIDIA H100 80GB HBM3,132,580,1980,2619,13.0,abc,2026-12-07,%s,%d,%d,%d,128,fp16,%lld,%d,%d,%d,"
                       "%d,10,%.3f,%.3f,%.3f,0,1,1,0,%d,%d,%d,%d,%d,1,1,0,0,none\n",
                    sched_name(p->kind), w.batch, w.heads, w.kv_heads, (long long)w.ctx[0], p->block_n, p->grid,
                    p->splits, res, t, t, t, po.block_n, po.splits, po.grid, po.ctas_per_sm, p->ctas_per_sm);
        }
        if (f) fclose(f);
        CHECK(twin ? same > 0 : same == 0, "%d rows of the fastest's cut", same);
        validate_stats st;
        sqlite3 *db = oracle_db(dbp, csv, &st);
        char *buf = report_json(db, 0);
        const char *nb = buf ? strstr(buf, "\"oracle_noise\": [") : NULL;
        if (twin)
            CHECK(nb && strstr(nb, "\"workloads\": 1,") && strstr(nb, "\"regret_mean_pct\": 10.00") &&
                      strstr(nb, "\"regret_max_pct\": 10.00"),
                  "oracle_noise: 99 / 90 - 1 over %d rows of the fastest's cut: %.300s", same, nb ? nb : "");
        else
            CHECK(nb && !strncmp(nb, "\"oracle_noise\": []", 18), "no row shares the fastest's cut: no noise row: %.200s",
                  nb ? nb : (buf ? buf : ""));
        free(buf);
        store_close(db);
        oracle_done(NULL, NULL, NULL, dir);
    }
    free(cands);
    plan_free(p);
    plan_free(pb);
}

/* A hybrid pick among measured rows of the same CTA count: two grids plan
 * 792 CTAs over 1,024 units (stream-K over 264 or 396 of them) and cut the
 * work differently, so the pick's time is its own plan's, not its faster
 * twin's.  The rows carry the options asked (format 2), as every oracle
 * since the requested-plan columns. */
static void test_tuner_twin(void)
{
    char dir[] = "/tmp/leansim-twin-XXXXXX", csv[256], dbp[256];
    gpu_spec g;
    oracle_paths(dir, csv, dbp, sizeof csv, &g);
    const kernel_profile *kp = th_kernel();
    /* the first of these workloads the tuner plans as hybrid with a twin */
    static const int shapes[][4] = {{16, 64, 64, 2048}, {8, 64, 64, 4096}, {16, 32, 32, 4096}, {16, 64, 64, 1024},
                                    {8, 64, 64, 2048}, {16, 32, 32, 2048}, {8, 32, 32, 8192}, {16, 64, 16, 2048}};
    int res_by_bn[4] = {0};
    plan_cand *cands = malloc(sizeof *cands * 4096);
    plan *p = plan_alloc(), *pk = plan_alloc();
    CHECK(cands && p && pk, "alloc");
    workload w = {0};
    int n = 0, found = 0;
    plan_opts twin = {0};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0] && !found && cands && p && pk; s++) {
        workload_uniform(&w, shapes[s][0], shapes[s][1], shapes[s][2], 128, DTYPE_FP16, shapes[s][3]);
        tune_choice b, sc;
        int tried;
        if (tune_search(&g, kp, &w, (1u << SCHED_COUNT) - 1, &b, &sc, &tried) || b.schedule != SCHED_HYBRID) continue;
        resident_by_bn(&g, kp, w.heads / w.kv_heads, res_by_bn);
        plan_opts bo = {b.schedule, b.block_n, 0, b.grid, b.ctas_per_sm, 0};
        if (plan_build(pk, &w, &bo, g.sms, res_by_bn[plan_block_n_index(b.block_n)]) != PLAN_OK) continue;
        n = plan_candidates(&w, g.sms, res_by_bn, (1u << SCHED_COUNT) - 1, g.l2_bytes, cands, 4096);
        for (int i = 0; i < n && !found; i++) {
            plan_opts po = {cands[i].kind, cands[i].block_n, cands[i].splits, cands[i].grid, cands[i].ctas_per_sm, 0};
            if (plan_build(p, &w, &po, g.sms, res_by_bn[plan_block_n_index(po.block_n)]) != PLAN_OK) continue;
            if (p->kind == pk->kind && p->block_n == pk->block_n && p->grid == pk->grid &&
                !plan_shape_same(&p->shape, &pk->shape)) {
                twin = po;
                found = 1;
            }
        }
    }
    CHECK(found, "a hybrid pick with a twin of its CTA count among the workloads tried");
    FILE *f = found ? fopen(csv, "w") : NULL;
    int rows = 0;
    if (f) {
        char hdr[2048];
        store_csv_header(2, hdr, sizeof hdr);
        fprintf(f, "%s\n", hdr);
        for (int i = 0; i < n; i++) {
            plan_opts po = {cands[i].kind, cands[i].block_n, cands[i].splits, cands[i].grid, cands[i].ctas_per_sm, 0};
            const int res = res_by_bn[plan_block_n_index(po.block_n)];
            if (plan_build(p, &w, &po, g.sms, res) != PLAN_OK) continue;
            const int is_pick = plan_shape_same(&p->shape, &pk->shape);
            const int is_twin = !is_pick && po.kind == twin.kind && po.block_n == twin.block_n &&
                                po.grid == twin.grid && po.ctas_per_sm == twin.ctas_per_sm;
            const double t = is_pick ? 104.0 : is_twin ? 80.0 : 100.0;
            fprintf(f, "NVIDIA H100 80GB HBM3,132,580,1980,2619,13.0,abc,2026-12-07,%s,%d,%d,%d,128,fp16,%lld,%d,%d,%d,"
                       "%d,10,%.3f,%.3f,%.3f,0,1,1,0,%d,%d,%d,%d,%d,1,1,0,0,none\n",
                    sched_name(p->kind), w.batch, w.heads, w.kv_heads, (long long)w.ctx[0], p->block_n, p->grid,
                    p->splits, res, t, t, t, po.block_n, po.splits, po.grid, po.ctas_per_sm, p->ctas_per_sm);
            rows++;
        }
        fclose(f);
    }
    if (found) {
        validate_stats st;
        sqlite3 *db = oracle_db(dbp, csv, &st);
        CHECK(st.plan_mismatch == 0, "%d of %d rows whose plan was not rebuilt", st.plan_mismatch, rows);
        char *buf = report_json(db, 1);
        const char *t = buf ? strstr(buf, "\"policy\": \"tune\"") : NULL;
        /* 104 / 80 - 1: the pick's own row against its twin, the fastest */
        CHECK(t && strstr(t, "\"regret_mean_pct\": 30.00") && strstr(t, "\"missing\": 0"),
              "tuner row: regret 104 / 80 - 1, not 0 from the twin's time: %.400s", t ? t : (buf ? buf : ""));
        const char *pb = buf ? strstr(buf, "\"picks\": [") : NULL;
        CHECK(pb && strstr(pb, "\"pick_us\": 104.00") && strstr(pb, "\"best_us\": 80.00"),
              "picks block: the pick's own time: %.400s", pb ? pb : "");
        char pk_txt[64], tw_txt[64];
        plan_shape ts;
        CHECK(plan_shape_of(&ts, &w, &twin, g.sms, res_by_bn[plan_block_n_index(twin.block_n)]) == PLAN_OK, "twin");
        snprintf(pk_txt, sizeof pk_txt, "\"pick\": \"hybrid bn%d %d sk%d\"", pk->block_n, pk->grid, pk->shape.sk_grid);
        snprintf(tw_txt, sizeof tw_txt, "\"best\": \"hybrid bn%d %d sk%d\"", ts.block_n, ts.grid, ts.sk_grid);
        CHECK(pb && strstr(pb, pk_txt) && strstr(pb, tw_txt) && pk->shape.sk_grid != ts.sk_grid,
              "picks block tells the two hybrids apart by their stream-K CTAs (%s, %s): %.400s", pk_txt, tw_txt,
              pb ? pb : "");
        free(buf);
        store_close(db);
    }
    oracle_done(cands, p, pk, dir);
}

int main(void)
{
    test_errors();
    test_tuner_twin();
    test_oracle_noise();
    test_choices();
    test_map_and_split();
    test_end_to_end();
    test_tuner_picks();
    test_tuner_shortlist();
    TEST_DONE("test_report");
}
