#!/bin/sh
# cli_simulate.sh: leansim simulate end to end: outputs and every error path.
# Needs $LEANSIM (the binary).  Prints "cli_simulate: N passed, N failed".
L=${LEANSIM:-build/leansim}
pass=0; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL cli_simulate: $*"; }

# expect_err "what the message must contain" args...: exit 2, one line naming it
expect_err() {
  want=$1; shift
  "$L" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [ $rc -ne 2 ]; then bad "leansim $*: exit $rc, want 2"; return; fi
  if ! grep -qF -- "$want" "$tmp/err"; then bad "leansim $*: stderr '$(cat "$tmp/err")' lacks '$want'"; return; fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then bad "leansim $*: error is not one line"; return; fi
  if [ -s "$tmp/out" ]; then bad "leansim $*: wrote to stdout on error"; return; fi
  ok
}

expect_err "--batch -1" simulate --batch -1
expect_err "--batch 0" simulate --batch 0
expect_err "--heads 0" simulate --heads 0
expect_err "--ctx 0" simulate --ctx 0
expect_err "--ctx -5" simulate --ctx -5
expect_err "--ctx: 3 lengths given but --batch is 2" simulate --batch 2 --ctx 1k,2k,3k
expect_err "--kv-heads 5: does not divide --heads 32" simulate --kv-heads 5
expect_err "--kv-heads 64" simulate --kv-heads 64
expect_err "--gpu h300: unknown GPU" simulate --gpu h300
expect_err "--head-dim 96: unsupported" simulate --head-dim 96
expect_err "--dtype fp4: unknown type" simulate --dtype fp4
expect_err "--ctx 99999999999999" simulate --ctx 99999999999999
expect_err "--ctx 1m0" simulate --ctx 1m0
expect_err "--batch 100000" simulate --batch 100000
expect_err "--schedule streamq" simulate --schedule streamq
expect_err "--block-n 48" simulate --block-n 48
expect_err "--splits 0" simulate --splits 0
expect_err "--grid 5000: more than the" simulate --schedule streamk --grid 5000
expect_err "--format xml" simulate --format xml
expect_err "unknown option '--bogus'" simulate --bogus
expect_err "--batch: missing value" simulate --batch
expect_err "--trace $tmp/t.json: needs exactly one --schedule" simulate --trace "$tmp/t.json"
expect_err "unknown command 'simulat'" simulat
printf 'name = x\n' >"$tmp/x.gpu"
expect_err "$tmp/x.gpu: missing required key" simulate --gpu "$tmp/x.gpu"
[ ! -e "$tmp/t.json" ] && ok || bad "a failed run left a trace file"

expect_err "--set sms=0: sms = 0: must be an integer in [1, 4096]" simulate --set sms=0
expect_err "--set warp=32: unknown key 'warp' (neither a GPU spec nor a kernel profile key" simulate --set warp=32
expect_err "--set cta_inflight_bytes=0: cta_inflight_bytes = 0: must be a number in" simulate --set cta_inflight_bytes=0
expect_err "--kernel cutlass: unknown kernel profile" simulate --kernel cutlass
# a what-if bandwidth above the datasheet's is taken, in any order of --set
"$L" simulate --set mem_bw_achievable_gbps=4400 --set mem_bw_gbps=4800 --ctx 64k >/dev/null && ok || bad "--set bandwidths in either order"
# the kernel profile and the SM count are in every output
"$L" simulate --set sms=64 --ctx 4k | head -1 | grep -q "(64 SMs), kernel leansim" && ok || bad "table header names SMs and kernel"
"$L" simulate --set sms=64 --ctx 4k --format csv | awk -F, 'NR==1 {exit !($2=="kernel" && $5=="sms")} ' && ok || bad "csv kernel and sms columns"
# a what-if: 16 SMs (32 CTAs, too few to pull the bandwidth) make stream-K slower
t132=$("$L" simulate --ctx 256k --schedule streamk --format csv | tail -1 | cut -d, -f18)
t16=$("$L" simulate --ctx 256k --schedule streamk --format csv --set sms=16 | tail -1 | cut -d, -f18)
g16=$("$L" simulate --ctx 256k --schedule streamk --format csv --set sms=16 | tail -1 | cut -d, -f13)
[ "$g16" = 32 ] && awk -v a="$t16" -v b="$t132" 'BEGIN { exit !(a > b) }' && ok || bad "--set sms=16: grid $g16, time $t16 vs $t132"

