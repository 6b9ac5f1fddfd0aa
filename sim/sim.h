/*
 * sim.h: the discrete-event simulator of decode attention on a GPU.
 *
 * sim_run plans a workload with the shared planner (plan.h), lowers every
 * CTA of the plan to a short program of operations (fixed delays, streams of
 * HBM bytes, partial writes, flag signals and waits) and runs the programs
 * on a model of the GPU in the event engine (engine.h): SMs with
 * resident-CTA slots, HBM shared max-min fairly among streaming CTAs, each
 * capped by what it keeps in flight and by its compute floor.  Its costs,
 * which the closed form shares, are declared in cost.h.
 */
#ifndef LEANSIM_SIM_H
#define LEANSIM_SIM_H

#include <stdint.h>
#include <stdio.h>

#include "gpu.h"
#include "kprof.h"
#include "plan.h"
#include "trace.h"

/* One prediction (the simulator's or the model's): the columns of a row. */
typedef struct sim_result {
    int schedule;          /* enum sched_kind */
    int block_n;           /* KV tile length */
    int ctas;              /* CTAs of the main kernel (the grid for streamk) */
    int splits;            /* split: chunks per unit; else 0 */
    int ctas_per_sm;       /* CTAs of this kernel resident per SM */
    int combine_ctas;      /* CTAs of the combine kernel (0 when none) */
    int cut_units;         /* units the plan cuts into more than one part (simulator; 0 from the model) */
    double time_us;        /* launch to last output written */
    double main_us;        /* main kernel, launch included */
    double combine_us;     /* combine kernel (0 when none) */
    double hbm_bytes;      /* all bytes moved through HBM */
    double kv_bytes;       /* K and V bytes read */
    double bw_gbps;        /* hbm_bytes / time */
    double waves;          /* CTAs over resident slots */
    double sm_busy;        /* fraction of SM time with a CTA resident (main kernel) */
    double wait_us;        /* host-CTA waiting, summed over CTAs */
    double sol_us;         /* speed of light: (KV + Q + O bytes) / achievable bandwidth */
    double speedup_vs_fa2; /* fa2's time over this one (0 when unknown) */
    double time_lo_us, time_hi_us; /* 90% interval of time_us: the profile's error band */
    int64_t events;        /* engine events processed */
    double streamed_bytes; /* bytes the HBM link served (engine check: equals the bytes streamed) */
    double peak_gbps;      /* highest total HBM rate during the run (engine check: <= bandwidth) */
    int64_t backwards;     /* events that went back in time (engine check: 0) */
} sim_result;

typedef struct sim_ctx sim_ctx;

/* Reusable state (plan and engine buffers): one per thread.  NULL on OOM. */
sim_ctx *sim_ctx_alloc(void);
void sim_ctx_free(sim_ctx *c);

/* Status codes of sim_run. */
enum sim_status { SIM_OK = 0, SIM_EPLAN, SIM_EOCCUPANCY, SIM_ENOMEM };

/*
 * Simulates workload w under plan options o, run by the kernel of profile
 * k on chip g (options left 0 take the profile's: kprof_plan_opts).  Fills
 * r.  When trace is not NULL, writes a Chrome trace-event JSON document to
 * it.  Returns SIM_OK, or a status with a reason in err[errlen].
 */
int sim_run(sim_ctx *c, const gpu_spec *g, const kernel_profile *k, const workload *w, const plan_opts *o,
            sim_result *r, FILE *trace, char *err, int errlen);

/* As sim_run, with the CTA slices written into an open trace document tw
 * (NULL: none) as processes pid (main kernel) and pid + 1 (combine
 * kernel), their names prefixed with `name` (e.g. "GPU 1: "). */
int sim_run_into(sim_ctx *c, const gpu_spec *g, const kernel_profile *k, const workload *w, const plan_opts *o,
                 sim_result *r, trace_writer *tw, int pid, const char *name, char *err, int errlen);

/* The plan of the last successful sim_run on c (owned by c). */
const plan *sim_ctx_plan(const sim_ctx *c);

/*
 * The plan shape of workload w under options o (kprof_plan_opts applied)
 * on chip g with `res` resident CTAs per SM (sim_resident_of): plan_shape_of,
 * with the reason of a refusal in err, the same words for both engines.
 * Returns SIM_OK or SIM_EPLAN.
 */
int sim_plan_shape(const gpu_spec *g, const workload *w, const plan_opts *o, int res, plan_shape *s, char *err,
                   int errlen);

/* What both engines settle before costing a run. */
typedef struct sim_start {
    plan_opts o;          /* the options asked, the profile's applied (kprof_plan_opts) */
    int res;              /* resident CTAs per SM (sim_resident_of) */
    plan_shape s;         /* the plan's shape (sim_plan_shape) */
    int single;           /* 1: the library runs another kernel at one split: cost k1 under o1 instead */
    kernel_profile k1;
    plan_opts o1;
} sim_start;

/*
 * The start of a run of either engine: checks w, applies profile k's plan
 * options to o, finds the residency and the plan's shape, and whether the
 * library runs another kernel at one split (kprof_single_split).  Returns
 * SIM_OK, or a status with the reason in err (the same for both engines).
 */
int sim_start_of(const gpu_spec *g, const kernel_profile *k, const workload *w, const plan_opts *o, sim_start *st,
                 char *err, int errlen);

/* The 90% band (percent, of measured / predicted - 1) of schedule sched
 * (enum sched_kind) for w on chip g under profile k: k's band of the
 * regime (kprof_band_of: the schedule, w's GQA group and head dim; with
 * closed_form, the closed-form model's band), widened by g's band_lo_pct
 * and band_hi_pct, or by g's band_kernel entry of k's name where it has one. */
void sim_band(const gpu_spec *g, const kernel_profile *k, int sched, const workload *w, int closed_form,
              double *lo_pct, double *hi_pct);

/* Sets r's 90% interval (time_lo_us, time_hi_us) around r->time_us from
 * sim_band of r's schedule (closed_form: r is the closed-form model's). */
void sim_result_interval(sim_result *r, const gpu_spec *g, const kernel_profile *k, const workload *w,
                         int closed_form);

/* CTAs of profile k's main kernel resident per SM on g for workload w and
 * tile length block_n (0: the profile's), from its resources; 0 if none fit. */
int sim_resident_per_sm(const gpu_spec *g, const kernel_profile *k, const workload *w, int block_n);

/* Resident CTAs per SM a run of options o assumes: o->resident, else the
 * kernel's occupancy, as the kernel runner has it.  Refused first, whatever
 * o->resident: a shape the kernel does not run (kprof_workload_check: its
 * GQA group above max_group); then o->ctas_per_sm (the CTAs per SM the plan
 * is cut for) above the occupancy, as the runner refuses it.  Returns it,
 * or 0 with a reason naming the cause in err. */
int sim_resident_of(const gpu_spec *g, const kernel_profile *k, const workload *w, const plan_opts *o, char *err,
                    int errlen);

/*
 * sim_run with the timeline handed to fn slice by slice instead of written
 * as a document: kernel 0 (main) or 1 (combine), the SM and its resident
 * slot, the phase (stream, wait, merge, epilogue, ...) and its span from
 * the launch, in ns.  Same results and return codes as sim_run.
 */
typedef void (*sim_slice_fn)(void *arg, int kernel, int sm, int slot, const char *phase, double t0_ns, double t1_ns);
int sim_run_slices(sim_ctx *c, const gpu_spec *g, const kernel_profile *k, const workload *w, const plan_opts *o,
                   sim_result *r, sim_slice_fn fn, void *arg, char *err, int errlen);

#endif
