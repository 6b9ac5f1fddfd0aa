/*
 * model.c: the analytical model of decode attention (see model.h).
 *
 * The same GPU model as the simulator (sim.c), solved in closed form instead
 * of event by event.  For each schedule the planner's numbers come from the
 * planner's own rules (plan_splits_heuristic, plan_leanattn_grid, tiles per
 * unit), without building the CTA list.  A kernel is then costed in waves of
 * CTAs that run at once:
 *   wave = prologue + first-load latency + stream + tail ops,
 *   stream: n CTAs share the achievable bandwidth; each runs at
 *           pslink_share(n, cap, bw, mem_share_exp), as on the simulator's
 *           link, cap the per-CTA rate of sim_cta_rate,
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

/* Modular inverse of a mod m (gcd(a, m) = 1, m >= 1). */
static int64_t inv_mod(int64_t a, int64_t m)
{
    int64_t r0 = m, r1 = a % m, s0 = 0, s1 = 1;
    while (r1) {
        int64_t q = r0 / r1, t;
        t = r0 - q * r1; r0 = r1; r1 = t;
        t = s0 - q * s1; s0 = s1; s1 = t;
    }
    s0 %= m;
    return s0 < 0 ? s0 + m : s0;
}

/* Counts c in [lo, hi] with (a*c + b) % t == 0 (t >= 1). */
static int64_t count_congruent(int64_t a, int64_t b, int64_t t, int64_t lo, int64_t hi)
{
    if (hi < lo) return 0;
    a %= t;
    int64_t nb = ((-b) % t + t) % t;
    int64_t g = gcd64(a ? a : t, t);
    if (nb % g) return 0;
    int64_t tp = t / g;
    int64_t c0 = tp == 1 ? 0 : (nb / g) % tp * inv_mod(a / g, tp) % tp;
    /* c = c0 + k*tp in [lo, hi] */
    int64_t first = lo + ((c0 - lo) % tp + tp) % tp;
    return first > hi ? 0 : (hi - first) / tp + 1;
}


/*
 * Processor sharing of n1 flows of b1 bytes and n2 of b2 bytes starting
 * together, per-flow cap, link bw: time until the last one finishes.
 */
static double ps2(double n1, double b1, double n2, double b2, double cap, double bw, double soft)
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
        double r = pslink_share(n1 + n2, cap, bw, soft);
        t = b2 / r;
        b1 -= b2;
    }
    return t + b1 / pslink_share(n1, cap, bw, soft);
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
} kwave;

/* The cap of the last wave of a kernel of n CTAs on `slots` slots of `sms`
 * SMs: its CTAs per SM (as the simulator's dispatch spreads them). */
static double tail_cap(const gpu_spec *g, const kernel_profile *kp, const workload *w, int rows, int bn, int64_t n,
                       int64_t slots, int res)
{
    int64_t tail = n % slots;
    if (n <= slots || !tail) return 0;
    int64_t per = cdiv(tail, g->sms);
    return sim_cta_rate(g, kp, w, rows, bn, (int)(per < res ? per : res));
}

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
        double tw = k->fixed_ns + (nb * k->b_big + (ns - nb) * k->b_small) / ns / pslink_share(ns, k->cap, k->bw, k->soft);
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
        double tw = k->fixed_ns + ps2(nb, k->b_big, ns - nb, k->b_small, cap, k->bw, k->soft);
        t += tw * reps;
        *busy += tw * reps * (double)(n < sms ? n : sms);
    }
    return t;
}


/* The combine kernel: n CTAs each reading `parts` partials. */
static double combine_ns(const gpu_spec *g, const kernel_profile *kp, const workload *w, int rows, int64_t n,
                         double parts, double *busy)
{
    int res2 = gpu_occupancy(g, &sim_combine_res);
    if (res2 < 1) res2 = 1;
    kwave k = {n, (int64_t)g->sms * res2,
               kp->cta_prologue_ns + kp->merge_round_ns * sim_combine_rounds(rows, w->head_dim, (int)ceil(parts)) +
                   kp->cta_epilogue_ns,
               1, 1,
               parts * sim_partial_bytes(w, rows), 0, kp->cta_inflight_bytes / g->mem_latency_ns,
               g->mem_bw_achievable_gbps, 0, g->mem_share_exp};
    return kwave_ns(&k, g->sms, busy);
}

/* Stream-K over `units` units of tiles t_u (uniform: t_avg exact) on `grid`
 * CTAs.  Fills the main-kernel time from the first CTA start, segments and
 * the host wait. */
typedef struct sk_out {
    double ns, segs, wait_ns;
} sk_out;

