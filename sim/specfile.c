/*
 * specfile.c: the `key = value` file format of chip specs and kernel
 * profiles (specfile.h).
 */
#include "specfile.h"

#include "embed.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int specfile_find(const specfile_field *fields, int n, const char *key)
{
    for (int k = 0; k < n; k++)
        if (!strcmp(fields[k].key, key)) return k;
    return -1;
}

/* One item of a list value at p into *t (its first member the item count),
 * *end after it; 0, or -1 with the reason. */
typedef int (*item_fn)(void *t, const specfile_field *f, const char *p, const char **end, char *why, int len);

/* An N:X item of a SPECF_PAIRS value. */
static int pair_item(void *tv, const specfile_field *f, const char *p, const char **endp, char *why, int len)
{
    specfile_pairs *t = tv;
    char *end;
    errno = 0;
    long n = strtol(p, &end, 10);
    if (end == p || *end != ':' || errno || n < f->lo || n > f->hi) {
        snprintf(why, (size_t)len, "%s: expected 'none' or items N:X with N an integer in [%g, %g], at '%.20s'",
                 f->key, f->lo, f->hi, p);
        return -1;
    }
    const char *xs = end + 1;
    double x = strtod(xs, &end);
    if (end == xs || errno || !isfinite(x) || x <= 0 || (*end && !isspace((unsigned char)*end))) {
        snprintf(why, (size_t)len, "%s: item %ld needs a positive number after ':', at '%.20s'", f->key, n, p);
        return -1;
    }
    if (t->n == SPECF_PAIRS_MAX) {
        snprintf(why, (size_t)len, "%s: more than %d items", f->key, SPECF_PAIRS_MAX);
        return -1;
    }
    if (t->n > 0 && n <= t->at[t->n - 1]) {
        snprintf(why, (size_t)len, "%s: item %ld does not follow %d (items go in ascending order)", f->key, n,
                 t->at[t->n - 1]);
        return -1;
    }
    t->at[t->n] = (int)n;
    t->v[t->n++] = x;
    *endp = end;
    return 0;
}

/* A NAME:LO:HI item of a SPECF_BANDS value. */
static int band_item(void *tv, const specfile_field *f, const char *p, const char **endp, char *why, int len)
{
    specfile_bands *t = tv;
    size_t nl = strcspn(p, ": \t");
    if (nl == 0 || nl >= sizeof t->name[0] || p[nl] != ':') {
        snprintf(why, (size_t)len, "%s: expected 'none' or items NAME:LO:HI (a kernel's name of 1 to %zu "
                 "characters), at '%.20s'", f->key, sizeof t->name[0] - 1, p);
        return -1;
    }
    if (t->n == SPECF_BANDS_MAX) {
        snprintf(why, (size_t)len, "%s: more than %d items", f->key, SPECF_BANDS_MAX);
        return -1;
    }
    char name[32];
    memcpy(name, p, nl);
    name[nl] = 0;
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->name[i], name)) {
            snprintf(why, (size_t)len, "%s: kernel %s given twice", f->key, name);
            return -1;
        }
    const char *xs = p + nl + 1;
    char *end;
    errno = 0;
    double lo = strtod(xs, &end);
    int ok = end != xs && *end == ':' && !errno && isfinite(lo) && lo >= -100 && lo <= 0;
    double hi = 0;
    if (ok) {
        xs = end + 1;
        hi = strtod(xs, &end);
        ok = end != xs && !errno && isfinite(hi) && hi >= 0 && hi <= 1000 && (!*end || isspace((unsigned char)*end));
    }
    if (!ok) {
        snprintf(why, (size_t)len, "%s: item %s needs LO in [-100, 0] and HI in [0, 1000] (percent), as "
                 "%s:-1.5:4.2, at '%.30s'", f->key, name, name, p);
        return -1;
    }
    snprintf(t->name[t->n], sizeof t->name[0], "%s", name);
    t->lo[t->n] = lo;
    t->hi[t->n++] = hi;
    *endp = end;
    return 0;
}

/* A list value, `none` or space-separated items each parsed by fn, into
 * *out (size bytes, its first member the item count) through the zeroed
 * scratch t of the same type: *out changes only when every item parses.
 * form names an item in the message of an empty list. */
static int list_set(void *out, void *t, size_t size, item_fn fn, const char *form, const specfile_field *f,
                    const char *val, char *why, int len)
{
    memset(t, 0, size);
    if (strcmp(val, "none")) {
        const char *p = val;
        while (*p) {
            while (isspace((unsigned char)*p)) p++;
            if (!*p) break;
            if (fn(t, f, p, &p, why, len)) return -1;
        }
        if (*(const int *)t == 0) {
            snprintf(why, (size_t)len, "%s: expected 'none' or items %s", f->key, form);
            return -1;
        }
    }
    memcpy(out, t, size);
    return 0;
}

