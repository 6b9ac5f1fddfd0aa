/*
 * engine.h: the discrete-event engine.
 *
 * Two pieces, both deterministic:
 *  - evq: a priority queue of timed events ordered by (time, sequence number);
 *    the sequence number is assigned at push, so events at equal times fire in
 *    the order they were scheduled.
 *  - pslink: a shared link (HBM) carrying flows of bytes, shared fairly.
 *    All flows of a link have the same per-flow cap, so each active flow
 *    gets the same rate, pslink_share(n, cap, bw, soft): min(cap, bw / n),
 *    or its soft form where memory latency grows with load; then at most the
 *    link's hard per-flow ceiling (a flow whose own work, not the memory,
 *    limits it: its cap is what it asks of memory).  The link keeps a
 *    virtual clock V (bytes served to each flow so far); a flow that joins with
 *    B bytes at virtual time V0 finishes when V reaches V0 + B, so a change in
 *    the set of flows costs O(log n), however many bytes they carry.
 *    Grouped (pslink_groups: the flows of one SM), the same whole rate is
 *    split by weight, k^-gexp for a flow whose group holds k flows; the
 *    groups of k flows form class k, one rate and one clock, with its
 *    groups by the clock at which each one's next flow is done: a FIFO of
 *    those that came in order (most do) beside a heap of the rest, as the
 *    event queue keeps its events, so a change costs O(log groups) at most
 *    plus a pass over the classes held.
 *    Ties: the earliest tag, then the earliest joined (grouped: of each
 *    class's next flow, the earliest joined).
 */
#ifndef LEANSIM_ENGINE_H
#define LEANSIM_ENGINE_H

#include <math.h>
#include <stdint.h>

typedef struct ev {
    double t;        /* time (ns) */
    uint64_t seq;    /* tie-break: push order */
    int32_t who;     /* owner (a CTA index) */
    int32_t what;    /* owner-defined event kind */
} ev;

/*
 * A priority queue on (t, seq): a FIFO of entries pushed in order (the common
 * case: equal delays and equal flows arrive in time order) beside a binary
 * heap for the rest; pop takes the smaller of the two heads.
 */
typedef struct pq {
    ev *h;           /* binary min-heap */
    int n, cap;
    ev *f;           /* FIFO, sorted: f[head .. tail) */
    int head, tail, fcap;
} pq;

typedef struct evq {
    pq q;
    uint64_t seq;    /* next sequence number */
} evq;

/* Empties q (keeps its memory); evq_free releases it.  q zeroed = valid empty. */
void evq_clear(evq *q);
void evq_free(evq *q);

/* The queue's common paths are inline here (the simulator pushes and pops
 * at every event); engine.c has the rest. */