static void streamk_ns(const gpu_spec *g, const kernel_profile *kp, int rows, int head_dim, int64_t units, int64_t tiles, int uniform, int64_t t_unit, double tile_b,
                       int64_t grid, double cap, double bw, double extra_n, double extra_b, sk_out *o)
{
    int64_t M = cdiv(tiles, grid);
    int64_t high = tiles - (M - 1) * grid;
    double t = uniform ? (double)t_unit : (double)tiles / (double)units;
    int64_t ti = uniform ? t_unit : (int64_t)ceil(t);
    /* segments over all CTAs: units plus run boundaries inside a unit */
    int64_t coincide = 0;
    if (uniform) {
        int64_t hi1 = high < grid - 1 ? high : grid - 1;
        coincide = count_congruent(M, 0, ti, 1, hi1) + count_congruent(M - 1, high, ti, hi1 + 1, grid - 1);
    }
    o->segs = (double)(units + grid - 1 - coincide);

    double n = (double)grid + extra_n;
    double share = pslink_share(n, cap, bw, g->mem_share_exp);
    double t_all = ps2((double)high, M * tile_b, (double)(grid - high), (M - 1) * tile_b, cap, bw, g->mem_share_exp);
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
        /* a pause of d ns (another segment's first load) costs d * share / cap at the end */
        double mid = (double)(nseg - 1) * g->mem_latency_ns + (nseg > 1 ? kp->partial_write_ns : 0) +
                     (double)(nseg > 2 ? nseg - 2 : 0) * kp->cta_epilogue_ns;
        mid *= share / cap;
        double tail = kp->cta_epilogue_ns, wait = 0, own = cls == 0 ? t_all : t_low;
        if (parts > 1) {
            /* middle peers stream a whole run, then write and flag */
            if (parts > 2) wait = kp->partial_write_ns + kp->flag_latency_ns;
            tail += wait + kp->merge_round_ns * sim_host_merge_rounds(rows, head_dim, (int)(parts - 1));
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
        double wait = (high - c_first > 1) ? kp->partial_write_ns + kp->flag_latency_ns : 0;
        double path = t_all + wait + kp->merge_round_ns * sim_host_merge_rounds(rows, head_dim, (int)(parts - 1)) +
                      kp->cta_epilogue_ns;
        if (path > worst) worst = path;
    }
    o->wait_ns = wait_max * (double)(parts_any > 1 ? units : 0);
    o->ns = kp->cta_prologue_ns + g->mem_latency_ns + worst;
}

