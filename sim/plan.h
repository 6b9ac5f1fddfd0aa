/*
 * plan.h: the schedule planner.
 *
 * A decode-attention workload is cut into work units (one per request and KV
 * head; the query heads of a GQA group ride along as rows of the same unit)
 * and each unit into KV tiles of block_n tokens.  The planner decides which
 * CTA of the main kernel processes which run of tiles ("segments"), which
 * segments write a partial softmax state, and who merges them.
 *
 * This is the single source of truth for how work is cut into CTAs: the
 * planner's rules compute a plan's shape once (plan_shape_of), which the
 * analytical model costs as it is and plan_build materialises into the
 * segments that the discrete-event simulator and the CUDA kernels run (the
 * kernels' launch configuration is plan_launch_of).  It depends on the C
 * library alone so that the CUDA runner can link it on a machine that has
 * nothing but the CUDA toolkit.
 */
#ifndef LEANSIM_PLAN_H
#define LEANSIM_PLAN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sched_kind {
    SCHED_FA2 = 0,      /* no split: one CTA per unit */
    SCHED_SPLIT,        /* FlashDecoding: S equal chunks per unit + combine kernel */
    SCHED_STREAMK,      /* LeanAttention: equal runs of tiles across unit boundaries */
    SCHED_HYBRID,       /* data-parallel full waves + stream-K remainder */
    SCHED_BALANCED,     /* FlashInfer-style chunk size that fills the grid */
    SCHED_COUNT
};

enum dtype_kind { DTYPE_FP16 = 0, DTYPE_BF16, DTYPE_FP8, DTYPE_COUNT };

#define WL_MAX_BATCH 1024          /* requests per batch */
#define WL_MAX_HEADS 1024          /* query heads */
#define WL_MAX_CTX   (1 << 24)     /* tokens per request */
#define WL_MAX_UNITS (1 << 20)     /* batch * kv_heads */
#define WL_MAX_TILES 2147483647LL  /* total KV tiles: plan indices are int32 */
#define PLAN_MAX_CTAS (1 << 24)    /* CTAs of a main kernel: 16.7 M (1024 requests x 128 KV heads x 128 splits) */
#define PLAN_MAX_SPLITS 128        /* FlashAttention-2's bound on splits */
#define PLAN_CTA_THREADS 128       /* threads of a decode or combine CTA */
#define PLAN_MERGE_BATCH 8         /* partial states a merging thread loads at once */
#define PLAN_MERGE_VEC 4           /* output elements a host-merging thread owns (a float4) */
#define PLAN_MMA_MIN_ROWS 1        /* row capacities >= this run on tensor cores ... */
#define PLAN_MMA_MAX_DIM 128       /* ... at head dims up to this; CUDA cores otherwise */
#define PLAN_MMA_MIN_CAP 4         /* tensor-core groups run in a kernel of at least this row
                                      capacity: the rows are padded to 16 either way, and the
                                      capacity-4 code streams ~1% faster than capacities 1-2 */

/* A decode step: one new query token per request and query head. */
typedef struct workload {
    int batch;                    /* requests */
    int heads;                    /* query heads */
    int kv_heads;                 /* KV heads; heads % kv_heads == 0 */
    int head_dim;                 /* 64, 128 or 256 */
    int dtype;                    /* enum dtype_kind of the KV cache */
    int ragged;                   /* 1 when ctx was given per request */
    int64_t ctx[WL_MAX_BATCH];    /* KV tokens of each request */
} workload;

/* What the user asked of the planner; 0 means "choose". */
typedef struct plan_opts {
    int kind;          /* enum sched_kind */
    int block_n;       /* KV tile length in tokens; 0: default for head_dim */
    int splits;        /* SCHED_SPLIT: chunks per unit; 0: FA2 heuristic */
    int grid;          /* SCHED_STREAMK/HYBRID: CTAs; 0: LeanAttention's rule */
    int ctas_per_sm;   /* CTAs per SM the schedule plans for; 0: 2, capped by occupancy */
    int resident;      /* simulator only: resident CTAs per SM the kernel gets (a measured
                          occupancy); 0: from the kernels' resources (kres_decode) */
} plan_opts;

