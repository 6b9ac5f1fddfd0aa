/*
 * results.h: the results/ folder's public header (floor 3: uses model/ and
 * sim/, never cli/).
 *
 *  - store_*: the SQLite results database (schema in experiments/schema.sql,
 *    compiled into the binary).
 *  - sweep_*: sweep files (experiments/NAME.exp) and running them into the store.
 *  - validate_*: every measured row predicted by both engines.
 *  - calrows_*: the measured rows calibration fits, read from the store.
 *  - report_*: the accuracy of the stored predictions.
 *  - pick_*: measured rows matched to plans; the tuner's shortlist by measurement.
 *  - export_*: the data files of the figures.
 *
 * Library functions return 0 or a negative status and write a one-line
 * reason naming the input into err[errlen]; the cli/ commands print it.
 */
#ifndef LEANSIM_RESULTS_H
#define LEANSIM_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include "model.h"

/* ---------------------------------------------------------------- store */

typedef struct sqlite3 sqlite3;

/* Status codes of store_, sweep_, calib_ and ingest functions. */
enum store_status { STORE_OK = 0, STORE_EINPUT = -2, STORE_EDB = -1 };

/*
 * Opens the results database at path for writing, creating it where no
 * file is: WAL journal, a busy timeout, the schema applied.  A file that
 * exists must be a leansim database (commands that read the rows they
 * work on, validate and calibrate, make none of an empty file).  *db is
 * NULL on error.  Returns STORE_OK, STORE_EINPUT (no database can be
 * opened at path, a file that is not SQLite, a SQLite file of another
 * application, an empty file) or STORE_EDB, with err set naming path as
 * --db's.
 */
int store_open(sqlite3 **db, const char *path, char *err, int errlen);

/* store_open for the commands that fill a database (sweep, ingest, merge):
 * an existing file with no table (0 bytes) becomes one too. */
int store_open_create(sqlite3 **db, const char *path, char *err, int errlen);
void store_close(sqlite3 *db);

/*
 * Opens an existing results database for reading only: nothing is created
 * or switched, so a database on a read-only mount serves `report` and
 * `export`.  Returns STORE_OK, STORE_EINPUT (none can be opened at path,
 * or not a leansim database) or STORE_EDB with err set.
 */
int store_open_readonly(sqlite3 **db, const char *path, char *err, int errlen);

/* The build's git commit ("unknown" when not built in a checkout). */
const char *store_git_commit(void);
/* leansim's version string. */
const char *store_version(void);

/*
 * Adds a row to `runs` (command, argument text, GPU spec source and hash),
 * returns its id in *run_id.  STORE_OK or STORE_EDB.
 */
int store_run_begin(sqlite3 *db, const char *command, const char *args, const gpu_spec *g, int64_t *run_id,
                    char *err, int errlen);

/* Key of a configuration: the workload and the plan options as asked. */
typedef struct store_key {
    const char *gpu;       /* spec name */
    uint64_t spec_hash;    /* FNV-1a of the spec text, sms override included */
    int sms;               /* SMs the spec had */
    const workload *w;
    int schedule, block_n, splits, grid, ctas_per_sm;   /* as asked (0: chosen) */
    const char *engine;    /* "sim" or "model" */
    const char *label;     /* schedule column; NULL: sched_name(schedule) */
} store_key;

/* Formats a workload's ctx for the key: "4096" or "1024;2048;...". */
void store_ctx_text(const workload *w, char *buf, int len);

/*
 * Inserts one prediction (INSERT OR IGNORE on the UNIQUE key).  Returns
 * 1 when a row was added, 0 when it was already present, STORE_EDB.
 */
int store_prediction_put(sqlite3 *db, int64_t run_id, const store_key *k, const sim_result *r, char *err, int errlen);

/* 1 when the prediction with key k is present, 0 if not, STORE_EDB. */
int store_prediction_has(sqlite3 *db, const store_key *k);

/* What store_merge copied. */
typedef struct store_merge_stats {
    int64_t runs;             /* runs rows added (a run already present is reused) */
    int64_t predictions;      /* prediction rows added */
    int64_t measurements;     /* measured rows added */
    int64_t pairings_dropped; /* validate's pairings in the source, not copied */
} store_merge_stats;

