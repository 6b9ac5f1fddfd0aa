/*
 * sweep.c: sweep files and running them into the results database.
 *
 * A sweep file (experiments/NAME.exp) has `key = value` lines and `#`
 * comments.  A value is a list `a, b, c` whose items are values or ranges:
 * `1024..524288 *2` (geometric) or `1..9 +2` (arithmetic); sizes take k/m.
 * The sweep is the product of every key's list; each combination runs
 * through the engines asked (sim, model) and lands in `predictions` with
 * INSERT OR IGNORE, 500 rows a transaction, so a killed sweep loses at most
 * one batch and a re-run computes only the rows missing.
 */
#include "results.h"
#include "specfile.h"
#include "opts.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <time.h>

#define SWEEP_BATCH_ROWS 500

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

/* The next item of the list at *p, cut at its ',' and trimmed (an empty
 * one too: strtok_r would skip it); *p moves past it, NULL after the last. */
static char *next_item(char **p)
{
    char *item = *p;
    if (!item) return NULL;
    char *c = strchr(item, ',');
    if (c) *c = 0;
    *p = c ? c + 1 : NULL;
    return trim(item);
}

/* Parses a list of sizes with ranges into out[max]; returns count or -1
 * with why set (an empty item, a value given twice). */
static int parse_size_list(char *val, int64_t lo, int64_t hi, int64_t *out, int max, char *why, int wlen)
{
    int n = 0;
    for (char *more = val, *item; (item = next_item(&more));) {
        if (!*item) {
            snprintf(why, (size_t)wlen, "empty item");
            return -1;
        }
        char *dots = strstr(item, "..");
        int64_t a, b, step = 0;
        int geo = 0;
        if (!dots) {
            if (opts_parse_size(item, &a)) {
                snprintf(why, (size_t)wlen, "'%s' is not an integer", item);
                return -1;
            }
            b = a;
            step = 1;
        } else {
            *dots = 0;
            char *rest = dots + 2, *op = rest;
            while (*op && *op != '*' && *op != '+') op++;
            char opc = *op;
            if (!opc) {
                snprintf(why, (size_t)wlen, "range '%s..%s' needs a step ('*2' or '+N')", item, rest);
                return -1;
            }
            *op = 0;
            char *sa = trim(item), *sb = trim(rest), *ss = trim(op + 1);
            if (opts_parse_size(sa, &a) || opts_parse_size(sb, &b) || opts_parse_size(ss, &step)) {
                snprintf(why, (size_t)wlen, "range '%s..%s %c%s': bounds and step must be integers", sa, sb, opc, ss);
                return -1;
            }
            geo = opc == '*';
            if (step < (geo ? 2 : 1) || a > b || (geo && a < 1)) {
                snprintf(why, (size_t)wlen, "range '%s..%s %c%s': needs start <= end and a step of %s", sa, sb, opc,
                         ss, geo ? "*2 or more (start >= 1)" : "+1 or more");
                return -1;
            }
        }
        for (int64_t v = a; v <= b; v = geo ? v * step : v + step) {
            if (v < lo || v > hi) {
                snprintf(why, (size_t)wlen, "%lld is outside [%lld, %lld]", (long long)v, (long long)lo, (long long)hi);
                return -1;
            }
            if (n == max) {
                snprintf(why, (size_t)wlen, "more than %d values", max);
                return -1;
            }
            for (int i = 0; i < n; i++)
                if (out[i] == v) {   /* a repeat would run its rows twice, the second time "present" */
                    snprintf(why, (size_t)wlen, "%lld listed twice", (long long)v);
                    return -1;
                }
            out[n++] = v;
            if (geo && v > b / step) break;
            if (!geo && v > b - step) break;   /* the next value would pass the end (or overflow) */
        }
    }
    if (n == 0) {
        snprintf(why, (size_t)wlen, "empty list");
        return -1;
    }
    return n;
}

