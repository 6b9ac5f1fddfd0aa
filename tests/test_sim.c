/*
 * test_sim.c: the event engine and the simulator.
 *
 * Engine invariants (events in (time, seq) order, time never going back,
 * bytes conserved, total rate never above the bandwidth), closed cases
 * whose answer is known in closed form, determinism, and the headline
 * H100 case of the study.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "engine.h"
#include "sim.h"
#include "model.h"
#include "cost.h"
#include "testhelp.h"

static gpu_spec h100;
static workload w;
static sim_ctx *ctx;

static void set_uniform(int batch, int heads, int kv_heads, int d, int64_t len)
{
    workload_uniform(&w, batch, heads, kv_heads, d, DTYPE_FP16, len);
}

/* The per-CTA streaming rate (bytes per ns) of the simulator's GPU model, in
 * closed form, one CTA per SM: memory time plus compute time per byte, on
 * tensor cores (rows padded to 16, and the profile's CUDA-core work per
 * token) up to d = 128, on FP32 CUDA cores above (the rows the kernel
 * instance computes, its row capacity). */
static double cap_of(const gpu_spec *g, int rows, int block_n, int d)
{
    const kernel_profile *k = th_kernel();
    double tile = 2.0 * block_n * d * 2;
    double per_ns = plan_uses_tensor_cores(rows, d) ? g->tensor_tflops * 1e3 * k->tensor_eff / g->sms
                                                    : g->fp32_tflops * 1e3 * k->fp32_eff / g->sms;
    double ops = plan_uses_tensor_cores(rows, d)
                     ? 4.0 * k->mma_rows * block_n * d
                     : (k->fp32_row_flops * plan_kernel_cap(rows, d) + k->fp32_kv_flops) * block_n * d;
    double compute_ns = ops / per_ns;
    if (plan_uses_tensor_cores(rows, d)) compute_ns += k->tc_kv_flops * block_n / (g->fp32_tflops * 1e3 / g->sms);
    double cap = 1.0 / (g->mem_latency_ns / k->cta_inflight_bytes + compute_ns / tile);
    double sm = g->sm_max_gbps < k->sm_gbps ? g->sm_max_gbps : k->sm_gbps;
    return cap < sm ? cap : sm;   /* one CTA per SM: the SM's limits are its own */
}

static sim_result run(const gpu_spec *g, int kind)
{
    sim_result r;
    char err[256];
    plan_opts o = {.kind = kind};
    int rc = sim_run(ctx, g, th_kernel(), &w, &o, &r, NULL, err, sizeof err);
    CHECK(rc == SIM_OK, "sim_run %s: %s", sched_name(kind), err);
    return r;
}

static void test_evq_order(void)
{
    evq q = {0};
    double ts[] = {5, 1, 3, 3, 0.5, 3, 9, 1};
    for (int i = 0; i < 8; i++) evq_push(&q, ts[i], i, 0);
    ev e, prev = {-1, 0, 0, 0};
    int bad = 0, n = 0;
    while (evq_pop(&q, &e) == 0) {
        if (e.t < prev.t || (e.t == prev.t && e.seq < prev.seq)) bad++;
        prev = e;
        n++;
    }
    CHECK(n == 8 && bad == 0, "events out of (time, seq) order: %d of %d", bad, n);
    /* equal times fire in push order: 2, 3, 5 at t = 3 */
    evq_clear(&q);
    for (int i = 0; i < 8; i++) evq_push(&q, ts[i], i, 0);
    int order[8];
    for (int i = 0; i < 8; i++) {
        evq_pop(&q, &e);
        order[i] = e.who;
    }
    CHECK(order[0] == 4 && order[1] == 1 && order[2] == 7 && order[3] == 2 && order[4] == 3 && order[5] == 5,
          "tie order %d %d %d %d %d %d", order[0], order[1], order[2], order[3], order[4], order[5]);
    evq_free(&q);
}

static void test_pslink(void)
{
    pslink l = {0};
    pslink_reset(&l, 10.0, 4.0, 0);     /* 10 B/ns shared, 4 B/ns per flow */
    pslink_join(&l, 100, 0, 0);             /* alone: capped at 4 B/ns -> done at 25 */
    CHECK(fabs(pslink_next_time(&l) - 25) < 1e-9, "one flow capped: next %g, want 25", pslink_next_time(&l));
    pslink_advance(&l, 5);               /* 20 bytes served */
    pslink_join(&l, 100, 1, 0);
    pslink_join(&l, 100, 2, 0);             /* three flows: 10/3 B/ns each */
    CHECK(fabs(pslink_rate(&l) - 10.0 / 3) < 1e-12, "fair share %g", pslink_rate(&l));
    /* flow 0 has 80 left: done at 5 + 80 * 3 / 10 = 29 */
    CHECK(fabs(pslink_next_time(&l) - 29) < 1e-9, "shared: next %g, want 29", pslink_next_time(&l));
    pslink_advance(&l, 29);
    CHECK(pslink_pop_done(&l) == 0, "flow 0 finishes first");
    CHECK(pslink_pop_done(&l) == -1, "flow 1 not done yet");
    /* two flows with 20 left each, 4 B/ns each (cap) -> done at 34 */
    CHECK(fabs(pslink_next_time(&l) - 34) < 1e-9, "after a leave: next %g, want 34", pslink_next_time(&l));
    pslink_advance(&l, 34);
    CHECK(pslink_pop_done(&l) == 1 && pslink_pop_done(&l) == 2, "flows 1 and 2 finish together, in join order");
    CHECK(fabs(l.served - 300) < 1e-9, "bytes served %g, want 300", l.served);
    CHECK(l.max_rate <= 10.0 + 1e-12, "peak rate %g above bandwidth 10", l.max_rate);
    pslink_free(&l);
}

/* Grouped link: flows weigh k^-gexp by the flows of their group; the whole
 * rate is that of n equal flows, and no flow passes the hard ceiling. */
