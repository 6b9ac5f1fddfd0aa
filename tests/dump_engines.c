/*
 * dump_engines.c: every column of both engines' predictions over a large
 * fixed set of workloads x schedules x options (chips, kernel profiles,
 * uniform and ragged batches, tile lengths, splits, grids, CTAs per SM,
 * refusals included), one line per prediction, numbers at full precision.
 *
 * A refactoring of the planner, the simulator or the model that must not
 * change a prediction is checked by dumping before and after and comparing
 * (tests/cmp_engines.sh: exact integers and messages, doubles to 1e-12):
 *     make dump-engines && cp build/engines.txt before.txt
 *     ... change ...
 *     make dump-engines && sh tests/cmp_engines.sh before.txt build/engines.txt
 */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "testhelp.h"

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(void)
{
    return th_xorshift(&rng);
}

static const char *gpus[] = {"h100", "a100", "l40s", "b200"};
static const char *kernels[] = {"leansim", "torch-flash", "torch-cudnn", "fa2-fwd", "leanattention", "torch-flex",
                                "torch-efficient"};
#define N_GPUS (int)(sizeof gpus / sizeof gpus[0])
#define N_KERNELS (int)(sizeof kernels / sizeof kernels[0])

static gpu_spec g_spec[N_GPUS];
static kernel_profile k_prof[N_KERNELS];
static sim_ctx *ctx;
static long n_rows;

static void put(const char *id, const char *engine, int rc, const sim_result *r, const char *err)
{
    printf("%s %s %d", id, engine, rc);
    if (rc == SIM_OK)
        printf(" %d %d %d %d %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g", r->schedule, r->ctas,
               r->splits, r->ctas_per_sm, r->time_us, r->main_us, r->combine_us, r->hbm_bytes, r->kv_bytes, r->waves,
               r->sm_busy, r->wait_us, r->sol_us, r->time_lo_us, r->time_hi_us);
    else
        printf(" | %s", err);
    putchar('\n');
    n_rows++;
}

/* Both engines on one configuration. */
static void run(int gi, int ki, const workload *w, const plan_opts *o)
{
    char id[96], err[256];
    snprintf(id, sizeof id, "#%ld", n_rows / 2);
    sim_result r;
    err[0] = 0;
    int rc = sim_run(ctx, &g_spec[gi], &k_prof[ki], w, o, &r, NULL, err, sizeof err);
    put(id, "sim", rc, &r, err);
    err[0] = 0;
    rc = model_predict(&g_spec[gi], &k_prof[ki], w, o, &r, err, sizeof err);
    put(id, "model", rc, &r, err);
}

static void print_config(int gi, int ki, const workload *w, const plan_opts *o)
{
    printf("# %s %s b%d h%d/%d d%d %s ctx", gpus[gi], kernels[ki], w->batch, w->heads, w->kv_heads, w->head_dim,
           dtype_name(w->dtype));
    for (int r = 0; r < w->batch && r < 6; r++) printf("%c%lld", r ? ',' : ' ', (long long)w->ctx[r]);
    printf("%s %s bn%d s%d g%d c%d res%d\n", w->batch > 6 ? ",..." : "", sched_name(o->kind), o->block_n, o->splits,
           o->grid, o->ctas_per_sm, o->resident);
}

/* Random options of schedule k for a chip of `sms` SMs. */
static plan_opts random_opts(int k, int sms)
{
    static const int bns[] = {0, 32, 64, 128, 256};
    plan_opts o = {.kind = k};
    if (rnd() % 2) o.block_n = bns[rnd() % 5];
    if (k == SCHED_SPLIT && rnd() % 2) o.splits = 1 + (int)(rnd() % 128);
    if ((k == SCHED_STREAMK || k == SCHED_HYBRID) && rnd() % 2) o.grid = 1 + (int)(rnd() % (unsigned)(sms * 5));
    if (rnd() % 4 == 0) o.ctas_per_sm = 1 + (int)(rnd() % 4);
    if (rnd() % 6 == 0) o.resident = 1 + (int)(rnd() % 4);
    return o;
}

/* Prints and runs schedule k's default plan, then a random plan of it. */
static void run_default_and_random(int gi, int ki, const workload *w, int k)
{
    plan_opts o = {.kind = k};
    print_config(gi, ki, w, &o);
    run(gi, ki, w, &o);
    o = random_opts(k, g_spec[gi].sms);
    print_config(gi, ki, w, &o);
    run(gi, ki, w, &o);
}

