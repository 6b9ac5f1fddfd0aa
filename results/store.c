/*
 * store.c: the SQLite results database (see model.h, experiments/schema.sql).
 *
 * Opens the database in WAL mode with a busy timeout, so that two sweeps can
 * write to one file at once (SQLite serialises the writers; each waits for
 * the other's transaction).  The schema comes from the copy compiled into
 * the binary.  Also reads the kernel runner's CSV into `measurements`, all of
 * a file in one transaction.
 */
#include "results.h"
#include "specfile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "embed.h"
#include "runcsv.h"
#include "version.h"


/* Reports a failed SQLite call with the expression, file and line. */
#define SQL_CHECK(db, expr)                                                                                  \
    do {                                                                                                     \
        if ((expr) != SQLITE_OK) {                                                                           \
            snprintf(err, (size_t)errlen, "sqlite: %s (%s, %s:%d)", sqlite3_errmsg(db), #expr, __FILE__, __LINE__); \
            goto fail;                                                                                       \
        }                                                                                                    \
    } while (0)

const char *store_version(void)
{
    return LEANSIM_VERSION;
}

const char *store_git_commit(void)
{
    return LEANSIM_GIT_COMMIT;
}

static const char *schema_text(void)
{
    for (int i = 0; i < embed_count; i++)
        if (strcmp(embed_files[i].name, "schema.sql") == 0) return embed_files[i].text;
    return NULL;
}

/* 1 when table t of db has column c. */
static int has_column(sqlite3 *db, const char *t, const char *c)
{
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA main.table_info(%s)", t);
    sqlite3_stmt *q;
    int found = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return 0;
    while (!found && sqlite3_step(q) == SQLITE_ROW) found = !strcmp((const char *)sqlite3_column_text(q, 1), c);
    sqlite3_finalize(q);
    return found;
}

/* A database made before the runner's CSV format 2 has a measurements
 * table without the columns of that format (runcsv.h) and with the old
 * table-level UNIQUE key: it is rebuilt in place, SQLite's documented way
 * (a new table from the schema's own definition, the rows copied with their
 * ids, the old table dropped, the new one renamed; the view is dropped and
 * the schema recreates it), so old rows hold NULL, unknown, in the new
 * columns.  One transaction: a failure leaves the file as it was. */
static int migrate_measurements(sqlite3 *db, const char *schema, const char *path, char *err, int errlen)
{
    static const char head[] = "CREATE TABLE IF NOT EXISTS measurements (";
    if (!has_column(db, "measurements", "gpu") || has_column(db, "measurements", "req_block_n")) return STORE_OK;
    const char *b = strstr(schema, head), *e = b ? strstr(b, "\n);") : NULL;
    char *ddl = NULL, *sql = NULL, cols[2048];
    int rc = STORE_EDB, in_tx = 0;
    if (!e) {
        snprintf(err, (size_t)errlen, "--db %s: schema.sql has no measurements table to migrate to", path);
        return STORE_EDB;
    }
    if (sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL) != SQLITE_OK) goto db;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) goto db;
    in_tx = 1;
    if (has_column(db, "measurements", "req_block_n")) {   /* another process migrated it meanwhile */
        rc = STORE_OK;
        goto done;
    }
    const char *cols0 = b + sizeof head - 1;   /* the column list, up to its closing ')' at e + 1 */
    ddl = sqlite3_mprintf("CREATE TABLE measurements_new (%.*s", (int)(e + 2 - cols0), cols0);
    if (!ddl) goto db;
    {   /* the old table's columns, all of which the new one has */
        sqlite3_stmt *q;
        int o = 0;
        cols[0] = 0;
        if (sqlite3_prepare_v2(db, "PRAGMA main.table_info(measurements)", -1, &q, NULL) != SQLITE_OK) goto db;
        while (sqlite3_step(q) == SQLITE_ROW && o < (int)sizeof cols)
            o += snprintf(cols + o, sizeof cols - (size_t)o, "%s%s", o ? ", " : "", sqlite3_column_text(q, 1));
        sqlite3_finalize(q);
        if (o >= (int)sizeof cols) goto db;
    }
    sql = sqlite3_mprintf("DROP VIEW IF EXISTS measured_vs_predicted; %s; "
                          "INSERT INTO measurements_new (%s) SELECT %s FROM measurements ORDER BY id; "
                          "DROP TABLE measurements; ALTER TABLE measurements_new RENAME TO measurements; COMMIT",
                          ddl, cols, cols);
    if (!sql || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) goto db;
    in_tx = 0;
    rc = STORE_OK;
    goto done;
db:
    snprintf(err, (size_t)errlen, "--db %s: migrating measurements to the runner's CSV format 2: sqlite: %s", path,
             sqlite3_errmsg(db));
done:
    if (in_tx) sqlite3_exec(db, rc == STORE_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    sqlite3_free(ddl);
    sqlite3_free(sql);
    return rc;
}

/* store_open and store_open_create: adopt 1 makes a leansim database of an
 * existing file that holds no table (0 bytes, or an empty SQLite file). */
