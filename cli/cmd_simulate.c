/*
 * cmd_simulate.c: `leansim simulate`: runs the discrete-event simulator for
 * each asked schedule and prints one row per schedule, with the speedup over
 * fa2 (fa2 is simulated for that even when not asked).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "model.h"
#include "multi.h"
#include "sim.h"

int cmd_simulate(int argc, char **argv)
{
    cli_run_opts o;
    int rc = cli_parse_run("simulate", "predicts each schedule's time with the discrete-event simulator", argc, argv,
                           &o, 1);
    if (rc >= 0) return rc;
    if (o.policy && !strcmp(o.policy, "tune")) {
        fprintf(stderr, "leansim simulate: --policy tune: the tuner's pick comes from leansim predict --policy tune "
                "or leansim tune\n");
        return 2;
    }
    int nsched = __builtin_popcount(o.wl.sched_mask);
    if (o.trace && nsched != 1) {
        fprintf(stderr, "leansim simulate: --trace %s: needs exactly one --schedule (got %d)\n", o.trace, nsched);
        return 2;
    }
    sim_ctx *c = sim_ctx_alloc();
    if (!c) {
        fprintf(stderr, "leansim simulate: out of memory\n");
        return 1;
    }
    sim_result rows[SCHED_COUNT], fa2;
    multi_result mr[SCHED_COUNT], mfa2;
    int n = 0;
    char err[512];
    plan_opts po = o.wl.po;
    po.kind = SCHED_FA2;
    po.splits = po.grid = 0;
    int have_fa2 = multi_run(model_engines[MODEL_ENGINE_SIM].run, c, &o.gpu, &o.kern, &o.wl.wl, &po, o.gpus, o.parallel, &fa2, &mfa2, err,
                             sizeof err) == SIM_OK;
    FILE *tf = NULL;
    rc = 0;
    for (int k = 0; k < SCHED_COUNT && rc == 0; k++) {
        if (!(o.wl.sched_mask & (1u << k))) continue;
        po = o.wl.po;
        po.kind = k;
        if (o.trace && !(tf = fopen(o.trace, "w"))) {
            fprintf(stderr, "leansim simulate: --trace %s: cannot open for writing\n", o.trace);
            rc = 2;
            break;
        }
        int src = SIM_OK;
        if (k == SCHED_FA2 && have_fa2 && !tf) {
            rows[n] = fa2;   /* the baseline above is this row: fa2 ignores splits and grid */
            mr[n] = mfa2;
            rows[n++].speedup_vs_fa2 = 1;
            continue;
        }
        if (tf && o.gpus <= 1) {
            src = sim_run(c, &o.gpu, &o.kern, &o.wl.wl, &po, &rows[n], tf, err, sizeof err);
            mr[n] = (multi_result){1, o.parallel, rows[n].time_us, 0, 0, 0, 1, 1};
        } else {
            src = multi_run(model_engines[MODEL_ENGINE_SIM].run, c, &o.gpu, &o.kern, &o.wl.wl, &po, o.gpus, o.parallel, &rows[n], &mr[n], err,
                            sizeof err);
            if (src == SIM_OK && tf) {   /* one process per GPU */
                sim_result keep = rows[n];
                src = multi_trace(c, &o.gpu, &o.kern, &o.wl.wl, &po, &mr[n], tf, err, sizeof err);
                rows[n] = keep;
            }
        }
        if (src != SIM_OK) {
            fprintf(stderr, "leansim simulate: %s\n", err);
            rc = 2;
        } else {
            rows[n].speedup_vs_fa2 = have_fa2 ? fa2.time_us / rows[n].time_us : 0;
            n++;
        }
        if (tf && fclose(tf)) {
            fprintf(stderr, "leansim simulate: --trace %s: write failed\n", o.trace);
            rc = 1;
        }
        if (tf && rc) remove(o.trace);
        tf = NULL;
    }
    if (o.wl.model[0] && o.fmt == OUT_TABLE && n > 0)
        printf("# model %s: %d heads, %d KV heads, head dim %d (one layer)\n", o.wl.model, o.wl.wl.heads,
               o.wl.wl.kv_heads, o.wl.wl.head_dim);
    if (rc == 0) out_rows_print(stdout, o.fmt, model_engines[MODEL_ENGINE_SIM].name, &o.gpu, &o.kern, &o.wl.wl, rows, mr, n);
    sim_ctx_free(c);
    return rc;
}