# outputs
"$L" simulate --ctx 64k --format json >"$tmp/j" 2>&1 && ok || bad "json run failed"
for k in time_lo_us time_hi_us kernel sms schedule gpu batch heads kv_heads head_dim block_n ctas splits time_us hbm_bytes bw_gbps speedup_vs_fa2; do
  [ "$(grep -c "\"$k\":" "$tmp/j")" -eq 5 ] && ok || bad "json key $k not in all 5 rows"
done
"$L" simulate --ctx 64k --format csv --schedule fa2,streamk >"$tmp/c" && [ "$(wc -l <"$tmp/c")" -eq 3 ] && ok ||
  bad "csv: want header + 2 rows"
"$L" simulate --batch 3 --ctx 1k,100k,7 --kv-heads 8 --schedule streamk --trace "$tmp/t.json" >/dev/null && ok ||
  bad "ragged traced run failed"
grep -q '"traceEvents"' "$tmp/t.json" && grep -q '"name":"wait"' "$tmp/t.json" && ok || bad "trace lacks events or waits"
"$L" simulate --help | grep -q -- "--ctas-per-sm" && ok || bad "--help lists the options"
"$L" gpus | grep -q "^h100 " && [ "$("$L" gpus | wc -l)" -ge 8 ] && ok || bad "gpus lists the specs"
# the A100 worked examples through the CLI
"$L" simulate --gpu a100 --ctx 32k --schedule split --format csv | tail -1 | cut -d, -f13,14 | grep -qx "192,6" && ok ||
  bad "A100 32k split: want 192 CTAs, 6 splits"
"$L" simulate --gpu a100 --ctx 32k --schedule streamk --format csv | tail -1 | cut -d, -f13 | grep -qx "216" && ok ||
  bad "A100 32k streamk: want grid 216"
# --opt=value is --opt value; names with quotes and commas stay valid JSON and CSV
"$L" simulate --gpu=a100 --ctx=64k --format=csv --schedule=streamk | tail -1 | cut -d, -f4 | grep -qx a100 && ok ||
  bad "--opt=value"
sed 's/^name = .*/name = my"odd,gpu/' experiments/gpus/h100.gpu >"$tmp/odd.gpu"
"$L" simulate --gpu "$tmp/odd.gpu" --ctx 4k --format json | python3 -c 'import json,sys; assert json.load(sys.stdin)[0]["gpu"] == "my\"odd,gpu"' 2>/dev/null &&
  ok || bad "a quote in a spec name breaks the JSON"
"$L" simulate --gpu "$tmp/odd.gpu" --ctx 4k --format csv | python3 -c 'import csv,sys; r=list(csv.reader(sys.stdin)); assert r[1][3] == "my\"odd,gpu" and len(r[0]) == len(r[1])' 2>/dev/null &&
  ok || bad "a comma in a spec name shifts the CSV columns"
# errors that quote input echo no control bytes
printf 'name = x\nsms = 1\033[31m\n' > "$tmp/esc.gpu"
"$L" simulate --gpu "$tmp/esc.gpu" 2>"$tmp/e" >/dev/null
! grep -q "$(printf '\033')" "$tmp/e" && grep -q "esc.gpu:2: sms: '1?\[31m' is not a number" "$tmp/e" && ok || bad "control bytes echoed: $(cat -v "$tmp/e")"
# the listings as JSON, every key
"$L" gpus --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert any(g["name"] == "h100" and g["sms"] == 132 for g in d)' 2>/dev/null &&
  ok || bad "gpus --format json"