static int open_rw(sqlite3 **dbp, const char *path, int adopt, char *err, int errlen)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    *dbp = NULL;
    struct stat sb;
    int existed = stat(path, &sb) == 0;
    const char *schema = schema_text();
    if (!schema) {
        snprintf(err, (size_t)errlen, "schema.sql was not compiled in");
        return STORE_EDB;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        /* the path the user gave cannot hold a database: bad input, as the read-only open says */
        snprintf(err, (size_t)errlen, "--db %s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return STORE_EINPUT;
    }
    SQL_CHECK(db, sqlite3_busy_timeout(db, 60000));
    {   /* a SQLite file of another application, or no SQLite file at all, is left as it is */
        int tables = 0, ours = 0, prc;
        sqlite3_stmt *q = NULL;
        if ((prc = sqlite3_prepare_v2(db, "SELECT count(*), sum(name IN ('runs', 'predictions', 'measurements')) "
                                      "FROM sqlite_master WHERE type = 'table'", -1, &q, NULL)) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW) {
            tables = sqlite3_column_int(q, 0);
            ours = sqlite3_column_int(q, 1);
        }
        sqlite3_finalize(q);
        if (prc == SQLITE_NOTADB || sqlite3_errcode(db) == SQLITE_NOTADB) {
            snprintf(err, (size_t)errlen, "--db %s: not a SQLite file, so not a leansim results database: not changed",
                     path);
            sqlite3_close(db);
            return STORE_EINPUT;
        }
        if (tables > 0 && ours == 0) {
            snprintf(err, (size_t)errlen, "--db %s: a SQLite file with %d tables of its own and none of leansim's: "
                     "not changed (name a new file)", path, tables);
            sqlite3_close(db);
            return STORE_EINPUT;
        }
        if (existed && tables == 0 && !adopt) {   /* a command that reads makes no database of it */
            snprintf(err, (size_t)errlen, "--db %s: not a leansim results database (leansim ingest creates one)", path);
            sqlite3_close(db);
            return STORE_EINPUT;
        }
    }
    if (migrate_measurements(db, schema, path, err, errlen)) {
        sqlite3_close(db);
        return STORE_EDB;
    }
    /* Switching a new file to WAL and creating the schema can meet another
     * process doing the same; SQLite does not always wait through its busy
     * handler there, so retry on a lock for up to a minute. */
    for (int tries = 0;; tries++) {
        int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, &msg);
        if (rc == SQLITE_OK) rc = sqlite3_exec(db, schema, NULL, NULL, &msg);
        if (rc == SQLITE_OK) break;
        if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && tries < 600) {
            sqlite3_free(msg);
            msg = NULL;
            sqlite3_sleep(100);
            continue;
        }
        snprintf(err, (size_t)errlen, "--db %s: %s", path, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        if (rc == SQLITE_NOTADB) {   /* the file the user named, not the machine */
            sqlite3_close(db);
            return STORE_EINPUT;
        }
        goto fail;
    }
    *dbp = db;
    return STORE_OK;
fail:
    sqlite3_close(db);
    return STORE_EDB;
}

int store_open(sqlite3 **dbp, const char *path, char *err, int errlen)
{
    return open_rw(dbp, path, 0, err, errlen);
}

int store_open_create(sqlite3 **dbp, const char *path, char *err, int errlen)
{
    return open_rw(dbp, path, 1, err, errlen);
}

int store_open_readonly(sqlite3 **dbp, const char *path, char *err, int errlen)
{
    sqlite3 *db = NULL;
    *dbp = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, (size_t)errlen, "--db %s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return STORE_EINPUT;
    }
    sqlite3_busy_timeout(db, 60000);
    int ours = 0;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('runs', "
                           "'predictions', 'measurements')", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        ours = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (ours != 3) {
        snprintf(err, (size_t)errlen, "--db %s: not a leansim results database (leansim ingest creates one)", path);
        sqlite3_close(db);
        return STORE_EINPUT;
    }
    *dbp = db;
    return STORE_OK;
}

static void store_uncache(sqlite3 *db);

void store_close(sqlite3 *db)
{
    store_uncache(db);
    sqlite3_close(db);
}

int store_run_begin(sqlite3 *db, const char *command, const char *args, const gpu_spec *g, int64_t *run_id,
                    char *err, int errlen)
{
    sqlite3_stmt *st = NULL;
    char when[32], host[128] = "unknown", hash[24] = "";
    time_t t = time(NULL);
    struct tm tmv;
    gmtime_r(&t, &tmv);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    if (gethostname(host, sizeof host - 1)) snprintf(host, sizeof host, "unknown");
    if (g) snprintf(hash, sizeof hash, "%016llx", (unsigned long long)g->hash);
    SQL_CHECK(db, sqlite3_prepare_v2(db,
                                     "INSERT INTO runs (command, args, git_commit, version, started_at, host, "
                                     "spec_source, spec_hash) VALUES (?,?,?,?,?,?,?,?)",
                                     -1, &st, NULL));
    sqlite3_bind_text(st, 1, command, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, args, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, store_git_commit(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, store_version(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, when, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, host, -1, SQLITE_TRANSIENT);
    if (g) {
        sqlite3_bind_text(st, 7, g->source, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 8, hash, -1, SQLITE_TRANSIENT);
    }
    if (sqlite3_step(st) != SQLITE_DONE) {
        snprintf(err, (size_t)errlen, "sqlite: %s (insert into runs)", sqlite3_errmsg(db));
        goto fail;
    }
    *run_id = sqlite3_last_insert_rowid(db);
    sqlite3_finalize(st);
    return STORE_OK;
fail:
    sqlite3_finalize(st);
    return STORE_EDB;
}

void store_ctx_text(const workload *w, char *buf, int len)
{
    int n = 0;
    int all = 1;
    for (int r = 1; r < w->batch; r++)
        if (w->ctx[r] != w->ctx[0]) all = 0;
    if (all && !w->ragged) {
        snprintf(buf, (size_t)len, "%lld", (long long)w->ctx[0]);
        return;
    }
    buf[0] = 0;
    for (int r = 0; r < w->batch && n < len; r++)
        n += snprintf(buf + n, (size_t)(len - n), "%s%lld", r ? ";" : "", (long long)w->ctx[r]);
}

/* Binds the key columns in the order of both statements below, from 1. */
static int bind_key(sqlite3_stmt *st, const store_key *k, char *ctxbuf, int ctxlen)
{
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)k->spec_hash);
    store_ctx_text(k->w, ctxbuf, ctxlen);
    int i = 1;
    sqlite3_bind_text(st, i++, k->gpu, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, i++, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, i++, k->engine, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, k->label ? k->label : sched_name(k->schedule), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, i++, k->w->batch);
    sqlite3_bind_int(st, i++, k->w->heads);
    sqlite3_bind_int(st, i++, k->w->kv_heads);
    sqlite3_bind_int(st, i++, k->w->head_dim);
    sqlite3_bind_text(st, i++, dtype_name(k->w->dtype), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, ctxbuf, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, i++, k->block_n);
    sqlite3_bind_int(st, i++, k->splits);
    sqlite3_bind_int(st, i++, k->grid);
    sqlite3_bind_int(st, i++, k->ctas_per_sm);
    return i;
}

