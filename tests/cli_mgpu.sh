#!/bin/sh
# cli_mgpu.sh: experiments/multigpu/score.py, which scores measured multi-GPU
# runs (leanbench --gpus) against leansim's prediction, on rows it is given;
# and the cuts `--gpus N --parallel P` refuses, each named as the user gave it.
L=${LEANSIM:-build/leansim}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $2"; fi; }

# the multi-GPU CSV's header, from the runner's source (its one definition)
H=$(sed -n '/MGPU_CSV_HEADER =/,/;$/p' kernels/mgpu.cu | sed -n 's/^ *"\([a-z_0-9,]*\)";* *$/\1/p' | paste -sd '' -)
ok "header read from kernels/mgpu.cu" "echo '$H' | grep -q '^gpu,gpus,parallel,gather,.*,max_err$'"
row() {   # gpus parallel gather ctx time_us gather_us merge_us
  echo "NVIDIA H100 80GB HBM3,$1,$2,$3,drv,c,d,streamk,1,64,8,128,fp16,$4,128,256,0,20,$5,$5,$5,$5,$5,$6,$7,0,1e-4"
}
{ echo "$H"
  row 2 kv nccl 4096 40 12 8
  row 2 kv nccl 4096 99 12 8 | sed 's/,streamk,/,split,/'
  row 2 kv p2p 4096 60 30 8
  row 2 heads none 4096 20 0 0
  row 2 kv nccl 65536 80 12 8
  row 2 heads none 65536 60 0 0
} > "$T/m.csv"
python3 experiments/multigpu/score.py --leansim "$L" --dat "$T/d" "$T/m.csv" > "$T/o" 2> "$T/e"; rc=$?
ok "score.py runs" "[ $rc -eq 0 ]"
ok "one line per row" "[ \$(grep -c '^h100 ' $T/o) -eq 6 ]"
ok "MAPE per GPU count and parallelism at 64k and more" "grep -Eq 'h100 +2 GPUs kv/nccl +1 rows' $T/o && grep -Eq 'h100 +2 GPUs heads +1 rows' $T/o"
ok "communication at 4k-16k, each gather apart" "grep -q 'kv/nccl, 4k-16k: 2 rows' $T/o && grep -q 'kv/p2p, 4k-16k: 1 rows' $T/o"
# the figure's ratio takes the NCCL stream-K row, not the peer-copy or split row of the same context
ok "kv / heads ratio of the NCCL rows" "awk '\$1 == 2 && \$2 == 4096 { exit !(\$3 == 2.0000) }' $T/d/multigpu-measured-h100.dat"
# the predicted column is leansim's for the same workload on the h100 spec
p=$("$L" simulate --gpu h100 --gpus 2 --parallel kv --heads 64 --kv-heads 8 --ctx 64k --schedule streamk --block-n 128 --format csv | tail -1 | cut -d, -f18)
ok "prediction as leansim simulate gives it ($p)" "awk -v p=$p '\$7 == 65536 && \$3 == \"kv/nccl\" { f = 1; exit !((\$9 - p) ^ 2 < 1e-4) } END { exit !f }' $T/o"
# bad input: a GPU no spec maps to, a missing file
sed 's/NVIDIA H100 80GB HBM3/NVIDIA Z9/' "$T/m.csv" > "$T/z.csv"
python3 experiments/multigpu/score.py --leansim "$L" "$T/z.csv" > /dev/null 2> "$T/e"; rc=$?
ok "unknown GPU named" "[ $rc -ne 0 ] && grep -q \"no chip spec for GPU 'NVIDIA Z9'\" $T/e"
python3 experiments/multigpu/score.py --leansim "$L" "$T/nosuch.csv" > /dev/null 2> "$T/e"; rc=$?
ok "missing file named" "[ $rc -ne 0 ] && grep -q 'nosuch.csv' $T/e"

