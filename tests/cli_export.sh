#!/bin/sh
# cli_export.sh: `leansim export` and `leansim timeline` on bad input and
# failed writes: one line on stderr, exit 2 for bad input and 1 for a failed
# write, nothing on stdout, no file half-written or left behind; the options
# a figure takes change what it draws, the others are refused.
L=${LEANSIM:-build/leansim}
case "$L" in /*) ;; *) L=$(pwd)/$L ;; esac   # some cases run in another directory
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL cli_export: $*"; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# expect RC TEXT CMD...: exit status RC, TEXT in the one line on stderr, nothing on stdout
expect() {
  want=$1 text=$2; shift 2
  "$L" "$@" > "$T/o" 2> "$T/e"; rc=$?
  if [ $rc -eq "$want" ] && grep -qF -- "$text" "$T/e" && [ "$(wc -l < "$T/e")" -eq 1 ] && [ ! -s "$T/o" ]; then ok
  else bad "leansim $*: exit $rc (want $want), stderr '$(head -2 "$T/e")', want '$text'$( [ -s "$T/o" ] && echo ', stdout not empty')"; fi
}
# no temporary file (NAME.tmpXXXXXX) under DIR
no_tmp() {
  if [ -z "$(find "$1" -name '*.tmp*' 2>/dev/null)" ]; then ok; else bad "$2: temporary files left: $(find "$1" -name '*.tmp*')"; fi
}
"$L" ingest experiments/data/h100-20261121-sweep-v4.csv --db "$T/v.db" > /dev/null 2>&1 &&
  "$L" validate --db "$T/v.db" > /dev/null || bad "cannot make the test database"
TL=traces/measured/h100-split-b1h32-64k-v4.csv

# timeline: the trace never replaces its input
cp "$TL" "$T/same.csv"
expect 2 "--trace $T/same.csv: is the input file" timeline "$T/same.csv" --trace "$T/same.csv"
cmp -s "$TL" "$T/same.csv" && ok || bad "timeline --trace onto its input changed the input"
(cd "$T" && "$L" timeline same.csv --trace ./same.csv > /dev/null 2>&1); [ $? -eq 2 ] && cmp -s "$TL" "$T/same.csv" && ok ||
  bad "timeline --trace onto its input by another path changed the input"

# export: a data file that cannot be opened fails the figure (exit 1), and the
# files it had open are dropped, none left half-written
for fig in speedup whatif tuner scaling paper multigpu; do
  case $fig in
    speedup) f=speedup-h100-sim.dat ;; whatif) f=whatif.kinds ;; tuner) f=tuner-tics.gp ;;
    scaling) f=scaling-meas-fa2.dat ;; paper) f=paper-d128.dat ;; multigpu) f=multigpu-b200.dat ;;
  esac
  rm -rf "$T/wk"; mkdir -p "$T/wk/$f"
  expect 1 "$T/wk/$f: cannot open for writing: Is a directory" export $fig --db "$T/v.db" --out "$T/wk"
  no_tmp "$T/wk" "export $fig onto a directory"
done

# export: --spec, --set and --kernel change every figure that predicts, as validate applies them
for fig in speedup scaling timeline tuner whatif paper multigpu; do
  rm -rf "$T/a" "$T/b"
  "$L" export $fig --db "$T/v.db" --out "$T/a" --gpu h100 > /dev/null 2>&1
  "$L" export $fig --db "$T/v.db" --out "$T/b" --gpu h100 --set mem_bw_achievable_gbps=1500 > /dev/null 2> "$T/e"
  if [ -n "$(ls "$T/b" 2>/dev/null)" ] && ! diff -r "$T/a" "$T/b" > /dev/null; then ok
  else bad "export $fig --set mem_bw_achievable_gbps=1500 draws the same lines as without it: $(head -1 "$T/e")"; fi
done
cp experiments/gpus/h100.gpu "$T/slow.gpu"
sed -i 's/^mem_bw_achievable_gbps *=.*/mem_bw_achievable_gbps = 1500/' "$T/slow.gpu"
rm -rf "$T/a" "$T/b"; "$L" export tuner --db "$T/v.db" --out "$T/a" > /dev/null 2>&1
"$L" export tuner --db "$T/v.db" --out "$T/b" --spec "$T/slow.gpu" > /dev/null 2>&1
[ -f "$T/b/tuner.dat" ] && ! cmp -s "$T/a/tuner.dat" "$T/b/tuner.dat" && ok || bad "export tuner ignores --spec"
cp experiments/kernels/leansim.kernel "$T/own.kernel"
sed -i 's/^\(call_extra_us *= *\)[0-9.]*/\1 9/' "$T/own.kernel"
rm -rf "$T/a" "$T/b"; "$L" export speedup --db "$T/v.db" --out "$T/a" --gpu h100 > /dev/null 2>&1
"$L" export speedup --db "$T/v.db" --out "$T/b" --gpu h100 --kernel "$T/own.kernel" > /dev/null 2>&1
[ -f "$T/b/speedup-h100-sim.dat" ] && ! cmp -s "$T/a/speedup-h100-sim.dat" "$T/b/speedup-h100-sim.dat" && ok ||
  bad "export speedup ignores --kernel"
