/*
 * multi.h: decode attention over several GPUs of one host.
 *
 * `heads` parallelism gives each GPU batch x (kv_heads / N) units and needs
 * no communication inside attention.  `kv` parallelism cuts every request's
 * KV cache into N contiguous shards along the sequence (the first ones
 * ceil(ctx / N) tokens), runs the single-GPU schedule on each shard, gathers
 * every head's partial state (its normalised O in 16 bits, the kernels'
 * output type, and its log-sum-exp) into GPU 0
 * over the interconnect and merges them there.  The GPUs run the same
 * schedule at once on their shards, none empty (a request too short for
 * that is refused): the time is GPU 0's (the largest shard), then the
 * gather (the chip's
 * link_latency_us plus the N - 1 partials at link_gbps into one GPU), then
 * the merge kernel (read the N partials, write O, at the achievable
 * bandwidth, after a dependent launch).  `both` splits the heads as far
 * as the KV heads allow (the largest divisor of N that divides the KV
 * heads: tensor parallelism up to the KV heads, as serving systems do),
 * and each group of the remaining N / that many GPUs shards the KV of its
 * heads as `kv` does, gathering into its own first GPU.
 */
#ifndef LEANSIM_MULTI_H
#define LEANSIM_MULTI_H

#include "sim.h"

enum multi_parallel { MULTI_HEADS = 0, MULTI_KV, MULTI_BOTH };

/* What one multi-GPU prediction adds to the single-GPU row. */
typedef struct multi_result {
    int gpus, parallel;     /* as asked */
    double per_gpu_us;      /* the single-GPU schedule on GPU 0's share */
    double gather_us;       /* partials into GPU 0 (kv only) */
    double merge_us;        /* the merge kernel on GPU 0 (kv only) */
    double link_bytes;      /* bytes received by GPU 0 over the interconnect */
    int head_ways, kv_ways; /* GPUs over the heads x GPUs over each KV (gpus = their product) */
} multi_result;

/* A single-GPU engine: sim_run (ctx = a sim_ctx) or the model (ctx unused). */
typedef int (*multi_engine)(void *ctx, const gpu_spec *g, const kernel_profile *k, const workload *w,
                            const plan_opts *o, sim_result *r, char *err, int errlen);

/* sim_run (no trace) as a multi_engine: ctx is the sim_ctx. */
int multi_sim_engine(void *ctx, const gpu_spec *g, const kernel_profile *k, const workload *w, const plan_opts *o,
                     sim_result *r, char *err, int errlen);

/* "heads", "kv" or "both" -> enum multi_parallel; -1 if none. */
int multi_parallel_parse(const char *s);
const char *multi_parallel_name(int p);

/*
 * GPU 0's share of workload w on `gpus` GPUs under parallelism `par` into
 * *share (w itself when gpus <= 1), and m's gpus, parallel, head_ways and
 * kv_ways (the rest 0).  Returns SIM_OK, or SIM_EPLAN with err naming the
 * input when w cannot be cut so (heads: the KV heads not a multiple of the
 * GPUs over the heads, named by --gpus, since the KV heads may come from
 * --kv-heads, --heads or --model; kv: a request whose shards, as
 * plan_kv_shard cuts them over the GPUs over its KV, leave a GPU none).
 */
int multi_share(const workload *w, int gpus, int par, workload *share, multi_result *m, char *err, int errlen);

/*
 * What the GPUs' gather and merge after GPU 0's share (multi_share's m)
 * cost, in us: with kv_ways > 1, the partials over the interconnect into
 * each group's first GPU and the merge kernel there; 0 otherwise.  Sets
 * m's gather_us, merge_us and link_bytes, and *merge_bytes (NULL: not
 * wanted) to the bytes the merge reads and writes.
 */
double multi_comm(const gpu_spec *g, const workload *w, multi_result *m, double *merge_bytes);

/*
 * Adds to r, the single-GPU result of GPU 0's share (multi_share), the
 * gather and merge after it (multi_comm) and the merge's bytes, and sets
 * m's per_gpu_us (r's time before).
 */
void multi_finish(const gpu_spec *g, const workload *w, multi_result *m, sim_result *r);

/*
 * Predicts workload w on `gpus` GPUs of chip g (each running kernel k with
 * options o) under parallelism `par`, with engine `run`.  Fills r (time_us:
 * the total; main_us: the per-GPU kernel time; combine_us: its combine
 * kernel; bytes: GPU 0's; time_lo/hi_us: the band on the per-GPU part) and
 * m.  gpus == 1 is the single-GPU prediction.  The kernel's limits (GQA
 * group, head dim, CTAs per SM: sim_resident_of) are checked on w itself
 * first, so that err names the workload asked, not GPU 0's share.  Returns
 * SIM_OK or the engine's status, SIM_EOCCUPANCY (the kernel does not run
 * w), SIM_EPLAN with err naming the input when the workload cannot be cut
 * so (multi_share), SIM_ENOMEM.
 * Thread-safe when the engine is (one ctx per thread).
 */
int multi_run(multi_engine run, void *ctx, const gpu_spec *g, const kernel_profile *k, const workload *w,
              const plan_opts *o, int gpus, int par, sim_result *r, multi_result *m, char *err, int errlen);

/*
 * Writes a Chrome trace-event document of multi_run's prediction m of w to
 * f: each GPU's kernels simulated on its own share as it is cut (the last
 * KV shard may be shorter), as processes "GPU g: main kernel" and "GPU g:
 * combine kernel", then a process per gathering GPU with its gather and
 * merge after its kernels.  Returns SIM_OK, or a status with err set.
 */
int multi_trace(sim_ctx *c, const gpu_spec *g, const kernel_profile *k, const workload *w, const plan_opts *o,
                const multi_result *m, FILE *f, char *err, int errlen);

#endif
