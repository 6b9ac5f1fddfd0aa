#!/bin/sh
# cli_runcsv.sh: the kernel runner's CSV columns are defined once
# (sim/runcsv.h) and every writer and the ingester use that list; rows of
# the current format carry the plan asked, the knobs and the build, are
# stored so, and validate rebuilds their plan from what was asked (never by
# the legacy search); a database made before those columns is migrated in
# place and still takes old files.
L=${LEANSIM:-build/leansim}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL cli_runcsv: $1: $2"; fi; }
rows() { sqlite3 "$1" "$2" 2>/dev/null; }

# --- one definition: runcsv.h's X(name, since) lines, as runcsv.py reads them
sed -n 's/^ *X(\([a-z_0-9]*\), *[0-9]*) *\\\{0,1\}$/\1/p' sim/runcsv.h | paste -sd, - > "$T/h.want"
H=$(cat "$T/h.want")
H1=$(sed -n 's/^ *X(\([a-z_0-9]*\), *1) *\\\{0,1\}$/\1/p' sim/runcsv.h | paste -sd, -)
ncol=$(tr ',' '\n' < "$T/h.want" | grep -c .)
ok "runcsv.h lists the columns" "[ $ncol -ge 30 ]"
: > "$T/empty.csv"
$L ingest "$T/empty.csv" --db "$T/e.db" 2> "$T/e"
ok "the ingester's header is runcsv.h's" "grep -qF \"expected the header '$H'\" $T/e"
if command -v python3 > /dev/null 2>&1; then
  python3 experiments/peers/runcsv.py > "$T/h.py"
  ok "the Python writers' header is runcsv.h's" "cmp -s $T/h.py $T/h.want"
  python3 - "$T/line.csv" <<'X'
import sys
sys.path.insert(0, "experiments/peers")
import runcsv
row = {c: "" for c in runcsv.COLUMNS}
ok = 0
try:
    runcsv.line(dict(row, extra=1))
except ValueError:
    ok += 1
try:
    runcsv.line({c: v for c, v in row.items() if c != "gpu"})
except ValueError:
    ok += 1
try:
    runcsv.line(dict(row, build="a,b"))
except ValueError:
    ok += 1
open(sys.argv[1], "w").write("%d\n" % ok)
X
  ok "runcsv.line refuses unknown, missing and comma-holding fields" "[ \"\$(cat $T/line.csv)\" = 3 ]"
else
  echo "# cli_runcsv: no python3: the Python side not checked"
fi
# no writer keeps a copy of the list (a stale copy is what this guards against)
grep -ln "ctas_per_sm,rep[s]" kernels/*.cu kernels/*.h kernels/*.sh experiments/peers/*.py sim/*.c model/*.c results/*.c cli/*.c tests/*.c tests/*.sh \
  2>/dev/null > "$T/copies"
ok "no copy of the header outside runcsv.h" "[ ! -s $T/copies ] || { cat $T/copies; false; }"
ok "leanbench writes runcsv.h's header" "grep -q 'RUNCSV_HEADER' kernels/leanbench.cu && grep -q '#include \"runcsv.h\"' kernels/leanbench.cu"
ok "sdpa_peer writes runcsv.py's header and rows" "grep -q 'runcsv.HEADER' experiments/peers/sdpa_peer.py && grep -q 'runcsv.line(' experiments/peers/sdpa_peer.py"
# leanbench's row: as many fields in its format as runcsv.h has columns
awk '/columns in the order of sim\/runcsv.h/ { on = 1; next } on && /fprintf\(f,/ { go = 1 }
     go { s = s $0 } go && /\\n"/ { print s; exit }' kernels/leanbench.cu |
  sed 's/.*fprintf(f, *//; s/\\n".*//' | tr -d '" ' | grep -o '%[-0-9.]*[a-z]' | grep -c . > "$T/nf"
ok "leanbench's row has $ncol fields" "[ \$(cat $T/nf) -eq $ncol ]"