#define KEY_COLS "gpu, spec_hash, engine, schedule, batch, heads, kv_heads, head_dim, dtype, ctx, " \
                 "req_block_n, req_splits, req_grid, req_cps"

/* Statements cached per connection (a sweep calls these per row). */
static sqlite3 *cached_db;
static sqlite3_stmt *st_put, *st_has;

static int prepare_cached(sqlite3 *db)
{
    if (cached_db == db && st_put && st_has) return 0;
    sqlite3_finalize(st_put);
    sqlite3_finalize(st_has);
    st_put = st_has = NULL;
    cached_db = db;
    if (sqlite3_prepare_v2(db,
                           "INSERT OR IGNORE INTO predictions (" KEY_COLS ", run_id, sms, ctx_tokens, block_n, ctas, "
                           "splits, ctas_per_sm, waves, sm_busy, time_us, main_us, combine_us, hbm_bytes, kv_bytes, "
                           "bw_gbps, sol_us) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st_put, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(db,
                           "SELECT id FROM predictions WHERE gpu=? AND spec_hash=? AND engine=? AND schedule=? AND "
                           "batch=? AND heads=? AND kv_heads=? AND head_dim=? AND dtype=? AND ctx=? AND "
                           "req_block_n=? AND req_splits=? AND req_grid=? AND req_cps=?",
                           -1, &st_has, NULL) != SQLITE_OK)
        return -1;
    return 0;
}

int store_prediction_put(sqlite3 *db, int64_t run_id, const store_key *k, const sim_result *r, char *err, int errlen)
{
    char ctx[WL_MAX_BATCH * 9 + 16];
    if (prepare_cached(db)) {
        snprintf(err, (size_t)errlen, "sqlite: %s (prepare insert)", sqlite3_errmsg(db));
        return STORE_EDB;
    }
    sqlite3_stmt *st = st_put;
    sqlite3_reset(st);
    int i = bind_key(st, k, ctx, sizeof ctx);
    int64_t longest = 0;
    for (int q = 0; q < k->w->batch; q++)
        if (k->w->ctx[q] > longest) longest = k->w->ctx[q];
    sqlite3_bind_int64(st, i++, run_id);
    sqlite3_bind_int(st, i++, k->sms);
    sqlite3_bind_int64(st, i++, longest);
    sqlite3_bind_int(st, i++, r->block_n);
    sqlite3_bind_int(st, i++, r->ctas);
    sqlite3_bind_int(st, i++, r->splits);
    sqlite3_bind_int(st, i++, r->ctas_per_sm);
    sqlite3_bind_double(st, i++, r->waves);
    sqlite3_bind_double(st, i++, r->sm_busy);
    sqlite3_bind_double(st, i++, r->time_us);
    sqlite3_bind_double(st, i++, r->main_us);
    sqlite3_bind_double(st, i++, r->combine_us);
    sqlite3_bind_double(st, i++, r->hbm_bytes);
    sqlite3_bind_double(st, i++, r->kv_bytes);
    sqlite3_bind_double(st, i++, r->bw_gbps);
    sqlite3_bind_double(st, i++, r->sol_us);
    if (sqlite3_step(st) != SQLITE_DONE) {
        snprintf(err, (size_t)errlen, "sqlite: %s (insert prediction)", sqlite3_errmsg(db));
        sqlite3_reset(st);
        return STORE_EDB;
    }
    sqlite3_reset(st);
    return sqlite3_changes(db) > 0;
}

int64_t store_prediction_id(sqlite3 *db, const store_key *k)
{
    char ctx[WL_MAX_BATCH * 9 + 16];
    if (prepare_cached(db)) return STORE_EDB;
    sqlite3_reset(st_has);
    bind_key(st_has, k, ctx, sizeof ctx);
    int rc = sqlite3_step(st_has);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st_has, 0) : 0;
    sqlite3_reset(st_has);
    return rc == SQLITE_ROW ? id : rc == SQLITE_DONE ? 0 : STORE_EDB;
}

int store_prediction_has(sqlite3 *db, const store_key *k)
{
    int64_t id = store_prediction_id(db, k);
    return id < 0 ? STORE_EDB : id > 0;
}

