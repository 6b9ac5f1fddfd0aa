/*
 * tune.c: search of the plan options for one workload (see model.h).
 *
 * Candidates are the planner's search space (plan_candidates: what the
 * CUDA kernels can run, the same list the kernel runner's oracle times).
 * Every candidate is costed with the closed-form model, which is cheap;
 * the TUNE_SIM_TOP best by the model, and the model's best of each
 * schedule, are then costed with the simulator, which decides.  The
 * runner-up is the best simulated candidate whose plan differs from the
 * winner's (another CTA count, split count or tile length): stream-K and
 * hybrid, or fa2 and one split, often build the same plan, and a margin
 * of 0% between them says nothing.  Within TUNE_TIE_FRAC of the fastest,
 * a plan of one CTA per unit that fills one wave evenly wins, a plan whose
 * one wave leaves a quarter or more of the SMs a CTA short of the others
 * comes last, and among the rest the longest tile wins.
 */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TUNE_SIM_TOP 12
/* The shortlist's ranks after the runner-up come from the model's this many
 * best as well (simulated only for them).  Timing the first three or four
 * plans then leaves less regret than when they come from the candidates
 * the winner was chosen from: on the H100 oracle's held-out half 0.26% and
 * 0.18% mean against 0.38% and 0.37%, on the H200's oracle 0.55% and 0.52%
 * against 0.68% and 0.64%, worst 3.0% against 5.5% (README, "Decisions");
 * the model's 48 best, or every candidate, did about as well. */
#define TUNE_SHORTLIST_TOP 24
#define TUNE_MAX_CANDS 4096
/* Candidates within this fraction of the fastest simulated one are ties,
 * and the longest tile among them wins, whatever its schedule, grid or
 * split count: the simulator costs no work per
 * tile, and on both chips' oracles a shorter tile of the same plan is
 * slower (stream-K, tile 32 against 256: +1.5% at d = 64 and +1.0% at
 * d = 128 on the H100, +2.2% and +1.6% on the H200, means; up to 20% on
 * ragged batches).  0.5% minimised the mean regret on the H100 oracle's
 * workloads of even hash among 0, 0.1, 0.25, 0.5, 1 and 2%. */
#define TUNE_TIE_FRAC 0.005
/* Within the tie window, a plan of one CTA per unit that fills one wave
 * evenly comes first.  There, cutting units costs what the simulator does
 * not see: stream-K over 264 CTAs for 256 units runs 0.6-1.8% slower than
 * FA2's 256 CTAs on the H100, the same code over exactly 256 CTAs does not
 * (timelines, kernels/NOTES.md), and split plans of 2-4 chunks cost more
 * than simulated.  Where whole units leave SMs with fewer CTAs than the
 * others (192 units over 132 SMs) stream-K wins by 3.4-3.6% on both
 * oracles, and past one wave it wins too: hence even and one wave.  Even:
 * the CTAs fill at least this share of ceil(CTAs / SMs) on every SM (256
 * CTAs over 132 SMs: 97%; 192: 73%). */
#define TUNE_FILL_MIN 0.95
/* ... and only for plans that take at most this long: the measured cost of
 * cutting units shrinks with the plan's length (+1.4% at 50-700 us, +0.85%
 * at 1.3 ms), about 10 us, and beyond 2 ms it is inside the tie window,
 * where a shorter tile's cost (1-2% on both oracles) weighs more. */
#define TUNE_WHOLE_MAX_US 2000.0
/* A plan whose CTAs are all resident at once, more of them than SMs, with
 * the CTAs beyond the last full layer (one per SM) on at most this share of
 * the SMs, comes last in a tie: its SMs hold unequal numbers of CTAs of
 * equal work, and the simulator has it 2-4.5% fast where that share is up
 * to 0.75 (uniform fa2, split and balanced plans of one wave on the H100
 * oracle and the standard shapes, median residual against the workload's:
 * -4.5% at up to 0.25, -3.6% to 0.5, -2.3% to 0.75, -0.8% to 0.9;
 * experiments/DECISIONS.md, "CTAs spread unevenly").  Sharing the link per SM (mem_sm_share_exp)
 * takes the first to -2.5% and leaves the others; the rule still lowers
 * the regret on both halves of the H100 oracle. */
#define TUNE_UNEVEN_MAX 0.75

typedef struct scored {
    plan_cand c;
    double model_us;
} scored;

static int by_model(const void *a, const void *b)
{
    double x = ((const scored *)a)->model_us, y = ((const scored *)b)->model_us;
    return (x > y) - (x < y);
}

static void choice_of(tune_choice *t, const plan_cand *c, const sim_result *r)
{
    t->schedule = c->kind;
    t->block_n = r->block_n;
    t->splits = r->splits;
    t->grid = c->grid;   /* as asked (0: LeanAttention's rule): hybrid's CTAs include its data-parallel ones */
    t->ctas_per_sm = c->ctas_per_sm;
    t->ctas = r->ctas;
    t->time_us = r->time_us;
    t->time_lo_us = r->time_lo_us;
    t->time_hi_us = r->time_hi_us;
}

