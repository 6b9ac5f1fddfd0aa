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
 * Measured CTA timelines (leanbench --timeline): a CSV with header
 * cta,sm,event,unit,t_ns after a provenance header of "# key=value" lines
 * if any; events start, seg_end, wait_begin, wait_end, end.  One reader,
 * used by `leansim timeline` (to a trace) and by `leansim export timeline`.
 */
enum trace_tl_kind { TRACE_EV_START, TRACE_EV_SEG_END, TRACE_EV_WAIT_BEGIN, TRACE_EV_WAIT_END, TRACE_EV_END };
enum trace_status { TRACE_OK = 0, TRACE_EINPUT = -1, TRACE_ENOMEM = -2, TRACE_EIO = -3 };

#define TRACE_MAX_SM 1024   /* SM ids a timeline may hold */
#define TRACE_SLOTS 64      /* concurrent CTAs per SM a track is kept for */

typedef struct trace_tl_event {
    int cta, sm, unit;      /* unit: the column as written (-1: none) */
    int kind;               /* enum trace_tl_kind */
    int line;               /* in the file, for errors */
    int prev;               /* index of the CTA's previous event; -1 for its start */
    double t_ns;
} trace_tl_event;

typedef struct trace_tl_cta {
    int cta, sm;
    int slot;               /* on its SM, the lowest free at its start (the "SM s slot j" track) */
    double t0_ns, t1_ns;    /* its start and its last event */
    int last_ev;            /* index of its last event */
} trace_tl_cta;

typedef struct trace_timeline {
    int n_ev;
    trace_tl_event *ev;     /* in file order */
    int n_cta;
    trace_tl_cta *cta;      /* in the order of their starts in the file */
    int *cta_of;            /* CTA id -> index in cta */
    char *header;           /* the provenance lines, '#' kept, each ending in '\n'; NULL when none */
} trace_timeline;

/*
 * Reads and checks the timeline on in (`name`: its file name, for errors)
 * into tl (owned: trace_timeline_free).  Returns TRACE_OK; TRACE_EINPUT
 * with "file:line: reason" in err (a bad header, row, event, CTA or order;
 * an unreadable file); or TRACE_ENOMEM ("file: out of memory").  On
 * failure tl holds nothing.
 */
int trace_timeline_read(trace_timeline *tl, FILE *in, const char *name, char *err, int errlen);
void trace_timeline_free(trace_timeline *tl);

/* The phase event i closes, named as the simulator names it (stream, wait,
 * merge, epilogue), from the CTA's previous event ev[i].prev; NULL for a start. */
const char *trace_timeline_phase(const trace_timeline *tl, int i);

/*
 * Writes tl as a trace on out: one track per SM and concurrent CTA, named
 * "SM s slot j" as the simulator's, one slice per phase, the process track
 * "measured: NAME".  Returns TRACE_OK, TRACE_EIO (a write failed) or
 * TRACE_ENOMEM.
 */
int trace_timeline_write(const trace_timeline *tl, const char *name, FILE *out);

#endif
