/*
 * trace.c: Chrome trace-event JSON writer and timeline converter (trace.h).
 */
#include "trace.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

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

static const char *tl_kinds[] = {"start", "seg_end", "wait_begin", "wait_end", "end"};

static int span_cmp(const void *a, const void *b)
{
    const trace_tl_cta *x = a, *y = b;
    if (x->t0_ns != y->t0_ns) return x->t0_ns < y->t0_ns ? -1 : 1;
    return (x->cta > y->cta) - (x->cta < y->cta);
}

void trace_timeline_free(trace_timeline *tl)
{
    free(tl->ev);
    free(tl->cta);
    free(tl->cta_of);
    free(tl->header);
    memset(tl, 0, sizeof *tl);
}

/* Appends the text of a provenance line to tl->header; 0 or -1 (out of memory). */
static int header_add(trace_timeline *tl, size_t *len, const char *line, size_t n)
{
    char *h = realloc(tl->header, *len + n + 2);
    if (!h) return -1;
    memcpy(h + *len, line, n);
    *len += n;
    h[(*len)++] = '\n';
    h[*len] = 0;
    tl->header = h;
    return 0;
}

int trace_timeline_read(trace_timeline *tl, FILE *in, const char *name, char *err, int errlen)
{
    char *line = NULL;
    size_t linecap = 0, hlen = 0;
    ssize_t got;
    int lineno = 0, cap = 0, max_cta = -1, rc = TRACE_EINPUT;
    memset(tl, 0, sizeof *tl);
    /* a provenance header of "# key=value" lines (leanbench) comes first */
    while ((got = getline(&line, &linecap, in)) >= 0 && line[0] == '#') {
        lineno++;
        if (header_add(tl, &hlen, line, strcspn(line, "\r\n"))) goto oom;
    }
    lineno++;
    if (got < 0 && ferror(in)) {
        snprintf(err, (size_t)errlen, "%s: cannot read: %s", name, strerror(errno));
        goto out;
    }
    if (got >= 0) line[strcspn(line, "\r\n")] = 0;   /* CRLF files read as LF ones */
    if (got < 0 || strcmp(line, "cta,sm,event,unit,t_ns") != 0) {
        snprintf(err, (size_t)errlen, "%s:%d: expected header 'cta,sm,event,unit,t_ns'", name, lineno);
        goto out;
    }
    /* every event (memory bounded by the file's size) */
    while ((got = getline(&line, &linecap, in)) >= 0) {
        lineno++;
        int cta, sm, unit, k, used = -1;
        char evn[32];
        double tn;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        /* five fields and nothing after them; CTA ids come in order (the runner writes CTA by CTA, two
         * events or more each): an id far beyond the rows read is a bad row */
        if (sscanf(line, "%d,%d,%31[a-z_],%d,%lf%n", &cta, &sm, evn, &unit, &tn, &used) != 5 || used < 0 ||
            line[used] || cta < 0 || cta > lineno + 1024 || sm < 0 || sm >= TRACE_MAX_SM || !isfinite(tn)) {
            snprintf(err, (size_t)errlen, "%s:%d: bad row >>> '%.200s'", name, lineno, line);
            goto out;
        }
        for (k = 0; k < 5 && strcmp(evn, tl_kinds[k]); k++) {}
        if (k == 5) {
            snprintf(err, (size_t)errlen, "%s:%d: unknown event '%s'", name, lineno, evn);
            goto out;
        }
        if (tl->n_ev == cap) {
            int nc = cap ? 2 * cap : 1024;
            trace_tl_event *ne = realloc(tl->ev, (size_t)nc * sizeof *ne);
            if (!ne) goto oom;
            tl->ev = ne;
            cap = nc;
        }
        tl->ev[tl->n_ev++] = (trace_tl_event){cta, sm, unit, k, lineno, -1, tn};
        if (cta > max_cta) max_cta = cta;
    }
    if (ferror(in)) {
        snprintf(err, (size_t)errlen, "%s: cannot read: %s", name, strerror(errno));
        goto out;
    }
    /* each CTA's span: its start to its last event */
    tl->cta_of = malloc(sizeof *tl->cta_of * (size_t)(max_cta + 2));
    tl->cta = malloc(sizeof *tl->cta * (size_t)(max_cta + 2));
    if (!tl->cta_of || !tl->cta) goto oom;
    int *last = tl->cta_of;   /* while reading: each CTA's span; its last event is the span's */
    for (int i = 0; i <= max_cta; i++) last[i] = -1;
    int ns = 0;
    for (int i = 0; i < tl->n_ev; i++) {
        trace_tl_event *e = &tl->ev[i];
        int c = e->cta;
        trace_tl_cta *sp = last[c] >= 0 ? &tl->cta[last[c]] : NULL;
        if (e->kind == TRACE_EV_START) {
            if (sp) {
                snprintf(err, (size_t)errlen, "%s:%d: CTA %d starts twice", name, e->line, c);
                goto out;
            }
            last[c] = ns;
            tl->cta[ns++] = (trace_tl_cta){c, e->sm, 0, e->t_ns, e->t_ns, i};
        } else if (!sp) {
            snprintf(err, (size_t)errlen, "%s:%d: event '%s' of CTA %d before its start", name, e->line,
                     tl_kinds[e->kind], c);
            goto out;
        } else if (e->sm != sp->sm) {   /* a CTA runs on one SM */
            snprintf(err, (size_t)errlen, "%s:%d: event '%s' of CTA %d on SM %d, but it started on SM %d", name,
                     e->line, tl_kinds[e->kind], c, e->sm, sp->sm);
            goto out;
        } else if (tl->ev[sp->last_ev].kind == TRACE_EV_END) {
            snprintf(err, (size_t)errlen, "%s:%d: event '%s' of CTA %d after its end", name, e->line,
                     tl_kinds[e->kind], c);
            goto out;
        } else if (e->t_ns < sp->t1_ns) {   /* a CTA's events come in time order */
            snprintf(err, (size_t)errlen, "%s:%d: event '%s' of CTA %d at %.0f ns, before its previous one (%.0f ns)",
                     name, e->line, tl_kinds[e->kind], c, e->t_ns, sp->t1_ns);
            goto out;
        } else {
            e->prev = sp->last_ev;
            sp->last_ev = i;
            sp->t1_ns = e->t_ns;
        }
    }
    tl->n_cta = ns;
    for (int i = 0; i < ns; i++)   /* a CTA without its end would be drawn as nothing */
        if (tl->ev[tl->cta[i].last_ev].kind != TRACE_EV_END) {
            snprintf(err, (size_t)errlen, "%s:%d: CTA %d has no 'end' event", name,
                     tl->ev[tl->cta[i].last_ev].line, tl->cta[i].cta);
            goto out;
        }
    if (ns == 0) {
        snprintf(err, (size_t)errlen, "%s:%d: no CTA in the timeline", name, lineno);
        goto out;
    }
    /* tracks: on each SM, a CTA takes the lowest slot free at its start, as the
     * simulator's "SM s slot j" tracks */
    trace_tl_cta *by_start = malloc(sizeof *by_start * (size_t)ns);
    double (*slot_end)[TRACE_SLOTS] = calloc(TRACE_MAX_SM, sizeof *slot_end);
    if (!by_start || !slot_end) {
        free(by_start);
        free(slot_end);
        goto oom;
    }
    memcpy(by_start, tl->cta, sizeof *by_start * (size_t)ns);
    qsort(by_start, (size_t)ns, sizeof *by_start, span_cmp);
    for (int i = 0; i < TRACE_MAX_SM; i++)
        for (int j = 0; j < TRACE_SLOTS; j++) slot_end[i][j] = -INFINITY;
    for (int i = 0; i < ns; i++) {
        trace_tl_cta *b = &by_start[i];
        int j = 0;
        while (j < TRACE_SLOTS - 1 && slot_end[b->sm][j] > b->t0_ns) j++;
        slot_end[b->sm][j] = b->t1_ns;
        tl->cta[tl->cta_of[b->cta]].slot = j;
    }
    free(by_start);
    free(slot_end);
    rc = TRACE_OK;
    goto out;
oom:
    snprintf(err, (size_t)errlen, "%s: out of memory", name);
    rc = TRACE_ENOMEM;
out:
    free(line);
    if (rc) trace_timeline_free(tl);
    return rc;
}