int main(void)
{
    char err[256];
    for (int i = 0; i < N_GPUS; i++)
        if (gpu_spec_load(&g_spec[i], gpus[i], err, sizeof err)) {
            fprintf(stderr, "dump_engines: %s\n", err);
            return 2;
        }
    for (int i = 0; i < N_KERNELS; i++)
        if (kprof_load(&k_prof[i], kernels[i], err, sizeof err)) {
            fprintf(stderr, "dump_engines: %s\n", err);
            return 2;
        }
    ctx = sim_ctx_alloc();
    static workload w;

    /* uniform batches, every schedule at its defaults and a few options */
    static const int batches[] = {1, 3, 8, 32, 128};
    static const int hk[][2] = {{32, 32}, {32, 8}, {64, 4}, {16, 1}, {28, 4}};
    static const int dims[] = {64, 128, 256};
    static const int64_t ctxs[] = {1, 100, 1000, 4096, 33000, 131072, 524288};
    for (int bi = 0; bi < 5; bi++)
        for (int hi = 0; hi < 5; hi++)
            for (int di = 0; di < 3; di++)
                for (int ci = 0; ci < 7; ci++) {
                    workload_uniform(&w, batches[bi], hk[hi][0], hk[hi][1], dims[di],
                                     ci % 3 == 2 ? DTYPE_FP8 : DTYPE_FP16, ctxs[ci]);
                    for (int k = 0; k < SCHED_COUNT; k++) {
                        int gi = (int)(rnd() % N_GPUS), ki = rnd() % 3 ? 0 : (int)(rnd() % N_KERNELS);
                        run_default_and_random(gi, ki, &w, k);
                    }
                }

    /* ragged batches */
    for (int it = 0; it < 700; it++) {
        memset(&w, 0, sizeof w);
        const uint64_t most = rnd() % 4 ? 12 : 96;   /* one call per statement: the order is the same in every build */
        w.batch = 1 + (int)(rnd() % most);
        w.kv_heads = 1 << (rnd() % 4);
        w.heads = w.kv_heads * (1 + (int)(rnd() % 8));
        w.head_dim = dims[rnd() % 3];
        w.dtype = (int)(rnd() % DTYPE_COUNT);
        w.ragged = 1;
        for (int r = 0; r < w.batch; r++) {
            const uint64_t longest = rnd() % 2 ? 3000 : 400000;
            w.ctx[r] = 1 + (int64_t)(rnd() % longest);
        }
        int gi = (int)(rnd() % N_GPUS), ki = rnd() % 3 ? 0 : (int)(rnd() % N_KERNELS);
        for (int k = 0; k < SCHED_COUNT; k++) run_default_and_random(gi, ki, &w, k);
    }

    /* refusals: options out of range */
    workload_uniform(&w, 2, 32, 8, 128, DTYPE_FP16, 8192);
    static const plan_opts bad[] = {
        {.kind = SCHED_FA2, .block_n = 48},        {.kind = SCHED_SPLIT, .splits = 129},
        {.kind = SCHED_SPLIT, .splits = -1},       {.kind = SCHED_STREAMK, .grid = 100000},
        {.kind = SCHED_HYBRID, .grid = 100000},    {.kind = SCHED_STREAMK, .grid = -3},
        {.kind = SCHED_FA2, .ctas_per_sm = 64},    {.kind = SCHED_BALANCED, .ctas_per_sm = 3, .resident = 2},
        {.kind = SCHED_COUNT},                     {.kind = SCHED_STREAMK, .grid = 300, .resident = 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (int ki = 0; ki < 2; ki++) {
            print_config(0, ki, &w, &bad[i]);
            run(0, ki, &w, &bad[i]);
        }
    workload_uniform(&w, 1024, 1024, 1024, 128, DTYPE_FP16, WL_MAX_CTX);
    plan_opts big = {.kind = SCHED_FA2, .block_n = 32};
    print_config(0, 0, &w, &big);
    run(0, 0, &w, &big);
    sim_ctx_free(ctx);
    fprintf(stderr, "dump_engines: %ld predictions\n", n_rows);
    return 0;
}