int store_pairing_put(sqlite3 *db, int64_t measurement_id, int64_t prediction_id, double measured_us, char *err,
                      int errlen)
{
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(db,
                                "INSERT OR IGNORE INTO pairings (measurement_id, prediction_id, measured_us) "
                                "VALUES (?,?,?)",
                                -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_int64(st, 1, measurement_id);
        sqlite3_bind_int64(st, 2, prediction_id);
        sqlite3_bind_double(st, 3, measured_us);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    if (!ok) snprintf(err, (size_t)errlen, "sqlite: %s (insert pairing)", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return ok ? STORE_OK : STORE_EDB;
}

/* Drops the cached statements of db (before closing it). */
static void store_uncache(sqlite3 *db)
{
    if (cached_db != db) return;
    sqlite3_finalize(st_put);
    sqlite3_finalize(st_has);
    st_put = st_has = NULL;
    cached_db = NULL;
}

/* ---------------------------------------------------------------- ingest */

/* The runner's columns (runcsv.h), and the format version that added each. */
#define RUNCSV_NAME_(name, since) #name,
#define RUNCSV_SINCE_(name, since) since,
static const char *const col_names[RUNCSV_COUNT] = {RUNCSV_COLUMNS(RUNCSV_NAME_)};
static const int col_since[RUNCSV_COUNT] = {RUNCSV_COLUMNS(RUNCSV_SINCE_)};

/* How each column is stored: 'i' integer, 't' text, else a number. */
static const char col_type[RUNCSV_COUNT] = {
    [RUNCSV_gpu] = 't',         [RUNCSV_sms] = 'i',      [RUNCSV_driver] = 't',      [RUNCSV_nvcc] = 't',
    [RUNCSV_commit] = 't',      [RUNCSV_date] = 't',     [RUNCSV_schedule] = 't',    [RUNCSV_batch] = 'i',
    [RUNCSV_heads] = 'i',       [RUNCSV_kv_heads] = 'i', [RUNCSV_head_dim] = 'i',    [RUNCSV_dtype] = 't',
    [RUNCSV_ctx] = 't',         [RUNCSV_block_n] = 'i',  [RUNCSV_ctas] = 'i',        [RUNCSV_splits] = 'i',
    [RUNCSV_ctas_per_sm] = 'i', [RUNCSV_reps] = 'i',     [RUNCSV_req_block_n] = 'i', [RUNCSV_req_splits] = 'i',
    [RUNCSV_req_grid] = 'i',    [RUNCSV_req_cps] = 'i',  [RUNCSV_plan_cps] = 'i',    [RUNCSV_l2pf] = 'i',
    [RUNCSV_pdl] = 'i',         [RUNCSV_rows_cap] = 'i', [RUNCSV_arena] = 'i',       [RUNCSV_build] = 't'};

void store_csv_header(int v, char *buf, int len)
{
    int o = 0;
    buf[0] = 0;
    for (int c = 0; c < RUNCSV_COUNT && o < len; c++)
        if (col_since[c] <= v) o += snprintf(buf + o, (size_t)(len - o), "%s%s", o ? "," : "", col_names[c]);
}

/* Plain decimal as the runner writes it: digits after an optional '-', and
 * for a number an optional fraction and exponent.  strtoll and strtod take
 * more (leading space, '+', hex, "inf"), which would store what no runner
 * wrote. */
static int plain_decimal(const char *s, int fraction)
{
    if (*s == '-') s++;
    if (!isdigit((unsigned char)*s)) return 0;
    while (isdigit((unsigned char)*s)) s++;
    if (!fraction) return !*s;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s)) return 0;
        while (isdigit((unsigned char)*s)) s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!isdigit((unsigned char)*s)) return 0;
        while (isdigit((unsigned char)*s)) s++;
    }
    return !*s;
}

static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
    if (!plain_decimal(s, 0)) return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_num(const char *s, double lo, double *out)
{
    if (!plain_decimal(s, 1)) return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v) || v < lo) return -1;
    *out = v;
    return 0;
}

/* A text column: printable, no quotes or commas (the runner writes none),
 * no space at either end (" H100" would be another GPU than "H100"). */
static int text_ok(const char *s)
{
    if (!*s || isspace((unsigned char)s[0]) || isspace((unsigned char)s[strlen(s) - 1])) return 0;
    for (; *s; s++)
        if (!isprint((unsigned char)*s) || *s == '"') return 0;
    return 1;
}

static store_ingest_note last_note;

const store_ingest_note *store_ingest_notes(void)
{
    return &last_note;
}

#define INGEST_MAX_BYTES ((size_t)1 << 30)

