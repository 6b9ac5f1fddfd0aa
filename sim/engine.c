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
    l->ng = 0;
    l->dirty = 1;
    pslink_tab_clear(l);
    pq_clear(&l->q);
}

void pslink_free(pslink *l)
{
    pq_free(&l->q);
    free(l->gw);
    free(l->cclk);
    free(l->crate);
    free(l->cn);
    free(l->cheap);
    free(l->gn);
    free(l->gfirst);
    free(l->gpos);
    free(l->goff);
    free(l->gf);
    l->gw = l->cclk = l->crate = l->goff = NULL;
    l->cn = l->cheap = l->gn = l->gfirst = l->gpos = NULL;
    l->gf = NULL;
    l->gcap = l->per_cap = 0;
    l->n = l->ng = l->per = 0;
}

static void *grow_to(void *p, size_t n, size_t elem, int *fail)
{
    void *q = realloc(p, n * elem);
    if (!q) *fail = 1;
    return q ? q : p;
}

int pslink_groups(pslink *l, int ng, int per, double gexp)
{
    l->ng = 0;
    if (!(gexp > 0) || ng <= 0 || per <= 0) return 0;
    if (ng > l->gcap || per > l->per_cap) {
        int fail = 0;
        size_t nc = (size_t)(ng > l->gcap ? ng : l->gcap), pc = (size_t)(per > l->per_cap ? per : l->per_cap);
        l->gw = grow_to(l->gw, pc + 1, sizeof(double), &fail);
        l->cclk = grow_to(l->cclk, pc + 1, sizeof(double), &fail);
        l->crate = grow_to(l->crate, pc + 1, sizeof(double), &fail);
        l->cn = grow_to(l->cn, pc + 1, sizeof(int), &fail);
        l->cheap = grow_to(l->cheap, (pc + 1) * nc, sizeof(int), &fail);
        l->gn = grow_to(l->gn, nc, sizeof(int), &fail);
        l->gfirst = grow_to(l->gfirst, nc, sizeof(int), &fail);
        l->gpos = grow_to(l->gpos, nc, sizeof(int), &fail);
        l->goff = grow_to(l->goff, nc, sizeof(double), &fail);
        l->gf = grow_to(l->gf, nc * pc, sizeof(ev), &fail);
        if (fail) return -1;
        l->gcap = (int)nc;
        l->per_cap = (int)pc;
    }
    l->ng = ng;
    l->per = per;
    l->gexp = gexp;
    for (int k = 0; k <= per; k++) {
        l->gw[k] = k ? pow(k, -gexp) : 0;
        l->cclk[k] = l->crate[k] = 0;
        l->cn[k] = 0;
    }
    for (int g = 0; g < ng; g++) l->gn[g] = 0;
    l->dirty = 1;
    return 0;
}

/* Grouped: the first flow of group g (gn[g] > 0). */
static inline const ev *grp_first(const pslink *l, int g)
{
    return &l->gf[(size_t)g * l->per + l->gfirst[g]];
}

/* Grouped: the clock of class gn[g] at which group g's first flow is done. */
static inline double grp_key(const pslink *l, int g)
{
    return grp_first(l, g)->t + l->goff[g];
}

static inline int grp_less(const pslink *l, int a, int b)
{
    double ka = grp_key(l, a), kb = grp_key(l, b);
    return ka < kb || (ka == kb && grp_first(l, a)->seq < grp_first(l, b)->seq);
}

static void cls_place(pslink *l, int *h, int i, int g)
{
    h[i] = g;
    l->gpos[g] = i;
}

static void cls_up(pslink *l, int k, int i)
{
    int *h = l->cheap + (size_t)k * l->ng, g = h[i];
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!grp_less(l, g, h[p])) break;
        cls_place(l, h, i, h[p]);
        i = p;
    }
    cls_place(l, h, i, g);
}

static void cls_down(pslink *l, int k, int i)
{
    int *h = l->cheap + (size_t)k * l->ng, g = h[i], m = l->cn[k];
    while (1) {
        int c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && grp_less(l, h[c + 1], h[c])) c++;
        if (!grp_less(l, h[c], g)) break;
        cls_place(l, h, i, h[c]);
        i = c;
    }
    cls_place(l, h, i, g);
}

/* Grouped: group g (gn[g] = k > 0, its first flow and offset set) into class k's heap. */
static void cls_insert(pslink *l, int g)
{
    int k = l->gn[g], i = l->cn[k]++;
    l->cheap[(size_t)k * l->ng + i] = g;
    cls_up(l, k, i);
}

/* Grouped: group g out of its class's heap. */
static void cls_remove(pslink *l, int g)
{
    int k = l->gn[g], i = l->gpos[g], *h = l->cheap + (size_t)k * l->ng;
    int last = h[--l->cn[k]];
    if (last == g) return;
    cls_place(l, h, i, last);
    cls_up(l, k, i);
    cls_down(l, k, l->gpos[last]);
}

/* Grouped: each class's per-flow rate from the current flows, cap and
 * bandwidth (the whole rate of n equal flows, split by weight). */
