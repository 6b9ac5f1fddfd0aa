/*
 * sim.c: the GPU model of the simulator (see sim.h).
 *
 * Lowering: every CTA of the plan becomes a program of ops
 *   prologue delay; per segment: first-load latency, a stream of its KV bytes,
 *   then either a partial write + signal (a peer), or wait + merge + epilogue
 *   (a stream-K host), or the epilogue (a unit done alone); end.
 * Execution: CTAs are dispatched in launch order to free resident slots
 * (breadth-first over SMs for the first wave, then to whichever slot frees);
 * ops run back to back; streams share HBM through a processor-sharing link
 * that shares by what each CTA asks of memory (sim_cta_demand) and caps
 * each at what it can stream (sim_cta_rate), and splits that among the
 * CTAs by the streams on their SM (the chip's mem_sm_share_exp, pslink_groups).
 * Events happen only where a CTA changes op, so the cost of a simulation
 * grows with the number of CTA segments, not with the context length.
 */
#include "sim.h"
#include "cost.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "trace.h"

enum op_kind { OP_DELAY, OP_LOAD, OP_STREAM, OP_SIGNAL, OP_WAIT, OP_END };
enum op_label { L_PROLOGUE, L_LOAD, L_STREAM, L_PARTIAL, L_WAIT, L_MERGE, L_EPILOGUE, L_COUNT };
static const char *label_names[L_COUNT] = {"prologue", "first load", "stream", "partial", "wait", "merge", "epilogue"};

typedef struct op {
    int32_t kind;    /* enum op_kind */
    int32_t label;   /* enum op_label (trace) */
    int32_t unit;    /* unit of the segment, or -1 */
    int32_t pad;
    double x;        /* DELAY, LOAD: ns (LOAD: of the delays before the load); STREAM: bytes; WAIT: peers */
    double lat;      /* LOAD: the idle memory latency of the first load (ns) */
} op;

typedef struct cta_state {
    int32_t pc;      /* next op */
    int32_t sm, tid; /* placement */
    double t0;       /* start of the current op (trace, waits) */
} cta_state;

typedef struct unit_state {
    int32_t arrived;     /* peers that signalled */
    int32_t waiter;      /* waiting host CTA, or -1 */
    double arrive_t;     /* when the last signal becomes visible */
} unit_state;

typedef struct sm_state {
    int32_t res;         /* resident CTAs */
    int32_t n_free;      /* free slots on its stack */
    double since;        /* when it last became busy */
} sm_state;

struct sim_ctx {
    plan *p;
    op *ops;
    int n_ops, cap_ops;
    int32_t *first;      /* [ctas + 1] first op of each CTA */
    int cap_first;
    cta_state *cs;
    int cap_cs;
    unit_state *us;      /* per unit: flags of stream-K peers */
    int cap_units;
    sm_state *sm;        /* per SM */
    int32_t *free_tid;   /* per SM, a stack of free slots (tid): sms * resident */
    int cap_sms, cap_tid;
    int tracing;         /* 1: keep every op apart for the trace */
    int cta_begin;       /* first op of the CTA being lowered */
    evq q;
    pslink link;
};

sim_ctx *sim_ctx_alloc(void)
{
    sim_ctx *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->p = plan_alloc();
    if (!c->p) {
        free(c);
        return NULL;
    }
    return c;
}

void sim_ctx_free(sim_ctx *c)
{
    if (!c) return;
    plan_free(c->p);
    free(c->ops);
    free(c->first);
    free(c->cs);
    free(c->us);
    free(c->sm);
    free(c->free_tid);
    evq_free(&c->q);
    pslink_free(&c->link);
    free(c);
}

const plan *sim_ctx_plan(const sim_ctx *c)
{
    return c->p;
}

static int grow(void **p, int *cap, int need, size_t elem)
{
    if (need <= *cap) return 0;
    int nc = *cap ? *cap : 64;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, (size_t)nc * elem);
    if (!np) return -1;
    *p = np;
    *cap = nc;
    return 0;
}

/* Appends op (kind, label, unit, x) to the CTA being lowered (inline:
 * lowering calls it for every op of every CTA). */
static inline int emit(sim_ctx *c, int kind, int label, int unit, double x)
{
    /* without a trace, back-to-back delays of one CTA are one event */
    if (kind == OP_DELAY && !c->tracing && c->n_ops > c->cta_begin && c->ops[c->n_ops - 1].kind == OP_DELAY) {
        c->ops[c->n_ops - 1].x += x;
        return 0;
    }
    if (c->n_ops == c->cap_ops && grow((void **)&c->ops, &c->cap_ops, c->n_ops + 1, sizeof(op))) return -1;
    op *o = &c->ops[c->n_ops++];
    o->kind = kind;
    o->label = label;
    o->unit = unit;
    o->pad = 0;
    o->x = x;
    o->lat = 0;
    return 0;
}

/* A segment's first load, of idle latency lat_ns: its wait is only known
 * when it starts (the load on the memory link then), so it is an op of its
 * own; without a trace it takes the CTA's delays just before it along. */