"$L" kernels --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert any(k["name"] == "torch-flash" and k["schedule"] == "split" for k in d)' 2>/dev/null &&
  ok || bad "kernels --format json"
# model presets set the attention geometry and say so
"$L" simulate --model llama-3.1-70b --ctx 4k | head -2 | grep -q "heads 64, kv_heads 8, d 128" && ok || bad "--model llama-3.1-70b"
"$L" simulate --model llama-3.1-70b --kv-heads 64 --ctx 4k --format csv | tail -1 | cut -d, -f7,8 | grep -qx "64,64" && ok ||
  bad "--model, then --kv-heads overrides"
expect_err "--model foo: unknown model (llama-3.1-8b" simulate --model foo
# groups of 16 (Llama-3.1-405B) run at head dim 128; larger groups name the real cause, not --block-n
"$L" simulate --model llama-3.1-405b --format csv >/dev/null && ok || bad "simulate --model llama-3.1-405b (group 16)"
expect_err "no kernel for a GQA group of 32" simulate --heads 64 --kv-heads 2
expect_err "no kernel for a GQA group of 16 at head dim 256" simulate --model llama-3.1-405b --head-dim 256
# more than one GPU: kv parallel = the single-GPU schedule on a quarter of the KV, then the gather
# (link latency + 3 peers' partials, 16-bit O and lse, at link_gbps) and the merge; heads parallel = a quarter of the KV heads
one=$("$L" simulate --gpu h200 --heads 32 --kv-heads 8 --ctx 256k --schedule streamk --format csv | tail -1 | cut -d, -f18)
kv=$("$L" simulate --gpu h200 --heads 32 --kv-heads 8 --ctx 1m --gpus 4 --parallel kv --schedule streamk --format csv | tail -1)
echo "$kv" | awk -F, -v one="$one" '{ g = 16.7 + 3 * 32 * (128 * 2 + 4) / 390e3
  exit !($28 == 4 && $29 == "kv" && $30 == one && ($31 - g) ^ 2 < 1e-6 && $32 > 0 && ($18 - ($30 + $31 + $32)) ^ 2 < 1e-4) }' &&
  ok || bad "--gpus 4 --parallel kv: per GPU = one GPU at 256k ($one), gather from the link figures: $kv"
hd=$("$L" simulate --gpu h200 --heads 8 --kv-heads 2 --ctx 1m --schedule split --format csv | tail -1 | cut -d, -f18)
"$L" simulate --gpu h200 --heads 32 --kv-heads 8 --ctx 1m --gpus 4 --schedule split --format csv | tail -1 |
  awk -F, -v one="$hd" '{ exit !($18 == one && $29 == "heads" && $31 == 0) }' && ok || bad "--gpus 4 (heads): one GPU's quarter of the heads"
"$L" simulate --ctx 64k --format csv | head -1 | grep -q ',gpus,parallel,per_gpu_us,gather_us,merge_us$' && ok || bad "multi-GPU columns"
"$L" predict --gpu h200 --ctx 1m --gpus 2 --parallel kv --schedule streamk --format json | grep -q '"gpus":2,"parallel":"kv"' && ok ||
  bad "predict --gpus 2 --parallel kv"
expect_err "--gpus 3: the 8 KV heads do not divide among 3 GPUs" simulate --heads 32 --kv-heads 8 --gpus 3
# both: the heads over 8 GPUs (the KV heads), each head group's KV over 2: one GPU is 8 query heads over one
# KV head at half the context, the gather one peer's partials of those 8 heads
one=$("$L" simulate --gpu h100 --heads 8 --kv-heads 1 --ctx 512k --schedule split --format csv | tail -1 | cut -d, -f18)
"$L" simulate --gpu h100 --model llama-3.1-70b --ctx 1m --gpus 16 --parallel both --schedule split --format csv | tail -1 |
  awk -F, -v one="$one" '{ g = 16.7 + 8 * (128 * 2 + 4) / 390e3
    exit !($28 == 16 && $29 == "both" && $30 == one && ($31 - g) ^ 2 < 1e-6 && $32 > 0) }' &&
  ok || bad "--gpus 16 --parallel both (8 KV heads): 8 over the heads x 2 over the KV"