/* One contiguous run of KV tiles of one unit, processed by one CTA. */
typedef struct plan_seg {
    int32_t unit;        /* request * kv_heads + kv_head */
    int32_t tile_begin;  /* first tile (within the unit) */
    int32_t tile_end;    /* one past the last tile */
    int32_t slot;        /* partial-state slot written, or -1: writes O directly */
} plan_seg;

/*
 * The shape of a plan: every number that decides how a workload is cut,
 * computed once by plan_shape_of from the workload and the options without
 * placing a segment (O(batch x kv_heads) at most, no allocation).
 * plan_build_shape materialises it into segments for the simulator and the
 * kernels; the closed-form model costs it as it is.  Its counts (grid,
 * n_segs, n_slots, combine_grid) are those of the materialised plan,
 * exactly (tests/test_plan.c, tests/test_agree.c).
 */
typedef struct plan_shape {
    int kind;              /* enum sched_kind */
    int block_n;           /* tokens per KV tile */
    int sms;               /* SMs */
    int resident;          /* resident CTAs per SM of the kernel */
    int ctas_per_sm;       /* CTAs per SM the schedule plans for (default: 2, at most resident) */
    int n_units;           /* batch * kv_heads */
    int rows;              /* query heads per unit (GQA group size) */
    int m_blocks;          /* 64-row query blocks per unit (FA2 counts units x m_blocks) */
    int64_t n_tiles;       /* KV tiles over all units */
    int32_t max_tiles;     /* tiles of the longest request */
    int32_t min_tiles;     /* tiles of the shortest request */
    int uniform;           /* 1 when every request has max_tiles tiles */
    int grid;              /* CTAs of the main kernel */
    int ctas_on_sm;        /* CTAs per SM of its first wave: plan_ctas_on_sm(grid, sms, resident) */
    int parts;             /* fa2, split: chunks per unit (fa2: 1); else 0 */
    int splits;            /* split: chunks per unit (as plan.splits); else 0 */
    int32_t chunk;         /* fa2, split, balanced: tiles per chunk (fa2: max_tiles) */
    int64_t full_chunks;   /* split, balanced: chunks of `chunk` tiles that are not their request's
                              last, over the requests (one KV head each) */
    int64_t last_tokens;   /* split, balanced: tokens of each request's last non-empty chunk, summed
                              over the requests (one KV head each) */
    int sk_grid;           /* streamk, hybrid: CTAs of the stream-K part */
    int sk_units;          /* streamk, hybrid: units of the stream-K part (the last ones) */
    int64_t sk_tiles;      /* streamk, hybrid: tiles of the stream-K part */
    int32_t run_long;      /* stream-K: tiles of a long run; the others have run_long - 1 */
    int run_long_ctas;     /* stream-K: CTAs with a long run (the first ones) */
    int dp_ctas;           /* hybrid: data-parallel CTAs (units 0 .. dp_ctas - 1, after the stream-K CTAs) */
    int n_segs;            /* segments */
    int n_slots;           /* partial-state slots */
    int combine;           /* 1 when a combine kernel merges partials */
    int comb_units;        /* split, balanced: units the combine kernel merges (cut in more than one chunk) */
    int combine_grid;      /* CTAs of the combine kernel as launched: one per unit (those of one part end
                              at once), 0 without a combine kernel */
} plan_shape;

/*
 * A plan.  Segments are stored CTA by CTA in launch order, and within a CTA
 * in the order it processes them.  A segment whose slot is -1 produces the
 * final output of its unit: it either covers the whole unit, or (stream-K)
 * it holds the unit's first tile and merges the partial states of the
 * unit's other segments after waiting for them.  Partial slots of a unit
 * are consecutive, starting at unit_slot[u].
 */
