/*
 * cost.h: the GPU model's costs, the one place the simulator (sim.c, which
 * implements them) and the closed-form model (model/model.c) take the price
 * of a CTA's bytes, a partial state and a merge from.
 */
#ifndef LEANSIM_COST_H
#define LEANSIM_COST_H

#include "gpu.h"
#include "kprof.h"
#include "plan.h"

/*
 * The GPU model's costs, shared with the closed-form model:
 * sim_cta_rate: bytes per ns one decode CTA streams (memory time per byte,
 *   latency over bytes in flight, plus its compute time per byte: the
 *   tensor-core path's mma and its work per token, or the CUDA-core path's
 *   FP32 operations), with
 *   rows query heads per unit, tile length block_n, ctas_on_sm CTAs sharing
 *   its SM;
 * sim_cta_demand: bytes per ns the same CTA asks of the memory system, by
 *   which the link shares its bandwidth (and its queueing softens): on the
 *   CUDA-core path with overlap (fp32_overlap_norm > 1) its bytes in flight
 *   over the latency, within the SM's limits, its compute capping it apart
 *   (sim_cta_rate as a hard ceiling); elsewhere sim_cta_rate itself;
 * sim_load_latency: the wait of a segment's first load of idle latency
 *   lat_ns when the memory link serves a new stream at `rate` bytes per ns
 *   below the CTA's cap: the other streams' requests queue ahead of it
 *   (Little's law: bytes in flight over rate), of which the profile's
 *   load_queue share counts;
 * sim_stream_eff: the share of the chip's achievable bandwidth a kernel's
 *   streams get with ctas_on_sm of them on each SM (its sm_stream_loss;
 *   1 at two per SM);
 * sim_partial_bytes: one partial state, rows x (head_dim + 1) fp32 values;
 * sim_partial_write_ns: a CTA writing one partial state and fencing it:
 *   the profile's partial_write_ns, plus its partial_row_ns for each row of
 *   the kernel instance's row capacity (plan_kernel_cap of rows, head_dim);
 * sim_host_merge_rounds: dependent rounds of partial loads of a stream-K
 *   host merging `peers` partials (kernels/decode.cuh: the CTA's threads
 *   sweep rows x head_dim outputs, PLAN_MERGE_BATCH peers per load round);
 * sim_combine_rounds: the same for a combine CTA merging `parts` partials
 *   (merge_unit: a log-sum-exp pass per row over a warp, then float4
 *   outputs, threads left over splitting the parts);
 * sim_combine_res: the combine kernel's resources, sim_combine_resident its
 *   CTAs resident per SM on g (at least 1).
 * Each round costs the kernel profile's merge_round_ns (a host's round:
 * sim_host_round_ns, its host_round_ns where set).
 * sim_host_merge_ns: a stream-K host's merge of `peers` partials, from the
 *   end of its wait: the profile's host_setup_ns, then its rounds (0 for
 *   no peers).
 * sim_combine_gap_ns: from the main kernel's last CTA ending to the combine
 *   kernel's CTAs starting their work: the chip's pdl_gap_us when the
 *   profile launches its combine kernel as a programmatic dependent, else
 *   its kernel_gap_us.
 */
double sim_cta_rate(const gpu_spec *g, const kernel_profile *k, const workload *w, int rows, int block_n,
                    int ctas_on_sm);
double sim_cta_demand(const gpu_spec *g, const kernel_profile *k, const workload *w, int rows, int block_n,
                      int ctas_on_sm);
double sim_load_latency(double lat_ns, double load_queue, double cap, double rate);
double sim_stream_eff(double stream_loss, int ctas_on_sm);
double sim_partial_bytes(const workload *w, int rows);
double sim_partial_write_ns(const kernel_profile *k, int rows, int head_dim);
double sim_host_merge_rounds(int rows, int head_dim, int peers);
double sim_combine_rounds(int rows, int head_dim, int parts);
double sim_host_round_ns(const kernel_profile *k);
double sim_host_merge_ns(const kernel_profile *k, int rows, int head_dim, int peers);
double sim_combine_gap_ns(const gpu_spec *g, const kernel_profile *k);
extern const kernel_res sim_combine_res;
int sim_combine_resident(const gpu_spec *g);

/* Speed of light of workload w under kernel k on chip g (us): its KV, Q and
 * O bytes at the most the memory link carries for k, the chip's achievable
 * bandwidth times k's stream efficiency at one CTA per SM (sim_stream_eff,
 * above 1 when sm_stream_loss > 0): no prediction of either engine is below it. */
double sim_sol_us(const gpu_spec *g, const kernel_profile *k, const workload *w);

/* KV bytes of a workload: 2 (K and V) x tokens x kv_heads x head_dim x dtype. */
double sim_kv_bytes(const workload *w);

#endif