"$L" simulate --model llama-3.1-70b --ctx 64k --gpus 16 --parallel both --schedule split | grep -q "8 over the heads x 2 over the KV" &&
  ok || bad "--parallel both names its split of the GPUs"
# the trace of a multi-GPU run: one process per GPU, the gather and merge after GPU 0's kernels, ending at the total
"$L" simulate --gpus 4 --parallel kv --model llama-3.1-70b --ctx 100000 --schedule split --format csv --trace "$tmp/mg.json" |
  tail -1 | cut -d, -f18 > "$tmp/mg.total"
python3 - "$tmp/mg.json" "$(cat "$tmp/mg.total")" <<'PY' && ok || bad "--gpus 4 --trace: a process per GPU, gather and merge"
import json, sys
d = json.load(open(sys.argv[1]))["traceEvents"]
names = {e["args"]["name"] for e in d if e.get("ph") == "M" and e["name"] == "process_name"}
assert {"GPU %d: main kernel" % g for g in range(4)} <= names and "GPU 0: gather, merge" in names, names
end = max(e["ts"] + e["dur"] for e in d if e.get("ph") == "X")
assert abs(end - float(sys.argv[2])) < 0.01, (end, sys.argv[2])
PY
expect_err "--parallel kv: needs --gpus 2 or more" simulate --parallel kv
expect_err "--gpus 0: must be between 1 and 64" simulate --gpus 0
expect_err "--parallel rows: unknown parallelism" simulate --gpus 2 --parallel rows
expect_err "--ctx 3: too short for 4 KV shards" simulate --ctx 3 --gpus 4 --parallel kv
# --policy: the plan a library's rule picks, as one row
"$L" simulate --gpu a100 --ctx 32k --policy fa2 --format csv | tail -n +2 | cut -d, -f3,13,14 | grep -qx "split,192,6" && ok ||
  bad "--policy fa2 on the A100 at 32k: FA2's 6 splits"
"$L" simulate --gpu a100 --ctx 32k --policy leanattention --format csv | tail -n +2 | cut -d, -f3,13 | grep -qx "streamk,216" && ok ||
  bad "--policy leanattention: LeanAttention's grid"
expect_err "--policy cutlass: unknown policy" simulate --policy cutlass
expect_err "--policy fa2: the policy chooses the plan" simulate --policy fa2 --splits 4
"$L" predict --policy tune --ctx 64k --format csv | tail -n +2 | wc -l | grep -qx 1 && ok || bad "predict --policy tune: one row"
# every row carries its 90% interval around its time
"$L" simulate --ctx 64k --format csv | tail -n +2 | awk -F, '{ if (!($26 <= $18 && $18 <= $27 && $26 < $27)) bad++ } END { exit bad > 0 }' &&
  ok || bad "time_lo_us <= time_us <= time_hi_us"
# kernel profiles: listed, taken by name or by file, their own schedule by default
"$L" kernels | grep -q "^torch-flash " && "$L" kernels | grep -q "^leansim " && ok || bad "kernels lists the profiles"
[ "$("$L" simulate --kernel torch-flash --ctx 64k --format csv | tail -n +2 | cut -d, -f3)" = split ] && ok ||
  bad "--kernel torch-flash: its split schedule alone"
"$L" simulate --kernel torch-flash --ctx 64k --schedule streamk --format csv | tail -1 | cut -d, -f2,3 | grep -qx "torch-flash,streamk" &&
  ok || bad "--kernel torch-flash --schedule streamk: a what-if of another schedule with its costs"
