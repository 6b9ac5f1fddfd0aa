/*
 * test_plan.c: invariants of the schedule planner on random workloads, and
 * the worked examples of FlashAttention-2 and LeanAttention.
 */
#include <stdint.h>
#include <string.h>

#include "plan.h"
#include "testhelp.h"

static workload w;

static void set_uniform(int batch, int heads, int kv_heads, int d, int64_t ctx)
{
    workload_uniform(&w, batch, heads, kv_heads, d, DTYPE_FP16, ctx);
}

/* Checks every invariant of a built plan; returns the failures. */
static int check_plan(const plan *p, int resident, const char *what)
{
    int before = th_fail;
    /* every tile of every unit covered exactly once */
    int64_t covered = 0;
    static uint8_t *seen;
    static int64_t seen_cap;
    if (p->n_tiles > seen_cap) {
        free(seen);
        seen = malloc((size_t)p->n_tiles);
        seen_cap = p->n_tiles;
    }
    memset(seen, 0, (size_t)p->n_tiles);
    int64_t *base = calloc((size_t)p->n_units + 1, sizeof *base);
    for (int u = 0; u < p->n_units; u++) base[u + 1] = base[u] + p->unit_tiles[u];
    CHECK(base[p->n_units] == p->n_tiles, "%s: unit tiles sum %lld != n_tiles %lld", what,
          (long long)base[p->n_units], (long long)p->n_tiles);
    int dup = 0, hosts_bad = 0, slot_bad = 0;
    int *slot_used = calloc((size_t)p->n_slots + 1, sizeof(int));
    int *hosts = calloc((size_t)p->n_units, sizeof(int));
    CHECK(p->cta_first[0] == 0 && p->cta_first[p->grid] == p->n_segs, "%s: cta_first bounds", what);
    int nonmono = 0;
    for (int c = 0; c < p->grid; c++) {
        nonmono += p->cta_first[c] > p->cta_first[c + 1];
        for (int k = p->cta_first[c]; k < p->cta_first[c + 1]; k++) {
            const plan_seg *s = &p->segs[k];
            if (s->unit < 0 || s->unit >= p->n_units || s->tile_begin < 0 || s->tile_end < s->tile_begin ||
                s->tile_end > p->unit_tiles[s->unit]) {
                dup++;
                continue;
            }
            for (int32_t t = s->tile_begin; t < s->tile_end; t++) {
                int64_t g = base[s->unit] + t;
                if (seen[g]) dup++;
                seen[g] = 1;
                covered++;
            }
            if (s->slot >= 0) {
                if (s->slot >= p->n_slots || slot_used[s->slot]++) slot_bad++;
                if (s->slot < p->unit_slot[s->unit] || s->slot >= p->unit_slot[s->unit] + p->unit_parts[s->unit])
                    slot_bad++;
            } else {
                hosts[s->unit]++;
                if (p->unit_parts[s->unit] > 1 && (p->combine || s->tile_begin != 0)) hosts_bad++;
                if (p->unit_parts[s->unit] > 1 && p->unit_host[s->unit] != c) hosts_bad++;
            }
        }
    }
    CHECK(nonmono == 0, "%s: cta_first decreases %d times", what, nonmono);
    CHECK(dup == 0, "%s: %d tiles out of range or covered twice", what, dup);
    CHECK(covered == p->n_tiles, "%s: %lld of %lld tiles covered", what, (long long)covered, (long long)p->n_tiles);
    CHECK(slot_bad == 0, "%s: %d partial slots reused or outside their unit", what, slot_bad);
    /* one producer of each unit's output: a lone segment, or (stream-K) the host */
    int multi_out = 0;
    for (int u = 0; u < p->n_units; u++)
        if (p->combine ? (p->unit_parts[u] > 1 ? hosts[u] != 0 : hosts[u] != 1) : hosts[u] != 1) multi_out++;
    CHECK(multi_out == 0, "%s: %d units without exactly one output writer", what, multi_out);
    CHECK(hosts_bad == 0, "%s: %d stream-K hosts not at tile 0 of their unit", what, hosts_bad);
    if (p->kind == SCHED_STREAMK) {
        int64_t lo = INT64_MAX, hi = 0;
        for (int c = 0; c < p->grid; c++) {
            int64_t n = 0;
            for (int k = p->cta_first[c]; k < p->cta_first[c + 1]; k++) n += p->segs[k].tile_end - p->segs[k].tile_begin;
            if (n < lo) lo = n;
            if (n > hi) hi = n;
        }
        CHECK(hi - lo <= 1, "%s: stream-K runs differ by %lld tiles", what, (long long)(hi - lo));
        CHECK(p->grid <= (int64_t)p->sms * resident, "%s: grid %d exceeds resident CTAs", what, p->grid);
        /* a peer segment (not holding tile 0) can only be a CTA's first one,
         * so no CTA waits before it has signalled: no deadlock */
        int late_peer = 0;
        for (int c = 0; c < p->grid; c++)
            for (int k = p->cta_first[c] + 1; k < p->cta_first[c + 1]; k++)
                if (p->segs[k].tile_begin != 0) late_peer++;
        CHECK(late_peer == 0, "%s: %d peer segments after a CTA's first", what, late_peer);
    }
    /* the shape it materialised predicted every count */
    const plan_shape *sh = &p->shape;
    int comb_units = 0;
    for (int u = 0; u < p->n_units; u++) comb_units += p->combine && p->unit_parts[u] > 1;
    CHECK(sh->grid == p->grid && sh->n_segs == p->n_segs && sh->n_slots == p->n_slots && sh->combine == p->combine &&
              sh->dp_ctas == p->dp_ctas && sh->splits == p->splits && sh->n_tiles == p->n_tiles,
          "%s: shape grid %d segs %d slots %d combine %d dp %d splits %d, plan %d %d %d %d %d %d", what, sh->grid,
          sh->n_segs, sh->n_slots, sh->combine, sh->dp_ctas, sh->splits, p->grid, p->n_segs, p->n_slots, p->combine,
          p->dp_ctas, p->splits);
    CHECK(sh->comb_units == comb_units, "%s: shape merges %d units in the combine kernel, plan %d", what,
          sh->comb_units, comb_units);
    CHECK(sh->combine_grid == (p->combine ? p->n_units : 0), "%s: combine grid %d", what, sh->combine_grid);
    if (p->combine) {
        /* chunk statistics: non-empty chunks before each unit's last, and its last one's tokens */
        int64_t full = 0, last_tok = 0;
        for (int u = 0; u < p->n_units; u++) {
            int nonempty = 0;
            int32_t last = 0;
            for (int k = 0; k < p->n_segs; k++)
                if (p->segs[k].unit == u && p->segs[k].tile_end > p->segs[k].tile_begin) {
                    nonempty++;
                    last = plan_seg_tokens(p, &w, &p->segs[k], NULL);
                }
            full += nonempty - 1;
            last_tok += last;
        }
        CHECK(full == sh->full_chunks * w.kv_heads && last_tok == sh->last_tokens * w.kv_heads,
              "%s: %lld full chunks and %lld last tokens, shape %lld and %lld (x %d KV heads)", what, (long long)full,
              (long long)last_tok, (long long)sh->full_chunks, (long long)sh->last_tokens, w.kv_heads);
    }
    if (p->kind == SCHED_STREAMK || p->kind == SCHED_HYBRID) {
        int n_long = 0, n_short = 0, other = 0;
        for (int c = 0; c < sh->sk_grid; c++) {
            int64_t n = 0;
            for (int k = p->cta_first[c]; k < p->cta_first[c + 1]; k++) n += p->segs[k].tile_end - p->segs[k].tile_begin;
            if (n == sh->run_long && n_short == 0) n_long++;
            else if (n == sh->run_long - 1) n_short++;
            else other++;
        }
        CHECK(other == 0 && n_long == sh->run_long_ctas, "%s: %d runs of %d tiles first, then %d of one less, %d "
              "others; shape says %d long", what, n_long, sh->run_long, n_short, other, sh->run_long_ctas);
    }
    free(base);
    free(slot_used);
    free(hosts);
    return th_fail - before;
}