static int emit_load(sim_ctx *c, int unit, double lat_ns)
{
    if (!c->tracing && c->n_ops > c->cta_begin && c->ops[c->n_ops - 1].kind == OP_DELAY) {
        op *o = &c->ops[c->n_ops - 1];
        o->kind = OP_LOAD;
        o->label = L_LOAD;
        o->unit = unit;
        o->lat = lat_ns;
        return 0;
    }
    if (emit(c, OP_LOAD, L_LOAD, unit, 0)) return -1;
    c->ops[c->n_ops - 1].lat = lat_ns;
    return 0;
}

double sim_kv_bytes(const workload *w)
{
    double tokens = 0;
    for (int r = 0; r < w->batch; r++) tokens += (double)w->ctx[r];
    return 2.0 * tokens * w->kv_heads * w->head_dim * dtype_bytes(w->dtype);
}

double sim_sol_us(const gpu_spec *g, const kernel_profile *k, const workload *w)
{
    double elt = dtype_bytes(w->dtype);
    double bytes = sim_kv_bytes(w) + (double)w->batch * w->heads * w->head_dim * elt * 2;   /* KV, then Q and O */
    double peak = g->mem_bw_achievable_gbps * (k->sm_stream_loss > 0 ? sim_stream_eff(k->sm_stream_loss, 1) : 1);
    return bytes / peak / 1e3;
}

int sim_resident_per_sm(const gpu_spec *g, const kernel_profile *k, const workload *w, int block_n)
{
    kernel_res r;
    int bn = kprof_block_n(k, w, block_n);
    if (kprof_resources(k, w->head_dim, bn, w->dtype, w->heads / w->kv_heads, &r)) return 0;
    return gpu_occupancy(g, &r);
}

int sim_resident_of(const gpu_spec *g, const kernel_profile *k, const workload *w, const plan_opts *o, char *err,
                    int errlen)
{
    int bn = kprof_block_n(k, w, o->block_n);
    if (kprof_workload_check(k, w, err, errlen)) return 0;
    if (o->resident) return o->resident;
    int res = sim_resident_per_sm(g, k, w, bn);
    if (res >= 1 && o->ctas_per_sm > res) {   /* as the kernel runner refuses it */
        snprintf(err, (size_t)errlen, "%d CTAs per SM (--ctas-per-sm, or the profile's ctas_per_sm): only %d CTAs of "
                 "kernel %s fit on an SM of %s (head dim %d, tile %d)",
                 o->ctas_per_sm, res, k->name, g->name, w->head_dim, bn);
        return 0;
    }
    if (res < 1) {
        kernel_res r;
        if (kprof_resources(k, w->head_dim, bn, w->dtype, w->heads / w->kv_heads, &r))
            snprintf(err, (size_t)errlen,
                     "--heads %d --kv-heads %d --head-dim %d: kernel profile %s has no kernel for a GQA group of %d "
                     "at head dim %d (groups of 1 to 16 are built, 1 to 8 at head dim 256)",
                     w->heads, w->kv_heads, w->head_dim, k->name, w->heads / w->kv_heads, w->head_dim);
        else
            snprintf(err, (size_t)errlen, "a CTA of kernel %s (tile %d, head dim %d) does not fit on an SM of %s (its "
                     "threads, registers or shared memory exceed the SM's: max_threads_per_sm, regs_per_sm, "
                     "smem_per_sm_bytes, smem_per_cta_bytes)", k->name, bn, w->head_dim, g->name);
    }
    return res;
}

#define MAX_RESIDENT 64

/* Per-kernel constants of the GPU model. */
typedef struct kparams {
    int sms, resident;
    double cap;       /* bytes per ns one CTA can stream (when cap_by_n[1] is 0) */
    double bw;        /* bytes per ns of the whole HBM */
    double soft;      /* the chip's mem_share_exp */
    double load_queue; /* the profile's load_queue */
    double stream_loss; /* the profile's sm_stream_loss (0: the link's bandwidth is bw throughout) */
    double sm_share;  /* the chip's mem_sm_share_exp: CTAs of one SM share its part of the link (pslink_groups) */
    double cap_by_n[MAX_RESIDENT + 1];   /* per-CTA cap with n CTAs on each SM (0: use cap) */
    double demand_by_n[MAX_RESIDENT + 1]; /* per-CTA demand on the memory link, idem (sim_cta_demand) */
} kparams;

/* Statistics of one kernel run. */
typedef struct kstats {
    double t_end;     /* last CTA end (ns) */
    double busy_ns;   /* SM-ns with a CTA resident */
    double wait_ns;   /* host waiting, summed */
    double served;    /* bytes served by the link */
    double max_rate;  /* highest total rate (bytes per ns) */
    int64_t events;
    int64_t backwards; /* events earlier than the one before */
} kstats;

static void trace_op(trace_writer *tw, int pid, const cta_state *s, const op *o, double t1, int cta)
{
    if (tw && t1 > s->t0) trace_slice(tw, pid, s->tid, label_names[o->label], label_names[o->label], s->t0, t1, cta, o->unit);
}

