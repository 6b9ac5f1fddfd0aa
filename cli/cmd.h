/*
 * cmd.h: the subcommands of the leansim CLI (floor 4: uses every folder
 * below, nothing uses it).  Each takes the arguments after its name
 * (argv[0] is the subcommand), parses them from its option table (args.h)
 * and returns the process exit code: 0 on success, 1 on a run-time
 * failure, 2 on bad input.
 */
#ifndef LEANSIM_CMD_H
#define LEANSIM_CMD_H

int cmd_gpus(int argc, char **argv);
int cmd_kernels(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_timeline(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);

#include "gpu.h"
#include "kprof.h"
#include "opts.h"
#include "out.h"

/* Options shared by the commands that run a workload (simulate, predict). */
typedef struct cli_run_opts {
    wl_opts wl;           /* workload and schedules */
    gpu_spec gpu;         /* --gpu (default h100) */
    kernel_profile kern;  /* --kernel (default leansim) */
    int fmt;              /* --format: enum out_format */
    const char *trace;    /* --trace FILE, or NULL */
    const char *policy;   /* --policy NAME, or NULL; a planner policy is applied to wl already, "tune" is not */
    int gpus;             /* --gpus N (default 1) */
    int parallel;         /* --parallel: enum multi_parallel (default heads) */
} cli_run_opts;

/*
 * Parses `leansim CMD` options into o from the workload's table and the run
 * table (cli.c); `what` is the line --help prints under the usage;
 * allow_trace adds --trace.  Returns -1 to go on, or an exit code: 0 after
 * --help, 2 after printing an error naming the option.
 */
int cli_parse_run(const char *cmd, const char *what, int argc, char **argv, cli_run_opts *o, int allow_trace);

/*
 * Runs engine e of model_engines (ctx: its context, NULL for the model) on
 * every schedule o asks for, over o->gpus GPUs, and prints the rows (with
 * the speedup over fa2, which runs for that even when not asked) in o->fmt.
 * Returns 0, or 2 after printing the engine's refusal as `leansim CMD: ...`.
 */
int cli_rows_run(const char *cmd, int e, void *ctx, const cli_run_opts *o);
#endif
