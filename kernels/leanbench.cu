/*
 * leanbench.cu: times the decode kernels on the GPU under any schedule of
 * the planner, and writes one CSV row per configuration.
 *
 *   build/leanbench --batch 1 --heads 32 --ctx 64k --schedule streamk,split \
 *       --reps 100 --csv out.csv [--sms 32] [--timeline tl.csv] [--no-check]
 *   build/leanbench --sweep FILE --csv out.csv   (one option set per line)
 *   build/leanbench --sm-bandwidth [--sms N] --csv smbw.csv
 *
 * Every configuration is first checked against the CPU reference of its
 * workload (kernels/ref.cpp; outputs poisoned first): one that fails is
 * reported and not timed, and leanbench exits 1 at the end.  --no-check
 * (profiling runs only) skips that and says so in the log and in every
 * row's max_err ("unchecked").
 *
 * Timing: CUDA events around each launch (decode + combine) after warm-up;
 * median, p10 and p90 of --reps.  KV stays out of L2 between reps: the KV
 * sets rotate (their total exceeds 2x L2), or, when only one set fits in
 * memory, a scratch buffer larger than L2 is read between reps outside
 * the timed region (a read leaves no dirty lines to write back later).
 * KV sets are carved from one arena allocated at startup (attn_arena_init),
 * so that allocation history does not move timings (--no-arena: not).
 * Stream-K counters are reset by the host CTAs in the kernel itself, so no memset sits in the timed region.  graph_us: time per
 * launch of graph_n back-to-back launches replayed from a CUDA graph.
 * KV bytes = 2 * sum(ctx) * kv_heads * d * 2; bw_gbps = bytes / time.
 */
#include "attn.h"
#include "mgpu.h"
#include "opts.h"
#include "runcsv.h"

#include <cuda.h>
#include <getopt.h>
#include <algorithm>
#include <string.h>
#include <time.h>
#include <thread>
#include <vector>

#define CU_CHECK(x) do { CUresult r_ = (x); if (r_ != CUDA_SUCCESS) { const char *m_ = "?"; \
    cuGetErrorString(r_, &m_); fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, m_); exit(2); } } while (0)

/* The header of --occupancy's CSV and of --sm-bandwidth's. */
static const char *OCC_HEADER = "gpu,sms,driver,commit,date,dtype,head_dim,rows_cap,threads,occupancy";
static const char *SMBW_HEADER =
    "gpu,sms,driver,sm_clock_mhz,mem_clock_mhz,commit,date,mode,sms_used,ctas_per_sm,threads,"
    "inflight_bytes_per_cta,bytes,time_us,gbps,gbps_per_sm";

/* Run-wide settings and device facts. */
static struct {
    int reps, warmup, graph_n, check, read_ceiling, sm_bandwidth, no_arena, oracle, occupancy;
    int tl_launches;                 /* launches recorded for a --timeline (the last one's events are written) */
    int n_checked, n_check_failed;   /* configurations checked against the reference, and failed */
    const char *csv, *timeline, *sweep;
    int sms_req, sms;
    cudaStream_t stream;
    cudaDeviceProp prop;
    char driver[64], nvcc[32], commit[64], date[32];
    int sm_clock_mhz, mem_clock_mhz;
    void *scratch;          /* > L2, read between reps when KV cannot rotate */
    size_t scratch_bytes;
} g;

/*
 * leanbench's own options, one table: getopt_long parses them (beside the
 * workload options of sim/opts.c's table) and --help prints them.  A
 * --sweep line takes the workload options and those marked per_line.
 */
enum lb_opt_id { LB_GPUS, LB_REPS, LB_WARMUP, LB_SMS, LB_TIMELINE, LB_TL_LAUNCHES, LB_CSV, LB_NO_CHECK, LB_CHECK, LB_ORACLE, LB_SWEEP,
                 LB_GRAPH_N, LB_NO_ARENA, LB_READ_CEILING, LB_SM_BANDWIDTH, LB_OCCUPANCY };
static const struct lb_opt {
    int id;             /* enum lb_opt_id */
    const char *name;   /* without the leading "--" */
    const char *arg;    /* what its value is ("N"), NULL for a flag */
    int per_line;       /* 1: also on a --sweep line */
    const char *help;   /* lines after the first start with '\n' */
} lb_opts[] = {
    {LB_GPUS, "gpus", "N", 0, "decode over N GPUs of this host: the multi-GPU mode (kernels/mgpu.cu),\n"
                              "with options of its own (leanbench --gpus 2 --help)"},
    {LB_REPS, "reps", "N", 1, "timed launches per configuration (default 50)"},
    {LB_WARMUP, "warmup", "N", 0, "untimed launches first (default 5)"},
    {LB_SMS, "sms", "N", 0, "confine to N SMs via a green context (rounded up to 8)"},
    {LB_TIMELINE, "timeline", "FILE", 1, "per-CTA start/segment/wait/end times of one launch (CSV, after a\n"
                                         "provenance header of # key=value lines)"},
    {LB_TL_LAUNCHES, "timeline-launches", "N", 0, "record N launches for each --timeline, each after an L2 flush: one\n"
                                                 "'# span=' header line each (k, then the decode kernel's first\n"
                                                 "start and last end, the combine kernel's first start, first\n"
                                                 "return from its wait and last end, ns from the first start;\n"
                                                 "-1: no combine kernel); the last launch's events follow\n"
                                                 "(default 1)"},
    {LB_CSV, "csv", "FILE", 0, "append one row per configuration (header once; a file of another\n"
                               "column set is refused)"},
    {LB_NO_CHECK, "no-check", NULL, 0, "time without first checking each configuration against the CPU\n"
                                       "reference (the default checks, and a mismatch is not timed and\n"
                                       "makes the run exit 1); for profiling runs only: rows say\n"
                                       "max_err=unchecked"},
    {LB_CHECK, "check", NULL, 0, "check before timing: the default (kept for old scripts)"},
    {LB_ORACLE, "oracle", NULL, 0, "time every candidate of the tuner's search space for each\n"
                                   "workload (schedules asked, tile lengths, splits, grids, CTAs per\n"
                                   "SM, the named policies' picks), each checked first against the\n"
                                   "workload's CPU reference"},
    {LB_SWEEP, "sweep", "FILE", 0, "one option set per line (# comments): workload options, --reps\n"
                                   "and --timeline; every line is checked before any GPU work"},
    {LB_GRAPH_N, "graph-n", "N", 0, "launches per CUDA graph for graph_us (default 20)"},
    {LB_NO_ARENA, "no-arena", NULL, 0, "allocate each configuration's KV sets anew instead of\n"
                                       "carving them from one arena allocated at startup"},
    {LB_READ_CEILING, "read-ceiling", NULL, 0, "time plain streaming reads of 2 GiB under several grids\n"
                                               "(CTAs x streams per CTA, 64 KB in flight per CTA), then the\n"
                                               "same through bulk copies into shared memory (cp.async.bulk:\n"
                                               "CTAs x stages x chunk), then exit"},
    {LB_SM_BANDWIDTH, "sm-bandwidth", NULL, 0, "per-SM read bandwidth: stream-read up to 2 GiB with k = 1, 2, 4,\n"
                                               "8, 16 CTAs per SM of the current SMs (--sms) and 128/256/512\n"
                                               "threads x 1..16 independent 16-byte loads in flight each\n"
                                               "(2..128 KB per CTA); one --csv row per grid, then exit"},
    {LB_OCCUPANCY, "occupancy", NULL, 0, "resident CTAs per SM the driver reports for every decode kernel\n"
                                         "(dtype x head dim x GQA row capacity); one --csv row each, then exit"},
};
static const int lb_opt_count = (int)(sizeof lb_opts / sizeof lb_opts[0]);

