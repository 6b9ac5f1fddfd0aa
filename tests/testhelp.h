/*
 * testhelp.h: a minimal test harness.  Each CHECK prints the failing
 * expression with file and line; TEST_DONE prints "N passed, N failed" for
 * the binary and exits non-zero on any failure.
 */
#ifndef LEANSIM_TESTHELP_H
#define LEANSIM_TESTHELP_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int th_pass __attribute__((unused)), th_fail __attribute__((unused));

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) th_pass++;                                                   \
        else {                                                                 \
            th_fail++;                                                         \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* |a - b| <= rel * |b| */
#define CHECK_REL(a, b, rel, what)                                                         \
    CHECK(fabs((double)(a) - (double)(b)) <= (rel) * fabs((double)(b)),                    \
          "%s: %.6g vs %.6g (rel err %.3g > %.3g)", what, (double)(a), (double)(b),         \
          fabs((double)(a) - (double)(b)) / fabs((double)(b)), (double)(rel))

/* leansim's own kernel profile (the default), loaded once. */
#ifdef LEANSIM_KPROF_H
static inline const kernel_profile *th_kernel(void)
{
    static kernel_profile k;
    static int loaded;
    char err[256];
    if (!loaded) {
        if (kprof_load(&k, KPROF_DEFAULT, err, sizeof err)) {
            fprintf(stderr, "th_kernel: %s\n", err);
            exit(2);
        }
        loaded = 1;
    }
    return &k;
}
#endif

/* xorshift64 (Marsaglia): the next value of the stream whose state is
 * *st (nonzero); each test keeps its own state, so its draws are fixed. */
#include <stdint.h>
static inline uint64_t th_xorshift(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *st = x;
}

/* A draw in [0, 1) from the stream *st (53 random bits). */
static inline double th_unit(uint64_t *st)
{
    return (double)(th_xorshift(st) >> 11) / 9007199254740992.0;
}

/* Monotonic seconds, for the benchmarks. */
#include <time.h>
static inline double th_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define TEST_DONE(name)                                                        \
    do {                                                                       \
        printf("%s: %d passed, %d failed\n", name, th_pass, th_fail);          \
        return th_fail ? 1 : 0;                                                \
    } while (0)

#endif