rm -rf "$T/a"; "$L" export whatif --db "$T/v.db" --out "$T/a" --gpu h200 > /dev/null 2>&1
[ "$(cat "$T/a/whatif.gpus" 2>/dev/null)" = h200 ] && [ "$(ls "$T/a" | grep -c '^whatif-')" -eq 1 ] && ok ||
  bad "export whatif --gpu h200 draws other GPUs: $(cat "$T/a/whatif.gpus" 2>/dev/null)"
rm -rf "$T/a"; "$L" export multigpu --db "$T/v.db" --out "$T/a" --gpu b200 > /dev/null 2>&1
[ "$(ls "$T/a" 2>/dev/null)" = multigpu-b200.dat ] && ok || bad "export multigpu --gpu b200 draws: $(ls "$T/a" 2>/dev/null)"
# options a figure cannot use are refused, naming the option and the figure, before anything is written
expect 2 "--gpu l40s: figure multigpu" export multigpu --db "$T/v.db" --out "$T/r1" --gpu l40s
expect 2 "--gpu a100: figure cdf" export cdf --db "$T/v.db" --out "$T/r1" --gpu a100
expect 2 "--spec $T/slow.gpu: figure whatif" export whatif --db "$T/v.db" --out "$T/r1" --spec "$T/slow.gpu"
expect 2 "--kernel experiments/kernels/torch-flash.kernel: figure tuner" export tuner --db "$T/v.db" --out "$T/r1" \
  --kernel experiments/kernels/torch-flash.kernel
[ -e "$T/r1" ] && bad "a refused export created --out" || ok
expect 2 "--gpu h200: figure timeline" export timeline --db "$T/v.db" --out "$T/r1" --gpu h200 --timeline "$TL"
# figures of stored predictions need them under the spec asked
expect 2 "none of the 1340 measured rows has a stored prediction under this spec" export scatter --db "$T/v.db" \
  --out "$T/r2" --set mem_bw_achievable_gbps=1500
expect 2 "none of the 1340 measured rows has a stored prediction under this spec" export cdf --db "$T/v.db" \
  --out "$T/r2" --set mem_bw_achievable_gbps=1500
cp "$T/v.db" "$T/v2.db"; "$L" validate --db "$T/v2.db" --set mem_bw_achievable_gbps=1500 > /dev/null
"$L" export scatter --db "$T/v2.db" --out "$T/r3" --set mem_bw_achievable_gbps=1500 2> "$T/e" &&
  ! grep -v '^#' "$T/r3/scatter-fa2.dat" | grep -q '?' && ok ||
  bad "export scatter under a validated --set: $(head -1 "$T/e")"