/* Prints the synopsis and every option, the workload's first, from the tables. */
static void usage(FILE *f)
{
    int col = fprintf(f, "usage: leanbench [workload options]");
    for (int k = 0; k < lb_opt_count; k++) {
        char item[64];
        snprintf(item, sizeof item, " [--%s%s%s]", lb_opts[k].name, lb_opts[k].arg ? " " : "",
                 lb_opts[k].arg ? lb_opts[k].arg : "");
        if (col + (int)strlen(item) > 100) col = fprintf(f, "\n                ");
        col += fprintf(f, "%s", item);
    }
    fprintf(f, "\nworkload options:\n");
    wl_opts_help(f);
    fprintf(f, "leanbench options:\n");
    for (int k = 0; k < lb_opt_count; k++) {
        char lhs[64];
        snprintf(lhs, sizeof lhs, "--%s%s%s", lb_opts[k].name, lb_opts[k].arg ? " " : "",
                 lb_opts[k].arg ? lb_opts[k].arg : "");
        fprintf(f, "  %-26s ", lhs);
        for (const char *h = lb_opts[k].help; *h; h++) {
            fputc(*h, f);
            if (*h == '\n') fprintf(f, "%29s", "");
        }
        fputc('\n', f);
    }
}

static void facts_init(int dev)
{
    CUDA_CHECK(cudaGetDeviceProperties(&g.prop, dev));
    attn_provenance(g.commit, sizeof g.commit, g.date, sizeof g.date, g.driver, sizeof g.driver);
    snprintf(g.nvcc, sizeof g.nvcc, "%d.%d", __CUDACC_VER_MAJOR__, __CUDACC_VER_MINOR__);
    int khz = 0;
    cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, dev);
    g.sm_clock_mhz = khz / 1000;
    cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, dev);
    g.mem_clock_mhz = khz / 1000;
}

/* Confines the run to n SMs: a green context made current for the
 * runtime, and a stream of it.  Sets g.sms to the SMs actually got. */
static void green_init(int dev, int n)
{
    CU_CHECK(cuInit(0));
    CUdevice cd;
    CU_CHECK(cuDeviceGet(&cd, dev));
    CUdevResource all, part, rest;
    CU_CHECK(cuDeviceGetDevResource(cd, &all, CU_DEV_RESOURCE_TYPE_SM));
    unsigned groups = 1;
    CU_CHECK(cuDevSmResourceSplitByCount(&part, &groups, &all, &rest, 0, (unsigned)n));
    if (groups < 1) { fprintf(stderr, "--sms %d: the device cannot be split so (it has %u SMs)\n", n, all.sm.smCount); exit(2); }
    CUdevResourceDesc desc;
    CU_CHECK(cuDevResourceGenerateDesc(&desc, &part, 1));
    CUgreenCtx gc;
    CU_CHECK(cuGreenCtxCreate(&gc, desc, cd, CU_GREEN_CTX_DEFAULT_STREAM));
    CUcontext ctx;
    CU_CHECK(cuCtxFromGreenCtx(&ctx, gc));
    CU_CHECK(cuCtxSetCurrent(ctx));
    CUstream st;
    CU_CHECK(cuGreenCtxStreamCreate(&st, gc, CU_STREAM_NON_BLOCKING, 0));
    g.stream = (cudaStream_t)st;
    g.sms = (int)part.sm.smCount;
    fprintf(stderr, "leanbench: --sms %d: green context with %d SMs\n", n, g.sms);
}

static double pct(std::vector<float> v, double q)
{
    std::sort(v.begin(), v.end());
    size_t i = (size_t)(q * (double)(v.size() - 1) + 0.5);
    return v[i];
}

static void ctx_string(const workload *w, char *dst, size_t n)
{
    if (!w->ragged) { snprintf(dst, n, "%lld", (long long)w->ctx[0]); return; }
    size_t o = 0;
    for (int r = 0; r < w->batch && o + 24 < n; r++)
        o += (size_t)snprintf(dst + o, n - o, "%s%lld", r ? ";" : "", (long long)w->ctx[r]);
}

/* One recorded launch: the decode kernel's first CTA start and last end,
 * the combine kernel's first CTA start, first return from its wait and
 * last end, in ns from the first start (-1: no combine kernel). */
struct tl_span {
    long long t[5];
};

/* The span of one launch's records: tl, the decode kernel's n_main, and
 * comb, 3 per combine CTA. */
static tl_span timeline_span(const tl_rec *tl, size_t n_main, const tl_rec *comb, int comb_grid)
{
    uint64_t lo[5], hi[5];
    for (int k = 0; k < 5; k++) { lo[k] = UINT64_MAX; hi[k] = 0; }
    for (size_t i = 0; i < n_main; i++) {
        if (tl[i].event == TL_START && tl[i].t_ns < lo[0]) lo[0] = tl[i].t_ns;
        if (tl[i].event == TL_END && tl[i].t_ns > hi[1]) hi[1] = tl[i].t_ns;
    }
    for (size_t i = 0; i < 3 * (size_t)comb_grid; i++) {
        const uint64_t t = comb[i].t_ns;
        if (comb[i].event == TL_COMB_START && t < lo[2]) lo[2] = t;
        if (comb[i].event == TL_COMB_READY && t < lo[3]) lo[3] = t;
        if (comb[i].event == TL_COMB_END && t > hi[4]) hi[4] = t;
    }
    tl_span s;
    const uint64_t at[5] = {lo[0], hi[1], lo[2], lo[3], hi[4]};
    for (int k = 0; k < 5; k++)
        s.t[k] = (at[k] == UINT64_MAX || at[k] == 0 || lo[0] == UINT64_MAX) ? -1 : (long long)(at[k] - lo[0]);
    return s;
}

/* Writes the timeline of plan p (asked as po) of workload w: a provenance
 * header of "# key=value" lines (the run's facts, the workload, the plan
 * asked and built, the knobs and build switches, as the CSV's columns name
 * them), then the events. */
static void write_timeline(const char *path, const tl_rec *tl, const plan *p, const workload *w, const plan_opts *po,
                           int occ, int in_arena, const std::vector<tl_span> &spans)
{
    FILE *f = fopen(path, "w");
    if (!f) { fprintf(stderr, "--timeline %s: cannot open for writing\n", path); return; }
    static const char *ev[] = {"start", "seg_end", "wait_begin", "wait_end", "end"};
    uint64_t t0 = UINT64_MAX;
    const int n = p->n_segs + 4 * p->grid;
    for (int i = 0; i < n; i++)
        if (tl[i].event == TL_START && tl[i].t_ns < t0) t0 = tl[i].t_ns;
    char ctxs[WL_MAX_BATCH * 9 + 16];
    ctx_string(w, ctxs, sizeof ctxs);
    fprintf(f, "# leanbench timeline\n# gpu=%s\n# sms=%d\n# driver=%s\n# nvcc=%s\n# commit=%s\n# date=%s\n"
               "# schedule=%s\n# batch=%d\n# heads=%d\n# kv_heads=%d\n# head_dim=%d\n# dtype=%s\n# ctx=%s\n"
               "# req_block_n=%d\n# req_splits=%d\n# req_grid=%d\n# req_cps=%d\n"
               "# block_n=%d\n# ctas=%d\n# splits=%d\n# ctas_per_sm=%d\n# plan_cps=%d\n"
               "# l2pf=%d\n# pdl=%d\n# rows_cap=%d\n# arena=%d\n# build=%s\n",
            g.prop.name, g.sms, g.driver, g.nvcc, g.commit, g.date, sched_name(p->kind), w->batch, w->heads,
            w->kv_heads, w->head_dim, dtype_name(w->dtype), ctxs, po->block_n, po->splits, po->grid, po->ctas_per_sm,
            p->block_n, p->grid, p->splits, occ, p->ctas_per_sm, attn_l2pf_choice(p->grid, g.sms), attn_pdl_choice(),
            attn_rows_cap_choice(), in_arena, attn_build_switches());
    for (size_t k = 0; k < spans.size(); k++)
        fprintf(f, "# span=%zu,%lld,%lld,%lld,%lld,%lld\n", k, spans[k].t[0], spans[k].t[1], spans[k].t[2],
                spans[k].t[3], spans[k].t[4]);
    fprintf(f, "cta,sm,event,unit,t_ns\n");
    for (int c = 0; c < p->grid; c++) {
        const int b = p->cta_first[c] + 4 * c, e = p->cta_first[c + 1] + 4 * (c + 1);
        for (int i = b; i < e; i++)
            if (tl[i].event >= 0 && tl[i].event <= TL_END)
                fprintf(f, "%d,%d,%s,%d,%lld\n", c, tl[i].sm, ev[tl[i].event], tl[i].unit,
                        (long long)(tl[i].t_ns - t0));
    }
    if (fclose(f)) fprintf(stderr, "--timeline %s: write failed\n", path);
}

