/*
 * kprof.h: kernel profiles, one decode-attention implementation apart from
 * the chip it runs on.
 *
 * A profile is a text file of `key = value` lines with `#` comments
 * (experiments/kernels/NAME.kernel), in the format of the chip specs
 * (specfile.h).  It says how the implementation cuts work (its schedule
 * family, tile length, split rule, CTAs per SM it plans for), what one of
 * its CTAs costs the chip's resources (threads, registers and shared
 * memory: occupancy follows from the chip's limits), how it streams (bytes
 * kept in flight per CTA, its compute path and the fraction of the SM's
 * peak that path reaches) and its fixed costs (CTA prologue and epilogue,
 * partial-state write, stream-K flag, merge rounds, and anything a call
 * launches besides its main and combine kernels).  The shipped files are
 * embedded in the binary; `--kernel path/to/x.kernel` loads a user's.
 * The default profile, `leansim`, is the kernels of kernels/.
 */
#ifndef LEANSIM_KPROF_H
#define LEANSIM_KPROF_H

#include <stdint.h>

#include "gpu.h"
#include "plan.h"

/* Schedule families: KPROF_ANY (every schedule of the planner) or one. */
enum kprof_schedule { KPROF_ANY = 0, KPROF_FA2, KPROF_SPLIT, KPROF_STREAMK, KPROF_HYBRID, KPROF_BALANCED };
/* Compute paths: as leansim's kernels decide (plan_uses_tensor_cores), or fixed. */
enum kprof_compute { KPROF_AUTO = 0, KPROF_TENSOR, KPROF_FP32 };
/* Split rules of the split family: FA2's num_splits_heuristic, or `fill`:
 * split_ctas / (batch x KV heads) splits when that is at least split_min,
 * else one (the grid cuDNN's decode kernel launches, observed with ncu). */
enum kprof_split_rule { KPROF_SPLIT_FA2 = 0, KPROF_SPLIT_FILL };

/* Regimes of the error band (kernel_profile.err_band_*): the CUDA-core path,
 * then each schedule family on the tensor cores, then the same families for
 * GQA groups of KPROF_BAND_WIDE_ROWS query rows or more (whose partial
 * states, merges and softmax are the largest: the model's error grows with
 * the group). */
enum kprof_band { KPROF_BAND_FP32 = 0, KPROF_BAND_FA2, KPROF_BAND_SPLIT, KPROF_BAND_STREAMK, KPROF_BAND_BALANCED,
                  KPROF_BAND_FA2_WIDE, KPROF_BAND_SPLIT_WIDE, KPROF_BAND_STREAMK_WIDE, KPROF_BAND_BALANCED_WIDE,
                  KPROF_BAND_COUNT };
#define KPROF_BAND_WIDE_ROWS 8