# one split: PyTorch's flash backend runs FA2's forward kernel, slower per byte than the split kernel
t_fwd=$("$L" simulate --kernel torch-flash --batch 16 --heads 64 --ctx 64k --format csv | tail -1 | cut -d, -f18)
t_own=$("$L" simulate --kernel torch-flash --batch 16 --heads 64 --ctx 64k --splits 2 --format csv | tail -1 | cut -d, -f18)
awk -v a="$t_fwd" -v b="$t_own" 'BEGIN { exit !(a > 1.1 * b) }' && ok || bad "one split runs fa2-fwd: $t_fwd vs $t_own us"
sed 's/^name = .*/name = mine/; s/^mma_rows = .*/mma_rows = 128/' experiments/kernels/torch-flash.kernel >"$tmp/mine.kernel"
"$L" simulate --kernel "$tmp/mine.kernel" --ctx 4k | head -1 | grep -q "kernel mine" && ok || bad "--kernel FILE"
sed 's/^mma_rows = .*/mma_rows = many/' experiments/kernels/torch-flash.kernel >"$tmp/bad.kernel"
ln=$(grep -n '^mma_rows' experiments/kernels/torch-flash.kernel | cut -d: -f1)
expect_err "bad.kernel:$ln: mma_rows: 'many' is not a number" simulate --kernel "$tmp/bad.kernel"
# a plan of more CTAs than the planner allows is refused at once (134 M one-token chunks here)
expect_err "too many tiles, units or CTAs: at most 16777216 CTAs" simulate --batch 1024 --ctx 1 --heads 1024 --kv-heads 1024 --schedule split --splits 128
# just past the limit: 1024 x 1024 x 17 = 17.8 M CTAs (16 splits, 16777216 CTAs exactly, would plan)
expect_err "too many tiles, units or CTAs: at most 16777216 CTAs" simulate --batch 1024 --ctx 1 --heads 1024 --kv-heads 1024 --schedule split --splits 17
# a profile's `single` names a known profile: checked when it is loaded, not at the first one-split workload
sed 's/^single = .*/single = nosuch/' experiments/kernels/torch-flash.kernel >"$tmp/single.kernel"
expect_err "single = nosuch: no kernel profile of that name" simulate --kernel "$tmp/single.kernel" --ctx 512k
expect_err "--set single=nosuch: single = nosuch: no kernel profile of that name" simulate --kernel torch-flash --set single=nosuch
# a profile of a kernel that runs MHA only refuses a GQA shape (the library refuses it), in each engine and in tune
expect_err "a GQA group of 4, and kernel torch-efficient runs groups of at most 1" simulate --kernel torch-efficient --heads 32 --kv-heads 8
expect_err "a GQA group of 4, and kernel torch-efficient runs groups of at most 1" predict --kernel torch-efficient --heads 32 --kv-heads 8
expect_err "a GQA group of 4, and kernel torch-efficient runs groups of at most 1" tune --kernel torch-efficient --heads 32 --kv-heads 8 --ctx 4k
$L simulate --kernel torch-efficient --heads 32 --kv-heads 32 --ctx 4k >/dev/null && ok || bad "torch-efficient MHA runs"
# max_group: a group up to it runs, one above it is refused; any value in [0, 1024] is taken
$L simulate --kernel torch-flash --set max_group=4 --heads 32 --kv-heads 8 --ctx 4k >/dev/null && ok || bad "max_group = 4 runs a group of 4"
expect_err "a GQA group of 4, and kernel torch-flash runs groups of at most 2" simulate --kernel torch-flash --set max_group=2 --heads 32 --kv-heads 8 --ctx 4k
expect_err "max_group = 1025: must be an integer in [0, 1024]" simulate --kernel torch-flash --set max_group=1025 --ctx 4k
# single: a name is a shipped profile's whole name (no prefix of one); a NAME.kernel without a '/' is a path,
# read at the first one-split workload (here from the current directory)
expect_err "single = fa2-nosuch: no kernel profile of that name" simulate --kernel torch-flash --set single=fa2-nosuch
# band_kernel: 'none' or items; an empty value is neither
expect_err "--set band_kernel=: band_kernel: expected 'none' or items NAME:LO:HI" simulate --ctx 4k --set band_kernel=
cp experiments/kernels/fa2-fwd.kernel "$tmp/fwd.kernel"
sed 's/^single = .*/single = fwd.kernel/' experiments/kernels/torch-flash.kernel >"$tmp/rel.kernel"
La=$(cd "$(dirname "$L")" && pwd)/$(basename "$L")
t_rel=$(cd "$tmp" && "$La" simulate --kernel rel.kernel --batch 16 --heads 64 --ctx 64k --format csv | tail -1 | cut -d, -f18)
[ -n "$t_rel" ] && [ "$t_rel" = "$t_fwd" ] && ok || bad "single = fwd.kernel (a path without '/'): $t_rel us, want $t_fwd"
# a timeline row naming a far CTA id or a time that is no number is a bad row (no huge allocation, no "nan")
printf 'cta,sm,event,unit,t_ns\n99999999,3,start,-1,0\n' >"$tmp/tl3.csv"
expect_err "tl3.csv:2: bad row" timeline "$tmp/tl3.csv" --trace "$tmp/tl3.json"
printf 'cta,sm,event,unit,t_ns\n0,3,start,-1,nan\n' >"$tmp/tl4.csv"
expect_err "tl4.csv:2: bad row" timeline "$tmp/tl4.csv" --trace "$tmp/tl4.json"
# measured timelines convert to the same trace format
printf 'cta,sm,event,unit,t_ns\n0,3,start,-1,0\n0,3,seg_end,5,1200\n0,3,wait_begin,6,1300\n0,3,wait_end,6,1900\n0,3,end,-1,2100\n' >"$tmp/tl.csv"
"$L" timeline "$tmp/tl.csv" --trace "$tmp/tl.json" && grep -q '"name":"wait"' "$tmp/tl.json" && ok || bad "timeline conversion"
# phases named as the simulator names them, tracks named "SM s slot j" by concurrency:
# a host CTA streams, waits, merges, ends; a second CTA on SM 3 while the first runs takes slot 1
printf 'cta,sm,event,unit,t_ns\n0,3,start,-1,0\n0,3,wait_begin,6,1300\n0,3,wait_end,6,1900\n0,3,seg_end,6,2000\n0,3,end,-1,2100\n1,3,start,-1,100\n1,3,seg_end,6,900\n1,3,end,-1,950\n2,3,start,-1,3000\n2,3,seg_end,7,3500\n2,3,end,-1,3600\n' >"$tmp/tl5.csv"
"$L" timeline "$tmp/tl5.csv" --trace "$tmp/tl5.json" >/dev/null && grep -q '"name":"SM 3 slot 1"' "$tmp/tl5.json" &&
  grep -q '"name":"merge"' "$tmp/tl5.json" && ! grep -q '"name":"segment"' "$tmp/tl5.json" && ok || bad "measured phases and tracks"