static int to_ints(const int64_t *v, int n, int *out)
{
    for (int i = 0; i < n; i++) out[i] = (int)v[i];
    return n;
}

/* Adds entry t of list `key` (gpus: chip specs, else kernel profiles) to
 * s, once, as a name or file that loads; 0, or -1 with the reason. */
static int named_add(const char *key, const char *t, int gpus, sweep_spec *s, int *cnt, char *why, int wlen)
{
    char (*list)[256] = gpus ? s->gpus : s->kernels;
    const int max = gpus ? 64 : 16;
    if (*cnt == max) {
        snprintf(why, (size_t)wlen, "%s: more than %d", key, max);
        return -1;
    }
    if (strlen(t) >= sizeof list[0]) {
        snprintf(why, (size_t)wlen, "%s: name too long '%s'", key, t);
        return -1;
    }
    for (int i = 0; i < *cnt; i++)
        if (!strcmp(list[i], t)) {
            snprintf(why, (size_t)wlen, "%s: '%s' listed twice", key, t);
            return -1;
        }
    char lerr[1024];
    int lrc, unknown;
    if (gpus) {
        gpu_spec g;
        lrc = gpu_spec_load(&g, t, lerr, sizeof lerr);
        unknown = lrc == GPU_ENOTFOUND;
    } else {
        kernel_profile kp;
        lrc = kprof_load(&kp, t, lerr, sizeof lerr);
        unknown = lrc == KPROF_ENOTFOUND;
    }
    const char *opt = gpus ? "--gpu " : "--kernel ";   /* the loaders name the option; a file does not have one */
    if (unknown && strstr(lerr, "(known:"))
        snprintf(why, (size_t)wlen, "%s: unknown %s '%s' %s", key, gpus ? "GPU spec" : "kernel profile", t,
                 strstr(lerr, "(known:"));
    else if (lrc)
        snprintf(why, (size_t)wlen, "%s: %s", key, !strncmp(lerr, opt, strlen(opt)) ? lerr + strlen(opt) : lerr);
    if (lrc) return -1;
    snprintf(list[(*cnt)++], sizeof list[0], "%s", t);
    return 0;
}

