#!/bin/sh
# cli_sweep.sh: leansim predict, sweep and ingest from the command line:
# bad input names file, line and text, exits 2 and leaves the database
# untouched; re-runs add nothing; two sweeps at once both succeed; 10,000
# configurations x both engines finish in under 10 s.
L=${LEANSIM:-build/leansim}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $2"; fi; }
rows() { sqlite3 "$1" "$2" 2>/dev/null; }

# predict: same columns as simulate, engine model
$L predict --ctx 32k --format csv > "$T/p.csv"; rc=$?
ok "predict runs" "[ $rc -eq 0 ]"
ok "predict rows" "[ \$(grep -c '^model,' $T/p.csv) -eq 5 ]"
ok "predict header = simulate header" "[ \"\$(head -1 $T/p.csv)\" = \"\$($L simulate --ctx 32k --format csv | head -1)\" ]"
$L predict --ctx 0 2>"$T/e"; rc=$?
ok "predict bad ctx exit 2" "[ $rc -eq 2 ] && grep -q -- '--ctx' $T/e"

# sweep files
cat > "$T/s.exp" <<'X'
# small
gpus = h100, a100
ctx = 1k..64k *4
batch = 1, 8
kv_heads = 32, 8
schedules = all
engines = sim, model
X
$L sweep "$T/s.exp" --db "$T/r.db" > "$T/o"; rc=$?
ok "sweep runs" "[ $rc -eq 0 ]"
n1=$(rows "$T/r.db" "select count(*) from predictions")
ok "sweep rows" "[ '$n1' = 320 ]"
$L sweep "$T/s.exp" --db "$T/r.db" > "$T/o"; rc=$?
n2=$(rows "$T/r.db" "select count(*) from predictions")
ok "re-run adds nothing" "[ $rc -eq 0 ] && [ '$n2' = 320 ] && grep -q '0 added' $T/o"
ok "runs carry provenance" "[ \$(rows $T/r.db \"select count(*) from runs where git_commit != '' and spec_hash != ''\") -ge 2 ]"
ok "sim and model rows" "[ \$(rows $T/r.db \"select count(distinct engine) from predictions\") -eq 2 ]"

for bad in "ctx = 1k..64k" "foo = 1" "batch = 0" "schedules = fa3" "head_dim = 96" "ctx = 1k, x" "gpus = nosuchgpu" "engines = gpu" "no equals"; do
  printf 'batch = 1\n%s\n' "$bad" > "$T/bad.exp"
  $L sweep "$T/bad.exp" --db "$T/bad.db" 2> "$T/e"; rc=$?
  if [ "$bad" = "gpus = nosuchgpu" ]; then pat="nosuchgpu"; else pat="bad.exp:2:.*>>> '$bad'"; fi
  ok "bad sweep '$bad' exit 2" "[ $rc -eq 2 ]"
  ok "bad sweep '$bad' message" "grep -q \"$pat\" $T/e"
  ok "bad sweep '$bad' no db" "[ ! -e $T/bad.db ]"
done

# a resumed sweep: rows of a first part are kept, the rest added
printf 'gpus = h100\nctx = 1k..16k *2\nschedules = fa2\nengines = model\n' > "$T/a.exp"
printf 'gpus = h100\nctx = 1k..64k *2\nschedules = fa2\nengines = model\n' > "$T/b.exp"
$L sweep "$T/a.exp" --db "$T/c.db" > /dev/null
$L sweep "$T/b.exp" --db "$T/c.db" > "$T/o"
ok "resume adds the missing rows" "grep -q '2 added, 5 already present' $T/o"

# two sweeps at once on one database
printf 'gpus = h100\nctx = 1k..512k *2\nbatch = 1..16 +1\nengines = sim, model\n' > "$T/x.exp"
printf 'gpus = a100\nctx = 1k..512k *2\nbatch = 1..16 +1\nengines = sim, model\n' > "$T/y.exp"
$L sweep "$T/x.exp" --db "$T/w.db" > "$T/ox" 2>&1 & p1=$!
$L sweep "$T/y.exp" --db "$T/w.db" > "$T/oy" 2>&1 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
ok "concurrent sweeps succeed" "[ $r1 -eq 0 ] && [ $r2 -eq 0 ]"
ok "concurrent sweeps all rows" "[ \$(rows $T/w.db 'select count(*) from predictions') -eq 3200 ]"

