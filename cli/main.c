/*
 * main.c: the leansim command line.  Dispatches to one subcommand per file
 * (cmd_*.c), each with its option table (args.h); `leansim help` and
 * `leansim CMD --help` describe them.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

#include "version.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} cmds[] = {
    {"simulate", cmd_simulate, "discrete-event simulation of each schedule on a GPU spec"},
    {"predict", cmd_predict, "closed-form model of each schedule (same options and columns as simulate)"},
    {"sweep", cmd_sweep, "run a sweep file (experiments/*.exp) through sim and model into SQLite"},
    {"ingest", cmd_ingest, "store a kernel runner CSV in the measurements table"},
    {"merge", cmd_merge, "join results databases (the shards of a sweep) into one"},
    {"tune", cmd_tune, "search schedule options per context length with the simulator"},
    {"calibrate", cmd_calibrate, "fit chip and kernel fields to measured rows (GSL nonlinear least squares)"},
    {"validate", cmd_validate, "predict every measured row with both engines into the database"},
    {"report", cmd_report, "accuracy of the predictions of the measured rows (table or JSON)"},
    {"export", cmd_export, "write the data files of a figure for plots/*.gp"},
    {"gpus", cmd_gpus, "list the chip specs compiled in"},
    {"kernels", cmd_kernels, "list the kernel profiles compiled in"},
    {"timeline", cmd_timeline, "convert a measured CTA timeline to a Chrome trace"},
};

static void usage(FILE *f)
{
    fprintf(f, "leansim %s: what decode-attention schedule wins, by how much, on which GPU\n\n", LEANSIM_VERSION);
    fprintf(f, "usage: leansim COMMAND [options]   (leansim COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("leansim %s\n", LEANSIM_VERSION);
        return 0;
    }
    /* each command parses its own line from its option table (args.h):
     * --opt value and --opt=value alike */
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(argv[1], cmds[i].name)) {
            int rc = cmds[i].fn(argc - 1, argv + 1);
            /* output that did not reach its file (a full disk) is a failure, not a short result */
            if ((fflush(stdout) || ferror(stdout)) && !rc) {
                fprintf(stderr, "leansim %s: writing the output failed\n", cmds[i].name);
                rc = 1;
            }
            return rc;
        }
    fprintf(stderr, "leansim: unknown command '%s' (leansim help lists them)\n", argv[1]);
    return 2;
}
