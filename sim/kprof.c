/*
 * kprof.c: kernel profile files, the embedded profiles and what the
 * engines ask of a profile (kprof.h).
 */
#include "kprof.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "specfile.h"
#include "version.h"

static const char *const schedule_names[] = {"any", "fa2", "split", "streamk", "hybrid", "balanced", NULL};
static const char *const compute_names[] = {"auto", "tensor", "fp32", NULL};
static const char *const split_rule_names[] = {"fa2", "fill", NULL};

static const specfile_field fields[] = {
#define S(k, n) {#k, SPECF_STR, offsetof(kernel_profile, k), n, 0, 0, NULL}
#define I(k, lo, hi) {#k, SPECF_INT, offsetof(kernel_profile, k), 0, lo, hi, NULL}
#define D(k, lo, hi) {#k, SPECF_DBL, offsetof(kernel_profile, k), 0, lo, hi, NULL}
#define E(k, names) {#k, SPECF_ENUM, offsetof(kernel_profile, k), 0, 0, 0, names}
    S(name, 32),
    S(full_name, 96),
    E(schedule, schedule_names),
    I(block_n, 0, 1024),
    I(splits, 0, PLAN_MAX_SPLITS),
    I(ctas_per_sm, 0, 1024),
    E(split_rule, split_rule_names),
    I(split_ctas, 0, 1 << 20),
    I(split_min, 0, PLAN_MAX_SPLITS),
    I(threads, 0, 1024),
    I(regs_per_thread, 0, 255),
    I(smem_bytes, 0, 1 << 26),
    E(compute, compute_names),
    I(mma_rows, 1, 256),
    I(max_group, 0, 1024),
    D(cta_inflight_bytes, 1, 1e9),
    D(inflight_tiles, 0, 1024),
    D(sm_gbps, 1, 1e6),
    D(fp32_eff, 1e-3, 1),
    D(fp32_row_flops, 0, 1e4),
    D(fp32_kv_flops, 0, 1e4),
    D(fp32_issue_frac, 1e-3, 1),
    D(fp32_overlap_norm, 1, 64),
    D(tensor_eff, 1e-3, 1),
    D(tc_kv_flops, 0, 1e6),
    D(cta_prologue_ns, 0, 1e9),
    D(cta_epilogue_ns, 0, 1e9),
    D(partial_write_ns, 0, 1e9),
    D(partial_row_ns, 0, 1e9),
    D(flag_latency_ns, 0, 1e9),
    D(merge_round_ns, 0, 1e9),
    D(host_round_ns, 0, 1e9),
    D(host_setup_ns, 0, 1e9),
    I(pdl, 0, 1),
    I(seg_loads, 0, 16),
    D(load_queue, 0, 1),
    D(sm_stream_loss, 0, 1),
    D(call_extra_us, 0, 1e6),
    /* the error bands, overall and by regime: the simulator's (err_), the closed form's (err_model_) */
#define BAND(pfx, name, blo, bhi, b) \
    {pfx name "_lo_pct", SPECF_DBL, offsetof(kernel_profile, blo[b]), 0, -100, 0, NULL}, \
    {pfx name "_hi_pct", SPECF_DBL, offsetof(kernel_profile, bhi[b]), 0, 0, 1000, NULL}
#define BANDS(pfx, lo, hi, blo, bhi) \
    {pfx "lo_pct", SPECF_DBL, offsetof(kernel_profile, lo), 0, -100, 0, NULL}, \
    {pfx "hi_pct", SPECF_DBL, offsetof(kernel_profile, hi), 0, 0, 1000, NULL}, \
    BAND(pfx, "fp32", blo, bhi, KPROF_BAND_FP32), BAND(pfx, "fa2", blo, bhi, KPROF_BAND_FA2), \
    BAND(pfx, "split", blo, bhi, KPROF_BAND_SPLIT), BAND(pfx, "streamk", blo, bhi, KPROF_BAND_STREAMK), \
    BAND(pfx, "balanced", blo, bhi, KPROF_BAND_BALANCED), BAND(pfx, "fa2_wide", blo, bhi, KPROF_BAND_FA2_WIDE), \
    BAND(pfx, "split_wide", blo, bhi, KPROF_BAND_SPLIT_WIDE), \
    BAND(pfx, "streamk_wide", blo, bhi, KPROF_BAND_STREAMK_WIDE), \
    BAND(pfx, "balanced_wide", blo, bhi, KPROF_BAND_BALANCED_WIDE)
    BANDS("err_", err_lo_pct, err_hi_pct, err_band_lo_pct, err_band_hi_pct),
    BANDS("err_model_", err_model_lo_pct, err_model_hi_pct, err_model_band_lo_pct, err_model_band_hi_pct),
#undef BANDS
#undef BAND
    S(single, 32),
#undef S
#undef I
#undef D
#undef E
};
#define N_FIELDS ((int)(sizeof fields / sizeof fields[0]))