/* What run_kernel shares with the ops it executes. */
typedef struct krun {
    sim_ctx *c;
    const kparams *k;
    int n;            /* CTAs */
    int next;         /* next CTA to dispatch */
    trace_writer *tw;
    int pid;
    kstats *st;
    int placed;       /* CTAs resident now */
    int cap_placed;   /* CTAs resident when the link's cap was last set (-1: never) */
    int cap_m;        /* CTAs per SM it was set for */
} krun;

/* The per-CTA cap follows the CTAs resident per SM (they share the SM's
 * compute and what it can pull from memory): the link shares by the
 * demand (sim_cta_demand) and caps each flow at the rate (sim_cta_rate).
 * So does the bandwidth
 * (the profile's sm_stream_loss); SMs are taken as evenly loaded, as
 * breadth-first dispatch keeps them.  A new cap applies to every flow
 * from now on (the link's rates are computed from it at each change). */
static inline void cap_update(krun *kr)
{
    const kparams *k = kr->k;
    if (k->cap_by_n[1] <= 0 || kr->placed == kr->cap_placed) return;
    int m = plan_ctas_on_sm(kr->placed, k->sms, k->resident);
    kr->cap_placed = kr->placed;
    if (m == kr->cap_m) return;   /* the same values again */
    kr->cap_m = m;
    kr->c->link.cap = k->demand_by_n[m];
    kr->c->link.hard = k->cap_by_n[m];
    if (k->stream_loss > 0) kr->c->link.bw = k->bw * sim_stream_eff(k->stream_loss, m);
}

/* Places CTA `who` on a free slot of SM `sm` at time `now`. */
static inline void cta_place(krun *kr, int who, int sm, double now)
{
    sim_ctx *c = kr->c;
    cta_state *s = &c->cs[who];
    s->pc = c->first[who];
    s->sm = sm;
    s->tid = c->free_tid[sm * kr->k->resident + --c->sm[sm].n_free];
    s->t0 = now;
    if (c->sm[sm].res++ == 0) c->sm[sm].since = now;
    kr->placed++;
}

/*
 * Runs the ops of CTA `who` from time `now` until one takes time (a delay, a
 * stream, an unmet wait).  When the CTA ends, the next CTA in launch order
 * takes its slot and runs in turn.  Returns 0, or -1 on OOM.
 */
static int cta_run(krun *kr, int who, double now)
{
    sim_ctx *c = kr->c;
    while (who >= 0) {
        cta_state *s = &c->cs[who];
        int blocked = 0;
        while (!blocked) {
            const op *o = &c->ops[s->pc++];
            s->t0 = now;
            switch (o->kind) {
            case OP_DELAY:
                if (evq_push(&c->q, now + o->x, who, 0)) return -1;
                blocked = 1;
                break;
            case OP_LOAD: {
                /* the wait of the first load follows the link's load now (this stream joining it) */
                double lat = o->lat;
                if (kr->k->load_queue > 0)
                    lat = sim_load_latency(lat, kr->k->load_queue, c->link.cap, pslink_rate_of(&c->link, c->link.n + 1));
                if (evq_push(&c->q, now + (o->x + lat), who, 0)) return -1;
                blocked = 1;
                break;
            }
            case OP_STREAM:
                if (o->x > 0) {
                    if (pslink_join(&c->link, o->x, who, s->sm)) return -1;
                    blocked = 1;
                }
                break;
            case OP_SIGNAL: {
                /* x: flag latency; the host sees the flag that much later */
                unit_state *us = &c->us[o->unit];
                double seen = now + o->x;
                us->arrived++;
                if (seen > us->arrive_t) us->arrive_t = seen;
                int h = us->waiter;
                if (h >= 0 && us->arrived >= (int)c->ops[c->cs[h].pc - 1].x) {
                    us->waiter = -1;
                    if (evq_push(&c->q, us->arrive_t, h, 0)) return -1;
                }
                break;
            }
            case OP_WAIT: {
                /* x: peers to wait for */
                unit_state *us = &c->us[o->unit];
                if (us->arrived >= (int)o->x) {
                    if (us->arrive_t > now) {
                        if (evq_push(&c->q, us->arrive_t, who, 0)) return -1;
                        blocked = 1;
                    }
                    break;
                }
                us->waiter = who;
                blocked = 1;
                break;
            }
            case OP_END:
                blocked = 2;
                break;
            }
        }
        if (blocked == 1) return 0;
        /* the CTA ended: free its slot, dispatch the next one there */
        int sm = s->sm;
        kstats *st = kr->st;
        if (now > st->t_end) st->t_end = now;
        c->free_tid[sm * kr->k->resident + c->sm[sm].n_free++] = s->tid;
        if (--c->sm[sm].res == 0) st->busy_ns += now - c->sm[sm].since;
        kr->placed--;
        who = -1;
        if (kr->next < kr->n) {
            who = kr->next++;
            cta_place(kr, who, sm, now);
        }
        cap_update(kr);
    }
    return 0;
}