plan_opts tune_plan_opts(const tune_choice *t)
{
    return (plan_opts){t->schedule, t->block_n, t->schedule == SCHED_SPLIT ? t->splits : 0, t->grid, t->ctas_per_sm, 0};
}

const char *tune_rule_name(int rule)
{
    switch (rule) {
    case TUNE_RULE_FASTEST: return "fastest";
    case TUNE_RULE_WHOLE: return "whole units in one wave";
    case TUNE_RULE_TILE: return "longest tile";
    case TUNE_RULE_EVEN: return "CTAs spread evenly over the SMs";
    default: return "?";
    }
}

int tune_fills_wave(const sim_result *r, int sms)
{
    if (r->cut_units || sms < 1 || r->ctas < 1 || r->waves > 1.0 + 1e-9 || r->time_us > TUNE_WHOLE_MAX_US) return 0;
    int per = (r->ctas + sms - 1) / sms;
    return (double)r->ctas >= TUNE_FILL_MIN * per * sms - 1e-9;
}

int tune_uneven_wave(const sim_result *r, int sms)
{
    if (sms < 1 || r->ctas <= sms || r->waves > 1.0 + 1e-9) return 0;
    int rem = r->ctas % sms;
    return rem > 0 && rem <= TUNE_UNEVEN_MAX * sms;
}

int tune_rank(const sim_result *r, int sms)
{
    return tune_fills_wave(r, sms) ? 2 : tune_uneven_wave(r, sms) ? 0 : 1;
}

int tune_tie_pick(const sim_result *r, const int *rank, int n, double tie_frac, int bn_default, int *rule)
{
    double tmin = INFINITY;
    int jmin = -1;
    for (int j = 0; j < n; j++)
        if (r[j].time_us < tmin) tmin = r[j].time_us, jmin = j;
    int b = -1;
    for (int j = 0; j < n; j++) {
        if (r[j].time_us > tmin * (1 + tie_frac) * (1 + 1e-9)) continue;
        int wj = rank ? rank[j] : 1, wb = b >= 0 && rank ? rank[b] : 1;
        int better = b < 0 || wj > wb || (wj == wb && r[j].block_n > r[b].block_n);
        if (b >= 0 && wj == wb && r[j].block_n == r[b].block_n) {
            int tie = fabs(r[j].time_us - r[b].time_us) <= 1e-6 * r[b].time_us;
            better = (r[j].time_us < r[b].time_us && !tie) ||
                     (tie && r[j].block_n == bn_default && r[b].block_n != bn_default);
        }
        if (better) b = j;
    }
    if (rule) {
        int rb = b >= 0 && rank ? rank[b] : 1, rmin = jmin >= 0 && rank ? rank[jmin] : 1;
        *rule = b < 0 || r[b].time_us <= tmin * (1 + 1e-9) ? TUNE_RULE_FASTEST
                : rb == 2                                    ? TUNE_RULE_WHOLE
                : rb > rmin                                  ? TUNE_RULE_EVEN
                                                             : TUNE_RULE_TILE;
    }
    return b;
}

/* 1 when simulated plans a and b cut the work alike for a user timing them:
 * the same CTAs and split count (one split: none), and the same tile where
 * a unit is cut into parts (a's), at the same simulated time. */
static int same_plan(const sim_result *a, const sim_result *b, const workload *w)
{
    int sa = a->splits > 1 ? a->splits : 0, sb = b->splits > 1 ? b->splits : 0;
    int tiles_matter = sa > 1 || a->ctas > w->batch * w->kv_heads;
    return a->ctas == b->ctas && sa == sb && (!tiles_matter || a->block_n == b->block_n) &&
           fabs(a->time_us - b->time_us) <= 1e-9 * a->time_us;
}

typedef struct ranked {
    double time_us;
    int j;   /* index into the simulated candidates */
} ranked;

static int by_time(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->time_us != y->time_us) return (x->time_us > y->time_us) - (x->time_us < y->time_us);
    return (x->j > y->j) - (x->j < y->j);
}

