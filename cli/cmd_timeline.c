/*
 * cmd_timeline.c: `leansim timeline FILE.csv --trace OUT.json`: converts a
 * CTA timeline measured by the kernel runner (leanbench --timeline) into the
 * Chrome trace format of `leansim simulate --trace`, so that both open side
 * by side in Perfetto.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmd.h"
#include "fmt.h"
#include "trace.h"

static const args_opt timeline_opts[] = {
    {"trace", "OUT.json", "the Chrome trace to write (required)", 0},
    {NULL, NULL, NULL, 0},
};

static int timeline_opt(void *ctx, int id, const char *name, const char *v, char *err, int errlen)
{
    (void)id, (void)name, (void)err, (void)errlen;
    *(const char **)ctx = v;
    return 0;
}

int cmd_timeline(int argc, char **argv)
{
    static const args_cmd c = {
        "timeline", "FILE.csv --trace OUT.json",
        "  converts a measured CTA timeline (leanbench --timeline; columns cta,sm,event,unit,t_ns)\n"
        "  into Chrome trace-event JSON, one track per SM, as `leansim simulate --trace` writes\n",
        0, {timeline_opts, NULL}};
    const char *in = NULL, *out = NULL;
    int n;
    int rc = args_parse(&c, argc, argv, NULL, timeline_opt, &out, &in, 1, &n);
    if (rc >= 0) return rc;
    if (!in || !out) {
        fprintf(stderr, "leansim timeline: %s (leansim timeline --help)\n", !in ? "missing FILE.csv" : "--trace: missing");
        return 2;
    }
    char a[PATH_MAX], b[PATH_MAX];   /* the trace would replace the timeline it is made from */
    if (realpath(in, a) && realpath(out, b) && !strcmp(a, b)) {
        fprintf(stderr, "leansim timeline: --trace %s: is the input file\n", out);
        return 2;
    }
    FILE *f = fopen(in, "r");
    if (!f) {
        fprintf(stderr, "leansim timeline: %s: cannot open: %s\n", in, strerror(errno));
        return 2;
    }
    /* the whole timeline is read and checked before the trace is opened */
    char err[512] = "";
    trace_timeline tl;
    rc = trace_timeline_read(&tl, f, in, err, sizeof err);
    fclose(f);
    if (rc) {
        fprintf(stderr, "leansim timeline: %s\n", err);
        return rc == TRACE_ENOMEM ? 1 : 2;
    }
    fmt_file o;
    if (fmt_file_open(&o, out)) {
        fprintf(stderr, "leansim timeline: --trace %s: cannot open for writing: %s\n", out, strerror(errno));
        trace_timeline_free(&tl);
        return 2;
    }
    rc = trace_timeline_write(&tl, in, o.f);
    trace_timeline_free(&tl);
    if (rc) {
        fmt_file_abort(&o);   /* a file already at the path stays as it was */
        fprintf(stderr, "leansim timeline: --trace %s: %s\n", out,
                rc == TRACE_ENOMEM ? "out of memory" : "write failed");
        return 1;
    }
    if (fmt_file_commit(&o)) {
        fprintf(stderr, "leansim timeline: --trace %s: write failed\n", out);
        return 1;
    }
    return 0;
}