/*
 * Runs one kernel: `n` CTAs whose programs are c->ops[c->first[i] ..], from
 * time t0, on k->sms SMs of k->resident slots.  Returns 0 or -1 on OOM.
 */
static int run_kernel(sim_ctx *c, const kparams *k, int n, double t0, int n_units, trace_writer *tw, int pid,
                      kstats *st)
{
    int slots = k->sms * k->resident;
    if (grow((void **)&c->cs, &c->cap_cs, n, sizeof(cta_state)) ||
        grow((void **)&c->sm, &c->cap_sms, k->sms, sizeof(sm_state)) ||
        grow((void **)&c->free_tid, &c->cap_tid, slots, sizeof(int32_t)) ||
        grow((void **)&c->us, &c->cap_units, n_units, sizeof(unit_state)))
        return -1;
    for (int u = 0; u < n_units; u++) {
        c->us[u].arrived = 0;
        c->us[u].waiter = -1;
        c->us[u].arrive_t = 0;
    }
    for (int s = 0; s < k->sms; s++) {
        c->sm[s].res = 0;
        c->sm[s].n_free = 0;
        for (int j = k->resident - 1; j >= 0; j--) c->free_tid[s * k->resident + c->sm[s].n_free++] = s * k->resident + j;
    }
    evq_clear(&c->q);
    pslink_reset(&c->link, k->bw, k->cap, t0);
    c->link.soft = k->soft;
    if (pslink_groups(&c->link, k->sms, k->resident, k->sm_share)) return -1;
    memset(st, 0, sizeof *st);
    st->t_end = t0;
    krun kr = {c, k, n, 0, tw, pid, st, 0, -1, 0};

    /* first wave: breadth-first over SMs, in launch order */
    for (; kr.next < n && kr.next < slots; kr.next++) cta_place(&kr, kr.next, kr.next % k->sms, t0);
    cap_update(&kr);
    for (int i = 0; i < kr.next; i++)
        if (cta_run(&kr, i, t0)) return -1;

    double last = t0;
    while (1) {
        double te = evq_next_time(&c->q), tf = pslink_next_time(&c->link);
        int32_t who;
        double now;
        if (te == INFINITY && tf == INFINITY) break;
        if (te <= tf) {
            ev e;
            evq_pop(&c->q, &e);   /* not empty: te is an event's time */
            now = e.t;
            pslink_advance(&c->link, now);
            who = e.who;
        } else {
            now = tf;
            pslink_advance(&c->link, now);
            who = pslink_pop_done(&c->link);
            if (who < 0) {
                /* rounding left the earliest flow a hair short: finish it now */
                who = pslink_pop_next(&c->link);
            }
        }
        st->events++;
        if (now < last) st->backwards++;
        last = now;
        cta_state *s = &c->cs[who];
        const op *prev = &c->ops[s->pc - 1];
        if (prev->kind == OP_WAIT) st->wait_ns += now - s->t0;
        trace_op(tw, pid, s, prev, now, who);
        if (cta_run(&kr, who, now)) return -1;
    }
    st->served = c->link.served;
    st->max_rate = c->link.max_rate;
    return 0;
}

double sim_load_latency(double lat_ns, double load_queue, double cap, double rate)
{
    if (!(rate > 0) || !(rate < cap) || load_queue <= 0) return lat_ns;
    return lat_ns * (1 + load_queue * (cap / rate - 1));
}

double sim_stream_eff(double stream_loss, int ctas_on_sm)
{
    return (1 + stream_loss) / (1 + stream_loss * (ctas_on_sm - 1));
}

double sim_partial_bytes(const workload *w, int rows)
{
    return (double)rows * (w->head_dim + 1) * 4.0;
}

double sim_partial_write_ns(const kernel_profile *k, int rows, int head_dim)
{
    return k->partial_write_ns + k->partial_row_ns * plan_kernel_cap(rows, head_dim);
}

static int cdiv_int(int a, int b)
{
    return (a + b - 1) / b;
}

double sim_host_round_ns(const kernel_profile *k)
{
    return k->host_round_ns > 0 ? k->host_round_ns : k->merge_round_ns;
}

double sim_host_merge_ns(const kernel_profile *k, int rows, int head_dim, int peers)
{
    if (peers < 1) return 0;
    return k->host_setup_ns + sim_host_round_ns(k) * sim_host_merge_rounds(rows, head_dim, peers);
}

double sim_combine_gap_ns(const gpu_spec *g, const kernel_profile *k)
{
    return (k->pdl ? g->pdl_gap_us : g->kernel_gap_us) * 1e3;
}

double sim_host_merge_rounds(int rows, int head_dim, int peers)
{
    if (peers < 1) return 0;
    return (double)cdiv_int(rows * head_dim, PLAN_MERGE_VEC * PLAN_CTA_THREADS) * cdiv_int(peers, PLAN_MERGE_BATCH);
}

