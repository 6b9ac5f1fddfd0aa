/*
 * trace.c: Chrome trace-event JSON writer and timeline converter (trace.h).
 */
#include "trace.h"

#include <math.h>

#include <stdlib.h>
#include <string.h>

void trace_begin(trace_writer *t, FILE *f)
{
    t->f = f;
    t->fn = NULL;
    t->arg = NULL;
    /* one event a line: the events array breaks lines, nothing is indented */
    fmt_json_init(&t->j, f, 1u << 2, 0, 0);
    fmt_json_obj(&t->j, NULL);
    fmt_json_str(&t->j, "displayTimeUnit", "ns");
    fmt_json_arr(&t->j, "traceEvents");
}

void trace_begin_sink(trace_writer *t, trace_slice_fn fn, void *arg)
{
    t->f = NULL;
    t->fn = fn;
    t->arg = arg;
}

/* A metadata event: {"ph":"M","name":what,"pid":pid[,"tid":tid],"args":{key:...}}. */
static void meta(trace_writer *t, const char *what, int pid, int tid)
{
    fmt_json_obj(&t->j, NULL);
    fmt_json_str(&t->j, "ph", "M");
    fmt_json_str(&t->j, "name", what);
    fmt_json_int(&t->j, "pid", pid);
    if (tid >= 0) fmt_json_int(&t->j, "tid", tid);
    fmt_json_obj(&t->j, "args");
}

void trace_name_process(trace_writer *t, int pid, const char *name)
{
    if (!t->f) return;
    meta(t, "process_name", pid, -1);
    fmt_json_str(&t->j, "name", name);
    fmt_json_close(&t->j);
    fmt_json_close(&t->j);
}

void trace_name_thread(trace_writer *t, int pid, int tid, const char *name)
{
    if (!t->f) return;
    meta(t, "thread_name", pid, tid);
    fmt_json_str(&t->j, "name", name);
    fmt_json_close(&t->j);
    fmt_json_close(&t->j);
    meta(t, "thread_sort_index", pid, tid);
    fmt_json_int(&t->j, "sort_index", tid);
    fmt_json_close(&t->j);
    fmt_json_close(&t->j);
}

void trace_slice(trace_writer *t, int pid, int tid, const char *name, const char *cat, double t0_ns, double t1_ns,
                 int cta, int unit)
{
    if (!t->f) {
        t->fn(t->arg, pid, tid, name, t0_ns, t1_ns);
        return;
    }
    fmt_json *j = &t->j;
    fmt_json_obj(j, NULL);
    fmt_json_str(j, "ph", "X");
    fmt_json_int(j, "pid", pid);
    fmt_json_int(j, "tid", tid);
    fmt_json_str(j, "name", name);
    fmt_json_str(j, "cat", cat);
    fmt_json_num(j, "ts", t0_ns / 1000.0, 3);
    fmt_json_num(j, "dur", (t1_ns - t0_ns) / 1000.0, 3);
    fmt_json_obj(j, "args");
    fmt_json_int(j, "cta", cta);
    if (unit >= 0) fmt_json_int(j, "unit", unit);
    fmt_json_close(j);
    fmt_json_close(j);
}

int trace_end(trace_writer *t)
{
    if (!t->f) return 0;
    return fmt_json_end(&t->j);
}

/* One event of a measured timeline. */
typedef struct tl_ev {
    int cta, sm, unit, kind;   /* kind: index in tl_kinds */
    int line;                  /* in the file, for errors */
    double t;
} tl_ev;

static const char *tl_kinds[] = {"start", "seg_end", "wait_begin", "wait_end", "end"};
enum { EV_START, EV_SEG_END, EV_WAIT_BEGIN, EV_WAIT_END, EV_END };

/* A CTA's span and its track (SM, slot). */
typedef struct tl_span {
    int cta, sm, slot;
    double t0, t1;
} tl_span;

static int span_cmp(const void *a, const void *b)
{
    const tl_span *x = a, *y = b;
    if (x->t0 != y->t0) return x->t0 < y->t0 ? -1 : 1;
    return (x->cta > y->cta) - (x->cta < y->cta);
}

#define TL_SLOTS 64   /* concurrent CTAs per SM a track is kept for */

