/*
 * gpu.c: GPU spec files, the embedded spec registry and occupancy (gpu.h).
 *
 * The parser reads `key = value` lines through one table of fields; every
 * field is required, so that a spec says explicitly what it assumes.
 */
#include "gpu.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum field_type { F_STR, F_INT, F_DBL };

static const struct field {
    const char *key;
    int type;
    size_t off;
    size_t len;          /* F_STR: buffer size */
    double lo, hi;       /* accepted range */
} fields[] = {
#define S(k, n) {#k, F_STR, offsetof(gpu_spec, k), n, 0, 0}
#define I(k, lo, hi) {#k, F_INT, offsetof(gpu_spec, k), 0, lo, hi}
#define D(k, lo, hi) {#k, F_DBL, offsetof(gpu_spec, k), 0, lo, hi}
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
    D(mem_latency_ns, 1, 1e6),
    D(cta_inflight_bytes, 1, 1e9),
    D(fp32_tflops, 1e-3, 1e6),
    D(fp32_eff, 1e-3, 1),
    D(tensor_tflops, 1e-3, 1e7),
    D(tensor_eff, 1e-3, 1),
    D(launch_us, 0, 1e6),
    D(kernel_gap_us, 0, 1e6),
    D(cta_prologue_ns, 0, 1e9),
    D(cta_epilogue_ns, 0, 1e9),
    D(partial_write_ns, 0, 1e9),
    D(flag_latency_ns, 0, 1e9),
    D(merge_round_ns, 0, 1e9),
#undef S
#undef I
#undef D
};
#define N_FIELDS ((int)(sizeof fields / sizeof fields[0]))

/* Sets field k from text; returns 0, or -1 with the reason in why. */
static int field_set(gpu_spec *g, int k, const char *val, char *why, int len)
{
    const struct field *f = &fields[k];
    char *base = (char *)g + f->off;
    if (f->type == F_STR) {
        if (!*val || strlen(val) >= f->len) {
            snprintf(why, (size_t)len, "%s must be 1 to %zu characters", f->key, f->len - 1);
            return -1;
        }
        strcpy(base, val);
        return 0;
    }
    errno = 0;
    char *end;
    double v = strtod(val, &end);
    if (end == val || *end || errno || !isfinite(v)) {
        snprintf(why, (size_t)len, "%s: '%s' is not a number", f->key, val);
        return -1;
    }
    if (v < f->lo || v > f->hi || (f->type == F_INT && v != floor(v))) {
        snprintf(why, (size_t)len, "%s = %s: must be %s in [%g, %g]", f->key, val,
                 f->type == F_INT ? "an integer" : "a number", f->lo, f->hi);
        return -1;
    }
    if (f->type == F_INT) *(int *)base = (int)v;
    else *(double *)base = v;
    return 0;
}

/* Checks relations between fields; returns 0, or -1 with the reason. */
static int spec_check(const gpu_spec *g, char *why, int len)
{
    if (g->mem_bw_achievable_gbps > g->mem_bw_gbps) {
        snprintf(why, (size_t)len, "mem_bw_achievable_gbps (%g) exceeds mem_bw_gbps (%g)", g->mem_bw_achievable_gbps,
                 g->mem_bw_gbps);
        return -1;
    }
    if (g->smem_per_cta_bytes > g->smem_per_sm_bytes) {
        snprintf(why, (size_t)len, "smem_per_cta_bytes exceeds smem_per_sm_bytes");
        return -1;
    }
    return 0;
}

int gpu_spec_set(gpu_spec *g, const char *assign, char *err, int errlen)
{
    char key[64];
    const char *eq = strchr(assign, '=');
    size_t n = eq ? (size_t)(eq - assign) : 0;
    if (!eq || n == 0 || n >= sizeof key) {
        snprintf(err, (size_t)errlen, "--set %s: expected KEY=VALUE", assign);
        return GPU_EPARSE;
    }
    memcpy(key, assign, n);
    key[n] = 0;
    for (int k = 0; k < N_FIELDS; k++)
        if (!strcmp(fields[k].key, key)) {
            char why[160];
            gpu_spec t = *g;
            if (field_set(&t, k, eq + 1, why, sizeof why) || spec_check(&t, why, sizeof why)) {
                snprintf(err, (size_t)errlen, "--set %s: %s", assign, why);
                return GPU_EPARSE;
            }
            if (!strcmp(key, "sms") && g->sms > 0) {   /* the same SMs, fewer or more of them */
                t.fp32_tflops *= (double)t.sms / g->sms;
                t.tensor_tflops *= (double)t.sms / g->sms;
            }
            *g = t;
            return GPU_OK;
        }
    snprintf(err, (size_t)errlen, "--set %s: unknown spec key '%s'", assign, key);
    return GPU_EPARSE;
}