command -v python3 >/dev/null && { python3 - "$tmp/tl5.json" <<'PY' && ok || bad "measured phases and tracks, slice by slice"; }
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
tracks = {e["tid"]: e["args"]["name"] for e in ev if e.get("name") == "thread_name"}
x = [(e["args"]["cta"], e["name"], tracks[e["tid"]]) for e in ev if e["ph"] == "X"]
want = [(0, "stream", "SM 3 slot 0"), (0, "wait", "SM 3 slot 0"), (0, "merge", "SM 3 slot 0"), (0, "epilogue", "SM 3 slot 0"),
        (1, "stream", "SM 3 slot 1"), (1, "epilogue", "SM 3 slot 1"), (2, "stream", "SM 3 slot 0"), (2, "epilogue", "SM 3 slot 0")]
sys.exit(0 if x == want else print(x) or 1)
PY
printf 'cta,sm,event,unit,t_ns\n0,3,seg_end,5,1200\n' >"$tmp/tl2.csv"
expect_err "tl2.csv:2: event 'seg_end' of CTA 0 before its start" timeline "$tmp/tl2.csv" --trace "$tmp/tl2.json"
[ ! -e "$tmp/tl2.json" ] && ok || bad "a failed conversion left its output"
# --ctas-per-sm cuts the plan for K CTAs per SM; the kernel's occupancy stays the resident count, as the runner
# has it, and above it K is refused as the runner refuses it
expect_err "9 CTAs per SM (--ctas-per-sm, or the profile's ctas_per_sm): only 3 CTAs of kernel leansim fit on an SM of h100" simulate --ctx 4k --ctas-per-sm 9
expect_err "4 CTAs per SM (--ctas-per-sm, or the profile's ctas_per_sm): only 3 CTAs" simulate --ctx 4k --ctas-per-sm 4
"$L" simulate --ctx 4k --ctas-per-sm 3 >/dev/null && ok || bad "--ctas-per-sm 3: as many as fit, taken"
expect_err "a CTA of kernel leansim (tile 128, head dim 128) does not fit on an SM of h100" simulate --ctx 4k --set max_threads_per_sm=32
"$L" simulate --ctx 4k --schedule balanced --ctas-per-sm 2 --format csv | awk -F, 'NR == 2 {exit !($13 == 256 && $15 == 3)}' &&
  ok || bad "balanced over 2 CTAs per SM: 256 CTAs, 3 resident"