static void test_pslink_groups(void)
{
    pslink l = {0};
    pslink_reset(&l, 10.0, 4.0, 0);
    CHECK(pslink_groups(&l, 2, 4, 1.0) == 0 && l.ng == 2, "two groups of up to 4 flows");
    pslink_join(&l, 50, 0, 0);          /* alone on group 0: weight 1 */
    pslink_join(&l, 100, 1, 1);
    pslink_join(&l, 100, 2, 1);         /* two on group 1: weight 1/2 each */
    /* three flows take 10 B/ns together (3 x min(4, 10/3)), split 1 : 1/2 : 1/2:
     * flow 0 at 5 B/ns, done at 10 (ungrouped: 10/3 each, done at 15) */
    CHECK(fabs(pslink_next_time(&l) - 10) < 1e-9, "grouped: next %g, want 10", pslink_next_time(&l));
    CHECK(fabs(l.max_rate - 10) < 1e-9, "whole rate %g, want 10", l.max_rate);
    pslink_advance(&l, 10);
    CHECK(pslink_pop_done(&l) == 0 && pslink_pop_done(&l) == -1, "flow 0 alone on its group ends first, alone");
    /* flows 1 and 2 were served 25 each; now 2 x min(4, 5) = 8 B/ns for the
     * one group: 4 each, 75 left -> done at 10 + 18.75 */
    CHECK(fabs(pslink_next_time(&l) - 28.75) < 1e-9, "one group left: next %g, want 28.75", pslink_next_time(&l));
    pslink_advance(&l, 28.75);
    CHECK(pslink_pop_done(&l) == 1 && pslink_pop_done(&l) == 2, "flows 1 and 2 finish together, in join order");
    CHECK(fabs(l.served - 250) < 1e-9, "bytes served %g, want 250", l.served);
    /* the hard ceiling caps the heavy flow, and its excess goes to no one */
    pslink_reset(&l, 10.0, 4.0, 0);
    l.hard = 4.5;
    pslink_groups(&l, 2, 4, 1.0);
    pslink_join(&l, 45, 0, 0);
    pslink_join(&l, 100, 1, 1);
    pslink_join(&l, 100, 2, 1);
    CHECK(fabs(pslink_next_time(&l) - 10) < 1e-9, "capped at 4.5: next %g, want 10", pslink_next_time(&l));
    /* the flow rounding left short finishes on demand, and its group's other
     * flows go on from where they were */
    pslink_advance(&l, 9.999);
    CHECK(pslink_pop_done(&l) == -1 && pslink_pop_next(&l) == 0 && l.n == 2, "grouped pop_next takes the earliest flow");
    CHECK(fabs(pslink_next_time(&l) - (9.999 + (100 - 2.5 * 9.999) / 4)) < 1e-6, "after pop_next: next %g",
          pslink_next_time(&l));
    /* a full group and a group out of range refuse a flow */
    pslink_reset(&l, 10.0, 4.0, 0);
    pslink_groups(&l, 2, 1, 0.5);
    CHECK(pslink_join(&l, 1, 0, 0) == 0 && pslink_join(&l, 1, 1, 0) == -1 && pslink_join(&l, 1, 2, 2) == -1,
          "a full group or one out of range refuses a join");
    /* gexp 0 leaves the link ungrouped: equal shares */
    pslink_reset(&l, 10.0, 4.0, 0);
    CHECK(pslink_groups(&l, 2, 4, 0) == 0 && l.ng == 0, "gexp 0: ungrouped");
    pslink_join(&l, 50, 0, 0);
    pslink_join(&l, 100, 1, 1);
    pslink_join(&l, 100, 2, 1);
    CHECK(fabs(pslink_next_time(&l) - 15) < 1e-9, "ungrouped: next %g, want 15", pslink_next_time(&l));
    /* the flow rounding left short finishes on demand */
    CHECK(pslink_pop_next(&l) == 0 && l.n == 2, "pop_next takes the earliest flow");
    pslink_free(&l);
}

/* The randomized tests' stream (th_unit). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double rng_unit(void)
{
    return th_unit(&rng_state);
}

/* The event queue against a plain scan: random pushes (many in order, some
 * not, many equal times) interleaved with pops come out in (time, seq)
 * order, whichever of its FIFO or heap held them. */
static void test_evq_random(void)
{
    enum { N = 4000 };
    static double t[N];
    static int live[N];
    evq q = {0};
    int pushed = 0, bad = 0, pops = 0;
    double now = 0;
    for (int step = 0; step < 3 * N; step++) {
        if (pushed < N && rng_unit() < 0.6) {
            double u = rng_unit();
            t[pushed] = u < 0.6 ? now + floor(8 * rng_unit()) : now + 100 * rng_unit();   /* ties, or not */
            live[pushed] = 1;
            evq_push(&q, t[pushed], pushed, 0);
            pushed++;
            continue;
        }
        int want = -1;   /* the live event of smallest (time, push order) */
        for (int i = 0; i < pushed; i++)
            if (live[i] && (want < 0 || t[i] < t[want])) want = i;
        ev e;
        int rc = evq_pop(&q, &e);
        if (want < 0) {
            bad += rc != -1;
            continue;
        }
        bad += rc != 0 || e.who != want || evq_next_time(&q) < e.t;
        if (rc == 0 && e.who >= 0 && e.who < pushed) live[e.who] = 0;
        now = t[want];
        pops++;
    }
    CHECK(bad == 0 && pops > N / 2, "event queue against a scan: %d of %d pops wrong", bad, pops);
    evq_free(&q);
}

/* The grouped link against a plain per-flow evaluation: flows join random
 * groups at random times, and at every step the link's next finish time
 * and the flows it lets go match the remaining bytes of each flow served
 * at its weighted share (k^-gexp in a group of k, the whole rate that of n
 * equal flows).  Churn over few groups, beside a few long flows, sends
 * classes' groups out of order and fills their queues. */
