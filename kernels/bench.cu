/*
 * bench.cu: buffers, CPU-reference plumbing and output comparison shared by
 * the runner (leanbench) and the correctness suite (gputest).
 */
#include "attn.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <thread>
#include <vector>

static struct {
    unsigned char *base;
    size_t bytes;
} arena;

int attn_arena_init(size_t bytes)
{
    attn_arena_free();
    if (cudaMalloc((void **)&arena.base, bytes) != cudaSuccess) {
        cudaGetLastError();
        arena.base = NULL;
        return -1;
    }
    arena.bytes = bytes;
    return 0;
}

/* Bytes of one K (or V) set of w in the arena: 64 KB aligned. */
static size_t arena_set_bytes(const workload *w)
{
    return ((size_t)attn_kv_elems(w) * 2 + 65535) / 65536 * 65536;
}

int attn_arena_holds(const workload *w, int n_kv)
{
    return arena.base && 2 * (size_t)n_kv * arena_set_bytes(w) <= arena.bytes;
}

void attn_arena_free(void)
{
    cudaFree(arena.base);
    arena.base = NULL;
    arena.bytes = 0;
}

int attn_bufs_alloc(attn_bufs *b, const workload *w, int n_kv, uint64_t seed, cudaStream_t s)
{
    memset(b, 0, sizeof *b);
    b->kv_elems = attn_kv_elems(w);
    b->qo_elems = (int64_t)w->batch * w->heads * w->head_dim;
    if (n_kv < 1 || n_kv > 16) return -1;
    size_t qb = (size_t)b->qo_elems * 2, kb = (size_t)b->kv_elems * 2;
    if (cudaMalloc(&b->q, qb) != cudaSuccess || cudaMalloc(&b->o, qb) != cudaSuccess) goto fail;
    b->in_arena = attn_arena_holds(w, n_kv);
    if (b->in_arena) {
        const size_t kb_al = arena_set_bytes(w);
        for (int i = 0; i < n_kv; i++) {
            b->k[i] = arena.base + 2 * (size_t)i * kb_al;
            b->v[i] = arena.base + (2 * (size_t)i + 1) * kb_al;
        }
    }
    for (int i = 0; i < n_kv; i++) {
        if (!b->in_arena && (cudaMalloc(&b->k[i], kb) != cudaSuccess || cudaMalloc(&b->v[i], kb) != cudaSuccess))
            goto fail;
        b->n_kv = i + 1;
        attn_fill_random(b->k[i], b->kv_elems, w->dtype, seed * 1000003u + 2 * i + 1, 1.0f, s);
        attn_fill_random(b->v[i], b->kv_elems, w->dtype, seed * 1000003u + 2 * i + 2, 1.0f, s);
    }
    /* q spread wider than K so that softmax is not near-uniform */
    attn_fill_random(b->q, b->qo_elems, w->dtype, seed * 1000003u, 3.0f, s);
    CUDA_CHECK(cudaStreamSynchronize(s));
    return 0;
fail:
    cudaGetLastError();   /* clear the allocation error */
    attn_bufs_free(b);
    return -1;
}

void attn_bufs_free(attn_bufs *b)
{
    cudaFree(b->q);
    cudaFree(b->o);
    if (!b->in_arena)
        for (int i = 0; i < 16; i++) { cudaFree(b->k[i]); cudaFree(b->v[i]); }
    memset(b, 0, sizeof *b);
}

double *attn_ref_from_device(const workload *w, const attn_bufs *b, int set, int threads)
{
    return attn_ref_lse_from_device(w, b, set, threads, NULL);
}

/* n 16-bit elements of host memory, their pages faulted in by `threads`
 * threads at once: a copy from the device into fresh pageable memory
 * otherwise faults each page in on the copy's one thread, which for tens
 * of GB of KV took longer than the reference itself.  Exits 2 when the
 * host has no room. */
static uint16_t *host_touched(size_t n, int threads)
{
    uint16_t *p = (uint16_t *)malloc(n * sizeof(uint16_t) + 1);
    if (!p) { fprintf(stderr, "out of host memory for the reference\n"); exit(2); }
    if (threads < 1) threads = 1;
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++)
        ts.emplace_back([=]() {
            size_t a = n * t / threads, e = n * (t + 1) / threads;
            if (e > a) memset(p + a, 0, (e - a) * sizeof(uint16_t));
        });
    for (auto &t : ts) t.join();
    return p;
}

