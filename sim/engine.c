/*
 * engine.c: event queue and processor-sharing link (see engine.h).
 */
#include "engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

int pq_push_slow(pq *q, ev e)
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

void pq_pop_heap(pq *q)
{
    heap_pop(q->h, &q->n);
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

/* Empties table t for new settings (a new generation; stamps restart at 0
 * when the counter wraps, generation 0 is never valid). */
static void pslink_tab_clear(pslink_tab *t)
{
    if (++t->gen == 0) {
        memset(t->stamp, 0, sizeof t->stamp);
        t->gen = 1;
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
    pq_clear(&l->q);
}

void pslink_free(pslink *l)
{
    pq_free(&l->q);
    free(l->gw);
    free(l->cclk);
    free(l->crate);
    free(l->cn);
    free(l->cmask);
    free(l->cheap);
    free(l->chn);
    free(l->cfifo);
    free(l->chd);
    free(l->ctl);
    free(l->gn);
    free(l->gfirst);
    free(l->gpos);
    free(l->goff);
    free(l->gf);
    l->gw = l->cclk = l->crate = l->goff = NULL;
    l->cn = l->gn = l->gfirst = l->gpos = l->chn = l->chd = l->ctl = NULL;
    l->cmask = NULL;
    l->cheap = l->cfifo = NULL;
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
        l->cmask = grow_to(l->cmask, pc / 64 + 1, sizeof(uint64_t), &fail);
        l->cheap = grow_to(l->cheap, (pc + 1) * nc, sizeof(pslink_gent), &fail);
        l->chn = grow_to(l->chn, pc + 1, sizeof(int), &fail);
        l->cfifo = grow_to(l->cfifo, (pc + 1) * nc * 2, sizeof(pslink_gent), &fail);
        l->chd = grow_to(l->chd, pc + 1, sizeof(int), &fail);
        l->ctl = grow_to(l->ctl, pc + 1, sizeof(int), &fail);
        l->gn = grow_to(l->gn, nc, sizeof(int), &fail);
        l->gfirst = grow_to(l->gfirst, nc, sizeof(int), &fail);
        l->gpos = grow_to(l->gpos, nc, sizeof(int), &fail);
        l->goff = grow_to(l->goff, nc, sizeof(double), &fail);
        l->gf = grow_to(l->gf, nc * pc, sizeof(ev), &fail);
        if (fail) return -1;
        l->gcap = (int)nc;
        l->per_cap = (int)pc;
        l->gw_n = 0;   /* weights to compute again */
    }
    if (gexp != l->gexp || per > l->gw_n) {   /* the weights, kept while gexp stays */
        for (int k = 0; k <= per; k++) l->gw[k] = k ? pow(k, -gexp) : 0;
        l->gw_n = per;
    }
    l->ng = ng;
    l->per = per;
    l->gexp = gexp;
    for (int k = 0; k <= per; k++) {
        l->cclk[k] = l->crate[k] = 0;
        l->cn[k] = l->chn[k] = l->chd[k] = l->ctl[k] = 0;
    }
    for (int w = 0; w <= per / 64; w++) l->cmask[w] = 0;
    for (int g = 0; g < ng; g++) l->gn[g] = 0;
    l->dirty = 1;
    return 0;
}

/* Grouped: k runs over the classes that hold groups, smallest first. */
#define FOR_CLASS(l, k)                                                                   \
    for (int w_ = 0; w_ <= (l)->per >> 6; w_++)                                           \
        for (uint64_t m_ = (l)->cmask[w_]; m_; m_ &= m_ - 1)                              \
            for (int k = (w_ << 6) + __builtin_ctzll(m_), once_ = 1; once_; once_ = 0)

/* Grouped: the first flow of group g (gn[g] > 0). */
static inline const ev *grp_first(const pslink *l, int g)
{
    return &l->gf[(size_t)g * l->per + l->gfirst[g]];
}

/* Heap entries: the clock of class k at which group g's first flow is done,
 * then that flow's sequence number. */
static inline int gent_less(const pslink_gent *a, const pslink_gent *b)
{
    return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

static void cls_up(pslink *l, pslink_gent *h, int i)
{
    pslink_gent e = h[i];
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!gent_less(&e, &h[p])) break;
        h[i] = h[p];
        l->gpos[h[i].g] = i;
        i = p;
    }
    h[i] = e;
    l->gpos[e.g] = i;
}

