/*
 * cmd_predict.c: `leansim predict`: the analytical model for each asked
 * schedule, same options and columns as `leansim simulate` (engine "model").
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "model.h"
#include "multi.h"

int cmd_predict(int argc, char **argv)
{
    cli_run_opts o;
    int rc = cli_parse_run("predict", "predicts each schedule's time with the closed-form model", argc, argv, &o, 0);
    if (rc >= 0) return rc;
    if (o.policy && !strcmp(o.policy, "tune")) {   /* the tuner's pick, as its plan options */
        tune_choice b, s;
        int tried;
        if (tune_search(&o.gpu, &o.kern, &o.wl.wl, o.wl.sched_mask, &b, &s, &tried)) {
            fprintf(stderr, "leansim predict: --policy tune: no plan runs this workload\n");
            return 2;
        }
        o.wl.po = (plan_opts){b.schedule, b.block_n, b.schedule == SCHED_SPLIT ? b.splits : 0, b.grid, b.ctas_per_sm, 0};
        o.wl.sched_mask = 1u << b.schedule;
    }
    sim_result rows[SCHED_COUNT], fa2;
    multi_result mr[SCHED_COUNT], mfa2;
    int n = 0;
    char err[512];
    plan_opts po = o.wl.po;
    po.kind = SCHED_FA2;
    po.splits = po.grid = 0;
    int have_fa2 = multi_run(model_engines[MODEL_ENGINE_MODEL].run, NULL, &o.gpu, &o.kern, &o.wl.wl, &po, o.gpus, o.parallel, &fa2, &mfa2, err,
                             sizeof err) == SIM_OK;
    for (int k = 0; k < SCHED_COUNT; k++) {
        if (!(o.wl.sched_mask & (1u << k))) continue;
        po = o.wl.po;
        po.kind = k;
        if (multi_run(model_engines[MODEL_ENGINE_MODEL].run, NULL, &o.gpu, &o.kern, &o.wl.wl, &po, o.gpus, o.parallel, &rows[n], &mr[n], err,
                      sizeof err) != SIM_OK) {
            fprintf(stderr, "leansim predict: %s\n", err);
            return 2;
        }
        rows[n].speedup_vs_fa2 = have_fa2 ? fa2.time_us / rows[n].time_us : 0;
        n++;
    }
    if (o.wl.model[0] && o.fmt == OUT_TABLE && n > 0)
        printf("# model %s: %d heads, %d KV heads, head dim %d (one layer)\n", o.wl.model, o.wl.wl.heads,
               o.wl.wl.kv_heads, o.wl.wl.head_dim);
    out_rows_print(stdout, o.fmt, model_engines[MODEL_ENGINE_MODEL].name, &o.gpu, &o.kern, &o.wl.wl, rows, mr, n);
    return 0;
}
