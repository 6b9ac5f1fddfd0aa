/*
 * model.h: the model/ folder's public header.
 *
 *  - model_predict: a closed form of every schedule the simulator has.  It
 *    costs the shared planner's shape of the plan (plan_shape_of: grid,
 *    splits, chunks, stream-K runs, segment and slot counts) without
 *    building the CTA list, each kernel in waves of concurrent CTAs with
 *    the simulator's GPU model (per-CTA rate min(in-flight / latency,
 *    compute floor), HBM shared fairly).
 *  - model_engines: the engines (simulator, closed form) behind one table.
 *  - tune_*: searching the schedule options for the fastest one per workload.
 *  - calib_*: fitting the spec fields no datasheet gives to measured rows
 *    it is handed (reading them from the database is results/'s).
 *
 * Floor 2: uses sim/ only.  Library functions return 0 or a negative status
 * and write a one-line reason naming the input into err[errlen]; the cli/
 * commands print it.
 */
#ifndef LEANSIM_MODEL_H
#define LEANSIM_MODEL_H

#include <stdint.h>
#include <stdio.h>

#include "gpu.h"
#include "plan.h"
#include "multi.h"
#include "sim.h"

/* ---------------------------------------------------------------- model */

/*
 * Predicts workload w under plan options o, run by the kernel of profile k
 * on chip g (options left 0 take the profile's), in closed form and
 * fills r like sim_run does (events, streamed_bytes, peak_gbps: 0).
 * Returns SIM_OK, SIM_EPLAN or SIM_EOCCUPANCY (the same cases and words
 * as sim_run: both refuse through sim_plan_shape) with a reason in err.
 * Thread-safe; allocates nothing.  CTAs, splits, combine CTAs and HBM bytes
 * are those of the plan sim_run builds, exactly.
 */
int model_predict(const gpu_spec *g, const kernel_profile *k, const workload *w, const plan_opts *o, sim_result *r,
                  char *err, int errlen);

/* The engines, by index (the engine column of rows and of the store is
 * the name). */
enum model_engine_id { MODEL_ENGINE_SIM = 0, MODEL_ENGINE_MODEL, MODEL_ENGINE_COUNT };

typedef struct model_engine {
    const char *name;   /* "sim", "model" */
    multi_engine run;   /* one prediction (multi.h): ctx is a sim_ctx for "sim", unused (NULL is fine) for "model" */
} model_engine;

/* The one table of engines: nothing above it chooses between them otherwise. */
extern const model_engine model_engines[MODEL_ENGINE_COUNT];

/* The engine named name ("sim", "model"), -1 if none. */
int model_engine_find(const char *name);

/* ----------------------------------------------------------------- tune */

/* What chose the tuner's winner among the simulated candidates. */
enum tune_rule {
    TUNE_RULE_FASTEST = 0,   /* the fastest simulated */
    TUNE_RULE_WHOLE,         /* a tie (within 0.5%): whole units in one wave before cut ones */
    TUNE_RULE_TILE,          /* a tie: the longest tile */
    TUNE_RULE_EVEN           /* a tie: the fastest ones spread one wave unevenly over the SMs */
};

/* One candidate of a tuning search and its predicted time. */
typedef struct tune_choice {
    int schedule, block_n, splits, grid, ctas_per_sm;   /* as asked of the planner (0: its default) */
    int ctas;                                          /* CTAs of the main kernel, as planned */
    double time_us, time_lo_us, time_hi_us;            /* simulated, and its 90% interval (sim_result_interval) */
    int rule;                                          /* enum tune_rule (the winner only) */
} tune_choice;

/* "fastest", "whole units in one wave", "longest tile" or "CTAs spread evenly over the SMs";
 * "?" for another value. */
const char *tune_rule_name(int rule);

/*
 * Searches the planner's space (plan_candidates) for workload w on chip g,
 * run by the kernel of profile k: every candidate by the closed-form model,
 * the most promising by the simulator, which decides.  Fills the best, the
 * runner-up (the best whose plan differs; time 0 when none) and the
 * candidates simulated.  Returns 0, or -1 when nothing ran.
 */
int tune_search(const gpu_spec *g, const kernel_profile *k, const workload *w, unsigned sched_mask, tune_choice *best,
                tune_choice *second, int *tried);

/* The planner's options that build choice t's plan (resident 0: the
 * caller's occupancy); splits only for the split schedule, where they are
 * asked. */
plan_opts tune_plan_opts(const tune_choice *t);

/* The most plans tune_shortlist returns. */
#define TUNE_SHORTLIST_MAX 8