static void cls_down(pslink *l, pslink_gent *h, int m, int i)
{
    pslink_gent e = h[i];
    while (1) {
        int c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && gent_less(&h[c + 1], &h[c])) c++;
        if (!gent_less(&h[c], &e)) break;
        h[i] = h[c];
        l->gpos[h[i].g] = i;
        i = c;
    }
    h[i] = e;
    l->gpos[e.g] = i;
}

/* Grouped: class k's FIFO (2 ng entries: the dead ones stay until passed). */
static inline pslink_gent *cls_fifo(const pslink *l, int k)
{
    return l->cfifo + (size_t)k * 2 * l->ng;
}

/* Grouped: the group of class k (cn[k] > 0) whose first flow is done
 * first: the smaller of its FIFO's head and its heap's top. */
static inline const pslink_gent *cls_top(const pslink *l, int k)
{
    const pslink_gent *h = l->cheap + (size_t)k * l->ng;
    if (l->chd[k] == l->ctl[k]) return h;
    const pslink_gent *f = cls_fifo(l, k) + l->chd[k];
    return l->chn[k] == 0 || gent_less(f, h) ? f : h;
}

/* Grouped: group g (gn[g] = k > 0, its first flow and offset set) into
 * class k: onto its FIFO's tail when it comes in order (the common case),
 * else into its heap. */
static void cls_insert(pslink *l, int g)
{
    int k = l->gn[g];
    if (l->cn[k]++ == 0) l->cmask[k >> 6] |= 1ull << (k & 63);
    const ev *f = grp_first(l, g);
    pslink_gent e = {f->t + l->goff[g], f->seq, g};
    pslink_gent *q = cls_fifo(l, k);
    int hd = l->chd[k], tl = l->ctl[k];
    if (hd == tl) hd = tl = 0;
    if (hd == tl || !gent_less(&e, &q[tl - 1])) {
        if (tl == 2 * l->ng) {   /* full: the live entries to the front */
            int j = 0;
            for (int i = hd; i < tl; i++)
                if (q[i].g >= 0) {
                    q[j] = q[i];
                    l->gpos[q[j].g] = -1 - j;
                    j++;
                }
            hd = 0;
            tl = j;
        }
        q[tl] = e;
        l->gpos[g] = -1 - tl;
        l->chd[k] = hd;
        l->ctl[k] = tl + 1;
        return;
    }
    pslink_gent *h = l->cheap + (size_t)k * l->ng;
    int i = l->chn[k]++;
    h[i] = e;
    cls_up(l, h, i);
}

/* Grouped: group g out of its class (from its FIFO: marked dead, and the
 * dead ones at either end dropped). */
static void cls_remove(pslink *l, int g)
{
    int k = l->gn[g], i = l->gpos[g];
    if (--l->cn[k] == 0) l->cmask[k >> 6] &= ~(1ull << (k & 63));
    if (i < 0) {
        pslink_gent *q = cls_fifo(l, k);
        int hd = l->chd[k], tl = l->ctl[k];
        q[-1 - i].g = -1;
        while (hd < tl && q[hd].g < 0) hd++;
        while (tl > hd && q[tl - 1].g < 0) tl--;
        l->chd[k] = hd;
        l->ctl[k] = tl;
        return;
    }
    pslink_gent *h = l->cheap + (size_t)k * l->ng;
    int m = --l->chn[k];
    if (i == m) return;
    h[i] = h[m];
    l->gpos[h[i].g] = i;
    if (i > 0 && gent_less(&h[i], &h[(i - 1) / 2])) cls_up(l, h, i);
    else cls_down(l, h, m, i);
}

/* pslink_rate_of, inline where the current setting's table already has
 * the rate of n flows (the common case), else by pslink_rate_of. */
static inline double link_rate(pslink *l, int n)
{
    const pslink_tab *t = &l->tab[l->tab_cur];
    if (n > 0 && n < PSLINK_TAB && t->stamp[n] == t->gen && t->used && t->cap == l->cap && t->bw == l->bw &&
        t->soft == l->soft && t->hard == l->hard)
        return t->rate[n];
    return pslink_rate_of(l, n);
}

/* Grouped: each class's per-flow rate from the current flows, cap and
 * bandwidth (the whole rate of n equal flows, split by weight); with
 * want_total, returns the whole rate they make (summed in the same pass),
 * else 0. */