typedef struct plan {
    int kind;              /* enum sched_kind */
    int block_n;           /* tokens per KV tile */
    int grid;              /* CTAs of the main kernel */
    int splits;            /* SCHED_SPLIT: chunks per unit; else 0 */
    int ctas_per_sm;       /* CTAs per SM the plan assumed */
    int sms;               /* SMs the plan assumed */
    int n_units;           /* batch * kv_heads */
    int rows;              /* query heads per unit (GQA group size) */
    int64_t n_tiles;       /* KV tiles over all units */
    int n_segs;            /* segments */
    int n_slots;           /* partial-state slots */
    int combine;           /* 1 when a separate combine kernel merges partials */
    int dp_ctas;           /* SCHED_HYBRID: data-parallel CTAs after the stream-K ones */
    plan_shape shape;      /* the shape it materialises; grid, n_segs, n_slots above are counted */
    int32_t *cta_first;    /* [grid + 1]: first segment of each CTA */
    plan_seg *segs;        /* [n_segs] */
    int32_t *unit_tiles;   /* [n_units]: KV tiles of each unit */
    int32_t *unit_parts;   /* [n_units]: segments covering each unit */
    int32_t *unit_slot;    /* [n_units]: first partial slot, -1 if none */
    int32_t *unit_host;    /* [n_units]: CTA holding the unit's first tile */
    /* capacities of the arrays above (internal) */
    int cap_ctas, cap_segs, cap_units;
} plan;

/* Allocates an empty plan; arrays grow on demand in plan_build.  NULL on OOM. */
plan *plan_alloc(void);
/* Frees a plan from plan_alloc (NULL is fine). */
void plan_free(plan *p);

/* Status codes of plan_build. */
enum plan_status {
    PLAN_OK = 0,
    PLAN_EBADWORKLOAD,   /* workload fails workload_check */
    PLAN_EBADOPTS,       /* block_n, splits, grid or ctas_per_sm out of range */
    PLAN_ETOOLARGE,      /* tiles, units or segments overflow the plan's indices, or CTAs PLAN_MAX_CTAS */
    PLAN_ENOMEM,
    PLAN_ERESIDENT       /* streamk/hybrid: o->grid above sms x resident (hosts spin on peers that
                            must all be resident) */
};

/*
 * The shape of the plan of workload w under options o for a GPU with `sms`
 * SMs of which `resident_per_sm` CTAs of this kernel can be resident on
 * each SM: the one place the planner's rules are applied (option checks,
 * default CTAs per SM, FA2's split heuristic and its clamp, LeanAttention's
 * grid, hybrid's data-parallel waves, balanced's chunk search, stream-K run
 * lengths and segment counts).  Returns PLAN_OK, PLAN_EBADWORKLOAD,
 * PLAN_EBADOPTS, PLAN_ERESIDENT or PLAN_ETOOLARGE; on error *s is
 * unspecified.
 */
int plan_shape_of(plan_shape *s, const workload *w, const plan_opts *o, int sms, int resident_per_sm);

/*
 * 1 when shapes a and b (of one workload, from plan_shape_of) cut its work
 * the same way: schedule, tile, CTAs, chunks, the stream-K part's grid,
 * units and run lengths, hybrid's data-parallel CTAs, segments, partial
 * slots and combine grid; else 0.  The CTAs per SM each assumed is not
 * compared: it shapes a plan only through these.  Two option sets can
 * plan the same CTA count differently (hybrid: grid 264 and 396 over 1,024
 * units both launch 792 CTAs), so a plan is found among measured rows by
 * its shape, not by its CTA count.
 */
int plan_shape_same(const plan_shape *a, const plan_shape *b);

/*
 * 1 when shapes a and b cut their workload's work the same way whatever
 * their schedules are called: every field plan_shape_same compares but the
 * schedule (stream-K and a hybrid without data-parallel CTAs on one grid
 * place the same runs on the same CTAs); else 0.  Measured, two such plans
 * differ by the GPU's noise alone.
 */
int plan_shape_same_work(const plan_shape *a, const plan_shape *b);

/*
 * Materialises shape s (from plan_shape_of on workload w) into plan p:
 * segments CTA by CTA, partial slots, hosts.  Returns PLAN_OK or
 * PLAN_ENOMEM.
 */
