/*
 * args.c: one option table per command parses, prints --help and lists the
 * options (args.h).  Underneath is glibc's getopt_long; its own messages
 * are off, so that every error has the command's voice and names the
 * option.
 */
#include "args.h"

#include <getopt.h>
#include <string.h>

#define ARGS_MAX_OPTS 96
#define ID_WORKLOAD 1000   /* getopt value of workload option k: ID_WORKLOAD + k */
#define ID_OWN 2000        /* of row r of the command's tables (counted across them): ID_OWN + r */

/* Row r of c's tables (counted across them), or NULL. */
static const args_opt *row(const args_cmd *c, int r)
{
    for (int t = 0; t < ARGS_MAX_TABLES && c->tables[t]; t++)
        for (const args_opt *o = c->tables[t]; o->name || o->help; o++, r--)
            if (r == 0) return o;
    return NULL;
}

/* The row named name (no dashes), or NULL. */
static const args_opt *own(const args_cmd *c, const char *name)
{
    const args_opt *o;
    for (int r = 0; (o = row(c, r)); r++)
        if (o->name && !strcmp(o->name, name)) return o;
    return NULL;
}

/* Workload option k, unless a row of the command takes its name. */
static int workload_shown(const args_cmd *c, int k)
{
    return c->workload && !own(c, wl_opts_name(k) + 2);
}

/* One help line: "  --name ARG" padded to 29 columns, then the text, its
 * further lines indented to the same column. */
static void help_line(FILE *f, const char *name, const char *arg, const char *text)
{
    char lhs[64];
    snprintf(lhs, sizeof lhs, "%s%s%s", name, arg ? " " : "", arg ? arg : "");
    fprintf(f, "  %-26s ", lhs);
    if (strlen(lhs) > 26) fprintf(f, "\n  %-26s ", "");
    for (const char *p = text; *p; p++) {
        fputc(*p, f);
        if (*p == '\n') {
            while (p[1] == ' ') p++;   /* texts may carry their own indent: the printer's wins */
            fprintf(f, "  %-26s ", "");
        }
    }
    fputc('\n', f);
}

void args_help(const args_cmd *c, FILE *f)
{
    fprintf(f, "usage: leansim %s %s\n", c->name, c->synopsis);
    if (c->about) fputs(c->about, f);
    if (c->workload) {
        fprintf(f, "\nworkload and schedule:\n");
        for (int k = 0; k < wl_opts_count(); k++)
            if (workload_shown(c, k)) help_line(f, wl_opts_name(k), wl_opts_arg(k), wl_opts_text(k));
    }
    const args_opt *o;
    for (int r = 0; (o = row(c, r)); r++) {
        if (!o->name) {
            fprintf(f, "\n%s:\n", o->help);
            continue;
        }
        if (r == 0) fprintf(f, "\noptions:\n");
        char name[64];
        snprintf(name, sizeof name, "--%s", o->name);
        help_line(f, name, o->arg, o->help);
    }
    help_line(f, "--help", NULL, "this text");
}

/* Every option, one a line, "--name" or "--name=" (takes a value). */
static void list_options(const args_cmd *c, FILE *f)
{
    if (c->workload)
        for (int k = 0; k < wl_opts_count(); k++)
            if (workload_shown(c, k)) fprintf(f, "%s=\n", wl_opts_name(k));
    const args_opt *o;
    for (int r = 0; (o = row(c, r)); r++)
        if (o->name) fprintf(f, "--%s%s\n", o->name, o->arg ? "=" : "");
    fprintf(f, "--help\n");
}

/* The option as the user wrote it, without a value: "--foo" of "--foo=1". */
static void as_written(const char *a, char *buf, size_t len)
{
    size_t n = strcspn(a, "=");
    if (n >= len) n = len - 1;
    memcpy(buf, a, n);
    buf[n] = 0;
}

