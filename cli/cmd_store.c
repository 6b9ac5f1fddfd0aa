/*
 * cmd_store.c: the commands that write the results database:
 *   leansim sweep FILE.exp [--db results.db] [--jobs N] [--shard I/N]
 *   leansim ingest FILE.csv [--db results.db]
 *   leansim merge A.db [B.db ...] --into C.db
 * Input is checked in full before the database is opened (a sweep file
 * with its GPU specs and kernel profiles, and that an engine takes one of
 * its rows; an ingest's CSV, read once so that a pipe serves); an ingest
 * runs in one transaction.  Bad input: exit 2 with the file, line and
 * text; database untouched, none made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "cmd.h"
#include "results.h"

enum { S_DB, S_JOBS, S_SHARD, S_INTO };

#define MERGE_MAX_SOURCES 256   /* databases one merge takes */

static const args_opt db_opts[] = {
    {"db", "FILE", "the results database (default results.db; created if missing)", S_DB},
    {NULL, NULL, NULL, 0},
};

static const args_opt sweep_opts[] = {
    {"jobs", "N", "N processes on this machine, writing one database (default 1)", S_JOBS},
    {"shard", "I/N", "only shard I of N (0 <= I < N): the configurations whose index in\n"
                     "sweep order is I modulo N; N machines or array jobs run one each,\n"
                     "`leansim merge` joins their databases", S_SHARD},
    {NULL, NULL, NULL, 0},
};

static const args_opt merge_opts[] = {
    {"into", "C.db", "the database to merge into (created if missing; required)", S_INTO},
    {NULL, NULL, NULL, 0},
};

/* The options of sweep, ingest and merge. */
typedef struct store_args {
    const char *db, *into;
    int jobs, shard, n_shards;
} store_args;

/* Parses "I/N" with 0 <= I < N <= 4096, each part by the shared size parser. */
static int parse_shard(const char *v, int *i, int *n)
{
    char a[32];
    const char *slash = strchr(v, '/');
    int64_t x, y;
    if (!slash || (size_t)(slash - v) >= sizeof a) return -1;
    memcpy(a, v, (size_t)(slash - v));
    a[slash - v] = 0;
    if (opts_parse_size(a, &x) || opts_parse_size(slash + 1, &y) || y < 1 || y > 4096 || x < 0 || x >= y) return -1;
    *i = (int)x;
    *n = (int)y;
    return 0;
}

static int store_opt(void *ctx, int id, const char *name, const char *v, char *err, int errlen)
{
    store_args *a = ctx;
    switch (id) {
    case S_DB: a->db = v; return 0;
    case S_INTO: a->into = v; return 0;
    case S_JOBS: return opts_parse_int(name, v, 1, 256, &a->jobs, err, errlen) ? 2 : 0;
    case S_SHARD:
        if (parse_shard(v, &a->shard, &a->n_shards)) {
            snprintf(err, (size_t)errlen, "%s %s: not I/N with 0 <= I < N <= 4096", name, v);
            return 2;
        }
        return 0;
    }
    return 2;
}

/* Parses `CMD FILE` and c's options into a; -1 to go on or an exit code. */
static int parse_file_db(const args_cmd *c, int argc, char **argv, const char **file, store_args *a)
{
    *file = NULL;
    int n;
    int rc = args_parse(c, argc, argv, NULL, store_opt, a, file, 1, &n);
    if (rc >= 0) return rc;
    if (!*file) {
        fprintf(stderr, "leansim %s: missing FILE (leansim %s --help)\n", c->name, c->name);
        return 2;
    }
    return -1;
}

