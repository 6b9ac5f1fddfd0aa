/*
 * cmd_report.c: the commands that judge the engines against measurements:
 *   leansim validate --db results.db [--gpu G] [--spec FILE.gpu] [--set K=V]
 *   leansim report   [--db results.db] [--gpu G] [--spec ...] [--format table|json] [--holdout] [--picks]
 *   leansim export   FIGURE --db results.db --out DIR
 * None of them creates a database: a missing one is an input error (exit 2).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "cmd.h"
#include "results.h"

/* Options of the three commands; the ones a command does not take are refused. */
typedef struct rep_args {
    const char *db;
    validate_opts v;
    int format;        /* OUT_TABLE or OUT_JSON */
    int holdout;
    int picks;
    const char *out;   /* export: directory */
    const char *fig;   /* export: figure */
    const char *timeline;
} rep_args;

enum { A_DB, A_GPU, A_SPEC, A_KERNEL, A_SET, A_FORMAT, A_HOLDOUT, A_PICKS, A_OUT, A_TIMELINE };

static const args_opt common_opts[] = {
    {"db", "FILE", "the results database (default results.db; must exist)", A_DB},
    {"gpu", "G", "only the rows of GPU G (a spec name)", A_GPU},
    {"spec", "FILE", "predict every GPU's rows with this chip spec (e.g. a calibrated one)", A_SPEC},
    {"kernel", "FILE", "use this profile for the rows of the kernel it names (repeatable)", A_KERNEL},
    {"set", "K=V", "override a chip or kernel field after loading (repeatable), e.g. the\n"
                   "H200's rows with an H100 calibration and the H200's bandwidth:\n"
                   "--gpu h200 --spec h100-cal.gpu --set mem_bw_achievable_gbps=4400", A_SET},
    {NULL, NULL, NULL, 0},
};

static const args_opt report_opts_table[] = {
    {"format", "table|json", "output format (default table)", A_FORMAT},
    {"holdout", NULL, "fit the spec on the configurations of even hash, report the odd ones", A_HOLDOUT},
    {"picks", NULL, "list the tuner's pick on each oracle workload beside the measured fastest\n"
                    "plan, worst first (block picks)", A_PICKS},
    {NULL, NULL, NULL, 0},
};

static const args_opt export_opts_table[] = {
    {"out", "DIR", "the directory the data files go to (required)", A_OUT},
    {"timeline", "FILE.csv", "the measured CTA timeline of figure timeline (default: the first in traces/measured)",
     A_TIMELINE},
    {NULL, NULL, NULL, 0},
};

static int rep_opt(void *ctx, int id, const char *name, const char *v, char *err, int errlen)
{
    rep_args *a = ctx;
    switch (id) {
    case A_DB: a->db = v; return 0;
    case A_GPU: a->v.gpu = v; return 0;
    case A_SPEC: a->v.spec = v; return 0;
    case A_OUT: a->out = v; return 0;
    case A_TIMELINE: a->timeline = v; return 0;
    case A_HOLDOUT: a->holdout = 1; return 0;
    case A_PICKS: a->picks = 1; return 0;
    case A_KERNEL:
        if (a->v.n_kernel == VALIDATE_MAX_KERNEL) {
            snprintf(err, (size_t)errlen, "%s %s: at most %d profiles", name, v, VALIDATE_MAX_KERNEL);
            return 2;
        }
        a->v.kernel[a->v.n_kernel++] = v;
        return 0;
    case A_SET:
        if (a->v.n_set == VALIDATE_MAX_SET) {
            snprintf(err, (size_t)errlen, "%s %s: at most %d overrides", name, v, VALIDATE_MAX_SET);
            return 2;
        }
        a->v.set[a->v.n_set++] = v;
        return 0;
    case A_FORMAT:
        if (!strcmp(v, "table")) a->format = OUT_TABLE;
        else if (!strcmp(v, "json")) a->format = OUT_JSON;
        else {
            snprintf(err, (size_t)errlen, "%s %s: must be table or json", name, v);
            return 2;
        }
        return 0;
    }
    return 2;
}

/* Returns -1 to go on, or an exit code (0 after --help). */
static int parse(const args_cmd *c, int argc, char **argv, rep_args *a)
{
    memset(a, 0, sizeof *a);
    a->db = "results.db";
    a->format = OUT_TABLE;
    int n;
    return args_parse(c, argc, argv, NULL, rep_opt, a, &a->fig, c->tables[1] == export_opts_table ? 1 : 0, &n);
}

/* Opens an existing database: for writing (validate), or for reading only
 * (report, export), so that a read-only one serves them; 0, or prints the
 * reason and returns an exit code. */
static int open_existing(const char *cmd, const char *path, sqlite3 **db, int readonly)
{
    char err[512];
    struct stat sb;
    if (stat(path, &sb) || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "leansim %s: --db %s: no such database (leansim ingest creates it)\n", cmd, path);
        return 2;
    }
    int rc = readonly ? store_open_readonly(db, path, err, sizeof err) : store_open(db, path, err, sizeof err);
    if (rc) {
        fprintf(stderr, "leansim %s: %s\n", cmd, err);
        return rc == STORE_EINPUT ? 2 : 1;
    }
    return 0;
}

static int exit_of(int status)
{
    return status == STORE_EINPUT ? 2 : 1;
}

