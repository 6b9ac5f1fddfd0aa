/*
 * engine.c: event queue and processor-sharing link (see engine.h).
 */
#include "engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline int ev_less(const ev *a, const ev *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int heap_push(ev **h, int *n, int *cap, ev e)
{
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 256;
        ev *nh = realloc(*h, (size_t)nc * sizeof(ev));
        if (!nh) return -1;
        *h = nh;
        *cap = nc;
    }
    int i = (*n)++;
    ev *a = *h;
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!ev_less(&e, &a[p])) break;
        a[i] = a[p];
        i = p;
    }
    a[i] = e;
    return 0;
}

static void heap_pop(ev *a, int *n)
{
    ev last = a[--*n];
    int i = 0, m = *n;
    while (1) {
        int c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && ev_less(&a[c + 1], &a[c])) c++;
        if (!ev_less(&a[c], &last)) break;
        a[i] = a[c];
        i = c;
    }
    if (m > 0) a[i] = last;
}

static int pq_push(pq *q, ev e)
{
    if (q->head == q->tail) q->head = q->tail = 0;
    if (q->head == q->tail || !ev_less(&e, &q->f[q->tail - 1])) {
        if (q->tail == q->fcap) {
            if (q->head > 0) {
                memmove(q->f, q->f + q->head, (size_t)(q->tail - q->head) * sizeof(ev));
                q->tail -= q->head;
                q->head = 0;
            }
            if (q->tail == q->fcap) {
                int nc = q->fcap ? q->fcap * 2 : 256;
                ev *nf = realloc(q->f, (size_t)nc * sizeof(ev));
                if (!nf) return -1;
                q->f = nf;
                q->fcap = nc;
            }
        }
        q->f[q->tail++] = e;
        return 0;
    }
    return heap_push(&q->h, &q->n, &q->cap, e);
}

static inline int pq_size(const pq *q)
{
    return q->n + q->tail - q->head;
}

/* The smallest entry (the queue must not be empty). */
static inline const ev *pq_top(const pq *q)
{
    if (q->head == q->tail) return &q->h[0];
    if (q->n == 0) return &q->f[q->head];
    return ev_less(&q->h[0], &q->f[q->head]) ? &q->h[0] : &q->f[q->head];
}

static void pq_pop(pq *q)
{
    if (q->head != q->tail && (q->n == 0 || !ev_less(&q->h[0], &q->f[q->head]))) q->head++;
    else heap_pop(q->h, &q->n);
}

static void pq_clear(pq *q)
{
    q->n = q->head = q->tail = 0;
}

static void pq_free(pq *q)
{
    free(q->h);
    free(q->f);
    memset(q, 0, sizeof *q);
}

void evq_clear(evq *q)
{
    pq_clear(&q->q);
    q->seq = 0;
}

void evq_free(evq *q)
{
    pq_free(&q->q);
}

int evq_push(evq *q, double t, int32_t who, int32_t what)
{
    ev e = {t, q->seq++, who, what};
    return pq_push(&q->q, e);
}

int evq_pop(evq *q, ev *e)
{
    if (pq_size(&q->q) == 0) return -1;
    *e = *pq_top(&q->q);
    pq_pop(&q->q);
    return 0;
}

double evq_next_time(const evq *q)
{
    return pq_size(&q->q) ? pq_top(&q->q)->t : INFINITY;
}

/* Empties the table of rates by flow count (a new generation; stamps
 * restart at 0 when the counter wraps, generation 0 is never valid). */
static void pslink_tab_clear(pslink *l)
{
    if (++l->tab_gen == 0) {
        memset(l->tab_stamp, 0, sizeof l->tab_stamp);
        l->tab_gen = 1;
    }
}

void pslink_reset(pslink *l, double bw, double cap, double now)
{
    l->bw = bw;
    l->cap = cap;
    l->soft = 0;
    l->hard = INFINITY;
    l->v = 0;
    l->now = now;
    l->served = 0;
    l->max_rate = 0;
    l->n = 0;
    l->seq = 0;
    pslink_tab_clear(l);
    pq_clear(&l->q);
}

void pslink_free(pslink *l)
{
    pq_free(&l->q);
    l->n = 0;
}

double pslink_share(double n, double cap, double bw, double soft)
{
    if (n <= 0) return 0;
    if (soft <= 0) {
        double share = bw / n;
        return share < cap ? share : cap;
    }
    double a = n * cap;
    if (!(a < 1e30 * bw)) return bw / n;   /* no per-flow limit to speak of (or none at all) */
    if (!(a > 1e-30 * bw)) return cap;
    /* scaled by the larger term, so that neither power overflows */
    double m = a > bw ? a : bw;
    double t = pow(a / m, -soft) + pow(bw / m, -soft);
    return m * pow(t, -1.0 / soft) / n;
}

double pslink_rate(pslink *l)
{
    return pslink_rate_of(l, l->n);
}

double pslink_rate_of(pslink *l, int n)
{
    if (n <= 0) return 0;
    if (l->cap != l->tab_cap || l->bw != l->tab_bw || l->soft != l->tab_soft || l->hard != l->tab_hard) {
        l->tab_cap = l->cap;   /* a new table */
        l->tab_bw = l->bw;
        l->tab_soft = l->soft;
        l->tab_hard = l->hard;
        pslink_tab_clear(l);
    }
    if (n >= PSLINK_TAB) return fmin(pslink_share(n, l->cap, l->bw, l->soft), l->hard);
    if (l->tab_stamp[n] != l->tab_gen) {
        l->tab_rate[n] = fmin(pslink_share(n, l->cap, l->bw, l->soft), l->hard);
        l->tab_stamp[n] = l->tab_gen;
    }
    return l->tab_rate[n];
}

void pslink_advance(pslink *l, double t)
{
    if (t <= l->now) return;
    if (l->n) {
        double r = pslink_rate(l);
        l->v += r * (t - l->now);
        l->served += r * l->n * (t - l->now);
    }
    l->now = t;
}

int pslink_join(pslink *l, double bytes, int32_t who)
{
    ev e = {l->v + bytes, l->seq++, who, 0};
    if (pq_push(&l->q, e)) return -1;
    l->n++;
    double total = pslink_rate(l) * l->n;
    if (total > l->max_rate) l->max_rate = total;
    return 0;
}

double pslink_next_time(pslink *l)
{
    if (l->n == 0) return INFINITY;
    double dv = pq_top(&l->q)->t - l->v;
    return dv <= 0 ? l->now : l->now + dv / pslink_rate(l);
}

int32_t pslink_pop_done(pslink *l)
{
    if (l->n == 0) return -1;
    /* a flow is done when the virtual clock reached its tag, up to rounding
     * of the clock (relative 1e-12 of its magnitude, and a millibyte) */
    const ev *top = pq_top(&l->q);
    double tol = 1e-12 * fabs(l->v) + 1e-3;
    if (top->t > l->v + tol) return -1;
    int32_t who = top->who;
    pq_pop(&l->q);
    l->n--;
    return who;
}

double pslink_next_tag(const pslink *l)
{
    return l->n ? pq_top(&l->q)->t : INFINITY;
}