char *store_ingest_read(const char *path, size_t *len, int *status, char *err, int errlen)
{
    *len = 0;
    *status = STORE_EINPUT;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, (size_t)errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (!fstat(fileno(f), &sb) && !S_ISREG(sb.st_mode) && !S_ISFIFO(sb.st_mode)) {
        fclose(f);
        snprintf(err, (size_t)errlen, "%s: not a file%s", path, S_ISDIR(sb.st_mode) ? " (a directory)" : "");
        return NULL;
    }
    /* a pipe has no size to ask: grow the buffer as it fills (the campaign's files are a few MB) */
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (cap - n < 2) {
            char *b = cap >= INGEST_MAX_BYTES ? NULL : realloc(buf, cap * 2);
            if (!b) break;   /* too large, or out of memory: not at the end of the file */
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    if (!buf || ferror(f) || !feof(f)) {
        const int too_large = !ferror(f) && cap >= INGEST_MAX_BYTES;
        snprintf(err, (size_t)errlen, "%s: %s", path,
                 ferror(f) ? "read error" : too_large ? "larger than 1 GB" : "out of memory");
        if (!too_large) *status = STORE_EDB;   /* the run's failure, not the input's */
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

int store_ingest_csv(sqlite3 *db, const char *path, int *added, char *err, int errlen)
{
    size_t len;
    *added = 0;
    memset(&last_note, 0, sizeof last_note);
    int st;
    char *text = store_ingest_read(path, &len, &st, err, errlen);
    if (!text) return st;
    int rc = store_ingest_text(db, text, len, path, added, err, errlen);
    free(text);
    return rc;
}

int store_ingest_text(sqlite3 *db, const char *text, size_t text_len, const char *path, int *added, char *err,
                      int errlen)
{
    memset(&last_note, 0, sizeof last_note);
    int64_t run_id = 0;
    sqlite3_stmt *st = NULL;
    char line[16384], orig[16384];
    int lineno = 0, rc = STORE_EINPUT, in_tx = 0, dups = 0, dup_line = 0;
    char *gl = NULL;
    *added = 0;
    if (text_len == 0) {
        snprintf(err, (size_t)errlen, "%s:1: empty file (expected the header '%s')", path, RUNCSV_HEADER);
        return STORE_EINPUT;
    }
    /* the lines are read from the text as from the file (a NUL byte stays in its line) */
    FILE *f = fmemopen((void *)text, text_len, "r");
    if (!f) {
        snprintf(err, (size_t)errlen, "%s: out of memory", path);
        return STORE_EDB;
    }
#define C(name) RUNCSV_##name   /* a column of runcsv.h */
#define BAD(...)                                                                                  \
    do {                                                                                          \
        int n_ = snprintf(err, (size_t)errlen, "%s:%d: ", path, lineno);                          \
        if (n_ < errlen) n_ += snprintf(err + n_, (size_t)(errlen - n_), __VA_ARGS__);            \
        if (n_ < errlen) snprintf(err + n_, (size_t)(errlen - n_), " >>> '%.200s'", orig);         \
        specfile_printable(err);                                                                  \
        rc = STORE_EINPUT;                                                                        \
        goto fail;                                                                                \
    } while (0)
    if (!fgets(line, sizeof line, f)) {
        snprintf(err, (size_t)errlen, "%s:1: empty file (expected the header '%s')", path, RUNCSV_HEADER);
        goto fail;
    }
    lineno = 1;
    line[strcspn(line, "\r\n")] = 0;
    snprintf(orig, sizeof orig, "%s", line);
    /* the header of one format version, column for column: pos[k] is the column of field k */
    int version = 0, ncols = 0, pos[RUNCSV_COUNT];
    for (int v = 1; v <= RUNCSV_VERSION && !version; v++) {
        char h[2048];
        store_csv_header(v, h, sizeof h);
        if (!strcmp(line, h)) version = v;
    }
    if (!version) BAD("header is none of the kernel runner's (sim/runcsv.h, format 1 to %d)", RUNCSV_VERSION);
    for (int c = 0; c < RUNCSV_COUNT; c++)
        if (col_since[c] <= version) pos[ncols++] = c;
    last_note.format = version;
    if (db && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, (size_t)errlen, "sqlite: %s (begin)", sqlite3_errmsg(db));
        rc = STORE_EDB;
        goto fail;
    }
    in_tx = db != NULL;
    if (db && store_run_begin(db, "ingest", path, NULL, &run_id, err, errlen)) {
        rc = STORE_EDB;
        goto fail;
    }
    /* every column of runcsv.h in its order (the database names commit git_commit), then ctx_tokens */
    char ins[4096];
    {
        int o = snprintf(ins, sizeof ins, "INSERT OR IGNORE INTO measurements (run_id");
        for (int c = 0; c < RUNCSV_COUNT; c++)
            o += snprintf(ins + o, sizeof ins - (size_t)o, ", %s", c == C(commit) ? "git_commit" : col_names[c]);
        o += snprintf(ins + o, sizeof ins - (size_t)o, ", ctx_tokens) VALUES (?");
        for (int c = 0; c <= RUNCSV_COUNT; c++) o += snprintf(ins + o, sizeof ins - (size_t)o, ",?");
        snprintf(ins + o, sizeof ins - (size_t)o, ")");
    }
    if (db && sqlite3_prepare_v2(db, ins, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, (size_t)errlen, "sqlite: %s (prepare)", sqlite3_errmsg(db));
        rc = STORE_EDB;
        goto fail;
    }
    size_t gcap = 0;
    ssize_t glen;
    while ((glen = getline(&gl, &gcap, f)) > 0) {
        lineno++;
        size_t len = (size_t)glen;
        if (len >= sizeof line) {
            snprintf(orig, sizeof orig, "%.60s...", gl);
            BAD("line too long");
        }
        memcpy(line, gl, len + 1);
        if (strlen(line) != len) {
            snprintf(orig, sizeof orig, "%.200s", line);
            BAD("a NUL byte inside the line");
        }
        if (line[len - 1] != '\n') {
            snprintf(orig, sizeof orig, "%.200s", line);
            BAD("the last line has no end of line (a cut file?): its last field cannot be trusted");
        }
        line[strcspn(line, "\r\n")] = 0;
        snprintf(orig, sizeof orig, "%s", line);
        if (!line[0]) continue;
        char *col[RUNCSV_COUNT];
        int n = 0;
        for (int c = 0; c < RUNCSV_COUNT; c++) col[c] = NULL;   /* NULL: not in this format */
        for (char *p = line;;) {
            if (n == ncols) BAD("more than %d columns", ncols);
            col[pos[n++]] = p;
            char *c = strchr(p, ',');
            if (!c) break;
            *c = 0;
            p = c + 1;
        }
        if (n != ncols) BAD("%d columns, expected %d", n, ncols);
        long long iv[RUNCSV_COUNT] = {0};
        double dv[RUNCSV_COUNT] = {0};
        static const int texts[] = {C(gpu), C(driver), C(nvcc), C(commit), C(date), C(schedule)};
        for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++)
            if (!text_ok(col[texts[k]]))
                BAD("%s: empty, not printable or with a space at an end '%s'", col_names[texts[k]], col[texts[k]]);
        for (const char *s = col[C(schedule)]; *s; s++)
            if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' && *s != '_')
                BAD("schedule '%s': not a schedule or peer name", col[C(schedule)]);
        if (parse_int(col[C(sms)], 1, 4096, &iv[C(sms)])) BAD("sms '%s': not an integer in [1, 4096]", col[C(sms)]);
        if (parse_num(col[C(sm_clock_mhz)], 0, &dv[C(sm_clock_mhz)]))
            BAD("sm_clock_mhz '%s': not a number >= 0", col[C(sm_clock_mhz)]);
        if (parse_num(col[C(mem_clock_mhz)], 0, &dv[C(mem_clock_mhz)]))
            BAD("mem_clock_mhz '%s': not a number >= 0", col[C(mem_clock_mhz)]);
        if (parse_int(col[C(batch)], 1, WL_MAX_BATCH, &iv[C(batch)]))
            BAD("batch '%s': not an integer in [1, %d]", col[C(batch)], WL_MAX_BATCH);
        if (parse_int(col[C(heads)], 1, WL_MAX_HEADS, &iv[C(heads)]))
            BAD("heads '%s': not an integer in [1, %d]", col[C(heads)], WL_MAX_HEADS);
        if (parse_int(col[C(kv_heads)], 1, iv[C(heads)], &iv[C(kv_heads)]) || iv[C(heads)] % iv[C(kv_heads)])
            BAD("kv_heads '%s': not a divisor of heads %lld", col[C(kv_heads)], iv[C(heads)]);
        if (parse_int(col[C(head_dim)], 64, 256, &iv[C(head_dim)]) ||
            (iv[C(head_dim)] != 64 && iv[C(head_dim)] != 128 && iv[C(head_dim)] != 256))
            BAD("head_dim '%s': not 64, 128 or 256", col[C(head_dim)]);
        if (dtype_parse(col[C(dtype)]) < 0) BAD("dtype '%s': unknown (fp16, bf16, fp8)", col[C(dtype)]);
        /* ctx: one length, or one per request separated by ';' */
        int64_t longest = 0;
        int nctx = 0;
        {
            /* strtok_r below skips empty lengths: an empty one anywhere is refused first */
            const char *cx = col[C(ctx)];
            if (!*cx || cx[0] == ';' || strstr(cx, ";;") || cx[strlen(cx) - 1] == ';')
                BAD("ctx '%s': empty length", cx);
            char buf[16384];
            snprintf(buf, sizeof buf, "%s", col[C(ctx)]);
            for (char *save = NULL, *t = strtok_r(buf, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
                long long v;
                if (parse_int(t, 1, WL_MAX_CTX, &v))
                    BAD("ctx '%s': length '%s' is not an integer in [1, %d]", col[C(ctx)], t, WL_MAX_CTX);
                if (v > longest) longest = v;
                nctx++;
            }
            if (nctx != 1 && nctx != iv[C(batch)]) BAD("ctx: %d lengths for batch %lld", nctx, iv[C(batch)]);
        }
        /* peer rows (schedule not ours) have no plan: empty plan columns read 0;
         * an empty max_err, or "unchecked", means not checked and is stored as -1 */
        int ours = sched_parse(col[C(schedule)]) >= 0;
        static const int plan_cols[] = {C(block_n), C(ctas), C(splits), C(ctas_per_sm)};
        for (size_t k = 0; k < sizeof plan_cols / sizeof plan_cols[0]; k++)
            if (!*col[plan_cols[k]]) {
                if (ours) BAD("%s: empty for schedule %s", col_names[plan_cols[k]], col[C(schedule)]);
                col[plan_cols[k]] = "0";
            }
        if (!*col[C(graph_us)]) col[C(graph_us)] = "0";
        int unchecked = !*col[C(max_err)] || !strcmp(col[C(max_err)], "unchecked");
        if (unchecked) col[C(max_err)] = "0";
        if (parse_int(col[C(block_n)], 0, 256, &iv[C(block_n)]) ||
            (iv[C(block_n)] != 0 && iv[C(block_n)] != 32 && iv[C(block_n)] != 64 && iv[C(block_n)] != 128 &&
             iv[C(block_n)] != 256))
            BAD("block_n '%s': not 0, 32, 64, 128 or 256", col[C(block_n)]);
        if (parse_int(col[C(ctas)], 0, 1 << 30, &iv[C(ctas)])) BAD("ctas '%s': not an integer >= 0", col[C(ctas)]);
        if (parse_int(col[C(splits)], 0, 1 << 20, &iv[C(splits)]))
            BAD("splits '%s': not an integer >= 0", col[C(splits)]);
        if (parse_int(col[C(ctas_per_sm)], 0, 1024, &iv[C(ctas_per_sm)]))
            BAD("ctas_per_sm '%s': not an integer in [0, 1024]", col[C(ctas_per_sm)]);
        if (parse_int(col[C(reps)], 1, 1LL << 40, &iv[C(reps)])) BAD("reps '%s': not an integer >= 1", col[C(reps)]);
        if (parse_num(col[C(time_us)], 0, &dv[C(time_us)]) || dv[C(time_us)] <= 0)
            BAD("time_us '%s': not a number > 0", col[C(time_us)]);
        if (parse_num(col[C(time_p10_us)], 0, &dv[C(time_p10_us)]))
            BAD("time_p10_us '%s': not a number >= 0", col[C(time_p10_us)]);
        if (parse_num(col[C(time_p90_us)], 0, &dv[C(time_p90_us)]))
            BAD("time_p90_us '%s': not a number >= 0", col[C(time_p90_us)]);
        if (dv[C(time_p10_us)] > dv[C(time_us)] * (1 + 1e-6) || dv[C(time_p90_us)] < dv[C(time_us)] * (1 - 1e-6))
            BAD("time_p10_us <= time_us <= time_p90_us does not hold (%s, %s, %s)", col[C(time_p10_us)],
                col[C(time_us)], col[C(time_p90_us)]);
        if (parse_num(col[C(graph_us)], 0, &dv[C(graph_us)])) BAD("graph_us '%s': not a number >= 0", col[C(graph_us)]);
        if (parse_num(col[C(kv_bytes)], 0, &dv[C(kv_bytes)])) BAD("kv_bytes '%s': not a number >= 0", col[C(kv_bytes)]);
        if (parse_num(col[C(bw_gbps)], 0, &dv[C(bw_gbps)])) BAD("bw_gbps '%s': not a number >= 0", col[C(bw_gbps)]);
        if (parse_num(col[C(max_err)], 0, &dv[C(max_err)])) BAD("max_err '%s': not a number >= 0", col[C(max_err)]);
        if (unchecked) dv[C(max_err)] = -1;
        if (ours && (iv[C(block_n)] == 0 || iv[C(ctas)] == 0))
            BAD("block_n and ctas must be > 0 for schedule %s", col[C(schedule)]);
        /* format 2: the plan asked, the knobs and the build switches.  A row of ours
         * fills them, a peer row leaves them empty; NULL (unknown) in the database
         * when empty or, in a format 1 file, absent */
        static const struct { int c; long long lo, hi; } opt_cols[] = {
            {C(req_block_n), 0, 256}, {C(req_splits), 0, 1 << 20}, {C(req_grid), 0, 1 << 30},
            {C(req_cps), 0, 1024},    {C(plan_cps), 0, 1024},      {C(l2pf), 0, 1},
            {C(pdl), 0, 1},           {C(rows_cap), 0, 8},         {C(arena), 0, 1}};
        int known[RUNCSV_COUNT] = {0};
        for (size_t k = 0; k < sizeof opt_cols / sizeof opt_cols[0]; k++) {
            const int c = opt_cols[k].c;
            if (!col[c]) continue;
            if (!*col[c]) {
                if (ours) BAD("%s: empty for schedule %s", col_names[c], col[C(schedule)]);
                continue;
            }
            if (parse_int(col[c], opt_cols[k].lo, opt_cols[k].hi, &iv[c]))
                BAD("%s '%s': not an integer in [%lld, %lld]", col_names[c], col[c], opt_cols[k].lo, opt_cols[k].hi);
            known[c] = 1;
        }
        if (known[C(req_block_n)] && iv[C(req_block_n)] != 0 && iv[C(req_block_n)] != 32 &&
            iv[C(req_block_n)] != 64 && iv[C(req_block_n)] != 128 && iv[C(req_block_n)] != 256)
            BAD("req_block_n '%s': not 0, 32, 64, 128 or 256", col[C(req_block_n)]);
        if (known[C(rows_cap)] && iv[C(rows_cap)] != 0 && iv[C(rows_cap)] != 1 &&
            iv[C(rows_cap)] != 2 && iv[C(rows_cap)] != 4 && iv[C(rows_cap)] != 8)
            BAD("rows_cap '%s': not 0, 1, 2, 4 or 8", col[C(rows_cap)]);
        if (col[C(build)] && *col[C(build)]) {
            if (!text_ok(col[C(build)])) BAD("build: not printable text, or a space at an end '%s'", col[C(build)]);
            known[C(build)] = 1;
        } else if (col[C(build)] && ours) {
            BAD("build: empty for schedule %s", col[C(schedule)]);
        }
        if (!last_note.unknown_gpu[0] && !validate_gpu_map(col[C(gpu)]))
            snprintf(last_note.unknown_gpu, sizeof last_note.unknown_gpu, "%s", col[C(gpu)]);
        if (!db) continue;
        sqlite3_reset(st);
        int i = 1;
        sqlite3_bind_int64(st, i++, run_id);
        for (int c = 0; c < RUNCSV_COUNT; c++) {
            if (col_since[c] > 1 && !known[c])
                sqlite3_bind_null(st, i++);
            else if (col_type[c] == 'i')
                sqlite3_bind_int64(st, i++, iv[c]);
            else if (col_type[c] == 't')
                sqlite3_bind_text(st, i++, col[c], -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_double(st, i++, dv[c]);
        }
        sqlite3_bind_int64(st, i++, longest);
        if (sqlite3_step(st) != SQLITE_DONE) {
            snprintf(err, (size_t)errlen, "%s:%d: sqlite: %s", path, lineno, sqlite3_errmsg(db));
            rc = STORE_EDB;
            goto fail;
        }
        int ch = sqlite3_changes(db);
        *added += ch;
        if (!ch && !dup_line) dup_line = lineno;   /* the configuration is there already: the first row kept */
        dups += !ch;
    }
    free(gl);
    gl = NULL;
    if (ferror(f)) {
        snprintf(err, (size_t)errlen, "%s: read error", path);
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!db) {
        fclose(f);
        return STORE_OK;
    }
    last_note.repeats = *added ? dups : 0;   /* all present: a re-run of the file, not repeats */
    last_note.first_repeat_line = *added ? dup_line : 0;
    /* nothing new: leave no run row either */
    if (*added == 0) sqlite3_exec(db, "DELETE FROM runs WHERE id = last_insert_rowid()", NULL, NULL, NULL);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, (size_t)errlen, "sqlite: %s (commit)", sqlite3_errmsg(db));
        rc = STORE_EDB;
        goto fail;
    }
    fclose(f);
    return STORE_OK;
#undef BAD
#undef C
fail:
    free(gl);
    sqlite3_finalize(st);
    if (in_tx) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    *added = 0;
    fclose(f);
    return rc;
}

/* ---------------------------------------------------------------- merge */

/* The columns of table t of the main database but id and run_id that the
 * source database has too (one made before the runner's CSV format 2 lacks
 * that format's columns: they stay NULL, unknown), comma-separated; 0 when
 * the table exists, -1 if not. */
static int merge_columns(sqlite3 *db, const char *t, char *out, int len)
{
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA main.table_info(%s)", t);
    sqlite3_stmt *q, *in_src;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return -1;
    snprintf(sql, sizeof sql, "SELECT 1 FROM pragma_table_info('%s', 'src') WHERE name = ?", t);
    if (sqlite3_prepare_v2(db, sql, -1, &in_src, NULL) != SQLITE_OK) {
        sqlite3_finalize(q);
        return -1;
    }
    int n = 0, o = 0;
    out[0] = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(q, 1);
        n++;
        if (!strcmp(c, "id") || !strcmp(c, "run_id")) continue;
        sqlite3_reset(in_src);
        sqlite3_bind_text(in_src, 1, c, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(in_src) != SQLITE_ROW) continue;
        o += snprintf(out + o, (size_t)(len > o ? len - o : 0), "%s%s", o ? ", " : "", c);
    }
    sqlite3_finalize(q);
    sqlite3_finalize(in_src);
    return n > 0 && o < len ? 0 : -1;
}