static void grp_rates(pslink *l)
{
    l->dirty = 0;
    if (l->n == 0) return;
    double rate = pslink_rate_of(l, l->n), share;
    share = l->n < PSLINK_TAB ? l->tab_share[l->n] : pslink_share(l->n, l->cap, l->bw, l->soft);
    double whole = fmin(share, l->hard) * l->n, wsum = 0;
    (void)rate;
    for (int k = 1; k <= l->per; k++) wsum += (double)k * l->cn[k] * l->gw[k];
    for (int k = 1; k <= l->per; k++)
        if (l->cn[k]) l->crate[k] = fmin(l->gw[k] * whole / wsum, l->hard);
}

/* Grouped: the first flow of g to its smallest tag. */
static void grp_find_first(pslink *l, int g)
{
    const ev *f = l->gf + (size_t)g * l->per;
    int b = 0;
    for (int i = 1; i < l->gn[g]; i++)
        if (ev_less(&f[i], &f[b])) b = i;
    l->gfirst[g] = b;
}

/* Grouped: removes flow i of group g; returns its owner. */
static int32_t grp_remove(pslink *l, int g, int i)
{
    ev *f = l->gf + (size_t)g * l->per;
    double clk = l->cclk[l->gn[g]] - l->goff[g];
    cls_remove(l, g);
    int32_t who = f[i].who;
    f[i] = f[--l->gn[g]];
    if (l->gn[g]) {
        grp_find_first(l, g);
        l->goff[g] = l->cclk[l->gn[g]] - clk;
        cls_insert(l, g);
    }
    l->n--;
    l->dirty = 1;
    return who;
}

/* Grouped: the group whose first flow finishes first (-1 when none), and when. */
static int grp_next(pslink *l, double *when)
{
    grp_rates(l);   /* the cap, bandwidth or ceiling may have changed since */
    int best = -1;
    double bt = INFINITY;
    for (int k = 1; k <= l->per; k++) {
        if (!l->cn[k]) continue;
        int g = l->cheap[(size_t)k * l->ng];
        double dv = grp_key(l, g) - l->cclk[k];
        double t = dv <= 0 ? l->now : l->now + dv / l->crate[k];
        if (best < 0 || t < bt || (t == bt && grp_first(l, g)->seq < grp_first(l, best)->seq)) {
            bt = t;
            best = g;
        }
    }
    *when = bt;
    return best;
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
        l->tab_share[n] = pslink_share(n, l->cap, l->bw, l->soft);
        l->tab_rate[n] = fmin(l->tab_share[n], l->hard);
        l->tab_stamp[n] = l->tab_gen;
    }
    return l->tab_rate[n];
}

void pslink_advance(pslink *l, double t)
{
    if (t <= l->now) return;
    if (l->ng) {
        if (l->dirty) grp_rates(l);
        double dt = t - l->now;
        for (int k = 1; k <= l->per; k++)
            if (l->cn[k]) {
                l->cclk[k] += l->crate[k] * dt;
                l->served += l->crate[k] * k * l->cn[k] * dt;
            }
    } else if (l->n) {
        double r = pslink_rate(l);
        l->v += r * (t - l->now);
        l->served += r * l->n * (t - l->now);
    }
    l->now = t;
}

int pslink_join(pslink *l, double bytes, int32_t who, int group)
{
    if (l->ng) {
        if (group < 0 || group >= l->ng || l->gn[group] >= l->per) return -1;
        int k = l->gn[group];
        double clk = 0;
        if (k) {
            clk = l->cclk[k] - l->goff[group];
            cls_remove(l, group);
        }
        ev e = {clk + bytes, l->seq++, who, 0};
        ev *f = l->gf + (size_t)group * l->per;
        f[k] = e;
        if (k == 0 || ev_less(&e, &f[l->gfirst[group]])) l->gfirst[group] = k;
        l->gn[group] = k + 1;
        l->goff[group] = l->cclk[k + 1] - clk;
        cls_insert(l, group);
        l->n++;
        grp_rates(l);
        double total = 0;
        for (int j = 1; j <= l->per; j++) total += l->crate[j] * j * l->cn[j];
        if (total > l->max_rate) l->max_rate = total;
        return 0;
    }
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
    if (l->ng) {
        double t;
        grp_next(l, &t);
        return t;
    }
    double dv = pq_top(&l->q)->t - l->v;
    return dv <= 0 ? l->now : l->now + dv / pslink_rate(l);
}

int32_t pslink_pop_done(pslink *l)
{
    if (l->n == 0) return -1;
    if (l->ng) {
        int bg = -1;
        for (int k = 1; k <= l->per; k++) {
            if (!l->cn[k]) continue;
            int g = l->cheap[(size_t)k * l->ng];
            double tol = 1e-12 * fabs(l->cclk[k]) + 1e-3;
            if (grp_key(l, g) <= l->cclk[k] + tol && (bg < 0 || grp_first(l, g)->seq < grp_first(l, bg)->seq)) bg = g;
        }
        return bg < 0 ? -1 : grp_remove(l, bg, l->gfirst[bg]);
    }
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

int32_t pslink_pop_next(pslink *l)
{
    if (l->n == 0) return -1;
    if (l->ng) {
        double t;
        int g = grp_next(l, &t);
        return grp_remove(l, g, l->gfirst[g]);
    }
    l->v = fmax(l->v, pq_top(&l->q)->t);
    return pslink_pop_done(l);
}
