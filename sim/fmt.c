/*
 * fmt.c: the JSON and CSV writer (fmt.h).
 */
#include "fmt.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void fmt_json_init(fmt_json *j, FILE *f, unsigned lines, int indent, int spaced)
{
    memset(j, 0, sizeof *j);
    j->f = f;
    j->lines = lines;
    j->indent = indent;
    j->spaced = spaced;
}

void fmt_json_quote(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

static int breaks(const fmt_json *j, int depth)
{
    return depth > 0 && depth < 32 && (j->lines >> depth & 1u);
}

static void newline(fmt_json *j, int level)
{
    fputc('\n', j->f);
    for (int i = 0; i < level * j->indent; i++) fputc(' ', j->f);
}

/* Separator, line break and key before a member of the open container. */
static void member(fmt_json *j, const char *key)
{
    int d = j->depth;
    if (d > 0 && d <= FMT_JSON_DEPTH) {
        if (j->n[d]++) fputs(j->spaced && !breaks(j, d) ? ", " : ",", j->f);
        if (breaks(j, d)) newline(j, d);
    }
    if (key) {
        fmt_json_quote(j->f, key);
        fputs(j->spaced ? ": " : ":", j->f);
    }
}

static void open_container(fmt_json *j, const char *key, char c)
{
    member(j, key);
    fputc(c, j->f);
    j->depth++;
    if (j->depth <= FMT_JSON_DEPTH) {
        j->n[j->depth] = 0;
        j->close[j->depth] = c == '{' ? '}' : ']';
    }
}

void fmt_json_obj(fmt_json *j, const char *key)
{
    open_container(j, key, '{');
}

void fmt_json_arr(fmt_json *j, const char *key)
{
    open_container(j, key, '[');
}

void fmt_json_close(fmt_json *j)
{
    int d = j->depth;
    if (d < 1) return;
    if (d <= FMT_JSON_DEPTH) {
        if (breaks(j, d) && j->n[d]) newline(j, d - 1);
        fputc(j->close[d], j->f);
    }
    j->depth--;
}

void fmt_json_str(fmt_json *j, const char *key, const char *s)
{
    member(j, key);
    if (s) fmt_json_quote(j->f, s);
    else fputs("null", j->f);
}

void fmt_json_int(fmt_json *j, const char *key, long long v)
{
    member(j, key);
    fprintf(j->f, "%lld", v);
}

void fmt_json_num(fmt_json *j, const char *key, double v, int prec)
{
    member(j, key);
    if (isfinite(v)) fprintf(j->f, "%.*f", prec, v);
    else fputs("null", j->f);
}

void fmt_json_bool(fmt_json *j, const char *key, int v)
{
    member(j, key);
    fputs(v ? "true" : "false", j->f);
}

/* 1 when s is a number as JSON writes one: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int is_json_number(const char *s)
{
    const char *p = s;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (*p >= '0' && *p <= '9') p++;
    else return 0;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9')) return 0;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return 0;
        while (*p >= '0' && *p <= '9') p++;
    }
    return *p == 0;
}

void fmt_json_numtext(fmt_json *j, const char *key, const char *text)
{
    if (!is_json_number(text)) {
        fmt_json_str(j, key, text);
        return;
    }
    member(j, key);
    fputs(text, j->f);
}

int fmt_json_end(fmt_json *j)
{
    while (j->depth > 0) fmt_json_close(j);
    fputc('\n', j->f);
    return ferror(j->f) ? -1 : 0;
}

void fmt_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

int fmt_file_open(fmt_file *o, const char *path)
{
    struct stat sb;
    o->f = NULL;
    o->tmp[0] = 0;
    if (strlen(path) >= sizeof o->path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf(o->path, sizeof o->path, "%s", path);
    if (!stat(path, &sb) && !S_ISREG(sb.st_mode)) {   /* a device or a pipe: written directly */
        o->f = fopen(path, "w");
        return o->f ? 0 : -1;
    }
    char real[PATH_MAX];
    if (realpath(path, real) && strlen(real) < sizeof o->path) snprintf(o->path, sizeof o->path, "%s", real);
    snprintf(o->tmp, sizeof o->tmp, "%s.tmpXXXXXX", o->path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        o->tmp[0] = 0;
        return -1;
    }
    if (!(o->f = fdopen(fd, "w"))) {
        int e = errno;
        close(fd);
        unlink(o->tmp);
        o->tmp[0] = 0;
        errno = e;
        return -1;
    }
    /* the permissions a new file would have (mkstemp's are 0600) */
    mode_t um = umask(0);
    umask(um);
    fchmod(fd, 0666 & ~um);
    return 0;
}

int fmt_file_commit(fmt_file *o)
{
    int bad = ferror(o->f) != 0;
    bad |= fclose(o->f) != 0;
    o->f = NULL;
    if (!o->tmp[0]) return bad ? -1 : 0;
    if (bad || rename(o->tmp, o->path)) {
        unlink(o->tmp);
        o->tmp[0] = 0;
        return -1;
    }
    o->tmp[0] = 0;
    return 0;
}

void fmt_file_abort(fmt_file *o)
{
    if (o->f) fclose(o->f);
    o->f = NULL;
    if (o->tmp[0]) unlink(o->tmp);
    o->tmp[0] = 0;
}