int sweep_parse(sweep_spec *s, const char *text, const char *file, char *err, int errlen)
{
    memset(s, 0, sizeof *s);
    /* defaults: one H100, MHA 32 x 128 fp16, batch 1, ctx 4096, all schedules, both engines */
    s->n_gpus = 1;
    snprintf(s->gpus[0], sizeof s->gpus[0], "h100");
    s->n_ctx = 1; s->ctx[0] = 4096;
    s->n_batch = 1; s->batch[0] = 1;
    s->n_heads = 1; s->heads[0] = 32;
    s->n_kv_heads = 1; s->kv_heads[0] = 0;   /* 0: same as heads */
    s->n_head_dim = 1; s->head_dim[0] = 128;
    s->n_dtype = 1; s->dtype[0] = DTYPE_FP16;
    s->n_block_n = 1; s->block_n[0] = 0;
    s->n_splits = 1; s->splits[0] = 0;
    s->n_cps = 1; s->cps[0] = 0;
    s->sched_mask = (1u << SCHED_COUNT) - 1;
    s->engines = (1 << MODEL_ENGINE_COUNT) - 1;
    s->n_kernels = 1;
    snprintf(s->kernels[0], sizeof s->kernels[0], "%s", KPROF_DEFAULT);
    int seen[16] = {0};   /* the line of each key given, 0 if not */
    static const char *keys[] = {"gpus", "sms", "ctx", "batch", "heads", "kv_heads", "head_dim", "dtype",
                                 "schedules", "block_n", "splits", "ctas_per_sm", "engines", "kernels"};
    int lineno = 0;
    const char *p = text;
    char line[8192], orig[8192], why[256];
    static int64_t tmp[SWEEP_MAX_LIST];
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        if (len >= sizeof line) {
            snprintf(err, (size_t)errlen, "%s:%d: line too long >>> '%.60s...'", file, lineno, p);
            return STORE_EINPUT;
        }
        memcpy(line, p, len);
        line[len] = 0;
        p += len + (nl ? 1 : 0);
        memcpy(orig, line, len + 1);
        char *o = specfile_printable(trim(orig));
        char *h = strchr(line, '#');
        if (h) *h = 0;
        char *ln = trim(line);
        if (!*ln) continue;
#define BAD(...)                                                                              \
    do {                                                                                      \
        int n_ = snprintf(err, (size_t)errlen, "%s:%d: ", file, lineno);                      \
        if (n_ < errlen) n_ += snprintf(err + n_, (size_t)(errlen - n_), __VA_ARGS__);        \
        if (n_ < errlen) snprintf(err + n_, (size_t)(errlen - n_), " >>> '%s'", o);           \
        specfile_printable(err);                                                              \
        return STORE_EINPUT;                                                                  \
    } while (0)
        char *eq = strchr(ln, '=');
        if (!eq) BAD("expected 'key = value'");
        *eq = 0;
        char *key = trim(ln), *val = trim(eq + 1);
        int k;
        for (k = 0; k < (int)(sizeof keys / sizeof keys[0]); k++)
            if (!strcmp(keys[k], key)) break;
        if (k == (int)(sizeof keys / sizeof keys[0]))
            BAD("unknown key '%s' (gpus, sms, ctx, batch, heads, kv_heads, head_dim, dtype, schedules, block_n, "
                "splits, ctas_per_sm, engines, kernels)", key);
        if (seen[k]) BAD("key '%s' given twice (line %d)", key, seen[k]);
        seen[k] = lineno;
        if (!*val) BAD("%s: empty value", key);
        int n;
        if (!strcmp(key, "gpus") || !strcmp(key, "dtype") || !strcmp(key, "schedules") || !strcmp(key, "engines") ||
            !strcmp(key, "kernels")) {
            int cnt = 0;
            unsigned mask = 0;
            for (char *rest = val, *t; (t = next_item(&rest));) {
                if (!*t) BAD("%s: empty item", key);
                if (!strcmp(key, "kernels") || !strcmp(key, "gpus")) {
                    char nwhy[1100];
                    if (named_add(key, t, !strcmp(key, "gpus"), s, &cnt, nwhy, sizeof nwhy)) BAD("%s", nwhy);
                } else if (!strcmp(key, "dtype")) {
                    int d = dtype_parse(t);
                    if (d < 0) BAD("dtype: unknown type '%s' (fp16, bf16, fp8)", t);
                    if (cnt == 8) BAD("dtype: more than 8");
                    for (int i = 0; i < cnt; i++)
                        if (s->dtype[i] == d) BAD("dtype: '%s' listed twice", t);
                    s->dtype[cnt++] = d;
                } else if (!strcmp(key, "schedules")) {
                    unsigned bits;
                    if (!strcmp(t, "all")) bits = (1u << SCHED_COUNT) - 1;
                    else {
                        int sk = sched_parse(t);
                        if (sk < 0) BAD("schedules: unknown schedule '%s' (fa2, split, streamk, hybrid, balanced, all)", t);
                        bits = 1u << sk;
                    }
                    if (mask & bits)
                        BAD("schedules: '%s' listed twice%s", t,
                            bits == (1u << SCHED_COUNT) - 1 || mask == (1u << SCHED_COUNT) - 1 ? " (all names every schedule)" : "");
                    mask |= bits;
                } else {
                    int e = model_engine_find(t);
                    if (e < 0) BAD("engines: unknown engine '%s' (sim, model)", t);
                    if (mask & (1u << e)) BAD("engines: '%s' listed twice", t);
                    mask |= 1u << e;
                }
            }
            if (!strcmp(key, "kernels")) s->n_kernels = cnt;
            else if (!strcmp(key, "gpus")) s->n_gpus = cnt;
            else if (!strcmp(key, "dtype")) s->n_dtype = cnt;
            else if (!strcmp(key, "schedules")) s->sched_mask = mask;
            else s->engines = (int)mask;
            continue;
        }
        if (!strcmp(key, "ctx")) {
            if ((n = parse_size_list(val, 1, WL_MAX_CTX, s->ctx, SWEEP_MAX_LIST, why, sizeof why)) < 0) BAD("ctx: %s", why);
            s->n_ctx = n;
        } else if (!strcmp(key, "batch")) {
            if ((n = parse_size_list(val, 1, WL_MAX_BATCH, tmp, SWEEP_MAX_LIST, why, sizeof why)) < 0) BAD("batch: %s", why);
            s->n_batch = to_ints(tmp, n, s->batch);
        } else if (!strcmp(key, "heads") || !strcmp(key, "kv_heads")) {
            if ((n = parse_size_list(val, 1, WL_MAX_HEADS, tmp, 64, why, sizeof why)) < 0) BAD("%s: %s", key, why);
            if (key[0] == 'h') s->n_heads = to_ints(tmp, n, s->heads);
            else s->n_kv_heads = to_ints(tmp, n, s->kv_heads);
        } else if (!strcmp(key, "head_dim")) {
            if ((n = parse_size_list(val, 64, 256, tmp, 8, why, sizeof why)) < 0) BAD("head_dim: %s", why);
            for (int i = 0; i < n; i++)
                if (tmp[i] != 64 && tmp[i] != 128 && tmp[i] != 256) BAD("head_dim: %lld unsupported (64, 128, 256)", (long long)tmp[i]);
            s->n_head_dim = to_ints(tmp, n, s->head_dim);
        } else if (!strcmp(key, "block_n")) {
            if ((n = parse_size_list(val, 32, 256, tmp, 8, why, sizeof why)) < 0) BAD("block_n: %s", why);
            for (int i = 0; i < n; i++)
                if (tmp[i] != 32 && tmp[i] != 64 && tmp[i] != 128 && tmp[i] != 256) BAD("block_n: %lld unsupported (32, 64, 128, 256)", (long long)tmp[i]);
            s->n_block_n = to_ints(tmp, n, s->block_n);
        } else if (!strcmp(key, "splits")) {
            if ((n = parse_size_list(val, 1, PLAN_MAX_SPLITS, tmp, PLAN_MAX_SPLITS + 1, why, sizeof why)) < 0) BAD("splits: %s", why);
            s->n_splits = to_ints(tmp, n, s->splits);
        } else if (!strcmp(key, "ctas_per_sm")) {
            if ((n = parse_size_list(val, 1, 64, tmp, 64, why, sizeof why)) < 0) BAD("ctas_per_sm: %s", why);
            s->n_cps = to_ints(tmp, n, s->cps);
        } else if (!strcmp(key, "sms")) {
            if ((n = parse_size_list(val, 1, 4096, tmp, 256, why, sizeof why)) < 0) BAD("sms: %s", why);
            s->n_sms = to_ints(tmp, n, s->sms);
        }
#undef BAD
    }
    /* a KV-head count that divides none of the head counts (or a head count none
     * divides) makes no row: a mistake in the file, not rows to skip */
    for (int pass = 0; pass < 2; pass++) {
        const int *a = pass ? s->heads : s->kv_heads, *b = pass ? s->kv_heads : s->heads;
        int na = pass ? s->n_heads : s->n_kv_heads, nb = pass ? s->n_kv_heads : s->n_heads;
        for (int i = 0; i < na; i++) {
            int any = 0;
            for (int j = 0; j < nb && !any; j++) {
                int h = pass ? a[i] : b[j], kv = pass ? b[j] : a[i];
                any = kv == 0 || (kv <= h && h % kv == 0);   /* kv_heads 0: the heads */
            }
            if (any) continue;
            char list[256];
            int o = 0;
            list[0] = 0;
            for (int j = 0; j < nb && o < (int)sizeof list; j++)
                o += snprintf(list + o, sizeof list - (size_t)o, "%s%d", j ? ", " : "", b[j]);
            const char *key = pass ? "heads" : "kv_heads", *other = pass ? "kv_heads" : "heads";
            int at = seen[pass ? 4 : 5];
            snprintf(err, (size_t)errlen, "%s:%d: %s: %d %s none of the %s (%s%s): it makes no row", file, at, key,
                     a[i], pass ? "is divided by" : "divides", other, list, seen[pass ? 5 : 4] ? "" : ", the default");
            return STORE_EINPUT;
        }
    }
    {   /* a sweep's size, before anything runs */
        double rows = (double)s->n_gpus * (s->n_sms ? s->n_sms : 1) * s->n_ctx * s->n_batch * s->n_heads *
                      s->n_kv_heads * s->n_head_dim * s->n_dtype * s->n_block_n * s->n_cps * s->n_splits *
                      SCHED_COUNT * 2 * (s->n_kernels > 0 ? s->n_kernels : 1);
        if (rows > SWEEP_MAX_ROWS) {
            snprintf(err, (size_t)errlen, "%s: up to %.3g rows: more than %g (split the sweep)", file, rows,
                     (double)SWEEP_MAX_ROWS);
            return STORE_EINPUT;
        }
    }
    if (!s->sched_mask || !s->engines) {
        snprintf(err, (size_t)errlen, "%s: no schedule or no engine", file);
        return STORE_EINPUT;
    }
    return STORE_OK;
}