/* A workload's KV sets on the device, and (when checking) the CPU reference of its output. */
typedef struct bench_kv {
    attn_bufs b;
    int nkv;            /* KV sets rotated between reps */
    bool flush;         /* rotation alone does not evict L2: read a scratch buffer between reps */
    double kv_set;      /* KV bytes of one set */
    double *ref;        /* CPU reference (double accumulation), or NULL */
} bench_kv;

/* Allocates the KV sets of w (enough of them to exceed 2x L2 if memory
 * allows) and, with_ref, computes the CPU reference.  Returns 0, or 1
 * when the KV does not fit (said so on stderr: a skip, not a failure). */
static int kv_setup(const workload *w, bench_kv *kv, int with_ref, const char *what)
{
    memset(kv, 0, sizeof *kv);
    kv->kv_set = (double)attn_kv_elems(w) * 2 * 2;
    const double l2 = (double)g.prop.l2CacheSize;
    size_t free_b = 0, total_b = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    int nkv = (int)std::min(16.0, std::max(2.0, ceil(2.0 * l2 / kv->kv_set) + 1));
    while (nkv > 1 && !attn_arena_holds(w, nkv) && nkv * kv->kv_set > 0.85 * (double)free_b - 256e6) nkv--;
    kv->nkv = nkv;
    kv->flush = nkv * kv->kv_set < 2.0 * l2 + kv->kv_set;
    if (attn_bufs_alloc(&kv->b, w, nkv, 7, g.stream)) {
        fprintf(stderr, "leanbench: %s: %.1f GB of KV does not fit in device memory; skipped\n", what, kv->kv_set / 1e9);
        return 1;
    }
    if (with_ref) {
        int th = (int)std::thread::hardware_concurrency();
        kv->ref = attn_ref_from_device(w, &kv->b, 0, th > 0 ? th : 4);
    }
    return 0;
}

static void kv_free(bench_kv *kv)
{
    free(kv->ref);
    attn_bufs_free(&kv->b);
}

/*
 * Plans options po of workload w, checks the output against kv->ref (when
 * there is one: outputs poisoned first; a mismatch is reported, not timed,
 * and returns -1), times it and writes its CSV row.  `label` names it in
 * messages.  Returns 0, or -1 on a refusal or a failed check.
 */
