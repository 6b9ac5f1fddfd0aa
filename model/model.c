/*
 * model.c: the analytical model of decode attention (see model.h).
 *
 * The same GPU model as the simulator (sim.c), solved in closed form instead
 * of event by event.  What the plan is comes from the planner's shape
 * (plan_shape_of: grid, splits and chunks, stream-K run lengths, hybrid's
 * data-parallel CTAs, segment and slot counts, CTAs per SM), the same one
 * plan_build materialises for the simulator and the kernels; nothing here
 * re-derives a planner rule.  Each schedule's kernel is then costed (one
 * function per schedule) in waves of CTAs that run at once:
 *   wave = prologue + first-load latency + stream + tail ops,
 *   stream: n CTAs share the achievable bandwidth; each runs at
 *           min(pslink_share(n, dem, bw, mem_share_exp), cap), as on the
 *           simulator's link, cap the per-CTA rate of sim_cta_rate and dem
 *           what it asks of memory (sim_cta_demand),
 *           with two sizes of CTA (full and last chunk, or stream-K runs of
 *           M and M-1 tiles) solved as two phases of processor sharing.
 * Stream-K adds the latency of each extra segment a CTA starts, the peers'
 * partial write + flag the host waits for, and the host's merge rounds.
 * Split and balanced add the combine kernel after kernel_gap_us.
 * Exact where CTAs of a wave are alike (uniform batches, full waves);
 * approximate for ragged batches and for hybrid's mixed waves.
 */
#include "model.h"
#include "cost.h"

#include "engine.h"

#include <math.h>
#include <string.h>

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) { int64_t t = a % b; a = b; b = t; }
    return a < 0 ? -a : a;
}

/*
 * Processor sharing of n1 flows of b1 bytes and n2 of b2 bytes starting
 * together, per-flow cap, link bw: time until the last one finishes.
 */
static double share2(double n, double dem, double hard, double bw, double soft)
{
    return fmin(pslink_share(n, dem, bw, soft), hard);
}

static double ps2(double n1, double b1, double n2, double b2, double dem, double cap, double bw, double soft)
{
    if (b2 > b1) {
        double t = b1; b1 = b2; b2 = t;
        t = n1; n1 = n2; n2 = t;
    }
    if (n1 <= 0 || b1 <= 0) {
        n1 = n2; b1 = b2; n2 = 0;
        if (n1 <= 0 || b1 <= 0) return 0;
    }
    double t = 0;
    if (n2 > 0 && b2 > 0) {
        double r = share2(n1 + n2, dem, cap, bw, soft);
        t = b2 / r;
        b1 -= b2;
    }
    return t + b1 / share2(n1, dem, cap, bw, soft);
}

/* A kernel of N CTAs alike except in size, run in synchronous waves. */
typedef struct kwave {
    int64_t n;           /* CTAs */
    int64_t slots;       /* resident slots */
    double fixed_ns;     /* per CTA: prologue, first load, tail ops */
    double frac_big;     /* fraction of streaming CTAs of size b_big */
    double frac_stream;  /* fraction of CTAs that stream at all */
    double b_big, b_small;
    double cap, bw;      /* bytes per ns */
    double cap_tail;     /* per-CTA cap in the last, partial wave (fewer CTAs per SM); 0: cap */
    double soft;         /* the chip's mem_share_exp */
    double dem, dem_tail; /* per-CTA demand on the link (sim_cta_demand), idem; 0: the cap */
} kwave;

/* Time of the kernel from its first CTA start; adds SM-busy ns to *busy. */
static double kwave_ns(const kwave *k, int sms, double *busy)
{
    int64_t full = k->n / k->slots, tail = k->n % k->slots;
    double t = 0;
    if (full >= 1 && tail && k->frac_big > 0 && k->frac_big < 1 && k->b_small < 0.5 * k->b_big) {
        /* CTAs of two sizes over several waves do not stay in step: slots
         * freed by short CTAs take the next ones, so the kernel flows at the
         * rate of full occupancy for N / slots average CTA times (sizes
         * within 2x of each other stay in step: synchronous waves) */
        double ns = (double)k->slots * k->frac_stream;
        double nb = ns * k->frac_big;
        double tw = k->fixed_ns + (nb * k->b_big + (ns - nb) * k->b_small) / ns /
                                      share2(ns, k->dem > 0 ? k->dem : k->cap, k->cap, k->bw, k->soft);
        t = tw * (double)k->n / (double)k->slots;
        *busy += t * sms;
        return t;
    }
    for (int pass = 0; pass < 2; pass++) {
        int64_t n = pass == 0 ? k->slots : tail;
        int64_t reps = pass == 0 ? full : (tail > 0);
        if (!reps || !n) continue;
        double ns = (double)n * k->frac_stream;
        double nb = ns * k->frac_big;
        double cap = pass == 1 && k->cap_tail > 0 ? k->cap_tail : k->cap;
        double dem = pass == 1 && k->cap_tail > 0 ? k->dem_tail : k->dem;
        double tw = k->fixed_ns + ps2(nb, k->b_big, ns - nb, k->b_small, dem > 0 ? dem : cap, cap, k->bw, k->soft);
        t += tw * reps;
        *busy += tw * reps * (double)(n < sms ? n : sms);
    }
    return t;
}