double sim_combine_rounds(int rows, int head_dim, int parts)
{
    if (parts < 1) return 0;
    int lse = cdiv_int(rows, PLAN_CTA_THREADS / 32) * 2 * cdiv_int(parts, 32);
    int o4 = rows * head_dim / 4;
    int kq = o4 >= PLAN_CTA_THREADS ? 1 : PLAN_CTA_THREADS / o4;
    return (double)lse + (double)cdiv_int(o4, PLAN_CTA_THREADS) * cdiv_int(parts, PLAN_MERGE_BATCH * kq);
}

/* Lowers the plan's main kernel into CTA programs. */
static int lower_main(sim_ctx *c, const gpu_spec *g, const kernel_profile *kp, const workload *w, const plan *p)
{
    double elt = dtype_bytes(w->dtype);
    double row_bytes = 2.0 * w->head_dim * elt;   /* K and V of one token */
    const double load_ns = kp->seg_loads * g->mem_latency_ns;   /* a later segment's first load */
    const double partial_ns = sim_partial_write_ns(kp, p->rows, w->head_dim);
    c->n_ops = 0;
    if (grow((void **)&c->first, &c->cap_first, p->grid + 1, sizeof(int32_t))) return -1;
    for (int i = 0; i < p->grid; i++) {
        c->first[i] = c->cta_begin = c->n_ops;
        if (emit(c, OP_DELAY, L_PROLOGUE, -1, kp->cta_prologue_ns)) return -1;
        for (int k = p->cta_first[i]; k < p->cta_first[i + 1]; k++) {
            const plan_seg *s = &p->segs[k];
            int u = s->unit;
            double bytes = (double)plan_seg_tokens(p, w, s, NULL) * row_bytes;
            if (bytes > 0) {
                /* a CTA's first segment loads as the CTA starts; a later one
                 * first reads its descriptor, then its tile, while the
                 * other CTAs stream */
                if (k == p->cta_first[i] ? emit(c, OP_DELAY, L_LOAD, u, g->mem_latency_ns)
                                         : emit_load(c, u, load_ns))
                    return -1;
                if (emit(c, OP_STREAM, L_STREAM, u, bytes)) return -1;
            }
            if (s->slot >= 0) {
                if (emit(c, OP_DELAY, L_PARTIAL, u, partial_ns)) return -1;
                if (!p->combine && emit(c, OP_SIGNAL, L_PARTIAL, u, kp->flag_latency_ns)) return -1;
            } else if (p->unit_parts[u] > 1 && !p->combine) {
                int peers = p->unit_parts[u] - 1;
                if (emit(c, OP_WAIT, L_WAIT, u, peers)) return -1;
                if (emit(c, OP_DELAY, L_MERGE, u, sim_host_merge_ns(kp, p->rows, w->head_dim, peers)))
                    return -1;
                if (emit(c, OP_DELAY, L_EPILOGUE, u, kp->cta_epilogue_ns)) return -1;
            } else {
                if (emit(c, OP_DELAY, L_EPILOGUE, u, kp->cta_epilogue_ns)) return -1;
            }
        }
        if (emit(c, OP_END, L_EPILOGUE, -1, 0)) return -1;
    }
    c->first[p->grid] = c->n_ops;
    return 0;
}

/* Lowers the combine kernel as the kernels launch it: one CTA per unit, in
 * unit order; a unit of one part has nothing to merge and its CTA ends at
 * once.  Returns the CTA count, or -1 on OOM. */
static int lower_combine(sim_ctx *c, const kernel_profile *kp, const workload *w, const plan *p)
{
    int n = 0;
    c->n_ops = 0;
    for (int u = 0; u < p->n_units; u++) {
        if (grow((void **)&c->first, &c->cap_first, n + 2, sizeof(int32_t))) return -1;
        c->first[n++] = c->cta_begin = c->n_ops;
        if (p->unit_parts[u] < 2) {
            if (emit(c, OP_END, L_EPILOGUE, -1, 0)) return -1;
            continue;
        }
        /* the same merge as a stream-K host's: the partials' lse, then their O */
        if (emit(c, OP_DELAY, L_PROLOGUE, u, kp->cta_prologue_ns)) return -1;
        double rounds = sim_combine_rounds(p->rows, w->head_dim, p->unit_parts[u]);
        if (emit(c, OP_DELAY, L_MERGE, u, kp->merge_round_ns * rounds)) return -1;
        if (emit(c, OP_STREAM, L_STREAM, u, p->unit_parts[u] * sim_partial_bytes(w, p->rows))) return -1;
        if (emit(c, OP_DELAY, L_EPILOGUE, u, kp->cta_epilogue_ns)) return -1;
        if (emit(c, OP_END, L_EPILOGUE, -1, 0)) return -1;
    }
    c->first[n] = c->n_ops;
    return n;
}

const kernel_res sim_combine_res = {128, 32, 0};

int sim_combine_resident(const gpu_spec *g)
{
    int n = gpu_occupancy(g, &sim_combine_res);
    return n < 1 ? 1 : n;
}

