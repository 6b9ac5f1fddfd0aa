/*
 * fmt.h: the one writer of JSON and of CSV fields.  Every JSON leansim
 * prints (result rows, listings, the report, the tuner's table, Chrome
 * traces) goes through fmt_json_*, which places the commas, escapes every
 * string ('"', '\\' and control bytes) and writes non-finite numbers as
 * null; every CSV field that can hold text goes through fmt_csv_field.
 * Depends on the C library only, so every floor can use it.
 */
#ifndef LEANSIM_FMT_H
#define LEANSIM_FMT_H

#include <stdio.h>

#define FMT_JSON_DEPTH 16

/* A JSON document being written.  Layout (not meaning) is the caller's:
 * containers opened at a depth whose bit is set in `lines` put each member
 * on its own line, indented `indent` spaces a level; the others are inline. */
typedef struct fmt_json {
    FILE *f;
    int depth;                 /* containers open */
    int n[FMT_JSON_DEPTH + 1]; /* members written in the container open at each depth */
    char close[FMT_JSON_DEPTH + 1]; /* '}' or ']': what ends the container open at each depth */
    unsigned lines;            /* bit d: the containers at depth d (1: the outermost) break lines */
    int indent;                /* spaces per level on broken lines */
    int spaced;                /* 1: "key": value, a, b; 0: "key":value,a,b */
} fmt_json;

/* Starts a document on f with the layout above. */
void fmt_json_init(fmt_json *j, FILE *f, unsigned lines, int indent, int spaced);

/* Containers and values.  `key` names the member inside an object and is
 * NULL inside an array or for the outermost value.  Past FMT_JSON_DEPTH
 * nested containers the output is not valid (callers nest 3 deep). */
void fmt_json_obj(fmt_json *j, const char *key);
void fmt_json_arr(fmt_json *j, const char *key);
void fmt_json_close(fmt_json *j);                       /* the innermost open container */
void fmt_json_str(fmt_json *j, const char *key, const char *s);   /* s NULL: null */
void fmt_json_int(fmt_json *j, const char *key, long long v);
void fmt_json_num(fmt_json *j, const char *key, double v, int prec);   /* %.*f; NaN, inf: null */
void fmt_json_bool(fmt_json *j, const char *key, int v);
/* A number given as text (e.g. a spec field as its file has it): written as
 * is when it is a JSON number, else as a string. */
void fmt_json_numtext(fmt_json *j, const char *key, const char *text);

/* Closes what is open, ends the line; returns 0, or -1 if a write failed. */
int fmt_json_end(fmt_json *j);

/* s as a quoted JSON string on f. */
void fmt_json_quote(FILE *f, const char *s);

/* s as one CSV field on f: as is, or quoted (quotes doubled) when it holds
 * a comma, a quote or a line break (RFC 4180). */
void fmt_csv_field(FILE *f, const char *s);

/* An output file written whole or not at all: through a temporary file
 * beside its target, renamed over it when complete.  A path that names no
 * regular file when opened (/dev/stdout, a pipe) is written directly. */
typedef struct fmt_file {
    FILE *f;
    char path[4096];           /* the target (a symbolic link's, resolved) */
    char tmp[4200];            /* the temporary file; "" when written directly */
} fmt_file;

/* Opens path for writing (o->f); 0, or -1 with errno set and nothing created. */
int fmt_file_open(fmt_file *o, const char *path);

/* Closes o and puts it in place; 0, or -1 (a write failed) with the
 * temporary file removed and the target as it was. */
int fmt_file_commit(fmt_file *o);

/* Closes o and removes its temporary file: the target stays as it was. */
void fmt_file_abort(fmt_file *o);

#endif