int tune_shortlist(const gpu_spec *g, const kernel_profile *kp, const workload *w, unsigned sched_mask,
                   tune_choice *list, int max, int *n_list, int *tried)
{
    int res_by_bn[4];
    /* leansim's kernels are built at every tile length; another kernel runs its own alone */
    const int bn_own = kprof_is_default(kp) ? 0 : kprof_block_n(kp, w, 0);
    for (int i = 0; i < 4; i++) {
        kernel_res kr;
        res_by_bn[i] = (bn_own && 32 << i != bn_own) ||
                               kprof_resources(kp, w->head_dim, 32 << i, w->dtype, w->heads / w->kv_heads, &kr)
                           ? 0 : gpu_occupancy(g, &kr);
    }
    plan_cand *cands = malloc(sizeof *cands * TUNE_MAX_CANDS);
    scored *sc = malloc(sizeof *sc * TUNE_MAX_CANDS);
    sim_ctx *c = sim_ctx_alloc();
    sim_result *all = NULL;
    int *pick = NULL, *rank = NULL;
    ranked *order = NULL;
    int rc = -1;
    *tried = 0;
    *n_list = 0;
    if (max < 1 || !cands || !sc || !c) goto done;
    memset(list, 0, sizeof *list * (size_t)max);
    int n = plan_candidates(w, g->sms, res_by_bn, sched_mask, g->l2_bytes, cands, TUNE_MAX_CANDS);
    if (n > TUNE_MAX_CANDS) n = TUNE_MAX_CANDS;
    int m = 0;
    char err[256];
    for (int i = 0; i < n; i++) {
        /* as the kernels run it: the CTAs per SM asked shape the plan, and the
         * kernel's occupancy decides how many are resident */
        plan_opts po = {cands[i].kind, cands[i].block_n, cands[i].splits, cands[i].grid, cands[i].ctas_per_sm,
                        res_by_bn[plan_block_n_index(cands[i].block_n)]};
        sim_result r;
        if (model_predict(g, kp, w, &po, &r, err, sizeof err) != SIM_OK) continue;
        sc[m].c = cands[i];
        sc[m++].model_us = r.time_us;
    }
    qsort(sc, (size_t)m, sizeof *sc, by_model);
    /* the simulator decides among the model's best, and each schedule's best */
    int seen_kind[SCHED_COUNT] = {0};
    all = malloc(sizeof *all * (size_t)(m + 1));
    pick = malloc(sizeof *pick * (size_t)(m + 1));
    rank = malloc(sizeof *rank * (size_t)(m + 1));
    order = malloc(sizeof *order * (size_t)(m + 1));
    if (!all || !pick || !rank || !order) goto done;
    int np = 0;
    for (int i = 0; i < m; i++) {
        int k = sc[i].c.kind;
        if (i < TUNE_SIM_TOP || !seen_kind[k]) {
            seen_kind[k] = 1;
            plan_opts po = {k, sc[i].c.block_n, sc[i].c.splits, sc[i].c.grid, sc[i].c.ctas_per_sm,
                            res_by_bn[plan_block_n_index(sc[i].c.block_n)]};
            if (sim_run(c, g, kp, w, &po, &all[np], NULL, err, sizeof err) != SIM_OK) continue;
            (*tried)++;
            rank[np] = tune_rank(&all[np], g->sms);
            pick[np++] = i;
        }
    }
    /* within TUNE_TIE_FRAC of the fastest: whole units in one even wave, uneven waves last, then the longest tile */
    const int bn_default = kprof_block_n(kp, w, 0);
    int rule;
    int jb = tune_tie_pick(all, rank, np, TUNE_TIE_FRAC, bn_default, &rule);
    if (jb < 0) goto done;
    /* the winner, then the other plans by simulated time, each unlike every one before it: the
     * runner-up from the candidates the winner was chosen from, the ranks after it also from the
     * model's TUNE_SHORTLIST_TOP best, simulated only when they are asked for */
    int kept[TUNE_SHORTLIST_MAX];
    int nk = 0;
    kept[nk++] = jb;
    for (int pass = 0; pass < 2 && nk < max; pass++) {
        if (pass == 1) {
            const int np0 = np;
            for (int i = TUNE_SIM_TOP; i < m && i < TUNE_SHORTLIST_TOP; i++) {
                int seen = 0;
                for (int q = 0; q < np0 && !seen; q++) seen = pick[q] == i;
                plan_opts po = {sc[i].c.kind, sc[i].c.block_n, sc[i].c.splits, sc[i].c.grid, sc[i].c.ctas_per_sm,
                                res_by_bn[plan_block_n_index(sc[i].c.block_n)]};
                if (seen || sim_run(c, g, kp, w, &po, &all[np], NULL, err, sizeof err) != SIM_OK) continue;
                pick[np++] = i;
            }
        }
        for (int j = 0; j < np; j++) order[j] = (ranked){all[j].time_us, j};
        qsort(order, (size_t)np, sizeof *order, by_time);
        for (int q = 0; q < np && nk < max && nk < TUNE_SHORTLIST_MAX && (pass == 1 || nk < 2); q++) {
            int j = order[q].j, dup = 0;
            for (int i = 0; i < nk && !dup; i++) dup = j == kept[i] || same_plan(&all[kept[i]], &all[j], w);
            if (!dup) kept[nk++] = j;
        }
    }
    for (int i = 0; i < nk; i++) choice_of(&list[i], &sc[pick[kept[i]]].c, &all[kept[i]]);
    list[0].rule = rule;
    *n_list = nk;
    rc = 0;
done:
    free(all);
    free(pick);
    free(rank);
    free(order);
    sim_ctx_free(c);
    free(cands);
    free(sc);
    return rc;
}

int tune_search(const gpu_spec *g, const kernel_profile *kp, const workload *w, unsigned sched_mask, tune_choice *best,
                tune_choice *second, int *tried)
{
    tune_choice l[2];
    int nl;
    memset(best, 0, sizeof *best);
    memset(second, 0, sizeof *second);
    if (tune_shortlist(g, kp, w, sched_mask, l, 2, &nl, tried)) return -1;
    *best = l[0];
    if (nl > 1) *second = l[1];
    return 0;
}
