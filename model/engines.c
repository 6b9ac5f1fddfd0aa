/*
 * engines.c: the table of engines (model.h).  Everything above the model
 * that runs "an engine" indexes model_engines[] by enum model_engine_id or
 * looks one up by name: adding an engine is adding a row here.
 */
#include <string.h>

#include "model.h"
#include "multi.h"

/* The closed form as a multi_engine (ctx unused: model_predict keeps no state). */
static int model_run(void *ctx, const gpu_spec *g, const kernel_profile *k, const workload *w, const plan_opts *o,
                     sim_result *r, char *err, int errlen)
{
    (void)ctx;
    return model_predict(g, k, w, o, r, err, errlen);
}

const model_engine model_engines[MODEL_ENGINE_COUNT] = {
    [MODEL_ENGINE_SIM] = {"sim", multi_sim_engine},
    [MODEL_ENGINE_MODEL] = {"model", model_run},
};

int model_engine_find(const char *name)
{
    for (int e = 0; e < MODEL_ENGINE_COUNT; e++)
        if (!strcmp(name, model_engines[e].name)) return e;
    return -1;
}
