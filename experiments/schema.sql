-- schema.sql: the leansim results database (SQLite).
--
-- Compiled into the binary (Makefile embeds experiments/*.sql) and applied by
-- every command that opens a database, so it must stay idempotent
-- (IF NOT EXISTS everywhere).  Data flows one way: sweeps and ingests add
-- rows here; reports and plots only read.  Times are in microseconds, sizes
-- in bytes, bandwidths in GB/s (1e9 bytes per second).

PRAGMA foreign_keys = ON;

-- One row per command that wrote rows: provenance of everything else.
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY,
    command     TEXT NOT NULL,            -- sweep, ingest, calibrate
    args        TEXT NOT NULL,            -- sweep or CSV file given
    git_commit  TEXT NOT NULL,            -- leansim's commit at build time
    version     TEXT NOT NULL,            -- leansim version
    started_at  TEXT NOT NULL,            -- UTC, ISO 8601
    host        TEXT NOT NULL,            -- machine it ran on
    spec_source TEXT,                     -- GPU spec file (builtin:NAME or a path)
    spec_hash   TEXT                      -- FNV-1a of the spec text, hex
);

-- One row per configuration x engine x GPU spec.  The UNIQUE key is the
-- configuration as asked (0 = "the planner chooses") plus the engine and the
-- spec hash, so re-running a sweep adds nothing and a changed spec adds new
-- rows next to the old ones.
CREATE TABLE IF NOT EXISTS predictions (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    engine      TEXT NOT NULL,            -- sim | model
    gpu         TEXT NOT NULL,            -- spec name
    spec_hash   TEXT NOT NULL,            -- hex; includes an sms override
    sms         INTEGER NOT NULL,         -- SMs of the spec used
    schedule    TEXT NOT NULL,            -- fa2 split streamk hybrid balanced
    batch       INTEGER NOT NULL,
    heads       INTEGER NOT NULL,
    kv_heads    INTEGER NOT NULL,
    head_dim    INTEGER NOT NULL,
    dtype       TEXT NOT NULL,
    ctx         TEXT NOT NULL,            -- tokens, or ';'-separated per request
    ctx_tokens  INTEGER NOT NULL,         -- longest request (for ordering and plots)
    req_block_n INTEGER NOT NULL,         -- asked (0: default)
    req_splits  INTEGER NOT NULL,
    req_grid    INTEGER NOT NULL,
    req_cps     INTEGER NOT NULL,
    block_n     INTEGER NOT NULL,         -- as planned
    ctas        INTEGER NOT NULL,
    splits      INTEGER NOT NULL,
    ctas_per_sm INTEGER NOT NULL,
    waves       REAL NOT NULL,
    sm_busy     REAL NOT NULL,
    time_us     REAL NOT NULL,
    main_us     REAL NOT NULL,
    combine_us  REAL NOT NULL,
    hbm_bytes   REAL NOT NULL,
    kv_bytes    REAL NOT NULL,
    bw_gbps     REAL NOT NULL,
    sol_us      REAL NOT NULL,
    UNIQUE (gpu, spec_hash, engine, schedule, batch, heads, kv_heads, head_dim, dtype, ctx,
            req_block_n, req_splits, req_grid, req_cps)
);
-- report / figures: speedup vs context per GPU and engine; tuner: ctx x batch
CREATE INDEX IF NOT EXISTS predictions_fig ON predictions (gpu, engine, schedule, ctx_tokens, batch);
CREATE INDEX IF NOT EXISTS predictions_run ON predictions (run_id);

-- One row per line of a kernel runner CSV (kernels/ leanbench), columns as
-- in its header (sim/runcsv.h).  schedule may also name a peer library
-- (torch-flash, ...).  The columns after max_err came with the runner's CSV
-- format 2: rows of older files, and of databases made before them (store.c
-- migrates those in place when it opens them), hold NULL there: not
-- recorded, unknown.  The key is the unique index measurements_key below.
CREATE TABLE IF NOT EXISTS measurements (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    gpu          TEXT NOT NULL,
    sms          INTEGER NOT NULL,
    driver       TEXT NOT NULL,
    sm_clock_mhz REAL NOT NULL,
    mem_clock_mhz REAL NOT NULL,
    nvcc         TEXT NOT NULL,
    git_commit   TEXT NOT NULL,           -- the runner's commit
    date         TEXT NOT NULL,
    schedule     TEXT NOT NULL,
    batch        INTEGER NOT NULL,
    heads        INTEGER NOT NULL,
    kv_heads     INTEGER NOT NULL,
    head_dim     INTEGER NOT NULL,
    dtype        TEXT NOT NULL,
    ctx          TEXT NOT NULL,           -- tokens, or ';'-separated per request
    ctx_tokens   INTEGER NOT NULL,        -- longest request
    block_n      INTEGER NOT NULL,        -- as planned; 0 for peer libraries (no plan)
    ctas         INTEGER NOT NULL,        -- as planned: CTAs of the main kernel
    splits       INTEGER NOT NULL,        -- as planned
    ctas_per_sm  INTEGER NOT NULL,        -- resident CTAs per SM of the kernel (its occupancy)
    reps         INTEGER NOT NULL,
    time_us      REAL NOT NULL,           -- median
    time_p10_us  REAL NOT NULL,
    time_p90_us  REAL NOT NULL,
    graph_us     REAL NOT NULL,           -- CUDA graph replay, 0 if not run
    kv_bytes     REAL NOT NULL,
    bw_gbps      REAL NOT NULL,
    max_err      REAL NOT NULL,           -- vs the CPU reference; -1: not checked
    req_block_n  INTEGER,                 -- plan options asked (0: the planner's default rule)
    req_splits   INTEGER,
    req_grid     INTEGER,
    req_cps      INTEGER,
    plan_cps     INTEGER,                 -- CTAs per SM the plan assumed
    l2pf         INTEGER,                 -- knobs: L2 prefetch hint used (0/1)
    pdl          INTEGER,                 -- combine kernel as a programmatic dependent launch (0/1)
    rows_cap     INTEGER,                 -- smallest kernel row capacity forced (0: the planner's)
    arena        INTEGER,                 -- KV carved from one arena (0/1)
    build        TEXT                     -- the kernels' build switches, key=value;...
);
-- NULL (unknown) is one value here, so a re-ingest of an old file adds nothing
CREATE UNIQUE INDEX IF NOT EXISTS measurements_key ON measurements (
    gpu, sms, driver, git_commit, date, schedule, batch, heads, kv_heads, head_dim, dtype, ctx, block_n, ctas, splits,
    ctas_per_sm, ifnull(req_block_n, -1), ifnull(req_splits, -1), ifnull(req_grid, -1), ifnull(req_cps, -1),
    ifnull(plan_cps, -1), ifnull(l2pf, -1), ifnull(pdl, -1), ifnull(rows_cap, -1), ifnull(arena, -1),
    ifnull(build, ''));
CREATE INDEX IF NOT EXISTS measurements_fig ON measurements (gpu, schedule, ctx_tokens, batch);

-- Which predictions validate made for which measured row: the time it
-- compared (CUDA-graph replay for outside kernels, the per-call median for
-- leansim's) and the prediction of each engine.
CREATE TABLE IF NOT EXISTS pairings (
    measurement_id INTEGER NOT NULL REFERENCES measurements(id),
    prediction_id  INTEGER NOT NULL REFERENCES predictions(id),
    measured_us    REAL NOT NULL,
    UNIQUE (measurement_id, prediction_id)
);

-- Each measured row beside its predictions: "error per GPU" is one SELECT,
--   SELECT gpu, engine, AVG(ABS(rel_err)) FROM measured_vs_predicted
--   WHERE sms = full_sms GROUP BY gpu, engine;
-- rows stay in measurement order; order by ctx_tokens for plots.
CREATE VIEW IF NOT EXISTS measured_vs_predicted AS
SELECT m.id AS measurement_id, p.id AS prediction_id, p.gpu AS gpu, m.gpu AS device, m.sms AS sms,
       (SELECT MAX(q.sms) FROM measurements q WHERE q.gpu = m.gpu) AS full_sms,
       m.git_commit AS kernel_commit, m.schedule AS schedule, p.engine AS engine, p.spec_hash AS spec_hash,
       m.batch AS batch, m.heads AS heads, m.kv_heads AS kv_heads, m.head_dim AS head_dim, m.dtype AS dtype,
       m.ctx AS ctx, m.ctx_tokens AS ctx_tokens, m.block_n AS block_n, m.ctas AS ctas, m.splits AS splits,
       m.ctas_per_sm AS ctas_per_sm, x.measured_us AS measured_us, p.time_us AS predicted_us,
       p.time_us / x.measured_us - 1 AS rel_err
FROM pairings x JOIN measurements m ON m.id = x.measurement_id JOIN predictions p ON p.id = x.prediction_id;