# leanbench itself (where it was built; its options are parsed before the GPU is touched, so the
# toolkit's stub driver library lets it start here): it appends to no file of another column set
B=$(dirname "$L")/leanbench
STUB=${CUDA_HOME:-/usr/local/cuda}/lib64/stubs/libcuda.so
if [ -x "$B" ] && [ -f "$STUB" ]; then
  mkdir -p "$T/stub" && ln -sf "$STUB" "$T/stub/libcuda.so.1"
  printf '%s\n' "$H1" > "$T/old.csv"
  LD_LIBRARY_PATH="$T/stub" "$B" --ctx 4k --csv "$T/old.csv" > /dev/null 2> "$T/e"; rc=$?
  ok "leanbench refuses to append to a file of another column set" "[ $rc -eq 2 ] && grep -q 'old.csv: its header is not the runner' $T/e"
  ok "the file is left as it was" "[ \"\$(cat $T/old.csv)\" = \"$H1\" ]"
else
  echo "# cli_runcsv: no $B or no $STUB: leanbench's own check not run"
fi

# --- format 2 rows: stored with what was asked; validate rebuilds from it
pre="NVIDIA H100 80GB HBM3,132,580.95.05,1980,2619,12.8,1203a5b+k1,2026-11-28T10:00:00Z"
post="stages=4;chunk_bytes=8192;tma=0;l2pf_bytes=256;hostmerge_serial=1;mma=1;mma_min_rows=1;unroll1=0;merge_noinline=0"
{
  echo "$H"
  # schedule..ctx, block_n,ctas,splits,ctas_per_sm (resident), timing, req_*, plan_cps, l2pf,pdl,rows_cap,arena, build
  echo "$pre,streamk,1,32,32,128,fp16,65536,128,264,0,3,50,60.1,59.9,60.5,58.0,536870912,8932.0,0.0004,0,0,0,0,2,1,1,0,1,$post"
  echo "$pre,streamk,1,32,32,128,fp16,65536,128,132,0,3,50,70.1,69.9,70.5,68.0,536870912,7658.0,0.0004,0,0,132,0,2,1,1,0,1,$post"
  echo "$pre,split,1,32,32,128,fp16,65536,128,224,7,3,50,62.1,61.9,62.5,60.0,536870912,8645.0,0.0004,0,0,0,0,2,1,1,0,1,$post"
  echo "$pre,split,1,32,32,128,fp16,65536,128,128,4,3,50,75.1,74.9,75.5,73.0,536870912,7148.0,0.0004,0,4,0,0,2,0,1,0,1,$post"
  echo "$pre,fa2,1,32,32,128,fp16,65536,128,32,0,3,50,310.1,309.9,310.5,300.0,536870912,1731.0,unchecked,0,0,0,0,2,0,1,0,1,$post"
  echo "NVIDIA H100 80GB HBM3,132,580.95.05,1980,2619,torch2.11,1203a5b+k1,2026-11-28T10:00:00Z,torch-flash,1,32,32,128,fp16,65536,,,,,50,65.0,64.0,66.0,63.0,536870912,8260.0,,,,,,,,,,,"
} > "$T/v2.csv"
$L ingest "$T/v2.csv" --db "$T/v2.db" > "$T/o" 2> "$T/e"; rc=$?
ok "format 2 ingests" "[ $rc -eq 0 ] && grep -q ' 6 rows added' $T/o && ! grep -q 'format 1' $T/o"
ok "format 2: plan asked stored" "[ \"\$(rows $T/v2.db \"select req_grid, req_splits, plan_cps from measurements where schedule = 'streamk' order by id\" | paste -sd' ' -)\" = '0|0|2 132|0|2' ]"
ok "format 2: knobs and build stored" "[ \"\$(rows $T/v2.db \"select l2pf, pdl, rows_cap, arena, build from measurements where schedule = 'split' and splits = 4\")\" = '0|1|0|1|$post' ]"
ok "max_err unchecked: stored as -1" "[ \"\$(rows $T/v2.db \"select max_err from measurements where schedule = 'fa2'\")\" = -1.0 ]"
ok "format 2: a peer row leaves them unknown" "[ \"\$(rows $T/v2.db \"select count(*) from measurements where schedule = 'torch-flash' and req_grid is null and l2pf is null and build is null\")\" = 1 ]"
$L ingest "$T/v2.csv" --db "$T/v2.db" > "$T/o"
ok "format 2: re-ingest adds nothing" "grep -q ' 0 rows added' $T/o"
sed 's/,0,0,0,0,2,1,1,0,1,stages/,0,0,0,0,2,0,1,0,1,stages/' "$T/v2.csv" | sed -n '1p;2p' > "$T/knob.csv"
$L ingest "$T/knob.csv" --db "$T/v2.db" > "$T/o"
ok "format 2: the same plan under another knob is a row of its own" "grep -q ' 1 rows added' $T/o"
$L validate --db "$T/v2.db" > "$T/o" 2>&1; rc=$?
ok "validate: format 2 rows never take the legacy search" "[ $rc -eq 0 ] && grep -q '^validate: 0 rows without the plan options asked' $T/o"
ok "validate: every format 2 plan rebuilt from what was asked" "grep -q ' 0 plans not rebuilt' $T/o"
ok "validate: predictions keyed by what was asked" "[ \"\$(rows $T/v2.db \"select count(*) from predictions where schedule = 'streamk' and req_grid = 132 and ctas = 132\")\" = 2 ]"
# a row whose recorded plan is not what its options build: counted, not searched for
sed -n '1p;3p' "$T/v2.csv" | sed 's/,65536,128,132,0,3,/,65536,128,140,0,3,/; s/,70\.1,69\.9,70\.5,/,70.2,69.9,70.5,/' > "$T/mm.csv"
$L ingest "$T/mm.csv" --db "$T/v2.db" > /dev/null
$L validate --db "$T/v2.db" > "$T/o" 2>&1
ok "validate: a plan that does not rebuild is counted, not searched" "grep -q ' 1 plans not rebuilt' $T/o && grep -q '^validate: 0 rows without' $T/o"
# balanced at 1 CTA per SM: 128 CTAs today; 384 (every resident CTA) under the runner's earlier rule
{
  echo "$H"
  echo "$pre,balanced,1,32,32,128,fp16,65536,128,128,0,3,50,71.1,70.9,71.5,69.0,536870912,7550.0,0.0004,128,0,0,1,1,1,1,0,1,$post"
  echo "$pre,balanced,1,32,32,128,fp16,32768,128,384,0,3,50,41.1,40.9,41.5,39.0,268435456,6530.0,0.0004,128,0,0,1,1,1,1,0,1,$post"
} > "$T/bal.csv"
$L ingest "$T/bal.csv" --db "$T/bal.db" > /dev/null
$L validate --db "$T/bal.db" > "$T/o" 2>&1
ok "validate: balanced rows of the earlier wave rule rebuilt by it, today's directly" "grep -q ' 0 plans not rebuilt' $T/o && grep -q '^validate: 1 balanced rows measured while' $T/o"
# bad format 2 fields: named, exit 2
sed -n '1p;2p' "$T/v2.csv" | sed 's/,0,0,0,0,2,1,1,0,1,stages/,0,0,0,0,2,7,1,0,1,stages/' > "$T/bad.csv"
$L ingest "$T/bad.csv" --db "$T/bad.db" 2> "$T/e"; rc=$?
ok "bad l2pf: exit 2, named" "[ $rc -eq 2 ] && grep -q 'bad.csv:2: l2pf' $T/e"
sed -n '1p;2p' "$T/v2.csv" | sed 's/,0,0,0,0,2,1,1,0,1,stages.*$/,,0,0,0,2,1,1,0,1,x/' > "$T/bad.csv"
$L ingest "$T/bad.csv" --db "$T/bad.db" 2> "$T/e"; rc=$?
ok "empty req_block_n for a schedule of ours: exit 2, named" "[ $rc -eq 2 ] && grep -q 'bad.csv:2: req_block_n' $T/e"