/*
 * Copies every runs, predictions and measurements row of the leansim
 * database at path src into db, in one transaction: runs rows get new ids
 * (a run identical in every column is reused, so merging twice adds
 * nothing), the other rows keep their run under its new id, and rows whose
 * UNIQUE key is already in db are kept as they are.  Returns STORE_OK,
 * STORE_EINPUT (src missing or not leansim's; err names it) or STORE_EDB.
 */
int store_merge(sqlite3 *db, const char *src, store_merge_stats *st, char *err, int errlen);

/* The id of the prediction with key k, 0 if none, STORE_EDB. */
int64_t store_prediction_id(sqlite3 *db, const store_key *k);

/*
 * Records that validate paired measured row measurement_id, compared at
 * measured_us, with prediction prediction_id (INSERT OR IGNORE; the view
 * measured_vs_predicted reads these).  Returns STORE_OK or STORE_EDB.
 */
int store_pairing_put(sqlite3 *db, int64_t measurement_id, int64_t prediction_id, double measured_us, char *err,
                      int errlen);

/*
 * Reads a kernel runner CSV (header fixed, see experiments/schema.sql) into
 * `measurements`, with its `runs` row, in one transaction: on the first bad
 * line nothing is stored and err names "file:line: reason >>> 'text'"
 * (STORE_EINPUT).  Re-reading a file adds nothing.  *added gets the rows
 * added.  db NULL: checks the file only.
 */
int store_ingest_csv(sqlite3 *db, const char *path, int *added, char *err, int errlen);

/*
 * Reads the input of an ingest (a file or a pipe, up to 1 GB) whole, so
 * that it can be checked and then stored though a pipe reads only once:
 * a malloc'ed buffer (caller frees) of *len bytes and a NUL after them,
 * or NULL with err naming path and *status STORE_EINPUT (cannot open, not
 * a file, larger than 1 GB) or STORE_EDB (a read error, out of memory).
 */
char *store_ingest_read(const char *path, size_t *len, int *status, char *err, int errlen);

/* store_ingest_csv on text[0..len) read from path (store_ingest_read):
 * the same checks, messages and return codes. */
int store_ingest_text(sqlite3 *db, const char *text, size_t len, const char *path, int *added, char *err,
                      int errlen);

/* What an ingest met beside the rows it added (store_ingest_notes). */
typedef struct store_ingest_note {
    int repeats;             /* rows whose configuration was stored already (the first row kept) */
    int first_repeat_line;   /* the first of them, 0 if none */
    char unknown_gpu[96];    /* a GPU name no spec maps to ("" if none): its rows are stored, not validated */
    int format;              /* the file's runner CSV format (runcsv.h): 1 has no plan asked, knobs or build */
} store_ingest_note;

/* The notes of the last store_ingest_csv in this process. */
const store_ingest_note *store_ingest_notes(void);

/* The header of the runner's CSV format version v (sim/runcsv.h: the
 * columns of versions <= v, in order), as store_ingest_csv takes it, into
 * buf (len bytes, NUL-terminated). */
void store_csv_header(int v, char *buf, int len);

/* ---------------------------------------------------------------- sweep */

#define SWEEP_MAX_LIST 4096
#define SWEEP_MAX_ROWS 1e9   /* rows (configuration x schedule x engine) a sweep file may ask for */

typedef struct sweep_spec {
    int n_gpus;
    char gpus[64][256];             /* names or paths */
    int n_sms;                      /* sms overrides; 0: none */
    int sms[256];
    int n_ctx, n_batch, n_heads, n_kv_heads, n_head_dim, n_dtype, n_block_n, n_splits, n_cps;
    int64_t ctx[SWEEP_MAX_LIST];
    int batch[SWEEP_MAX_LIST];
    int heads[64], kv_heads[64], head_dim[8], dtype[8];
    int block_n[8];                 /* 0: default for head dim */
    int splits[PLAN_MAX_SPLITS + 1];/* 0: heuristic */
    int cps[64];                    /* ctas_per_sm; 0: default */
    unsigned sched_mask;            /* enum sched_kind bits */
    int n_kernels;                  /* kernel profiles (names or paths); default: leansim */
    int shard, n_shards;            /* run rows i with i % n_shards == shard only (n_shards 0: all) */
    char kernels[16][256];
    int engines;                    /* bit e: model_engines[e] (model.h) */
} sweep_spec;

