#!/bin/sh
# cli_data.sh: every measured data file under experiments/data (and its
# archive/) is listed in MANIFEST.tsv with its role and sha256, and matches
# it (no file edited after it was committed, none unlisted, none listed and
# missing); superseded files, and only they, are under archive/; the
# campaign's files are evidence.  The same for the measured timelines under
# traces/measured (traces/measured/MANIFEST.tsv), and a timeline with a
# provenance header is one the readers take.
L=${LEANSIM:-build/leansim}
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL cli_data: $*"; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# check_dir DIR SHA_FIELD: listed, unchanged, nothing missing, archive/ = superseded
check_dir() {
  D=$1; M=$D/MANIFEST.tsv; col=$2
  [ -f "$M" ] && ok || bad "no $M"
  for f in "$D"/* "$D"/archive/*; do
    [ -f "$f" ] || continue
    n=${f#"$D"/}
    case "$n" in MANIFEST.tsv|README.md|campaign.txt|mkmanifest.py) continue;; esac
    want=$(awk -F'\t' -v n="$n" -v c="$col" '$1 == n { print $c }' "$M")
    if [ -z "$want" ]; then bad "$D/$n: not in $M (python3 experiments/data/mkmanifest.py)"; continue; fi
    got=$(sha256sum "$f" | cut -d' ' -f1)
    [ "$got" = "$want" ] && ok || bad "$D/$n: sha256 differs from $M"
  done
  awk -F'\t' 'NR > 1 { print $1 }' "$M" | while read -r n; do [ -e "$D/$n" ] || echo "missing $n"; done > "$T/missing"
  [ -s "$T/missing" ] && bad "$M: listed but missing: $(tr '\n' ' ' < "$T/missing")" || ok
  awk -F'\t' 'NR > 1 && $2 != "evidence" && $2 != "superseded" && $2 != "ab" { bad = 1 } END { exit bad }' "$M" &&
    ok || bad "$M: a role other than evidence, superseded, ab"
  awk -F'\t' 'NR > 1 && (($1 ~ /^archive\//) != ($2 == "superseded")) { print $1 }' "$M" > "$T/place"
  [ -s "$T/place" ] && bad "$M: superseded files belong under archive/, and only they: $(tr '\n' ' ' < "$T/place")" || ok
}
check_dir experiments/data 4
check_dir traces/measured 3
grep -v '^#' experiments/data/campaign.txt | while read -r n; do
  [ -n "$n" ] && awk -F'\t' -v n="$n" '$1 == n && $2 == "evidence" { f = 1 } END { exit !f }' experiments/data/MANIFEST.tsv ||
    echo "$n"
done > "$T/camp"
[ -s "$T/camp" ] && bad "campaign.txt names files that are not evidence in MANIFEST.tsv: $(tr '\n' ' ' < "$T/camp")" || ok
# the current timelines open with a provenance header: GPU, commit, configuration
for f in traces/measured/*.csv; do
  for k in gpu sms commit date schedule batch heads kv_heads head_dim dtype ctx req_block_n req_splits req_grid req_cps; do
    sed -n '/^#/!q; p' "$f" | grep -q "^# $k=." || echo "$f: no '# $k=' line"
  done
done > "$T/prov"
[ -s "$T/prov" ] && bad "timelines without their provenance header: $(head -3 "$T/prov" | tr '\n' ' ')" || ok
# a timeline as leanbench writes it now: a provenance header the readers skip (timeline) and use (export)
{
  printf '# leanbench timeline\n# gpu=NVIDIA H100 80GB HBM3\n# sms=132\n# commit=abc1234-dirty+k1\n'
  printf '# schedule=split\n# batch=1\n# heads=32\n# kv_heads=8\n# head_dim=128\n# dtype=fp16\n# ctx=4096\n'
  printf '# req_block_n=0\n# req_splits=0\n# req_grid=0\n# req_cps=0\n# ctas=16\n'
  printf 'cta,sm,event,unit,t_ns\n0,3,start,-1,0\n0,3,seg_end,0,5000\n0,3,end,-1,6000\n'
} > "$T/any-name.csv"
if "$L" timeline "$T/any-name.csv" --trace "$T/t.json" 2> "$T/e" && grep -q '"ph"' "$T/t.json"; then ok; else
  bad "leansim timeline refuses a timeline with a provenance header: $(head -1 "$T/e")"; fi
head -1 experiments/data/h100-20261121-sweep-v4.csv > "$T/h.csv"; "$L" ingest "$T/h.csv" --db "$T/x.db" > /dev/null
if "$L" export timeline --db "$T/x.db" --out "$T/x" --timeline "$T/any-name.csv" > /dev/null 2> "$T/e"; then
  grep -q 'split on h100: batch 1, 32 heads, 8 KV heads, ctx 4096' "$T/x/timeline.label" 2>/dev/null && ok ||
    bad "export timeline does not take the configuration from the header: $(cat "$T/x/timeline.label" "$T/e" 2>/dev/null | head -2)"
else
  bad "export timeline refuses a timeline with a provenance header: $(head -1 "$T/e")"
fi
# every figure of a shipped chip spec says where it comes from (a comment on its line)
for f in experiments/gpus/*.gpu; do
  n=$(awk '/^[a-z_0-9]+ *=/ && $1 != "name" && $1 != "full_name" && !/#/' "$f" | wc -l)
  if [ "$n" -eq 0 ]; then ok; else bad "$f: $n fields without a source comment"; fi
done
# confirm.py score over several calls: each workload on the first file that
# timed its pick, against that file's rows alone
cat > "$T/sw.txt" <<'EOS'
# pick: 1,8,8,128,fp16,4096 | streamk 128 132 0
# pick: 2,8,8,128,fp16,4096 | split 128 64 4
EOS
H="batch,heads,kv_heads,head_dim,dtype,ctx,schedule,block_n,ctas,splits,time_us"
printf '%s\n1,8,8,128,fp16,4096,streamk,128,132,0,10.0\n1,8,8,128,fp16,4096,fa2,128,8,0,9.0\n' "$H" > "$T/c1.csv"
printf '%s\n2,8,8,128,fp16,4096,split,128,64,4,20.0\n2,8,8,128,fp16,4096,fa2,128,16,0,22.0\n1,8,8,128,fp16,4096,fa2,128,8,0,5.0\n' "$H" > "$T/c2.csv"
out=$(python3 experiments/confirm.py score "$T/sw.txt" "$T/c1.csv" "$T/c2.csv" 2>&1 | head -1)
case "$out" in *"workloads 2  regret_mean 5.56%"*"max 11.11%  missing 0"*) ok ;; *) bad "confirm.py score over two files: $out" ;; esac
out=$(python3 experiments/confirm.py score "$T/sw.txt" "$T/c1.csv" 2>&1 | head -1)
case "$out" in *"workloads 1 "*"missing 1"*) ok ;; *) bad "confirm.py score, a pick not timed: $out" ;; esac
python3 experiments/confirm.py score "$T/sw.txt" "$T/none.csv" > /dev/null 2> "$T/e"
[ $? -eq 2 ] && grep -q "none.csv" "$T/e" && ok || bad "confirm.py score on a missing file: $(cat "$T/e")"
echo "cli_data: $pass passed, $fail failed"
[ $fail -eq 0 ]
