/*
 * test_agree.c: the planner's shape, the plan built from it, the kernels'
 * launch configuration (plan_launch_of, what kernels/attn.cu launches),
 * the simulator and the closed-form model agree exactly on what a plan is,
 * on random ragged workloads: CTAs of the main kernel, CTAs of the combine
 * kernel, split count and HBM bytes (KV tokens the segments read, one Q
 * load per segment, O, partial states written and read back).
 */
#include <string.h>

#include "model.h"
#include "testhelp.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    return th_xorshift(&rng);
}

/* HBM bytes of plan p as the kernels move them, from its launch
 * configuration and the tokens of each segment. */
static double launch_bytes(const plan *p, const plan_launch *l, const workload *w, int64_t *tokens)
{
    const double elt = dtype_bytes(w->dtype), d = w->head_dim;
    int64_t tok = 0;
    for (int i = 0; i < l->n_segs; i++) tok += plan_seg_tokens(p, w, &p->segs[i], NULL);
    *tokens = tok;
    double kv = 2.0 * (double)tok * d * elt;                         /* K and V of every token read */
    double q = (double)l->n_segs * p->rows * d * elt;                /* Q loaded per segment */
    double o = (double)p->n_units * p->rows * d * elt;               /* O written once per unit */
    double part = (double)l->n_slots * p->rows * (d + 1) * 4.0 * 2;  /* fp32 O and lse, written and read */
    return kv + q + o + part;
}