/* What every schedule's cost reads: the chip, the kernel, the workload,
 * the plan's shape and numbers derived from them once. */
typedef struct mctx {
    const gpu_spec *g;
    const kernel_profile *kp;
    const workload *w;
    const plan_shape *s;
    int64_t slots;       /* resident slots of the main kernel: sms x resident */
    double rb;           /* K and V bytes of one token */
    double bw;           /* achievable bandwidth, bytes per ns */
    double lat, pro, epi, pw;   /* ns: first load, prologue, epilogue, partial write */
    double kv;           /* KV bytes */
    double tile_b;       /* average bytes of a tile (the last tile of a request may be short) */
    double cap;          /* per-CTA cap of the main kernel's first wave */
    double dem;          /* its per-CTA demand on the memory link (sim_cta_demand) */
} mctx;

/* The main kernel's costs, filled by one function per schedule. */
typedef struct mcost {
    double main_ns;      /* from the first CTA start to the last CTA end */
    double busy;         /* SM-busy ns */
    double wait_ns;      /* stream-K hosts waiting, summed */
} mcost;

/* A main-kernel wave of n CTAs: its per-CTA demand on the memory link, and
 * the cap and demand of its last, partial wave at that wave's CTAs per SM
 * (as the simulator's dispatch spreads them; 0 when there is none). */
static void kwave_caps(kwave *k, const mctx *m, int64_t n)
{
    const plan_shape *s = m->s;
    int64_t tail = n % m->slots;
    k->dem = m->dem;
    k->cap_tail = k->dem_tail = 0;
    if (n <= m->slots || !tail) return;
    int cps = plan_ctas_on_sm(tail, s->sms, s->resident);
    k->cap_tail = sim_cta_rate(m->g, m->kp, m->w, s->rows, s->block_n, cps);
    k->dem_tail = sim_cta_demand(m->g, m->kp, m->w, s->rows, s->block_n, cps);
}

/* The combine kernel: n CTAs each reading `parts` partials. */
static double combine_ns(const gpu_spec *g, const kernel_profile *kp, const workload *w, int rows, int64_t n,
                         double parts, double *busy)
{
    kwave k = {n, (int64_t)g->sms * sim_combine_resident(g),
               kp->cta_prologue_ns + kp->merge_round_ns * sim_combine_rounds(rows, w->head_dim, (int)ceil(parts)) +
                   kp->cta_epilogue_ns,
               1, 1,
               parts * sim_partial_bytes(w, rows), 0, kp->cta_inflight_bytes / g->mem_latency_ns,
               g->mem_bw_achievable_gbps, 0, g->mem_share_exp, 0, 0};
    return kwave_ns(&k, g->sms, busy);
}

/* Stream-K over the shape's stream-K part (sk_units units, sk_tiles tiles,
 * sk_grid CTAs of run_long or run_long - 1 tiles), alongside extra_n other
 * CTAs streaming extra_b bytes each (hybrid's data-parallel ones).  Fills
 * the main-kernel time from the first CTA start and the host wait. */
typedef struct sk_out {
    double ns, wait_ns;
} sk_out;