int specfile_set(void *obj, const specfile_field *fields, int k, const char *val, char *why, int len)
{
    const specfile_field *f = &fields[k];
    char *base = (char *)obj + f->off;
    if (f->type == SPECF_STR) {
        if (!*val || strlen(val) >= f->len) {
            snprintf(why, (size_t)len, "%s must be 1 to %zu characters", f->key, f->len - 1);
            return -1;
        }
        strcpy(base, val);
        return 0;
    }
    if (f->type == SPECF_ENUM) {
        for (int i = 0; f->names[i]; i++)
            if (!strcmp(f->names[i], val)) {
                *(int *)base = i;
                return 0;
            }
        int m = snprintf(why, (size_t)len, "%s = %s: must be one of", f->key, val);
        for (int i = 0; f->names[i] && m < len; i++) m += snprintf(why + m, (size_t)(len - m), " %s", f->names[i]);
        return -1;
    }
    if (f->type == SPECF_PAIRS) {
        specfile_pairs t;
        return list_set(base, &t, sizeof t, pair_item, "N:X", f, val, why, len);
    }
    if (f->type == SPECF_BANDS) {
        specfile_bands t;
        return list_set(base, &t, sizeof t, band_item, "NAME:LO:HI", f, val, why, len);
    }
    errno = 0;
    char *end;
    double v = strtod(val, &end);
    if (end == val || *end || errno || !isfinite(v)) {
        snprintf(why, (size_t)len, "%s: '%s' is not a number", f->key, val);
        return -1;
    }
    if (v < f->lo || v > f->hi || (f->type == SPECF_INT && v != floor(v))) {
        snprintf(why, (size_t)len, "%s = %s: must be %s in [%g, %g]", f->key, val,
                 f->type == SPECF_INT ? "an integer" : "a number", f->lo, f->hi);
        return -1;
    }
    if (f->type == SPECF_INT) *(int *)base = (int)v;
    else *(double *)base = v;
    return 0;
}

void specfile_format(const void *obj, const specfile_field *fields, int k, char *buf, int len)
{
    const specfile_field *f = &fields[k];
    const char *base = (const char *)obj + f->off;
    switch (f->type) {
    case SPECF_STR: snprintf(buf, (size_t)len, "%s", base); break;
    case SPECF_INT: snprintf(buf, (size_t)len, "%d", *(const int *)base); break;
    case SPECF_ENUM: snprintf(buf, (size_t)len, "%s", f->names[*(const int *)base]); break;
    case SPECF_PAIRS: {
        const specfile_pairs *pr = (const specfile_pairs *)base;
        int m = snprintf(buf, (size_t)len, "%s", pr->n ? "" : "none");
        for (int i = 0; i < pr->n && m < len; i++)
            m += snprintf(buf + m, (size_t)(len - m), "%s%d:%.10g", i ? " " : "", pr->at[i], pr->v[i]);
        break;
    }
    case SPECF_BANDS: {
        const specfile_bands *b = (const specfile_bands *)base;
        int m = snprintf(buf, (size_t)len, "%s", b->n ? "" : "none");
        for (int i = 0; i < b->n && m < len; i++)
            m += snprintf(buf + m, (size_t)(len - m), "%s%s:%.10g:%.10g", i ? " " : "", b->name[i], b->lo[i], b->hi[i]);
        break;
    }
    default: {   /* the fewest digits (6 at least) that read back as the same number */
        const double v = *(const double *)base;
        if (v == floor(v) && fabs(v) < 1e15) {   /* a whole number as one: 41943040, not 4.194304e+07 */
            snprintf(buf, (size_t)len, "%.0f", v);
            break;
        }
        for (int prec = 6; prec <= 17; prec++) {
            snprintf(buf, (size_t)len, "%.*g", prec, v);
            if (strtod(buf, NULL) == v) break;
        }
        break;
    }
    }
}