static void test_pslink_groups_random(void)
{
    enum { NG = 6, PER = 4, N = 3000 };
    static double rem[N];
    static int grp[N], live[N];
    const double gexp = 0.45, bw = 10.0, cap = 4.0;
    pslink l = {0};
    pslink_reset(&l, bw, cap, 0);
    CHECK(pslink_groups(&l, NG, PER, gexp) == 0, "grouped link");
    int joined = 0, in_grp[NG] = {0}, bad_t = 0, bad_pop = 0, steps = 0, popped = 0;
    double now = 0, worst = 0;
    while (joined < N || l.n > 0) {
        int n = 0;
        for (int g = 0; g < NG; g++) n += in_grp[g];
        double whole = n ? pslink_rate_of(&l, n) * n : 0, wsum = 0;
        for (int i = 0; i < joined; i++)
            if (live[i]) wsum += pow(in_grp[grp[i]], -gexp);
        /* next finish by the plain evaluation */
        double tr = INFINITY;
        for (int i = 0; i < joined; i++)
            if (live[i]) {
                double r = pow(in_grp[grp[i]], -gexp) * whole / wsum;
                if (r > l.hard) r = l.hard;
                double ti = now + rem[i] / r;
                if (ti < tr) tr = ti;
            }
        double tl = pslink_next_time(&l);
        double err = fabs(tl - tr) / (tr > 1 ? tr : 1);
        if (n > 0 && err > worst) worst = err;
        bad_t += n > 0 ? err > 1e-9 : tl != INFINITY;
        /* a join before that time, or the finish */
        int g = (int)(NG * rng_unit());
        double to = n > 0 ? tr : now;
        int join = joined < N && in_grp[g] < PER && (n == 0 || rng_unit() < 0.55);
        if (join && n > 0) to = now + (tr - now) * rng_unit();
        for (int i = 0; i < joined; i++)
            if (live[i]) {
                double r = pow(in_grp[grp[i]], -gexp) * whole / wsum;
                rem[i] -= (r > l.hard ? l.hard : r) * (to - now);
            }
        pslink_advance(&l, to);
        now = to;
        if (join) {
            rem[joined] = rng_unit() < 0.1 ? 500 + 2500 * rng_unit() : 1 + 99 * rng_unit();   /* some stay long */
            grp[joined] = g;
            live[joined] = 1;
            in_grp[g]++;
            CHECK(pslink_join(&l, rem[joined], joined, g) == 0, "join %d", joined);
            joined++;
        } else {
            int who = pslink_pop_done(&l);
            if (who < 0) who = pslink_pop_next(&l);
            for (; who >= 0; who = pslink_pop_done(&l)) {
                bad_pop += who >= joined || !live[who] || rem[who] > 1e-6 * (1 + fabs(now));
                if (who < joined && live[who]) {
                    live[who] = 0;
                    in_grp[grp[who]]--;
                }
                popped++;
            }
        }
        steps++;
    }
    CHECK(bad_t == 0, "grouped link against plain evaluation: %d of %d next times off (worst %.2g)", bad_t, steps,
          worst);
    CHECK(bad_pop == 0 && popped == N, "grouped link: %d wrong flows let go, %d of %d let go", bad_pop, popped, N);
    pslink_free(&l);
}

/* CTAs of one SM share its part of the link (mem_sm_share_exp).  A split
 * plan of a ragged batch (8 requests, 40 MHA heads, d = 64, one of 150k
 * tokens, 3 chunks a unit) puts the long request's CTAs two and three to
 * an SM where short chunks freed slots: they stream slower than alone, so
 * the plan takes longer the more an SM's CTAs share (measured 873 us on
 * the H100).  264 equal CTAs, two on every SM, take the same time whatever
 * the share. */
static void test_sm_share(void)
{
    static const int64_t lens[8] = {30000, 1500, 1500, 150000, 9000, 9000, 4096, 9000};
    gpu_spec g = h100;
    double rag[3], t264[3], x[3] = {0, 0.45, 1};
    for (int i = 0; i < 3; i++) {
        g.mem_sm_share_exp = x[i];
        set_uniform(8, 40, 40, 64, 1);
        w.ragged = 1;
        for (int b = 0; b < 8; b++) w.ctx[b] = lens[b];
        sim_result r;
        char err[256];
        plan_opts o = {.kind = SCHED_SPLIT, .block_n = 256, .splits = 3};
        CHECK(sim_run(ctx, &g, th_kernel(), &w, &o, &r, NULL, err, sizeof err) == SIM_OK, "ragged split: %s", err);
        rag[i] = r.time_us;
        set_uniform(8, 33, 33, 128, 32768);   /* 264 units: fa2's 264 CTAs */
        t264[i] = run(&g, SCHED_FA2).time_us;
    }
    CHECK(rag[1] > 1.02 * rag[0] && rag[2] > 1.02 * rag[1], "ragged split: %.1f us at 0, %.1f at 0.45, %.1f at 1",
          rag[0], rag[1], rag[2]);
    CHECK_REL(t264[1], t264[0], 1e-9, "264 CTAs, two on every SM: the share changes nothing");
    CHECK_REL(t264[2], t264[0], 1e-9, "264 CTAs at 1");
}

static void test_one_cta(void)
{
    set_uniform(1, 1, 1, 128, 4096);
    sim_result r = run(&h100, SCHED_FA2);
    double bytes = 4096.0 * 128 * 2 * 2;
    double cap = cap_of(&h100, 1, 128, 128);
    const kernel_profile *k = th_kernel();
    double want = h100.launch_us * 1e3 + k->cta_prologue_ns + h100.mem_latency_ns + bytes / cap + k->cta_epilogue_ns;
    CHECK_REL(r.time_us * 1e3, want, 1e-9, "one CTA alone: launch + prologue + latency + bytes/cap + epilogue");
    CHECK(r.ctas == 1 && r.splits == 0, "one CTA: ctas %d", r.ctas);
}