static void streamk_ns(const mctx *m, double extra_n, double extra_b, sk_out *o)
{
    const gpu_spec *g = m->g;
    const kernel_profile *kp = m->kp;
    const plan_shape *s = m->s;
    const int rows = s->rows, head_dim = m->w->head_dim, uniform = s->uniform;
    const int64_t units = s->sk_units, tiles = s->sk_tiles, grid = s->sk_grid;
    const int64_t M = s->run_long, high = s->run_long_ctas;
    const double cap = m->cap, bw = m->bw, tile_b = m->tile_b;
    double t = uniform ? (double)s->max_tiles : (double)tiles / (double)units;
    int64_t ti = uniform ? s->max_tiles : (int64_t)ceil(t);

    double n = (double)grid + extra_n;
    double share = share2(n, m->dem, cap, bw, g->mem_share_exp);
    double t_all = ps2((double)high, M * tile_b, (double)(grid - high), (M - 1) * tile_b, m->dem, cap, bw,
                       g->mem_share_exp);
    if (extra_n > 0) t_all = fmax(t_all, ((double)tiles * tile_b + extra_n * extra_b) / bw);
    /* CTAs of M - 1 tiles finish streaming when the first phase ends */
    double t_low = grid > high ? (M - 1) * tile_b / share : t_all;
    if (t_low > t_all) t_low = t_all;
    double worst = 0, wait_max = 0;
    int64_t parts_any = 1;
    for (int cls = 0; cls < 2; cls++) {
        int64_t L = cls == 0 ? M : M - 1;
        if (L < 1 || (cls == 1 && high >= grid)) continue;
        /* segments of the busiest CTA of the class, and parts of the most
         * split unit whose host is in it (offsets are multiples of gcd) */
        int64_t gl = gcd64(ti, L);
        int64_t nseg = cdiv(ti - gl + L, ti);
        if (nseg > units) nseg = units;
        int64_t parts = cdiv(L - gl + ti, L);
        int64_t in_cls = cls == 0 ? high : grid - high;   /* a unit inside one class */
        if (parts > in_cls) parts = in_cls;
        if (units == 1 || grid == 1) parts = grid < ti ? grid : ti;
        if (parts > parts_any) parts_any = parts;
        /* a pause of d ns (another segment's first load, which waits the
         * loaded latency while the others stream) costs d * share / cap at the end */
        double lat_mid = kp->seg_loads * sim_load_latency(g->mem_latency_ns, kp->load_queue, m->dem, share);
        double mid = (double)(nseg - 1) * lat_mid + (nseg > 1 ? m->pw : 0) +
                     (double)(nseg > 2 ? nseg - 2 : 0) * kp->cta_epilogue_ns;
        mid *= share / cap;
        double tail = kp->cta_epilogue_ns, wait = 0, own = cls == 0 ? t_all : t_low;
        if (parts > 1) {
            /* middle peers stream a whole run, then write and flag */
            if (parts > 2) wait = m->pw + kp->flag_latency_ns;
            tail += wait + sim_host_merge_ns(kp, rows, head_dim, (int)(parts - 1));
        }
        double path = own + mid + tail;
        if (path > worst) worst = path;
        if (wait > wait_max) wait_max = wait;
    }
    /* uniform: the unit across the boundary between the two classes has
     * its host among the long runs and peers among the short ones */
    int64_t B = high * M;
    if (uniform && high < grid && B < tiles && B % ti) {
        int64_t s0 = B / ti * ti, c_first = s0 / M, c_last = high + (s0 + ti - 1 - B) / (M - 1);
        int64_t parts = c_last - c_first + 1;
        double wait = (high - c_first > 1) ? m->pw + kp->flag_latency_ns : 0;
        double path = t_all + wait + sim_host_merge_ns(kp, rows, head_dim, (int)(parts - 1)) +
                      kp->cta_epilogue_ns;
        if (path > worst) worst = path;
    }
    o->wait_ns = wait_max * (double)(parts_any > 1 ? units : 0);
    o->ns = kp->cta_prologue_ns + g->mem_latency_ns + worst;
}

/* fa2 (and split at one chunk): one CTA per unit; the longest requests
 * finish last. */
static void model_fa2(const mctx *m, mcost *c)
{
    const plan_shape *s = m->s;
    const workload *w = m->w;
    kwave k = {s->grid, m->slots, m->pro + m->lat + m->epi, 1, 1, 0, 0, m->cap, m->bw, 0,
               m->g->mem_share_exp, 0, 0};
    kwave_caps(&k, m, s->grid);
    int64_t nmax = 0;
    double small = 0;
    for (int q = 0; q < w->batch; q++) {
        if (plan_tiles_of(w->ctx[q], s->block_n) == s->max_tiles) nmax++;
        else small += (double)w->ctx[q];
    }
    double maxc = 0;
    for (int q = 0; q < w->batch; q++) if ((double)w->ctx[q] > maxc) maxc = (double)w->ctx[q];
    k.frac_big = (double)nmax / w->batch;
    k.b_big = maxc * m->rb;
    k.b_small = nmax < w->batch ? small / (double)(w->batch - nmax) * m->rb : 0;
    c->main_ns = kwave_ns(&k, m->g->sms, &c->busy);
}