uint64_t specfile_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t specfile_values_hash(const void *obj, const specfile_field *fields, int n)
{
    uint64_t h = 1469598103934665603ULL;
    char buf[800];
    for (int k = 0; k < n; k++) {
        const char *base = (const char *)obj + fields[k].off;
        if (fields[k].type == SPECF_DBL) snprintf(buf, sizeof buf, "%s=%.17g\n", fields[k].key, *(const double *)base);
        else {
            char v[640];
            specfile_format(obj, fields, k, v, sizeof v);
            snprintf(buf, sizeof buf, "%s=%s\n", fields[k].key, v);
        }
        for (const char *c = buf; *c; c++) {
            h ^= (unsigned char)*c;
            h *= 1099511628211ULL;
        }
    }
    return h;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

int specfile_parse(void *obj, const specfile_field *fields, int n, const char *text, const char *file, char *err,
                   int errlen)
{
    char seen[256] = {0};
    if (n > (int)sizeof seen) n = (int)sizeof seen;
    int lineno = 0;
    const char *p = text;
    char line[1024], orig[1024];
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        if (len >= sizeof line) {
            snprintf(err, (size_t)errlen, "%s:%d: line too long", file, lineno);
            return specfile_printable(err), -1;
        }
        memcpy(line, p, len);
        line[len] = 0;
        p += len + (nl ? 1 : 0);
        memcpy(orig, line, len + 1);
        specfile_printable(orig);
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *s = trim(line);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, (size_t)errlen, "%s:%d: expected 'key = value' >>> '%s'", file, lineno, trim(orig));
            return specfile_printable(err), -1;
        }
        *eq = 0;
        char *key = trim(s), *val = trim(eq + 1);
        int k = specfile_find(fields, n, key);
        if (k < 0) {
            snprintf(err, (size_t)errlen, "%s:%d: unknown key '%s' >>> '%s'", file, lineno, key, trim(orig));
            return specfile_printable(err), -1;
        }
        if (seen[k]) {
            snprintf(err, (size_t)errlen, "%s:%d: key '%s' given twice >>> '%s'", file, lineno, key, trim(orig));
            return specfile_printable(err), -1;
        }
        seen[k] = 1;
        char why[256];
        if (specfile_set(obj, fields, k, val, why, sizeof why)) {
            snprintf(err, (size_t)errlen, "%s:%d: %s >>> '%s'", file, lineno, why, trim(orig));
            return specfile_printable(err), -1;
        }
    }
    for (int k = 0; k < n; k++)
        if (!seen[k]) {
            snprintf(err, (size_t)errlen, "%s: missing required key '%s'", file, fields[k].key);
            return specfile_printable(err), -1;
        }
    return 0;
}

char *specfile_read(const char *path, char *why, int len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, (size_t)len, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *buf = malloc(1 << 16);
    size_t got = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    int rd_err = ferror(f) || !buf || !feof(f);
    fclose(f);
    if (rd_err) {
        free(buf);
        snprintf(why, (size_t)len, "cannot read (or larger than 64 KB)");
        return NULL;
    }
    buf[got] = 0;
    return buf;
}

int specfile_split_assign(const char *assign, char *key, int keylen, const char **val)
{
    const char *eq = strchr(assign, '=');
    size_t n = eq ? (size_t)(eq - assign) : 0;
    if (!eq || n == 0 || n >= (size_t)keylen) return -1;
    memcpy(key, assign, n);
    key[n] = 0;
    *val = eq + 1;
    return 0;
}

int specfile_assign(void *obj, const specfile_field *fields, int n, const char *assign, const char *what, char *err,
                    int errlen)
{
    char key[64], why[256];
    const char *val;
    if (specfile_split_assign(assign, key, sizeof key, &val)) {
        snprintf(err, (size_t)errlen, "--set %s: expected KEY=VALUE", assign);
        return -1;
    }
    int k = specfile_find(fields, n, key);
    if (k < 0) {
        snprintf(err, (size_t)errlen, "--set %s: unknown %s key '%s'", assign, what, key);
        return -1;
    }
    if (specfile_set(obj, fields, k, val, why, sizeof why)) {
        snprintf(err, (size_t)errlen, "--set %s: %s", assign, why);
        return -1;
    }
    return k;
}

/* Index in embed_files of the i-th file ending in ext, or -1. */
static int embedded_index(const char *ext, int i)
{
    size_t el = strlen(ext);
    for (int k = 0; k < embed_count; k++) {
        size_t n = strlen(embed_files[k].name);
        if (n > el && strcmp(embed_files[k].name + n - el, ext) == 0 && i-- == 0) return k;
    }
    return -1;
}

int specfile_embedded_count(const char *ext)
{
    int n = 0;
    while (embedded_index(ext, n) >= 0) n++;
    return n;
}

const char *specfile_embedded_name(const char *ext, int i)
{
    static char names[256][64];   /* one per embedded file, by its index there */
    int k = embedded_index(ext, i);
    if (k < 0 || k >= 256) return NULL;
    snprintf(names[k], sizeof names[k], "%.*s", (int)(strlen(embed_files[k].name) - strlen(ext)), embed_files[k].name);
    return names[k];
}

const char *specfile_embedded_text(const char *ext, int i)
{
    int k = embedded_index(ext, i);
    return k < 0 ? NULL : embed_files[k].text;
}

char *specfile_printable(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) *p = '?';
    return s;
}
