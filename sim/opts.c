/*
 * opts.c: parsing of the workload and schedule options (see opts.h).
 *
 * One table lists every option with its help text; the parser and the
 * --help output both read it.
 */
#include "opts.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum opt_id { O_MODEL, O_BATCH, O_HEADS, O_KV_HEADS, O_HEAD_DIM, O_DTYPE, O_CTX, O_SCHEDULE,
              O_SPLITS, O_GRID, O_BLOCK_N, O_CTAS_PER_SM, O_COUNT };

/* Attention geometry of common models (one layer, no tensor parallelism),
 * from their published configurations (num_attention_heads,
 * num_key_value_heads, head_dim). */
static const struct model_preset {
    const char *name;
    int heads, kv_heads, head_dim;
} presets[] = {
    {"llama-3.1-8b", 32, 8, 128},   {"llama-3.1-70b", 64, 8, 128},  {"llama-3.1-405b", 128, 8, 128},
    {"mistral-7b", 32, 8, 128},     {"qwen2.5-7b", 28, 4, 128},     {"qwen2.5-72b", 64, 8, 128},
    {"gemma-2-9b", 16, 8, 256},     {"deepseek-llm-7b", 32, 32, 128},
};

static const struct { const char *name; const char *arg; const char *help; } opt_table[O_COUNT] = {
    [O_MODEL] = {"--model", "NAME", "heads, KV heads and head dim of a model: llama-3.1-8b, llama-3.1-70b,\n"
                                    "                             llama-3.1-405b, mistral-7b, qwen2.5-7b, qwen2.5-72b, gemma-2-9b,\n"
                                    "                             deepseek-llm-7b (MHA); later --heads etc. override it"},
    [O_BATCH] = {"--batch", "N", "requests in the batch (default 1)"},
    [O_HEADS] = {"--heads", "N", "query heads (default 32)"},
    [O_KV_HEADS] = {"--kv-heads", "N", "KV heads; a divisor of --heads (default: --heads, MHA)"},
    [O_HEAD_DIM] = {"--head-dim", "D", "head dimension: 64, 128 or 256 (default 128)"},
    [O_DTYPE] = {"--dtype", "T", "KV cache type: fp16, bf16, fp8 (what-if) (default fp16)"},
    [O_CTX] = {"--ctx", "L[,L...]", "KV tokens: one length for all, or one per request (k, m suffixes; default 4096)"},
    [O_SCHEDULE] = {"--schedule", "S[,S...]", "fa2, split, streamk, hybrid, balanced or all (default all)"},
    [O_SPLITS] = {"--splits", "S", "split: chunks per head (default: FlashAttention-2 heuristic)"},
    [O_GRID] = {"--grid", "G", "streamk/hybrid: CTAs in the grid (default: LeanAttention's rule)"},
    [O_BLOCK_N] = {"--block-n", "N", "KV tile length: 32, 64, 128, 256 (default by head dim)"},
    [O_CTAS_PER_SM] = {"--ctas-per-sm", "K", "CTAs per SM the schedule plans for (default: 2, balanced: all that fit; at most the kernel's occupancy)"},
};

void wl_opts_init(wl_opts *o)
{
    memset(o, 0, sizeof *o);
    o->wl.batch = 1;
    o->wl.heads = 32;
    o->wl.kv_heads = 0;   /* 0: same as heads, resolved in finish */
    o->wl.head_dim = 128;
    o->wl.dtype = DTYPE_FP16;
    o->n_ctx_list = 1;
    o->ctx_list[0] = 4096;
    o->sched_mask = (1u << SCHED_COUNT) - 1;
}

int opts_parse_size(const char *s, int64_t *out)
{
    if (!s || !*s) return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno) return -1;
    int64_t mul = 1;
    if (*end == 'k' || *end == 'K') { mul = 1024; end++; }
    else if (*end == 'm' || *end == 'M') { mul = 1024 * 1024; end++; }
    if (*end) return -1;
    if (v > 0 && v > INT64_MAX / mul) return -1;
    if (v < 0 && v < INT64_MIN / mul) return -1;
    *out = (int64_t)v * mul;
    return 0;
}