# refused: exit 2, nothing on stdout, one line on stderr that has $1 and not $2 (an option not given)
refused() {
  want=$1; never=$2; shift 2
  "$L" "$@" > "$T/so" 2> "$T/se"; rc=$?
  ok "$* refused: '$want'" "[ $rc -eq 2 ] && [ ! -s $T/so ] && [ \$(wc -l < $T/se) -eq 1 ] && grep -qF -- '$want' $T/se && ! grep -qF -- '$never' $T/se"
}
# heads parallelism: the KV heads (--model's, or --heads' under MHA) named by count, the cut by --gpus
refused "--gpus 16: more GPUs than the 8 KV heads" "--kv-heads" simulate --gpus 16 --model llama-3.1-70b --ctx 4k
refused "--gpus 3: the 32 KV heads do not divide among 3 GPUs" "--kv-heads" predict --gpus 3 --ctx 4k
# kv parallelism: shards of ceil(ctx / N) tokens (the kernels' cut) that would leave a GPU none (5 over 4: 2, 2, 1, 0)
refused "--ctx: entry 1 of 2, 5: too short for 4 KV shards" "fewer" simulate --gpus 4 --parallel kv --batch 2 --ctx 5,4096 --schedule split
refused "--ctx 9: too short for 4 KV shards (shards of 3 tokens" "fewer" predict --gpus 4 --parallel kv --ctx 9
# both: the 2 GPUs over each KV are not the --gpus 16 asked
refused "--ctx 1: too short for 2 KV shards" "--gpus 2" simulate --gpus 16 --parallel both --model llama-3.1-70b --ctx 1
refused "--ctx 9: too short for 4 KV shards" "fewer" tune --gpus 4 --parallel kv --ctx 9
# the kernel's limits: the workload asked named, not GPU 0's share (64 over 2 KV heads on 2 GPUs: 32 over 1)
refused "--heads 64 --kv-heads 2 --head-dim 128: kernel profile leansim has no kernel" "--heads 32" simulate --gpus 2 --heads 64 --kv-heads 2 --ctx 4k --schedule split
refused "--heads 64 --kv-heads 2 --head-dim 128: kernel profile leansim has no kernel" "--heads 32" tune --gpus 2 --heads 64 --kv-heads 2 --ctx 4k
refused "--heads 64 --kv-heads 8: a GQA group of 8" "--heads 8 --kv-heads 1" predict --gpus 8 --kernel torch-efficient --model llama-3.1-70b --ctx 4k
"$L" tune --gpus 4 --ctx 9 --format csv > "$T/t9"; rc=$?
ok "tune --gpus 4 --ctx 9: heads alone cuts it" "[ $rc -eq 0 ] && [ \"\$(tail -n +2 $T/t9 | cut -d, -f23 | paste -sd' ')\" = heads ]"
"$L" simulate --gpus 4 --parallel kv --batch 2 --ctx 10,4096 --schedule split --format csv --trace "$T/k.json" > /dev/null; rc=$?
ok "--trace: every GPU of a ragged kv cut (10 over 4: 3, 3, 3, 1)" "[ $rc -eq 0 ] && python3 -c \"import json, sys; n = {e['args']['name'] for e in json.load(open('$T/k.json'))['traceEvents'] if e.get('name') == 'process_name'}; sys.exit(not all('GPU %d: main kernel' % g in n for g in range(4)))\""
# kv shards are ceil(ctx / N) tokens, the last one the rest: 8193 over 4 is 2049 x 3 and 2046 (17 tiles of 128, then 16);
# GPU 0 holds the longest, its time the one-GPU time of 2049 tokens, and GPU 3's trace ends first
t1=$("$L" simulate --ctx 2049 --schedule split --splits 1 --format csv | tail -1 | cut -d, -f18)
tk=$("$L" simulate --gpus 4 --parallel kv --ctx 8193 --schedule split --splits 1 --format csv --trace "$T/k4.json" | tail -1 | cut -d, -f30)
ok "kv cut: GPU 0's time is its longest shard's ($tk us vs $t1 us)" "[ -n \"$t1\" ] && [ \"$tk\" = \"$t1\" ]"
ok "--trace of a kv cut: each GPU runs its own shard, the last GPU's shorter" "python3 -c \"import json, sys; ev = json.load(open('$T/k4.json'))['traceEvents']; nm = {e['pid']: e['args']['name'] for e in ev if e.get('name') == 'process_name'}; end = {}; [end.__setitem__(nm[e['pid']], max(end.get(nm[e['pid']], 0), e['ts'] + e['dur'])) for e in ev if e.get('ph') == 'X']; sys.exit(not (end['GPU 3: main kernel'] < end['GPU 0: main kernel'] == end['GPU 1: main kernel']))\""
# tune --gpus's time for heads and both (8 over the heads x 2 over each KV) is simulate --gpus's of the same plan
for pg in "heads 4" "both 16"; do
  set -- $pg
  "$L" tune --gpus $2 --parallel $1 --model llama-3.1-70b --ctx 64k --format csv | tail -1 > "$T/tp"
  IFS=, read -r g b c sch bn sp gr cps tt rest < "$T/tp"
  o="--schedule $sch --block-n $bn"; [ "$sch" = split ] && o="$o --splits $sp"; [ "$gr" != 0 ] && o="$o --grid $gr"
  [ "$cps" != 0 ] && o="$o --ctas-per-sm $cps"
  s=$("$L" simulate --gpus $2 --parallel $1 --model llama-3.1-70b --ctx 64k $o --format csv | tail -1 | cut -d, -f18)
  ok "tune --gpus $2 --parallel $1: $tt us, simulate of its plan $s" "awk -v a=$tt -v b=$s 'BEGIN { exit !(a - b < 0.01 && b - a < 0.01) }'"
done
echo "cli_mgpu: $pass passed, $fail failed"
[ $fail -eq 0 ]