int plan_build_shape(plan *p, const workload *w, const plan_shape *s);

/*
 * plan_shape_of then plan_build_shape: the plan of w under o on `sms` SMs
 * of `resident_per_sm` slots.  The stream-K grid never exceeds sms *
 * resident_per_sm.  Returns a plan_status; on error the plan's contents
 * are unspecified.
 */
int plan_build(plan *p, const workload *w, const plan_opts *o, int sms, int resident_per_sm);

/*
 * Tokens of shard `shard` (0..n-1) of a request of `ctx` tokens cut along
 * the sequence over n GPUs (KV parallelism): contiguous shards of
 * ceil(ctx / n) tokens, the last ones shorter (0 when nothing is left).
 */
int64_t plan_kv_shard(int64_t ctx, int n, int shard);

/*
 * CTAs sharing an SM when `ctas` CTAs are spread breadth-first over `sms`
 * SMs of `resident` slots each (as the hardware and the simulator dispatch
 * a wave): ceil(ctas / sms), at most resident, at least 1.
 */
int plan_ctas_on_sm(int64_t ctas, int sms, int resident);

/*
 * The KV tokens segment s of plan p reads in workload w: its tiles
 * [tile_begin, tile_end) clipped to its request's length.  Writes the
 * first token (tile_begin x block_n, not clipped) into *first when first
 * is not NULL; returns the count, 0 for a segment past the end (split's
 * empty chunks of a short request).  The simulator streams these tokens
 * and the kernels read them.  Inline: the simulator asks it for every
 * segment of every plan it lowers.
 */
static inline int32_t plan_seg_tokens(const plan *p, const workload *w, const plan_seg *s, int64_t *first)
{
    const int64_t len = w->ctx[s->unit / w->kv_heads];
    const int64_t t0 = (int64_t)s->tile_begin * p->block_n;
    int64_t t1 = (int64_t)s->tile_end * p->block_n;
    if (t1 > len) t1 = len;
    if (first) *first = t0;
    return t1 > t0 ? (int32_t)(t1 - t0) : 0;
}

/* How the kernels launch a plan (kernels/attn.cu), host side. */
typedef struct plan_launch {
    int decode_grid;       /* CTAs of the decode kernel */
    int combine_grid;      /* CTAs of the combine kernel, 0: none launched */
    int signal;            /* 1: partial writers signal a host CTA in the decode kernel (stream-K) */
    int n_segs;            /* segments uploaded */
    int n_slots;           /* partial-state slots written (and read back) */
    int slots_alloc;       /* partial-state slots allocated: n_slots, at least 1 */
} plan_launch;

/* The launch configuration of plan p (from plan_build or plan_build_shape). */
void plan_launch_of(const plan *p, plan_launch *l);

/* Checks a workload's sizes; returns 0 or PLAN_EBADWORKLOAD and, when msg is
 * not NULL, writes a one-line reason naming the field into msg[len]. */
int workload_check(const workload *w, char *msg, int len);

/* 1 when a and b are the same workload: batch, heads, KV heads, head dim,
 * dtype and every request's context length alike. */
int workload_same(const workload *a, const workload *b);

/* Sets w to a uniform batch: every request `ctx` tokens of KV in `dtype`;
 * the other fields zero (not ragged).  No checks: see workload_check. */
void workload_uniform(workload *w, int batch, int heads, int kv_heads, int head_dim, int dtype, int64_t ctx);

/* Row capacity of the kernel that serves a GQA group of `rows` query heads
 * (1, 2, 4, 8 or 16: a group of 3 runs in the capacity-4 kernel; 9..16 at
 * head dims up to 128 only, on tensor cores). */
int plan_rows_cap(int rows);

/* Row capacity of the kernel instance that serves a group of `rows` at
 * head_dim: plan_rows_cap(rows), raised to PLAN_MMA_MIN_CAP on the
 * tensor-core path.  The kernels pick their instance by it and the
 * simulator looks up that instance's resources by it. */
int plan_kernel_cap(int rows, int head_dim);