int opts_size_list(const char *name, const char *s, int64_t *out, int max, int64_t lo, int64_t hi, const char *what,
                   char *err, int errlen)
{
    int n = 1;
    for (const char *c = s; *c; c++) n += *c == ',';
    if (n > max) {
        snprintf(err, (size_t)errlen, "%s: %d %s, at most %d", name, n, what, max);
        return -1;
    }
    const char *p = s;
    for (int k = 0; k < n; k++) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        char item[64], tok[64];   /* the entry as parsed, and as named (at most 40 characters) */
        snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), p);
        snprintf(tok, sizeof tok, "%.*s%s", (int)(len < 40 ? len : 40), p, len > 40 ? "..." : "");
        char at[160];   /* "--ctx 0" alone, "--ctx: entry 3 of 12, 0" in a list */
        if (n > 1) snprintf(at, sizeof at, "%s: entry %d of %d, '%s'", name, k + 1, n, tok);
        else snprintf(at, sizeof at, "%s %s", name, tok);
        if (len == 0 || len >= sizeof item || opts_parse_size(item, &out[k])) {
            snprintf(err, (size_t)errlen, "%s: not a size (an integer, k or m suffix)", at);
            return -1;
        }
        if (out[k] < lo || out[k] > hi) {
            snprintf(err, (size_t)errlen, "%s: must be between %lld and %lld", at, (long long)lo, (long long)hi);
            return -1;
        }
        p = c ? c + 1 : p + len;
    }
    return n;
}

int opts_parse_int(const char *name, const char *v, int lo, int hi, int *out, char *err, int errlen)
{
    int64_t x;
    if (opts_parse_size(v, &x)) {
        snprintf(err, (size_t)errlen, "%s %s: not an integer", name, v);
        return -1;
    }
    if (x < lo || x > hi) {
        snprintf(err, (size_t)errlen, "%s %s: must be between %d and %d", name, v, lo, hi);
        return -1;
    }
    *out = (int)x;
    return 0;
}

int wl_opts_count(void)
{
    return O_COUNT;
}

const char *wl_opts_name(int k)
{
    return k >= 0 && k < O_COUNT ? opt_table[k].name : NULL;
}

const char *wl_opts_arg(int k)
{
    return k >= 0 && k < O_COUNT ? opt_table[k].arg : NULL;
}

const char *wl_opts_text(int k)
{
    return k >= 0 && k < O_COUNT ? opt_table[k].help : NULL;
}

int wl_opts_parse(wl_opts *o, int *i, int argc, char **argv, char *err, int errlen)
{
    const char *a = argv[*i];
    int id = -1;
    const char *val = NULL;
    for (int k = 0; k < O_COUNT; k++) {
        size_t n = strlen(opt_table[k].name);
        if (strncmp(a, opt_table[k].name, n) == 0 && (a[n] == 0 || a[n] == '=')) {
            id = k;
            if (a[n] == '=') val = a + n + 1;
            break;
        }
    }
    if (id < 0) return 0;
    if (!val) {
        if (*i + 1 >= argc) {
            snprintf(err, (size_t)errlen, "%s: missing value (%s)", opt_table[id].name, opt_table[id].arg);
            return -1;
        }
        val = argv[++*i];
    }
    (*i)++;
    return wl_opts_set(o, id, val, err, errlen) ? -1 : 1;
}