# speed: 10,000 configurations x both engines
printf 'gpus = h100\nctx = 1k..512k *2\nbatch = 1..50 +1\nkv_heads = 32, 8\nhead_dim = 64, 128\nengines = sim, model\n' > "$T/big.exp"
s0=$(date +%s.%N)
$L sweep "$T/big.exp" --db "$T/big.db" > "$T/o"; rc=$?
s1=$(date +%s.%N)
secs=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.3f", b - a }')
echo "# sweep of 10000 configurations x 2 engines: $secs s ($(cat $T/o))"
ok "big sweep 20000 rows" "[ $rc -eq 0 ] && [ \$(rows $T/big.db 'select count(*) from predictions') -eq 20000 ]"

# ingest
# the runner's CSV format 1 (sim/runcsv.h: the columns of X(name, 1)); the rows below are of that format
H=$(sed -n 's/^ *X(\([a-z_0-9]*\), *1) *\\\{0,1\}$/\1/p' sim/runcsv.h | paste -sd, -)
{
  echo "$H"
  echo "h100,132,580.159.04,1980,2619,12.8,abc123,2026-11-20,split,1,32,32,128,fp16,32768,128,224,7,2,50,190.5,189.0,192.2,185.1,536870912,2818.3,0.0005"
  echo "h100,132,580.159.04,1980,2619,12.8,abc123,2026-11-20,torch-flash,2,32,8,128,fp16,1024;4096,0,0,0,0,50,40.5,40.0,41.2,0,0,0,0.001"
} > "$T/m.csv"
$L ingest "$T/m.csv" --db "$T/r.db" > "$T/o"; rc=$?
ok "ingest runs" "[ $rc -eq 0 ] && [ \$(rows $T/r.db 'select count(*) from measurements') -eq 2 ]"
$L ingest "$T/m.csv" --db "$T/r.db" > "$T/o"; rc=$?
ok "re-ingest adds nothing" "[ $rc -eq 0 ] && [ \$(rows $T/r.db 'select count(*) from measurements') -eq 2 ] && grep -q ' 0 rows added' $T/o"
nruns=$(rows "$T/r.db" "select count(*) from runs")
for badline in \
  "h100,132,580,1980,2619,12.8,abc,2026,split,0,32,32,128,fp16,32768,128,224,7,2,50,190.5,189.0,192.2,185.1,5,2818.3,0.0005|batch" \
  "h100,132,580,1980,2619,12.8,abc,2026,split,1,32,5,128,fp16,32768,128,224,7,2,50,190.5,189.0,192.2,185.1,5,2818.3,0.0005|kv_heads" \
  "h100,132,580,1980,2619,12.8,abc,2026,split,1,32,32,128,fp16,32x,128,224,7,2,50,190.5,189.0,192.2,185.1,5,2818.3,0.0005|ctx" \
  "h100,132,580,1980,2619,12.8,abc,2026,split,1,32,32,128,fp16,32768,128,224,7,2,50,-1,189.0,192.2,185.1,5,2818.3,0.0005|time_us" \
  "h100,132,580,1980,2619,12.8,abc,2026,split,1,32,32,128,fp16,32768,128,224,7,2,50,190.5|columns" \
  "h100,132,580,1980,2619,12.8,abc,2026,split,1,32,32,128,fp99,32768,128,224,7,2,50,190.5,189.0,192.2,185.1,5,2818.3,0.0005|dtype"; do
  line=${badline%|*}; what=${badline##*|}
  { echo "$H"; echo "h100,132,580,1980,2619,12.8,abc,2026,fa2,1,32,32,128,fp16,4096,128,32,0,2,50,100,99,101,0,5,1,0"; echo "$line"; } > "$T/bad.csv"
  $L ingest "$T/bad.csv" --db "$T/r.db" 2> "$T/e"; rc=$?
  ok "bad csv ($what) exit 2" "[ $rc -eq 2 ]"
  ok "bad csv ($what) names line" "grep -q 'bad.csv:3: .*$what' $T/e"
  ok "bad csv ($what) stores nothing" "[ \$(rows $T/r.db 'select count(*) from measurements') -eq 2 ] && [ \$(rows $T/r.db 'select count(*) from runs') -eq $nruns ]"
done
{ echo "gpu,sms"; } > "$T/h.csv"
$L ingest "$T/h.csv" --db "$T/h.db" 2> "$T/e"; rc=$?
ok "bad header exit 2, no db" "[ $rc -eq 2 ] && grep -q 'h.csv:1: header' $T/e && [ ! -e $T/h.db ]"

# ingest: a cut last line, a NUL byte: refused, named; repeats and unknown GPUs: said
H=$(head -1 experiments/data/h100-20261121-sweep-v4.csv)
R='NVIDIA H100 80GB HBM3,132,580,1980,2619,13.0,abc,2026,fa2,1,32,32,128,fp16,4096,128,32,0,3,10,50,49,51,0,1,1,0.00'
printf '%s\n%s' "$H" "$R" > "$T/cut.csv"
$L ingest "$T/cut.csv" --db "$T/i.db" > /dev/null 2> "$T/e"; rc=$?
ok "cut last line refused" "[ $rc -eq 2 ] && grep -q 'cut.csv:2: the last line has no end of line' $T/e"
printf '%s\nx\0y\n' "$H" > "$T/nul.csv"
$L ingest "$T/nul.csv" --db "$T/i.db" > /dev/null 2> "$T/e"; rc=$?
ok "NUL byte refused" "[ $rc -eq 2 ] && grep -q 'nul.csv:2: a NUL byte' $T/e"
printf '%s\n%s\n%s\n' "$H" "$R" "$(echo "$R" | sed 's/,50,49,51,/,60,59,61,/')" > "$T/rep.csv"
$L ingest "$T/rep.csv" --db "$T/i.db" > /dev/null 2> "$T/e"; rc=$?
ok "repeated configuration said" "[ $rc -eq 0 ] && grep -q '1 rows repeat a configuration stored before them (first at line 3)' $T/e"
printf '%s\n%s\n' "$H" "$(echo "$R" | sed 's/NVIDIA H100 80GB HBM3/NVIDIA GH200 480GB/')" > "$T/gh.csv"
$L ingest "$T/gh.csv" --db "$T/i.db" > /dev/null 2> "$T/e"; rc=$?
ok "unknown GPU named" "[ $rc -eq 0 ] && grep -q \"GPU 'NVIDIA GH200 480GB' maps to no spec\" $T/e"

# a SQLite file of another application is not changed; report reads a database without writing to it
sqlite3 "$T/foreign.db" "create table t(x); insert into t values (1);"
$L ingest experiments/data/h100-20261121-sms-v4.csv --db "$T/foreign.db" > /dev/null 2> "$T/e"; rc=$?
ok "foreign SQLite file refused, unchanged" "[ $rc -eq 2 ] && grep -q 'none of leansim' $T/e && [ \"\$(sqlite3 $T/foreign.db 'pragma journal_mode')\" = delete ] && [ \$(sqlite3 $T/foreign.db \"select count(*) from sqlite_master\") -eq 1 ]"
$L report --db "$T/foreign.db" > /dev/null 2> "$T/e"; rc=$?
ok "report on a foreign file: exit 2, one --db" "[ $rc -eq 2 ] && grep -q 'not a leansim results database' $T/e && [ \$(grep -o -- '--db' $T/e | wc -l) -eq 1 ]"

# sweep ranges cannot overflow, and a sweep's size is capped before it runs
printf 'gpus = h100\nctx = 1..8m +9223372036854775807\nschedules = fa2\nengines = sim\n' > "$T/ov.exp"
$L sweep "$T/ov.exp" --db "$T/ov.db" > /dev/null 2>&1; rc=$?
ok "range step at INT64_MAX: one value, no overflow" "[ $rc -eq 0 ] && [ \$(sqlite3 $T/ov.db 'select count(*) from predictions') -eq 1 ]"
printf 'gpus = h100\nctx = 1..4096 +1\nbatch = 1..1024 +1\nheads = 1..64 +1\nhead_dim = 64, 128, 256\n' > "$T/huge.exp"
$L sweep "$T/huge.exp" --db "$T/huge.db" > /dev/null 2> "$T/e"; rc=$?
ok "a sweep of 8e9 rows refused before it runs" "[ $rc -eq 2 ] && grep -q 'more than 1e+09' $T/e && [ ! -e $T/huge.db ]"

# kernel profiles in a sweep: their rows under their names
printf 'gpus = h100\nkernels = leansim, torch-flash\nctx = 4k\nschedules = split, streamk\nengines = sim\n' > "$T/k.exp"
$L sweep "$T/k.exp" --db "$T/k.db" > /dev/null; rc=$?
ok "sweep with kernels" "[ $rc -eq 0 ] && [ \$(sqlite3 $T/k.db \"select count(*) from predictions where schedule in ('torch-flash', 'torch-flash:streamk', 'split', 'streamk')\") -eq 4 ]"

# a sweep whose every row is invalid says so and fails, before the database is made
printf 'gpus = h100\nctx = 4k\nheads = 32\nkv_heads = 5\nschedules = all\n' > "$T/bad.exp"
$L sweep "$T/bad.exp" --db "$T/bad.db" > /dev/null 2> "$T/e"; rc=$?
ok "all-invalid sweep exit 2, named" "[ $rc -eq 2 ] && grep -q 'bad.exp:4: kv_heads: 5 divides none of the heads (32)' $T/e && [ ! -e $T/bad.db ]"

# the README's H100-to-H200 example runs as written (an H100 calibration, the H200's bandwidth on top)
$L ingest experiments/data/h200-20261121-sweep-v4.csv --db "$T/x.db" > /dev/null
cp experiments/gpus/h100.gpu "$T/h100-cal.gpu"
$L validate --db "$T/x.db" --gpu h200 --spec "$T/h100-cal.gpu" --set mem_bw_achievable_gbps=4400 > /dev/null 2> "$T/e"; rc=$?
ok "README's H100-to-H200 validate example" "[ $rc -eq 0 ]"
$L report --db "$T/x.db" --gpu h200 --spec "$T/h100-cal.gpu" --set mem_bw_achievable_gbps=4400 > "$T/r" 2> "$T/e"; rc=$?
ok "README's H100-to-H200 report example" "[ $rc -eq 0 ] && grep -q '^h200 .*streamk' $T/r"

# sharded four ways and merged = unsharded, row for row; --jobs 2 = unsharded; merging twice adds nothing
printf 'gpus = h100, a100\nctx = 1k, 64k, 512k\nbatch = 1, 7\nkv_heads = 32, 8\nschedules = all\nsplits = 1, 3\nengines = sim, model\n' > "$T/sh.exp"
$L sweep "$T/sh.exp" --db "$T/whole.db" > /dev/null
for i in 0 1 2 3; do $L sweep "$T/sh.exp" --db "$T/sh$i.db" --shard $i/4 > "$T/sh$i.out" || echo "shard $i failed"; done
ok "shards are disjoint, one quarter each" "[ \$(cat $T/sh0.out $T/sh1.out $T/sh2.out $T/sh3.out | grep -c 'of 4): ') -eq 4 ]"
$L merge "$T/sh0.db" "$T/sh1.db" "$T/sh2.db" "$T/sh3.db" --into "$T/merged.db" > "$T/mg" 2>&1; rc=$?
ok "merge runs" "[ $rc -eq 0 ] && [ \$(wc -l < $T/mg) -eq 4 ]"
Q="select gpu, spec_hash, engine, schedule, batch, heads, kv_heads, head_dim, dtype, ctx, req_block_n, req_splits, req_grid, req_cps, block_n, ctas, splits, ctas_per_sm, time_us, main_us, combine_us, hbm_bytes from predictions order by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14"
rows "$T/whole.db" "$Q" > "$T/q.whole"
rows "$T/merged.db" "$Q" > "$T/q.merged"
ok "four shards merged = the whole sweep, row for row" "[ -s $T/q.whole ] && cmp -s $T/q.whole $T/q.merged"
ok "each shard's run kept" "[ \$(rows $T/merged.db \"select count(*) from runs where args like '%shard %/4)'\") -eq 8 ]"
$L merge "$T/sh0.db" "$T/sh3.db" --into "$T/merged.db" > "$T/mg2" 2>&1
ok "merging again adds nothing" "[ \$(grep -c ': 0 runs, 0 predictions, 0 measurements' $T/mg2) -eq 2 ] && [ \$(rows $T/merged.db 'select count(*) from runs') -eq 8 ]"
$L sweep "$T/sh.exp" --db "$T/jobs.db" --jobs 2 > "$T/jb" 2>&1; rc=$?
rows "$T/jobs.db" "$Q" > "$T/q.jobs"
ok "--jobs 2 = the whole sweep" "[ $rc -eq 0 ] && grep -q 'in 2 processes' $T/jb && cmp -s $T/q.whole $T/q.jobs"
$L sweep "$T/sh.exp" --db "$T/jobs.db" --jobs 2 > "$T/jb" 2>&1
ok "--jobs 2 re-run adds nothing" "grep -q ': 0 added' $T/jb"
$L sweep "$T/sh.exp" --shard 4/4 > /dev/null 2> "$T/e"; rc=$?
ok "--shard 4/4 refused" "[ $rc -eq 2 ] && grep -q -- '--shard 4/4' $T/e"
$L sweep "$T/sh.exp" --jobs 0 > /dev/null 2> "$T/e"; rc=$?
ok "--jobs 0 refused" "[ $rc -eq 2 ] && grep -q -- '--jobs 0' $T/e"
$L merge "$T/nosuch.db" --into "$T/m2.db" > /dev/null 2> "$T/e"; rc=$?
ok "merge of a missing file: exit 2, named, nothing created" "[ $rc -eq 2 ] && grep -q nosuch.db $T/e && [ ! -e $T/m2.db ]"
$L merge "$T/merged.db" --into "$T/merged.db" > /dev/null 2> "$T/e"; rc=$?
ok "merge into itself refused" "[ $rc -eq 2 ] && grep -q 'itself' $T/e"

$L merge "$T/missing.db" --into "$T/m2.db" > /dev/null 2> "$T/e"; rc=$?
ok "merge of a missing database: exit 2, named, nothing created" "[ $rc -eq 2 ] && grep -q 'missing.db: no such database' $T/e && [ ! -e $T/m2.db ]"

$L merge "$T/sh0.db" --into /nonexistent/dir/m.db > /dev/null 2> "$T/e"; rc=$?
ok "merge into an unwritable path names --into" "[ $rc -ne 0 ] && grep -q '^leansim merge: --into /nonexistent/dir/m.db' $T/e"
mkdir -p "$T/adir"
$L ingest "$T/adir" --db "$T/ad.db" > /dev/null 2> "$T/e"; rc=$?
ok "ingest of a directory: exit 2, said so" "[ $rc -eq 2 ] && grep -q 'not a file (a directory)' $T/e"

printf 'gpus = h100\nctx = 4k\nkernels = nosuch\n' > "$T/knone.exp"
$L sweep "$T/knone.exp" --db "$T/knone.db" > /dev/null 2> "$T/e"; rc=$?
ok "sweep with an unknown kernel: exit 2, named, no database made" "[ $rc -eq 2 ] && grep -q 'knone.exp:3: kernels: unknown kernel profile .nosuch. (known: ' $T/e && [ ! -e $T/knone.db ]"

echo "cli_sweep: $pass passed, $fail failed"
[ $fail -eq 0 ]