int kprof_key_count(void)
{
    return N_FIELDS;
}

const char *kprof_key(int i)
{
    return i >= 0 && i < N_FIELDS ? fields[i].key : NULL;
}

void kprof_format(const kernel_profile *k, int i, char *buf, int len)
{
    specfile_format(k, fields, i, buf, len);
}

int kprof_has_key(const char *key)
{
    return specfile_find(fields, N_FIELDS, key) >= 0;
}

/* 1 when name is a file's path (a '/' in it, or the .kernel suffix), not a shipped profile's name. */
static int is_path(const char *name)
{
    size_t n = strlen(name);
    return strchr(name, '/') != NULL || (n > 7 && strcmp(name + n - 7, ".kernel") == 0);
}

/* Index of the shipped profile of that name, or -1. */
static int builtin_index(const char *name)
{
    for (int i = 0; i < kprof_builtin_count(); i++)
        if (!strcmp(kprof_builtin_name(i), name)) return i;
    return -1;
}

/* " (known: a b ...; or a path to a .kernel file)" into buf. */
static void known_list(char *buf, int len)
{
    int m = snprintf(buf, (size_t)len, " (known:");
    for (int i = 0; i < kprof_builtin_count() && m < len; i++)
        m += snprintf(buf + m, (size_t)(len - m), " %s", kprof_builtin_name(i));
    if (m < len) snprintf(buf + m, (size_t)(len - m), "; or a path to a .kernel file)");
}

/* Relations between fields; returns 0, or -1 with the reason. */
static int check(const kernel_profile *k, char *why, int len)
{
    if (k->block_n && k->block_n != 32 && k->block_n != 64 && k->block_n != 128 && k->block_n != 256) {
        snprintf(why, (size_t)len, "block_n = %d: must be 0 (the planner's default), 32, 64, 128 or 256", k->block_n);
        return -1;
    }
    if (k->threads && (k->threads % 32 || k->regs_per_thread < 1)) {
        snprintf(why, (size_t)len, "threads = %d, regs_per_thread = %d: threads must be a multiple of 32 and "
                 "registers at least 1 (or threads = 0: leansim's kernels)", k->threads, k->regs_per_thread);
        return -1;
    }
    if (strcmp(k->single, "none") && (k->schedule != KPROF_SPLIT || !strcmp(k->single, k->name))) {
        snprintf(why, (size_t)len, "single = %s: only a split profile names another kernel for one split", k->single);
        return -1;
    }
    if (strcmp(k->single, "none") && !is_path(k->single) && builtin_index(k->single) < 0) {
        /* a shipped profile's name: known now, not at the first one-split workload */
        int m = snprintf(why, (size_t)len, "single = %s: no kernel profile of that name", k->single);
        if (m < len) known_list(why + m, len - m);
        return -1;
    }
    if (k->split_rule == KPROF_SPLIT_FILL && k->split_ctas < 1) {
        snprintf(why, (size_t)len, "split_rule = fill needs split_ctas >= 1");
        return -1;
    }
    if (k->splits && k->schedule != KPROF_SPLIT) {
        snprintf(why, (size_t)len, "splits = %d: only a split profile fixes its splits", k->splits);
        return -1;
    }
    return 0;
}

int kprof_parse(kernel_profile *k, const char *text, const char *file, char *err, int errlen)
{
    memset(k, 0, sizeof *k);
    if (specfile_parse(k, fields, N_FIELDS, text, file, err, errlen)) return KPROF_EPARSE;
    char why[512];
    if (check(k, why, sizeof why)) {
        snprintf(err, (size_t)errlen, "%s: %s", file, why);
        return KPROF_EPARSE;
    }
    snprintf(k->source, sizeof k->source, "%s", file);
    k->hash = specfile_values_hash(k, fields, N_FIELDS);
    (void)text;
    return KPROF_OK;
}

/* Embedded profiles: the files of embed.h whose name ends in ".kernel". */
int kprof_builtin_count(void)
{
    return specfile_embedded_count(".kernel");
}

const char *kprof_builtin_name(int i)
{
    return specfile_embedded_name(".kernel", i);
}

