/*
 * plan.c: the schedule planner (see plan.h).
 *
 * Each schedule turns a workload into an ordered list of CTAs, each an
 * ordered list of segments (unit, tile range, partial slot), in two steps:
 * plan_shape_of applies the schedule's rules and counts what they give
 * (grid, chunks, runs, segments, slots) without placing anything, and
 * plan_build_shape places the segments of that shape.  The rules are
 * those of the systems the schedules come from:
 *   fa2       one CTA per unit (FlashAttention-2, no split);
 *   split     FlashAttention-2's split-KV: every unit cut into S chunks of
 *             ceil(max_tiles / S) tiles, S from num_splits_heuristic, then a
 *             combine kernel (short requests of a ragged batch get empty chunks,
 *             as in FA2, where the chunk follows the longest request);
 *   streamk   LeanAttention: tiles numbered over (request, kv head, tile), every
 *             CTA of the grid takes a contiguous run, lengths differing by at
 *             most one; the CTA holding a unit's tile 0 merges the others;
 *   hybrid    CUTLASS's data-parallel + two-tile stream-K: full waves of units
 *             run one CTA per unit, the rest (last partial wave plus one full
 *             wave) is spread stream-K over the grid;
 *   balanced  FlashInfer's planner: the smallest chunk (>= 128 tokens) such that
 *             all chunks fit in one wave of the grid, then a combine kernel.
 */
#include "plan.h"

#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

static const char *sched_names[SCHED_COUNT] = {"fa2", "split", "streamk", "hybrid", "balanced"};
static const char *dtype_names[DTYPE_COUNT] = {"fp16", "bf16", "fp8"};

const char *sched_name(int kind)
{
    return (kind >= 0 && kind < SCHED_COUNT) ? sched_names[kind] : "?";
}

int sched_parse(const char *s)
{
    for (int i = 0; i < SCHED_COUNT; i++)
        if (strcmp(s, sched_names[i]) == 0) return i;
    return -1;
}

const char *dtype_name(int dtype)
{
    return (dtype >= 0 && dtype < DTYPE_COUNT) ? dtype_names[dtype] : "?";
}

int dtype_parse(const char *s)
{
    for (int i = 0; i < DTYPE_COUNT; i++)
        if (strcmp(s, dtype_names[i]) == 0) return i;
    return -1;
}

int dtype_bytes(int dtype)
{
    return dtype == DTYPE_FP8 ? 1 : 2;
}

int plan_rows_cap(int rows)
{
    return rows <= 1 ? 1 : rows <= 2 ? 2 : rows <= 4 ? 4 : rows <= 8 ? 8 : 16;
}

int plan_uses_tensor_cores(int rows, int head_dim)
{
    return plan_rows_cap(rows) >= PLAN_MMA_MIN_ROWS && head_dim <= PLAN_MMA_MAX_DIM;
}

int plan_kernel_cap(int rows, int head_dim)
{
    const int cap = plan_rows_cap(rows);
    return plan_uses_tensor_cores(rows, head_dim) && cap < PLAN_MMA_MIN_CAP ? PLAN_MMA_MIN_CAP : cap;
}

int plan_default_block_n(int head_dim)
{
    if (head_dim <= 64) return 256;
    if (head_dim <= 128) return 128;
    return 64;
}

int plan_block_n_index(int bn)
{
    return bn <= 32 ? 0 : bn <= 64 ? 1 : bn <= 128 ? 2 : 3;
}

plan *plan_alloc(void)
{
    return calloc(1, sizeof(plan));
}

void plan_free(plan *p)
{
    if (!p) return;
    free(p->cta_first);
    free(p->segs);
    free(p->unit_tiles);
    free(p->unit_parts);
    free(p->unit_slot);
    free(p->unit_host);
    free(p);
}

static int grow(void **ptr, int *cap, int need, size_t elem)
{
    if (need <= *cap) return 0;
    int ncap = *cap ? *cap : 64;
    while (ncap < need) ncap = ncap > (1 << 29) ? need : ncap * 2;
    void *np = realloc(*ptr, (size_t)ncap * elem);
    if (!np) return -1;
    *ptr = np;
    *cap = ncap;
    return 0;
}

