/*
 * trace.h: Chrome trace-event JSON output (opens in Perfetto and
 * chrome://tracing).  One process per kernel, one thread (track) per SM
 * slot, one complete ("X") slice per CTA phase.  Used by the simulator's
 * --trace and by the converter of measured CTA timelines, so that
 * simulated and measured timelines look alike.
 */
#ifndef LEANSIM_TRACE_H
#define LEANSIM_TRACE_H

#include <stdio.h>

#include "fmt.h"

/* A slice as a sink receives it (trace_begin_sink). */
typedef void (*trace_slice_fn)(void *arg, int pid, int tid, const char *name, double t0_ns, double t1_ns);

typedef struct trace_writer {
    FILE *f;            /* the JSON document, or NULL when slices go to fn */
    fmt_json j;         /* its writer */
    trace_slice_fn fn;  /* sink of slices (f NULL); track names are dropped */
    void *arg;          /* fn's first argument */
} trace_writer;

/* Starts a document on f. */
void trace_begin(trace_writer *t, FILE *f);
/* Starts a trace that hands each slice to fn(arg, ...) and writes nothing. */
void trace_begin_sink(trace_writer *t, trace_slice_fn fn, void *arg);
/* Names a process (kernel) or a thread (SM slot) track. */
void trace_name_process(trace_writer *t, int pid, const char *name);
void trace_name_thread(trace_writer *t, int pid, int tid, const char *name);
/* A slice [t0_ns, t1_ns) on track (pid, tid) with a name, a category and
 * integer args cta and unit (unit < 0 is left out). */
void trace_slice(trace_writer *t, int pid, int tid, const char *name, const char *cat, double t0_ns, double t1_ns,
                 int cta, int unit);
/* Ends the document; returns 0, or -1 if a write failed (a sink: 0). */
int trace_end(trace_writer *t);

/*
 * Converts a measured CTA timeline (CSV with header cta,sm,event,unit,t_ns,
 * after a provenance header of "# key=value" lines if any; events start,
 * seg_end, wait_begin, wait_end, end; `name` is its file name, which errors
 * and the process track "measured: NAME" carry) to a trace on out:
 * one track per SM and concurrent CTA, named "SM s slot j" as the
 * simulator's, and each phase named as the simulator names it (stream,
 * wait, merge, epilogue).
 * Returns 0, or -1 with "file:line: reason" in err.
 */
int trace_from_timeline(FILE *in, const char *name, FILE *out, char *err, int errlen);

#endif