const char *kprof_builtin_text(int i)
{
    return specfile_embedded_text(".kernel", i);
}

int kprof_load(kernel_profile *k, const char *name, char *err, int errlen)
{
    char why[512];
    if (!is_path(name)) {
        int i = builtin_index(name);
        if (i >= 0) {
            char src[64];
            snprintf(src, sizeof src, "builtin:%s", name);
            if (kprof_parse(k, kprof_builtin_text(i), src, why, sizeof why)) {
                snprintf(err, (size_t)errlen, "--kernel %s: %s", name, why);
                return KPROF_EPARSE;
            }
            return KPROF_OK;
        }
        int m = snprintf(err, (size_t)errlen, "--kernel %s: unknown kernel profile", name);
        if (m < errlen) known_list(err + m, errlen - m);
        return KPROF_ENOTFOUND;
    }
    char *buf = specfile_read(name, why, sizeof why);
    if (!buf) {
        snprintf(err, (size_t)errlen, "--kernel %s: %s", name, why);
        return KPROF_EIO;
    }
    int rc = kprof_parse(k, buf, name, why, sizeof why);
    free(buf);
    if (rc) snprintf(err, (size_t)errlen, "--kernel %s: %s", name, why);
    return rc;
}

int kprof_set(kernel_profile *k, const char *assign, char *err, int errlen)
{
    kernel_profile t = *k;
    if (specfile_assign(&t, fields, N_FIELDS, assign, "kernel profile", err, errlen) < 0) return KPROF_EPARSE;
    char why[256];
    if (check(&t, why, sizeof why)) {
        snprintf(err, (size_t)errlen, "--set %s: %s", assign, why);
        return KPROF_EPARSE;
    }
    t.hash = specfile_values_hash(&t, fields, N_FIELDS);
    *k = t;
    return KPROF_OK;
}

int kprof_is_default(const kernel_profile *k)
{
    return !strcmp(k->name, KPROF_DEFAULT);
}

int kprof_schedule_kind(const kernel_profile *k)
{
    switch (k->schedule) {
    case KPROF_FA2: return SCHED_FA2;
    case KPROF_SPLIT: return SCHED_SPLIT;
    case KPROF_STREAMK: return SCHED_STREAMK;
    case KPROF_HYBRID: return SCHED_HYBRID;
    case KPROF_BALANCED: return SCHED_BALANCED;
    default: return -1;
    }
}

unsigned kprof_sched_mask(const kernel_profile *k)
{
    int s = kprof_schedule_kind(k);
    return s < 0 ? (1u << SCHED_COUNT) - 1 : 1u << s;
}

void kprof_plan_opts(const kernel_profile *k, const workload *w, plan_opts *o)
{
    if (!o->block_n) o->block_n = k->block_n;
    if (!o->splits && o->kind == SCHED_SPLIT) {
        o->splits = k->splits;
        if (!o->splits && k->split_rule == KPROF_SPLIT_FILL) {
            int64_t units = (int64_t)w->batch * w->kv_heads;
            int64_t s = units > 0 ? k->split_ctas / units : 1;
            if (s < k->split_min || s < 1) s = 1;
            o->splits = (int)(s > PLAN_MAX_SPLITS ? PLAN_MAX_SPLITS : s);
        }
    }
    if (!o->ctas_per_sm) o->ctas_per_sm = k->ctas_per_sm;
}

int kprof_band_of(const kernel_profile *k, int sched, int rows, int head_dim)
{
    if (!kprof_tensor_cores(k, rows, head_dim)) return KPROF_BAND_FP32;
    const int wide = rows >= KPROF_BAND_WIDE_ROWS ? KPROF_BAND_FA2_WIDE - KPROF_BAND_FA2 : 0;
    switch (sched) {
    case SCHED_FA2: return KPROF_BAND_FA2 + wide;
    case SCHED_SPLIT: return KPROF_BAND_SPLIT + wide;
    case SCHED_BALANCED: return KPROF_BAND_BALANCED + wide;
    default: return KPROF_BAND_STREAMK + wide;   /* stream-K and hybrid */
    }
}