int model_predict(const gpu_spec *g, const kernel_profile *kp, const workload *w, const plan_opts *o_in, sim_result *r,
                  char *err, int errlen)
{
    char why[160];
    memset(r, 0, sizeof *r);
    plan_opts po = *o_in, *o = &po;
    kprof_plan_opts(kp, w, o);
    if (workload_check(w, why, sizeof why)) {
        snprintf(err, (size_t)errlen, "%s", why);
        return SIM_EPLAN;
    }
    int bn = o->block_n ? o->block_n : plan_default_block_n(w->head_dim);
    if (bn != 32 && bn != 64 && bn != 128 && bn != 256) {
        snprintf(err, (size_t)errlen, "--block-n %d: unsupported tile length", bn);
        return SIM_EPLAN;
    }
    if (o->kind < 0 || o->kind >= SCHED_COUNT || o->splits < 0 || o->splits > PLAN_MAX_SPLITS || o->grid < 0 ||
        o->ctas_per_sm < 0) {
        snprintf(err, (size_t)errlen, "%s: cannot plan this workload (bad options)", sched_name(o->kind));
        return SIM_EPLAN;
    }
    int res = sim_resident_of(g, kp, w, o, err, errlen);
    if (res < 1) return SIM_EOCCUPANCY;
    int sms = g->sms;
    int cps = o->ctas_per_sm ? o->ctas_per_sm : (res < 2 ? res : 2);
    int64_t slots = (int64_t)sms * res;
    int64_t U = (int64_t)w->batch * w->kv_heads;
    int rows = w->heads / w->kv_heads;
    int m_blocks = (rows + 63) / 64;
    double elt = dtype_bytes(w->dtype);
    double rb = 2.0 * w->head_dim * elt;   /* K and V bytes of one token */
    double bw = g->mem_bw_achievable_gbps;
    double lat = g->mem_latency_ns, pro = kp->cta_prologue_ns, epi = kp->cta_epilogue_ns, pw = kp->partial_write_ns;

    int64_t tiles = 0, max_tiles = 0, min_tiles = INT64_MAX;
    for (int q = 0; q < w->batch; q++) {
        int64_t t = plan_tiles_of(w->ctx[q], bn);
        if (t > max_tiles) max_tiles = t;
        if (t < min_tiles) min_tiles = t;
        tiles += t * w->kv_heads;
    }
    if (tiles > WL_MAX_TILES) {
        snprintf(err, (size_t)errlen, "%s: cannot plan this workload (too many tiles or units)", sched_name(o->kind));
        return SIM_EPLAN;
    }
    int uniform = min_tiles == max_tiles;
    double kv = sim_kv_bytes(w);
    /* average bytes of a tile (the last tile of a request may be short) */
    double tile_b = kv / (double)tiles;

    int64_t grid = 0, segs = 0, nslots = 0, comb_n = 0;
    double comb_parts = 0, main_ns = 0, busy = 0, wait_ns = 0;
    int splits = 0;
    double launch = (g->launch_us + kp->call_extra_us) * 1e3;

    switch (o->kind) {
    case SCHED_FA2:
    case SCHED_SPLIT: {
        int64_t S = 1;
        if (o->kind == SCHED_SPLIT)
            S = o->splits ? o->splits
                          : plan_splits_heuristic(U * m_blocks, sms * cps, (int)max_tiles, PLAN_MAX_SPLITS);
        if (S > max_tiles && o->kind == SCHED_SPLIT && !o->splits) S = max_tiles;
        kernel_profile k1;   /* one split: the library may run another kernel */
        plan_opts o1;
        int single = kprof_single_split(kp, o_in, (int)S, &k1, &o1, err, errlen);
        if (single < 0) return SIM_EPLAN;
        if (single) {
            int rc1 = model_predict(g, &k1, w, &o1, r, err, errlen);
            if (rc1 == SIM_OK) r->schedule = SCHED_SPLIT, r->splits = 1;
            return rc1;
        }
        grid = U * S;
        segs = grid;
        splits = o->kind == SCHED_SPLIT ? (int)S : 0;
        int ctas_on_sm = (int)(cdiv(grid, sms) < res ? cdiv(grid, sms) : res);
        double cap = sim_cta_rate(g, kp, w, rows, bn, ctas_on_sm);
        kwave k = {grid, slots, 0, 1, 1, 0, 0, cap, bw, tail_cap(g, kp, w, rows, bn, grid, slots, res), g->mem_share_exp};
        if (S == 1) {
            k.fixed_ns = pro + lat + epi;
            /* ragged: the longest requests finish last */
            int64_t nmax = 0;
            double small = 0;
            for (int q = 0; q < w->batch; q++) {
                if (plan_tiles_of(w->ctx[q], bn) == max_tiles) nmax++;
                else small += (double)w->ctx[q];
            }
            double maxc = 0;
            for (int q = 0; q < w->batch; q++) if ((double)w->ctx[q] > maxc) maxc = (double)w->ctx[q];
            k.frac_big = (double)nmax / w->batch;
            k.b_big = maxc * rb;
            k.b_small = nmax < w->batch ? small / (double)(w->batch - nmax) * rb : 0;
        } else {
            int64_t chunk = cdiv(max_tiles, S);
            double nfull = 0, nlast = 0, last_tok = 0;
            for (int q = 0; q < w->batch; q++) {
                int64_t t = plan_tiles_of(w->ctx[q], bn);
                int64_t kq = cdiv(t, chunk);
                if (kq > S) kq = S;
                nfull += (double)(kq - 1);
                nlast += 1;
                last_tok += (double)(w->ctx[q] - (kq - 1) * chunk * bn);
            }
            k.fixed_ns = pro + lat + pw;
            k.frac_stream = (nfull + nlast) / ((double)S * w->batch);
            k.frac_big = nfull / (nfull + nlast);
            k.b_big = (double)chunk * bn * rb;
            k.b_small = last_tok / nlast * rb;
            nslots = grid;
            comb_n = U;
            comb_parts = (double)S;
        }
        main_ns = kwave_ns(&k, sms, &busy);
        break;
    }
    case SCHED_STREAMK: {
        int64_t gr = o->grid ? o->grid : plan_leanattn_grid(tiles, sms, cps, U * m_blocks, (int)max_tiles);
        if (gr > slots) {
            if (o->grid)
                snprintf(err, (size_t)errlen, "--grid %d: more than the %lld CTAs that can be resident on %s (%d SMs x %d)",
                         o->grid, (long long)slots, g->name, sms, res);
            else
                snprintf(err, (size_t)errlen, "streamk: cannot plan this workload (bad options)");
            return SIM_EPLAN;
        }
        if (gr > tiles) gr = tiles;
        grid = gr;
        int ctas_on_sm = (int)(cdiv(grid, sms) < res ? cdiv(grid, sms) : res);
        double cap = sim_cta_rate(g, kp, w, rows, bn, ctas_on_sm);
        sk_out so;
        streamk_ns(g, kp, rows, w->head_dim, U, tiles, uniform, max_tiles, tile_b, grid, cap, bw, 0, 0, &so);
        main_ns = so.ns;
        segs = (int64_t)so.segs;
        nslots = segs - U;
        wait_ns = so.wait_ns;
        busy = main_ns * (double)(grid < sms ? grid : sms);
        break;
    }
    case SCHED_HYBRID: {
        int64_t gr = o->grid ? o->grid : (int64_t)sms * cps;
        if (gr > slots) {
            if (o->grid)
                snprintf(err, (size_t)errlen, "--grid %d: more than the %lld CTAs that can be resident on %s (%d SMs x %d)",
                         o->grid, (long long)slots, g->name, sms, res);
            else
                snprintf(err, (size_t)errlen, "hybrid: cannot plan this workload (bad options)");
            return SIM_EPLAN;
        }
        int64_t full = U / gr;
        int64_t dp = (U % gr == 0) ? U : (full > 1 ? (full - 1) * gr : 0);
        int64_t sk_units = U - dp;
        /* tiles of units dp.. (units are request-major) */
        int64_t sk_tiles = 0;
        if (uniform) sk_tiles = sk_units * max_tiles;
        else
            for (int64_t u = dp; u < U; u++) sk_tiles += plan_tiles_of(w->ctx[u / w->kv_heads], bn);
        int64_t gsk = sk_tiles < gr ? sk_tiles : gr;
        grid = gsk + dp;
        int ctas_on_sm = (int)(cdiv(grid, sms) < res ? cdiv(grid, sms) : res);
        double cap = sim_cta_rate(g, kp, w, rows, bn, ctas_on_sm);
        double unit_b = kv / (double)U;
        if (gsk == 0) {
            kwave k = {dp, slots, pro + lat + epi, 1, 1, unit_b, 0, cap, bw, tail_cap(g, kp, w, rows, bn, dp, slots, res), g->mem_share_exp};
            main_ns = kwave_ns(&k, sms, &busy);
            segs = dp;
        } else {
            sk_out so;
            int64_t dp1 = dp < slots - gsk ? dp : slots - gsk;
            streamk_ns(g, kp, rows, w->head_dim, sk_units, sk_tiles, uniform, max_tiles, tile_b, gsk, cap, bw, (double)dp1, unit_b, &so);
            double t_sk = so.ns;
            double t_dp = 0;
            if (dp > 0) {
                /* data-parallel CTAs fill the other slots, then follow in waves
                 * (all slots once the stream-K grid fills the GPU) */
                int64_t free_slots = slots - gsk;
                double b2 = 0;
                int64_t done_a = 0;   /* data-parallel CTAs finished while stream-K runs */
                if (free_slots > 0) {
                    kwave k1 = {dp < free_slots ? dp : free_slots, free_slots, pro + lat + epi, 1, 1, unit_b, 0, cap, bw, 0, g->mem_share_exp};
                    double w1 = kwave_ns(&k1, sms, &b2);
                    done_a = w1 > 0 ? (int64_t)floor(t_sk / w1) * free_slots : dp;
                    if (done_a > dp) done_a = dp;
                }
                if (done_a == dp) {
                    kwave k = {dp, free_slots, pro + lat + epi, 1, 1, unit_b, 0, cap, bw, 0, g->mem_share_exp};
                    t_dp = kwave_ns(&k, sms, &b2);
                } else {   /* the rest in waves over every slot once stream-K is done */
                    kwave k = {dp - done_a, slots, pro + lat + epi, 1, 1, unit_b, 0, cap, bw, 0, g->mem_share_exp};
                    t_dp = t_sk + kwave_ns(&k, sms, &b2);
                }
                t_dp = fmax(t_dp, (pro + lat + epi) * (double)cdiv(dp, slots) + (kv + 0.0) / bw);
            }
            main_ns = fmax(t_sk, t_dp);
            segs = (int64_t)so.segs + dp;
            nslots = (int64_t)so.segs - sk_units;
            wait_ns = so.wait_ns;
            busy = main_ns * (double)(grid < sms ? grid : sms);
        }
        break;
    }
    case SCHED_BALANCED: {
        int64_t minc = cdiv(128, bn);
        int64_t chunk = max_tiles;
        if (U < slots && max_tiles > minc) {
            if (uniform) {
                int64_t kk = slots / U;
                chunk = cdiv(max_tiles, kk);
                if (chunk < minc) chunk = minc;
            } else {
                int64_t lo = minc, hi = max_tiles;
                while (lo < hi) {
                    int64_t mid = lo + (hi - lo) / 2, n = 0;
                    for (int q = 0; q < w->batch; q++) n += cdiv(plan_tiles_of(w->ctx[q], bn), mid) * w->kv_heads;
                    if (n <= slots) hi = mid; else lo = mid + 1;
                }
                chunk = lo;
            }
        }
        double nfull = 0, nlast = 0, last_tok = 0, multi = 0, multi_parts = 0;
        for (int q = 0; q < w->batch; q++) {
            int64_t t = plan_tiles_of(w->ctx[q], bn);
            int64_t kq = cdiv(t, chunk);
            nfull += (double)(kq - 1);
            nlast += 1;
            last_tok += (double)(w->ctx[q] - (kq - 1) * chunk * bn);
            if (kq > 1) { multi += 1; multi_parts += (double)kq; }
        }
        grid = (int64_t)(nfull + nlast) * w->kv_heads;
        segs = grid;
        int ctas_on_sm = (int)(cdiv(grid, sms) < res ? cdiv(grid, sms) : res);
        double cap = sim_cta_rate(g, kp, w, rows, bn, ctas_on_sm);
        kwave k = {grid, slots, pro + lat + (multi > 0 ? pw : epi), nfull / (nfull + nlast), 1,
                   (double)chunk * bn * rb, last_tok / nlast * rb, cap, bw, tail_cap(g, kp, w, rows, bn, grid, slots, res), g->mem_share_exp};
        main_ns = kwave_ns(&k, sms, &busy);
        if (multi > 0) {
            comb_n = (int64_t)multi * w->kv_heads;
            comb_parts = multi_parts / multi;
            nslots = (int64_t)multi_parts * w->kv_heads;
        }
        break;
    }
    }

    /* Ragged batches: the planner's own numbers for what the plan is (CTAs,
     * segments, partial slots), which the closed form above only estimates.
     * Uniform batches keep the closed form's counts, equal to the plan's
     * (tests/test_model.c checks both), without materialising the plan: the
     * tuner prunes thousands of candidates with this function. */
    if (!uniform) {
        plan *pl = plan_alloc();
        if (!pl) {
            snprintf(err, (size_t)errlen, "out of memory");
            return SIM_ENOMEM;
        }
        int prc = plan_build(pl, w, o, sms, res);
        if (prc != PLAN_OK) {
            plan_free(pl);
            snprintf(err, (size_t)errlen, "%s: cannot plan this workload (%s)", sched_name(o->kind),
                     prc == PLAN_ETOOLARGE ? "too many tiles or units" : prc == PLAN_ENOMEM ? "out of memory" : "bad options");
            return prc == PLAN_ENOMEM ? SIM_ENOMEM : SIM_EPLAN;
        }
        grid = pl->grid;
        segs = pl->n_segs;
        nslots = pl->n_slots;
        splits = pl->splits;
        plan_free(pl);
    }

    double comb_ns = 0, b2 = 0;
    if (comb_n > 0) comb_ns = g->kernel_gap_us * 1e3 + combine_ns(g, kp, w, rows, comb_n, comb_parts, &b2);
    double q_bytes = (double)segs * rows * w->head_dim * elt;
    double o_bytes = (double)U * rows * w->head_dim * elt;
    double part = (double)nslots * sim_partial_bytes(w, rows) * 2;
    r->schedule = o->kind;
    r->block_n = bn;
    r->ctas = (int)grid;
    r->splits = splits;
    r->ctas_per_sm = res;
    r->main_us = (launch + main_ns) / 1e3;
    r->combine_us = comb_ns / 1e3;
    r->time_us = r->main_us + r->combine_us;
    r->kv_bytes = kv;
    r->hbm_bytes = kv + q_bytes + o_bytes + part;
    r->bw_gbps = r->hbm_bytes / (r->time_us * 1e3);
    r->waves = (double)grid / (double)slots;
    r->sm_busy = main_ns > 0 ? fmin(1.0, busy / (main_ns * sms)) : 0;
    r->wait_us = wait_ns / 1e3;
    r->sol_us = (kv + (double)w->batch * w->heads * w->head_dim * elt * 2) / bw / 1e3;
    r->time_lo_us = r->time_us * (1 + kp->err_lo_pct / 100);
    r->time_hi_us = r->time_us * (1 + kp->err_hi_pct / 100);
    return SIM_OK;
}