/* 1 when the kernel for (rows, head_dim) computes on tensor cores (rows
 * padded to 16), 0 when on CUDA cores; the kernels and the simulator both
 * decide by PLAN_MMA_MIN_ROWS and PLAN_MMA_MAX_DIM. */
int plan_uses_tensor_cores(int rows, int head_dim);

/* Default KV tile length for a head dim (FlashAttention-2's choice). */
int plan_default_block_n(int head_dim);

/* Index of tile length bn (32, 64, 128, 256) in a table by tile length
 * (plan_candidates' resident_by_bn): 0..3. */
int plan_block_n_index(int bn);

/* FlashAttention-2's num_splits_heuristic: work units, slots, KV blocks, cap. */
int plan_splits_heuristic(int64_t units, int slots, int n_blocks, int max_splits);

/* LeanAttention's grid rule for `tiles` tiles, units and KV blocks per unit. */
int plan_leanattn_grid(int64_t tiles, int sms, int ctas_per_sm, int64_t units, int n_blocks);

/* ----------------------------------------------------------- policies */

/*
 * Named policies: the rules production libraries use to choose a plan,
 * each a few lines in plan.c with its source.  A policy fills plan options
 * (schedule, block_n, splits, grid, CTAs per SM) for a workload on `sms`
 * SMs with `resident` CTAs per SM and an L2 of l2_bytes.
 *   PLAN_POLICY_FA2        FlashAttention-2's num_splits_heuristic (split)
 *   PLAN_POLICY_FA3        FlashAttention-3's get_num_splits (split)
 *   PLAN_POLICY_FLASHINFER FlashInfer's decode planner (balanced)
 *   PLAN_POLICY_LEAN       LeanAttention's grid rule (streamk)
 *   PLAN_POLICY_FLASHMLA   FlashMLA's partition with a fixed overhead per split (streamk)
 * The tuner (model/) is one more policy, "tune".
 */
enum plan_policy {
    PLAN_POLICY_FA2 = 0,
    PLAN_POLICY_FA3,
    PLAN_POLICY_FLASHINFER,
    PLAN_POLICY_LEAN,
    PLAN_POLICY_FLASHMLA,
    PLAN_POLICY_COUNT
};
const char *plan_policy_name(int policy);
int plan_policy_parse(const char *s);   /* -1 if unknown ("tune" is not a planner policy) */
/* Fills *o for workload w; returns 0, or -1 for an unknown policy. */
int plan_policy_apply(int policy, const workload *w, int sms, int resident, double l2_bytes, plan_opts *o);

/* One candidate of the tuner's search space. */
typedef struct plan_cand {
    int kind, block_n, splits, grid, ctas_per_sm;
} plan_cand;

/*
 * The tuner's search space for workload w on `sms` SMs: every schedule in
 * sched_mask; tile lengths 32..256 where resident_by_bn[i] (block_n 32 <<
 * i) is > 0; split counts on a grid of 1..128 where the chunk length
 * changes; stream-K and hybrid grids of 1..resident CTAs per SM and
 * LeanAttention's rule; CTAs per SM only where they change the plan
 * (balanced's budget, the default grids); and every named policy's pick
 * (l2_bytes: FA3's rule), so that no policy chooses outside the space.
 * The same space serves the tuner and the kernel runner's oracle.  Writes
 * at most cap candidates and returns how many there are.
 */
int plan_candidates(const workload *w, int sms, const int resident_by_bn[4], unsigned sched_mask, double l2_bytes,
                    plan_cand *out, int cap);

/* Bytes of one element of dtype. */
int dtype_bytes(int dtype);

/* Names: "fa2", "split", ... and "fp16", ...; parse returns -1 if unknown. */
const char *sched_name(int kind);
int sched_parse(const char *s);
const char *dtype_name(int dtype);
int dtype_parse(const char *s);

/* Tiles of request r: ceil(ctx / block_n). */
static inline int32_t plan_tiles_of(int64_t ctx, int block_n)
{
    return (int32_t)((ctx + block_n - 1) / block_n);
}

#ifdef __cplusplus
}
#endif
#endif
