/*
 * gpu.c: GPU spec files, the embedded spec registry and occupancy (gpu.h).
 *
 * The parser (specfile.h) reads `key = value` lines through one table of
 * fields; every field is required, so that a spec says explicitly what it
 * assumes.
 */
#include "gpu.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "specfile.h"

static const specfile_field fields[] = {
#define S(k, n) {#k, SPECF_STR, offsetof(gpu_spec, k), n, 0, 0, NULL}
#define I(k, lo, hi) {#k, SPECF_INT, offsetof(gpu_spec, k), 0, lo, hi, NULL}
#define D(k, lo, hi) {#k, SPECF_DBL, offsetof(gpu_spec, k), 0, lo, hi, NULL}
#define P(k, lo, hi) {#k, SPECF_PAIRS, offsetof(gpu_spec, k), 0, lo, hi, NULL}
    S(name, 32),
    S(full_name, 96),
    I(sms, 1, 4096),
    I(max_ctas_per_sm, 1, 1024),
    I(max_threads_per_sm, 32, 65536),
    I(regs_per_sm, 1024, 1 << 22),
    I(smem_per_sm_bytes, 0, 1 << 26),
    I(smem_per_cta_bytes, 0, 1 << 26),
    D(l2_bytes, 0, 1e12),
    D(sm_clock_mhz, 1, 1e5),
    D(mem_bw_gbps, 1, 1e6),
    D(mem_bw_achievable_gbps, 1, 1e6),
    P(mem_bw_sms, 1, 4096),
    D(mem_latency_ns, 1, 1e6),
    D(sm_max_gbps, 1, 1e6),
    D(mem_share_exp, 0, 100),
    D(mem_sm_share_exp, 0, 4),
    D(fp32_tflops, 1e-3, 1e6),
    D(tensor_tflops, 1e-3, 1e7),
    D(launch_us, 0, 1e6),
    D(graph_launch_us, 0, 1e6),
    D(kernel_gap_us, 0, 1e6),
    D(pdl_gap_us, 0, 1e6),
    D(band_lo_pct, -100, 0),
    D(band_hi_pct, 0, 1000),
    {"band_kernel", SPECF_BANDS, offsetof(gpu_spec, band_kernel), 0, 0, 0, NULL},
    D(link_gbps, 1e-3, 1e6),
    D(link_latency_us, 0, 1e6),
#undef S
#undef I
#undef D
#undef P
};
#define N_FIELDS ((int)(sizeof fields / sizeof fields[0]))

int gpu_spec_has_key(const char *key)
{
    return specfile_find(fields, N_FIELDS, key) >= 0;
}

int gpu_spec_key_count(void)
{
    return N_FIELDS;
}

const char *gpu_spec_key(int i)
{
    return i >= 0 && i < N_FIELDS ? fields[i].key : NULL;
}

void gpu_spec_format(const gpu_spec *g, int i, char *buf, int len)
{
    specfile_format(g, fields, i, buf, len);
}

/* Checks relations between fields; returns 0, or -1 with the reason. */
static int spec_check(const gpu_spec *g, char *why, int len)
{
    if (g->smem_per_cta_bytes > g->smem_per_sm_bytes) {
        snprintf(why, (size_t)len, "smem_per_cta_bytes exceeds smem_per_sm_bytes");
        return -1;
    }
    return 0;
}

int gpu_spec_set(gpu_spec *g, const char *assign, char *err, int errlen)
{
    gpu_spec t = *g;
    int k = specfile_assign(&t, fields, N_FIELDS, assign, "spec", err, errlen);
    if (k < 0) return GPU_EPARSE;
    char why[256];
    if (spec_check(&t, why, sizeof why)) {
        snprintf(err, (size_t)errlen, "--set %s: %s", assign, why);
        return GPU_EPARSE;
    }
    if (!strcmp(fields[k].key, "sms") && g->sms > 0) {   /* the same SMs, fewer or more of them */
        int n = t.sms;
        t.sms = g->sms;
        gpu_spec_use_sms(&t, n);
    }
    t.hash = specfile_values_hash(&t, fields, N_FIELDS);
    *g = t;
    return GPU_OK;
}

double gpu_mem_bw_ceiling(const gpu_spec *g, int sms)
{
    const specfile_pairs *t = &g->mem_bw_sms;
    if (t->n == 0) return 0;
    if (sms <= t->at[0]) return t->v[0];
    for (int i = 1; i < t->n; i++)
        if (sms <= t->at[i])
            return t->v[i - 1] + (t->v[i] - t->v[i - 1]) * (sms - t->at[i - 1]) / (t->at[i] - t->at[i - 1]);
    return t->v[t->n - 1];
}