static int time_plan(const workload *w, plan_opts po, bench_kv *kv, const char *timeline, int reps)
{
    const int kind = po.kind;
    const int rows = w->heads / w->kv_heads;
    const int occ = attn_occupancy(w->dtype, w->head_dim, rows);
    if (occ <= 0) {
        fprintf(stderr, "leanbench: no kernel for dtype %s, head dim %d, group %d\n", dtype_name(w->dtype),
                w->head_dim, rows);
        return -1;
    }
    const int64_t resident = (int64_t)occ * g.sms;
    if (po.ctas_per_sm > occ) {
        fprintf(stderr, "leanbench: --ctas-per-sm %d: only %d CTAs of this kernel fit on an SM\n", po.ctas_per_sm, occ);
        return -1;
    }
    plan *p = plan_alloc();
    int rc = plan_build(p, w, &po, g.sms, occ);
    if (rc == PLAN_ERESIDENT)
        fprintf(stderr, "leanbench: %s --grid %d: more than the %lld CTAs that can be resident at once "
                "(%d per SM x %d SMs); host CTAs would spin forever\n", sched_name(kind), po.grid,
                (long long)resident, occ, g.sms);
    else if (rc != PLAN_OK)
        fprintf(stderr, "leanbench: %s: plan_build failed (status %d)\n", sched_name(kind), rc);
    if (rc != PLAN_OK) {
        plan_free(p);
        return -1;
    }
    attn_plan_dev d;
    attn_plan_upload(&d, p, w);
    attn_bufs &b = kv->b;
    const int nkv = kv->nkv;
    const bool flush = kv->flush;
    attn_io io = {b.q, b.k[0], b.v[0], b.o, w->dtype, w->head_dim};
    char maxerr[32] = "unchecked";
    if (kv->ref) {
        g.n_checked++;
        CUDA_CHECK(cudaMemsetAsync(b.o, 0xff, (size_t)b.qo_elems * 2, g.stream));
        CUDA_CHECK(attn_launch(&d, &io, g.stream, NULL));
        CUDA_CHECK(cudaStreamSynchronize(g.stream));
        double err;
        int64_t bad = attn_compare(w, b.o, kv->ref, attn_tolerance(w->dtype), &err, 5, sched_name(kind));
        snprintf(maxerr, sizeof maxerr, "%.3g", err);
        if (bad) {
            g.n_check_failed++;
            fprintf(stderr, "leanbench: %s (block_n %d, %d CTAs, %d splits): CHECK FAILED, %lld mismatches; not timed\n",
                    sched_name(kind), p->block_n, p->grid, p->splits, (long long)bad);
            attn_plan_free(&d);
            plan_free(p);
            return -1;
        }
    }
    for (int i = 0; i < g.warmup; i++) {
        io.k = b.k[i % nkv]; io.v = b.v[i % nkv];
        CUDA_CHECK(attn_launch(&d, &io, g.stream, NULL));
    }
    std::vector<cudaEvent_t> ev(2 * (size_t)reps);
    for (auto &e : ev) CUDA_CHECK(cudaEventCreate(&e));
    for (int i = 0; i < reps; i++) {
        io.k = b.k[i % nkv]; io.v = b.v[i % nkv];
        if (flush) attn_l2_flush(g.scratch, g.scratch_bytes, g.stream);
        CUDA_CHECK(cudaEventRecord(ev[2 * i], g.stream));
        CUDA_CHECK(attn_launch(&d, &io, g.stream, NULL));
        CUDA_CHECK(cudaEventRecord(ev[2 * i + 1], g.stream));
    }
    CUDA_CHECK(cudaStreamSynchronize(g.stream));
    std::vector<float> ms((size_t)reps);
    for (int i = 0; i < reps; i++) CUDA_CHECK(cudaEventElapsedTime(&ms[(size_t)i], ev[2 * i], ev[2 * i + 1]));
    for (auto &e : ev) cudaEventDestroy(e);

    /* launch overhead: n launches back to back in one graph (n from
     * --graph-n, fewer for long kernels so that this stays ~10 ms) */
    const double t_med_us = pct(ms, 0.5) * 1e3;
    int gn = g.graph_n;
    if (t_med_us * gn > 10000) gn = std::max(2, (int)(10000 / t_med_us));
    double graph_us = 0;
    {
        cudaGraph_t gr;
        cudaGraphExec_t ge;
        CUDA_CHECK(cudaStreamBeginCapture(g.stream, cudaStreamCaptureModeThreadLocal));
        for (int i = 0; i < gn; i++) {
            io.k = b.k[i % nkv]; io.v = b.v[i % nkv];
            CUDA_CHECK(attn_launch(&d, &io, g.stream, NULL));
        }
        CUDA_CHECK(cudaStreamEndCapture(g.stream, &gr));
        CUDA_CHECK(cudaGraphInstantiate(&ge, gr, 0));
        CUDA_CHECK(cudaGraphLaunch(ge, g.stream));
        cudaEvent_t e0, e1;
        CUDA_CHECK(cudaEventCreate(&e0));
        CUDA_CHECK(cudaEventCreate(&e1));
        std::vector<float> gms;
        for (int i = 0; i < 3; i++) {
            CUDA_CHECK(cudaEventRecord(e0, g.stream));
            CUDA_CHECK(cudaGraphLaunch(ge, g.stream));
            CUDA_CHECK(cudaEventRecord(e1, g.stream));
            CUDA_CHECK(cudaEventSynchronize(e1));
            float t;
            CUDA_CHECK(cudaEventElapsedTime(&t, e0, e1));
            gms.push_back(t);
        }
        graph_us = pct(gms, 0.5) * 1e3 / gn;
        cudaEventDestroy(e0); cudaEventDestroy(e1);
        cudaGraphExecDestroy(ge); cudaGraphDestroy(gr);
    }

    if (timeline) {
        const size_t n = attn_tl_records(&d), n_comb = 3 * (size_t)d.combine_grid, n_main = n - n_comb;
        tl_rec *tl_d;
        CUDA_CHECK(cudaMalloc((void **)&tl_d, n * sizeof(tl_rec)));
        std::vector<tl_rec> tl(n);
        std::vector<tl_span> spans;
        for (int k = 0; k < g.tl_launches; k++) {
            CUDA_CHECK(cudaMemsetAsync(tl_d, 0xff, n * sizeof(tl_rec), g.stream));
            if (flush) attn_l2_flush(g.scratch, g.scratch_bytes, g.stream);
            io.k = b.k[k % nkv]; io.v = b.v[k % nkv];
            CUDA_CHECK(attn_launch(&d, &io, g.stream, tl_d));
            CUDA_CHECK(cudaStreamSynchronize(g.stream));
            CUDA_CHECK(cudaMemcpy(tl.data(), tl_d, n * sizeof(tl_rec), cudaMemcpyDeviceToHost));
            spans.push_back(timeline_span(tl.data() + n_comb, n_main, tl.data(), d.combine_grid));
        }
        cudaFree(tl_d);
        write_timeline(timeline, tl.data() + n_comb, p, w, &po, occ, b.in_arena, spans);
    }

    const double t_us = pct(ms, 0.5) * 1e3, p10 = pct(ms, 0.1) * 1e3, p90 = pct(ms, 0.9) * 1e3;
    const double kv_set = kv->kv_set;
    const double bw = kv_set / (t_us * 1e-6) / 1e9;
    char ctxs[WL_MAX_BATCH * 9 + 16];
    ctx_string(w, ctxs, sizeof ctxs);
    printf("%-8s b=%-3d h=%-3d kvh=%-3d d=%-3d %s ctx=%-10.10s bn=%-3d ctas=%-5d splits=%-3d  %9.2f us  (p10 %.2f p90 %.2f, graph %.2f)  %7.1f GB/s%s%s\n",
           sched_name(kind), w->batch, w->heads, w->kv_heads, w->head_dim, dtype_name(w->dtype), ctxs, p->block_n,
           p->grid, p->splits, t_us, p10, p90, graph_us, bw, maxerr[0] ? "  err " : "", maxerr);
    fflush(stdout);
    if (g.csv) {
        FILE *f = fopen(g.csv, "a");
        if (!f) { fprintf(stderr, "--csv %s: cannot open for appending\n", g.csv); exit(2); }
        fseek(f, 0, SEEK_END);
        if (ftell(f) == 0) fprintf(f, "%s\n", RUNCSV_HEADER);
        /* columns in the order of sim/runcsv.h; po is the plan asked, p the plan built */
        fprintf(f, "%s,%d,%s,%d,%d,%s,%s,%s,%s,%d,%d,%d,%d,%s,%s,%d,%d,%d,%d,%d,%.3f,%.3f,%.3f,%.3f,%.0f,%.1f,%s,"
                   "%d,%d,%d,%d,%d,%d,%d,%d,%d,%s\n",
                g.prop.name, g.sms, g.driver, g.sm_clock_mhz, g.mem_clock_mhz, g.nvcc, g.commit, g.date,
                sched_name(kind), w->batch, w->heads, w->kv_heads, w->head_dim, dtype_name(w->dtype), ctxs,
                p->block_n, p->grid, p->splits, occ, reps, t_us, p10, p90, graph_us, kv_set, bw, maxerr,
                po.block_n, po.splits, po.grid, po.ctas_per_sm, p->ctas_per_sm, attn_l2pf_choice(p->grid, g.sms),
                attn_pdl_choice(), attn_rows_cap_choice(), b.in_arena, attn_build_switches());
        if (fclose(f)) { fprintf(stderr, "--csv %s: write failed\n", g.csv); exit(2); }
    }
    attn_plan_free(&d);
    plan_free(p);
    return 0;
}

/* Plans, checks and times one schedule of a workload on its KV sets kv. */
static int run_config(const wl_opts *o, int kind, bench_kv *kv, const char *timeline, int reps)
{
    plan_opts po = o->po;
    po.kind = kind;
    return time_plan(&o->wl, po, kv, timeline, reps);
}

/*
 * --oracle: every candidate of the tuner's search space (plan_candidates:
 * every schedule asked, tile length, split count, grid and CTAs per SM the
 * kernels run, and every named policy's pick) for one workload, each
 * checked against the one CPU reference of the workload before it is
 * timed.  Returns the number of candidates that failed.
 */
static int run_oracle(const wl_opts *o, int reps)
{
    const workload *w = &o->wl;
    const int occ = attn_occupancy(w->dtype, w->head_dim, w->heads / w->kv_heads);
    if (occ <= 0) {
        fprintf(stderr, "leanbench: --oracle: no kernel for group %d at head dim %d\n", w->heads / w->kv_heads,
                w->head_dim);
        return 1;
    }
    const int res_by_bn[4] = {occ, occ, occ, occ};   /* block_n does not change the kernels' resources */
    std::vector<plan_cand> c(4096);
    int n = plan_candidates(w, g.sms, res_by_bn, o->sched_mask, (double)g.prop.l2CacheSize, c.data(), (int)c.size());
    if (n > (int)c.size()) n = (int)c.size();
    bench_kv kv;
    if (kv_setup(w, &kv, 1, "oracle")) return 0;   /* does not fit: skipped */
    int failed = 0;
    fprintf(stderr, "leanbench: --oracle: %d candidates\n", n);
    for (int i = 0; i < n; i++) {
        plan_opts po = {c[i].kind, c[i].block_n, c[i].splits, c[i].grid, c[i].ctas_per_sm, 0};
        if (time_plan(w, po, &kv, NULL, reps)) failed++;
    }
    kv_free(&kv);
    return failed;
}


/*
 * Parses runner options common to the command line and sweep lines
 * (where: "FILE:LINE" of a sweep line, which takes only the workload
 * options and lb_opts' per_line ones; NULL: the command line) with
 * getopt_long over both tables; --opt=value works for every option, and a
 * unique prefix names one.  *n_wl (when not NULL): workload options seen.
 * Returns 0, or -1 after a message naming where, the option and the value.
 */