static void test_worked_examples(void)
{
    plan *p = plan_alloc();
    /* A100 (108 SMs), batch 1, 32 heads, d = 128, 32k context */
    set_uniform(1, 32, 32, 128, 32768);
    plan_opts o = {.kind = SCHED_SPLIT};
    CHECK(plan_build(p, &w, &o, 108, 8) == PLAN_OK, "split plan");
    CHECK(p->splits == 6, "A100 32k split: %d splits, want 6", p->splits);
    CHECK(p->grid == 192, "A100 32k split: %d CTAs, want 192", p->grid);
    CHECK(p->segs[0].tile_end - p->segs[0].tile_begin == 43, "A100 32k split: %d blocks per split, want 43",
          p->segs[0].tile_end - p->segs[0].tile_begin);
    check_plan(p, 8, "A100 split");
    o.kind = SCHED_STREAMK;
    CHECK(plan_build(p, &w, &o, 108, 8) == PLAN_OK, "streamk plan");
    CHECK(p->grid == 216, "A100 32k streamk: grid %d, want 216", p->grid);
    int n38 = 0, n37 = 0;
    for (int c = 0; c < p->grid; c++) {
        int n = 0;
        for (int k = p->cta_first[c]; k < p->cta_first[c + 1]; k++) n += p->segs[k].tile_end - p->segs[k].tile_begin;
        n38 += n == 38;
        n37 += n == 37;
    }
    CHECK(n38 == 200 && n37 == 16, "A100 32k streamk: %d x 38 tiles and %d x 37, want 200 and 16", n38, n37);
    CHECK(p->n_tiles == 8192, "A100 32k: %lld tiles, want 8192", (long long)p->n_tiles);
    check_plan(p, 8, "A100 streamk");
    /* enough work to fill the GPU: no split */
    set_uniform(64, 32, 32, 128, 4096);
    o.kind = SCHED_SPLIT;
    CHECK(plan_build(p, &w, &o, 108, 8) == PLAN_OK && p->splits == 1 && !p->combine,
          "2048 units on 216 slots: %d splits, want 1", p->splits);
    plan_free(p);
}