# --- format 1 files and databases made before format 2
{
  echo "$H1"
  echo "NVIDIA H100 80GB HBM3,132,580,1980,2619,12.8,abc,2026-11-20,split,1,32,32,128,fp16,65536,128,224,7,3,50,62.1,61.9,62.5,60.0,536870912,8645.0,0.0004"
} > "$T/v1.csv"
cat > "$T/old.sql" <<'X'
CREATE TABLE runs (id INTEGER PRIMARY KEY, command TEXT NOT NULL, args TEXT NOT NULL, git_commit TEXT NOT NULL,
    version TEXT NOT NULL, started_at TEXT NOT NULL, host TEXT NOT NULL, spec_source TEXT, spec_hash TEXT);
CREATE TABLE measurements (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), gpu TEXT NOT NULL,
    sms INTEGER NOT NULL, driver TEXT NOT NULL, sm_clock_mhz REAL NOT NULL, mem_clock_mhz REAL NOT NULL,
    nvcc TEXT NOT NULL, git_commit TEXT NOT NULL, date TEXT NOT NULL, schedule TEXT NOT NULL, batch INTEGER NOT NULL,
    heads INTEGER NOT NULL, kv_heads INTEGER NOT NULL, head_dim INTEGER NOT NULL, dtype TEXT NOT NULL,
    ctx TEXT NOT NULL, ctx_tokens INTEGER NOT NULL, block_n INTEGER NOT NULL, ctas INTEGER NOT NULL,
    splits INTEGER NOT NULL, ctas_per_sm INTEGER NOT NULL, reps INTEGER NOT NULL, time_us REAL NOT NULL,
    time_p10_us REAL NOT NULL, time_p90_us REAL NOT NULL, graph_us REAL NOT NULL, kv_bytes REAL NOT NULL,
    bw_gbps REAL NOT NULL, max_err REAL NOT NULL,
    UNIQUE (gpu, sms, driver, git_commit, date, schedule, batch, heads, kv_heads, head_dim, dtype, ctx, block_n,
            ctas, splits, ctas_per_sm));