/* split: the shape's chunks per unit, full ones and each request's last
 * (shorter) one, and empty ones past a short request's end; every chunk
 * writes a partial for the combine kernel. */
static void model_split(const mctx *m, mcost *c)
{
    const plan_shape *s = m->s;
    const workload *w = m->w;
    if (s->parts == 1) {
        model_fa2(m, c);
        return;
    }
    const double nfull = (double)s->full_chunks, nlast = w->batch, last_tok = (double)s->last_tokens;
    kwave k = {s->grid, m->slots, m->pro + m->lat + m->pw, nfull / (nfull + nlast),
               (nfull + nlast) / ((double)s->parts * w->batch), (double)s->chunk * s->block_n * m->rb,
               last_tok / nlast * m->rb, m->cap, m->bw, 0, m->g->mem_share_exp, 0, 0};
    kwave_caps(&k, m, s->grid);
    c->main_ns = kwave_ns(&k, m->g->sms, &c->busy);
}

/* streamk: equal runs over every tile, hosts merging their peers. */
static void model_streamk(const mctx *m, mcost *c)
{
    sk_out so;
    streamk_ns(m, 0, 0, &so);
    c->main_ns = so.ns;
    c->wait_ns = so.wait_ns;
    c->busy = c->main_ns * (double)(m->s->grid < m->g->sms ? m->s->grid : m->g->sms);
}

/* hybrid: the stream-K part, and the data-parallel CTAs in the other
 * slots, then in waves. */
static void model_hybrid(const mctx *m, mcost *c)
{
    const plan_shape *s = m->s;
    const gpu_spec *g = m->g;
    const int64_t dp = s->dp_ctas, gsk = s->sk_grid, slots = m->slots;
    const double unit_b = m->kv / (double)s->n_units, fixed = m->pro + m->lat + m->epi;
    if (gsk == 0) {
        kwave k = {dp, slots, fixed, 1, 1, unit_b, 0, m->cap, m->bw, 0, g->mem_share_exp, 0, 0};
        kwave_caps(&k, m, dp);
        c->main_ns = kwave_ns(&k, g->sms, &c->busy);
        return;
    }
    sk_out so;
    int64_t dp1 = dp < slots - gsk ? dp : slots - gsk;
    streamk_ns(m, (double)dp1, unit_b, &so);
    double t_sk = so.ns;
    double t_dp = 0;
    if (dp > 0) {
        /* data-parallel CTAs fill the other slots, then follow in waves
         * (all slots once the stream-K grid fills the GPU) */
        int64_t free_slots = slots - gsk;
        double b2 = 0;
        int64_t done_a = 0;   /* data-parallel CTAs finished while stream-K runs */
        if (free_slots > 0) {
            kwave k1 = {dp < free_slots ? dp : free_slots, free_slots, fixed, 1, 1, unit_b, 0, m->cap, m->bw, 0,
                        g->mem_share_exp, m->dem, 0};
            double w1 = kwave_ns(&k1, g->sms, &b2);
            done_a = w1 > 0 ? (int64_t)floor(t_sk / w1) * free_slots : dp;
            if (done_a > dp) done_a = dp;
        }
        if (done_a == dp) {
            kwave k = {dp, free_slots, fixed, 1, 1, unit_b, 0, m->cap, m->bw, 0, g->mem_share_exp, m->dem, 0};
            t_dp = kwave_ns(&k, g->sms, &b2);
        } else {   /* the rest in waves over every slot once stream-K is done */
            kwave k = {dp - done_a, slots, fixed, 1, 1, unit_b, 0, m->cap, m->bw, 0, g->mem_share_exp, m->dem, 0};
            t_dp = t_sk + kwave_ns(&k, g->sms, &b2);
        }
        t_dp = fmax(t_dp, fixed * (double)cdiv(dp, slots) + (m->kv + 0.0) / m->bw);
    }
    c->main_ns = fmax(t_sk, t_dp);
    c->wait_ns = so.wait_ns;
    c->busy = c->main_ns * (double)(s->grid < g->sms ? s->grid : g->sms);
}