int trace_from_timeline(FILE *in, const char *name, FILE *out, char *err, int errlen)
{
    char line[512];
    int lineno = 0, n = 0, cap = 0, max_cta = -1;
    tl_ev *ev = NULL;
    tl_span *sp = NULL;
    int *span_of = NULL, *last = NULL;
    trace_writer t;
    int rc = -1;
    /* a provenance header of "# key=value" lines (leanbench) comes first */
    int got;
    while ((got = fgets(line, sizeof line, in) != NULL) && line[0] == '#') lineno++;
    lineno++;
    if (!got || strncmp(line, "cta,sm,event,unit,t_ns", 22) != 0) {
        snprintf(err, (size_t)errlen, "%s:%d: expected header 'cta,sm,event,unit,t_ns'", name, lineno);
        return -1;
    }
    /* pass 1: every event (memory bounded by the file's size) */
    while (fgets(line, sizeof line, in)) {
        lineno++;
        int cta, sm, unit, k;
        char evn[32];
        double tn;
        if (line[0] == '\n') continue;
        /* CTA ids come in order (the runner writes CTA by CTA, two events or more each): an id far
         * beyond the rows read is a bad row */
        if (sscanf(line, "%d,%d,%31[a-z_],%d,%lf", &cta, &sm, evn, &unit, &tn) != 5 || cta < 0 ||
            cta > lineno + 1024 || sm < 0 || sm >= 1024 || !isfinite(tn)) {
            snprintf(err, (size_t)errlen, "%s:%d: bad row >>> '%.*s'", name, lineno, (int)strcspn(line, "\n"), line);
            goto out;
        }
        for (k = 0; k < 5 && strcmp(evn, tl_kinds[k]); k++) {}
        if (k == 5) {
            snprintf(err, (size_t)errlen, "%s:%d: unknown event '%s'", name, lineno, evn);
            goto out;
        }
        if (n == cap) {
            int nc = cap ? 2 * cap : 1024;
            tl_ev *ne = realloc(ev, (size_t)nc * sizeof *ev);
            if (!ne) {
                snprintf(err, (size_t)errlen, "%s: out of memory", name);
                goto out;
            }
            ev = ne;
            cap = nc;
        }
        ev[n++] = (tl_ev){cta, sm, unit, k, lineno, tn};
        if (cta > max_cta) max_cta = cta;
    }
    /* each CTA's span: its start to its last event */
    span_of = malloc(sizeof *span_of * (size_t)(max_cta + 2));
    sp = malloc(sizeof *sp * (size_t)(max_cta + 2));
    if (!span_of || !sp) {
        snprintf(err, (size_t)errlen, "%s: out of memory", name);
        goto out;
    }
    for (int i = 0; i <= max_cta; i++) span_of[i] = -1;
    int ns = 0;
    for (int i = 0; i < n; i++) {
        int c = ev[i].cta;
        if (ev[i].kind == EV_START) {
            if (span_of[c] >= 0) {
                snprintf(err, (size_t)errlen, "%s:%d: CTA %d starts twice", name, ev[i].line, c);
                goto out;
            }
            span_of[c] = ns;
            sp[ns++] = (tl_span){c, ev[i].sm, 0, ev[i].t, ev[i].t};
        } else if (span_of[c] < 0) {
            snprintf(err, (size_t)errlen, "%s:%d: event '%s' of CTA %d before its start", name, ev[i].line,
                     tl_kinds[ev[i].kind], c);
            goto out;
        } else if (ev[i].t < sp[span_of[c]].t1) {   /* a CTA's events come in time order */
            snprintf(err, (size_t)errlen, "%s:%d: event '%s' of CTA %d at %.0f ns, before its previous one (%.0f ns)",
                     name, ev[i].line, tl_kinds[ev[i].kind], c, ev[i].t, sp[span_of[c]].t1);
            goto out;
        } else {
            sp[span_of[c]].t1 = ev[i].t;
        }
    }
    if (ns == 0) {
        snprintf(err, (size_t)errlen, "%s:%d: no CTA in the timeline", name, lineno);
        goto out;
    }
    /* tracks: on each SM, a CTA takes the lowest slot free at its start, as the
     * simulator's "SM s slot j" tracks */
    tl_span *by_start = malloc(sizeof *by_start * (size_t)(ns ? ns : 1));
    double (*slot_end)[TL_SLOTS] = calloc(1024, sizeof *slot_end);
    unsigned char (*named)[TL_SLOTS] = calloc(1024, sizeof *named);
    if (!by_start || !slot_end || !named) {
        free(by_start);
        free(slot_end);
        free(named);
        snprintf(err, (size_t)errlen, "%s: out of memory", name);
        goto out;
    }
    memcpy(by_start, sp, sizeof *sp * (size_t)ns);
    qsort(by_start, (size_t)ns, sizeof *by_start, span_cmp);
    for (int i = 0; i < 1024; i++)
        for (int j = 0; j < TL_SLOTS; j++) slot_end[i][j] = -INFINITY;
    for (int i = 0; i < ns; i++) {
        tl_span *b = &by_start[i];
        int j = 0;
        while (j < TL_SLOTS - 1 && slot_end[b->sm][j] > b->t0) j++;
        slot_end[b->sm][j] = b->t1;
        sp[span_of[b->cta]].slot = j;
    }
    free(by_start);
    free(slot_end);
    /* pass 2: slices named as the simulator names its phases */
    trace_begin(&t, out);
    {
        char pname[512];   /* the track group names the file it came from */
        snprintf(pname, sizeof pname, "measured: %s", name);
        trace_name_process(&t, 0, pname);
    }
    for (int i = 0; i < ns; i++) {
        int sm = sp[i].sm, j = sp[i].slot;
        if (!named[sm][j]) {
            char buf[48];
            snprintf(buf, sizeof buf, "SM %d slot %d", sm, j);
            trace_name_thread(&t, 0, sm * TL_SLOTS + j, buf);
            named[sm][j] = 1;
        }
    }
    free(named);
    /* each CTA's previous event */
    last = malloc(sizeof *last * (size_t)(max_cta + 2));
    if (!last) {
        snprintf(err, (size_t)errlen, "%s: out of memory", name);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        int c = ev[i].cta;
        const tl_span *s = &sp[span_of[c]];
        if (ev[i].kind == EV_START) {
            last[c] = i;
            continue;
        }
        int prev = last[c];
        last[c] = i;
        /* the phase that ends at this event: streaming (its tiles, then its partial or output),
         * the host's wait for its peers, the merge after it, the CTA's end */
        const char *label = ev[i].kind == EV_WAIT_END                                   ? "wait"
                            : ev[i].kind == EV_END                                      ? "epilogue"
                            : ev[i].kind == EV_SEG_END && ev[prev].kind == EV_WAIT_END  ? "merge"
                                                                                        : "stream";
        trace_slice(&t, 0, s->sm * TL_SLOTS + s->slot, label, label, ev[prev].t, ev[i].t, c, ev[i].unit);
    }
    rc = trace_end(&t);
out:
    free(ev);
    free(sp);
    free(span_of);
    free(last);
    return rc;
}
