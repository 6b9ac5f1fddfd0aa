/*
 * opts.h: command-line options that describe a workload and a schedule.
 *
 * Shared by every front end that takes a workload (leansim simulate,
 * predict, tune, and the CUDA runner leanbench), so that the same flags mean
 * the same thing everywhere.  Depends on the C library and plan.h only.
 */
#ifndef LEANSIM_OPTS_H
#define LEANSIM_OPTS_H

#include <stdio.h>
#include "plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Workload and schedule as given on the command line. */
typedef struct wl_opts {
    workload wl;             /* the workload (ctx filled for every request) */
    plan_opts po;            /* planner options; po.kind unused, see sched_mask */
    unsigned sched_mask;     /* bit k set: schedule k asked for */
    int ctx_given;           /* --ctx seen */
    int batch_given;         /* --batch seen */
    int sched_given;         /* --schedule seen */
    char model[32];          /* --model preset, or "" */
    int n_ctx_list;          /* entries in the --ctx list */
    int64_t ctx_list[WL_MAX_BATCH];
} wl_opts;

/* Sets the defaults: batch 1, 32 heads, MHA, d=128, fp16, ctx 4096, all schedules. */
void wl_opts_init(wl_opts *o);

/*
 * Tries to parse argv[*i] (and its value) as a workload option.  Returns 1
 * and advances *i past what it used when it was one, 0 when argv[*i] is not a
 * workload option, -1 on a bad value (err holds "--opt VALUE: reason").
 */
int wl_opts_parse(wl_opts *o, int *i, int argc, char **argv, char *err, int errlen);

/*
 * Completes the workload after all options: expands a uniform --ctx to every
 * request, checks a ragged list against --batch, checks every size.
 * Returns 0, or -1 with err set.
 */
int wl_opts_finish(wl_opts *o, char *err, int errlen);

/*
 * The workload options as a table, in help order, for front ends with a
 * parser of their own: option k's long name ("--batch"), its value
 * ("N") and its help text (continuation lines start with a newline and
 * are indented for a 29-column left side).  NULL when k is out of range.
 */
int wl_opts_count(void);
const char *wl_opts_name(int k);
const char *wl_opts_arg(int k);
const char *wl_opts_text(int k);

/* Applies workload option k (table order) with value val.  Returns 0, or
 * -1 with err "--opt VALUE: reason". */
int wl_opts_set(wl_opts *o, int k, const char *val, char *err, int errlen);

/* Parses the value v of option `name` as an integer (k, m suffixes) in
 * [lo, hi]: every integer option of every front end goes through it.
 * Returns 0, or -1 with err "NAME V: reason". */
int opts_parse_int(const char *name, const char *v, int lo, int hi, int *out, char *err, int errlen);

/* Prints the workload options' help, one line each, to f. */
void wl_opts_help(FILE *f);

/* Parses a size: a non-negative integer with an optional k (x1024) or
 * m (x1048576) suffix.  Returns 0, or -1 when s is not such a number. */
int opts_parse_size(const char *s, int64_t *out);

/*
 * Parses option `name`'s value s, a comma-separated list of at most max
 * sizes each in [lo, hi] (`what` names them: "lengths"), into out.
 * Returns the count, or -1 with err naming the option, the bad entry (its
 * place and text, not the whole list) and the reason.
 */
int opts_size_list(const char *name, const char *s, int64_t *out, int max, int64_t lo, int64_t hi, const char *what,
                   char *err, int errlen);

#ifdef __cplusplus
}
#endif
#endif
