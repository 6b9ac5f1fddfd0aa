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
        o.wl.po = tune_plan_opts(&b);
        o.wl.sched_mask = 1u << b.schedule;
    }
    return cli_rows_run("predict", MODEL_ENGINE_MODEL, NULL, &o);
}