# an output file is written whole or not at all: a failed run leaves the file already there as it was;
# a symbolic link stays a link to the file written
"$L" simulate --ctx 4k --schedule fa2 --trace "$tmp/keep.json" > /dev/null && cp "$tmp/keep.json" "$tmp/keep0.json"
"$L" simulate --ctx 16m --batch 1024 --schedule fa2 --trace "$tmp/keep.json" > /dev/null 2>&1
[ $? -ne 0 ] && cmp -s "$tmp/keep.json" "$tmp/keep0.json" && [ -z "$(ls "$tmp" | grep '\.tmp')" ] &&
  ok || bad "a failed --trace changed the file already at its path, or left a temporary file"
ln -s keep.json "$tmp/link.json"
"$L" simulate --ctx 8k --schedule fa2 --trace "$tmp/link.json" > /dev/null && [ -L "$tmp/link.json" ] &&
  ! cmp -s "$tmp/keep.json" "$tmp/keep0.json" && ok || bad "--trace through a symbolic link: the link replaced"
# output that does not reach stdout's file is a failure
if [ -c /dev/full ]; then
  "$L" simulate --ctx 4k > /dev/full 2> "$tmp/err"; rc=$?
  [ $rc -eq 1 ] && grep -q 'writing the output failed' "$tmp/err" && ok || bad "simulate > /dev/full: exit $rc"
fi
expect_err "--trace: empty value (FILE)" simulate --ctx 4k --schedule fa2 --trace ""
# a spec field as its file has it: whole numbers whole, the rest read back exactly
"$L" gpus --format json | python3 -c 'import json,sys; d={g["name"]: g for g in json.load(sys.stdin)}; sys.exit(not (d["a100"]["l2_bytes"] == 41943040 and isinstance(d["a100"]["l2_bytes"], int)))' &&
  ok || bad "gpus --format json: l2_bytes of a100 not 41943040"
# an option no asked schedule takes is refused, not dropped
expect_err "--splits 4: only the split schedule takes it" simulate --ctx 4k --splits 4 --schedule streamk
expect_err "--grid 100: only the streamk and hybrid schedules take it" simulate --ctx 4k --grid 100 --schedule split,fa2
# a timeline with no CTA, or a CTA's events out of time order, is refused
printf 'cta,sm,event,unit,t_ns\n' > "$tmp/tl3.csv"
expect_err "tl3.csv:1: no CTA in the timeline" timeline "$tmp/tl3.csv" --trace "$tmp/tl3.json"
printf 'cta,sm,event,unit,t_ns\n0,3,start,5,1200\n0,3,seg_end,5,1100\n' > "$tmp/tl4.csv"
expect_err "tl4.csv:3: event 'seg_end' of CTA 0 at 1100 ns, before its previous one" timeline "$tmp/tl4.csv" --trace "$tmp/tl4.json"
echo "cli_simulate: $pass passed, $fail failed"
[ $fail -eq 0 ]
