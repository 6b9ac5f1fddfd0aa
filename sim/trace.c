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
    t->n = 0;
    fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", f);
}

static void sep(trace_writer *t)
{
    if (t->n++) fputs(",\n", t->f);
}

void trace_name_process(trace_writer *t, int pid, const char *name)
{
    sep(t);
    fprintf(t->f, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"args\":{\"name\":\"%s\"}}", pid, name);
}

void trace_name_thread(trace_writer *t, int pid, int tid, const char *name)
{
    sep(t);
    fprintf(t->f, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":\"%s\"}}", pid,
            tid, name);
    sep(t);
    fprintf(t->f, "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":%d,\"tid\":%d,\"args\":{\"sort_index\":%d}}",
            pid, tid, tid);
}

void trace_slice(trace_writer *t, int pid, int tid, const char *name, const char *cat, double t0_ns, double t1_ns,
                 int cta, int unit)
{
    sep(t);
    fprintf(t->f, "{\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"name\":\"%s\",\"cat\":\"%s\",\"ts\":%.3f,\"dur\":%.3f,"
                  "\"args\":{\"cta\":%d",
            pid, tid, name, cat, t0_ns / 1000.0, (t1_ns - t0_ns) / 1000.0, cta);
    if (unit >= 0) fprintf(t->f, ",\"unit\":%d", unit);
    fputs("}}", t->f);
}

int trace_end(trace_writer *t)
{
    fputs("\n]}\n", t->f);
    return ferror(t->f) ? -1 : 0;
}

/* One CTA's events while converting. */
typedef struct tl_cta {
    int sm;
    double last;      /* time of the previous event */
    int started;
} tl_cta;

int trace_from_timeline(FILE *in, const char *name, FILE *out, char *err, int errlen)
{
    char line[512];
    int lineno = 0, cap = 0, nslot_sm[1024] = {0};
    tl_cta *ctas = NULL;
    int *tid_of = NULL;
    trace_writer t;
    if (!fgets(line, sizeof line, in) || strncmp(line, "cta,sm,event,unit,t_ns", 22) != 0) {
        snprintf(err, (size_t)errlen, "%s:1: expected header 'cta,sm,event,unit,t_ns'", name);
        return -1;
    }
    lineno = 1;
    trace_begin(&t, out);
    trace_name_process(&t, 0, "measured");
    while (fgets(line, sizeof line, in)) {
        lineno++;
        int cta, sm, unit;
        char evn[32];
        double tn;
        if (line[0] == '\n') continue;
        /* CTA ids come in order (the runner writes CTA by CTA, two events or more each): an id far
         * beyond the rows read is a bad row, and memory stays bounded by the file's size */
        if (sscanf(line, "%d,%d,%31[a-z_],%d,%lf", &cta, &sm, evn, &unit, &tn) != 5 || cta < 0 ||
            cta > lineno + 1024 || sm < 0 || sm >= 1024 || !isfinite(tn)) {
            snprintf(err, (size_t)errlen, "%s:%d: bad row >>> '%.*s'", name, lineno, (int)strcspn(line, "\n"), line);
            free(ctas);
            free(tid_of);
            return -1;
        }
        if (cta >= cap) {
            int nc = cap ? cap : 256;
            while (nc <= cta) nc *= 2;
            tl_cta *nctas = realloc(ctas, (size_t)nc * sizeof *ctas);
            int *ntid = realloc(tid_of, (size_t)nc * sizeof *ntid);
            if (!nctas || !ntid) {
                free(nctas ? nctas : ctas);
                free(ntid ? ntid : tid_of);
                snprintf(err, (size_t)errlen, "%s: out of memory", name);
                return -1;
            }
            memset(nctas + cap, 0, (size_t)(nc - cap) * sizeof *ctas);
            ctas = nctas;
            tid_of = ntid;
            cap = nc;
        }
        tl_cta *c = &ctas[cta];
        if (!strcmp(evn, "start")) {
            c->sm = sm;
            c->last = tn;
            c->started = 1;
            /* a track per SM and concurrent CTA: slot = CTAs seen on this SM so far, mod 32 */
            tid_of[cta] = sm * 32 + (nslot_sm[sm]++ % 32);
            continue;
        }
        if (!c->started) {
            snprintf(err, (size_t)errlen, "%s:%d: event '%s' of CTA %d before its start", name, lineno, evn, cta);
            free(ctas);
            free(tid_of);
            return -1;
        }
        const char *label;
        if (!strcmp(evn, "seg_end")) label = "segment";
        else if (!strcmp(evn, "wait_begin")) label = "epilogue";
        else if (!strcmp(evn, "wait_end")) label = "wait";
        else if (!strcmp(evn, "end")) label = "epilogue";
        else {
            snprintf(err, (size_t)errlen, "%s:%d: unknown event '%s'", name, lineno, evn);
            free(ctas);
            free(tid_of);
            return -1;
        }
        trace_slice(&t, 0, tid_of[cta], label, label, c->last, tn, cta, unit);
        c->last = tn;
    }
    free(ctas);
    free(tid_of);
    return trace_end(&t);
}