static void test_bandwidth_bound(void)
{
    /* 512k tokens, 32 heads: 8.6 GB of KV; stream-K and split keep >= 256 CTAs
     * streaming, each capped at 16 GB/s, so HBM is the bottleneck */
    set_uniform(1, 32, 32, 128, 524288);
    double kv_time_us = sim_kv_bytes(&w) / h100.mem_bw_achievable_gbps / 1e3;
    sim_result fa2 = run(&h100, SCHED_FA2), sk = run(&h100, SCHED_STREAMK), sp = run(&h100, SCHED_SPLIT);
    CHECK_REL(sk.time_us, kv_time_us, 0.01, "streamk 512k: bytes over bandwidth within 1%");
    CHECK_REL(sp.time_us, kv_time_us, 0.01, "split 512k: bytes over bandwidth within 1%");
    /* measured on the H100 (archive/h100-20261121-sweep-v3.csv): fa2 4959 us,
     * streamk 2804 us, 1.77x; 32 CTAs cannot fill 132 SMs */
    CHECK(fa2.time_us >= 1.5 * sk.time_us && fa2.time_us >= 1.5 * sp.time_us,
          "fa2 %.1f us not 1.5x slower than streamk %.1f / split %.1f", fa2.time_us, sk.time_us, sp.time_us);
    /* fa2: 32 CTAs each capped by what they keep in flight */
    double fa2_bw = 32 * cap_of(&h100, 1, 128, 128);
    CHECK_REL(fa2.kv_bytes / (fa2.main_us * 1e3), fa2_bw, 0.02, "fa2 512k pulls 32 x the per-CTA cap");
    CHECK(sk.sm_busy > 0.99 && fa2.sm_busy < 0.25, "SM busy: streamk %.3f, fa2 %.3f", sk.sm_busy, fa2.sm_busy);
}

static void test_engine_invariants(void)
{
    static const int kinds[] = {SCHED_FA2, SCHED_SPLIT, SCHED_STREAMK, SCHED_HYBRID, SCHED_BALANCED};
    uint64_t s = 12345;
    int back = 0, over = 0, lost = 0, n = 0;
    for (int iter = 0; iter < 60; iter++) {
        memset(&w, 0, sizeof w);
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        w.batch = 1 + (int)((s >> 33) % 9);
        w.kv_heads = 1 + (int)((s >> 40) % 8);
        w.heads = w.kv_heads * (1 + (int)((s >> 20) % 4));
        w.head_dim = (s >> 10) % 2 ? 128 : 64;
        w.dtype = DTYPE_BF16;
        w.ragged = 1;
        for (int r = 0; r < w.batch; r++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            w.ctx[r] = 1 + (int64_t)((s >> 30) % 200000);
        }
        for (int k = 0; k < 5; k++) {
            sim_result r = run(&h100, kinds[k]);
            const plan *p = sim_ctx_plan(ctx);
            double partial = p->combine ? (double)p->n_slots * p->rows * (w.head_dim + 1) * 4.0 : 0;
            n++;
            back += r.backwards != 0;
            /* the link's bandwidth follows the CTAs per SM (the profile's
             * sm_stream_loss): at most the chip's at one CTA per SM */
            over += r.peak_gbps > h100.mem_bw_achievable_gbps * sim_stream_eff(th_kernel()->sm_stream_loss, 1) *
                                      (1 + 1e-12);
            lost += fabs(r.streamed_bytes - (r.kv_bytes + partial)) > 1e-9 * r.kv_bytes + 1;
        }
    }
    CHECK(back == 0, "time went back in %d of %d runs", back, n);
    CHECK(over == 0, "total HBM rate above the bandwidth in %d of %d runs", over, n);
    CHECK(lost == 0, "bytes served != bytes streamed in %d of %d runs", lost, n);
}

static void test_determinism_and_trace(void)
{
    set_uniform(2, 32, 8, 128, 100000);
    w.ctx[1] = 7000;
    w.ragged = 1;
    sim_result a = run(&h100, SCHED_STREAMK), b = run(&h100, SCHED_STREAMK);
    CHECK(a.time_us == b.time_us && a.events == b.events, "two runs differ: %.9g vs %.9g", a.time_us, b.time_us);
    FILE *f = tmpfile();
    char err[256];
    plan_opts o = {.kind = SCHED_STREAMK};
    sim_result t;
    CHECK(sim_run(ctx, &h100, th_kernel(), &w, &o, &t, f, err, sizeof err) == SIM_OK, "traced run: %s", err);
    /* an untraced run folds a CTA's back-to-back delays into one event, so
     * it adds the same numbers in another order: equal to rounding */
    CHECK(fabs(t.time_us - a.time_us) <= 1e-12 * a.time_us, "tracing changed the time: %.17g vs %.17g", t.time_us,
          a.time_us);
    long len = ftell(f);
    char *buf = malloc((size_t)len + 1);
    rewind(f);
    size_t got = fread(buf, 1, (size_t)len, f);
    buf[got] = 0;
    fclose(f);
    CHECK(strncmp(buf, "{\"displayTimeUnit\"", 18) == 0 && strstr(buf, "]}\n"), "trace is a JSON document");
    CHECK(strstr(buf, "\"name\":\"wait\"") != NULL, "stream-K trace shows host waits");
    CHECK(strstr(buf, "\"name\":\"merge\"") != NULL, "stream-K trace shows merges");
    CHECK(strstr(buf, "SM 131 slot 0") != NULL, "trace names a track per SM slot");
    free(buf);
    /* a split trace shows its combine kernel */
    o.kind = SCHED_SPLIT;
    f = tmpfile();
    set_uniform(1, 32, 32, 128, 65536);
    CHECK(sim_run(ctx, &h100, th_kernel(), &w, &o, &t, f, err, sizeof err) == SIM_OK && t.combine_us > 0, "split has a combine kernel");
    fclose(f);
}