/* Makes room for `ctas` CTAs, `segs` segments and `units` units. */
static int plan_reserve(plan *p, int ctas, int segs, int units)
{
    int cu = p->cap_units;
    if (grow((void **)&p->cta_first, &p->cap_ctas, ctas + 1, sizeof(int32_t))) return -1;
    if (grow((void **)&p->segs, &p->cap_segs, segs, sizeof(plan_seg))) return -1;
    if (units > cu) {
        int c;
        c = cu; if (grow((void **)&p->unit_tiles, &c, units, sizeof(int32_t))) return -1;
        c = cu; if (grow((void **)&p->unit_parts, &c, units, sizeof(int32_t))) return -1;
        c = cu; if (grow((void **)&p->unit_slot, &c, units, sizeof(int32_t))) return -1;
        c = cu; if (grow((void **)&p->unit_host, &c, units, sizeof(int32_t))) return -1;
        p->cap_units = c;
    }
    return 0;
}

int workload_same(const workload *a, const workload *b)
{
    if (a->batch != b->batch || a->heads != b->heads || a->kv_heads != b->kv_heads || a->head_dim != b->head_dim ||
        a->dtype != b->dtype)
        return 0;
    return !memcmp(a->ctx, b->ctx, sizeof a->ctx[0] * (size_t)a->batch);
}

int workload_check(const workload *w, char *msg, int len)
{
    char tmp[8];
    if (!msg) { msg = tmp; len = (int)sizeof tmp; }
#define BAD(...) do { snprintf(msg, (size_t)len, __VA_ARGS__); return PLAN_EBADWORKLOAD; } while (0)
    if (w->batch < 1 || w->batch > WL_MAX_BATCH)
        BAD("--batch %d: must be between 1 and %d", w->batch, WL_MAX_BATCH);
    if (w->heads < 1 || w->heads > WL_MAX_HEADS)
        BAD("--heads %d: must be between 1 and %d", w->heads, WL_MAX_HEADS);
    if (w->kv_heads < 1 || w->kv_heads > w->heads)
        BAD("--kv-heads %d: must be between 1 and --heads (%d)", w->kv_heads, w->heads);
    if (w->heads % w->kv_heads)
        BAD("--kv-heads %d: does not divide --heads %d", w->kv_heads, w->heads);
    if (w->head_dim != 64 && w->head_dim != 128 && w->head_dim != 256)
        BAD("--head-dim %d: unsupported (64, 128 or 256)", w->head_dim);
    if (w->dtype < 0 || w->dtype >= DTYPE_COUNT)
        BAD("--dtype %d: unknown", w->dtype);
    if ((int64_t)w->batch * w->kv_heads > WL_MAX_UNITS)
        BAD("--batch %d x --kv-heads %d: more than %d work units", w->batch, w->kv_heads, WL_MAX_UNITS);
    for (int r = 0; r < w->batch; r++)
        if (w->ctx[r] < 1 || w->ctx[r] > WL_MAX_CTX)
            BAD("--ctx %lld (request %d): must be between 1 and %d", (long long)w->ctx[r], r, WL_MAX_CTX);
#undef BAD
    return 0;
}

void workload_uniform(workload *w, int batch, int heads, int kv_heads, int head_dim, int dtype, int64_t ctx)
{
    memset(w, 0, sizeof *w);
    w->batch = batch;
    w->heads = heads;
    w->kv_heads = kv_heads;
    w->head_dim = head_dim;
    w->dtype = dtype;
    for (int r = 0; r < batch && r < WL_MAX_BATCH; r++) w->ctx[r] = ctx;
}