uint64_t gpu_hash_text(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211ULL; }
    return h;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

int gpu_spec_parse(gpu_spec *g, const char *text, const char *file, char *err, int errlen)
{
    memset(g, 0, sizeof *g);
    int seen[N_FIELDS] = {0};
    int lineno = 0;
    const char *p = text;
    char line[1024];
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        if (len >= sizeof line) {
            snprintf(err, (size_t)errlen, "%s:%d: line too long", file, lineno);
            return GPU_EPARSE;
        }
        memcpy(line, p, len);
        line[len] = 0;
        p += len + (nl ? 1 : 0);
        char orig[1024];
        memcpy(orig, line, len + 1);
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *s = trim(line);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, (size_t)errlen, "%s:%d: expected 'key = value' >>> '%s'", file, lineno, trim(orig));
            return GPU_EPARSE;
        }
        *eq = 0;
        char *key = trim(s), *val = trim(eq + 1);
        int k;
        for (k = 0; k < N_FIELDS; k++)
            if (strcmp(fields[k].key, key) == 0) break;
        if (k == N_FIELDS) {
            snprintf(err, (size_t)errlen, "%s:%d: unknown key '%s' >>> '%s'", file, lineno, key, trim(orig));
            return GPU_EPARSE;
        }
        if (seen[k]) {
            snprintf(err, (size_t)errlen, "%s:%d: key '%s' given twice >>> '%s'", file, lineno, key, trim(orig));
            return GPU_EPARSE;
        }
        seen[k] = 1;
        char why[160];
        if (field_set(g, k, val, why, sizeof why)) {
            snprintf(err, (size_t)errlen, "%s:%d: %s >>> '%s'", file, lineno, why, trim(orig));
            return GPU_EPARSE;
        }
    }
    for (int k = 0; k < N_FIELDS; k++)
        if (!seen[k]) {
            snprintf(err, (size_t)errlen, "%s: missing required key '%s'", file, fields[k].key);
            return GPU_EPARSE;
        }
    char why[160];
    if (spec_check(g, why, sizeof why)) {
        snprintf(err, (size_t)errlen, "%s: %s", file, why);
        return GPU_EPARSE;
    }
    snprintf(g->source, sizeof g->source, "%s", file);
    g->hash = gpu_hash_text(text);
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
    FILE *f = fopen(name, "rb");
    if (!f) {
        snprintf(err, (size_t)errlen, "--gpu %s: cannot open: %s", name, strerror(errno));
        return GPU_EIO;
    }
    char *buf = malloc(1 << 16);
    size_t got = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    int rd_err = ferror(f) || !buf || !feof(f);
    fclose(f);
    if (rd_err) {
        free(buf);
        snprintf(err, (size_t)errlen, "--gpu %s: cannot read (or larger than 64 KB)", name);
        return GPU_EIO;
    }
    buf[got] = 0;
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
#include "embed.h"

static int builtin_index(int i)
{
    for (int k = 0; k < embed_count; k++) {
        size_t n = strlen(embed_files[k].name);
        if (n > 4 && strcmp(embed_files[k].name + n - 4, ".gpu") == 0 && i-- == 0) return k;
    }
    return -1;
}

int gpu_builtin_count(void)
{
    int n = 0;
    while (builtin_index(n) >= 0) n++;
    return n;
}

const char *gpu_builtin_name(int i)
{
    static char names[64][32];
    int k = builtin_index(i);
    if (k < 0 || i >= 64) return NULL;
    snprintf(names[i], sizeof names[i], "%.*s", (int)(strlen(embed_files[k].name) - 4), embed_files[k].name);
    return names[i];
}

const char *gpu_builtin_text(int i)
{
    int k = builtin_index(i);
    return k < 0 ? NULL : embed_files[k].text;
}