static void test_monotone_in_resources(void)
{
    /* more bandwidth never slows a schedule; 16 SMs (too few CTAs to pull the
     * bandwidth) never speed stream-K up */
    set_uniform(4, 32, 8, 128, 131072);
    gpu_spec fast = h100, small = h100;
    fast.mem_bw_achievable_gbps *= 1.5;
    fast.mem_bw_gbps *= 1.5;
    char err[256];
    CHECK(gpu_spec_set(&small, "sms=16", err, sizeof err) == GPU_OK, "%s", err);
    for (int k = 0; k < SCHED_COUNT; k++) {
        sim_result base = run(&h100, k), f = run(&fast, k), sm = run(&small, k);
        CHECK(f.time_us <= base.time_us * (1 + 1e-9), "%s: faster memory slower (%g vs %g)", sched_name(k), f.time_us,
              base.time_us);
        CHECK(sm.time_us >= base.time_us * (1 - 1e-9), "%s: 16 SMs faster than 132 (%g vs %g)", sched_name(k),
              sm.time_us, base.time_us);
    }
}

/* Engine e (0: the simulator, 1: the closed form) on workload w as
 * stream-K over 132 CTAs under profiles ka and kb: the second's time minus
 * the first's, in us (NAN when either refuses, said so). */
static double streamk132_delta(int e, const kernel_profile *ka, const kernel_profile *kb)
{
    plan_opts o = {.kind = SCHED_STREAMK, .grid = 132};
    sim_result r0, r1;
    char err[256];
    int rc0 = e ? model_predict(&h100, ka, &w, &o, &r0, err, sizeof err)
                : sim_run(ctx, &h100, ka, &w, &o, &r0, NULL, err, sizeof err);
    int rc1 = rc0 != SIM_OK ? rc0
              : e ? model_predict(&h100, kb, &w, &o, &r1, err, sizeof err)
                  : sim_run(ctx, &h100, kb, &w, &o, &r1, NULL, err, sizeof err);
    CHECK(rc0 == SIM_OK && rc1 == SIM_OK, "%s: %s", e ? "model" : "sim", err);
    return rc0 == SIM_OK && rc1 == SIM_OK ? r1.time_us - r0.time_us : NAN;
}

/* Merge rounds follow decode.cuh's loops: a host sweeps rows x d outputs
 * over 128 threads, 8 peers per round; a combine CTA does a lse pass per
 * row (2 loads per 32 parts) then float4 outputs, spare threads splitting
 * the parts. */
static void test_merge_rounds(void)
{
    CHECK(sim_host_merge_rounds(1, 128, 0) == 0, "no peers, no rounds");
    CHECK(sim_host_merge_rounds(1, 128, 8) == 1 && sim_host_merge_rounds(1, 128, 9) == 2, "8 peers per round");
    CHECK(sim_host_merge_rounds(1, 64, 31) == 4, "d=64: %g", sim_host_merge_rounds(1, 64, 31));
    CHECK(sim_host_merge_rounds(8, 128, 31) == 8, "8 rows x 128 in float4 = 2 sweeps x 4: %g",
          sim_host_merge_rounds(8, 128, 31));
    CHECK(sim_host_merge_rounds(4, 128, 31) == 4, "4 rows x 128 in float4 = 1 sweep x 4: %g",
          sim_host_merge_rounds(4, 128, 31));
    CHECK(sim_combine_rounds(1, 128, 32) == 3, "1 row, 32 parts: 2 lse + 1 (4 thread groups): %g",
          sim_combine_rounds(1, 128, 32));
    CHECK(sim_combine_rounds(8, 128, 8) == 6, "8 rows, 8 parts: 2 x 2 lse + 2 sweeps: %g",
          sim_combine_rounds(8, 128, 8));
    CHECK(sim_combine_rounds(4, 256, 33) == 4 + 2 * 5, "4 rows d=256, 33 parts: %g", sim_combine_rounds(4, 256, 33));

    /* a host's merge: its setup, then its rounds; nothing without peers */
    kernel_profile k = *th_kernel();
    k.host_round_ns = 800, k.host_setup_ns = 1000;
    CHECK(sim_host_merge_ns(&k, 4, 256, 0) == 0, "no peers, no merge");
    CHECK_REL(sim_host_merge_ns(&k, 4, 256, 15), 1000 + 800 * 4, 1e-12, "4 rows d=256, 15 peers: setup + 2 x 2 rounds");
    /* one unit over 132 CTAs: the host's merge ends the kernel, so the
     * setup lengthens it by itself, in both engines */
    set_uniform(1, 4, 1, 128, 65536);
    kernel_profile k0 = k;
    k0.host_setup_ns = 0;
    for (int e = 0; e < 2; e++) {
        double d = streamk132_delta(e, &k0, &k);
        CHECK(fabs(d - 1.0) < 1e-6, "%s: host setup 1 us lengthens the call by %.4f us", e ? "model" : "sim", d);
    }
}

/* A partial's write by its rows (sim_partial_write_ns), and in both engines:
 * one unit over 132 stream-K CTAs, so a middle peer's write is on the
 * host's path, longer by the row cost times the kernel's row capacity. */
static void test_partial_write_rows(void)
{
    kernel_profile k = *th_kernel();
    k.partial_write_ns = 100, k.partial_row_ns = 10;
    CHECK_REL(sim_partial_write_ns(&k, 16, 128), 100 + 10 * 16, 1e-12, "16 rows");
    CHECK_REL(sim_partial_write_ns(&k, 1, 128), 100 + 10 * 4, 1e-12, "1 row on tensor cores: a kernel of 4 rows");
    CHECK_REL(sim_partial_write_ns(&k, 1, 256), 100 + 10 * 1, 1e-12, "1 row on CUDA cores: a kernel of 1");
    for (int rows = 4; rows <= 16; rows *= 4) {
        set_uniform(1, rows, 1, 128, 65536);
        kernel_profile k0 = k, k1 = k;
        k0.partial_row_ns = 0, k1.partial_row_ns = 1000;
        for (int e = 0; e < 2; e++) {
            double d = streamk132_delta(e, &k0, &k1);
            CHECK(fabs(d - rows) < 1e-6, "%s, %d rows: 1 us a row lengthens the call by %.4f us", e ? "model" : "sim",
                  rows, d);
        }
    }
}

