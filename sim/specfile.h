/*
 * specfile.h: the `key = value` file format shared by chip specs (.gpu)
 * and kernel profiles (.kernel).
 *
 * A file is lines of `key = value` with `#` comments.  A type describes its
 * keys in one table of fields (name, type, offset, accepted range); every
 * key of the table is required, unknown and repeated keys are errors, and
 * every error names the file, the line and the text:
 * "file:line: reason >>> 'text'".  Depends on the C library alone.
 */
#ifndef LEANSIM_SPECFILE_H
#define LEANSIM_SPECFILE_H

#include <stddef.h>
#include <stdint.h>

enum specfile_type { SPECF_STR, SPECF_INT, SPECF_DBL, SPECF_ENUM, SPECF_PAIRS, SPECF_BANDS };

/* A SPECF_PAIRS value: `none`, or up to SPECF_PAIRS_MAX `N:X` items (N an
 * integer in the field's [lo, hi], strictly ascending; X a positive number)
 * separated by spaces. */
#define SPECF_PAIRS_MAX 16
typedef struct specfile_pairs {
    int n;                 /* first, as in specfile_bands: the list parser reads it */
    int at[SPECF_PAIRS_MAX];
    double v[SPECF_PAIRS_MAX];
} specfile_pairs;

/* A SPECF_BANDS value: `none`, or up to SPECF_BANDS_MAX `NAME:LO:HI` items
 * (NAME a kernel profile's short name, each at most once; LO in [-100, 0],
 * HI in [0, 1000], percent) separated by spaces. */
#define SPECF_BANDS_MAX 8
typedef struct specfile_bands {
    int n;                 /* first, as in specfile_pairs */
    char name[SPECF_BANDS_MAX][32];
    double lo[SPECF_BANDS_MAX], hi[SPECF_BANDS_MAX];
} specfile_bands;

/* One key of a file type. */
typedef struct specfile_field {
    const char *key;
    int type;                  /* enum specfile_type */
    size_t off;                /* offset of the field in the object */
    size_t len;                /* SPECF_STR: buffer size */
    double lo, hi;             /* SPECF_INT, SPECF_DBL: accepted range; SPECF_PAIRS: of each N */
    const char *const *names;  /* SPECF_ENUM: NULL-terminated names; the field is an int index */
} specfile_field;

/*
 * Parses text into obj (zeroed first) through fields[n].  `file` names the
 * source in messages.  Returns 0, or -1 with the reason in err[errlen].
 * Relations between fields are the caller's to check afterwards.
 */
int specfile_parse(void *obj, const specfile_field *fields, int n, const char *text, const char *file, char *err,
                   int errlen);

/* Index of key in fields[n], or -1. */
int specfile_find(const specfile_field *fields, int n, const char *key);

/*
 * Sets field k of obj from the text val, with the parser's checks.
 * Returns 0, or -1 with "key: reason" in why[len] and obj unchanged.
 */
int specfile_set(void *obj, const specfile_field *fields, int k, const char *val, char *why, int len);

/*
 * Reads a file of at most 64 KB into a malloc'ed, NUL-terminated buffer
 * (caller frees).  Returns it, or NULL with errno-style text in why[len].
 */
char *specfile_read(const char *path, char *why, int len);

/* Writes field k of obj as its file text (value only) into buf[len]. */
void specfile_format(const void *obj, const specfile_field *fields, int k, char *buf, int len);

/*
 * Hash of obj's values (every field of fields[n], numbers at full
 * precision): the same values give the same hash however they were
 * reached (a file, or a file and --set overrides).
 */
uint64_t specfile_values_hash(const void *obj, const specfile_field *fields, int n);

/*
 * Splits "KEY=VALUE" (a --set override): the key into key[keylen], *val
 * to the value.  Returns 0, or -1 when there is no '=' or no key.
 */
int specfile_split_assign(const char *assign, char *key, int keylen, const char **val);

/*
 * Applies a --set override "KEY=VALUE" to obj (the caller's copy) through
 * fields[n], with the parser's checks; `what` names the kind of file in
 * messages ("spec", "kernel profile").  Returns the key's index, or -1
 * with "--set ASSIGN: reason" in err[errlen] and obj unchanged.
 * Relations between fields are the caller's to check afterwards.
 */
int specfile_assign(void *obj, const specfile_field *fields, int n, const char *assign, const char *what, char *err,
                    int errlen);

/* Files compiled into the binary (embed.h) whose name ends in ext (".gpu",
 * ".kernel"): how many, the i-th one's name without ext, and its text
 * (NULL past the end). */
int specfile_embedded_count(const char *ext);
const char *specfile_embedded_name(const char *ext, int i);
const char *specfile_embedded_text(const char *ext, int i);

/* Replaces control bytes of s with '?' in place, so that an error message
 * that quotes input echoes no terminal escapes. Returns s. */
char *specfile_printable(char *s);

/* FNV-1a 64-bit hash of a string. */
uint64_t specfile_hash(const char *s);

#endif