static int parse_args(int argc, char **argv, wl_opts *o, const char **timeline, int *reps, const char *where,
                      int *n_wl)
{
    const int line_mode = where != NULL;
    const char *who = where ? where : "leanbench";
    enum { ID_WL = 1000, ID_LB = 2000 };   /* getopt values: ID_WL + workload option k, ID_LB + lb_opts row */
    std::vector<struct option> lo;
    for (int k = 0; k < wl_opts_count(); k++) {
        struct option x = {wl_opts_name(k) + 2, required_argument, NULL, ID_WL + k};
        lo.push_back(x);
    }
    for (int k = 0; k < lb_opt_count; k++) {
        struct option x = {lb_opts[k].name, lb_opts[k].arg ? required_argument : no_argument, NULL, ID_LB + k};
        lo.push_back(x);
    }
    struct option help = {"help", no_argument, NULL, 'h'}, end = {NULL, 0, NULL, 0};
    lo.push_back(help);
    lo.push_back(end);
    char err[256];
    opterr = 0;   /* the messages below name the option as written */
    optind = 0;   /* glibc: start afresh (a --sweep line after the command line) */
    for (;;) {
        /* "+": stop at the first operand (there are none); ":": a missing value is ':' */
        const int v = getopt_long(argc, argv, "+:h", lo.data(), NULL);
        if (v == -1) break;
        const char *a = argv[optind - 1];
        if (v == 'h' && !line_mode) { usage(stdout); exit(0); }
        if (v == ':') { fprintf(stderr, "%s: %s: missing value\n", who, a); return -1; }
        if (v == 'h' || (v == '?' && optopt >= ID_WL)) {   /* --help on a sweep line, or a flag given a value */
            fprintf(stderr, "%s: %s: %s\n", who, a, v == 'h' ? "not on a --sweep line" : "takes no value");
            return -1;
        }
        if (v == '?') {   /* getopt_long takes a unique prefix: one of several is ambiguous */
            int m = 0;
            const size_t n = strcspn(a + 2, "=");
            for (size_t k = 0; a[0] == '-' && a[1] == '-' && n && lo[k].name; k++) m += !strncmp(lo[k].name, a + 2, n);
            fprintf(stderr, "%s: %s option '%s' (leanbench --help)\n", who, m > 1 ? "ambiguous" : "unknown", a);
            return -1;
        }
        if (v >= ID_WL && v < ID_LB) {
            if (wl_opts_set(o, v - ID_WL, optarg, err, sizeof err)) { fprintf(stderr, "%s: %s\n", who, err); return -1; }
            if (n_wl) (*n_wl)++;
            continue;
        }
        const struct lb_opt *r = &lb_opts[v - ID_LB];
        char name[64];
        snprintf(name, sizeof name, "--%s", r->name);
        if (line_mode && !r->per_line) {
            fprintf(stderr, "%s: %s: not on a --sweep line (workload options, --reps, --timeline)\n", who, name);
            return -1;
        }
        int bad = 0;
        switch (r->id) {
        case LB_GPUS:   /* main hands a command line with --gpus to mgpu_main before this */
            fprintf(stderr, "%s: --gpus: only on the command line (the multi-GPU mode)\n", who);
            return -1;
        case LB_REPS: bad = opts_parse_int(name, optarg, 1, 1 << 30, reps, err, sizeof err); break;
        case LB_WARMUP: bad = opts_parse_int(name, optarg, 0, 1 << 30, &g.warmup, err, sizeof err); break;
        case LB_SMS: bad = opts_parse_int(name, optarg, 1, 4096, &g.sms_req, err, sizeof err); break;
        case LB_GRAPH_N: bad = opts_parse_int(name, optarg, 1, 1 << 20, &g.graph_n, err, sizeof err); break;
        case LB_TIMELINE: *timeline = optarg; break;
        case LB_TL_LAUNCHES: bad = opts_parse_int(name, optarg, 1, 1000, &g.tl_launches, err, sizeof err); break;
        case LB_CSV: g.csv = optarg; break;
        case LB_SWEEP: g.sweep = optarg; break;
        case LB_CHECK: g.check = 1; break;
        case LB_NO_CHECK: g.check = 0; break;
        case LB_ORACLE: g.oracle = 1; break;
        case LB_NO_ARENA: g.no_arena = 1; break;
        case LB_READ_CEILING: g.read_ceiling = 1; break;
        case LB_SM_BANDWIDTH: g.sm_bandwidth = 1; break;
        case LB_OCCUPANCY: g.occupancy = 1; break;
        }
        if (bad) { fprintf(stderr, "%s: %s\n", who, err); return -1; }
    }
    if (optind < argc) { fprintf(stderr, "%s: unexpected argument '%s'\n", who, argv[optind]); return -1; }
    if (wl_opts_finish(o, err, sizeof err)) { fprintf(stderr, "%s: %s\n", who, err); return -1; }
    return 0;
}

/* CTA c streams S regions of n uint4 (regions c*S .. c*S+S-1), 256 threads
 * with 16/S loads each in flight per region: 64 KB in flight per CTA. */
template <int S>
__global__ void __launch_bounds__(256) read_kernel(const uint4 *buf, size_t n, unsigned *sink)
{
    constexpr int U = 16 / S;
    const uint4 *base = buf + (size_t)blockIdx.x * S * n;
    unsigned x = 0;
    for (size_t i = threadIdx.x; i < n; i += 256 * U) {
        uint4 v[S][U];
#pragma unroll
        for (int s = 0; s < S; s++)
#pragma unroll
            for (int u = 0; u < U; u++) {
                const size_t k = i + (size_t)u * 256;
                v[s][u] = k < n ? __ldcg(base + (size_t)s * n + k) : make_uint4(0, 0, 0, 0);
            }
#pragma unroll
        for (int s = 0; s < S; s++)
#pragma unroll
            for (int u = 0; u < U; u++) x ^= v[s][u].x ^ v[s][u].y ^ v[s][u].z ^ v[s][u].w;
    }
    if (x == 0x9e3779b9u && threadIdx.x == 1023) *sink = x;   /* keeps the loads */
}

/* CTA c streams its region of nch chunks of CB bytes into shared memory
 * with bulk copies (cp.async.bulk, the tensor memory accelerator's 1-D
 * form) of PC bytes each, ST chunks in flight: thread 0 arms a stage's
 * mbarrier with the chunk's bytes, threads 0 .. CB/PC-1 issue one copy
 * each, completing on that mbarrier; every thread waits for a stage, reads
 * one word of it, and the stage is refilled after a block barrier.  ST x CB
 * bytes in flight per CTA. */
__device__ __forceinline__ unsigned smem_u32(const void *p)
{
    return (unsigned)__cvta_generic_to_shared(p);
}

template <int CB, int ST, int PC>
__global__ void __launch_bounds__(128) bulk_read_kernel(const unsigned char *buf, size_t nch, unsigned *sink)
{
    static_assert(CB % PC == 0 && CB / PC <= 128 && PC % 16 == 0, "pieces of 16-byte multiples, one per thread");
    extern __shared__ __align__(128) unsigned char stage[];
    __shared__ __align__(8) unsigned long long bar[ST];
    const unsigned char *base = buf + (size_t)blockIdx.x * nch * CB;
    const int tid = threadIdx.x;
    auto arm = [&](size_t c) {
        asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_u32(&bar[c % ST])), "r"(CB)
                     : "memory");
    };
    auto issue = [&](size_t c) {
        const int s = (int)(c % ST);
        asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(
                         smem_u32(stage + (size_t)s * CB + tid * PC)),
                     "l"(base + c * CB + tid * PC), "r"(PC), "r"(smem_u32(&bar[s]))
                     : "memory");
    };
    if (tid == 0) {
        for (int s = 0; s < ST; s++) asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem_u32(&bar[s])));
        asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
        for (size_t c = 0; c < ST && c < nch; c++) arm(c);
    }
    __syncthreads();
    if (tid < CB / PC)
        for (size_t c = 0; c < ST && c < nch; c++) issue(c);
    unsigned x = 0;
    for (size_t c = 0; c < nch; c++) {
        const int s = (int)(c % ST);
        const unsigned phase = (unsigned)(c / ST) & 1u;
        unsigned done = 0;
        while (!done)
            asm volatile("{ .reg .pred p; mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2; selp.u32 %0, 1, 0, p; }"
                         : "=r"(done)
                         : "r"(smem_u32(&bar[s])), "r"(phase)
                         : "memory");
        x ^= reinterpret_cast<const unsigned *>(stage + (size_t)s * CB)[tid];
        if (tid == 0 && c + ST < nch) arm(c + ST);
        __syncthreads();   /* every thread has read stage s, and it is armed again */
        if (tid < CB / PC && c + ST < nch) issue(c + ST);
    }
    if (x == 0x9e3779b9u && tid == 1023) *sink = x;   /* keeps the reads */
}