/*
 * The tuner's shortlist for workload w: its winner (tune_search's best,
 * with the rule that chose it), then other plans by simulated time, each
 * kept only where its plan differs from every plan kept before it (another
 * CTA count, split count, or tile where a unit is cut; stream-K and
 * hybrid, or fa2 and one split, often build one plan).  list[1] is
 * tune_search's runner-up, from the candidates the winner was chosen
 * from; the ranks after it also from the closed form's 24 best candidates
 * (simulated only when max > 2), so that a longer list never changes its
 * first ranks.  Plans of every tile length under leansim's profile, of
 * the profile's own tile (its block_n, or the head dim's default) under
 * another kernel's, which is built at one.  What to time on the GPU when the winner's margin lies
 * inside the model's error.  Fills list[0 .. *n_list) with *n_list <=
 * min(max, TUNE_SHORTLIST_MAX), and *tried with the candidates simulated to
 * choose the winner.  Returns 0, or -1 when nothing ran or max < 1.
 */
int tune_shortlist(const gpu_spec *g, const kernel_profile *k, const workload *w, unsigned sched_mask,
                   tune_choice *list, int max, int *n_list, int *tried);

/*
 * The tuner's choice among n simulated candidates r: of those within
 * tie_frac of the fastest, the highest rank[j] (tune_rank; rank may be
 * NULL: all equal), then the longest tile; among equal tiles the fastest,
 * and at equal times (1e-6) the tile bn_default.  Returns its index, or -1
 * when n is 0; sets *rule (when not NULL) to the enum tune_rule that chose
 * it: fastest, whole (rank 2), even (a rank above the fastest's) or tile.
 */
int tune_tie_pick(const sim_result *r, const int *rank, int n, double tie_frac, int bn_default, int *rule);

/*
 * 1 when the simulated plan r has all its CTAs resident at once
 * (r->waves <= 1), more CTAs than the `sms` SMs, and the CTAs beyond the
 * last full layer of one per SM on at most TUNE_UNEVEN_MAX (0.75) of the SMs
 * (192 CTAs over 132 SMs: 60 SMs hold two, 72 one); else 0.
 */
int tune_uneven_wave(const sim_result *r, int sms);

/* A simulated plan's rank in a tie: 2 when it fills one wave with whole
 * units (tune_fills_wave), 0 when it spreads one wave unevenly
 * (tune_uneven_wave), else 1. */
int tune_rank(const sim_result *r, int sms);

/*
 * 1 when the simulated plan r (sim_run's result) cuts no unit (r->cut_units
 * is 0: fa2, split in one chunk, balanced or stream-K where the planner's
 * cuts fall on unit boundaries) and its CTAs fill one wave evenly on a GPU
 * of `sms` SMs: all resident at once (r->waves <= 1) and at least
 * TUNE_FILL_MIN of ceil(CTAs / sms) CTAs on every SM, on average, in a plan
 * simulated to take at most TUNE_WHOLE_MAX_US; else 0.
 */
int tune_fills_wave(const sim_result *r, int sms);

/* ---------------------------------------------------------------- calib */

/* Fields of gpu_spec that calibration can fit. */
enum calib_param {
    CALIB_BW = 0,        /* mem_bw_achievable_gbps */
    CALIB_INFLIGHT,      /* cta_inflight_bytes */
    CALIB_LAUNCH,        /* launch_us */
    CALIB_PROLOGUE,      /* cta_prologue_ns */
    CALIB_EPILOGUE,      /* cta_epilogue_ns */
    CALIB_PARTIAL,       /* partial_write_ns */
    CALIB_MERGE,         /* merge_round_ns */
    CALIB_GAP,           /* kernel_gap_us */
    CALIB_FP32_EFF,      /* fp32_eff */
    CALIB_TENSOR_EFF,    /* tensor_eff */
    CALIB_GRAPH_LAUNCH,  /* graph_launch_us */
    CALIB_SM_GBPS,       /* sm_gbps (kernel): needs rows on fewer SMs (calib_opts.sm_rows) */
    CALIB_CALL_EXTRA,    /* call_extra_us (kernel) */
    CALIB_INFLIGHT_TILES, /* inflight_tiles (kernel) */
    CALIB_SHARE_EXP,     /* mem_share_exp (chip) */
    CALIB_LOAD_QUEUE,    /* load_queue (kernel) */
    CALIB_STREAM_LOSS,   /* sm_stream_loss (kernel) */
    CALIB_HOST_ROUND,    /* host_round_ns (kernel) */
    CALIB_PDL_GAP,       /* pdl_gap_us (chip) */
    CALIB_FP32_ROW,      /* fp32_row_flops (kernel) */
    CALIB_FP32_KV,       /* fp32_kv_flops (kernel) */
    CALIB_ISSUE_FRAC,    /* fp32_issue_frac (kernel) */
    CALIB_OVERLAP_NORM,  /* fp32_overlap_norm (kernel) */
    CALIB_HOST_SETUP,    /* host_setup_ns (kernel) */
    CALIB_FLAG,          /* flag_latency_ns (kernel) */
    CALIB_PARTIAL_ROW,   /* partial_row_ns (kernel) */
    CALIB_TC_KV,         /* tc_kv_flops (kernel) */
    CALIB_SM_SHARE,      /* mem_sm_share_exp (chip): fitted alone, by a scan (calib_fit) */
    CALIB_COUNT
};
/* Fitted unless --params says otherwise: all but tensor_eff, which rows on
 * the whole GPU do not pin down (its tensor-core CTAs are bound by latency
 * or by HBM there, seldom by their SM). */
