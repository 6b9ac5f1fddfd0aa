/*
 * cmd_store.c: the commands that write the results database:
 *   leansim sweep FILE.exp [--db results.db]
 *   leansim ingest FILE.csv [--db results.db]
 * Input is checked in full before the database is opened where possible
 * (sweep files, GPU specs); an ingest runs in one transaction.  Bad input:
 * exit 2 with the file, line and text; database untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "model.h"

/* Parses `CMD FILE [--db PATH]`; returns -1 to go on or an exit code. */
static int parse_file_db(const char *cmd, const char *usage, int argc, char **argv, const char **file,
                         const char **db)
{
    *file = NULL;
    *db = "results.db";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("%s", usage);
            return 0;
        }
        if (!strcmp(argv[i], "--db")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "leansim %s: --db: missing value (FILE)\n", cmd);
                return 2;
            }
            *db = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "leansim %s: unknown option '%s' (leansim %s --help)\n", cmd, argv[i], cmd);
            return 2;
        } else if (*file) {
            fprintf(stderr, "leansim %s: one file only ('%s' and '%s')\n", cmd, *file, argv[i]);
            return 2;
        } else {
            *file = argv[i];
        }
    }
    if (!*file) {
        fprintf(stderr, "leansim %s: missing FILE (leansim %s --help)\n", cmd, cmd);
        return 2;
    }
    return -1;
}

int cmd_sweep(int argc, char **argv)
{
    const char *file, *dbpath;
    int rc = parse_file_db("sweep",
                           "usage: leansim sweep FILE.exp [--db results.db]\n"
                           "  runs every combination of a sweep file through its engines (sim, model) into the\n"
                           "  database; rows already there are skipped, so a re-run adds nothing and a killed\n"
                           "  sweep resumes.  Keys: gpus, sms, ctx, batch, heads, kv_heads, head_dim, dtype,\n"
                           "  schedules, block_n, splits, ctas_per_sm, engines; lists 'a, b', ranges\n"
                           "  '1k..512k *2' and '1..9 +2'.\n",
                           argc, argv, &file, &dbpath);
    if (rc >= 0) return rc;
    static sweep_spec s;
    char err[1024];
    if (sweep_load(&s, file, err, sizeof err)) {
        fprintf(stderr, "leansim sweep: %s\n", err);
        return 2;
    }
    for (int i = 0; i < s.n_gpus; i++) {
        gpu_spec g;
        if (gpu_spec_load(&g, s.gpus[i], err, sizeof err)) {
            fprintf(stderr, "leansim sweep: %s: gpus: %s\n", file, err);
            return 2;
        }
    }
    sqlite3 *db;
    if ((rc = store_open(&db, dbpath, err, sizeof err))) {
        fprintf(stderr, "leansim sweep: %s\n", err);
        return rc == STORE_EINPUT ? 2 : 1;
    }
    sweep_stats st;
    rc = sweep_run(db, &s, file, isatty(2) ? stderr : NULL, &st, err, sizeof err);
    store_close(db);
    if (rc) {
        fprintf(stderr, "leansim sweep: %s\n", err);
        return rc == STORE_EINPUT ? 2 : 1;
    }
    printf("%s: %lld rows: %lld added, %lld already present, %lld skipped (invalid for the schedule) in %.2f s -> %s\n",
           file, (long long)st.total, (long long)st.added, (long long)st.present, (long long)st.skipped, st.seconds,
           dbpath);
    if (st.total > 0 && st.skipped == st.total) {
        fprintf(stderr, "leansim sweep: %s: every one of its %lld rows is invalid (a KV-head count that does not "
                "divide the heads, a kernel that does not fit, a grid above residency): nothing stored\n", file,
                (long long)st.total);
        return 2;
    }
    return 0;
}

int cmd_ingest(int argc, char **argv)
{
    const char *file, *dbpath;
    int rc = parse_file_db("ingest",
                           "usage: leansim ingest FILE.csv [--db results.db]\n"
                           "  stores the kernel runner's CSV in the measurements table: every line checked,\n"
                           "  nothing stored if one is bad; re-ingesting a file adds nothing.\n",
                           argc, argv, &file, &dbpath);
    if (rc >= 0) return rc;
    char err[1024];
    int added = 0;
    /* check the whole file before the database is opened (or created) */
    if (store_ingest_csv(NULL, file, &added, err, sizeof err)) {
        fprintf(stderr, "leansim ingest: %s\n", err);
        return 2;
    }
    sqlite3 *db;
    if ((rc = store_open(&db, dbpath, err, sizeof err))) {
        fprintf(stderr, "leansim ingest: %s\n", err);
        return rc == STORE_EINPUT ? 2 : 1;
    }
    rc = store_ingest_csv(db, file, &added, err, sizeof err);
    store_close(db);
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
    printf("%s: %d rows added -> %s\n", file, added, dbpath);
    return 0;
}
