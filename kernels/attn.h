/*
 * attn.h: host interface of the decode-attention kernels in kernels/.
 *
 * The runner (leanbench) and the correctness suite (gputest) build a plan
 * with sim/plan.c, upload it with attn_plan_upload, and launch the decode
 * kernel (plus the combine kernel when the plan asks for one) with
 * attn_launch.  Every CTA of the decode kernel walks its own segment list
 * of the plan; nothing about tiling is decided on the device.
 */
#ifndef LEANSIM_ATTN_H
#define LEANSIM_ATTN_H

#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "plan.h"

/* Reports the failing expression, file and line, and exits. */
#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); exit(2); } } while (0)

#define ATTN_THREADS PLAN_CTA_THREADS
#define ATTN_MAX_ROWS 16         /* GQA group sizes 1..16 (9..16 on the tensor-core path only, d <= 128) */

/* Timeline events recorded by thread 0 of each CTA (leanbench --timeline):
 * the decode kernel's, then the combine kernel's (its CTA scheduled, its
 * wait for the decode grid returned, its end). */
enum tl_event { TL_START = 0, TL_SEG_END, TL_WAIT_BEGIN, TL_WAIT_END, TL_END, TL_COMB_START, TL_COMB_READY,
                TL_COMB_END };

typedef struct tl_rec {
    int32_t sm;        /* %smid */
    int32_t event;     /* enum tl_event, -1: unused */
    int32_t unit;      /* segment's unit, or -1 */
    int32_t pad;
    uint64_t t_ns;     /* %globaltimer */
} tl_rec;

/* KV geometry of one plan segment, derived on the host from the plan and
 * the workload so that a CTA needs one load (not a chain) before its
 * first copy: the segment's tokens (plan_seg_tokens: its tiles clipped to
 * the request's length) as an element offset into K (and V) and a count. */
typedef struct seg_kv {
    int64_t off;     /* elements from the start of K to the segment's first token */
    int32_t ntok;    /* tokens in the segment (0 for an empty one) */
    int32_t pad;
} seg_kv;

/* A plan on the device plus the per-segment KV geometry; grid,
 * combine_grid, signal, n_segs and n_slots are the plan's launch
 * configuration (plan_launch_of). */
typedef struct attn_plan_dev {
    int grid, n_units, rows, n_segs, n_slots, combine, block_n;
    int combine_grid;      /* CTAs of the combine kernel, 0: none */
    int signal;            /* 1: partial writers signal a host CTA */
    int sms;               /* SMs the plan was built for */
    int32_t *cta_first;    /* [grid + 1] */
    plan_seg *segs;        /* [n_segs] */
    int32_t *unit_parts;   /* [n_units] */
    int32_t *unit_slot;    /* [n_units] */
    seg_kv *seg_kv;        /* [n_segs]: where each segment's tokens lie */
    float *part_o;         /* [n_slots][rows][d] */
    float *part_lse;       /* [n_slots][rows], log2 domain */
    int32_t *cnt;          /* [n_units]: arrivals of peers; zero between launches */
} attn_plan_dev;

/* Inputs and output of one decode step. */
typedef struct attn_io {
    const void *q;   /* [batch][heads][d] */
    const void *k;   /* ragged [request][kv_head][token][d] */
    const void *v;   /* same layout as k */
    void *o;         /* [batch][heads][d] */
    int dtype;       /* DTYPE_FP16 or DTYPE_BF16 */
    int head_dim;    /* 64, 128, 256 */
    float *lse;      /* NULL, or [batch][heads]: each row's log-sum-exp of its scaled scores, in
                        log2 units: log2(sum_t exp2(q.k_t * log2(e) / sqrt(d))), i.e. the natural
                        lse times log2(e), the domain of part_lse; -INFINITY for an empty row.
                        Written by whoever writes the row's O: the decode kernel for a
                        single-part unit, the host CTA of a stream-K unit, the combine kernel
                        for split units.  NULL costs one untaken branch per writer. */
} attn_io;

/* Arguments of the decode kernel (passed by value). */
typedef struct dec_args {
    const void *q, *k, *v;
    void *o;
    const int32_t *cta_first;
    const plan_seg *segs;
    const int32_t *unit_parts, *unit_slot;
    const seg_kv *seg_kv;
    float *part_o, *part_lse;
    int32_t *cnt;
    tl_rec *tl;
    int rows;          /* query heads per unit (<= the kernel's row capacity) */
    int block_n;       /* tokens per plan tile */
    int signal;        /* 1: partial writers signal a host CTA (stream-K) */
    float scale_log2;  /* log2(e) / sqrt(d) */
    float *lse;        /* NULL, or [n_units * rows]: final log-sum-exp per row, log2 units
                          (attn_io.lse); last, so the fields above keep their offsets */
} dec_args;

