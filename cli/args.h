/*
 * args.h: the command line of every leansim command, parsed from one table
 * per command.  The table gives each option's name, value and help; the
 * same table parses argv (glibc getopt_long: `--opt value` and
 * `--opt=value` alike, options and operands in any order, `--` ends the
 * options), prints --help, and lists the options for the man pages and the
 * bash completion (cli/mkdoc.sh reads `leansim CMD --help`).
 */
#ifndef LEANSIM_ARGS_H
#define LEANSIM_ARGS_H

#include <stdio.h>

#include "opts.h"

/* One option of a command.  A row with name NULL and help set is a
 * heading of the help text; a row with both NULL ends the table. */
typedef struct args_opt {
    const char *name;   /* long name without the dashes ("db") */
    const char *arg;    /* value placeholder ("FILE"); NULL: a flag */
    const char *help;   /* help text; further lines after '\n', indented by the printer */
    int id;             /* what the handler is called with */
} args_opt;

#define ARGS_MAX_TABLES 4

/* A command's line. */
typedef struct args_cmd {
    const char *name;       /* "sweep" */
    const char *synopsis;   /* what follows `usage: leansim NAME` */
    const char *about;      /* lines after the usage line, each starting with two spaces and ending with '\n' */
    int workload;           /* 1: the workload options (sim/opts.h) too, first; a table row of the same name wins */
    const args_opt *tables[ARGS_MAX_TABLES];   /* the command's own options, NULL after the last table */
} args_cmd;

/*
 * The handler of a command's own options: option id `id` (long name
 * `name`, with dashes) was given with value val (NULL for a flag).
 * Returns 0, or 2 with a reason in err; the reason names the option and
 * the value ("--jobs 0: must be between 1 and 256").
 */
typedef int (*args_fn)(void *ctx, int id, const char *name, const char *val, char *err, int errlen);

/*
 * Parses argv[1..argc-1] of command c (argv[0] is its name): workload
 * options into wl (when c->workload), the others through fn(ctx, ...), and
 * operands into pos[0..max_pos-1] (*n_pos of them).  Returns -1 to go on,
 * 0 after printing --help or the option list (--list-options, for
 * cli/mkdoc.sh), or 2 after printing one line on stderr naming the option
 * and the problem: unknown option, missing value, a value where none is
 * taken, a bad value, too many operands.
 */
int args_parse(const args_cmd *c, int argc, char **argv, wl_opts *wl, args_fn fn, void *ctx, const char **pos,
               int max_pos, int *n_pos);

/* Prints c's help (usage, about, then every option) to f. */
void args_help(const args_cmd *c, FILE *f);

/* Appends the value v of option `name` (a repeatable KEY=VALUE override,
 * --set) to list[0..*n) of at most max; 0, or 2 with err set when full. */
int args_list_add(const char **list, int *n, int max, const char *name, const char *v, char *err, int errlen);

#endif