/* The loaded first load of a later segment and the bandwidth by CTAs per SM
 * (the profile's seg_loads, load_queue, sm_stream_loss), in both engines. */
static void test_segment_load_and_stream_loss(void)
{
    /* the helpers: idle latency when the link is not the limit, Little's law at load_queue 1 */
    CHECK_REL(sim_load_latency(700, 1, 60, 60), 700, 1e-12, "no queueing at the cap");
    CHECK_REL(sim_load_latency(700, 0, 60, 20), 700, 1e-12, "load_queue 0: the idle latency");
    CHECK_REL(sim_load_latency(700, 1, 60, 20), 2100, 1e-12, "load_queue 1: latency x cap / rate");
    CHECK_REL(sim_load_latency(700, 0.5, 60, 20), 1400, 1e-12, "load_queue 0.5: half the queueing");
    CHECK_REL(sim_stream_eff(0.01, 2), 1, 1e-12, "two CTAs per SM: the chip's bandwidth");
    CHECK(sim_stream_eff(0.01, 1) > 1 && sim_stream_eff(0.01, 3) < 1, "one CTA per SM streams faster, three slower");

    /* stream-K over a ragged batch: one CTA crosses the 16 heads of a short
     * request (many segments); waiting the loaded latency for each makes
     * it the last, so the kernel takes longer, by at most the waits added */
    char err[256];
    kernel_profile k0 = *th_kernel(), k1 = k0;
    k0.seg_loads = 1, k0.load_queue = 0, k0.sm_stream_loss = 0;
    k1.seg_loads = 2, k1.load_queue = 1, k1.sm_stream_loss = 0;
    memset(&w, 0, sizeof w);
    w.batch = 2, w.heads = 16, w.kv_heads = 16, w.head_dim = 128, w.dtype = DTYPE_FP16, w.ragged = 1;
    w.ctx[0] = 150000, w.ctx[1] = 300;
    plan_opts o = {.kind = SCHED_STREAMK, .block_n = 32, .grid = 132};
    sim_result a, b, ma, mb;
    CHECK(sim_run(ctx, &h100, &k0, &w, &o, &a, NULL, err, sizeof err) == SIM_OK, "%s", err);
    CHECK(sim_run(ctx, &h100, &k1, &w, &o, &b, NULL, err, sizeof err) == SIM_OK, "%s", err);
    int maxseg = 0;
    const plan *p = sim_ctx_plan(ctx);
    for (int i = 0; i < p->grid; i++)
        if (p->cta_first[i + 1] - p->cta_first[i] > maxseg) maxseg = p->cta_first[i + 1] - p->cta_first[i];
    CHECK(maxseg >= 16, "a CTA crosses the short request's 16 heads (%d segments)", maxseg);
    double cap = sim_cta_rate(&h100, &k1, &w, 1, 32, 1);
    double most = (maxseg - 1) * 2 * sim_load_latency(h100.mem_latency_ns, 1, cap, h100.mem_bw_achievable_gbps / p->grid);
    CHECK(b.time_us > a.time_us * 1.005, "loaded segment loads: %.1f us, idle: %.1f us", b.time_us, a.time_us);
    CHECK(b.time_us - a.time_us < most / 1e3, "slower by %.2f us, more than the %.2f us of waits added",
          b.time_us - a.time_us, most / 1e3);
    CHECK(model_predict(&h100, &k0, &w, &o, &ma, err, sizeof err) == SIM_OK, "%s", err);
    CHECK(model_predict(&h100, &k1, &w, &o, &mb, err, sizeof err) == SIM_OK, "%s", err);
    CHECK(mb.time_us > ma.time_us, "the closed form too: %.1f us, idle %.1f us", mb.time_us, ma.time_us);

    /* a long context read by 1 and by 3 CTAs per SM: with sm_stream_loss
     * the first gains and the second loses, by the ratio of the bandwidths */
    kernel_profile k2 = k0;
    k2.sm_stream_loss = 0.01;
    set_uniform(8, 32, 8, 128, 262144);
    for (int grid = 132; grid <= 396; grid += 264) {
        plan_opts og = {.kind = SCHED_STREAMK, .grid = grid};
        CHECK(sim_run(ctx, &h100, &k0, &w, &og, &a, NULL, err, sizeof err) == SIM_OK, "%s", err);
        CHECK(sim_run(ctx, &h100, &k2, &w, &og, &b, NULL, err, sizeof err) == SIM_OK, "%s", err);
        CHECK(model_predict(&h100, &k0, &w, &og, &ma, err, sizeof err) == SIM_OK, "%s", err);
        CHECK(model_predict(&h100, &k2, &w, &og, &mb, err, sizeof err) == SIM_OK, "%s", err);
        double want = 1 / sim_stream_eff(0.01, grid / 132);
        CHECK(fabs(b.time_us / a.time_us / want - 1) < 0.003, "sim, grid %d: time ratio %.4f, bandwidth ratio %.4f",
              grid, b.time_us / a.time_us, want);
        CHECK(fabs(mb.time_us / ma.time_us / want - 1) < 0.003, "model, grid %d: time ratio %.4f, bandwidth ratio %.4f",
              grid, mb.time_us / ma.time_us, want);
    }
}

/* The CUDA-core path's share of its SM and its overlap of memory and
 * compute (the profile's fp32_issue_frac, fp32_overlap_norm): off (1), the
 * plain rate; a lone CTA that cannot fill its SM streams slower, and no
 * CTA among enough co-resident ones does; overlap streams faster, never
 * faster than the larger time alone allows; the tensor-core path and both
 * engines follow. */