int sweep_load(sweep_spec *s, const char *path, char *err, int errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, (size_t)errlen, "%s: cannot open: %s", path, strerror(errno));
        return STORE_EINPUT;
    }
    char *buf = malloc(1 << 20);
    size_t got = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    int bad = !buf || ferror(f) || !feof(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, (size_t)errlen, "%s: cannot read (or larger than 1 MB)", path);
        return STORE_EINPUT;
    }
    buf[got] = 0;
    const char *nul = memchr(buf, 0, got);
    if (nul) {   /* the text would end there, the rest unread: refused as ingest refuses it */
        int lineno = 1;
        const char *start = buf;
        for (const char *q = buf; q < nul; q++)
            if (*q == '\n') {
                lineno++;
                start = q + 1;
            }
        snprintf(err, (size_t)errlen, "%s:%d: a NUL byte inside the line >>> '%.200s'", path, lineno, start);
        specfile_printable(err);
        free(buf);
        return STORE_EINPUT;
    }
    int rc = sweep_parse(s, buf, path, err, errlen);
    free(buf);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Rows the sweep holds: splits multiply only the split schedule. */
static int64_t sweep_total(const sweep_spec *s)
{
    int nsk = __builtin_popcount(s->sched_mask);
    int64_t per = (int64_t)(nsk - ((s->sched_mask >> SCHED_SPLIT) & 1)) + (((s->sched_mask >> SCHED_SPLIT) & 1) ? s->n_splits : 0);
    int64_t n = (int64_t)s->n_gpus * (s->n_sms ? s->n_sms : 1) * s->n_ctx * s->n_batch * s->n_heads * s->n_kv_heads *
                s->n_head_dim * s->n_dtype * s->n_block_n * s->n_cps * per * __builtin_popcount((unsigned)s->engines) *
                (s->n_kernels > 0 ? s->n_kernels : 1);
    return n;
}