int sim_plan_shape(const gpu_spec *g, const workload *w, const plan_opts *o, int res, plan_shape *s, char *err,
                   int errlen)
{
    int rc = plan_shape_of(s, w, o, g->sms, res);
    if (rc == PLAN_OK) return SIM_OK;
    if (rc == PLAN_ERESIDENT)
        snprintf(err, (size_t)errlen, "--grid %d: more than the %d CTAs that can be resident on %s (%d SMs x %d)",
                 o->grid, g->sms * res, g->name, g->sms, res);
    else if (rc == PLAN_ETOOLARGE)
        snprintf(err, (size_t)errlen, "%s: cannot plan this workload (too many tiles, units or CTAs: at most %d CTAs)",
                 sched_name(o->kind), PLAN_MAX_CTAS);
    else
        snprintf(err, (size_t)errlen, "%s: cannot plan this workload (bad options)", sched_name(o->kind));
    return SIM_EPLAN;
}

/* A CTA's memory side: the bytes of a K+V tile, the bytes it keeps in
 * flight, and its share of what its SM can pull with n CTAs on it. */
static void cta_memory(const gpu_spec *g, const kernel_profile *k, const workload *w, int block_n, double n,
                       double *tile_bytes, double *inflight, double *sm_share)
{
    *tile_bytes = 2.0 * block_n * w->head_dim * dtype_bytes(w->dtype);
    *inflight = k->inflight_tiles > 0 ? k->inflight_tiles * *tile_bytes : k->cta_inflight_bytes;
    *sm_share = (g->sm_max_gbps < k->sm_gbps ? g->sm_max_gbps : k->sm_gbps) / n;
}

/* Bytes one CTA can stream per ns (sim_cta_rate).  A CTA of four warps does
 * not hide its arithmetic behind its loads: per byte it spends the memory
 * time (latency over bytes in flight) plus the compute time of the tile.  The profile's
 * compute path decides: tensor cores (the query rows padded to the tile's
 * mma_rows: 16 in leansim's kernels, 64 or 128 in FlashAttention-2's) at tensor_eff of
 * the SM's share (the copies, ldmatrix and softmax around the mma count in
 * it), plus tc_kv_flops per KV token at the SM's share of the FP32 rate (the
 * work per token around the mma, which per byte doubles at half the head
 * dim), or the CUDA cores at fp32_eff: fp32_row_flops per KV element for
 * each row the kernel instance computes (its row capacity: the dot products,
 * their shuffle reductions, exp2) and fp32_kv_flops per KV element (the
 * conversions).  Two more fields apply on the CUDA cores.  fp32_issue_frac:
 * a CTA's share of its SM is 1/n with n CTAs resident, but never more than
 * this fraction, since a CTA of four warps has one warp per scheduler, whose
 * dependent shuffle reductions, exp2 and shared loads leave issue slots that
 * only co-resident CTAs fill.  fp32_overlap_norm p: memory and compute time
 * per byte combine as their p-norm rather than their sum (leansim's
 * CUDA-core path keeps 4 stages in flight, each thread waiting for its own
 * copies only, and computes while they land).
 * And the CTAs sharing an SM share what one SM can pull from memory (the
 * chip's sm_max_gbps) and what one SM can stream through this kernel's
 * main loop (the profile's sm_gbps), whatever each keeps in flight. */
double sim_cta_rate(const gpu_spec *g, const kernel_profile *k, const workload *w, int rows, int block_n,
                    int ctas_on_sm)
{
    double n = ctas_on_sm > 0 ? ctas_on_sm : 1;
    double tile_bytes, inflight, sm_share;
    cta_memory(g, k, w, block_n, n, &tile_bytes, &inflight, &sm_share);
    double share = g->sms * n;   /* a CTA's share of the chip's peak, in SMs' worth */
    double compute_ns, norm = 1;
    if (!kprof_tensor_cores(k, rows, w->head_dim)) {
        if (n * k->fp32_issue_frac < 1) share = g->sms / k->fp32_issue_frac;
        compute_ns = (k->fp32_row_flops * plan_kernel_cap(rows, w->head_dim) + k->fp32_kv_flops) * block_n *
                     w->head_dim / (g->fp32_tflops * 1e3 * k->fp32_eff / share);
        norm = k->fp32_overlap_norm;
    } else {
        compute_ns = 4.0 * k->mma_rows * block_n * w->head_dim / (g->tensor_tflops * 1e3 * k->tensor_eff / share) +
                     k->tc_kv_flops * block_n / (g->fp32_tflops * 1e3 / share);
    }
    double mem_per_byte = g->mem_latency_ns / inflight, compute_per_byte = compute_ns / tile_bytes;
    double per_byte = norm > 1 ? pow(pow(mem_per_byte, norm) + pow(compute_per_byte, norm), 1 / norm)
                               : mem_per_byte + compute_per_byte;
    double rate = 1.0 / per_byte;
    return rate < sm_share ? rate : sm_share;
}

