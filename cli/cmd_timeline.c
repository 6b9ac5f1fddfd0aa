/*
 * cmd_timeline.c: `leansim timeline FILE.csv --trace OUT.json`: converts a
 * CTA timeline measured by the kernel runner (leanbench --timeline) into the
 * Chrome trace format of `leansim simulate --trace`, so that both open side
 * by side in Perfetto.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "trace.h"

int cmd_timeline(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: leansim timeline FILE.csv --trace OUT.json\n"
                   "  converts a measured CTA timeline (leanbench --timeline; columns cta,sm,event,unit,t_ns)\n"
                   "  into Chrome trace-event JSON, one track per SM, as `leansim simulate --trace` writes\n");
            return 0;
        }
        if (!strcmp(argv[i], "--trace")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "leansim timeline: --trace: missing value\n");
                return 2;
            }
            out = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "leansim timeline: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (!in) {
            in = argv[i];
        } else {
            fprintf(stderr, "leansim timeline: one input file only ('%s')\n", argv[i]);
            return 2;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "leansim timeline: usage: leansim timeline FILE.csv --trace OUT.json\n");
        return 2;
    }
    FILE *f = fopen(in, "r");
    if (!f) {
        fprintf(stderr, "leansim timeline: %s: cannot open\n", in);
        return 2;
    }
    FILE *o = fopen(out, "w");
    if (!o) {
        fclose(f);
        fprintf(stderr, "leansim timeline: --trace %s: cannot open for writing\n", out);
        return 1;
    }
    char err[512];
    int rc = trace_from_timeline(f, in, o, err, sizeof err);
    fclose(f);
    if (fclose(o) || rc) {
        remove(out);
        fprintf(stderr, "leansim timeline: %s\n", rc ? err : "write failed");
        return rc ? 2 : 1;
    }
    return 0;
}