void kprof_band(const kernel_profile *k, int band, int closed_form, double *lo_pct, double *hi_pct)
{
    int model = 0;
    for (int b = 0; closed_form && b < KPROF_BAND_COUNT; b++)
        model |= k->err_model_band_lo_pct[b] != 0 || k->err_model_band_hi_pct[b] != 0;
    model |= closed_form && (k->err_model_lo_pct != 0 || k->err_model_hi_pct != 0);
    const double *blo = model ? k->err_model_band_lo_pct : k->err_band_lo_pct;
    const double *bhi = model ? k->err_model_band_hi_pct : k->err_band_hi_pct;
    int own = band >= 0 && band < KPROF_BAND_COUNT && (blo[band] != 0 || bhi[band] != 0);
    if (!own && band >= KPROF_BAND_FA2_WIDE && band < KPROF_BAND_COUNT) {   /* a wide group: its family's */
        band -= KPROF_BAND_FA2_WIDE - KPROF_BAND_FA2;
        own = blo[band] != 0 || bhi[band] != 0;
    }
    *lo_pct = own ? blo[band] : model ? k->err_model_lo_pct : k->err_lo_pct;
    *hi_pct = own ? bhi[band] : model ? k->err_model_hi_pct : k->err_hi_pct;
}

int kprof_tensor_cores(const kernel_profile *k, int rows, int head_dim)
{
    if (k->compute == KPROF_TENSOR) return 1;
    if (k->compute == KPROF_FP32) return 0;
    return plan_uses_tensor_cores(rows, head_dim);
}

int kprof_resources(const kernel_profile *k, int head_dim, int block_n, int dtype, int rows, kernel_res *out)
{
    if (k->threads > 0) {
        out->threads = k->threads;
        out->regs = k->regs_per_thread;
        out->smem_bytes = k->smem_bytes;
        return 0;
    }
    return kres_decode(head_dim, block_n, dtype, rows, out);
}

int kprof_single_split(const kernel_profile *k, const plan_opts *o, int splits, kernel_profile *k1, plan_opts *o1,
                       char *err, int errlen)
{
    if (o->kind != SCHED_SPLIT || splits != 1 || !strcmp(k->single, "none")) return 0;
    if (kprof_load(k1, k->single, err, errlen) != KPROF_OK) return -1;
    *o1 = *o;
    o1->kind = SCHED_FA2;
    o1->splits = 0;
    return 1;
}

uint64_t kprof_pair_hash(const gpu_spec *g, const kernel_profile *k)
{
    /* the engines' sources are part of the key: a changed engine predicts anew */
    return (g->hash ^ (k->hash * 0x100000001b3ULL + 0x51ed270b27ULL)) ^ ((uint64_t)LEANSIM_ENGINE_HASH * 0x9e3779b97f4a7c15ULL);
}

int kprof_pair_load(gpu_spec *g, kernel_profile *k, const char *gpu, const char *kernel, const char *const *sets,
                    int n_sets, char *err, int errlen)
{
    if (gpu_spec_load(g, gpu, err, errlen) != GPU_OK) return KPROF_EPARSE;
    if (kprof_load(k, kernel ? kernel : KPROF_DEFAULT, err, errlen) != KPROF_OK) return KPROF_EPARSE;
    for (int i = 0; i < n_sets; i++) {
        char key[64] = "";
        const char *val;
        if (specfile_split_assign(sets[i], key, sizeof key, &val)) {
            snprintf(err, (size_t)errlen, "--set %s: expected KEY=VALUE", sets[i]);
            return KPROF_EPARSE;
        }
        if (!kprof_has_key(key) && !gpu_spec_has_key(key)) {
            snprintf(err, (size_t)errlen, "--set %s: unknown key '%s' (neither a GPU spec nor a kernel profile key; "
                     "leansim gpus and leansim kernels list them)", sets[i], key);
            return KPROF_EPARSE;
        }
        int rc = kprof_has_key(key) && !gpu_spec_has_key(key) ? kprof_set(k, sets[i], err, errlen)
                                                              : gpu_spec_set(g, sets[i], err, errlen);
        if (rc) return KPROF_EPARSE;
    }
    return KPROF_OK;
}

int kprof_workload_check(const kernel_profile *k, const workload *w, char *err, int errlen)
{
    if (k->max_group > 0 && w->kv_heads > 0 && w->heads / w->kv_heads > k->max_group) {
        snprintf(err, (size_t)errlen, "--heads %d --kv-heads %d: a GQA group of %d, and kernel %s runs groups of at most %d%s",
                 w->heads, w->kv_heads, w->heads / w->kv_heads, k->name, k->max_group,
                 k->max_group == 1 ? " (query heads = KV heads only)" : "");
        return -1;
    }
    return 0;
}

int kprof_block_n(const kernel_profile *k, const workload *w, int asked)
{
    return asked ? asked : k->block_n ? k->block_n : plan_default_block_n(w->head_dim);
}