static void test_heuristics(void)
{
    CHECK(plan_splits_heuristic(32, 216, 256, 128) == 6, "heuristic(32, 216, 256) = %d",
          plan_splits_heuristic(32, 216, 256, 128));
    CHECK(plan_splits_heuristic(200, 216, 256, 128) == 1, "80%% full: no split");
    CHECK(plan_splits_heuristic(1, 264, 3, 128) <= 3, "splits bounded by blocks");
    CHECK(plan_default_block_n(64) == 256 && plan_default_block_n(128) == 128 && plan_default_block_n(256) == 64,
          "default block_n by head dim");
    CHECK(plan_leanattn_grid(8192, 108, 2, 32, 256) == 216, "LeanAttention grid, long work");
    CHECK(plan_leanattn_grid(10, 108, 2, 1, 10) == 5, "LeanAttention grid, short work: (T+1)/2");
}

/* Which kernel instance serves a group: the group's capacity, raised to
 * PLAN_MMA_MIN_CAP on the tensor-core path only. */
/* KV shards over n GPUs: contiguous, every token once, the first the longest. */
static void test_kv_shards(void)
{
    static const int64_t ctxs[] = {1, 5, 7, 4096, 100000, 4194303};
    for (size_t i = 0; i < sizeof ctxs / sizeof *ctxs; i++)
        for (int n = 1; n <= 8; n++) {
            int64_t sum = 0, first = plan_kv_shard(ctxs[i], n, 0);
            int ok = first == (ctxs[i] + n - 1) / n;
            for (int g = 0; g < n; g++) {
                int64_t t = plan_kv_shard(ctxs[i], n, g);
                ok &= t >= 0 && t <= first;
                sum += t;
            }
            CHECK(ok && sum == ctxs[i], "ctx %lld over %d GPUs: shards sum to %lld", (long long)ctxs[i], n,
                  (long long)sum);
        }
    CHECK(plan_kv_shard(5, 4, 3) == 0 && plan_kv_shard(5, 4, 2) == 1, "ctx 5 over 4: 2, 2, 1, 0");
}