static int64_t cdiv64(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* FlashAttention-2 counts work in 64-row query blocks per unit. */
static int m_blocks_of(int rows) { return (rows + 63) / 64; }

int plan_splits_heuristic(int64_t units, int slots, int n_blocks, int max_splits)
{
    if (units >= (int64_t)(0.8 * slots)) return 1;
    int hi = max_splits;
    if (slots < hi) hi = slots;
    if (n_blocks < hi) hi = n_blocks;
    if (hi < 1) return 1;
    double eff[PLAN_MAX_SPLITS + 1] = {0};
    double best = 0;
    for (int s = 1; s <= hi && s <= PLAN_MAX_SPLITS; s++) {
        int eligible = s == 1 || cdiv64(n_blocks, s) != cdiv64(n_blocks, s - 1);
        if (!eligible) continue;
        double waves = (double)units * s / slots;
        eff[s] = waves / (double)cdiv64((int64_t)(units * s), slots);
        if (eff[s] > best) best = eff[s];
    }
    for (int s = 1; s <= hi && s <= PLAN_MAX_SPLITS; s++) {
        int eligible = s == 1 || cdiv64(n_blocks, s) != cdiv64(n_blocks, s - 1);
        if (eligible && eff[s] >= 0.85 * best) return s;
    }
    return 1;
}

int plan_leanattn_grid(int64_t tiles, int sms, int ctas_per_sm, int64_t units, int n_blocks)
{
    int64_t g;
    if (tiles <= 2LL * ctas_per_sm * sms) {
        int64_t a = (tiles + 1) / 2, b = (32 * tiles + n_blocks - 1) / n_blocks;
        g = a < b ? a : b;
    } else {
        int64_t a = (int64_t)ctas_per_sm * sms, b = 32 * units;
        g = a < b ? a : b;
    }
    if (g > tiles) g = tiles;
    if (g < 1) g = 1;
    return (int)g;
}

/* Appends one segment to CTA being built. */
static inline void seg_put(plan *p, int unit, int32_t b, int32_t e)
{
    plan_seg *s = &p->segs[p->n_segs++];
    s->unit = unit;
    s->tile_begin = b;
    s->tile_end = e;
    s->slot = -1;
}

/* Cuts the `tiles` tiles of units u0, u0+1, ... (numbered linearly) into
 * `grid` runs (LeanAttention), appending CTAs from index p->grid on. */
static void plan_streamk_runs(plan *p, int u0, int64_t tiles, int grid)
{
    int64_t max_tiles = cdiv64(tiles, grid);
    int64_t high = tiles - (max_tiles - 1) * grid;   /* CTAs that take max_tiles */
    int u = u0;
    int64_t ubase = 0;                                /* linear index of unit u's tile 0 */
    for (int c = 0; c < grid; c++) {
        int64_t start = c < high ? max_tiles * c : (max_tiles - 1) * c + high;
        int64_t len = c < high ? max_tiles : max_tiles - 1;
        int64_t end = start + len;
        p->cta_first[p->grid + c] = p->n_segs;
        while (start < end) {
            while (start >= ubase + p->unit_tiles[u]) ubase += p->unit_tiles[u++];
            int64_t uend = ubase + p->unit_tiles[u];
            int64_t e = end < uend ? end : uend;
            seg_put(p, u, (int32_t)(start - ubase), (int32_t)(e - ubase));
            if (start == ubase) p->unit_host[u] = p->grid + c;
            start = e;
        }
    }
    p->grid += grid;
}

/* After segments are placed: counts parts per unit and gives partial slots.
 * all_partial: every segment of a split unit writes a partial (a combine
 * kernel merges); otherwise the host segment (tile 0) merges in place and
 * the unit's other segments write partials.  Every schedule places the
 * segments of one unit next to each other, which this relies on. */
static void plan_assign_slots(plan *p, int all_partial)
{
    for (int u = 0; u < p->n_units; u++) p->unit_parts[u] = 0;
    for (int i = 0; i < p->n_segs; i++) p->unit_parts[p->segs[i].unit]++;
    int slot = 0;
    for (int u = 0; u < p->n_units; u++) {
        if (p->unit_parts[u] > 1) {
            p->unit_slot[u] = slot;
            slot += all_partial ? p->unit_parts[u] : p->unit_parts[u] - 1;
        } else {
            p->unit_slot[u] = -1;
        }
    }
    p->n_slots = slot;
    int cur_unit = -1, k = 0;
    for (int i = 0; i < p->n_segs; i++) {
        plan_seg *s = &p->segs[i];
        if (s->unit != cur_unit) { cur_unit = s->unit; k = 0; }
        if (p->unit_parts[s->unit] <= 1) continue;
        if (!all_partial && s->tile_begin == 0) continue;  /* the host merges */
        s->slot = p->unit_slot[s->unit] + k++;
    }
}

int64_t plan_kv_shard(int64_t ctx, int n, int shard)
{
    const int64_t base = (ctx + n - 1) / n, lo = base * shard;
    return lo >= ctx ? 0 : (ctx - lo < base ? ctx - lo : base);
}

int plan_ctas_on_sm(int64_t ctas, int sms, int resident)
{
    int64_t n = cdiv64(ctas, sms);
    if (n > resident) n = resident;
    return n < 1 ? 1 : (int)n;
}

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

/* Segments of `grid` stream-K runs of run_long or run_long - 1 tiles (the
 * long ones first) over the tiles of units u0 .. n_units - 1, numbered
 * linearly: one per unit, plus one per run that starts inside a unit
 * rather than at a unit's tile 0 (as plan_streamk_runs cuts them).  Run c
 * starts at run_long x c (c < long_ctas) or (run_long - 1) x c + long_ctas;
 * short runs exist only where run_long >= 2.  A uniform batch (every unit
 * `uniform_tiles` tiles, else 0) counts the runs starting on a unit
 * boundary in closed form, a ragged one walks the unit boundaries. */
static int64_t streamk_segs(const workload *w, int bn, int u0, int grid, int64_t run_long, int64_t long_ctas,
                            int64_t uniform_tiles)
{
    const int units = w->batch * w->kv_heads;
    int64_t segs = (int64_t)(units - u0) + grid - 1;
    if (uniform_tiles) {
        const int64_t ti = uniform_tiles, hi1 = long_ctas < grid - 1 ? long_ctas : grid - 1;
        return segs - count_congruent(run_long, 0, ti, 1, hi1) -
               count_congruent(run_long - 1, long_ctas, ti, hi1 + 1, grid - 1);
    }
    const int64_t long_end = run_long * long_ctas;    /* where the short runs begin */
    int64_t b = 0;                                     /* linear index of the next unit's tile 0 */
    for (int r = u0 / w->kv_heads, u = u0; r < w->batch; r++) {
        const int32_t t = plan_tiles_of(w->ctx[r], bn);
        for (int h = r == u0 / w->kv_heads ? u0 % w->kv_heads : 0; h < w->kv_heads && u < units - 1; h++, u++) {
            b += t;
            segs -= b < long_end ? b % run_long == 0 : (b - long_ctas) % (run_long - 1) == 0;
        }
    }
    return segs;
}

/* Fills the chunk statistics of s (its chunk set): per request, the
 * chunks before its last non-empty one, and the tokens of that last one. */
static void shape_chunks(plan_shape *s, const workload *w)
{
    for (int r = 0; r < w->batch; r++) {
        int64_t k = cdiv64(plan_tiles_of(w->ctx[r], s->block_n), s->chunk);
        s->full_chunks += k - 1;
        s->last_tokens += w->ctx[r] - (k - 1) * s->chunk * s->block_n;
    }
}

/* Fills the stream-K fields of s for `grid` CTAs over `tiles` tiles of units u0.. */
static void shape_streamk(plan_shape *s, const workload *w, int u0, int64_t tiles, int grid)
{
    s->sk_grid = grid;
    s->sk_units = s->n_units - u0;
    s->sk_tiles = tiles;
    if (grid < 1) return;
    s->run_long = (int32_t)cdiv64(tiles, grid);
    s->run_long_ctas = (int)(tiles - (int64_t)(s->run_long - 1) * grid);
    int64_t segs = streamk_segs(w, s->block_n, u0, grid, s->run_long, s->run_long_ctas, s->uniform ? s->max_tiles : 0);
    s->n_segs += (int)segs;
    s->n_slots += (int)(segs - s->sk_units);   /* every part of a unit but the host's */
}

int plan_shape_of(plan_shape *s, const workload *w, const plan_opts *o, int sms, int resident_per_sm)
{
    if (workload_check(w, NULL, 0)) return PLAN_EBADWORKLOAD;
    if (sms < 1 || resident_per_sm < 1) return PLAN_EBADOPTS;
    const int64_t resident = (int64_t)sms * resident_per_sm;
    /* a stream-K host spins on its peers: every CTA of the grid must be
     * resident at once (the default grids are) */
    if ((o->kind == SCHED_STREAMK || o->kind == SCHED_HYBRID) && o->grid > resident) return PLAN_ERESIDENT;
    int bn = o->block_n ? o->block_n : plan_default_block_n(w->head_dim);
    if (bn != 32 && bn != 64 && bn != 128 && bn != 256) return PLAN_EBADOPTS;
    if (o->kind < 0 || o->kind >= SCHED_COUNT) return PLAN_EBADOPTS;
    if (o->splits < 0 || o->splits > PLAN_MAX_SPLITS || o->grid < 0 || o->ctas_per_sm < 0)
        return PLAN_EBADOPTS;
    if (o->ctas_per_sm > resident_per_sm) return PLAN_EBADOPTS;

    memset(s, 0, sizeof *s);
    const int U = w->batch * w->kv_heads;
    const int cps = o->ctas_per_sm ? o->ctas_per_sm : (resident_per_sm < 2 ? resident_per_sm : 2);
    s->kind = o->kind;
    s->block_n = bn;
    s->sms = sms;
    s->resident = resident_per_sm;
    s->ctas_per_sm = cps;
    s->n_units = U;
    s->rows = w->heads / w->kv_heads;
    s->m_blocks = m_blocks_of(s->rows);

    int64_t tiles = 0;
    int32_t max_tiles = 0, min_tiles = INT32_MAX;
    for (int r = 0; r < w->batch; r++) {
        int32_t t = plan_tiles_of(w->ctx[r], bn);
        if (t > max_tiles) max_tiles = t;
        if (t < min_tiles) min_tiles = t;
        tiles += (int64_t)t * w->kv_heads;
    }
    if (tiles > WL_MAX_TILES) return PLAN_ETOOLARGE;
    s->n_tiles = tiles;
    s->max_tiles = max_tiles;
    s->min_tiles = min_tiles;
    s->uniform = min_tiles == max_tiles;

    switch (o->kind) {
    case SCHED_FA2:
    case SCHED_SPLIT: {
        int S = 1;
        if (o->kind == SCHED_SPLIT)
            S = o->splits ? o->splits
                          : plan_splits_heuristic((int64_t)U * s->m_blocks, sms * cps, max_tiles, PLAN_MAX_SPLITS);
        if (S > max_tiles && o->kind == SCHED_SPLIT && !o->splits) S = max_tiles;
        s->parts = S;
        s->splits = o->kind == SCHED_SPLIT ? S : 0;
        s->chunk = (int32_t)cdiv64(max_tiles, S);
        s->grid = U * S;              /* every unit gets S chunks, empty ones too */
        s->n_segs = s->grid;
        if (S > 1) {
            s->n_slots = s->grid;     /* every chunk writes a partial */
            s->combine = 1;
            s->comb_units = U;
            shape_chunks(s, w);
        }
        break;
    }
    case SCHED_STREAMK: {
        int64_t g = o->grid ? o->grid : plan_leanattn_grid(tiles, sms, cps, (int64_t)U * s->m_blocks, max_tiles);
        if (g > tiles) g = tiles;
        s->grid = (int)g;
        shape_streamk(s, w, 0, tiles, (int)g);
        break;
    }
    case SCHED_HYBRID: {
        int64_t g = o->grid ? o->grid : (int64_t)sms * cps;
        int full = (int)(U / g);
        int dp = (U % g == 0) ? U : (full > 1 ? (full - 1) * (int)g : 0);
        int64_t sk_tiles = 0;
        if (s->uniform) sk_tiles = (int64_t)(U - dp) * max_tiles;
        else
            for (int u = dp; u < U; u++) sk_tiles += plan_tiles_of(w->ctx[u / w->kv_heads], bn);
        int gsk = (int)(sk_tiles < g ? sk_tiles : g);
        s->dp_ctas = dp;
        s->grid = gsk + dp;
        s->n_segs = dp;
        shape_streamk(s, w, dp, sk_tiles, gsk);
        break;
    }
    case SCHED_BALANCED: {
        /* one wave: the CTAs per SM asked, else all that can be resident */
        const int64_t wave = (int64_t)sms * (o->ctas_per_sm ? o->ctas_per_sm : resident_per_sm);
        int32_t minc = (int32_t)cdiv64(128, bn);
        int32_t chunk = max_tiles;
        if (U < wave && max_tiles > minc && s->uniform) {
            /* the smallest chunk whose chunks fit one wave of the grid: with
             * every unit alike, max_tiles over the chunks a unit may have */
            chunk = (int32_t)cdiv64(max_tiles, wave / U);
            if (chunk < minc) chunk = minc;
        } else if (U < wave && max_tiles > minc) {
            /* the same by bisection: the chunk count falls as the chunk grows */
            int32_t lo = minc, hi = max_tiles;
            while (lo < hi) {
                int32_t mid = lo + (hi - lo) / 2;
                int64_t n = 0;
                for (int r = 0; r < w->batch; r++) n += cdiv64(plan_tiles_of(w->ctx[r], bn), mid) * w->kv_heads;
                if (n <= wave) hi = mid; else lo = mid + 1;
            }
            chunk = lo;
        }
        int64_t n = 0, slots = 0, multi = 0;
        for (int r = 0; r < w->batch; r++) {
            int64_t k = cdiv64(plan_tiles_of(w->ctx[r], bn), chunk);
            n += k * w->kv_heads;
            if (k > 1) {
                slots += k * w->kv_heads;
                multi += w->kv_heads;
            }
        }
        if (n > WL_MAX_TILES) return PLAN_ETOOLARGE;
        s->chunk = chunk;
        s->grid = (int)n;
        s->n_segs = (int)n;
        s->n_slots = (int)slots;
        s->comb_units = (int)multi;
        s->combine = slots > 0;
        shape_chunks(s, w);
        break;
    }
    }
    if (s->grid > PLAN_MAX_CTAS) return PLAN_ETOOLARGE;
    s->ctas_on_sm = plan_ctas_on_sm(s->grid, sms, resident_per_sm);
    s->combine_grid = s->combine ? U : 0;
    return PLAN_OK;
}

int plan_build_shape(plan *p, const workload *w, const plan_shape *s)
{
    const int U = s->n_units;
    memset(p, 0, offsetof(plan, cta_first));
    p->shape = *s;
    p->kind = s->kind;
    p->block_n = s->block_n;
    p->sms = s->sms;
    p->ctas_per_sm = s->ctas_per_sm;
    p->n_units = U;
    p->rows = s->rows;
    p->n_tiles = s->n_tiles;
    p->splits = s->splits;
    p->dp_ctas = s->dp_ctas;
    p->combine = s->combine;
    /* room for the segments of any shape of this grid (stream-K: at most
     * one more per unit than CTAs), not only the count the shape predicts */
    const int seg_room = s->kind == SCHED_STREAMK || s->kind == SCHED_HYBRID ? s->grid + U : s->grid;
    if (plan_reserve(p, s->grid, seg_room, U)) return PLAN_ENOMEM;
    for (int r = 0; r < w->batch; r++)
        for (int h = 0; h < w->kv_heads; h++) p->unit_tiles[r * w->kv_heads + h] = plan_tiles_of(w->ctx[r], s->block_n);
    for (int u = 0; u < U; u++) p->unit_host[u] = -1;

    switch (s->kind) {
    case SCHED_FA2:
    case SCHED_SPLIT: {
        const int S = s->parts;
        const int32_t chunk = s->chunk;
        for (int u = 0; u < U; u++) {
            int32_t t = p->unit_tiles[u];
            for (int k = 0; k < S; k++) {
                int32_t b = S == 1 ? 0 : (int32_t)((int64_t)k * chunk < t ? k * chunk : t);
                int32_t e = S == 1 ? t : (int32_t)((int64_t)(k + 1) * chunk < t ? (k + 1) * chunk : t);
                p->cta_first[p->grid] = p->n_segs;
                if (b == 0 && k == 0) p->unit_host[u] = p->grid;
                seg_put(p, u, b, e);
                p->grid++;
            }
        }
        plan_assign_slots(p, S > 1);
        break;
    }
    case SCHED_STREAMK:
        plan_streamk_runs(p, 0, s->sk_tiles, s->sk_grid);
        plan_assign_slots(p, 0);
        break;
    case SCHED_HYBRID:
        if (s->sk_grid > 0) plan_streamk_runs(p, s->dp_ctas, s->sk_tiles, s->sk_grid);
        /* data-parallel CTAs launch after the stream-K ones, so that every
         * stream-K CTA (hosts spin on peers) is resident first */
        for (int u = 0; u < s->dp_ctas; u++) {
            p->cta_first[p->grid] = p->n_segs;
            p->unit_host[u] = p->grid++;
            seg_put(p, u, 0, p->unit_tiles[u]);
        }
        plan_assign_slots(p, 0);
        break;
    case SCHED_BALANCED: {
        const int32_t chunk = s->chunk;
        for (int u = 0; u < U; u++) {
            int32_t t = p->unit_tiles[u];
            for (int32_t b = 0; b < t; b += chunk) {
                p->cta_first[p->grid] = p->n_segs;
                if (b == 0) p->unit_host[u] = p->grid;
                seg_put(p, u, b, t - b < chunk ? t : b + chunk);
                p->grid++;
            }
        }
        plan_assign_slots(p, 1);
        break;
    }
    }
    p->cta_first[p->grid] = p->n_segs;
    return PLAN_OK;
}

int plan_build(plan *p, const workload *w, const plan_opts *o, int sms, int resident_per_sm)
{
    plan_shape s;
    int rc = plan_shape_of(&s, w, o, sms, resident_per_sm);
    return rc != PLAN_OK ? rc : plan_build_shape(p, w, &s);
}

int plan_shape_same(const plan_shape *a, const plan_shape *b)
{
    return a->kind == b->kind && a->block_n == b->block_n && a->n_units == b->n_units && a->grid == b->grid &&
           a->parts == b->parts && a->splits == b->splits && a->chunk == b->chunk &&
           a->full_chunks == b->full_chunks && a->sk_grid == b->sk_grid && a->sk_units == b->sk_units &&
           a->sk_tiles == b->sk_tiles && a->run_long == b->run_long && a->run_long_ctas == b->run_long_ctas &&
           a->dp_ctas == b->dp_ctas && a->n_segs == b->n_segs && a->n_slots == b->n_slots &&
           a->combine == b->combine && a->comb_units == b->comb_units && a->combine_grid == b->combine_grid;
}

int plan_shape_same_work(const plan_shape *a, const plan_shape *b)
{
    plan_shape t = *b;
    t.kind = a->kind;
    return plan_shape_same(a, &t);
}

void plan_launch_of(const plan *p, plan_launch *l)
{
    l->decode_grid = p->grid;
    l->combine_grid = p->shape.combine_grid;
    l->signal = !p->combine;
    l->n_segs = p->n_segs;
    l->n_slots = p->n_slots;
    l->slots_alloc = p->n_slots ? p->n_slots : 1;
}

/* ------------------------------------------------------------ policies */

static const char *policy_names[PLAN_POLICY_COUNT] = {"fa2", "fa3", "flashinfer", "leanattention", "flashmla"};

const char *plan_policy_name(int policy)
{
    return policy >= 0 && policy < PLAN_POLICY_COUNT ? policy_names[policy] : "?";
}

int plan_policy_parse(const char *s)
{
    for (int i = 0; i < PLAN_POLICY_COUNT; i++)
        if (!strcmp(s, policy_names[i])) return i;
    return -1;
}

static int64_t longest_ctx(const workload *w)
{
    int64_t m = 0;
    for (int r = 0; r < w->batch; r++)
        if (w->ctx[r] > m) m = w->ctx[r];
    return m;
}

int plan_policy_apply(int policy, const workload *w, int sms, int resident, double l2_bytes, plan_opts *o)
{
    memset(o, 0, sizeof *o);
    const int bn = plan_default_block_n(w->head_dim);
    const int64_t units = (int64_t)w->batch * w->kv_heads;
    const int rows = w->heads / w->kv_heads;
    const int m_blocks = m_blocks_of(rows);
    const int n_blocks = plan_tiles_of(longest_ctx(w), bn);
    switch (policy) {
    case PLAN_POLICY_FA2:
        /* flash_api.cpp: num_splits_heuristic(units, 2 x SMs, blocks, 128) */
        o->kind = SCHED_SPLIT;
        o->splits = plan_splits_heuristic(units * m_blocks, 2 * sms, n_blocks, PLAN_MAX_SPLITS);
        return 0;
    case PLAN_POLICY_FA3: {
        /* hopper/heuristics.h: the same 85% rule over the real SM count; no
         * split at <= 4 blocks; a head's KV above the L2 is split into at
         * least ceil(size / L2) chunks; pack-GQA (the planner's units) */
        o->kind = SCHED_SPLIT;
        if (n_blocks <= 4) {
            o->splits = 1;
            return 0;
        }
        int s = plan_splits_heuristic(units * m_blocks, sms, n_blocks, PLAN_MAX_SPLITS);
        double head_bytes = 2.0 * (double)longest_ctx(w) * w->head_dim * dtype_bytes(w->dtype);
        if (l2_bytes > 0 && head_bytes > l2_bytes) {
            int least = (int)ceil(head_bytes / l2_bytes);
            if (least > s) s = least;
        }
        o->splits = s > PLAN_MAX_SPLITS ? PLAN_MAX_SPLITS : s;
        return 0;
    }
    case PLAN_POLICY_FLASHINFER:
        /* scheduler.cuh: the smallest chunk whose chunks fit the grid: the planner's balanced */
        o->kind = SCHED_BALANCED;
        o->ctas_per_sm = resident;
        return 0;
    case PLAN_POLICY_LEAN:
        /* lean_api.cc: 2 CTAs per SM, the planner's stream-K default */
        o->kind = SCHED_STREAMK;
        return 0;
    case PLAN_POLICY_FLASHMLA:
        /* get_decoding_sched_meta: one partition per SM, 64-token blocks, a
         * fixed overhead of 5 blocks per split: stream-K over the SMs (the
         * overhead shapes its split points, which stream-K's equal runs
         * approximate) */
        o->kind = SCHED_STREAMK;
        o->block_n = 64;
        o->grid = sms;
        return 0;
    }
    return -1;
}

/* Split counts on a grid that keeps the search small: every count up to 8,
 * then steps of about 15%. */
static const int split_grid[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 14, 16, 18, 20,
                                 23, 26, 30, 34, 39, 45, 52, 60, 69, 79, 91, 104, 116, 128};

int plan_candidates(const workload *w, int sms, const int resident_by_bn[4], unsigned sched_mask, double l2_bytes,
                    plan_cand *out, int cap)
{
    int n = 0;
    const int64_t longest = longest_ctx(w);
#define PUT(k, b, s, g, c)                                                  \
    do {                                                                    \
        if (n < cap) out[n] = (plan_cand){(k), (b), (s), (g), (c)};         \
        n++;                                                                \
    } while (0)
    for (int bi = 0; bi < 4; bi++) {
        const int bn = 32 << bi, res = resident_by_bn[bi];
        if (res < 1) continue;
        const int n_blocks = plan_tiles_of(longest, bn);
        if (sched_mask & (1u << SCHED_FA2)) PUT(SCHED_FA2, bn, 0, 0, 0);
        if (sched_mask & (1u << SCHED_SPLIT)) {
            int64_t last_chunk = -1;
            for (size_t i = 0; i < sizeof split_grid / sizeof split_grid[0]; i++) {
                const int s = split_grid[i];
                if (s > n_blocks) break;
                const int64_t chunk = (n_blocks + s - 1) / s;
                if (chunk == last_chunk) continue;
                last_chunk = chunk;
                PUT(SCHED_SPLIT, bn, s, 0, 0);
            }
        }
        for (int k = SCHED_STREAMK; k <= SCHED_HYBRID; k++) {
            if (!(sched_mask & (1u << k))) continue;
            PUT(k, bn, 0, 0, 0);                                  /* LeanAttention's rule */
            for (int m = 1; m <= res; m++) PUT(k, bn, 0, sms * m, 0);
        }
        if (sched_mask & (1u << SCHED_BALANCED))
            for (int c = 1; c <= res; c++) PUT(SCHED_BALANCED, bn, 0, 0, c);
    }
    /* the policies' picks, where the grid above does not hold them */
    for (int pol = 0; pol < PLAN_POLICY_COUNT; pol++) {
        plan_opts po;
        plan_policy_apply(pol, w, sms, resident_by_bn[2] > 0 ? resident_by_bn[2] : 1, l2_bytes, &po);
        const int bn = po.block_n ? po.block_n : plan_default_block_n(w->head_dim);
        const int bi = plan_block_n_index(bn);
        if (!(sched_mask & (1u << po.kind)) || resident_by_bn[bi] < 1) continue;
        if (po.kind == SCHED_BALANCED && po.ctas_per_sm > resident_by_bn[bi]) po.ctas_per_sm = resident_by_bn[bi];
        int have = 0;
        for (int i = 0; i < n && i < cap; i++)
            have |= out[i].kind == po.kind && out[i].block_n == bn && out[i].splits == po.splits &&
                    out[i].grid == po.grid && out[i].ctas_per_sm == po.ctas_per_sm;
        if (!have) PUT(po.kind, bn, po.splits, po.grid, po.ctas_per_sm);
    }
#undef PUT
    return n;
}