/*
 * Parses a sweep file's text, loading every GPU spec and kernel profile it
 * names.  Returns STORE_OK, or STORE_EINPUT with "file:line: reason >>>
 * 'text'" in err (an empty list item, a value listed twice, an unknown
 * spec or profile among them).
 */
int sweep_parse(sweep_spec *s, const char *text, const char *file, char *err, int errlen);
/* Reads and parses a sweep file from disk (up to 1 MB; a NUL byte is refused at its line). */
int sweep_load(sweep_spec *s, const char *path, char *err, int errlen);

/* Counters of a sweep run. */
typedef struct sweep_stats {
    int64_t total;      /* configuration x engine rows in the sweep */
    int64_t added;      /* rows written */
    int64_t present;    /* rows already in the database */
    int64_t skipped;    /* invalid for the schedule (occupancy, grid) */
    double seconds;
} sweep_stats;

/*
 * Runs every combination of s through the engines into db, 500 rows a
 * transaction, skipping rows present; with s->n_shards > 1, only the rows
 * of shard s->shard (the configurations in sweep order whose index modulo
 * n_shards is shard, with all their engines: the shards of one sweep are
 * disjoint and together make the whole).  Progress on `progress` when not NULL.  Returns STORE_OK, STORE_EINPUT (a GPU spec fails to load) or
 * STORE_EDB.  db NULL: a check that stores nothing and stops at the first
 * row an engine takes: st->added 1 then, 0 when every row is invalid.
 */
int sweep_run(sqlite3 *db, const sweep_spec *s, const char *file, FILE *progress, sweep_stats *st, char *err,
              int errlen);

/* ------------------------------------------------------------- validate */

/*
 * Validation: every measured row of our schedules predicted by both engines
 * on its GPU's spec with the measured SM count, under plan options that
 * reproduce the plan that ran (same block_n, splits, grid, CTAs per SM).
 */

/* Engines as validate indexes them: model_engines[] (model.h). */
enum validate_engine { VAL_SIM = MODEL_ENGINE_SIM, VAL_MODEL = MODEL_ENGINE_MODEL, VAL_ENGINES = MODEL_ENGINE_COUNT };

#define VALIDATE_MAX_SET 16

/* What validate, report and export read predictions under. */
#define VALIDATE_MAX_KERNEL 8

typedef struct validate_opts {
    const char *gpu;                       /* only this spec name; NULL: every GPU */
    const char *spec;                      /* spec file for every GPU; NULL: each GPU's builtin spec */
    int n_kernel;                          /* kernel profile files used instead of the builtin of that name */
    const char *kernel[VALIDATE_MAX_KERNEL];
    int n_set;                             /* KEY=VALUE overrides applied after loading */
    const char *set[VALIDATE_MAX_SET];
    FILE *progress;                        /* validate_run's rows done, a line rewritten; NULL: none */
} validate_opts;

/* A measured row and its predictions. */
typedef struct validate_row {
    int64_t id;              /* measurements.id */
    char gpu[32];            /* spec name the GPU maps to */
    char kernel[32];         /* kernel profile that ran it: leansim, or an outside kernel's (torch-flash, ...) */
    char label[32];          /* schedule column: leansim's schedule name, or the outside kernel's name */
    int graph;               /* 1: time_us is the CUDA-graph replay time (outside kernels) */
    int sms;                 /* SMs it ran on */
    int full_sms;            /* SMs of the GPU's builtin spec */
    workload w;
    plan_opts po;            /* options that reproduce the plan that ran (as asked, when recorded) */
    int block_n, ctas, splits; /* the plan that ran */
    int plan_ok;             /* 1 when po plans the measured CTA count and splits */
    int resident;            /* resident CTAs per SM the kernel had (runner's occupancy) */
    double time_us;          /* measured median */
    double pred_us[VAL_ENGINES]; /* predicted time (NAN: none) */
} validate_row;

/* Counters of a validate run. */
typedef struct validate_stats {
    int rows;                /* measured rows of our schedules (after --gpu) */
    int added, present;      /* predictions written / already stored */
    int failed;              /* engine refused the configuration (per engine) */
    int plan_mismatch;       /* rows whose plan could not be reproduced */
    int legacy;              /* rows without the options asked (runner CSV format 1): plan found by search */
    int earlier_rule;        /* balanced rows measured while the wave was every resident CTA, whatever the
                                CTAs per SM asked: rebuilt by that rule */
    int no_profile;          /* rows of an outside kernel no shipped profile describes */
    int unknown_gpu;         /* rows of GPUs no spec maps to (skipped) */
    const char *unused_kernel; /* the first --kernel file no loaded row is of (NULL: none) */
} validate_stats;