/* The bulk-copy read bandwidth of up to `bytes` at buf: ctas CTAs of ST
 * stages of CB bytes in copies of PC bytes, median of 7 launches after an
 * L2 flush each, GB/s. */
template <int CB, int ST, int PC>
static double bulk_read_one(void *buf, size_t bytes, int ctas)
{
    const size_t nch = bytes / ((size_t)ctas * CB);
    CUDA_CHECK(cudaFuncSetAttribute(bulk_read_kernel<CB, ST, PC>, cudaFuncAttributeMaxDynamicSharedMemorySize, CB * ST));
    const double ms = event_median_ms(
        7, [] { attn_l2_flush(g.scratch, g.scratch_bytes, g.stream); },
        [&] {
            bulk_read_kernel<CB, ST, PC>
                <<<ctas, 128, CB * ST, g.stream>>>((const unsigned char *)buf, nch, (unsigned *)buf);
        });
    CUDA_CHECK(cudaGetLastError());
    return (double)(nch * CB * (size_t)ctas) / (ms * 1e-3) / 1e9;
}

/* Read bandwidth of `bytes` at buf under a grid of ctas x streams: the
 * median of 7 timed launches after one warm-up, in GB/s. */
/* Median in ms of `reps` runs of work() between two events on g.stream,
 * after one untimed run; before() is enqueued ahead of each, untimed. */
template <typename B, typename W>
static double event_median_ms(int reps, B before, W work)
{
    cudaEvent_t e0, e1;
    CUDA_CHECK(cudaEventCreate(&e0));
    CUDA_CHECK(cudaEventCreate(&e1));
    std::vector<float> t;
    for (int i = 0; i <= reps; i++) {
        before();
        CUDA_CHECK(cudaEventRecord(e0, g.stream));
        work();
        CUDA_CHECK(cudaEventRecord(e1, g.stream));
        CUDA_CHECK(cudaEventSynchronize(e1));
        float ms = 0;
        CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
        if (i) t.push_back(ms);
    }
    cudaEventDestroy(e0); cudaEventDestroy(e1);
    return pct(t, 0.5);
}

static double read_ceiling_one(void *buf, size_t bytes, int ctas, int streams)
{
    const size_t n = bytes / 16 / ((size_t)ctas * streams);
    const double ms = event_median_ms(
        7, [] { attn_l2_flush(g.scratch, g.scratch_bytes, g.stream); },
        [&] {
            if (streams == 1) read_kernel<1><<<ctas, 256, 0, g.stream>>>((const uint4 *)buf, n, (unsigned *)buf);
            else read_kernel<2><<<ctas, 256, 0, g.stream>>>((const uint4 *)buf, n, (unsigned *)buf);
        });
    return (double)(n * 16 * (size_t)ctas * streams) / (ms * 1e-3) / 1e9;
}

/* Prints the read ceilings of a 2 GiB buffer for grids of 1-3 CTAs per SM
 * and many small CTAs, one and two streams per CTA. */
static void read_ceiling(void *buf, size_t bytes)
{
    const int sms = g.sms;
    const int grids[] = {sms, 2 * sms, 3 * sms, 32 * sms};
    for (int streams = 1; streams <= 2; streams++)
        for (int gi = 0; gi < 4; gi++)
            fprintf(stderr, "leanbench: read ceiling, %d CTAs x %d streams, %.0f MB per stream: %.0f GB/s\n",
                    grids[gi], streams, (double)bytes / grids[gi] / streams / 1e6,
                    read_ceiling_one(buf, bytes, grids[gi], streams));
    /* bulk copies: CTAs per SM x stages x chunk bytes (within shared
     * memory), in one copy a chunk or in copies of 256 bytes (a token row of
     * K or V at d = 128) */
    for (int k = 1; k <= 3; k++) {
        fprintf(stderr, "leanbench: read ceiling, bulk copies, %d CTAs x 4 x 16 KB: %.0f GB/s\n", k * sms,
                bulk_read_one<16384, 4, 16384>(buf, bytes, k * sms));
        fprintf(stderr, "leanbench: read ceiling, bulk copies, %d CTAs x 2 x 32 KB: %.0f GB/s\n", k * sms,
                bulk_read_one<32768, 2, 32768>(buf, bytes, k * sms));
        fprintf(stderr, "leanbench: read ceiling, bulk copies of 256 B, %d CTAs x 4 x 16 KB: %.0f GB/s\n", k * sms,
                bulk_read_one<16384, 4, 256>(buf, bytes, k * sms));
        fprintf(stderr, "leanbench: read ceiling, bulk copies of 256 B, %d CTAs x 2 x 32 KB: %.0f GB/s\n", k * sms,
                bulk_read_one<32768, 2, 256>(buf, bytes, k * sms));
        fprintf(stderr, "leanbench: read ceiling, bulk copies of 512 B, %d CTAs x 2 x 32 KB: %.0f GB/s\n", k * sms,
                bulk_read_one<32768, 2, 512>(buf, bytes, k * sms));
    }
    fprintf(stderr, "leanbench: read ceiling, bulk copies, %d CTAs x 4 x 32 KB: %.0f GB/s\n", sms,
            bulk_read_one<32768, 4, 32768>(buf, bytes, sms));
}

/* --sm-bandwidth: CTA c reads its own contiguous region of n uint4 with
 * U independent 16-byte loads in flight per thread (blockDim.x * U * 16
 * bytes per CTA); n is a multiple of blockDim.x * U, so no load is guarded
 * and the outer loop is not unrolled (exactly U loads per thread in flight). */
template <int U>
__global__ void __launch_bounds__(512, 1) smbw_kernel(const uint4 *buf, size_t n, unsigned *sink)
{
    const uint4 *base = buf + (size_t)blockIdx.x * n;
    const size_t step = (size_t)blockDim.x * U;
    unsigned x = 0;
#pragma unroll 1
    for (size_t i = threadIdx.x; i < n; i += step) {
        uint4 v[U];
#pragma unroll
        for (int u = 0; u < U; u++) v[u] = __ldcg(base + i + (size_t)u * blockDim.x);
#pragma unroll
        for (int u = 0; u < U; u++) x ^= v[u].x ^ v[u].y ^ v[u].z ^ v[u].w;
    }
    if (x == 0x9e3779b9u) sink[blockIdx.x & 15] = x;   /* keeps the loads; never taken on the fill */
}

static const void *smbw_func(int u)
{
    switch (u) {
    case 1: return (const void *)smbw_kernel<1>;
    case 2: return (const void *)smbw_kernel<2>;
    case 4: return (const void *)smbw_kernel<4>;
    case 8: return (const void *)smbw_kernel<8>;
    default: return (const void *)smbw_kernel<16>;
    }
}

static void smbw_launch(int u, int grid, int threads, const uint4 *buf, size_t n, unsigned *sink)
{
    switch (u) {
    case 1: smbw_kernel<1><<<grid, threads, 0, g.stream>>>(buf, n, sink); break;
    case 2: smbw_kernel<2><<<grid, threads, 0, g.stream>>>(buf, n, sink); break;
    case 4: smbw_kernel<4><<<grid, threads, 0, g.stream>>>(buf, n, sink); break;
    case 8: smbw_kernel<8><<<grid, threads, 0, g.stream>>>(buf, n, sink); break;
    default: smbw_kernel<16><<<grid, threads, 0, g.stream>>>(buf, n, sink); break;
    }
    CUDA_CHECK(cudaGetLastError());
}