static inline double grp_rates_of(pslink *l, int want_total)
{
    if (!l->dirty && l->r_cap == l->cap && l->r_bw == l->bw && l->r_hard == l->hard && l->r_soft == l->soft &&
        !want_total)
        return 0;
    l->dirty = 0;
    l->r_cap = l->cap;
    l->r_bw = l->bw;
    l->r_hard = l->hard;
    l->r_soft = l->soft;
    if (l->n == 0) return 0;
    double whole = link_rate(l, l->n) * l->n, wsum = 0;   /* n equal flows' */
    FOR_CLASS(l, k) wsum += (double)k * l->cn[k] * l->gw[k];
    const double hard = l->hard;
    double total = 0;
    FOR_CLASS(l, k) {
        const double r = l->gw[k] * whole / wsum;
        l->crate[k] = r < hard ? r : hard;
        if (want_total) total += l->crate[k] * k * l->cn[k];
    }
    return total;
}

static void grp_rates(pslink *l)
{
    grp_rates_of(l, 0);
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
    uint64_t bseq = 0;
    double bt = INFINITY;
    FOR_CLASS(l, k) {
        const pslink_gent *top = cls_top(l, k);
        double dv = top->key - l->cclk[k];
        double t = dv <= 0 ? l->now : l->now + dv / l->crate[k];
        if (best < 0 || t < bt || (t == bt && top->seq < bseq)) {
            bt = t;
            best = top->g;
            bseq = top->seq;
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

double pslink_rate_of(pslink *l, int n)
{
    if (n <= 0) return 0;
    if (n >= PSLINK_TAB) return fmin(pslink_share(n, l->cap, l->bw, l->soft), l->hard);
    pslink_tab *t = &l->tab[l->tab_cur];
    if (!t->used || t->cap != l->cap || t->bw != l->bw || t->soft != l->soft || t->hard != l->hard) {
        int i = 0;
        while (i < PSLINK_TABS && !(l->tab[i].used && l->tab[i].cap == l->cap && l->tab[i].bw == l->bw &&
                                    l->tab[i].soft == l->soft && l->tab[i].hard == l->hard))
            i++;
        if (i == PSLINK_TABS) {   /* a new setting: the oldest table */
            i = l->tab_next;
            l->tab_next = (i + 1) % PSLINK_TABS;
            t = &l->tab[i];
            t->cap = l->cap;
            t->bw = l->bw;
            t->soft = l->soft;
            t->hard = l->hard;
            t->used = 1;
            pslink_tab_clear(t);
        }
        l->tab_cur = i;
        t = &l->tab[i];
    }
    if (t->stamp[n] != t->gen) {
        t->rate[n] = fmin(pslink_share(n, l->cap, l->bw, l->soft), l->hard);
        t->stamp[n] = t->gen;
    }
    return t->rate[n];
}

double pslink_rate(pslink *l)
{
    return link_rate(l, l->n);
}

void pslink_advance_to(pslink *l, double t)
{
    if (l->ng) {
        if (l->dirty) grp_rates(l);
        double dt = t - l->now;
        FOR_CLASS(l, k) {
            l->cclk[k] += l->crate[k] * dt;
            l->served += l->crate[k] * k * l->cn[k] * dt;
        }
    } else if (l->n) {
        double r = link_rate(l, l->n);
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
        l->dirty = 1;
        double total = grp_rates_of(l, 1);   /* the whole rate now */
        if (total > l->max_rate) l->max_rate = total;
        return 0;
    }
    ev e = {l->v + bytes, l->seq++, who, 0};
    if (pq_push(&l->q, e)) return -1;
    l->n++;
    double total = link_rate(l, l->n) * l->n;
    if (total > l->max_rate) l->max_rate = total;
    return 0;
}

double pslink_next_of(pslink *l)
{
    if (l->ng) {
        double t;
        grp_next(l, &t);
        return t;
    }
    double dv = pq_top(&l->q)->t - l->v;
    return dv <= 0 ? l->now : l->now + dv / link_rate(l, l->n);
}

int32_t pslink_pop_done(pslink *l)
{
    if (l->n == 0) return -1;
    if (l->ng) {
        int bg = -1;
        uint64_t bseq = 0;
        FOR_CLASS(l, k) {
            const pslink_gent *top = cls_top(l, k);
            double tol = 1e-12 * fabs(l->cclk[k]) + 1e-3;
            if (top->key <= l->cclk[k] + tol && (bg < 0 || top->seq < bseq)) {
                bg = top->g;
                bseq = top->seq;
            }
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