/* balanced: the shape's chunk, full chunks and each request's last one;
 * split units write partials for the combine kernel. */
static void model_balanced(const mctx *m, mcost *c)
{
    const plan_shape *s = m->s;
    const workload *w = m->w;
    const double nfull = (double)s->full_chunks, nlast = w->batch, last_tok = (double)s->last_tokens;
    kwave k = {s->grid, m->slots, m->pro + m->lat + (s->combine ? m->pw : m->epi), nfull / (nfull + nlast), 1,
               (double)s->chunk * s->block_n * m->rb, last_tok / nlast * m->rb, m->cap, m->bw, 0,
               m->g->mem_share_exp, 0, 0};
    kwave_caps(&k, m, s->grid);
    c->main_ns = kwave_ns(&k, m->g->sms, &c->busy);
}

typedef void (*model_fn)(const mctx *, mcost *);
static const model_fn model_fns[SCHED_COUNT] = {
    [SCHED_FA2] = model_fa2,
    [SCHED_SPLIT] = model_split,
    [SCHED_STREAMK] = model_streamk,
    [SCHED_HYBRID] = model_hybrid,
    [SCHED_BALANCED] = model_balanced,
};

int model_predict(const gpu_spec *g, const kernel_profile *kp, const workload *w, const plan_opts *o_in, sim_result *r,
                  char *err, int errlen)
{
    memset(r, 0, sizeof *r);
    sim_start start;
    int rc = sim_start_of(g, kp, w, o_in, &start, err, errlen);
    if (rc != SIM_OK) return rc;
    if (start.single) {   /* one split: the library runs another kernel */
        int rc1 = model_predict(g, &start.k1, w, &start.o1, r, err, errlen);
        if (rc1 == SIM_OK) r->schedule = SCHED_SPLIT, r->splits = 1;
        return rc1;
    }
    const int res = start.res;
    const plan_shape s = start.s;

    const int sms = g->sms, rows = s.rows;
    const double elt = dtype_bytes(w->dtype);
    const double kv = sim_kv_bytes(w);
    mctx m = {g, kp, w, &s, (int64_t)sms * res, 2.0 * w->head_dim * elt, g->mem_bw_achievable_gbps,
              g->mem_latency_ns, kp->cta_prologue_ns, kp->cta_epilogue_ns, sim_partial_write_ns(kp, rows, w->head_dim), kv,
              kv / (double)s.n_tiles, sim_cta_rate(g, kp, w, rows, s.block_n, s.ctas_on_sm),
              sim_cta_demand(g, kp, w, rows, s.block_n, s.ctas_on_sm)};
    if (kp->sm_stream_loss > 0) m.bw *= sim_stream_eff(kp->sm_stream_loss, s.ctas_on_sm);
    mcost c = {0, 0, 0};
    model_fns[s.kind](&m, &c);

    double comb_ns = 0, b2 = 0;
    if (s.comb_units > 0)
        comb_ns = sim_combine_gap_ns(g, kp) + combine_ns(g, kp, w, rows, s.comb_units,
                                                      (double)s.n_slots / (double)s.comb_units, &b2);
    double launch = (g->launch_us + kp->call_extra_us) * 1e3;
    double q_bytes = (double)s.n_segs * rows * w->head_dim * elt;
    double o_bytes = (double)s.n_units * rows * w->head_dim * elt;
    double part = (double)s.n_slots * sim_partial_bytes(w, rows) * 2;
    r->schedule = s.kind;
    r->block_n = s.block_n;
    r->ctas = s.grid;
    r->splits = s.splits;
    r->ctas_per_sm = res;
    r->combine_ctas = s.combine_grid;
    r->main_us = (launch + c.main_ns) / 1e3;
    r->combine_us = comb_ns / 1e3;
    r->time_us = r->main_us + r->combine_us;
    r->kv_bytes = kv;
    r->hbm_bytes = kv + q_bytes + o_bytes + part;
    r->bw_gbps = r->hbm_bytes / (r->time_us * 1e3);
    r->waves = (double)s.grid / (double)m.slots;
    r->sm_busy = c.main_ns > 0 ? fmin(1.0, c.busy / (c.main_ns * sms)) : 0;
    r->wait_us = c.wait_ns / 1e3;
    r->sol_us = sim_sol_us(g, kp, w);
    sim_result_interval(r, g, kp, w, 1);
    return SIM_OK;
}