#define CALIB_DEFAULT_MASK \
    (((1u << CALIB_COUNT) - 1) & ~(1u << CALIB_TENSOR_EFF) & ~(1u << CALIB_GRAPH_LAUNCH) & ~(1u << CALIB_SM_GBPS) & \
     ~(1u << CALIB_CALL_EXTRA) & ~(1u << CALIB_INFLIGHT_TILES) & ~(1u << CALIB_SHARE_EXP) & \
     ~(1u << CALIB_LOAD_QUEUE) & ~(1u << CALIB_STREAM_LOSS) & ~(1u << CALIB_GAP) & ~(1u << CALIB_HOST_ROUND) & \
     ~(1u << CALIB_PDL_GAP) & ~(1u << CALIB_FP32_ROW) & ~(1u << CALIB_FP32_KV) & \
     ~(1u << CALIB_ISSUE_FRAC) & ~(1u << CALIB_OVERLAP_NORM) & ~(1u << CALIB_HOST_SETUP) & ~(1u << CALIB_FLAG) & \
     ~(1u << CALIB_PARTIAL_ROW) & ~(1u << CALIB_TC_KV) & ~(1u << CALIB_SM_SHARE))

/* A measured configuration. */
typedef struct calib_row {
    workload w;
    plan_opts po;
    double time_us;
    int graph;           /* 1: time_us is a CUDA-graph replay time (launch: the chip's graph_launch_us) */
    int sms;             /* SMs it ran on (0: the chip's) */
    int odd;             /* the configuration's half (report_row_heldout): 1 odd (test), 0 even (fit) */
} calib_row;

typedef struct calib_opts {
    unsigned mask;       /* parameters to fit (bits of enum calib_param) */
    double xtol, gtol, ftol;
    int maxiter;
    int holdout;         /* every holdout-th row is held out (0: none) */
    int half;            /* 0: every row; 1: fit the even half, hold out the odd (report_row_heldout) */
    int engine;          /* residuals from model_engines[engine] (enum model_engine_id; default the simulator) */
    FILE *progress;      /* NULL, or where each solver iteration says where the fit stands */
    int drop_unmoved;    /* 1: a field no fitted row's time moves with is left out (calib_result.unmoved);
                            0: it is refused by name */
} calib_opts;

typedef struct calib_result {
    double value[CALIB_COUNT];   /* fitted (or kept) values */
    double ci95[CALIB_COUNT];    /* half-width of the 95% interval (0: not fitted) */
    double covar[CALIB_COUNT][CALIB_COUNT]; /* covariance of the fitted log-parameters, chi^2 / dof scaled (0: not fitted) */
    double mape_before, mape_after;       /* fit rows, in percent */
    double mape_holdout_before, mape_holdout_after;
    int n_fit, n_holdout, iters, status;  /* status: GSL status of the solver */
    unsigned unmoved;            /* fields of the mask left out: no fitted row's time moves with them */
    int n_params;                /* parameters fitted (0: nothing, the bands only; the files' head says so) */
} calib_result;

/* 1 when rows[i] is held out of a fit and its bands (o->half: the odd
 * half; o->holdout: every holdout-th row), 0 when it is fitted. */
int calib_row_held(const calib_opts *o, const calib_row *rows, int i);

/* Name of a parameter (its key in the chip spec or the kernel profile). */
const char *calib_param_name(int p);
/* 1 when parameter p is a chip field, 0 when a kernel profile field. */
int calib_param_is_chip(int p);
/* Reads / writes parameter p of a chip spec and kernel profile pair. */
double calib_param_get(const gpu_spec *g, const kernel_profile *k, int p);
void calib_param_set(gpu_spec *g, kernel_profile *k, int p, double v);

/*
 * The 90% error band of chip g and kernel k on rows[n] (those with
 * odd == 0 when o->half, else all but every o->holdout-th): the 5th and
 * 95th percentiles of measured / predicted - 1, in percent, into *lo and
 * *hi, and into *coverage the fraction of the other rows (held out) that
 * fall inside it (NAN when none).  With band_lo and band_hi not NULL,
 * also each regime's band (enum kprof_band) from the same rows where the
 * regime has at least CALIB_BAND_MIN_ROWS of them (0 and 0 otherwise), and
 * *coverage counts a held-out row inside its regime's band.  Returns 0,
 * or -1 when no row runs.
 */