/* Spec name of a GPU as the driver names it ("NVIDIA H100 80GB HBM3" ->
 * "h100"); a spec name maps to itself.  NULL when none matches. */
const char *validate_gpu_map(const char *driver_name);

/*
 * The chip spec and kernel profile rows of GPU `gpu` (spec name) run by
 * kernel `kernel` on `sms` SMs are predicted with: o->spec (or the builtin
 * spec) and the profile (a file of o->kernel of that name, or the builtin),
 * then o->set overrides, then sms; graph: the row was timed by CUDA-graph
 * replay, so the launch costs the chip's graph_launch_us.  g->hash is the
 * pair's hash (kprof_pair_hash).  Returns 0, or STORE_EINPUT with err
 * naming the spec, the profile or the override.
 */
int validate_spec(gpu_spec *g, kernel_profile *k, const validate_opts *o, const char *gpu, const char *kernel, int sms,
                  int graph, char *err, int errlen);

/* The store key of row r's prediction by engine e under chip g and kernel k. */
store_key validate_key(const validate_row *r, const gpu_spec *g, const kernel_profile *k, int e);

/*
 * Loads the measured rows of our schedules (peers skipped), GPUs mapped to
 * spec names, filtered by o->gpu, plan options matched.  *rows is malloc'ed
 * (caller frees); pred_us are NAN.  Returns the count, or STORE_EDB,
 * STORE_EINPUT (o->gpu names no spec) with err set.  st may be NULL.
 */
int validate_rows_load(sqlite3 *db, const validate_opts *o, validate_row **rows, validate_stats *st, char *err,
                       int errlen);

/* Checks o's --spec file, --kernel files and --set keys (on the h100
 * spec, or o->spec); STORE_OK, or STORE_EINPUT with err naming the bad
 * one. */
int validate_opts_check(const validate_opts *o, char *err, int errlen);

/*
 * Predicts every measured row with both engines and stores the predictions
 * in one transaction (a re-run adds nothing).  Returns STORE_OK, STORE_EDB
 * or STORE_EINPUT with err set; st filled.
 */
int validate_run(sqlite3 *db, const validate_opts *o, validate_stats *st, char *err, int errlen);

/* Fills rows[i].pred_us from the stored predictions (NAN where missing).
 * Returns the number of predictions found, or STORE_EDB. */
int validate_lookup(sqlite3 *db, const validate_opts *o, validate_row *rows, int n, char *err, int errlen);

/* -------------------------------------------------------------- calrows */

/*
 * Loads the measured rows of GPU `gpu` (spec name) run by the kernel of
 * profile `kernel` (NULL: leansim's) from the store, on the whole GPU,
 * ctx uniform or per request; outside kernels' rows carry graph times.
 * sm_rows 0: the whole GPU's rows only; 1: only rows run on fewer SMs.  *rows is malloc'ed
 * (caller frees).  Returns the count, or STORE_EDB/STORE_EINPUT.
 */
int calrows_load(sqlite3 *db, const char *gpu, const char *kernel, int sm_rows, calib_row **rows, char *err,
                  int errlen);

/* ----------------------------------------------------------------- pick */

/* The shape of measured row r's plan, planned again from its options into
 * *s; 1, or 0 where it cannot be (r->plan_ok 0, or the planner refuses). */
int pick_row_shape(const validate_row *r, plan_shape *s);

/*
 * The measured row of m[0..k) that ran the plan of shape ps: the same
 * schedule, tile, CTAs and splits, and the same cut of the work when its
 * options are planned again (plan_shape_same on rs[i], row i's shape from
 * pick_row_shape; ok[i] 0 where it has none; hybrid plans of one CTA count
 * can differ); the fastest if several rows ran it; NULL if none.
 */
const validate_row *pick_measured_plan(const validate_row *const *m, const plan_shape *rs, const char *ok, int k,
                                       const plan_shape *ps);

/* The measured row of m[0..k) (shapes rs, ok as pick_measured_plan's) that
 * ran the plan options po build for w on `sms` SMs with `resident` CTAs per
 * SM (po.block_n 0: the planner's default), planned into p; NULL when none
 * did or the planner refuses po. */