/* Resident CTAs per SM of every decode kernel instance (cudaOccupancy...),
 * which the simulator derives from sim/kres.c: one CSV row each. */
static void occupancy_table(void)
{
    FILE *f = stdout;
    if (g.csv) {
        f = fopen(g.csv, "a");
        if (!f) { fprintf(stderr, "--csv %s: cannot open for appending\n", g.csv); exit(2); }
        fseek(f, 0, SEEK_END);
    }
    if (ftell(f) <= 0) fprintf(f, "%s\n", OCC_HEADER);
    const int dims[] = {64, 128, 256}, caps[] = {1, 2, 4, 8, 16};
    for (int dt = 0; dt < 2; dt++)
        for (int d : dims)
            for (int c : caps) {
                int n = attn_occupancy(dt, d, c);
                if (n < 0) continue;   /* no such kernel (group 16 at d = 256) */
                fprintf(f, "%s,%d,%s,%s,%s,%s,%d,%d,%d,%d\n", g.prop.name, g.prop.multiProcessorCount, g.driver,
                        g.commit, g.date, dtype_name(dt), d, c, ATTN_THREADS, n);
            }
    if (f != stdout && fclose(f)) { fprintf(stderr, "--csv %s: write failed\n", g.csv); exit(2); }
}

/* Read bandwidth of the current SMs (g.sms) under k CTAs per SM, for each
 * CTA size and loads in flight: one CSV row each.  Bytes read are sized so
 * that a launch takes ~5 ms (at least 256 MiB, 5x L2; at most `cap`); the
 * median of 5 launches after one, L2 flushed (a read) before each. */
static void sm_bandwidth(void *buf, size_t cap)
{
    unsigned *sink = NULL;
    CUDA_CHECK(cudaMalloc((void **)&sink, 16 * sizeof(unsigned)));
    FILE *f = NULL;
    if (g.csv) {
        f = fopen(g.csv, "a");
        if (!f) { fprintf(stderr, "--csv %s: cannot open for appending\n", g.csv); exit(2); }
        fseek(f, 0, SEEK_END);
        if (ftell(f) == 0) fprintf(f, "%s\n", SMBW_HEADER);
    }
    const int ks[] = {1, 2, 4, 8, 16}, ts[] = {128, 256, 512}, us[] = {1, 2, 4, 8, 16};
    const size_t floor_b = (size_t)256 << 20;
    for (int t : ts)
        for (int u : us) {
            const size_t inflight = (size_t)t * u * 16;
            if (inflight > ((size_t)128 << 10)) continue;
            int occ = 0;
            CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occ, smbw_func(u), t, 0));
            for (int k : ks) {
                if (k > occ) {
                    fprintf(stderr, "leanbench: sm-bandwidth: %d CTAs of %d threads x %d loads do not fit on an SM "
                            "(%d do); skipped\n", k, t, u, occ);
                    continue;
                }
                const int grid = k * g.sms;
                const size_t unit = (size_t)t * u;           /* uint4 per CTA per step */
                auto regions = [&](size_t bytes) { return bytes / 16 / grid / unit * unit; };
                const double ms0 = event_median_ms(
                    1, [] { attn_l2_flush(g.scratch, g.scratch_bytes, g.stream); },
                    [&] { smbw_launch(u, grid, t, (const uint4 *)buf, regions(floor_b), sink); });
                double want = (double)floor_b * 5.0 / std::max(ms0, 1e-3);
                size_t bytes = (size_t)std::min((double)cap, std::max((double)floor_b, want));
                const size_t n = regions(bytes);
                if (n == 0) continue;
                const double ms = event_median_ms(
                    5, [] { attn_l2_flush(g.scratch, g.scratch_bytes, g.stream); },
                    [&] { smbw_launch(u, grid, t, (const uint4 *)buf, n, sink); });
                const double read = (double)n * 16 * grid;
                const double gbps = read / (ms * 1e-3) / 1e9;
                printf("sm-bandwidth sms=%-3d k=%-2d threads=%-3d inflight=%-6zu bytes=%-10.0f %9.1f us %8.1f GB/s "
                       "%6.2f GB/s per SM\n", g.sms, k, t, inflight, read, ms * 1e3, gbps, gbps / g.sms);
                fflush(stdout);
                if (f)
                    fprintf(f, "%s,%d,%s,%d,%d,%s,%s,read,%d,%d,%d,%zu,%.0f,%.3f,%.1f,%.3f\n", g.prop.name,
                            g.prop.multiProcessorCount, g.driver, g.sm_clock_mhz, g.mem_clock_mhz, g.commit, g.date,
                            g.sms, k, t, inflight, read, ms * 1e3, gbps, gbps / g.sms);
            }
        }
    if (f && fclose(f)) { fprintf(stderr, "--csv %s: write failed\n", g.csv); exit(2); }
    cudaFree(sink);
}

/* The KV sets and CPU reference of the last workload run, kept for the
 * next when it is the same (consecutive sweep lines that time several
 * plans of one workload compute its reference once). */
static struct {
    workload w;
    bench_kv kv;
    int valid, with_ref;
} kv_cache;

/* kv_setup through the cache: the cached sets when w is the cached
 * workload, else the cache's released first.  Returns kv_setup's value. */
static int kv_get(const workload *w, int with_ref, bench_kv **kv)
{
    if (kv_cache.valid && kv_cache.with_ref == with_ref && workload_same(&kv_cache.w, w)) {
        *kv = &kv_cache.kv;
        return 0;
    }
    if (kv_cache.valid) kv_free(&kv_cache.kv);
    kv_cache.valid = 0;
    if (kv_setup(w, &kv_cache.kv, with_ref, "workload")) return 1;
    kv_cache.w = *w;
    kv_cache.with_ref = with_ref;
    kv_cache.valid = 1;
    *kv = &kv_cache.kv;
    return 0;
}

static void kv_release(void)
{
    if (kv_cache.valid) kv_free(&kv_cache.kv);
    kv_cache.valid = 0;
}

static int run_all(const wl_opts *o, const char *timeline, int reps)
{
    if (g.oracle) return run_oracle(o, reps) ? 1 : 0;
    /* one set of KV buffers and one CPU reference for every schedule of the
     * workload (and for the next lines of a sweep while they name it too) */
    bench_kv *kv;
    if (kv_get(&o->wl, g.check, &kv)) return 0;   /* does not fit: skipped */
    int rc = 0;
    for (int k = 0; k < SCHED_COUNT; k++)
        if (o->sched_mask & (1u << k)) {
            char path[512];
            if (timeline && __builtin_popcount(o->sched_mask) > 1)
                snprintf(path, sizeof path, "%s.%s.csv", timeline, sched_name(k));
            else if (timeline)
                snprintf(path, sizeof path, "%s", timeline);
            if (run_config(o, k, kv, timeline ? path : NULL, reps)) rc = 1;
        }
    return rc;
}

/* The run's last word on checking; returns its exit status (1 when a
 * configuration failed its check or anything else failed). */
static int check_summary(int rc)
{
    if (g.check)
        fprintf(stderr, "leanbench: %d configurations checked against the CPU reference before timing, %d failed "
                "(not timed)\n", g.n_checked, g.n_check_failed);
    else
        fprintf(stderr, "leanbench: --no-check: timed without checking against the CPU reference (profiling run; "
                "%d checked, %d failed)\n", g.n_checked, g.n_check_failed);
    return rc || g.n_check_failed ? 1 : 0;
}

/* Parses one option set of the --sweep file into *lo, *tl and *reps;
 * errors name the file and line.  Returns 0, or 1 when it is bad. */