#define CALIB_BAND_MIN_ROWS 30
int calib_band(const gpu_spec *g, const kernel_profile *k, const calib_row *rows, int n, const calib_opts *o,
               double *lo, double *hi, double *band_lo, double *band_hi, double *coverage);

/*
 * Chip g's spread beyond profile k's band, on rows[n] measured on g with a
 * profile fitted on another chip's rows (the rows taken as calib_band
 * takes them): the 5th percentile over the rows of measured / predicted -
 * 1 less the lower bound of the row's regime band (kprof_band: k's alone,
 * g's own band_lo_pct and band_hi_pct ignored) into *lo (at most 0), the
 * 95th of it less the upper bound into *hi (at least 0), in percent; into
 * *coverage the share of the held-out rows inside the band so widened
 * (NAN when none).  Returns 0, or -1 when no row runs.
 */
int calib_chip_band(const gpu_spec *g, const kernel_profile *k, const calib_row *rows, int n, const calib_opts *o,
                    double *lo, double *hi, double *coverage);

/* The parameters fitted for an outside kernel's rows: its in-flight bytes,
 * prologue, per-call extra, partial write and merge (when it splits) and
 * the efficiency of its compute path; the chip stays as it is. */
unsigned calib_kernel_mask(const kernel_profile *k);
/* mask without the fields that are 0 on g and k (a fit in log space cannot
 * start from 0; mem_sm_share_exp, scanned, stays): what a default fit can
 * take. */
unsigned calib_mask_fittable(const gpu_spec *g, const kernel_profile *k, unsigned mask);

/* Defaults: the eight parameters that have an effect, GSL tolerances. */
void calib_opts_init(calib_opts *o);

/*
 * Fits the parameters in o->mask of chip g and kernel k (in place) to rows[n] with
 * gsl_multifit_nlinear (trust region, finite-difference Jacobian), parameters
 * in log space; residuals are relative time errors.  mem_sm_share_exp
 * (CALIB_SM_SHARE) is fitted alone, by a scan of its sum of squares over
 * 0..2 and a parabola through the best steps (gsl_multifit_linear), from
 * any start, 0 included.  A field no fitted row's time moves with at its
 * start (a ceiling above every row's rate, a cost no row pays) leaves the
 * solver a singular system: with o->drop_unmoved it is left out and set in
 * res->unmoved, else refused by name.  GSL's error handler is off during
 * the fit (its default aborts).  Returns 0, or -1 with err set (too few
 * rows, nothing identified, solver failure, mem_sm_share_exp asked beside
 * another parameter).
 */
int calib_fit(gpu_spec *g, kernel_profile *k, const calib_row *rows, int n, const calib_opts *o, calib_result *res,
              char *err, int errlen);

/*
 * Writes spec g as a spec file with every key, headed by comments saying it
 * was calibrated, from which rows, and the fit.  The text is parsed back
 * first: one that would not load (a fitted value outside the field's
 * range) is not written.  Written whole or not at all (fmt_file).  Returns
 * 0, or -1 with err naming the option, the file and the field.
 */
int calib_spec_write(const gpu_spec *g, const char *path, const calib_result *res, const char *from, char *err,
                     int errlen);
/*
 * Reads per-SM bandwidth microbenchmarks (leanbench --sm-bandwidth CSVs,
 * columns sms_used, gbps and gbps_per_sm; `paths` is one file or several
 * separated by commas, read as one) and returns in *plateau the most
 * one SM read on 32 SMs or fewer (where the chip's shared limits do not
 * bind), in *used the rows it looked at, and in *ceil the chip's read
 * ceiling by SM count (a gpu_spec's mem_bw_sms): the most each SM count
 * read, for the counts where that is below 90% of what their SMs read at
 * the plateau (a shared limit binds, not the SMs'); none when fewer than
 * two counts are so.  A row whose gpu column gpu_map (driver name to spec
 * name; NULL: not checked) maps to a spec other than `gpu` is refused, as
 * are an empty file and one with no rows.  Returns 0, or -1 with err
 * naming the file (and the line).
 */
int calib_sm_bandwidth(const char *paths, const char *gpu, const char *(*gpu_map)(const char *), double *plateau,
                       int *used, specfile_pairs *ceil, char *err, int errlen);

/* The same for a kernel profile (every key, fitted ones with their interval). */
int calib_kernel_write(const kernel_profile *k, const char *path, const calib_result *res, const char *from,
                       char *err, int errlen);

#endif