int wl_opts_set(wl_opts *o, int id, const char *val, char *err, int errlen)
{
    if (id < 0 || id >= O_COUNT) {
        snprintf(err, (size_t)errlen, "workload option %d: no such option", id);
        return -1;
    }
    const char *name = opt_table[id].name;
    switch (id) {
    case O_MODEL:
        for (size_t k = 0; k < sizeof presets / sizeof presets[0]; k++)
            if (!strcmp(val, presets[k].name)) {
                o->wl.heads = presets[k].heads;
                o->wl.kv_heads = presets[k].kv_heads;
                o->wl.head_dim = presets[k].head_dim;
                snprintf(o->model, sizeof o->model, "%s", presets[k].name);
                return 0;
            }
        {
            int m = snprintf(err, (size_t)errlen, "%s %s: unknown model (", name, val);
            for (size_t k = 0; k < sizeof presets / sizeof presets[0] && m < errlen; k++)
                m += snprintf(err + m, (size_t)(errlen - m), "%s%s", k ? ", " : "", presets[k].name);
            if (m < errlen) snprintf(err + m, (size_t)(errlen - m), ")");
        }
        return -1;
    case O_BATCH:
        o->batch_given = 1;
        return opts_parse_int(name, val, 1, WL_MAX_BATCH, &o->wl.batch, err, errlen) ? -1 : 0;
    case O_HEADS: return opts_parse_int(name, val, 1, WL_MAX_HEADS, &o->wl.heads, err, errlen) ? -1 : 0;
    case O_KV_HEADS: return opts_parse_int(name, val, 1, WL_MAX_HEADS, &o->wl.kv_heads, err, errlen) ? -1 : 0;
    case O_HEAD_DIM:
        if (opts_parse_int(name, val, 1, 1 << 16, &o->wl.head_dim, err, errlen)) return -1;
        if (o->wl.head_dim != 64 && o->wl.head_dim != 128 && o->wl.head_dim != 256) {
            snprintf(err, (size_t)errlen, "%s %s: unsupported head dim (64, 128 or 256)", name, val);
            return -1;
        }
        return 0;
    case O_DTYPE:
        o->wl.dtype = dtype_parse(val);
        if (o->wl.dtype < 0) {
            snprintf(err, (size_t)errlen, "%s %s: unknown type (fp16, bf16, fp8)", name, val);
            return -1;
        }
        return 0;
    case O_CTX: {
        int n = opts_size_list(name, val, o->ctx_list, WL_MAX_BATCH, 1, WL_MAX_CTX, "lengths", err, errlen);
        if (n < 0) return -1;
        o->n_ctx_list = n;
        o->ctx_given = 1;
        return 0;
    }
    case O_SCHEDULE: {
        unsigned mask = 0;
        char buf[256];
        if (strlen(val) >= sizeof buf) {
            snprintf(err, (size_t)errlen, "%s: value too long", name);
            return -1;
        }
        strcpy(buf, val);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (strcmp(t, "all") == 0) { mask |= (1u << SCHED_COUNT) - 1; continue; }
            int k = sched_parse(t);
            if (k < 0) {
                snprintf(err, (size_t)errlen, "%s %s: unknown schedule '%s' (fa2, split, streamk, hybrid, balanced, all)",
                         name, val, t);
                return -1;
            }
            mask |= 1u << k;
        }
        if (!mask) {
            snprintf(err, (size_t)errlen, "%s '%s': no schedule named", name, val);
            return -1;
        }
        o->sched_mask = mask;
        o->sched_given = 1;
        return 0;
    }
    case O_SPLITS: return opts_parse_int(name, val, 1, PLAN_MAX_SPLITS, &o->po.splits, err, errlen) ? -1 : 0;
    case O_GRID: return opts_parse_int(name, val, 1, 1 << 20, &o->po.grid, err, errlen) ? -1 : 0;
    case O_BLOCK_N:
        if (opts_parse_int(name, val, 1, 1 << 16, &o->po.block_n, err, errlen)) return -1;
        if (o->po.block_n != 32 && o->po.block_n != 64 && o->po.block_n != 128 && o->po.block_n != 256) {
            snprintf(err, (size_t)errlen, "%s %s: unsupported tile length (32, 64, 128 or 256)", name, val);
            return -1;
        }
        return 0;
    case O_CTAS_PER_SM: return opts_parse_int(name, val, 1, 64, &o->po.ctas_per_sm, err, errlen) ? -1 : 0;
    }
    return -1;
}

int wl_opts_finish(wl_opts *o, char *err, int errlen)
{
    workload *w = &o->wl;
    if (w->kv_heads == 0) w->kv_heads = w->heads;
    if (o->n_ctx_list == 1) {
        for (int r = 0; r < w->batch; r++) w->ctx[r] = o->ctx_list[0];
        w->ragged = 0;
    } else {
        if (o->n_ctx_list != w->batch) {
            snprintf(err, (size_t)errlen, "--ctx: %d lengths given but --batch is %d (one length per request, or one for all)",
                     o->n_ctx_list, w->batch);
            return -1;
        }
        for (int r = 0; r < w->batch; r++) w->ctx[r] = o->ctx_list[r];
        w->ragged = 1;
    }
    if (workload_check(w, err, errlen)) return -1;
    /* an option no schedule asked for would be dropped without a word */
    const unsigned sk = 1u << SCHED_STREAMK | 1u << SCHED_HYBRID;
    if (o->po.splits && !(o->sched_mask & 1u << SCHED_SPLIT)) {
        snprintf(err, (size_t)errlen, "--splits %d: only the split schedule takes it (--schedule split)", o->po.splits);
        return -1;
    }
    if (o->po.grid && !(o->sched_mask & sk)) {
        snprintf(err, (size_t)errlen, "--grid %d: only the streamk and hybrid schedules take it", o->po.grid);
        return -1;
    }
    return 0;
}

void wl_opts_help(FILE *f)
{
    for (int k = 0; k < O_COUNT; k++) {
        char lhs[40];
        snprintf(lhs, sizeof lhs, "%s %s", opt_table[k].name, opt_table[k].arg);
        fprintf(f, "  %-26s %s\n", lhs, opt_table[k].help);
    }
}