double sim_cta_demand(const gpu_spec *g, const kernel_profile *k, const workload *w, int rows, int block_n,
                      int ctas_on_sm)
{
    if (kprof_tensor_cores(k, rows, w->head_dim) || k->fp32_overlap_norm <= 1)
        return sim_cta_rate(g, k, w, rows, block_n, ctas_on_sm);
    double tile_bytes, inflight, sm_share;
    cta_memory(g, k, w, block_n, ctas_on_sm > 0 ? ctas_on_sm : 1, &tile_bytes, &inflight, &sm_share);
    double rate = inflight / g->mem_latency_ns;
    return rate < sm_share ? rate : sm_share;
}

static void trace_tracks(trace_writer *tw, int pid, const char *name, int sms, int resident)
{
    char buf[48];
    trace_name_process(tw, pid, name);
    for (int s = 0; s < sms; s++)
        for (int j = 0; j < resident; j++) {
            snprintf(buf, sizeof buf, "SM %d slot %d", s, j);
            trace_name_thread(tw, pid, s * resident + j, buf);
        }
}

/* sim_run_slices' sink: the trace's tracks back to SM and slot. */
typedef struct slice_sink {
    sim_slice_fn fn;
    void *arg;
    int resident[2];   /* slots per SM of the main and the combine kernel (tid = sm x resident + slot) */
} slice_sink;

static void sink_slice(void *arg, int pid, int tid, const char *name, double t0_ns, double t1_ns)
{
    slice_sink *k = arg;
    int res = k->resident[pid ? 1 : 0];
    k->fn(k->arg, pid, tid / res, tid % res, name, t0_ns, t1_ns);
}

/* The simulation, its CTA slices into the open document twp (NULL: untraced)
 * as processes pid (main kernel) and pid + 1 (combine kernel) named with the
 * prefix `name`; sink: twp writes into it, which learns the slots per SM. */
static int run(sim_ctx *c, const gpu_spec *g, const kernel_profile *kp, const workload *w, const plan_opts *o_in,
               sim_result *r, trace_writer *twp, int pid, const char *name, slice_sink *sink, char *err, int errlen)
{
    memset(r, 0, sizeof *r);
    sim_start start;
    int rc = sim_start_of(g, kp, w, o_in, &start, err, errlen);
    if (rc != SIM_OK) return rc;
    if (start.single) {   /* one split: the library runs another kernel */
        int rc1 = run(c, g, &start.k1, w, &start.o1, r, twp, pid, name, sink, err, errlen);
        if (rc1 == SIM_OK) r->schedule = SCHED_SPLIT, r->splits = 1;
        return rc1;
    }
    const int res = start.res;
    const plan_shape sh = start.s;
    plan *p = c->p;
    if (plan_build_shape(p, w, &sh) != PLAN_OK) {
        snprintf(err, (size_t)errlen, "out of memory");
        return SIM_ENOMEM;
    }

    c->tracing = twp != NULL;
    char pname[96];
    if (twp) {
        if (sink) sink->resident[0] = sink->resident[1] = res;
        snprintf(pname, sizeof pname, "%smain kernel", name);
        trace_tracks(twp, pid, pname, g->sms, res);
    }

    double elt = dtype_bytes(w->dtype);
    kparams k = {g->sms, res, sim_cta_rate(g, kp, w, p->rows, p->block_n, sh.ctas_on_sm), g->mem_bw_achievable_gbps,
                 g->mem_share_exp, kp->load_queue, kp->sm_stream_loss, g->mem_sm_share_exp, {0}, {0}};
    if (res <= MAX_RESIDENT)
        for (int m = 1; m <= res; m++) {
            k.cap_by_n[m] = sim_cta_rate(g, kp, w, p->rows, p->block_n, m);
            k.demand_by_n[m] = sim_cta_demand(g, kp, w, p->rows, p->block_n, m);
        }
    kstats st, st2;
    double t0 = (g->launch_us + kp->call_extra_us) * 1e3;
    if (lower_main(c, g, kp, w, p) || run_kernel(c, &k, p->grid, t0, p->n_units, twp, pid, &st)) {
        snprintf(err, (size_t)errlen, "out of memory");
        return SIM_ENOMEM;
    }
    double t_end = st.t_end;
    r->main_us = t_end / 1e3;
    r->events = st.events;
    r->streamed_bytes = st.served;
    r->peak_gbps = st.max_rate;
    r->backwards = st.backwards;
    if (p->combine) {
        int n = lower_combine(c, kp, w, p);
        kparams k2 = {g->sms, sim_combine_resident(g), 0, g->mem_bw_achievable_gbps, g->mem_share_exp, 0, 0,
                      g->mem_sm_share_exp, {0}, {0}};
        k2.cap = kp->cta_inflight_bytes / g->mem_latency_ns;
        double t1 = t_end + sim_combine_gap_ns(g, kp);
        if (sink) sink->resident[1] = k2.resident;
        if (twp) {
            snprintf(pname, sizeof pname, "%scombine kernel", name);
            trace_tracks(twp, pid + 1, pname, g->sms, k2.resident);
        }
        if (n < 0 || run_kernel(c, &k2, n, t1, p->n_units, twp, pid + 1, &st2)) {
            snprintf(err, (size_t)errlen, "out of memory");
            return SIM_ENOMEM;
        }
        r->combine_us = (st2.t_end - t_end) / 1e3;
        r->combine_ctas = n;
        t_end = st2.t_end;
        r->events += st2.events;
        r->streamed_bytes += st2.served;
        if (st2.max_rate > r->peak_gbps) r->peak_gbps = st2.max_rate;
        r->backwards += st2.backwards;
    }

    double q_bytes = (double)p->n_segs * p->rows * w->head_dim * elt;
    double o_bytes = (double)p->n_units * p->rows * w->head_dim * elt;
    double part = (double)p->n_slots * sim_partial_bytes(w, p->rows) * 2;   /* written, then read */
    r->schedule = p->kind;
    r->block_n = p->block_n;
    r->ctas = p->grid;
    r->splits = p->splits;
    for (int u = 0; u < p->n_units; u++) r->cut_units += p->unit_parts[u] > 1;
    r->ctas_per_sm = res;
    r->time_us = t_end / 1e3;
    r->kv_bytes = sim_kv_bytes(w);
    r->hbm_bytes = r->kv_bytes + q_bytes + o_bytes + part;
    r->bw_gbps = r->hbm_bytes / t_end;
    r->waves = (double)p->grid / ((double)g->sms * res);
    double span = st.t_end - t0;
    r->sm_busy = span > 0 ? st.busy_ns / (span * g->sms) : 0;
    r->wait_us = st.wait_ns / 1e3;
    r->sol_us = sim_sol_us(g, kp, w);
    sim_result_interval(r, g, kp, w, 0);
    return SIM_OK;
}