const validate_row *pick_measured_opts(const validate_row *const *m, const plan_shape *rs, const char *ok, int k,
                                       const workload *w, plan_opts po, int sms, int resident, plan *p);

/*
 * The measured time of each plan of list[0..nl) (a tune_shortlist) for
 * workload w: the fastest of rows[0..n) of leansim's kernels on GPU `gpu`
 * (a spec name) with `sms` SMs that ran the plan (pick_measured_plan),
 * planned with the resident CTAs per SM the rows record; t_us[q] NAN
 * where no row ran plan q.  Returns the index of the fastest measured
 * plan, or -1 when none was measured (or out of memory).
 */
int pick_measured(const validate_row *rows, int n, const char *gpu, const workload *w, int sms,
                  const tune_choice *list, int nl, double *t_us);

/* --------------------------------------------------------------- report */

/* Absolute percentage errors of time over a set of rows. */
typedef struct report_err {
    int n;                   /* rows with a prediction */
    double mape_pct, p95_pct, max_pct;
} report_err;

/* Fastest-schedule agreement over configurations measured under >= 2 schedules. */
typedef struct report_choice {
    int configs;             /* such configurations */
    double agree_frac;       /* predicted fastest schedule is the measured fastest */
    double near_frac;        /* measured time of the predicted choice within 1% of the best */
    double regret_mean_pct;  /* measured time of the predicted choice over the best, minus 1 */
    double regret_max_pct;
} report_choice;

/* Error of the predicted speedup of a schedule over fa2. */
typedef struct report_speedup {
    int n;                   /* configurations with both measured */
    double err_mean_pct, err_max_pct;   /* |predicted / measured speedup - 1| */
} report_speedup;

/* Metrics over rows[n] (pointers, any order) for engine e. */
void report_errors(const validate_row *const *rows, int n, int e, report_err *out);
void report_choices(const validate_row *const *rows, int n, int e, report_choice *out);
void report_speedups(const validate_row *const *rows, int n, int e, int schedule, report_speedup *out);

typedef struct report_opts {
    validate_opts v;
    int holdout;             /* 1: fit calibration on even-hash rows, report the odd ones */
    int json;                /* 1: one JSON object; 0: the table */
    int picks;               /* 1: list the tuner's pick on each oracle workload (block picks) */
    FILE *progress;          /* NULL, or where long steps say they are done */
} report_opts;

/* 1 when row r goes to the held-out (test) half: odd FNV-1a of its configuration. */
int report_row_heldout(const validate_row *r);

/*
 * Prints the validation report of the stored predictions of the measured
 * rows.  Returns 0, STORE_EDB, or STORE_EINPUT (no measured rows, or none
 * predicted: run validate) with err set.
 */
int report_print(FILE *f, sqlite3 *db, const report_opts *o, char *err, int errlen);

/* --------------------------------------------------------------- export */

/* Figure names export knows, in order; NULL-terminated. */
extern const char *const export_figures[];

typedef struct export_opts {
    validate_opts v;
    const char *timeline;    /* measured CTA timeline CSV (figure timeline); NULL: the first in traces/measured
                                (of v.gpu's GPU when set) */
} export_opts;

/*
 * Checks figure `fig`'s options and inputs before anything is written:
 * dir a directory or absent; --gpu known and one the figure can draw;
 * --spec, --kernel and --set as validate checks them, a --kernel profile
 * the figure runs, a --spec only with --gpu for the figures that compare
 * chips (whatif, multigpu); the measured timeline (timeline); stored
 * predictions under the spec asked (scatter, cdf).  STORE_OK, STORE_EDB,
 * or STORE_EINPUT with err naming the option (and the figure).
 */
int export_check(sqlite3 *db, const char *fig, const char *dir, const export_opts *o, char *err, int errlen);

/*
 * Writes the data files of figure `fig` into directory dir (created):
 * whitespace-separated columns, a '#' header line naming them.  The
 * caller has run export_check for it (and for every other figure asked,
 * so that a bad one writes nothing): it is not repeated here.  Returns 0,
 * STORE_EINPUT (unknown figure, bad timeline file) or STORE_EDB with err set.
 */
int export_figure(sqlite3 *db, const char *fig, const char *dir, const export_opts *o, char *err, int errlen);

#endif