double *attn_ref_lse_from_device(const workload *w, const attn_bufs *b, int set, int threads, double **lse2)
{
    uint16_t *q = host_touched((size_t)b->qo_elems, threads), *k = host_touched((size_t)b->kv_elems, threads),
             *v = host_touched((size_t)b->kv_elems, threads);
    CUDA_CHECK(cudaMemcpy(q, b->q, (size_t)b->qo_elems * 2, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(k, b->k[set], (size_t)b->kv_elems * 2, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(v, b->v[set], (size_t)b->kv_elems * 2, cudaMemcpyDeviceToHost));
    double *o = (double *)malloc((size_t)b->qo_elems * sizeof(double));
    if (!o) { fprintf(stderr, "out of host memory for the reference\n"); exit(2); }
    double *lse = NULL;
    if (lse2) {
        lse = (double *)malloc((size_t)w->batch * w->heads * sizeof(double));
        if (!lse) { fprintf(stderr, "out of host memory for the reference\n"); exit(2); }
        *lse2 = lse;
    }
    attn_reference_lse(w, q, k, v, o, lse, 1, threads);
    free(q);
    free(k);
    free(v);
    return o;
}

double attn_tolerance(int dtype)
{
    return dtype == DTYPE_BF16 ? 1.6e-2 : 2e-3;
}

int64_t attn_compare(const workload *w, const void *o_dev, const double *ref, double tol,
                     double *err, int show, const char *label)
{
    const int64_t n = (int64_t)w->batch * w->heads * w->head_dim;
    std::vector<uint16_t> o((size_t)n);
    CUDA_CHECK(cudaMemcpy(o.data(), o_dev, (size_t)n * 2, cudaMemcpyDeviceToHost));
    double scale = 0;
    for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(ref[i]));
    if (scale < 1e-30) scale = 1;
    double worst = 0;
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        double x = attn_elem_to_float(o[(size_t)i], w->dtype);
        double e = fabs(x - ref[i]) / scale;
        if (!(e <= tol)) {   /* NaN lands here too */
            if (bad < show) {
                int64_t d = i % w->head_dim, h = (i / w->head_dim) % w->heads, r = i / w->head_dim / w->heads;
                fprintf(stderr, "  %s: mismatch at request %lld head %lld dim %lld: got %.6g want %.6g (err %.3g of scale %.3g)\n",
                        label, (long long)r, (long long)h, (long long)d, x, ref[i], e, scale);
            }
            bad++;
            e = isnan(e) ? INFINITY : e;
        }
        if (e > worst) worst = e;
    }
    *err = worst;
    return bad;
}

int64_t attn_compare_lse(const workload *w, const float *lse_dev, const double *ref2, double tol_log2,
                         double *err, int show, const char *label)
{
    const int64_t n = (int64_t)w->batch * w->heads;
    std::vector<float> l((size_t)n);
    CUDA_CHECK(cudaMemcpy(l.data(), lse_dev, (size_t)n * sizeof(float), cudaMemcpyDeviceToHost));
    double worst = 0;
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        const bool empty = l[(size_t)i] == -INFINITY && ref2[i] == -INFINITY;   /* both say: no token */
        double e = empty ? 0 : fabs((double)l[(size_t)i] - ref2[i]);
        if (!empty && (!isfinite(l[(size_t)i]) || !isfinite(ref2[i]) || !(e <= tol_log2))) {   /* NaN (unwritten) too */
            if (bad < show)
                fprintf(stderr, "  %s: lse mismatch at request %lld head %lld: got %.7g want %.7g (log2 units)\n", label,
                        (long long)(i / w->heads), (long long)(i % w->heads), (double)l[(size_t)i], ref2[i]);
            bad++;
            e = INFINITY;
        }
        if (e > worst) worst = e;
    }
    *err = worst;
    return bad;
}

/* Splits a sweep line into av[1..] (av[0] = "leanbench"); returns ac, or
 * -1 when it has more words than av holds. */
static int sweep_line(char *line, char **av, int max)
{
    char *hash = strchr(line, '#');
    if (hash) *hash = 0;
    int ac = 1;
    av[0] = (char *)"leanbench";
    for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
        if (ac == max) return -1;
        av[ac++] = t;
    }
    return ac;
}

int attn_sweep_each(const char *path, int (*fn)(void *arg, int ac, char **av, int line), void *arg)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[16384];
    int ln = 0, sum = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        if (!strchr(line, '\n') && !feof(f)) {   /* the rest would read as a line of its own */
            fprintf(stderr, "%s:%d: line longer than %d characters\n", path, ln, (int)sizeof line - 2);
            sum++;
            int c;
            while ((c = getc(f)) != EOF && c != '\n') {}
            continue;
        }
        char *av[256];
        int ac = sweep_line(line, av, 256);
        if (ac < 0) {
            fprintf(stderr, "%s:%d: more than 255 words\n", path, ln);
            sum++;
        } else if (ac > 1)
            sum += fn(arg, ac, av, ln);
    }
    if (ferror(f)) { fprintf(stderr, "%s: read error\n", path); sum++; }
    fclose(f);
    return sum;
}

static void env_or(char *dst, size_t n, const char *var, const char *fallback)
{
    const char *v = getenv(var);
    snprintf(dst, n, "%s", v && *v ? v : fallback);
}

void attn_provenance(char *commit, size_t nc, char *date, size_t nd, char *driver, size_t ndv)
{
    int v = 0;
    cudaDriverGetVersion(&v);
    char dv[32];
    snprintf(dv, sizeof dv, "cuda%d.%d", v / 1000, (v % 1000) / 10);
    env_or(driver, ndv, "LEANBENCH_DRIVER", dv);
    char c[64] = "unknown";
    FILE *p = popen("git rev-parse --short HEAD 2>/dev/null && { git diff --quiet HEAD -- 2>/dev/null || echo -dirty; }",
                    "r");
    if (p) {
        if (fgets(c, sizeof c, p)) c[strcspn(c, "\n")] = 0;
        char dirty[16];
        if (c[0] && fgets(dirty, sizeof dirty, p) && !strncmp(dirty, "-dirty", 6))
            strncat(c, "-dirty", sizeof c - strlen(c) - 1);
        pclose(p);
        if (!c[0]) strcpy(c, "unknown");
    }
    env_or(commit, nc, "LEANBENCH_COMMIT", c);
    time_t t = time(NULL);
    char d[32];
    strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    env_or(date, nd, "LEANBENCH_DATE", d);
}