static int sweep_parse(int ac, char **av, int ln, wl_opts *lo, const char **tl, int *reps)
{
    char where[600];
    snprintf(where, sizeof where, "%s:%d", g.sweep, ln);
    wl_opts_init(lo);
    *tl = NULL;
    *reps = g.reps;
    if (parse_args(ac, av, lo, tl, reps, where, NULL)) return 1;
    if (*tl && g.oracle) {
        fprintf(stderr, "%s: --timeline: not with --oracle (its candidates record none)\n", where);
        return 1;
    }
    return 0;
}

/* Every option set of the --sweep file parsed before any GPU work, so that
 * a bad line stops the run before it starts; *(int *)arg counts the sets.
 * Returns 1 for a bad line (named on stderr). */
static int sweep_check(void *arg, int ac, char **av, int ln)
{
    static wl_opts lo;
    const char *tl;
    int reps;
    if (sweep_parse(ac, av, ln, &lo, &tl, &reps)) return 1;
    (*(int *)arg)++;
    return 0;
}

/* One option set of a --sweep file (checked by sweep_check): 1 when a
 * configuration failed. */
static int sweep_set(void *arg, int ac, char **av, int ln)
{
    (void)arg;
    static wl_opts lo;
    const char *ltl;
    int reps;
    if (sweep_parse(ac, av, ln, &lo, &ltl, &reps)) return 1;
    return run_all(&lo, ltl, reps) ? 1 : 0;
}

/* The header of what --csv gets in this run's mode, NULL when it writes none. */
static const char *csv_header(void)
{
    if (g.occupancy) return OCC_HEADER;
    if (g.sm_bandwidth) return SMBW_HEADER;
    if (g.read_ceiling) return NULL;
    return RUNCSV_HEADER;
}

/* Options that the run's mode would ignore: refused with a message (before
 * any GPU work).  n_wl: workload options on the command line.  Returns 0,
 * or -1. */
static int modes_check(int n_wl, const char *timeline)
{
    const char *fig = g.occupancy ? "--occupancy" : g.sm_bandwidth ? "--sm-bandwidth" : g.read_ceiling ? "--read-ceiling" : NULL;
    const char *other = NULL;
    if (fig) {   /* a device figure: no workload */
        other = g.sweep ? "--sweep" : g.oracle ? "--oracle" : timeline ? "--timeline" : n_wl ? "workload options" : NULL;
        if (!other && g.occupancy && (g.sm_bandwidth || g.read_ceiling))
            other = g.sm_bandwidth ? "--sm-bandwidth" : "--read-ceiling";
        if (other) {
            fprintf(stderr, "leanbench: %s: not with %s (it times no workload)\n", fig, other);
            return -1;
        }
        if (g.csv && !csv_header()) {
            fprintf(stderr, "leanbench: --read-ceiling: writes no --csv (its figures go to stderr)\n");
            return -1;
        }
        return 0;
    }
    if (g.sweep && (n_wl || timeline)) {
        fprintf(stderr, "leanbench: --sweep: %s go%s on the file's lines, not on the command line\n",
                timeline ? "--timeline" : "workload options", timeline ? "es" : "");
        return -1;
    }
    if (g.oracle && timeline) {
        fprintf(stderr, "leanbench: --timeline: not with --oracle (its candidates record none)\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)   /* several GPUs: kernels/mgpu.cu */
        if (!strcmp(argv[i], "--gpus") || !strncmp(argv[i], "--gpus=", 7)) return mgpu_main(argc, argv);
    static wl_opts o;
    wl_opts_init(&o);
    g.reps = 50;
    g.tl_launches = 1;
    g.warmup = 5;
    g.check = 1;
    g.graph_n = 20;
    const char *timeline = NULL;
    int n_wl = 0;
    if (parse_args(argc, argv, &o, &timeline, &g.reps, NULL, &n_wl)) { usage(stderr); return 2; }
    if (modes_check(n_wl, timeline)) return 2;
    if (g.sweep) {   /* every line parsed now: a bad one stops the run before any GPU work */
        int sets = 0;
        const int bad = attn_sweep_each(g.sweep, sweep_check, &sets);
        if (bad < 0) { fprintf(stderr, "leanbench: --sweep %s: cannot open\n", g.sweep); return 2; }
        if (bad) { fprintf(stderr, "leanbench: --sweep %s: %d bad line%s; nothing run\n", g.sweep, bad, bad > 1 ? "s" : ""); return 2; }
        if (!sets) { fprintf(stderr, "leanbench: --sweep %s: no option sets\n", g.sweep); return 2; }
    }
    if (!g.check)
        fprintf(stderr, "leanbench: --no-check: configurations are timed WITHOUT checking them against the CPU "
                "reference (rows say max_err=unchecked); for profiling only\n");
    if (g.csv && csv_header()) {   /* rows of another column set would be misread */
        FILE *f = fopen(g.csv, "r");
        char h[4096] = "";
        if (f && fgets(h, sizeof h, f) && (h[strcspn(h, "\r\n")] = 0, strcmp(h, csv_header()) != 0)) {
            fprintf(stderr, "--csv %s: its header is not %s: not appended to\n", g.csv,
                    g.occupancy ? "--occupancy's" : g.sm_bandwidth ? "--sm-bandwidth's" : "the runner's (sim/runcsv.h)");
            return 2;
        }
        if (f) fclose(f);
    }
    const int dev = 0;
    CUDA_CHECK(cudaSetDevice(dev));
    CUDA_CHECK(cudaFree(0));
    facts_init(dev);
    if (g.sms_req > 0) {
        green_init(dev, g.sms_req);
    } else {
        g.sms = g.prop.multiProcessorCount;
        CUDA_CHECK(cudaStreamCreateWithFlags(&g.stream, cudaStreamNonBlocking));
    }
    if (g.occupancy) {
        occupancy_table();
        return 0;
    }
    g.scratch_bytes = (size_t)g.prop.l2CacheSize * 3;
    CUDA_CHECK(cudaMalloc(&g.scratch, g.scratch_bytes));
    CUDA_CHECK(cudaMemset(g.scratch, 1, g.scratch_bytes));

    {   /* the machine's copy ceiling, for comparing runs across machines */
        const size_t n = (size_t)1 << 31;
        void *a = NULL, *b = NULL;
        if (cudaMalloc(&a, n) == cudaSuccess && cudaMalloc(&b, n) == cudaSuccess) {
            CUDA_CHECK(cudaMemsetAsync(a, 1, n, g.stream));
            const double ms = event_median_ms(
                5, [] {}, [&] { CUDA_CHECK(cudaMemcpyAsync(b, a, n, cudaMemcpyDeviceToDevice, g.stream)); });
            fprintf(stderr, "leanbench: %s, %d SMs: device-to-device copy of 2 GiB: %.0f GB/s (read + write)\n",
                    g.prop.name, g.sms, 2.0 * n / (ms * 1e-3) / 1e9);
            if (g.read_ceiling) read_ceiling(a, n);
            if (g.sm_bandwidth) sm_bandwidth(a, n);
        }
        cudaFree(a); cudaFree(b);
        cudaGetLastError();
    }

    if (g.read_ceiling || g.sm_bandwidth) return 0;
    if (!g.no_arena) {   /* every configuration's KV sets from one place (attn_arena_init) */
        size_t free_b = 0, total_b = 0;
        CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
        const size_t keep = (size_t)2 << 30;   /* plans, partials, q/o, timelines */
        if (free_b <= keep || attn_arena_init(free_b - keep))
            fprintf(stderr, "leanbench: no KV arena (%.1f GB free); KV sets are allocated per configuration\n",
                    free_b / 1e9);
    }
    if (!g.sweep) {
        const int rc = run_all(&o, timeline, g.reps);
        kv_release();
        return check_summary(rc);
    }

    const int fails = attn_sweep_each(g.sweep, sweep_set, NULL);
    kv_release();
    if (fails < 0) { fprintf(stderr, "leanbench: --sweep %s: cannot open\n", g.sweep); return 2; }
    fprintf(stderr, "leanbench: sweep done, %d lines with failures\n", fails);
    return check_summary(fails);
}