static void test_fp32_issue_and_overlap(void)
{
    kernel_profile k0 = *th_kernel(), ki, ko;
    k0.fp32_issue_frac = 1, k0.fp32_overlap_norm = 1;
    ki = k0, ko = k0;
    ki.fp32_issue_frac = 0.5;
    ko.fp32_overlap_norm = 3;
    set_uniform(1, 32, 8, 256, 65536);   /* 4 rows at d = 256: CUDA cores */
    CHECK(!plan_uses_tensor_cores(4, 256), "4 rows at d = 256 run on CUDA cores");

    /* off: memory plus compute time per byte, the compute shared by n CTAs */
    double tile = 2.0 * 64 * 256 * 2;
    for (int n = 1; n <= 3; n++) {
        double compute = (k0.fp32_row_flops * 4 + k0.fp32_kv_flops) * 64 * 256 / (h100.fp32_tflops * 1e3 * k0.fp32_eff / (h100.sms * n));
        double want = 1 / (h100.mem_latency_ns / k0.cta_inflight_bytes + compute / tile);
        double sm = (h100.sm_max_gbps < k0.sm_gbps ? h100.sm_max_gbps : k0.sm_gbps) / n;
        double got = sim_cta_rate(&h100, &k0, &w, 4, 64, n);
        CHECK(fabs(got / (want < sm ? want : sm) - 1) < 1e-12, "off, %d CTAs per SM: %.6g B/ns, want %.6g", n, got,
              want < sm ? want : sm);
    }
    /* a lone CTA gets half its SM: as if two shared it; two or more: unchanged */
    CHECK_REL(sim_cta_rate(&h100, &ki, &w, 4, 64, 1), sim_cta_rate(&h100, &k0, &w, 4, 64, 2), 1e-12,
              "issue_frac 0.5, one CTA: the rate of one of two");
    CHECK(sim_cta_rate(&h100, &ki, &w, 4, 64, 1) < sim_cta_rate(&h100, &k0, &w, 4, 64, 1) * 0.95,
          "issue_frac 0.5: one CTA slower (%.2f against %.2f B/ns)", sim_cta_rate(&h100, &ki, &w, 4, 64, 1),
          sim_cta_rate(&h100, &k0, &w, 4, 64, 1));
    for (int n = 2; n <= 3; n++)
        CHECK(sim_cta_rate(&h100, &ki, &w, 4, 64, n) == sim_cta_rate(&h100, &k0, &w, 4, 64, n),
              "issue_frac 0.5, %d CTAs per SM: unchanged", n);
    /* overlap: faster than the sum, slower than the larger time alone */
    double mem = h100.mem_latency_ns / k0.cta_inflight_bytes;
    double compute = (k0.fp32_row_flops * 4 + k0.fp32_kv_flops) * 64 * 256 / (h100.fp32_tflops * 1e3 * k0.fp32_eff / h100.sms) / tile;
    double big = mem > compute ? mem : compute, r1 = sim_cta_rate(&h100, &ko, &w, 4, 64, 1);
    CHECK(r1 > sim_cta_rate(&h100, &k0, &w, 4, 64, 1) * 1.05 && r1 < 1 / big,
          "overlap_norm 3: %.2f B/ns, above the sum's %.2f and below %.2f", r1, sim_cta_rate(&h100, &k0, &w, 4, 64, 1),
          1 / big);
    /* the CUDA cores compute the kernel's row capacity: 3 rows cost as 4 */
    CHECK(sim_cta_rate(&h100, &k0, &w, 3, 64, 1) == sim_cta_rate(&h100, &k0, &w, 4, 64, 1),
          "3 rows run the 4-row kernel: %.3f against %.3f B/ns", sim_cta_rate(&h100, &k0, &w, 3, 64, 1),
          sim_cta_rate(&h100, &k0, &w, 4, 64, 1));
    kernel_profile kr = k0;
    kr.fp32_row_flops = 2 * k0.fp32_row_flops;
    CHECK(sim_cta_rate(&h100, &kr, &w, 4, 64, 1) < sim_cta_rate(&h100, &k0, &w, 4, 64, 1),
          "twice the flops per row: slower");
    /* the tensor-core path keeps its rate */
    workload wd = w;
    set_uniform(1, 32, 8, 128, 65536);
    for (int n = 1; n <= 3; n++) {
        CHECK(sim_cta_rate(&h100, &ki, &w, 4, 64, n) == sim_cta_rate(&h100, &k0, &w, 4, 64, n),
              "tensor cores, issue_frac, %d per SM: unchanged", n);
        CHECK(sim_cta_rate(&h100, &ko, &w, 4, 64, n) == sim_cta_rate(&h100, &k0, &w, 4, 64, n),
              "tensor cores, overlap_norm, %d per SM: unchanged", n);
    }
    w = wd;

    /* both engines: stream-K at one CTA per SM slows with issue_frac and
     * speeds up with overlap; at two per SM issue_frac 0.5 slows only the tail */
    char err[256];
    for (int e = 0; e < 2; e++) {
        const char *eng = e ? "model" : "sim";
        const kernel_profile *ks[3] = {&k0, &ki, &ko};
        sim_result r[3];
        double slow132 = 0;
        for (int grid = 132; grid <= 264; grid += 132) {
            plan_opts o = {.kind = SCHED_STREAMK, .block_n = 64, .grid = grid};
            for (int i = 0; i < 3; i++) {
                int rc = e ? model_predict(&h100, ks[i], &w, &o, &r[i], err, sizeof err)
                           : sim_run(ctx, &h100, ks[i], &w, &o, &r[i], NULL, err, sizeof err);
                CHECK(rc == SIM_OK, "%s: %s", eng, err);
            }
            double slow = r[1].time_us / r[0].time_us - 1;
            if (grid == 132) {
                slow132 = slow;
                CHECK(r[1].time_us > r[0].time_us * 1.02, "%s, 132 CTAs: issue_frac 0.5 %.1f us, off %.1f us", eng,
                      r[1].time_us, r[0].time_us);
                CHECK(r[2].time_us < r[0].time_us, "%s, 132 CTAs: overlap_norm 3 %.1f us, off %.1f us", eng,
                      r[2].time_us, r[0].time_us);
            } else {
                /* two per SM share as before; only the tail, one left on an SM, slows */
                CHECK(slow >= 0 && slow < slow132 / 2, "%s, 264 CTAs: issue_frac 0.5 slows by %.2f%%, at 132 by %.2f%%",
                      eng, 100 * slow, 100 * slow132);
            }
        }
    }
}