int cmd_validate(int argc, char **argv)
{
    rep_args a;
    static const args_cmd c = {
        "validate", "--db results.db [--gpu G] [--spec FILE.gpu] [--kernel FILE.kernel]... [--set KEY=VALUE]...",
        "  predicts every measured row with the simulator and the model on its GPU's chip spec\n"
        "  (SM count as measured) and the profile of the kernel that ran it: leansim's schedules\n"
        "  under the leansim profile (block_n, splits, grid and CTAs per SM as run); an outside\n"
        "  kernel's rows (torch-flash, ...) under the shipped profile of that name, against their\n"
        "  CUDA-graph replay times; rows of kernels with no profile are skipped.  Stores the\n"
        "  predictions in one transaction; re-runs add nothing.\n",
        0, {common_opts, NULL}};
    int rc = parse(&c, argc, argv, &a);
    if (rc >= 0) return rc;
    sqlite3 *db;
    if ((rc = open_existing("validate", a.db, &db, 0))) return rc;
    char err[1024];
    validate_stats st;
    a.v.progress = isatty(2) ? stderr : NULL;   /* rows done, on a terminal */
    int s = validate_run(db, &a.v, &st, err, sizeof err);
    store_close(db);
    if (s) {
        fprintf(stderr, "leansim validate: %s\n", err);
        return exit_of(s);
    }
    printf("validate: %d measured rows, %d predictions added, %d already present, %d refused by an engine, "
           "%d plans not rebuilt, %d rows of unknown GPUs\n",
           st.rows, st.added, st.present, st.failed, st.plan_mismatch, st.unknown_gpu);
    printf("validate: %d rows without the plan options asked (runner CSV format 1): their plan was found by the "
           "legacy search\n", st.legacy);
    if (st.earlier_rule)
        printf("validate: %d balanced rows measured while a balanced plan's wave was every resident CTA, whatever "
               "the CTAs per SM asked: rebuilt by that rule\n", st.earlier_rule);
    if (st.unused_kernel)
        fprintf(stderr, "validate: --kernel %s: no measured row is of its kernel: the profile predicted nothing\n",
                st.unused_kernel);
    return 0;
}

int cmd_report(int argc, char **argv)
{
    rep_args a;
    static const args_cmd c = {
        "report", "[--db results.db] [--gpu G] [--spec FILE.gpu] [--kernel FILE.kernel]... [--set KEY=VALUE]...\n"
        "                      [--format table|json] [--holdout] [--picks]",
        "  accuracy of the stored predictions of the measured rows (leansim validate first, with\n"
        "  the same --spec and --set): per GPU x schedule x engine MAPE, p95 and max error; the\n"
        "  fastest-schedule agreement and regret; the error of the predicted speedup over fa2;\n"
        "  SM scaling; totals; the share of held-out rows inside their 90% interval; on oracle\n"
        "  workloads (timed under every plan), each policy's regret and speedup over FA2's\n"
        "  heuristic (--picks: the tuner's pick on each), and the oracle's own noise: the regret\n"
        "  of a row that ran the fastest plan's cut of the work under other options.  --holdout\n"
        "  fits the spec (calib_fit) on the configurations of even hash and reports the error on\n"
        "  the odd ones.\n",
        0, {common_opts, report_opts_table, NULL}};
    int rc = parse(&c, argc, argv, &a);
    if (rc >= 0) return rc;
    sqlite3 *db;
    if ((rc = open_existing("report", a.db, &db, 1))) return rc;
    report_opts o = {a.v, a.holdout, a.format == OUT_JSON, a.picks, a.holdout ? stderr : NULL};
    char err[1024];
    int s = report_print(stdout, db, &o, err, sizeof err);
    store_close(db);
    if (s) {
        fprintf(stderr, "leansim report: %s\n", err);
        return exit_of(s);
    }
    return 0;
}

int cmd_export(int argc, char **argv)
{
    char about[1024];
    int m = snprintf(about, sizeof about,
                     "  writes the data files of one figure (whitespace-separated, '#' header) for plots/*.gp.\n"
                     "  FIGURE: all");
    for (int i = 0; export_figures[i]; i++) m += snprintf(about + m, sizeof about - (size_t)m, ", %s", export_figures[i]);
    snprintf(about + m, sizeof about - (size_t)m, "\n");
    args_cmd c = {"export", "FIGURE --db results.db --out DIR [--timeline FILE.csv] [--spec ...]", about, 0,
                  {common_opts, export_opts_table, NULL}};
    rep_args a;
    int rc = parse(&c, argc, argv, &a);
    if (rc >= 0) return rc;
    if (!a.fig) {
        fprintf(stderr, "leansim export: missing FIGURE (leansim export --help lists them)\n");
        return 2;
    }
    int known = !strcmp(a.fig, "all");
    for (int i = 0; export_figures[i]; i++) known |= !strcmp(a.fig, export_figures[i]);
    if (!known) {
        fprintf(stderr, "leansim export: unknown figure '%s' (leansim export --help lists them)\n", a.fig);
        return 2;
    }
    if (!a.out) {
        fprintf(stderr, "leansim export: missing --out DIR\n");
        return 2;
    }
    sqlite3 *db;
    if ((rc = open_existing("export", a.db, &db, 1))) return rc;
    export_opts o = {a.v, a.timeline};
    char err[1024];
    int s = 0;
    /* every figure's options are checked before the first file is written */
    for (int i = 0; export_figures[i] && !s; i++)
        if (!strcmp(a.fig, "all") || !strcmp(a.fig, export_figures[i]))
            s = export_check(db, export_figures[i], a.out, &o, err, sizeof err);
    for (int i = 0; export_figures[i] && !s; i++)
        if (!strcmp(a.fig, "all") || !strcmp(a.fig, export_figures[i]))
            s = export_figure(db, export_figures[i], a.out, &o, err, sizeof err);
    store_close(db);
    if (s) {
        fprintf(stderr, "leansim export: %s\n", err);
        return exit_of(s);
    }
    return 0;
}