void gpu_spec_use_sms(gpu_spec *g, int sms)
{
    if (sms == g->sms || g->sms < 1) {
        g->sms = sms;
        return;
    }
    g->fp32_tflops *= (double)sms / g->sms;
    g->tensor_tflops *= (double)sms / g->sms;
    if (g->mem_bw_sms.n) g->mem_bw_achievable_gbps *= gpu_mem_bw_ceiling(g, sms) / gpu_mem_bw_ceiling(g, g->sms);
    g->sms = sms;
    g->hash = specfile_values_hash(g, fields, N_FIELDS);
}

uint64_t gpu_hash_text(const char *s)
{
    return specfile_hash(s);
}

int gpu_spec_parse(gpu_spec *g, const char *text, const char *file, char *err, int errlen)
{
    memset(g, 0, sizeof *g);
    if (specfile_parse(g, fields, N_FIELDS, text, file, err, errlen)) return GPU_EPARSE;
    char why[160];
    if (spec_check(g, why, sizeof why)) {
        snprintf(err, (size_t)errlen, "%s: %s", file, why);
        return GPU_EPARSE;
    }
    snprintf(g->source, sizeof g->source, "%s", file);
    g->hash = specfile_values_hash(g, fields, N_FIELDS);
    return GPU_OK;
}

int gpu_spec_load(gpu_spec *g, const char *name, char *err, int errlen)
{
    size_t n = strlen(name);
    int is_path = strchr(name, '/') != NULL || (n > 4 && strcmp(name + n - 4, ".gpu") == 0);
    if (!is_path) {
        for (int i = 0; i < gpu_builtin_count(); i++)
            if (strcmp(gpu_builtin_name(i), name) == 0) {
                char src[64];
                snprintf(src, sizeof src, "builtin:%s", name);
                return gpu_spec_parse(g, gpu_builtin_text(i), src, err, errlen);
            }
        int len = snprintf(err, (size_t)errlen, "--gpu %s: unknown GPU (known:", name);
        for (int i = 0; i < gpu_builtin_count() && len < errlen; i++)
            len += snprintf(err + len, (size_t)(errlen - len), " %s", gpu_builtin_name(i));
        if (len < errlen) snprintf(err + len, (size_t)(errlen - len), "; or a path to a .gpu file)");
        return GPU_ENOTFOUND;
    }
    char why[160];
    char *buf = specfile_read(name, why, sizeof why);
    if (!buf) {
        snprintf(err, (size_t)errlen, "--gpu %s: %s", name, why);
        return GPU_EIO;
    }
    int rc = gpu_spec_parse(g, buf, name, err, errlen);
    free(buf);
    return rc;
}

int gpu_occupancy(const gpu_spec *g, const kernel_res *r)
{
    int n = g->max_ctas_per_sm;
    if (r->threads > 0) {
        int warps = (r->threads + 31) / 32;
        int t = g->max_threads_per_sm / (warps * 32);
        if (t < n) n = t;
        /* registers are allocated per warp in units of 256 */
        int per_warp = ((r->regs * 32 + 255) / 256) * 256;
        if (per_warp > 0) {
            int w = g->regs_per_sm / per_warp;
            if (w / warps < n) n = w / warps;
        }
    }
    if (r->smem_bytes > 0) {
        if (r->smem_bytes > g->smem_per_cta_bytes) return 0;
        /* the driver reserves 1 KB per CTA on Ampere and Hopper */
        int s = g->smem_per_sm_bytes / (r->smem_bytes + 1024);
        if (s < n) n = s;
    }
    return n < 0 ? 0 : n;
}

/* Embedded spec files: those of embed.h whose name ends in ".gpu". */
int gpu_builtin_count(void)
{
    return specfile_embedded_count(".gpu");
}

const char *gpu_builtin_name(int i)
{
    return specfile_embedded_name(".gpu", i);
}

const char *gpu_builtin_text(int i)
{
    return specfile_embedded_text(".gpu", i);
}

/* Index of kernel's entry in g's band_kernel, or -1. */
static int band_index(const gpu_spec *g, const char *kernel)
{
    for (int i = 0; i < g->band_kernel.n; i++)
        if (!strcmp(g->band_kernel.name[i], kernel)) return i;
    return -1;
}

void gpu_spec_band(const gpu_spec *g, const char *kernel, double *lo, double *hi)
{
    int i = band_index(g, kernel);
    *lo = i >= 0 ? g->band_kernel.lo[i] : g->band_lo_pct;
    *hi = i >= 0 ? g->band_kernel.hi[i] : g->band_hi_pct;
}

int gpu_spec_band_set(gpu_spec *g, const char *kernel, double lo, double hi)
{
    specfile_bands *b = &g->band_kernel;
    int i = band_index(g, kernel);
    if (i < 0) {
        if (b->n == SPECF_BANDS_MAX) return -1;
        i = b->n++;
        snprintf(b->name[i], sizeof b->name[i], "%s", kernel);
    }
    b->lo[i] = lo;
    b->hi[i] = hi;
    return 0;
}