/* The CUDA-core path with overlap (fp32_overlap_norm > 1): the memory link
 * shares bandwidth by the bytes CTAs keep in flight (sim_cta_demand), and
 * each CTA's compute caps its own rate hard.  So a grid of one CTA per SM
 * whose compute caps sum to about the bandwidth streams at its compute
 * cap, where a soft share of the compute caps would lose some 13% to
 * queueing; the tensor-core path's demand is its rate. */
static void test_demand_and_hard_cap(void)
{
    kernel_profile k = *th_kernel();
    k.fp32_overlap_norm = 2, k.fp32_issue_frac = 1, k.sm_stream_loss = 0, k.load_queue = 0;
    set_uniform(1, 32, 8, 256, 1 << 20);   /* 4 rows at d = 256: CUDA cores, 4 GiB of KV */
    double mem = k.cta_inflight_bytes / h100.mem_latency_ns;
    double sm = h100.sm_max_gbps < k.sm_gbps ? h100.sm_max_gbps : k.sm_gbps;
    CHECK_REL(sim_cta_demand(&h100, &k, &w, 4, 64, 1), mem < sm ? mem : sm, 1e-12, "demand: bytes in flight over latency");
    CHECK_REL(sim_cta_demand(&h100, &k, &w, 4, 64, 2), mem < sm / 2 ? mem : sm / 2, 1e-12, "demand, 2 per SM");
    /* the compute cap set so that 132 CTAs sum to the bandwidth */
    double cap1 = sim_cta_rate(&h100, &k, &w, 4, 64, 1);
    k.fp32_eff *= h100.mem_bw_achievable_gbps / (h100.sms * cap1);
    cap1 = sim_cta_rate(&h100, &k, &w, 4, 64, 1);
    double target = fmin(cap1 * h100.sms, h100.mem_bw_achievable_gbps);
    CHECK(fabs(cap1 * h100.sms / h100.mem_bw_achievable_gbps - 1) < 0.05, "caps sum to about the bandwidth: %.0f",
          cap1 * h100.sms);
    CHECK(sim_cta_demand(&h100, &k, &w, 4, 64, 1) > 1.5 * cap1, "the demand is above the compute cap");
    CHECK(pslink_share(h100.sms, cap1, h100.mem_bw_achievable_gbps, h100.mem_share_exp) * h100.sms < 0.92 * target,
          "a soft share of the compute caps would lose to queueing");
    char err[256];
    plan_opts o = {.kind = SCHED_STREAMK, .block_n = 64, .grid = 132};
    for (int e = 0; e < 2; e++) {
        sim_result r;
        int rc = e ? model_predict(&h100, &k, &w, &o, &r, err, sizeof err)
                   : sim_run(ctx, &h100, &k, &w, &o, &r, NULL, err, sizeof err);
        CHECK(rc == SIM_OK, "%s: %s", e ? "model" : "sim", err);
        double rate = sim_kv_bytes(&w) / (r.main_us * 1e3 - h100.launch_us * 1e3);   /* bytes per ns */
        CHECK(rate > 0.97 * target && rate <= 1.0001 * target, "%s: one CTA per SM at its compute cap streams %.0f GB/s of %.0f",
              e ? "model" : "sim", rate, target);
    }
    /* tensor cores: the demand is the rate */
    set_uniform(1, 32, 8, 128, 65536);
    for (int n = 1; n <= 3; n++)
        CHECK(sim_cta_demand(&h100, &k, &w, 4, 128, n) == sim_cta_rate(&h100, &k, &w, 4, 128, n),
              "tensor cores, %d per SM: demand = rate", n);
}

/* The speed of light: every byte the kernel must move (K and V, then Q read
 * and O written, one row of each per query head) at the chip's achievable
 * bandwidth times the kernel's stream efficiency at one CTA per SM. */
static void test_sol(void)
{
    const kernel_profile *k = th_kernel();
    set_uniform(4, 32, 8, 128, 64);   /* short: Q and O are a sixteenth of the bytes */
    double kv = 2.0 * 4 * 64 * 8 * 128 * 2, qo = 2.0 * 4 * 32 * 128 * 2;
    double eff = k->sm_stream_loss > 0 ? sim_stream_eff(k->sm_stream_loss, 1) : 1;
    CHECK_REL(sim_sol_us(&h100, k, &w), (kv + qo) / (h100.mem_bw_achievable_gbps * eff) / 1e3, 1e-12, "sol_us");
    CHECK(k->sm_stream_loss > 0 && eff != 1, "leansim's profile has a stream loss (%g)", k->sm_stream_loss);
    sim_result r = run(&h100, SCHED_SPLIT);
    CHECK_REL(r.sol_us, sim_sol_us(&h100, k, &w), 1e-12, "sim_run's sol_us");
}

int main(void)
{
    char err[512];
    if (gpu_spec_load(&h100, "h100", err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    ctx = sim_ctx_alloc();
    test_evq_order();
    test_pslink();
    test_pslink_groups();
    test_evq_random();
    test_pslink_groups_random();
    test_sm_share();
    test_one_cta();
    test_bandwidth_bound();
    test_engine_invariants();
    test_determinism_and_trace();
    test_monotone_in_resources();
    test_merge_rounds();
    test_partial_write_rows();
    test_segment_load_and_stream_loss();
    test_fp32_issue_and_overlap();
    test_demand_and_hard_cap();
    test_sol();
    sim_ctx_free(ctx);
    TEST_DONE("test_sim");
}
