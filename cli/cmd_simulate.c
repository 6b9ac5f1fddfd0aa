/*
 * cmd_simulate.c: `leansim simulate`: runs the discrete-event simulator for
 * each asked schedule and prints one row per schedule, with the speedup over
 * fa2 (fa2 is simulated for that even when not asked).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "fmt.h"
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
    if (o.trace) {   /* the one schedule's trace: one GPU's CTAs, or one process per GPU */
        char err[512];
        plan_opts po = o.wl.po;
        po.kind = __builtin_ctz(o.wl.sched_mask);
        sim_result r;
        multi_result m;
        fmt_file tfo;
        if (fmt_file_open(&tfo, o.trace)) {
            fprintf(stderr, "leansim simulate: --trace %s: cannot open for writing\n", o.trace);
            sim_ctx_free(c);
            return 2;
        }
        FILE *tf = tfo.f;
        int src = o.gpus <= 1 ? sim_run(c, &o.gpu, &o.kern, &o.wl.wl, &po, &r, tf, err, sizeof err)
                              : multi_run(model_engines[MODEL_ENGINE_SIM].run, c, &o.gpu, &o.kern, &o.wl.wl, &po,
                                          o.gpus, o.parallel, &r, &m, err, sizeof err);
        if (src == SIM_OK && o.gpus > 1) src = multi_trace(c, &o.gpu, &o.kern, &o.wl.wl, &po, &m, tf, err, sizeof err);
        rc = src != SIM_OK ? 2 : 0;
        if (src != SIM_OK) fprintf(stderr, "leansim simulate: %s\n", err);
        if (rc) fmt_file_abort(&tfo);   /* a file already at the path stays as it was */
        else if (fmt_file_commit(&tfo)) {
            fprintf(stderr, "leansim simulate: --trace %s: write failed\n", o.trace);
            rc = 1;
        }
        if (rc) {
            sim_ctx_free(c);
            return rc;
        }
    }
    rc = cli_rows_run("simulate", MODEL_ENGINE_SIM, c, &o);
    sim_ctx_free(c);
    return rc;
}