typedef struct kernel_profile {
    char name[32];              /* short name: leansim, torch-flash, ... */
    char full_name[96];         /* what it is */
    int schedule;               /* enum kprof_schedule */
    int block_n;                /* KV tile length; 0: the planner's default for the head dim */
    int splits;                 /* split family: chunks per unit; 0: FA2's num_splits_heuristic */
    int ctas_per_sm;            /* CTAs per SM its split/grid rule plans for; 0: the planner's default */
    int split_rule;             /* enum kprof_split_rule (split family, splits = 0) */
    int split_ctas, split_min;  /* the fill rule's grid and least split count */
    int threads;                /* per CTA; 0: leansim's compiled kernels (kres_decode) */
    int regs_per_thread;        /* with threads > 0 */
    int smem_bytes;             /* static + dynamic shared memory per CTA, with threads > 0 */
    int compute;                /* enum kprof_compute */
    int mma_rows;               /* query rows a tensor-core tile computes (a decode query is padded to them) */
    int max_group;              /* largest GQA group (query heads per KV head) the kernel runs; 0: any its
                                   resources allow (1: MHA only) */
    double cta_inflight_bytes;  /* bytes one CTA keeps in flight (when inflight_tiles is 0) */
    double inflight_tiles;      /* > 0: a CTA keeps this many K+V tiles in flight instead (bytes follow
                                   the head dim and tile length: a copy pipeline of whole tiles) */
    double sm_gbps;             /* most one SM streams through this kernel, its CTAs together (the SM's
                                   issue and shared-memory limits for its main loop); the chip's
                                   sm_max_gbps caps it too */
    double fp32_eff;            /* fraction of its SM's FP32 peak its CUDA-core path reaches */
    double fp32_row_flops;      /* CUDA-core path: FP32 operations charged per KV element per query row the
                                   kernel computes (its row capacity, plan_kernel_cap): 4 are the QK and PV
                                   FMAs; the dot product's shuffle reduction and exp2 add issue slots */
    double fp32_kv_flops;       /* CUDA-core path: FP32 operations per KV element whatever the rows (the
                                   K and V conversions to fp32) */
    double fp32_issue_frac;     /* CUDA-core path: most of its SM's compute one CTA alone keeps busy (0..1]:
                                   its warps, one per scheduler, stall on their own dependences (shuffle
                                   reductions, exp2, shared loads) that co-resident CTAs' warps fill; with
                                   n CTAs on the SM each gets min(1 / n, this) of it (1: 1 / n) */
    double fp32_overlap_norm;   /* CUDA-core path: memory time per byte (latency over bytes in flight) and
                                   compute time per byte combine as their p-norm, p this field (1: their
                                   sum, no overlap; large: the larger, the copies hiding the other) */
    double tensor_eff;          /* fraction of its SM's tensor peak its tensor-core path reaches */
    double tc_kv_flops;         /* tensor-core path: CUDA-core operations per KV token whatever the rows,
                                   at the SM's share of the chip's FP32 rate (a chunk's barriers, address
                                   and softmax work around its mma): per byte, twice as many at head dim 64
                                   as at 128 */
    double cta_prologue_ns;     /* CTA start: indices, q load (first-load latency excluded) */
    double cta_epilogue_ns;     /* CTA end: output normalisation and store */
    double partial_write_ns;    /* writing one partial (O, lse) state and fencing, whatever its rows */
    double partial_row_ns;      /* and per query row of the kernel's row capacity (plan_kernel_cap): the
                                   row's head_dim + 1 floats stored (sim_partial_write_ns) */
    double flag_latency_ns;     /* a stream-K peer's flag becoming visible to its host */
    double merge_round_ns;      /* one round of partial-state loads from L2 and their merge (the combine
                                   kernel's; a stream-K host's too unless host_round_ns is set) */
    double host_round_ns;       /* the same round in a stream-K host CTA; 0: merge_round_ns */
    double host_setup_ns;       /* a stream-K host's work between its wait and its first round (its
                                   threads meeting at a barrier, the unit's slot index loaded) */
    int pdl;                    /* 1: the combine kernel is a programmatic dependent launch (the chip's
                                   pdl_gap_us before it, else its kernel_gap_us) */
    int seg_loads;              /* dependent memory round trips from the start of a CTA's second and later
                                   segments to their first tile (leansim's kernels: the segment's
                                   descriptor, then the tile) */
    double load_queue;          /* share of the memory system's queueing those round trips wait: each takes
                                   mem_latency_ns x (1 + load_queue x (cap / rate - 1)) while the other
                                   CTAs' streams hold the link at a per-CTA rate below this CTA's cap
                                   (1: the loaded latency of Little's law; 0: the idle latency) */
    double sm_stream_loss;      /* bandwidth lost per CTA streaming on an SM beyond two: with m CTAs on each
                                   SM the link carries mem_bw_achievable_gbps x (1 + x) / (1 + x (m - 1)),
                                   x this field (the chip's figure was fitted on plans of two CTAs per SM,
                                   the planner's default; more concurrent KV streams mean more DRAM row
                                   switches) */
    double call_extra_us;       /* per call, besides the main and combine kernels (setup kernels) */
    double err_lo_pct, err_hi_pct; /* 90% band of measured / predicted - 1 (5th and 95th percentiles, in
                                   percent) on the rows the profile was fitted on: each prediction's interval */
    /* The same band by regime, where the rows give one (0 and 0: none; a wide group's regime
     * then takes its family's, any other the band above): the CUDA-core compute path of any
     * schedule, then each schedule family on the tensor cores (hybrid is stream-K's), then the
     * families again for groups of KPROF_BAND_WIDE_ROWS rows or more.  Indexed by enum kprof_band. */
    double err_band_lo_pct[KPROF_BAND_COUNT], err_band_hi_pct[KPROF_BAND_COUNT];
    /* The same bands for the closed-form model's predictions (its residuals differ from the
     * simulator's: split most); all 0: the simulator's bands apply to it too. */
    double err_model_lo_pct, err_model_hi_pct;
    double err_model_band_lo_pct[KPROF_BAND_COUNT], err_model_band_hi_pct[KPROF_BAND_COUNT];
    char single[32];            /* profile of the kernel the library runs when its split rule gives one
                                   split ("none": this one), e.g. FA2's forward kernel */
    char source[256];           /* file it came from, or "builtin:NAME" */
    uint64_t hash;              /* FNV-1a of the profile text */
} kernel_profile;

/* Status codes (as gpu.h's). */
enum kprof_status { KPROF_OK = 0, KPROF_EPARSE, KPROF_ENOTFOUND, KPROF_EIO };

/* The profile used when none is named. */
#define KPROF_DEFAULT "leansim"

/*
 * Parses profile text; `file` names the source in messages.  Returns
 * KPROF_OK, or KPROF_EPARSE with "file:line: reason >>> 'text'" in err.
 */