/* Writes each column of the list `cols` as pre + column + post, joined by sep. */
static void cols_join(const char *cols, const char *pre, const char *post, const char *sep, char *out, int len)
{
    char tmp[2048];
    int o = 0;
    out[0] = 0;
    snprintf(tmp, sizeof tmp, "%s", cols);
    for (char *save = NULL, *c = strtok_r(tmp, ", ", &save); c && o < len; c = strtok_r(NULL, ", ", &save))
        o += snprintf(out + o, (size_t)(len - o), "%s%s%s%s", o ? sep : "", pre, c, post);
}

int store_merge(sqlite3 *db, const char *src, store_merge_stats *st, char *err, int errlen)
{
    memset(st, 0, sizeof *st);
    sqlite3 *probe;
    if (store_open_readonly(&probe, src, err, errlen)) {   /* the source named as given, not as --db */
        if (!strncmp(err, "--db ", 5)) memmove(err, err + 5, strlen(err + 5) + 1);
        return STORE_EINPUT;
    }
    sqlite3_close(probe);
    sqlite3_stmt *q = NULL;
    char cols[2048], sql[8192];
    int rc = STORE_EDB;
    if (sqlite3_prepare_v2(db, "ATTACH DATABASE ? AS src", -1, &q, NULL) != SQLITE_OK) goto db;
    sqlite3_bind_text(q, 1, src, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) != SQLITE_DONE) goto db;
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, (size_t)errlen, "%s: sqlite: %s (begin)", src, sqlite3_errmsg(db));
        goto detach;
    }
    /* runs: each source run once (a run already here, column for column, is reused), old id -> new id */
    if (sqlite3_exec(db,
                     "CREATE TEMP TABLE IF NOT EXISTS runmap (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);"
                     "DELETE FROM temp.runmap;",
                     NULL, NULL, NULL) != SQLITE_OK)
        goto db_rollback;
    if (merge_columns(db, "runs", cols, sizeof cols)) goto db_rollback;
    {
        sqlite3_stmt *r = NULL, *find = NULL, *ins = NULL, *map = NULL;
        char where[4096];
        cols_join(cols, "", " IS ?", " AND ", where, sizeof where);
        int nc = 1;
        for (const char *p = cols; *p; p++) nc += *p == ',';
        char s1[8192], s2[8192], s3[4096];
        snprintf(s1, sizeof s1, "SELECT id, %s FROM src.runs ORDER BY id", cols);
        snprintf(s2, sizeof s2, "SELECT id FROM main.runs WHERE %s ORDER BY id LIMIT 1", where);
        for (int i = 0, o = 0; i < nc; i++) o += snprintf(s3 + o, sizeof s3 - (size_t)o, "%s?", i ? "," : "");
        snprintf(sql, sizeof sql, "INSERT INTO main.runs (%s) VALUES (%s)", cols, s3);
        int ok = sqlite3_prepare_v2(db, s1, -1, &r, NULL) == SQLITE_OK &&
                 sqlite3_prepare_v2(db, s2, -1, &find, NULL) == SQLITE_OK &&
                 sqlite3_prepare_v2(db, sql, -1, &ins, NULL) == SQLITE_OK &&
                 sqlite3_prepare_v2(db, "INSERT INTO temp.runmap (old, new) VALUES (?, ?)", -1, &map, NULL) == SQLITE_OK;
        while (ok && sqlite3_step(r) == SQLITE_ROW) {
            sqlite3_reset(find);
            sqlite3_reset(ins);
            for (int i = 0; i < nc; i++) {
                sqlite3_bind_value(find, i + 1, sqlite3_column_value(r, i + 1));
                sqlite3_bind_value(ins, i + 1, sqlite3_column_value(r, i + 1));
            }
            int64_t id;
            int fr = sqlite3_step(find);
            if (fr == SQLITE_ROW) id = sqlite3_column_int64(find, 0);
            else if (fr == SQLITE_DONE && sqlite3_step(ins) == SQLITE_DONE) {
                id = sqlite3_last_insert_rowid(db);
                st->runs++;
            } else {
                ok = 0;
                break;
            }
            sqlite3_reset(map);
            sqlite3_bind_int64(map, 1, sqlite3_column_int64(r, 0));
            sqlite3_bind_int64(map, 2, id);
            ok = sqlite3_step(map) == SQLITE_DONE;
        }
        sqlite3_finalize(r);
        sqlite3_finalize(find);
        sqlite3_finalize(ins);
        sqlite3_finalize(map);
        if (!ok) goto db_rollback;
    }
    /* predictions and measurements under their new run ids; rows already here are kept */
    static const char *tables[] = {"predictions", "measurements"};
    for (int t = 0; t < 2; t++) {
        if (merge_columns(db, tables[t], cols, sizeof cols)) goto db_rollback;
        char pre[2400];
        cols_join(cols, "x.", "", ", ", pre, sizeof pre);
        snprintf(sql, sizeof sql,
                 "INSERT OR IGNORE INTO main.%s (run_id, %s) SELECT m.new, %s FROM src.%s x "
                 "JOIN temp.runmap m ON m.old = x.run_id ORDER BY x.id",
                 tables[t], cols, pre, tables[t]);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) goto db_rollback;
        if (t == 0) st->predictions = sqlite3_changes(db);
        else st->measurements = sqlite3_changes(db);
    }
    /* pairings name rows by id: validate rebuilds them on the merged database */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM src.sqlite_master WHERE name = 'pairings'");
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW &&
        sqlite3_column_int(q, 0) > 0) {
        sqlite3_finalize(q);
        q = NULL;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM src.pairings", -1, &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW)
            st->pairings_dropped = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto db_rollback;
    rc = STORE_OK;
    goto detach;
db_rollback:
    snprintf(err, (size_t)errlen, "%s: sqlite: %s (merging)", src, sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    goto detach;
db:
    snprintf(err, (size_t)errlen, "%s: sqlite: %s (attaching)", src, sqlite3_errmsg(db));
    sqlite3_finalize(q);
detach:
    sqlite3_exec(db, "DETACH DATABASE src", NULL, NULL, NULL);
    return rc;
}

