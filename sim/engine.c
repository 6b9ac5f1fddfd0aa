/*
 * engine.c: event queue and processor-sharing link (see engine.h).
 */
#include "engine.h"

#include <math.h>
#include <stdlib.h>

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

void evq_clear(evq *q)
{
    q->n = 0;
    q->seq = 0;
}

void evq_free(evq *q)
{
    free(q->h);
    q->h = NULL;
    q->n = q->cap = 0;
}

int evq_push(evq *q, double t, int32_t who, int32_t what)
{
    ev e = {t, q->seq++, who, what};
    return heap_push(&q->h, &q->n, &q->cap, e);
}

int evq_pop(evq *q, ev *e)
{
    if (q->n == 0) return -1;
    *e = q->h[0];
    heap_pop(q->h, &q->n);
    return 0;
}

double evq_next_time(const evq *q)
{
    return q->n ? q->h[0].t : INFINITY;
}

void pslink_reset(pslink *l, double bw, double cap, double now)
{
    l->bw = bw;
    l->cap = cap;
    l->v = 0;
    l->now = now;
    l->served = 0;
    l->max_rate = 0;
    l->n = 0;
    l->seq = 0;
}

void pslink_free(pslink *l)
{
    free(l->h);
    l->h = NULL;
    l->n = l->cap_h = 0;
}

double pslink_rate(const pslink *l)
{
    if (l->n == 0) return 0;
    double share = l->bw / l->n;
    return share < l->cap ? share : l->cap;
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
    int rc = heap_push(&l->h, &l->n, &l->cap_h, e);
    double total = pslink_rate(l) * l->n;
    if (total > l->max_rate) l->max_rate = total;
    return rc;
}

double pslink_next_time(const pslink *l)
{
    if (l->n == 0) return INFINITY;
    double dv = l->h[0].t - l->v;
    return dv <= 0 ? l->now : l->now + dv / pslink_rate(l);
}

int32_t pslink_pop_done(pslink *l)
{
    if (l->n == 0) return -1;
    /* a flow is done when the virtual clock reached its tag, up to rounding
     * of the clock (relative 1e-12 of its magnitude, and a millibyte) */
    double tol = 1e-12 * fabs(l->v) + 1e-3;
    if (l->h[0].t > l->v + tol) return -1;
    int32_t who = l->h[0].who;
    heap_pop(l->h, &l->n);
    return who;
}
