/*
 * runcsv.h: the columns of the kernel runner's CSV, defined once.
 *
 * build/leanbench writes these rows, experiments/peers/sdpa_peer.py writes
 * them for PyTorch's kernels, and `leansim ingest` (results store) reads
 * them.  All three take the list below: the C side through the X-macro,
 * the Python writers by reading this file (every line `X(name, since)` in
 * order; experiments/peers/runcsv.py).  tests/cli_runcsv.sh fails when a
 * writer's header differs from it.
 *
 * `since` is the format version that added the column.  Version 1 files
 * (every measurement committed before the requested-plan and knob columns)
 * have the columns of version 1 only, in this order; the ingester takes
 * both and stores what a version 1 file does not say as unknown (NULL).
 * New columns go last, so that a column's position never changes (the
 * scripts of kernels/run-on-gpu.sh read columns by position).
 *
 * Meaning of each column (units in the name where there is one):
 *   gpu .. date           provenance: device name, SMs used, driver, clocks,
 *                         compiler, commit (REV[-dirty]+kSUM, see
 *                         kernels/run-on-gpu.sh), UTC date of the run
 *   schedule .. ctx       the workload and schedule (ctx: a;b;c when ragged)
 *   block_n ctas splits   the plan built: tile length, CTAs, splits
 *   ctas_per_sm           resident CTAs per SM of the kernel (its occupancy)
 *   reps .. max_err       timing: median and p10/p90 per call, CUDA-graph
 *                         replay per call, KV bytes, bandwidth, error against
 *                         the CPU reference (empty or "unchecked": not checked)
 *   req_block_n .. req_cps  the plan options asked (0: the planner's default
 *                         rule), as plan_opts block_n, splits, grid, ctas_per_sm
 *   plan_cps              CTAs per SM the plan assumed (plan.ctas_per_sm)
 *   l2pf pdl rows_cap arena  run-time knobs of the launch: L2 prefetch hint
 *                         used (0/1), combine kernel as a programmatic
 *                         dependent launch (0/1), smallest row capacity
 *                         forced (0: the planner's), KV from one arena (0/1)
 *   build                 the kernels' build switches, key=value joined by ';'
 * Peer rows leave the plan and knob columns empty.
 */
#ifndef LEANSIM_RUNCSV_H
#define LEANSIM_RUNCSV_H

#define RUNCSV_VERSION 2

/* X(name, since): every column in file order. */
#define RUNCSV_COLUMNS(X) \
    X(gpu, 1) \
    X(sms, 1) \
    X(driver, 1) \
    X(sm_clock_mhz, 1) \
    X(mem_clock_mhz, 1) \
    X(nvcc, 1) \
    X(commit, 1) \
    X(date, 1) \
    X(schedule, 1) \
    X(batch, 1) \
    X(heads, 1) \
    X(kv_heads, 1) \
    X(head_dim, 1) \
    X(dtype, 1) \
    X(ctx, 1) \
    X(block_n, 1) \
    X(ctas, 1) \
    X(splits, 1) \
    X(ctas_per_sm, 1) \
    X(reps, 1) \
    X(time_us, 1) \
    X(time_p10_us, 1) \
    X(time_p90_us, 1) \
    X(graph_us, 1) \
    X(kv_bytes, 1) \
    X(bw_gbps, 1) \
    X(max_err, 1) \
    X(req_block_n, 2) \
    X(req_splits, 2) \
    X(req_grid, 2) \
    X(req_cps, 2) \
    X(plan_cps, 2) \
    X(l2pf, 2) \
    X(pdl, 2) \
    X(rows_cap, 2) \
    X(arena, 2) \
    X(build, 2)

/* Column indices: RUNCSV_gpu, ..., RUNCSV_COUNT. */
#define RUNCSV_ENUM_(name, since) RUNCSV_##name,
enum runcsv_col { RUNCSV_COLUMNS(RUNCSV_ENUM_) RUNCSV_COUNT };
#undef RUNCSV_ENUM_

/* The header line of the current version (no newline): RUNCSV_HEADER.
 * The string literal starts with a comma, skipped here. */
#define RUNCSV_HDR_(name, since) "," #name
#define RUNCSV_HEADER (RUNCSV_COLUMNS(RUNCSV_HDR_) + 1)

#endif