CREATE TABLE pairings (measurement_id INTEGER NOT NULL REFERENCES measurements(id), prediction_id INTEGER NOT NULL,
    measured_us REAL NOT NULL, UNIQUE (measurement_id, prediction_id));
INSERT INTO runs VALUES (1, 'ingest', 'old.csv', 'abc', '0.1.0', '2026-11-21T00:00:00Z', 'h', NULL, NULL);
INSERT INTO measurements VALUES (7, 1, 'NVIDIA H100 80GB HBM3', 132, '580', 1980, 2619, '12.8', 'abc-pf0',
    '2026-11-21', 'streamk', 1, 32, 32, 128, 'fp16', '65536', 65536, 128, 264, 0, 3, 50, 60, 59, 61, 58, 5e8, 8900, 0);
X
# predictions: as today (format 2 did not change it)
sed -n '/^CREATE TABLE IF NOT EXISTS predictions/,/^);/p' experiments/schema.sql >> "$T/old.sql"
sqlite3 "$T/old.db" < "$T/old.sql"
$L ingest "$T/v1.csv" --db "$T/old.db" > "$T/o" 2> "$T/e"; rc=$?
ok "a database of before format 2 is migrated and takes a format 1 file" "[ $rc -eq 0 ] && grep -q ' 1 rows added' $T/o && grep -q 'format 1' $T/o"
ok "migration keeps the old rows, ids and all, unknown in the new columns" "[ \"\$(rows $T/old.db \"select id, git_commit, req_grid is null, l2pf is null, build is null from measurements order by id limit 1\")\" = '7|abc-pf0|1|1|1' ]"
ok "migration: the columns are the schema's" "[ \"\$(rows $T/old.db 'select name from pragma_table_info(\"measurements\")' | paste -sd, -)\" = \"\$(rows $T/v2.db 'select name from pragma_table_info(\"measurements\")' | paste -sd, -)\" ]"
ok "migration: foreign keys hold, view back" "[ -z \"\$(rows $T/old.db 'pragma foreign_key_check')\" ] && rows $T/old.db 'select count(*) from measured_vs_predicted' > /dev/null"
$L ingest "$T/v1.csv" --db "$T/old.db" > "$T/o"
ok "format 1: re-ingest adds nothing (unknown is one value in the key)" "grep -q ' 0 rows added' $T/o"
$L validate --db "$T/old.db" > "$T/o" 2>&1
ok "validate: format 1 rows take the legacy search, and it says how many" "grep -q '^validate: 2 rows without the plan options asked' $T/o"
sqlite3 "$T/old2.db" < "$T/old.sql"
$L merge "$T/old2.db" --into "$T/v2.db" > /dev/null 2> "$T/e"; rc=$?
ok "merge: a database of before format 2 merges into a new one" "[ $rc -eq 0 ] && [ \"\$(rows $T/v2.db \"select count(*) from measurements where git_commit = 'abc-pf0' and req_grid is null\")\" = 1 ]"

echo "cli_runcsv: $pass passed, $fail failed"
[ $fail -eq 0 ]