int args_parse(const args_cmd *c, int argc, char **argv, wl_opts *wl, args_fn fn, void *ctx, const char **pos,
               int max_pos, int *n_pos)
{
    struct option lo[ARGS_MAX_OPTS + 2];
    int n = 0;
    if (n_pos) *n_pos = 0;
    if (c->workload)
        for (int k = 0; k < wl_opts_count() && n < ARGS_MAX_OPTS; k++)
            if (workload_shown(c, k)) lo[n++] = (struct option){wl_opts_name(k) + 2, required_argument, NULL, ID_WORKLOAD + k};
    const args_opt *o;
    for (int r = 0; (o = row(c, r)) && n < ARGS_MAX_OPTS; r++)
        if (o->name) lo[n++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, ID_OWN + r};
    lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n] = (struct option){NULL, 0, NULL, 0};
    if (argc == 2 && !strcmp(argv[1], "--list-options")) {
        list_options(c, stdout);
        return 0;
    }

    char err[1024], opt[128];
    int np = 0;
    opterr = 0;
    optind = 0;   /* glibc: start afresh (another command may have parsed before) */
    for (;;) {
        int li = -1;
        /* "-": operands come back in place (value 1); ":": a missing value is ':' */
        int v = getopt_long(argc, argv, "-:h", lo, &li);
        if (v == -1) break;
        const char *a = argv[optind - 1];
        if (v == 1) {
            if (np == max_pos) {
                fprintf(stderr, "leansim %s: unexpected argument '%s' (leansim %s --help)\n", c->name, optarg, c->name);
                return 2;
            }
            pos[np++] = optarg;
            continue;
        }
        if (v == 'h') {
            args_help(c, stdout);
            return 0;
        }
        if (v == ':') {
            as_written(a, opt, sizeof opt);
            const args_opt *r = optopt >= ID_OWN ? row(c, optopt - ID_OWN) : NULL;
            const char *arg = r ? r->arg : optopt >= ID_WORKLOAD ? wl_opts_arg(optopt - ID_WORKLOAD) : NULL;
            fprintf(stderr, "leansim %s: %s: missing value (%s)\n", c->name, opt, arg ? arg : "VALUE");
            return 2;
        }
        if (v == '?') {
            as_written(a, opt, sizeof opt);
            if (optopt == 'h' || optopt >= ID_WORKLOAD)   /* a flag given a value */
                fprintf(stderr, "leansim %s: %s: takes no value\n", c->name, opt);
            else if (optopt)
                fprintf(stderr, "leansim %s: unknown option '-%c' (leansim %s --help)\n", c->name, optopt, c->name);
            else {
                /* getopt_long takes a unique prefix; a prefix of several is ambiguous */
                int m = 0;
                for (int k = 0; k < n; k++) m += opt[0] == '-' && opt[1] == '-' && opt[2] &&
                                                 !strncmp(lo[k].name, opt + 2, strlen(opt + 2));
                fprintf(stderr, "leansim %s: %s option '%s' (leansim %s --help)\n", c->name,
                        m > 1 ? "ambiguous" : "unknown", opt, c->name);
            }
            return 2;
        }
        if (v >= ID_OWN || v >= ID_WORKLOAD) {   /* an empty value names nothing: refused for every option */
            const args_opt *r = v >= ID_OWN ? row(c, v - ID_OWN) : NULL;
            if ((r ? r->arg != NULL : 1) && optarg && !optarg[0]) {
                if (li >= 0) snprintf(opt, sizeof opt, "--%s", lo[li].name);
                else as_written(a, opt, sizeof opt);
                fprintf(stderr, "leansim %s: %s: empty value (%s)\n", c->name, opt,
                        r ? r->arg : wl_opts_arg(v - ID_WORKLOAD) ? wl_opts_arg(v - ID_WORKLOAD) : "VALUE");
                return 2;
            }
        }
        if (v >= ID_OWN) {
            const args_opt *r = row(c, v - ID_OWN);
            char name[64];
            snprintf(name, sizeof name, "--%s", r->name);
            err[0] = 0;
            if (fn(ctx, r->id, name, r->arg ? optarg : NULL, err, sizeof err)) {
                fprintf(stderr, "leansim %s: %s\n", c->name, err[0] ? err : name);
                return 2;
            }
        } else if (v >= ID_WORKLOAD) {
            if (wl_opts_set(wl, v - ID_WORKLOAD, optarg, err, sizeof err)) {
                fprintf(stderr, "leansim %s: %s\n", c->name, err);
                return 2;
            }
        }
    }
    for (int i = optind; i < argc; i++) {   /* after "--" */
        if (np == max_pos) {
            fprintf(stderr, "leansim %s: unexpected argument '%s' (leansim %s --help)\n", c->name, argv[i], c->name);
            return 2;
        }
        pos[np++] = argv[i];
    }
    if (n_pos) *n_pos = np;
    return -1;
}

int args_list_add(const char **list, int *n, int max, const char *name, const char *v, char *err, int errlen)
{
    if (*n == max) {
        snprintf(err, (size_t)errlen, "%s %s: at most %d overrides", name, v, max);
        return 2;
    }
    list[(*n)++] = v;
    return 0;
}