static void test_kernel_cap(void)
{
    static const int rows[] = {1, 2, 3, 4, 5, 8};
    static const int want_mma[] = {4, 4, 4, 4, 8, 8};
    static const int want_cuda[] = {1, 2, 4, 4, 8, 8};
    for (int i = 0; i < 6; i++) {
        CHECK(plan_kernel_cap(rows[i], 128) == want_mma[i], "rows %d at d=128: capacity %d, want %d", rows[i],
              plan_kernel_cap(rows[i], 128), want_mma[i]);
        CHECK(plan_kernel_cap(rows[i], 64) == want_mma[i], "rows %d at d=64: capacity %d", rows[i],
              plan_kernel_cap(rows[i], 64));
        CHECK(plan_kernel_cap(rows[i], 256) == want_cuda[i], "rows %d at d=256 (CUDA cores): capacity %d, want %d",
              rows[i], plan_kernel_cap(rows[i], 256), want_cuda[i]);
        CHECK(plan_kernel_cap(rows[i], 128) >= plan_rows_cap(rows[i]), "a kernel holds its group");
    }
}

/* balanced sizes its chunks to one wave of the CTAs per SM asked, whatever
 * the kernel's residency: the runner (which passes the occupancy) and the
 * engines (which pass the CTAs per SM asked) build the same plan. */
static void test_balanced_wave(void)
{
    memset(&w, 0, sizeof w);   /* the file's workload */
    w.batch = 3;
    w.heads = w.kv_heads = 8;
    w.head_dim = 128;
    w.ragged = 1;
    w.ctx[0] = 1500;
    w.ctx[1] = 4096;
    w.ctx[2] = 400000;
    plan *a = plan_alloc(), *b = plan_alloc();
    for (int cps = 1; cps <= 3; cps++) {
        plan_opts po = {SCHED_BALANCED, 32, 0, 0, cps, 0};
        CHECK(plan_build(a, &w, &po, 132, 3) == PLAN_OK && plan_build(b, &w, &po, 132, cps) == PLAN_OK,
              "balanced at %d per SM builds", cps);
        CHECK(a->grid == b->grid && a->n_segs == b->n_segs, "balanced at %d per SM: %d CTAs with 3 resident, %d with %d",
              cps, a->grid, b->grid, cps);
        CHECK(a->grid <= 132 * cps, "balanced at %d per SM: %d CTAs fit one wave of %d", cps, a->grid, 132 * cps);
    }
    plan_opts def = {SCHED_BALANCED, 32, 0, 0, 0, 0};
    CHECK(plan_build(a, &w, &def, 132, 3) == PLAN_OK && a->grid > 132 * 2 && a->grid <= 132 * 3,
          "balanced by default fills the resident CTAs: %d", a->grid);
    plan_free(a);
    plan_free(b);
    /* workload_same: every field and every request's length */
    static workload v;
    v = w;
    CHECK(workload_same(&w, &v), "a workload is the same as its copy");
    v.ctx[2]++;
    CHECK(!workload_same(&w, &v), "a different last request's length is another workload");
    v = w;
    v.kv_heads = 4;
    CHECK(!workload_same(&w, &v), "other KV heads are another workload");
}