typedef void (*dec_kernel_fn)(dec_args);

/* Kernels of one head dim: [dtype][L2 prefetch hint off/on][row-capacity
 * index: 1, 2, 4, 8, 16]; NULL where none is built (16 at d = 256). */
typedef struct dec_table {
    dec_kernel_fn fn[2][2][5];
    int smem_bytes;    /* dynamic shared memory per CTA */
    dec_kernel_fn combine[2];   /* [dtype] */
} dec_table;

extern const dec_table dec_table_d64, dec_table_d128, dec_table_d256;

/* The decode kernel for (dtype, head_dim, rows, L2 prefetch hint) and its
 * dynamic shared memory; returns 0, or -1 when no such instantiation exists. */
int attn_kernel(int dtype, int head_dim, int rows, int l2pf, dec_kernel_fn *fn, int *smem_bytes);

/* Whether a launch of `grid` CTAs on `sms` SMs uses the L2 prefetch hint:
 * grids of at least one CTA per SM do (environment LEANBENCH_L2PF=0 or 1
 * forces it off or on). */
int attn_l2pf_choice(int grid, int sms);

/* 1 when the combine kernel is launched as a programmatic dependent of the
 * decode kernel (default; LEANBENCH_PDL=0 turns it off). */
int attn_pdl_choice(void);

/* The smallest row capacity forced by LEANBENCH_ROWS_CAP=1/2/4/8, or 0:
 * the planner's (plan_kernel_cap). */
int attn_rows_cap_choice(void);

/* The build switches the kernels were compiled with, as key=value pairs
 * joined by ';', or "none" for a build that has none (a static string).
 * decode.cuh has none now; the column keeps older builds' apart. */
const char *attn_build_switches(void);

/* The combine kernel for (dtype, head_dim), or NULL. */
dec_kernel_fn attn_combine_kernel(int dtype, int head_dim);

/* CTAs of that kernel resident per SM (occupancy API); -1 if unsupported. */
int attn_occupancy(int dtype, int head_dim, int rows);

/* Uploads plan p of workload w into d (allocating its device arrays).
 * Returns 0; exits on CUDA errors. */
int attn_plan_upload(attn_plan_dev *d, const plan *p, const workload *w);
void attn_plan_free(attn_plan_dev *d);

/* Elements of K (or V) of workload w. */
int64_t attn_kv_elems(const workload *w);

/* Launches the decode kernel and, when the plan has one, the combine kernel
 * on stream s: O to io->o and, when io->lse is not NULL, each row's final
 * log-sum-exp (log2 units) to io->lse[unit * rows + row], which is the
 * [batch][heads] index of the row.  tl may be NULL, or has room for
 * attn_tl_records(d) events: 3 per combine CTA, then the decode kernel's
 * n_segs + 4 x grid (dec_args.tl points at those; the combine kernel
 * writes below it).  Returns the launch status. */
cudaError_t attn_launch(const attn_plan_dev *d, const attn_io *io, cudaStream_t s, tl_rec *tl);

/* Timeline records one launch of plan d can write (attn_launch's tl). */
size_t attn_tl_records(const attn_plan_dev *d);

/* Fills n elements of dtype at dst with uniform values in [-amp, amp]
 * from a counter-based hash of (seed, index). */
void attn_fill_random(void *dst, int64_t n, int dtype, uint64_t seed, float amp, cudaStream_t s);

/* Evicts KV from L2 by reading a buffer of bytes (> L2) on stream s: reads
 * leave clean lines, so nothing is written back during the next timed launch. */
void attn_l2_flush(const void *buf, size_t bytes, cudaStream_t s);

/* CPU reference in double precision (kernels/ref.cpp): O[batch][heads][d]
 * from host copies of q, k, v in dtype; uses up to `threads` threads. */
void attn_reference(const workload *w, const uint16_t *q, const uint16_t *k, const uint16_t *v,
                    double *o, int threads);

/* The same, and when lse is not NULL each row's log-sum-exp of its scaled
 * scores, lse[request * heads + head] = ln(sum_t exp(q.k_t / sqrt(d))), or
 * that divided by ln(2) (the kernels' log2 units, attn_io.lse) when
 * log2_domain; -INFINITY for an empty row. */
void attn_reference_lse(const workload *w, const uint16_t *q, const uint16_t *k, const uint16_t *v,
                        double *o, double *lse, int log2_domain, int threads);

/* float value of a stored 16-bit element of dtype. */
float attn_elem_to_float(uint16_t x, int dtype);