# export timeline reads timelines as `leansim timeline` does: the same checks, the same messages
H='cta,sm,event,unit,t_ns'
: > "$T/empty.csv"
printf '%s\n0,1,start,-1,0\n0,1,bogus,0,100\n0,1,end,-1,200\n' "$H" > "$T/unknown.csv"
printf '%s\n0,1,start,-1,0\n0,1,seg_end,0,nan\n0,1,end,-1,200\n' "$H" > "$T/nan.csv"
printf '%s\n4194304,1,start,-1,0\n4194304,1,end,-1,200\n' "$H" > "$T/far.csv"
for c in "empty:expected header" "unknown:unknown event 'bogus'" "nan:bad row" "far:bad row"; do
  f=${c%%:*}; why=${c#*:}
  for n in h100-streamk-b1h32-4k-$f.csv; do cp "$T/$f.csv" "$T/$n"; done
  expect 2 "$why" timeline "$T/h100-streamk-b1h32-4k-$f.csv" --trace "$T/t.json"
  expect 2 "$why" export timeline --db "$T/v.db" --out "$T/tx" --timeline "$T/h100-streamk-b1h32-4k-$f.csv"
done
expect 2 "--timeline $T/none.csv: cannot open: No such file or directory" export timeline --db "$T/v.db" \
  --out "$T/tx" --timeline "$T/none.csv"
expect 2 "$T/none.csv: cannot open: No such file or directory" timeline "$T/none.csv" --trace "$T/t.json"
# a provenance header's sizes as the options read them (64k = 65536)
{ printf '# gpu=h100\n# schedule=split\n# batch=1\n# heads=32\n# kv_heads=8\n# ctx=64k\n'
  printf '%s\n0,3,start,-1,0\n0,3,seg_end,0,5000\n0,3,end,-1,6000\n' "$H"; } > "$T/k.csv"
rm -rf "$T/tx"; "$L" export timeline --db "$T/v.db" --out "$T/tx" --timeline "$T/k.csv" 2> "$T/e"
grep -q 'ctx 65536' "$T/tx/timeline.label" 2>/dev/null && ok ||
  bad "export timeline: header ctx=64k read as $(cat "$T/tx/timeline.label" "$T/e" 2>/dev/null | head -1)"
[ -s "$T/tx/timeline-meas.dat" ] && ! grep -q nan "$T/tx/timeline-meas.dat" && ok ||
  bad "export timeline of a good file: no data, or a nan time"
sed 's/ctx=64k/ctx=64x/' "$T/k.csv" > "$T/kx.csv"
expect 2 "--timeline $T/kx.csv: provenance header: bad ctx" export timeline --db "$T/v.db" --out "$T/tx" --timeline "$T/kx.csv"
# a bad first length of a ragged header is refused, not skipped (the list read no further)
sed 's/ctx=64k/ctx=x;777;2048/' "$T/k.csv" > "$T/ky.csv"
expect 2 "--timeline $T/ky.csv: provenance header: bad ctx" export timeline --db "$T/v.db" --out "$T/tx" --timeline "$T/ky.csv"

# export: inputs are checked before anything is written; a failed figure leaves no list file
expect 2 "--timeline $T/none.csv: cannot open" export all --db "$T/v.db" --out "$T/z7" --timeline "$T/none.csv"
[ -e "$T/z7" ] && bad "export all with a missing --timeline wrote $(ls "$T/z7" | wc -l) files" || ok
expect 2 "none of the 1340 measured rows has a stored prediction" export all --db "$T/v.db" --out "$T/z8" \
  --gpu h100 --set mem_bw_achievable_gbps=1500
[ -e "$T/z8" ] && bad "export all without stored predictions wrote $(ls "$T/z8" | wc -l) files" || ok
: > "$T/afile"
expect 2 "--out $T/afile: not a directory" export all --db "$T/v.db" --out "$T/afile"
[ -s "$T/afile" ] || [ -n "$(ls "$T" | grep '^afile.')" ] && bad "export --out onto a file wrote something" || ok
rm -rf "$T/wk"; mkdir -p "$T/wk/speedup-h200-sim.dat"
expect 1 "$T/wk/speedup-h200-sim.dat: cannot open for writing" export speedup --db "$T/v.db" --out "$T/wk"
[ -e "$T/wk/speedup.gpus" ] && bad "a failed export speedup wrote speedup.gpus" || ok
rm -rf "$T/wk"; mkdir -p "$T/wk/whatif-h200.dat"
expect 1 "$T/wk/whatif-h200.dat: cannot open for writing" export whatif --db "$T/v.db" --out "$T/wk"
[ -e "$T/wk/whatif.gpus" ] || [ -e "$T/wk/whatif.kinds" ] && bad "a failed export whatif wrote its lists" || ok
no_tmp "$T/wk" "a failed export whatif"

# timeline: rows of five fields, one SM per CTA, every CTA ended, CRLF and blank lines read, errors named
printf '%s\n0,1,start,-1,0\n0,1,end,0,200,junk\n' "$H" > "$T/extra.csv"
printf '%s,more\n0,1,start,-1,0\n0,1,end,-1,200\n' "$H" > "$T/hdr.csv"
printf '%s\n0,1,start,-1,0\n0,5,end,-1,200\n' "$H" > "$T/move.csv"
printf '%s\n0,1,start,-1,0\n0,1,end,-1,200\n1,2,start,-1,10\n' "$H" > "$T/noend.csv"
for c in "extra:bad row >>> '0,1,end,0,200,junk'" "hdr:expected header" "move:on SM 5, but it started on SM 1" \
         "noend:CTA 1 has no 'end' event"; do
  f=${c%%:*}; why=${c#*:}
  expect 2 "$why" timeline "$T/$f.csv" --trace "$T/t.json"
  cp "$T/$f.csv" "$T/h100-streamk-b1h32-4k-$f.csv"
  expect 2 "$why" export timeline --db "$T/v.db" --out "$T/tx" --timeline "$T/h100-streamk-b1h32-4k-$f.csv"
done
printf '%s\r\n0,1,start,-1,0\r\n\r\n0,1,end,-1,200\r\n' "$H" > "$T/crlf.csv"
"$L" timeline "$T/crlf.csv" --trace "$T/t.json" 2> "$T/e" && grep -q '"epilogue"' "$T/t.json" && ok ||
  bad "timeline of a CRLF file with a blank line: $(head -1 "$T/e")"
expect 2 "$T: cannot read: Is a directory" timeline "$T" --trace "$T/d.json"
[ -e "$T/d.json" ] && bad "timeline of a directory wrote its trace" || ok
if [ -w /dev/full ]; then expect 1 "--trace /dev/full: write failed" timeline "$TL" --trace /dev/full; fi

# export timeline's label says the KV heads, from the header or the name
rm -rf "$T/tx"; "$L" export timeline --db "$T/v.db" --out "$T/tx" \
  --timeline traces/measured/h100-streamk-b16h64kv16-4k-20261207-wave132.csv > /dev/null 2>&1
grep -q 'batch 16, 64 heads, 16 KV heads, ctx 4096' "$T/tx/timeline.label" 2>/dev/null && ok ||
  bad "export timeline label: $(cat "$T/tx/timeline.label" 2>/dev/null)"
grep -v '^#' traces/measured/h100-streamk-b16h64kv16-4k-20261207-wave132.csv > "$T/h100-streamk-b16h64kv16-4k-x.csv"
rm -rf "$T/tx"; "$L" export timeline --db "$T/v.db" --out "$T/tx" --timeline "$T/h100-streamk-b16h64kv16-4k-x.csv" 2> "$T/e"
grep -q 'batch 16, 64 heads, 16 KV heads, ctx 4096' "$T/tx/timeline.label" 2>/dev/null && ok ||
  bad "export timeline label from the name: $(cat "$T/tx/timeline.label" "$T/e" 2>/dev/null | head -1)"

echo "cli_export: $pass passed, $fail failed"
[ $fail -eq 0 ]