/* plan_shape_same: one cut of the work, whatever options asked for it. */
static void test_shape_same(void)
{
    workload v = {0};
    workload_uniform(&v, 16, 64, 64, 128, DTYPE_FP16, 2048);   /* 1,024 units of 32 tiles at bn 64 */
    plan_shape a, b;
    plan_opts h264 = {SCHED_HYBRID, 64, 0, 264, 0, 0}, h396 = {SCHED_HYBRID, 64, 0, 396, 0, 0};
    plan_opts hdef = {SCHED_HYBRID, 64, 0, 0, 0, 0};
    CHECK(plan_shape_of(&a, &v, &h264, 132, 3) == PLAN_OK && plan_shape_of(&b, &v, &h396, 132, 3) == PLAN_OK,
          "hybrid over 264 and 396 builds");
    CHECK(a.grid == b.grid, "hybrid over 264 and 396: one CTA count (%d, %d)", a.grid, b.grid);
    CHECK(!plan_shape_same(&a, &b) && !plan_shape_same(&b, &a), "but two cuts: data-parallel CTAs %d and %d",
          a.dp_ctas, b.dp_ctas);
    CHECK(plan_shape_of(&b, &v, &hdef, 132, 3) == PLAN_OK && plan_shape_same(&a, &b),
          "LeanAttention's grid (2 per SM) is the plan of grid 264");
    CHECK(plan_shape_same(&a, &a), "a shape is the same as itself");
    plan_opts fa2 = {SCHED_FA2, 128, 0, 0, 1, 0}, fa2b = {SCHED_FA2, 128, 0, 0, 3, 0};
    CHECK(plan_shape_of(&a, &v, &fa2, 132, 3) == PLAN_OK && plan_shape_of(&b, &v, &fa2b, 132, 3) == PLAN_OK &&
          plan_shape_same(&a, &b), "fa2 at 1 and 3 CTAs per SM: one plan");
    plan_opts s1 = {SCHED_SPLIT, 128, 2, 0, 0, 0}, s2 = {SCHED_SPLIT, 128, 4, 0, 0, 0};
    CHECK(plan_shape_of(&a, &v, &s1, 132, 3) == PLAN_OK && plan_shape_of(&b, &v, &s2, 132, 3) == PLAN_OK &&
          !plan_shape_same(&a, &b), "split in 2 and in 4: two plans");
    plan_opts k64 = {SCHED_STREAMK, 64, 0, 264, 0, 0}, k128 = {SCHED_STREAMK, 128, 0, 264, 0, 0};
    CHECK(plan_shape_of(&a, &v, &k64, 132, 3) == PLAN_OK && plan_shape_of(&b, &v, &k128, 132, 3) == PLAN_OK &&
          !plan_shape_same(&a, &b), "stream-K over one grid at two tiles: two plans");

    /* plan_shape_same_work: stream-K and a hybrid with no data-parallel CTAs on one grid are one
     * cut under two names: the same segments on the same CTAs */
    workload u = {0};
    workload_uniform(&u, 1, 8, 8, 128, DTYPE_FP16, 4096);   /* 8 units: no full wave of 132 */
    plan_opts sk = {SCHED_STREAMK, 128, 0, 132, 0, 0}, hy = {SCHED_HYBRID, 128, 0, 132, 0, 0};
    plan *pa = plan_alloc(), *pb = plan_alloc();
    CHECK(pa && pb && plan_build(pa, &u, &sk, 132, 3) == PLAN_OK && plan_build(pb, &u, &hy, 132, 3) == PLAN_OK,
          "stream-K and hybrid over 132 build");
    if (pa && pb && pa->grid && pb->grid) {
        CHECK(pb->dp_ctas == 0 && !plan_shape_same(&pa->shape, &pb->shape) &&
                  plan_shape_same_work(&pa->shape, &pb->shape) && plan_shape_same_work(&pb->shape, &pa->shape),
              "stream-K and hybrid without data-parallel CTAs (%d): two names, one cut", pb->dp_ctas);
        int same = pa->grid == pb->grid && pa->n_segs == pb->n_segs;
        for (int i = 0; same && i <= pa->grid; i++) same = pa->cta_first[i] == pb->cta_first[i];
        for (int i = 0; same && i < pa->n_segs; i++)
            same = pa->segs[i].unit == pb->segs[i].unit && pa->segs[i].tile_begin == pb->segs[i].tile_begin &&
                   pa->segs[i].tile_end == pb->segs[i].tile_end && pa->segs[i].slot == pb->segs[i].slot;
        CHECK(same, "their segments are the same, CTA by CTA");
    }
    /* with data-parallel CTAs a hybrid cuts otherwise than stream-K on its grid */
    plan_opts sk396 = {SCHED_STREAMK, 64, 0, 396, 0, 0};
    CHECK(plan_shape_of(&a, &v, &h396, 132, 3) == PLAN_OK && plan_shape_of(&b, &v, &sk396, 132, 3) == PLAN_OK &&
              a.dp_ctas > 0 && !plan_shape_same_work(&a, &b),
          "hybrid with %d data-parallel CTAs is not stream-K's cut", a.dp_ctas);
    CHECK(plan_shape_of(&a, &v, &k64, 132, 3) == PLAN_OK && plan_shape_of(&b, &v, &k128, 132, 3) == PLAN_OK &&
              !plan_shape_same_work(&a, &b), "two tiles: two cuts under any name");
    plan_free(pa);
    plan_free(pb);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_random_invariants(void)
{
    plan *p = plan_alloc();
    static const int bns[] = {32, 64, 128, 256};
    static const int dims[] = {64, 128, 256};
    int fails = 0;
    for (int iter = 0; iter < 600 && fails < 5; iter++) {
        memset(&w, 0, sizeof w);
        w.batch = 1 + (int)(rnd() % 12);
        w.kv_heads = 1 + (int)(rnd() % 8);
        w.heads = w.kv_heads * (1 + (int)(rnd() % 8));
        w.head_dim = dims[rnd() % 3];
        w.dtype = (int)(rnd() % DTYPE_COUNT);
        w.ragged = 1;
        for (int r = 0; r < w.batch; r++) {
            const uint64_t longest = rnd() % 2 ? 300 : 70000;   /* one call per statement: same order in every build */
            w.ctx[r] = 1 + (int64_t)(rnd() % longest);
        }
        if (iter % 3 == 0)   /* uniform: the shape counts in closed form there */
            for (int r = 1; r < w.batch; r++) w.ctx[r] = w.ctx[0];
        int sms = 1 + (int)(rnd() % 140), resident = 1 + (int)(rnd() % 8);
        for (int k = 0; k < SCHED_COUNT; k++) {
            plan_opts o = {.kind = k, .block_n = bns[rnd() % 4]};
            if (k == SCHED_SPLIT && rnd() % 2) o.splits = 1 + (int)(rnd() % 128);
            if ((k == SCHED_STREAMK || k == SCHED_HYBRID) && rnd() % 2) o.grid = 1 + (int)(rnd() % (sms * resident));
            char what[160];
            snprintf(what, sizeof what, "iter %d %s batch %d heads %d/%d sms %d res %d bn %d", iter, sched_name(k),
                     w.batch, w.heads, w.kv_heads, sms, resident, o.block_n);
            int rc = plan_build(p, &w, &o, sms, resident);
            CHECK(rc == PLAN_OK, "%s: plan_build = %d", what, rc);
            if (rc == PLAN_OK) fails += check_plan(p, resident, what) ? 1 : 0;
        }
    }
    plan_free(p);
}

static void test_bad_input(void)
{
    plan *p = plan_alloc();
    char msg[160];
    set_uniform(1, 32, 5, 128, 1024);
    CHECK(workload_check(&w, msg, sizeof msg) == PLAN_EBADWORKLOAD && strstr(msg, "--kv-heads 5"),
          "heads not divisible: '%s'", msg);
    set_uniform(1, 32, 32, 96, 1024);
    CHECK(workload_check(&w, msg, sizeof msg) && strstr(msg, "--head-dim 96"), "head dim 96: '%s'", msg);
    set_uniform(1, 32, 32, 128, 0);
    CHECK(workload_check(&w, msg, sizeof msg) && strstr(msg, "--ctx 0"), "zero ctx: '%s'", msg);
    set_uniform(1, 32, 32, 128, 1024);
    plan_opts o = {.kind = SCHED_STREAMK, .grid = 1000};
    CHECK(plan_build(p, &w, &o, 100, 2) == PLAN_ERESIDENT, "stream-K grid above residency refused");
    o.kind = SCHED_HYBRID;
    CHECK(plan_build(p, &w, &o, 100, 2) == PLAN_ERESIDENT, "hybrid grid above residency refused");
    o.grid = 200;
    CHECK(plan_build(p, &w, &o, 100, 2) == PLAN_OK, "hybrid grid of exactly the resident CTAs planned");
    o = (plan_opts){.kind = SCHED_FA2, .grid = 1000};
    CHECK(plan_build(p, &w, &o, 100, 2) == PLAN_OK, "fa2 ignores the grid");
    o = (plan_opts){.kind = SCHED_FA2, .block_n = 48};
    CHECK(plan_build(p, &w, &o, 100, 2) == PLAN_EBADOPTS, "block_n 48 refused");
    set_uniform(1024, 1024, 1024, 128, WL_MAX_CTX);
    o = (plan_opts){.kind = SCHED_FA2, .block_n = 32};
    CHECK(plan_build(p, &w, &o, 100, 2) == PLAN_ETOOLARGE, "2^39 tiles refused as too large");
    plan_free(p);
}

int main(void)
{
    test_worked_examples();
    test_heuristics();
    test_kv_shards();
    test_kernel_cap();
    test_balanced_wave();
    test_shape_same();
    test_random_invariants();
    test_bad_input();
    TEST_DONE("test_plan");
}