const char *trace_timeline_phase(const trace_timeline *tl, int i)
{
    const trace_tl_event *e = &tl->ev[i];
    if (e->prev < 0) return NULL;
    /* the phase that ends at this event: streaming (its tiles, then its partial or output),
     * the host's wait for its peers, the merge after it, the CTA's end */
    return e->kind == TRACE_EV_WAIT_END                                            ? "wait"
           : e->kind == TRACE_EV_END                                               ? "epilogue"
           : e->kind == TRACE_EV_SEG_END && tl->ev[e->prev].kind == TRACE_EV_WAIT_END ? "merge"
                                                                                    : "stream";
}

int trace_timeline_write(const trace_timeline *tl, const char *name, FILE *out)
{
    trace_writer t;
    unsigned char (*named)[TRACE_SLOTS] = calloc(TRACE_MAX_SM, sizeof *named);
    if (!named) return TRACE_ENOMEM;
    trace_begin(&t, out);
    {
        char pname[512];   /* the track group names the file it came from */
        snprintf(pname, sizeof pname, "measured: %s", name);
        trace_name_process(&t, 0, pname);
    }
    for (int i = 0; i < tl->n_cta; i++) {
        int sm = tl->cta[i].sm, j = tl->cta[i].slot;
        if (!named[sm][j]) {
            char buf[48];
            snprintf(buf, sizeof buf, "SM %d slot %d", sm, j);
            trace_name_thread(&t, 0, sm * TRACE_SLOTS + j, buf);
            named[sm][j] = 1;
        }
    }
    free(named);
    for (int i = 0; i < tl->n_ev; i++) {
        const trace_tl_event *e = &tl->ev[i];
        const char *label = trace_timeline_phase(tl, i);
        if (!label) continue;
        const trace_tl_cta *s = &tl->cta[tl->cta_of[e->cta]];
        trace_slice(&t, 0, s->sm * TRACE_SLOTS + s->slot, label, label, tl->ev[e->prev].t_ns, e->t_ns, e->cta,
                    e->unit);
    }
    return trace_end(&t) ? TRACE_EIO : TRACE_OK;
}