/* 1 when a comes before b: the earlier time, then the earlier pushed. */
static inline int ev_less(const ev *a, const ev *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

/* pq_push's rest: the FIFO grown or compacted, or an entry out of order
 * into the heap.  Returns 0, or -1 on OOM. */
int pq_push_slow(pq *q, ev e);
/* pq_pop's rest: the heap's top removed (the heap must not be empty). */
void pq_pop_heap(pq *q);

/* Pushes e: onto the FIFO's tail when it comes in order (inline, so that
 * e's fields are stored where they go), else by pq_push_slow.  Returns 0,
 * or -1 on OOM. */
static inline int pq_push(pq *q, ev e)
{
    if (q->head < q->tail && q->tail < q->fcap && !ev_less(&e, &q->f[q->tail - 1])) {
        q->f[q->tail++] = e;
        return 0;
    }
    return pq_push_slow(q, e);
}

/* Entries held. */
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

/* Removes the smallest entry (the queue must not be empty). */
static inline void pq_pop(pq *q)
{
    if (q->head != q->tail && (q->n == 0 || !ev_less(&q->h[0], &q->f[q->head]))) q->head++;
    else pq_pop_heap(q);
}

/* Pushes an event; returns 0 or -1 on OOM. */
static inline int evq_push(evq *q, double t, int32_t who, int32_t what)
{
    ev e = {t, q->seq++, who, what};
    return pq_push(&q->q, e);
}

/* Pops the earliest event into *e; returns 0, or -1 when empty (*e then
 * at +inf, owned by -1). */
static inline int evq_pop(evq *q, ev *e)
{
    if (pq_size(&q->q) == 0) {
        *e = (ev){INFINITY, 0, -1, 0};
        return -1;
    }
    *e = *pq_top(&q->q);
    pq_pop(&q->q);
    return 0;
}

/* Time of the earliest event, or +inf when empty. */
static inline double evq_next_time(const evq *q)
{
    return pq_size(&q->q) ? pq_top(&q->q)->t : INFINITY;
}

#define PSLINK_TAB 1024   /* flow counts whose per-flow rate is kept (pslink_rate) */
#define PSLINK_TABS 4     /* link settings whose rates are kept */

/* The per-flow rates of one setting of a link; an entry is valid when its
 * stamp is gen (0: never). */
typedef struct pslink_tab {
    double cap, bw, soft, hard;
    int used;
    uint32_t gen;
    uint32_t stamp[PSLINK_TAB];
    double rate[PSLINK_TAB];
} pslink_tab;

/* A group in its class's FIFO or heap (pslink_groups): the class clock at
 * which its first flow is done, that flow's sequence number, the group
 * (in a FIFO, -1: one that has left). */
typedef struct pslink_gent {
    double key;
    uint64_t seq;
    int32_t g;
} pslink_gent;

typedef struct pslink {
    double bw;        /* bytes per ns (GB/s) shared by all flows */
    double cap;       /* bytes per ns a single flow can take */
    double soft;      /* saturation exponent k (pslink_share); 0: a hard min */
    double hard;      /* bytes per ns a flow takes at most whatever the link's share (INFINITY: cap alone) */
    double v;         /* virtual clock: bytes served to each active flow */
    double now;       /* time of the last advance (ns) */
    double served;    /* bytes served in all, integrated over time */
    double max_rate;  /* highest total rate seen (bytes per ns) */
    pq q;             /* flows on (finish tag, seq); t holds the tag */
    int n;            /* active flows */
    uint64_t seq;
    /* pslink_share by flow count, at most the hard ceiling, for the last
     * PSLINK_TABS (cap, bw, soft, hard) the link had (the same inputs give
     * the same bits: a cache, no change to any result; a link's cap moves
     * between a few values as CTAs come and go) */
    pslink_tab tab[PSLINK_TABS];
    int tab_cur, tab_next;
    /* groups (pslink_groups): the flows of one SM.  ng = 0: none, every
     * flow has the one rate above and the fields below are unused.  The
     * groups that hold k flows form class k: their flows all stream at
     * crate[k], so a class keeps one clock and a heap of its groups */
    int ng, per;      /* groups, flows a group holds at most */
    double gexp;      /* a flow of a group of k flows weighs k^-gexp */
    double *gw;       /* gw[k]: the weight at k flows, k = 0 .. gw_n */
    int gw_n;
    double *cclk;     /* per class: bytes served to each of its flows so far */
    double *crate;    /* per class: rate of each of its flows (bytes per ns) */
    int *cn;          /* per class: groups */
    uint64_t *cmask;  /* bit k: class k holds groups */
    pslink_gent *cheap; /* class k's groups out of order, a min-heap: cheap[k * ng + i], i < chn[k] */
    int *chn;         /* per class: groups in its heap */
    pslink_gent *cfifo; /* class k's groups that came in order, a FIFO sorted by (key, seq):
                         * cfifo[k * 2 ng + i], chd[k] <= i < ctl[k]; those that left stay (g = -1)
                         * until passed, and both ends are live */
    int *chd, *ctl;   /* per class: its FIFO's head and tail */
    int *gn;          /* per group: flows */
    int *gfirst;      /* per group: its flow of the smallest tag */
    int *gpos;        /* per group: its place in its class's heap, or -1 - its place in the FIFO */
    double *goff;     /* per group: its clock (bytes served to each of its flows) is cclk[gn] - goff */
    ev *gf;           /* flows of group g: gf[g * per + i], i < gn[g]; t: finish tag on the group's clock */
    int gcap, per_cap; /* groups and flows per group the arrays hold */
    int dirty;        /* the rates predate a join or a leave */
    double r_cap, r_bw, r_hard, r_soft; /* the cap, bandwidth, ceiling and exponent the rates are for */
} pslink;

/*
 * Per-flow rate of n flows of cap each on a link of bandwidth bw: with
 * soft = 0, min(cap, bw / n); with soft = k > 0, the aggregate approaches
 * the bandwidth as memory latency grows with load,
 * ((n cap)^-k + bw^-k)^(-1/k) / n, which is min(n cap, bw) for large k.
 */
double pslink_share(double n, double cap, double bw, double soft);

/* Resets the link to an idle state at time `now` with bandwidth and per-flow cap (soft: 0).
 * A link is zeroed before its first reset (its cache of rates relies on it). */
void pslink_reset(pslink *l, double bw, double cap, double now);
void pslink_free(pslink *l);
/*
 * Makes the link share by group: ng groups (SMs) of at most `per` flows.
 * The link's whole rate stays that of n equal flows (pslink_share, at most
 * the hard ceiling each), but it is split among the flows in proportion to
 * their weight, k^-gexp for a flow whose group holds k flows (gexp = 0:
 * equal shares), and no flow gets more than the hard ceiling.  So the
 * flows of a crowded SM stream slower than one alone on its SM.  Call after
 * pslink_reset and before the first join; gexp <= 0 or ng <= 0 leaves the
 * link ungrouped.  Returns 0, or -1 on OOM (the link is then ungrouped).
 */
int pslink_groups(pslink *l, int ng, int per, double gexp);

/* Per-flow rate with the current number of flows (bytes per ns): the
 * share of n flows of the link's cap, at most its hard ceiling. */
double pslink_rate(pslink *l);
/* Per-flow rate the link would give n flows at its current cap (bytes per ns; 0 when n <= 0). */
double pslink_rate_of(pslink *l, int n);
/* pslink_advance's work, for t > now. */
void pslink_advance_to(pslink *l, double t);
/* Moves the link's clock to t >= now, serving bytes to the active flows
 * (inline: the simulator advances at every event, often to the same time). */
static inline void pslink_advance(pslink *l, double t)
{
    if (!(t <= l->now)) pslink_advance_to(l, t);
}
/* Adds a flow of `bytes` (> 0) owned by `who` at the link's current time,
 * in group `group` (0 <= group < ng; ignored when the link is ungrouped).
 * Returns 0, or -1 on OOM or a full group. */
int pslink_join(pslink *l, double bytes, int32_t who, int group);
/* pslink_next_time's work, for a link that holds flows. */
double pslink_next_of(pslink *l);
/* Time at which the next flow finishes (+inf when none). */
static inline double pslink_next_time(pslink *l)
{
    return l->n == 0 ? INFINITY : pslink_next_of(l);
}
/* Removes one flow that has finished by the current time; returns its owner,
 * or -1 when none has (within rounding).  Of several, the earliest tag
 * (ungrouped) or, of each class's next, the earliest joined (grouped)
 * goes first. */
int32_t pslink_pop_done(pslink *l);
/* Removes the flow that finishes next, taking it as done now (what rounding
 * left a hair short of its tag); returns its owner, or -1 when none. */
int32_t pslink_pop_next(pslink *l);

#endif