#endif

/* --- shared by leanbench and gputest (kernels/bench.cu) --- */

/* Device buffers of one decode step: q, o and n_kv sets of (k, v). */
typedef struct attn_bufs {
    void *q, *o;
    void *k[16], *v[16];
    int n_kv;
    int in_arena;       /* 1: k and v point into the KV arena (not freed here) */
    int64_t kv_elems;   /* elements of each k (and v) */
    int64_t qo_elems;   /* elements of q (and o) */
} attn_bufs;

/* The KV arena: one allocation made once, from whose start every later
 * attn_bufs_alloc carves its KV sets (K0, V0, K1, V1, ...) when they fit.
 * Timings of the same configuration then do not depend on what was
 * allocated and freed before it (they moved by up to 17% on 0.1-0.5 GB
 * sets without it), and KV sits as in a serving system, which allocates
 * its cache once at startup.  Returns 0, or -1 if `bytes` cannot be had. */
int attn_arena_init(size_t bytes);
/* 1 when n_kv KV sets of w fit in the arena (0 when there is none). */
int attn_arena_holds(const workload *w, int n_kv);
void attn_arena_free(void);

/* Allocates n_kv KV sets for w (from the arena when they fit in it) and
 * fills q and every k, v with random values (seeded).  Returns 0, or -1
 * when the memory is not there (nothing stays allocated then). */
int attn_bufs_alloc(attn_bufs *b, const workload *w, int n_kv, uint64_t seed, cudaStream_t s);
void attn_bufs_free(attn_bufs *b);

/* CPU reference for buffer set `set` of b: copies q, k, v to the host and
 * returns a malloc'ed [batch*heads*d] array of doubles. */
double *attn_ref_from_device(const workload *w, const attn_bufs *b, int set, int threads);
/* The same, and a malloc'ed [batch*heads] array of each row's log-sum-exp
 * in log2 units (attn_reference_lse) in *lse2 when lse2 is not NULL. */
double *attn_ref_lse_from_device(const workload *w, const attn_bufs *b, int set, int threads, double **lse2);

/* Compares device lse (log2 units, [batch*heads] floats) with ref2 (the
 * same in double): a row is a mismatch when |lse - ref2| > tol_log2 or
 * either is not finite.  Prints the first `show` under label; returns the
 * count and stores the largest difference in *err. */
int64_t attn_compare_lse(const workload *w, const float *lse_dev, const double *ref2, double tol_log2,
                         double *err, int show, const char *label);

/* Absolute tolerance of attn_compare_lse in log2 units: 1e-3.  The kernels
 * keep scores, exponentials and sums in fp32 whatever the dtype (the
 * reference reads the same 16-bit inputs), so their lse is off by
 * rounding only: ~1e-6 per score, and a relative ~sqrt(n) * 2^-24 on a sum
 * of n online-softmax steps, ~1e-5 at 2^15 steps (a 512k-token unit in one
 * CTA at d = 256); 1e-3 leaves two orders of magnitude for that, and is
 * ten times less than the error of losing or doubling one of 128 equal
 * parts of a unit (log2(1 + 1/128) = 0.011). */
#define ATTN_LSE_TOL_LOG2 1e-3

/* Compares device output o with ref.  Error = max |o - ref| / max |ref|;
 * a NaN or an unwritten (poisoned) element counts as a mismatch.  Prints
 * the first `show` elements above tol with their indices under label.
 * Returns the count of mismatches and stores the error in *err. */
int64_t attn_compare(const workload *w, const void *o_dev, const double *ref, double tol,
                     double *err, int show, const char *label);

/* Calls fn(arg, ac, av, line) for each option set of sweep file `path`
 * (a line of words, '#' starting a comment; av[0] = "leanbench"), in order.
 * A line too long or of too many words is not passed to fn: it is named on
 * stderr ("path:line: reason") and counts 1, as does a read error.
 * Returns the sum of fn's returns and those, or -1 when the file cannot be
 * opened. */
int attn_sweep_each(const char *path, int (*fn)(void *arg, int ac, char **av, int line), void *arg);

/* A run's provenance: the commit (git, "-dirty" when the tree differs; "unknown"
 * outside a checkout), the UTC date and the CUDA driver version, each taken
 * from LEANBENCH_COMMIT, LEANBENCH_DATE and LEANBENCH_DRIVER where set. */
void attn_provenance(char *commit, size_t nc, char *date, size_t nd, char *driver, size_t ndv);

/* Tolerance of attn_compare for dtype (fp16 2e-3, bf16 1.6e-2 of the output scale). */
double attn_tolerance(int dtype);