int sim_start_of(const gpu_spec *g, const kernel_profile *k, const workload *w, const plan_opts *o, sim_start *st,
                 char *err, int errlen)
{
    char why[160];
    if (workload_check(w, why, sizeof why)) {
        snprintf(err, (size_t)errlen, "%s", why);
        return SIM_EPLAN;
    }
    st->o = *o;
    kprof_plan_opts(k, w, &st->o);
    st->res = sim_resident_of(g, k, w, &st->o, err, errlen);
    if (st->res < 1) return SIM_EOCCUPANCY;
    int rc = sim_plan_shape(g, w, &st->o, st->res, &st->s, err, errlen);
    if (rc != SIM_OK) return rc;
    st->single = kprof_single_split(k, o, st->s.splits, &st->k1, &st->o1, err, errlen);
    return st->single < 0 ? SIM_EPLAN : SIM_OK;
}

void sim_band(const gpu_spec *g, const kernel_profile *k, int sched, const workload *w, int closed_form,
              double *lo_pct, double *hi_pct)
{
    kprof_band(k, kprof_band_of(k, sched, w->heads / w->kv_heads, w->head_dim), closed_form, lo_pct, hi_pct);
    double clo, chi;
    gpu_spec_band(g, k->name, &clo, &chi);   /* the chip's spread, this kernel's own where it has one */
    *lo_pct += clo;
    *hi_pct += chi;
    if (*lo_pct < -99) *lo_pct = -99;
}

void sim_result_interval(sim_result *r, const gpu_spec *g, const kernel_profile *k, const workload *w,
                         int closed_form)
{
    double lo, hi;
    sim_band(g, k, r->schedule, w, closed_form, &lo, &hi);
    r->time_lo_us = r->time_us * (1 + lo / 100);
    r->time_hi_us = r->time_us * (1 + hi / 100);
}

int sim_run(sim_ctx *c, const gpu_spec *g, const kernel_profile *kp, const workload *w, const plan_opts *o,
            sim_result *r, FILE *trace, char *err, int errlen)
{
    if (!trace) return run(c, g, kp, w, o, r, NULL, 0, "", NULL, err, errlen);
    trace_writer tw;
    trace_begin(&tw, trace);
    int rc = run(c, g, kp, w, o, r, &tw, 0, "", NULL, err, errlen);
    if (trace_end(&tw) && rc == SIM_OK) {
        snprintf(err, (size_t)errlen, "--trace: write failed");
        return SIM_EPLAN;
    }
    return rc;
}

int sim_run_into(sim_ctx *c, const gpu_spec *g, const kernel_profile *kp, const workload *w, const plan_opts *o,
                 sim_result *r, trace_writer *tw, int pid, const char *name, char *err, int errlen)
{
    return run(c, g, kp, w, o, r, tw, pid, name, NULL, err, errlen);
}

int sim_run_slices(sim_ctx *c, const gpu_spec *g, const kernel_profile *kp, const workload *w, const plan_opts *o,
                   sim_result *r, sim_slice_fn fn, void *arg, char *err, int errlen)
{
    slice_sink sink = {fn, arg, {1, 1}};
    trace_writer tw;
    trace_begin_sink(&tw, sink_slice, &sink);
    int rc = run(c, g, kp, w, o, r, &tw, 0, "", &sink, err, errlen);
    trace_end(&tw);
    return rc;
}