static double wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int cmd_sweep(int argc, char **argv)
{
    static const args_cmd c = {
        "sweep", "FILE.exp [--db results.db] [--jobs N] [--shard I/N]",
        "  runs every combination of a sweep file through its engines (sim, model) into the\n"
        "  database; rows already there are skipped, so a re-run adds nothing and a killed\n"
        "  sweep resumes.  Keys: gpus, sms, ctx, batch, heads, kv_heads, head_dim, dtype,\n"
        "  schedules, block_n, splits, ctas_per_sm, engines, kernels; lists 'a, b', ranges\n"
        "  '1k..512k *2' and '1..9 +2'.\n",
        0, {db_opts, sweep_opts, NULL}};
    const char *file;
    store_args sa = {"results.db", NULL, 1, 0, 1};
    int rc = parse_file_db(&c, argc, argv, &file, &sa);
    if (rc >= 0) return rc;
    const char *dbpath = sa.db;
    int jobs = sa.jobs, shard = sa.shard, n_shards = sa.n_shards;
    static sweep_spec s;
    char err[1024];
    if (sweep_load(&s, file, err, sizeof err)) {
        fprintf(stderr, "leansim sweep: %s\n", err);
        return 2;
    }
    /* a sweep whose every row an engine refuses (a kernel that does not fit, a grid
     * above residency) is known before the database is made: run until one row is taken */
    sweep_stats st;
    s.shard = shard;
    s.n_shards = n_shards;
    if ((rc = sweep_run(NULL, &s, file, NULL, &st, err, sizeof err))) {
        fprintf(stderr, "leansim sweep: %s\n", err);
        return rc == STORE_EINPUT ? 2 : 1;
    }
    if (st.total > 0 && !st.added) {
        fprintf(stderr, "leansim sweep: %s: every one of its %lld rows is invalid (a kernel that does not fit, a grid "
                "above residency): nothing to store\n", file, (long long)st.total);
        return 2;
    }
    /* the database (and its schema) exists before any process writes it */
    sqlite3 *db;
    if ((rc = store_open_create(&db, dbpath, err, sizeof err))) {
        fprintf(stderr, "leansim sweep: %s\n", err);
        return rc == STORE_EINPUT ? 2 : 1;
    }
    double t0 = wall_s();
    if (jobs == 1) {
        rc = sweep_run(db, &s, file, isatty(2) ? stderr : NULL, &st, err, sizeof err);
        store_close(db);
        if (rc) {
            fprintf(stderr, "leansim sweep: %s\n", err);
            return rc == STORE_EINPUT ? 2 : 1;
        }
    } else {
        /* job j runs shard (shard + j * n_shards) of (n_shards * jobs): each its own
         * process and connection; SQLite's locking orders their transactions */
        store_close(db);
        memset(&st, 0, sizeof st);
        int fds[256];
        pid_t pids[256];
        fflush(NULL);
        for (int j = 0; j < jobs; j++) {
            int pfd[2];
            if (pipe(pfd) || (pids[j] = fork()) < 0) {
                fprintf(stderr, "leansim sweep: --jobs %d: cannot start process %d\n", jobs, j + 1);
                for (int k = 0; k < j; k++) kill(pids[k], SIGTERM);
                return 1;
            }
            if (pids[j] == 0) {
                close(pfd[0]);
                sweep_stats cs;
                s.shard = shard + j * n_shards;
                s.n_shards = n_shards * jobs;
                int crc = store_open_create(&db, dbpath, err, sizeof err);
                if (!crc) crc = sweep_run(db, &s, file, j == 0 && isatty(2) ? stderr : NULL, &cs, err, sizeof err);
                if (!crc) store_close(db);
                if (crc) fprintf(stderr, "leansim sweep: job %d: %s\n", j + 1, err);
                else if (write(pfd[1], &cs, sizeof cs) != (ssize_t)sizeof cs) crc = STORE_EDB;
                _exit(crc == 0 ? 0 : crc == STORE_EINPUT ? 2 : 1);
            }
            close(pfd[1]);
            fds[j] = pfd[0];
        }
        int worst = 0;
        for (int j = 0; j < jobs; j++) {
            sweep_stats cs;
            int got = read(fds[j], &cs, sizeof cs) == (ssize_t)sizeof cs;
            close(fds[j]);
            int status = 0;
            waitpid(pids[j], &status, 0);
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
            if (code > worst) worst = code;
            if (got && code == 0) {
                st.total += cs.total;
                st.added += cs.added;
                st.present += cs.present;
                st.skipped += cs.skipped;
            }
        }
        if (worst) return worst;
    }
    st.seconds = wall_s() - t0;
    printf("%s: %lld rows", file, (long long)st.total);
    if (n_shards > 1) printf(" (shard %d of %d)", shard, n_shards);
    if (jobs > 1) printf(" in %d processes", jobs);
    printf(": %lld added, %lld already present, %lld skipped (invalid for the schedule) in %.2f s -> %s\n",
           (long long)st.added, (long long)st.present, (long long)st.skipped, st.seconds, dbpath);
    return 0;
}