int main(void)
{
    char err[256];
    gpu_spec base;
    CHECK(gpu_spec_load(&base, "h100", err, sizeof err) == 0, "%s", err);
    sim_ctx *c = sim_ctx_alloc();
    plan *p = plan_alloc();
    static const int bns[] = {0, 32, 64, 128, 256};
    static const int dims[] = {64, 128, 256};
    static workload w;
    int n = 0, bad_status = 0, bad_grid = 0, bad_comb = 0, bad_bytes = 0, bad_tokens = 0, bad_splits = 0, bad_sol = 0;
    int combines = 0, streamk_merges = 0;
    for (int it = 0; it < 700; it++) {
        memset(&w, 0, sizeof w);
        const uint64_t most = rnd() % 4 ? 12 : 40;   /* one call per statement: the order is the same in every build */
        w.batch = 2 + (int)(rnd() % most);
        w.kv_heads = 1 << (rnd() % 4);
        w.heads = w.kv_heads * (1 + (int)(rnd() % 8));
        w.head_dim = dims[rnd() % 3];
        if (w.head_dim == 256 && w.heads / w.kv_heads > 8) w.heads = w.kv_heads * 8;
        w.dtype = (int)(rnd() % DTYPE_COUNT);
        w.ragged = 1;
        for (int r = 0; r < w.batch; r++) {
            const uint64_t longest = rnd() % 2 ? 2000 : 200000;
            w.ctx[r] = 1 + (int64_t)(rnd() % longest);
        }
        const int longer = (int)(rnd() % (unsigned)w.batch);
        w.ctx[longer] += 1 + (int64_t)(rnd() % 5000);   /* ragged for sure */
        gpu_spec g = base;
        g.sms = 8 + (int)(rnd() % 140);
        const int res = 1 + (int)(rnd() % 4);
        for (int k = 0; k < SCHED_COUNT; k++) {
            plan_opts o = {.kind = k, .block_n = bns[rnd() % 5], .resident = res};
            if (k == SCHED_SPLIT && rnd() % 2) o.splits = 1 + (int)(rnd() % 128);
            if ((k == SCHED_STREAMK || k == SCHED_HYBRID) && rnd() % 2) o.grid = 1 + (int)(rnd() % (unsigned)(g.sms * res));
            if (rnd() % 3 == 0) o.ctas_per_sm = 1 + (int)(rnd() % (unsigned)res);
            char what[200];
            snprintf(what, sizeof what, "#%d %s batch %d heads %d/%d d %d sms %d res %d bn %d splits %d grid %d cps %d",
                     it, sched_name(k), w.batch, w.heads, w.kv_heads, w.head_dim, g.sms, res, o.block_n, o.splits,
                     o.grid, o.ctas_per_sm);

            /* the planner: shape, plan, launch (as the kernels get them) */
            plan_opts po = o;
            kprof_plan_opts(th_kernel(), &w, &po);
            plan_shape s;
            int rc_shape = plan_shape_of(&s, &w, &po, g.sms, res);
            int rc_plan = plan_build(p, &w, &po, g.sms, res);
            sim_result rs, rm;
            int a = sim_run(c, &g, th_kernel(), &w, &o, &rs, NULL, err, sizeof err);
            int b = model_predict(&g, th_kernel(), &w, &o, &rm, err, sizeof err);
            if (rc_shape != PLAN_OK || rc_plan != PLAN_OK || a != SIM_OK || b != SIM_OK) {
                if (bad_status++ < 5)
                    fprintf(stderr, "%s: shape %d plan %d sim %d model %d (%s)\n", what, rc_shape, rc_plan, a, b, err);
                continue;
            }
            n++;
            plan_launch l;
            plan_launch_of(p, &l);
            combines += l.combine_grid > 0;
            streamk_merges += l.signal && l.n_slots > 0;

            if (!(s.grid == p->grid && l.decode_grid == p->grid && rm.ctas == p->grid && rs.ctas == p->grid) &&
                bad_grid++ < 5)
                fprintf(stderr, "%s: CTAs shape %d plan %d launch %d sim %d model %d\n", what, s.grid, p->grid,
                        l.decode_grid, rs.ctas, rm.ctas);
            if (!(s.combine_grid == l.combine_grid && rm.combine_ctas == l.combine_grid &&
                  rs.combine_ctas == l.combine_grid && (l.combine_grid == 0 || l.combine_grid == p->n_units)) &&
                bad_comb++ < 5)
                fprintf(stderr, "%s: combine CTAs shape %d launch %d sim %d model %d\n", what, s.combine_grid,
                        l.combine_grid, rs.combine_ctas, rm.combine_ctas);
            if (!(rm.splits == p->splits && rs.splits == p->splits && s.splits == p->splits) && bad_splits++ < 5)
                fprintf(stderr, "%s: splits shape %d plan %d sim %d model %d\n", what, s.splits, p->splits,
                        rs.splits, rm.splits);
            /* the speed of light bounds both engines (sim_sol_us: the most the link carries for the kernel) */
            if (!(rs.time_us >= rs.sol_us * (1 - 1e-12) && rm.time_us >= rm.sol_us * (1 - 1e-12)) && bad_sol++ < 5)
                fprintf(stderr, "%s: below the speed of light: sim %.6g model %.6g, sol %.6g\n", what, rs.time_us,
                        rm.time_us, rs.sol_us);
            int64_t tokens, want_tokens = 0;
            double bytes = launch_bytes(p, &l, &w, &tokens);
            for (int r = 0; r < w.batch; r++) want_tokens += w.ctx[r] * w.kv_heads;
            if (tokens != want_tokens && bad_tokens++ < 5)
                fprintf(stderr, "%s: segments read %lld tokens, the workload has %lld\n", what, (long long)tokens,
                        (long long)want_tokens);
            if (!(bytes == rs.hbm_bytes && bytes == rm.hbm_bytes) && bad_bytes++ < 5)
                fprintf(stderr, "%s: HBM bytes launch %.17g sim %.17g model %.17g\n", what, bytes, rs.hbm_bytes,
                        rm.hbm_bytes);
        }
    }
    CHECK(n >= 3000, "compared %d plans", n);
    CHECK(combines > 300 && streamk_merges > 300, "%d plans with a combine kernel, %d with stream-K merges: too few",
          combines, streamk_merges);
    CHECK(bad_status == 0, "%d configurations refused by one of shape, plan, simulator, model", bad_status);
    CHECK(bad_grid == 0, "%d of %d plans with CTA counts that differ", bad_grid, n);
    CHECK(bad_comb == 0, "%d of %d plans with combine grids that differ", bad_comb, n);
    CHECK(bad_splits == 0, "%d of %d plans with split counts that differ", bad_splits, n);
    CHECK(bad_tokens == 0, "%d of %d plans whose segments do not read every token once", bad_tokens, n);
    CHECK(bad_bytes == 0, "%d of %d plans with HBM bytes that differ", bad_bytes, n);
    CHECK(bad_sol == 0, "%d of %d plans predicted below their speed of light", bad_sol, n);
    printf("# %d ragged plans: %d with a combine kernel, %d with stream-K merges\n", n, combines, streamk_merges);
    plan_free(p);
    sim_ctx_free(c);
    TEST_DONE("test_agree");
}