/* Rows computed but not yet written: the write transaction is held only
 * while they are stored, so that sweeps in other processes (--jobs) compute
 * while this one writes. */
typedef struct pending_row {
    store_key key;
    workload w;
    sim_result r;
    char label[64];
} pending_row;

/* Writes rows[0..n) in one transaction, adding the runs row first when
 * *run_id is 0.  Returns STORE_OK or STORE_EDB. */
static int flush_rows(sqlite3 *db, pending_row *rows, int n, const gpu_spec *g, const char *args, int64_t *run_id,
                      sweep_stats *st, char *err, int errlen)
{
    if (n == 0) return STORE_OK;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, (size_t)errlen, "sqlite: %s (begin)", sqlite3_errmsg(db));
        return STORE_EDB;
    }
    if (!*run_id && store_run_begin(db, "sweep", args, g, run_id, err, errlen)) goto fail;
    for (int i = 0; i < n; i++) {
        int put = store_prediction_put(db, *run_id, &rows[i].key, &rows[i].r, err, errlen);
        if (put < 0) goto fail;
        st->added += put;
        st->present += !put;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) return STORE_OK;
    snprintf(err, (size_t)errlen, "sqlite: %s (commit)", sqlite3_errmsg(db));
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return STORE_EDB;
}

int sweep_run(sqlite3 *db, const sweep_spec *s, const char *file, FILE *progress, sweep_stats *st, char *err,
              int errlen)
{
    memset(st, 0, sizeof *st);
    int64_t all = sweep_total(s), per = __builtin_popcount((unsigned)s->engines);
    int nsh = s->n_shards > 1 ? s->n_shards : 1;
    int64_t configs = per > 0 ? all / per : 0;
    st->total = (configs / nsh + (s->shard < configs % nsh)) * per;
    gpu_spec *specs = malloc(sizeof(gpu_spec) * (size_t)s->n_gpus);
    sim_ctx *c = sim_ctx_alloc();
    workload *w = calloc(1, sizeof *w);
    pending_row *buf = malloc(sizeof *buf * SWEEP_BATCH_ROWS);
    int rc = STORE_OK, pending = 0;
    if (!specs || !c || !w || !buf) {
        snprintf(err, (size_t)errlen, "out of memory");
        rc = STORE_EDB;
        goto done;
    }
    /* every spec and profile loads before anything is written */
    kernel_profile kps[16];
    int nk = s->n_kernels > 0 ? s->n_kernels : 1;
    for (int i = 0; i < nk; i++)
        if (kprof_load(&kps[i], s->n_kernels > 0 ? s->kernels[i] : KPROF_DEFAULT, err, errlen)) {
            rc = STORE_EINPUT;
            goto done;
        }
    for (int i = 0; i < s->n_gpus; i++)
        if (gpu_spec_load(&specs[i], s->gpus[i], err, errlen)) {
            rc = STORE_EINPUT;
            goto done;
        }
    double t0 = now_s(), last_print = 0;
    int64_t done_rows = 0, index = 0;
    int nsms = s->n_sms ? s->n_sms : 1;
    for (int gi = 0; gi < s->n_gpus; gi++)
        for (int si = 0; si < nsms; si++)
        for (int kk = 0; kk < nk; kk++) {
            const kernel_profile kp = kps[kk];
            gpu_spec g = specs[gi];
            if (s->n_sms) {
                char a[32];
                snprintf(a, sizeof a, "sms=%d", s->sms[si]);
                if (gpu_spec_set(&g, a, err, errlen)) {
                    rc = STORE_EINPUT;
                    goto done;
                }
            }
            uint64_t pair_hash = kprof_pair_hash(&g, &kp);   /* the sms override is in g's values */
            int64_t run_id = 0;   /* the runs row is added with the first prediction */
            char args[512];
            if (nsh > 1) snprintf(args, sizeof args, "%s (sms %d, shard %d/%d)", file, g.sms, s->shard, nsh);
            else snprintf(args, sizeof args, "%s (sms %d)", file, g.sms);
            for (int hi = 0; hi < s->n_heads; hi++)
            for (int ki = 0; ki < s->n_kv_heads; ki++)
            for (int di = 0; di < s->n_head_dim; di++)
            for (int ti = 0; ti < s->n_dtype; ti++)
            for (int bi = 0; bi < s->n_batch; bi++)
            for (int ci = 0; ci < s->n_ctx; ci++)
            for (int ni = 0; ni < s->n_block_n; ni++)
            for (int pi = 0; pi < s->n_cps; pi++)
            for (int k = 0; k < SCHED_COUNT; k++) {
                if (!(s->sched_mask & (1u << k))) continue;
                int nsp = k == SCHED_SPLIT ? s->n_splits : 1;
                for (int xi = 0; xi < nsp; xi++) {
                /* shards are cut by configuration: its engines' rows stay together */
                if (index++ % nsh != (nsh > 1 ? s->shard : 0)) continue;
                for (int e = 0; e < MODEL_ENGINE_COUNT; e++) {
                    if (!(s->engines & (1 << e))) continue;
                    done_rows++;
                    w->batch = s->batch[bi];
                    w->heads = s->heads[hi];
                    w->kv_heads = s->kv_heads[ki] ? s->kv_heads[ki] : w->heads;
                    w->head_dim = s->head_dim[di];
                    w->dtype = s->dtype[ti];
                    w->ragged = 0;
                    for (int r = 0; r < w->batch; r++) w->ctx[r] = s->ctx[ci];
                    plan_opts po = {.kind = k, .block_n = s->block_n[ni], .splits = k == SCHED_SPLIT ? s->splits[xi] : 0, .ctas_per_sm = s->cps[pi]};
                    /* an outside kernel's rows: its name, and the schedule when not its own */
                    char label[64];
                    if (kprof_schedule_kind(&kp) == k) snprintf(label, sizeof label, "%s", kp.name);
                    else snprintf(label, sizeof label, "%s:%s", kp.name, sched_name(k));
                    store_key key = {g.name, pair_hash, g.sms, w, k, po.block_n, po.splits, 0, po.ctas_per_sm,
                                     model_engines[e].name, kprof_is_default(&kp) ? NULL : label};
                    if (w->kv_heads > w->heads || w->heads % w->kv_heads) {
                        st->skipped++;
                        continue;
                    }
                    int has = db ? store_prediction_has(db, &key) : 0;
                    if (has < 0) {
                        snprintf(err, (size_t)errlen, "sqlite: %s (lookup)", sqlite3_errmsg(db));
                        rc = STORE_EDB;
                        goto done;
                    }
                    if (has) {
                        st->present++;
                        continue;
                    }
                    sim_result r;
                    char why[512];
                    int src = model_engines[e].run(c, &g, &kp, w, &po, &r, why, sizeof why);
                    if (src == SIM_ENOMEM) {
                        snprintf(err, (size_t)errlen, "out of memory");
                        rc = STORE_EDB;
                        goto done;
                    }
                    if (src != SIM_OK) {
                        st->skipped++;
                        continue;
                    }
                    if (!db) {   /* a check: one valid row is enough */
                        st->added = 1;
                        goto done;
                    }
                    pending_row *pr = &buf[pending++];
                    pr->w = *w;
                    pr->r = r;
                    snprintf(pr->label, sizeof pr->label, "%s", label);
                    pr->key = key;
                    pr->key.w = &pr->w;
                    if (key.label) pr->key.label = pr->label;
                    if (pending == SWEEP_BATCH_ROWS) {
                        if ((rc = flush_rows(db, buf, pending, &g, args, &run_id, st, err, errlen))) goto done;
                        pending = 0;
                    }
                    double t = now_s();
                    if (progress && t - last_print > 0.2) {
                        last_print = t;
                        double rate = (double)done_rows / (t - t0);
                        fprintf(progress, "\r%lld/%lld rows, %.0f rows/s, ETA %.0f s   ", (long long)done_rows,
                                (long long)st->total, rate, (double)(st->total - done_rows) / rate);
                        fflush(progress);
                    }
                }
                }
            }
            /* the rows of this spec and profile (the key points at g) */
            if ((rc = flush_rows(db, buf, pending, &g, args, &run_id, st, err, errlen))) goto done;
            pending = 0;
        }
    if (progress && db) fprintf(progress, "\r%*s\r", 60, "");
    st->seconds = now_s() - t0;
done:
    free(buf);
    free(specs);
    free(w);
    sim_ctx_free(c);
    return rc;
}