int kprof_parse(kernel_profile *k, const char *text, const char *file, char *err, int errlen);

/*
 * Loads a profile by short name (an embedded one) or by path (anything
 * with a '/' or ending in ".kernel").  Returns KPROF_OK, KPROF_ENOTFOUND,
 * KPROF_EIO or KPROF_EPARSE with err set ("--kernel X: ...").
 */
int kprof_load(kernel_profile *k, const char *name_or_path, char *err, int errlen);

/* 1 when key names a profile field (for --set, which applies to either file). */
int kprof_has_key(const char *key);

/*
 * Overrides one field from "key=value" with the parser's checks.  Returns
 * KPROF_OK, or KPROF_EPARSE with err set and k unchanged.
 */
int kprof_set(kernel_profile *k, const char *assign, char *err, int errlen);

/* Number of profile keys, the i-th key, and its value as file text. */
int kprof_key_count(void);
const char *kprof_key(int i);
void kprof_format(const kernel_profile *k, int i, char *buf, int len);

/* Embedded profiles: count, and the i-th one's short name and text. */
int kprof_builtin_count(void);
const char *kprof_builtin_name(int i);
const char *kprof_builtin_text(int i);

/* 1 when the profile is leansim's own kernels. */
int kprof_is_default(const kernel_profile *k);

/* Bit mask of the schedules (enum sched_kind) the profile's family runs. */
unsigned kprof_sched_mask(const kernel_profile *k);

/* The schedule of a single-schedule profile, or -1 for KPROF_ANY. */
int kprof_schedule_kind(const kernel_profile *k);

/*
 * Fills the options a caller left 0 (block_n, splits, ctas_per_sm) with the
 * profile's, the splits of a split plan by the profile's split rule for
 * workload w.  o->kind is the caller's.
 */
void kprof_plan_opts(const kernel_profile *k, const workload *w, plan_opts *o);

/*
 * 0 when the kernel runs workload w's shape at all (its GQA group within
 * max_group), else -1 with err naming the options and the limit.  The
 * resources a shape needs are sim_resident_of's to check.
 */
int kprof_workload_check(const kernel_profile *k, const workload *w, char *err, int errlen);

/* The tile a plan of workload w runs under profile k: `asked` where set,
 * else the profile's block_n, else the planner's default for the head dim. */
int kprof_block_n(const kernel_profile *k, const workload *w, int asked);

/* 1 when the profile computes (rows, head_dim) on tensor cores. */
int kprof_tensor_cores(const kernel_profile *k, int rows, int head_dim);

/* The regime (enum kprof_band) of schedule `sched` (enum sched_kind) on a
 * workload of GQA group `rows` and head dim `head_dim` under profile k. */
int kprof_band_of(const kernel_profile *k, int sched, int rows, int head_dim);

/* The 90% band (percent of the prediction) of regime `band`: the regime's
 * own where the profile has one, else (a wide group's regime) its schedule
 * family's, else the profile's err_lo/hi_pct.  With
 * closed_form, the closed-form model's bands (err_model_*) where the
 * profile has any, else the simulator's. */
void kprof_band(const kernel_profile *k, int band, int closed_form, double *lo_pct, double *hi_pct);

/*
 * Resources of one main-kernel CTA of k for workload geometry (head_dim,
 * block_n, dtype, rows): the profile's, or leansim's compiled table.
 * Returns 0, or -1 when the profile has no kernel for it.
 */
int kprof_resources(const kernel_profile *k, int head_dim, int block_n, int dtype, int rows, kernel_res *out);

/*
 * Loads chip spec `gpu` and kernel profile `kernel` (NULL: the default),
 * then applies each "KEY=VALUE" of sets[n_sets] to whichever of the two has
 * that key.  Returns KPROF_OK, or KPROF_EPARSE with a message naming the
 * option in err (the objects are then unspecified).
 */
int kprof_pair_load(gpu_spec *g, kernel_profile *k, const char *gpu, const char *kernel, const char *const *sets,
                    int n_sets, char *err, int errlen);

/*
 * A split plan (o->kind) of `splits` splits run by k: when it has one split
 * and k->single names another kernel (the library runs that one instead),
 * loads it into *k1, sets *o1 to its options (o's, schedule fa2) and
 * returns 1; returns 0 when k runs it itself, -1 (err set) when the named
 * profile does not load.
 */
int kprof_single_split(const kernel_profile *k, const plan_opts *o, int splits, kernel_profile *k1, plan_opts *o1,
                       char *err, int errlen);

/* Combined hash of a chip spec's and a kernel profile's values and of the
 * engines' sources (prediction keys: a changed engine never reads an old
 * prediction as its own). */
uint64_t kprof_pair_hash(const gpu_spec *g, const kernel_profile *k);

#endif