int cmd_ingest(int argc, char **argv)
{
    static const args_cmd c = {
        "ingest", "FILE.csv [--db results.db]",
        "  stores the kernel runner's CSV in the measurements table: every line checked,\n"
        "  nothing stored if one is bad; re-ingesting a file adds nothing.\n",
        0, {db_opts, NULL}};
    const char *file;
    store_args sa = {"results.db", NULL, 1, 0, 1};
    int rc = parse_file_db(&c, argc, argv, &file, &sa);
    if (rc >= 0) return rc;
    const char *dbpath = sa.db;
    char err[1024];
    int added = 0;
    /* the input read once (a pipe cannot be read twice), checked whole before
     * the database is opened (or created), then stored */
    size_t len;
    int rst;
    char *text = store_ingest_read(file, &len, &rst, err, sizeof err);
    if (!text) {
        fprintf(stderr, "leansim ingest: %s\n", err);
        return rst == STORE_EINPUT ? 2 : 1;
    }
    if ((rc = store_ingest_text(NULL, text, len, file, &added, err, sizeof err))) {
        fprintf(stderr, "leansim ingest: %s\n", err);
        free(text);
        return rc == STORE_EINPUT ? 2 : 1;
    }
    sqlite3 *db;
    if ((rc = store_open_create(&db, dbpath, err, sizeof err))) {
        fprintf(stderr, "leansim ingest: %s\n", err);
        free(text);
        return rc == STORE_EINPUT ? 2 : 1;
    }
    rc = store_ingest_text(db, text, len, file, &added, err, sizeof err);
    store_close(db);
    free(text);
    if (rc) {
        fprintf(stderr, "leansim ingest: %s\n", err);
        return rc == STORE_EINPUT ? 2 : 1;
    }
    const store_ingest_note *note = store_ingest_notes();
    if (note->repeats)
        fprintf(stderr, "leansim ingest: %s: %d rows repeat a configuration stored before them (first at line %d): "
                "the first row of each is kept\n", file, note->repeats, note->first_repeat_line);
    if (note->unknown_gpu[0])
        fprintf(stderr, "leansim ingest: %s: GPU '%s' maps to no spec (leansim gpus): its rows are stored but not "
                "validated\n", file, note->unknown_gpu);
    printf("%s: %d rows added -> %s%s\n", file, added, dbpath,
           note->format == 1 ? " (runner CSV format 1: plan asked, knobs and build switches not recorded)" : "");
    return 0;
}

int cmd_merge(int argc, char **argv)
{
    static const args_cmd c = {
        "merge", "A.db [B.db ...] --into C.db",
        "  copies the runs, predictions and measurements of each database into C.db\n"
        "  (created if missing), as the shards of `leansim sweep --shard I/N` are joined:\n"
        "  each run keeps its provenance under a new id, rows already in C.db are kept,\n"
        "  merging twice adds nothing.  validate's pairings are not copied: run\n"
        "  `leansim validate --db C.db` after merging measured rows.\n",
        0, {merge_opts, NULL}};
    /* room for every operand, so that too many are told as such, not as an unexpected one */
    const char *src[argc > 0 ? argc : 1];
    store_args sa = {NULL, NULL, 1, 0, 1};
    int n;
    int prc = args_parse(&c, argc, argv, NULL, store_opt, &sa, src, argc, &n);
    if (prc >= 0) return prc;
    const char *into = sa.into;
    if (!into || !n) {
        fprintf(stderr, "leansim merge: %s (leansim merge --help)\n", !n ? "no database to merge" : "--into: missing");
        return 2;
    }
    if (n > MERGE_MAX_SOURCES) {
        fprintf(stderr, "leansim merge: %d sources: at most %d sources (merge them in steps)\n", n, MERGE_MAX_SOURCES);
        return 2;
    }
    char err[1024];
    /* every source opens as a leansim database before anything is written */
    for (int i = 0; i < n; i++) {
        sqlite3 *db;
        struct stat sb;
        if (stat(src[i], &sb) || !S_ISREG(sb.st_mode)) {
            fprintf(stderr, "leansim merge: %s: no such database\n", src[i]);
            return 2;
        }
        if (store_open_readonly(&db, src[i], err, sizeof err)) {   /* named as given, not as --db */
            fprintf(stderr, "leansim merge: %s\n", !strncmp(err, "--db ", 5) ? err + 5 : err);
            return 2;
        }
        store_close(db);
        char a[4096], b[4096];
        if (realpath(src[i], a) && realpath(into, b) && !strcmp(a, b)) {
            fprintf(stderr, "leansim merge: %s: is the --into database itself\n", src[i]);
            return 2;
        }
    }
    sqlite3 *db;
    int rc = store_open_create(&db, into, err, sizeof err);
    if (rc) {
        /* the store names its file as --db's */
        fprintf(stderr, "leansim merge: %s%s\n", !strncmp(err, "--db ", 5) ? "--into " : "",
                !strncmp(err, "--db ", 5) ? err + 5 : err);
        return rc == STORE_EINPUT ? 2 : 1;
    }
    for (int i = 0; i < n; i++) {
        store_merge_stats st;
        if ((rc = store_merge(db, src[i], &st, err, sizeof err))) {
            fprintf(stderr, "leansim merge: %s\n", err);
            store_close(db);
            return rc == STORE_EINPUT ? 2 : 1;
        }
        printf("%s: %lld runs, %lld predictions, %lld measurements added -> %s", src[i], (long long)st.runs,
               (long long)st.predictions, (long long)st.measurements, into);
        if (st.pairings_dropped) printf(" (%lld pairings not copied: run validate)", (long long)st.pairings_dropped);
        printf("\n");
    }
    store_close(db);
    return 0;
}

