#!/bin/sh
# run-on-gpu.sh: on the GPU machine, build the kernels, run the correctness
# suite, record the GPU's facts, time a sweep with leanbench and the PyTorch
# peer, and print a comparison table last.  Everything lands under $OUT
# (default ./out).
#
# Every mode but link builds the kernels and runs gpu-test (the correctness
# suite, kernels/gputest.cu) first, and stops with status 1 when it fails:
# nothing is timed after a failed gpu-test.  leanbench itself checks each
# configuration against its CPU reference before timing it.
#
#   sh kernels/run-on-gpu.sh quick   build + gpu-test + a few shapes + peer check
#   sh kernels/run-on-gpu.sh full    build + gpu-test + peer/sim sweeps + peers
#   sh kernels/run-on-gpu.sh sweep   the same as full (kept for old commands)
#   sh kernels/run-on-gpu.sh sms     the --sms subset on 16..132 SMs
#   sh kernels/run-on-gpu.sh campaign  like full without the L2-hint A/B and
#                                    the --sms subset (a second GPU's campaign)
#   sh kernels/run-on-gpu.sh explore   split counts, grids, PDL off/on,
#                                    timelines, and ncu launch figures of
#                                    ours and cuDNN's
#   sh kernels/run-on-gpu.sh restructure  the kernels of a snapshot (KBASE,
#                                    default kbase/, made beforehand on a
#                                    machine with the history by
#                                    `sh kernels/snapshot-base.sh REV kbase`)
#                                    against the current ones: both leanbench
#                                    builds, gpu-test of the current one, then
#                                    kernels/sweep-restructure.txt (or
#                                    RESTRUCTURE_SWEEP=FILE) line by
#                                    line, old and new alternating (ABBA),
#                                    each configuration checked before it is
#                                    timed; restructure-{old,new}.csv and a
#                                    last table of old us, new us, new/old
#                                    and the geometric mean of the ratios
#   sh kernels/run-on-gpu.sh profiles a  kernel profiles, first half: build +
#                                    gpu-test, then
#                                    launch.csv: every kernel PyTorch's SDPA
#                                    backends (flash, cuDNN, efficient) and
#                                    FlexAttention launch per decode shape,
#                                    read with ncu (experiments/peers/
#                                    launch_probe.py), and smbw.csv: per-SM
#                                    read bandwidth on 8..132 SMs
#                                    (leanbench --sm-bandwidth)
#   sh kernels/run-on-gpu.sh profiles b  second half: build (a no-op on the
#                                    machine of part a) + gpu-test again, then
#                                    sms.csv: kernels/sweep-sms2.txt on
#                                    16..132 SMs, and peers.csv: the PyTorch
#                                    peer on the standard shapes (FlexAttention
#                                    on a subset) and on --shapes extra
#   Each profiles half stays under ~9 minutes (steps are cut by a deadline,
#   PROFILES_DEADLINE seconds, default 540) and leaves at most 6 files in $OUT.
#   sh kernels/run-on-gpu.sh timelines  build + gpu-test, then each line of
#                                    TIMELINE_SWEEP (kernels/sweep-wave.txt)
#                                    with its CTAs' timelines and a line per
#                                    launch of experiments/cta_spans.py
#   sh kernels/run-on-gpu.sh merge    build + gpu-test, then stream-K
#                                    timelines of kernels/sweep-merge.txt:
#                                    each host's wait and merge
#                                    (merge-hosts.csv)
#   sh kernels/run-on-gpu.sh oracle   build + gpu-test,
#                                    per-SM read bandwidth on 8..24 SMs
#                                    (smbw.csv), then every candidate of the
#                                    tuner's space for each workload of
#                                    kernels/sweep-oracle.txt (oracle.csv),
#                                    each checked against the workload's CPU
#                                    reference before it is timed; stops at
#                                    ORACLE_DEADLINE seconds from the start
#                                    (default 540);
#                                    ORACLE_SWEEP=FILE times another sweep
#                                    (kernels/sweep-gqa16.txt: groups of 16),
#                                    ORACLE_SMBW=0 skips the per-SM step
#   sh kernels/run-on-gpu.sh smscale  build + gpu-test, then smbw.csv: the
#                                    read ceiling on SMSCALE_SMBW SMs (default
#                                    32 48 64 96 132), and sms.csv:
#                                    kernels/sweep-sms2.txt on 16..132 SMs;
#                                    stops at SMSCALE_DEADLINE seconds from
#                                    the start (default 540)
#   sh kernels/run-on-gpu.sh gap      build + gpu-test, then the combine
#                                    kernel's gap and length from in-kernel
#                                    timers (leanbench --timeline
#                                    --timeline-launches GAP_LAUNCHES, default
#                                    30) over kernels/sweep-gap.txt with PDL
#                                    on and off: gap.csv, one row per launch
#   sh kernels/run-on-gpu.sh confirm  build + gpu-test, then the tuner's pick
#                                    and the oracle's fastest plans of each
#                                    workload timed again with many launches
#                                    (kernels/sweep-confirm-h100.txt or
#                                    -h200.txt by the GPU; experiments/
#                                    confirm.py): confirm.csv and its regret
#   sh kernels/run-on-gpu.sh link     the interconnect of a multi-GPU host
#                                    (build/linkbench: peer copies 256 B to
#                                    256 MB, each pair and all peers into
#                                    GPU 0; link.csv), nvidia-smi topo -m
#   sh kernels/run-on-gpu.sh mgpu     decode over the GPUs of one host
#                                    (leanbench --gpus: kernels/sweep-mgpu.txt,
#                                    kv and heads parallelism on 2 and 4 GPUs,
#                                    each configuration checked against the
#                                    whole workload's CPU reference before it
#                                    is timed; mgpu.csv), nvidia-smi topo -m;
#                                    MGPU_SWEEP=FILE times another sweep
#   sh kernels/run-on-gpu.sh tuned    build + gpu-test, the
#                                    tuner's choices for the standard peer
#                                    shapes (kernels/sweep-tuned.txt, or
#                                    -tuned-h200.txt on an H200, from
#                                    leansim tune --emit-sweep),
#                                    the PyTorch peer on the same shapes in
#                                    the same call, and compare.py on
#                                    CUDA-graph replay times (like for like);
#                                    every shape is checked against its CPU
#                                    reference first, which does not fit one
#                                    call for all 120: TUNED_PART=I/N times
#                                    the I-th of every N lines
#
# Environment (besides those named with their modes above):
#   OUT                 where everything lands (default ./out)
#   LEANBENCH_COMMIT, LEANBENCH_DATE  the commit and date columns (default:
#                       below); LEANBENCH_DRIVER is set from nvidia-smi;
#                       LEANBENCH_SM_MHZ and LEANBENCH_MEM_MHZ (nvidia-smi's
#                       max clocks) are for the PyTorch peer's rows
#                       (leanbench asks the driver for its own)
#   TUNED_SWEEP, TUNED_MATCH, TUNED_EXCLUDE, TUNED_TIMEOUT,
#   TUNED_PEER_TIMEOUT, TUNED_BACKENDS   tuned: see that mode's comments
#   MGPU_TIMEOUT        mgpu: seconds for its sweep (default 450)
#   MERGE_LAUNCHES      merge: launches recorded per timeline (default 5)
#   TIMELINE_LAUNCHES, TIMELINE_TIMEOUT  timelines: launches recorded per
#                       timeline (default 5), seconds for the sweep (240)
#   CONFIRM_SWEEP, CONFIRM_TIMEOUT  confirm: the sweep (default by the GPU),
#                       seconds for it (420)
#   TMPDIR              tuned: where its filtered sweeps go (default /tmp)
#
# A mode not listed above, or profiles without its half, stops with status
# 2 before anything runs.  Every step that runs leanbench (or the peer
# under `timed`) is watched: one that fails is listed at the end and the
# script exits 1; one cut short by its timeout or deadline is listed as
# such (its CSV then lacks the rows it did not reach).
set -u
# The commit column: HEAD, "-dirty" when tracked files differ from it, and
# "+k" with a checksum of the sources the kernels are built from, which
# names them even where the copy of the tree carries a stale .git (on a lent
# machine); at any commit, sh kernels/run-on-gpu.sh hash prints the checksum.
# It names the code only: run-time knobs (LEANBENCH_L2PF, LEANBENCH_PDL,
# LEANBENCH_ROWS_CAP) and the kernels' build switches (attn_build_switches;
# "none" while decode.cuh has none) are columns of their own in leanbench's
# CSV (sim/runcsv.h: l2pf, pdl, rows_cap, arena, build), so no step here
# tags the commit with them.
kernel_sources_hash() {
    cat kernels/*.cu kernels/*.cuh kernels/*.h sim/plan.c sim/plan.h 2>/dev/null | cksum | cut -d' ' -f1
}
if [ "${1:-}" = hash ]; then kernel_sources_hash; exit 0; fi
MODE=${1:-full}
PART=${2:-}
case "$MODE" in
quick|full|sweep|campaign|sms|explore|restructure|timelines|merge|oracle|smscale|gap|confirm|link|mgpu|tuned) ;;
profiles)
    case "$PART" in a|b) ;; *) echo "run-on-gpu.sh profiles: say which half, a or b" >&2; exit 2 ;; esac ;;
*)
    echo "run-on-gpu.sh: unknown mode '$MODE' (the modes are listed at the top of kernels/run-on-gpu.sh)" >&2; exit 2 ;;
esac
OUT=${OUT:-out}
T0=$(date +%s)
mkdir -p "$OUT"
[ "$MODE" = profiles ] || [ "$MODE" = oracle ] || [ "$MODE" = restructure ] || [ "$MODE" = smscale ] || mkdir -p "$OUT/tl"
OUT=$(cd "$OUT" && pwd)
LOG="$OUT/log.txt"
LOG0=$(cat "$LOG" 2>/dev/null | wc -l)   # the lines of earlier runs into the same $OUT
say() { echo "== $*" | tee -a "$LOG"; }
# noted NAME RC: a step's status into the log, which the last lines read (a
# step may run in a pipeline's subshell); 124/137: cut short by timeout
noted() {
    case $2 in
    0) ;;
    124|137) echo "step cut short: $1 (rc $2): its output lacks what it did not reach" >>"$LOG" ;;
    *) echo "step failed: $1 (rc $2)" >>"$LOG" ;;
    esac
}
# step NAME CMD...: runs CMD, its status noted
step() { _sn=$1; shift; "$@"; _sr=$?; noted "$_sn" $_sr; return $_sr; }
timed() { n=$1; shift; t0=$(date +%s); "$@"; r=$?; echo "$n: $(( $(date +%s) - t0 )) s (rc $r)" | tee -a "$LOG"; noted "$n" $r; return $r; }
# by_gpu H100_FILE H200_FILE: the file for the GPU this runs on (the H100's for any but an H200)
by_gpu() {
    case "$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)" in
        *H200*) echo "$2" ;;
        *) echo "$1" ;;
    esac
}
# the correctness suite; nothing is timed after it fails
gputest_or_stop() {
    say "gpu-test"
    timed gpu-test timeout 150 make gpu-test >"$OUT/gputest.txt" 2>&1
    rc=$?
    tail -3 "$OUT/gputest.txt"
    if [ $rc -ne 0 ]; then say "gpu-test FAILED (rc $rc): nothing timed"; exit 1; fi
    # every decode kernel's occupancy as the driver reports it (tests/test_kres.c holds sim/kres.c to it)
    build/leanbench --occupancy --csv "$OUT/occupancy.csv" >>"$LOG" 2>&1 || say "occupancy table failed"
}

export LEANBENCH_DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)
export LEANBENCH_SM_MHZ=$(nvidia-smi --query-gpu=clocks.max.sm --format=csv,noheader,nounits | head -1)
export LEANBENCH_MEM_MHZ=$(nvidia-smi --query-gpu=clocks.max.mem --format=csv,noheader,nounits | head -1)
if [ -z "${LEANBENCH_COMMIT:-}" ]; then
    LEANBENCH_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    git diff --quiet HEAD -- 2>/dev/null || LEANBENCH_COMMIT="$LEANBENCH_COMMIT-dirty"
    LEANBENCH_COMMIT="$LEANBENCH_COMMIT+k$(kernel_sources_hash)"
fi
export LEANBENCH_COMMIT
export LEANBENCH_DATE=${LEANBENCH_DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
export PYTHONUNBUFFERED=1

say "facts"
{
    nvidia-smi
    nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv
    nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.draw,power.limit,temperature.gpu,persistence_mode --format=csv
    /usr/local/cuda/bin/nvcc --version | tail -2
    echo "commit $LEANBENCH_COMMIT date $LEANBENCH_DATE"
} >"$OUT/facts.txt" 2>&1
tail -5 "$OUT/facts.txt"

KBASE=${KBASE:-kbase}
if [ "$MODE" = restructure ]; then
    [ -f "$KBASE/kernels/decode.cuh" ] && [ -f "$KBASE/Makefile" ] ||
        { say "restructure: no snapshot in $KBASE (sh kernels/snapshot-base.sh REV $KBASE, where git has REV)"; exit 2; }
    say "build of the snapshot in $KBASE ($(cat "$KBASE/REV" 2>/dev/null)), in the background"
    make -C "$KBASE" -j8 build/leanbench >"$OUT/build-old.txt" 2>&1 &
    BASE_BUILD=$!
fi
say "build"
make -j16 kernels >>"$LOG" 2>&1 || { tail -30 "$LOG"; exit 1; }

[ "$MODE" = link ] || gputest_or_stop

B="timeout 300 build/leanbench"
# kernels/sweep-sms2.txt (out-of-sample SM-scaling shapes) on 16..132 SMs into sms.csv, each SM count
# given at most $1 seconds of what cap (the mode's deadline) leaves
sms_out_of_sample() {
    say "sms subset, out of sample (kernels/sweep-sms2.txt)"
    for n in 16 24 32 48 64 96 132; do
        t=$(cap $1); [ $t -gt 5 ] || break
        step "sms $n" timeout $t build/leanbench --sms $n --sweep kernels/sweep-sms2.txt --csv "$OUT/sms.csv" >>"$LOG" 2>&1 || echo "sms $n: rc $?" | tee -a "$LOG"
    done
    grep "green context\|CHECK\|skipped\|failures" "$LOG" | sort | uniq -c
}
case "$MODE" in
quick)
    say "quick timings"
    for c in 65536 131072 262144 524288; do
        step "quick ctx $c" $B --ctx $c --schedule fa2,split,streamk,hybrid,balanced --csv "$OUT/quick.csv" --reps 30 2>&1 | tee -a "$LOG"
    done
    step "quick ctx 4096" $B --ctx 4096 --schedule split,streamk --csv "$OUT/quick.csv" 2>&1 | tee -a "$LOG"
    step "quick gqa" $B --batch 8 --heads 32 --kv-heads 8 --ctx 16384 --schedule all --csv "$OUT/quick.csv" 2>&1 | tee -a "$LOG"
    step "quick timeline" $B --ctx 65536 --schedule streamk --timeline "$OUT/tl/streamk-b1h32-64k.csv" 2>&1 | tee -a "$LOG"
    step "quick sms 16" $B --sms 16 --ctx 65536 --schedule streamk,split,fa2 --csv "$OUT/quick.csv" 2>&1 | tee -a "$LOG"
    say "peer quick"
    python3 experiments/peers/sdpa_peer.py --quick --csv "$OUT/peers-quick.csv" 2>&1 | tee -a "$LOG"
    python3 experiments/peers/compare.py "$OUT/quick.csv" "$OUT/peers-quick.csv"
    ;;
full|sweep|campaign)
    if [ "$MODE" != campaign ]; then
    say "L2 prefetch hint: off, on, by grid size"
    for pf in 0 1 auto; do
        step "l2pf $pf" env LEANBENCH_L2PF=$pf timeout 200 build/leanbench --sweep kernels/sweep-pf.txt --csv "$OUT/tl/pf.csv" >>"$LOG" 2>&1
    done
    # the hint used is the l2pf column (33); auto's rows repeat the forced run of the same choice
    awk -F, 'NR>1 {k=$9" b="$10" h="$11" kvh="$12" ctx="$15" ctas="$17; t[k]=t[k]" pf"$33"="$21} END {for (k in t) printf "%-50s %s\n", k, t[k]}' "$OUT/tl/pf.csv" | sort
    fi
    say "sweep: simulator validation shapes"
    timed "sim sweep" timeout 260 build/leanbench --sweep kernels/sweep-sim.txt --csv "$OUT/sweep.csv" >>"$LOG" 2>&1
    say "sweep: peer shapes"
    timed "peer sweep" timeout 120 build/leanbench --sweep kernels/sweep-peer.txt --csv "$OUT/sweep.csv" >>"$LOG" 2>&1
    say "timelines"
    for s in streamk hybrid split fa2; do
        step "timeline $s" $B --ctx 65536 --schedule $s --timeline "$OUT/tl/$s-b1h32-64k.csv" >>"$LOG" 2>&1
    done
    step "timeline ragged" $B --batch 4 --heads 32 --kv-heads 8 --ctx 3000,70000,12345,150000 --schedule streamk --timeline "$OUT/tl/streamk-ragged.csv" >>"$LOG" 2>&1
    say "peers"
    timed peers timeout 120 python3 experiments/peers/sdpa_peer.py --csv "$OUT/peers.csv" >>"$LOG" 2>&1
    grep -c . "$OUT/sweep.csv" "$OUT/peers.csv"
    if [ "$MODE" != campaign ]; then
    say "sms subset"
    for n in 16 32 48 64 96 132; do
        step "sms $n" timeout 120 build/leanbench --sms $n --sweep kernels/sweep-sms.txt --csv "$OUT/sms.csv" >>"$LOG" 2>&1
    done
    grep "green context" "$LOG" | sort | uniq -c
    fi
    (cd "$OUT" && tar czf tl.tgz tl && rm -rf tl)
    say "long-context bandwidth (b=1 h=32 d=128 fp16)"
    awk -F, 'NR>1 && $10==1 && $11==32 && $12==32 && $13==128 && $15>=65536 && $15<=524288 && ($9=="streamk"||$9=="split"||$9=="fa2") {printf "%-8s ctx=%-7s %9.1f us %7.1f GB/s\n",$9,$15,$21,$26}' "$OUT/sweep.csv"
    say "ours vs PyTorch"
    python3 experiments/peers/compare.py "$OUT/sweep.csv" "$OUT/peers.csv" | tee "$OUT/compare.txt"
    ;;
explore)
    timed explore timeout 200 build/leanbench --sweep kernels/sweep-explore.txt --csv "$OUT/explore.csv" >>"$LOG" 2>&1
    step "explore pdl 0" env LEANBENCH_PDL=0 timeout 100 build/leanbench --sweep kernels/sweep-explore.txt --csv "$OUT/explore.csv" >>"$LOG" 2>&1
    for sp in 7 33; do
        step "timeline split $sp" $B --ctx 65536 --schedule split --splits $sp --timeline "$OUT/tl/split$sp-b1h32-64k.csv" >>"$LOG" 2>&1
    done
    step "timeline streamk" $B --ctx 65536 --schedule streamk --timeline "$OUT/tl/streamk-b1h32-64k.csv" >>"$LOG" 2>&1
    step "timeline fa2" $B --ctx 65536 --schedule fa2 --timeline "$OUT/tl/fa2-b1h32-64k.csv" >>"$LOG" 2>&1
    NCU="timeout 120 ncu --clock-control none --metrics launch__grid_size,launch__block_size,launch__registers_per_thread,launch__shared_mem_per_block_dynamic,launch__shared_mem_per_block_static,launch__occupancy_limit_shared_mem,launch__occupancy_limit_registers,gpu__time_duration.sum,dram__bytes_read.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed"
    for shp in "1 32 32 65536" "1 32 8 65536" "8 32 8 4096" "1 32 32 4096"; do
        $NCU python3 experiments/peers/sdpa_once.py $shp >"$OUT/ncu-sdpa-$(echo $shp | tr ' ' _).txt" 2>&1
    done
    $NCU -k regex:"decode_kernel|combine_kernel" -c 4 build/leanbench --ctx 65536 --schedule streamk,split --reps 1 --warmup 0 >"$OUT/ncu-ours.txt" 2>&1
    timeout 120 ncu --clock-control none --section WarpStateStats --section SchedulerStats --section MemoryWorkloadAnalysis -k regex:"decode_kernel" -c 1 build/leanbench --ctx 65536 --schedule streamk --reps 1 --warmup 0 >"$OUT/ncu-ours-stalls.txt" 2>&1
    (cd "$OUT" && tar czf tl.tgz tl && rm -rf tl)
    grep -h -E "^  [a-z_]+[A-Za-z_<>]*\(|launch__grid|launch__block|registers|gpu__time|dram__bytes|dram__throughput|ran b=" "$OUT"/ncu-sdpa-*.txt | cut -c1-150 | head -120
    # pdl is column 34, the build switches 37
    awk -F, 'NR>1 {printf "pdl=%s %-8s b=%-2s h=%-2s kvh=%-2s ctx=%-7s ctas=%-5s sp=%-3s %9.2f us %7.1f GB/s  %s\n",$34,$9,$10,$11,$12,$15,$17,$18,$21,$26,$37}' "$OUT/explore.csv"
    ;;
tuned)
    # leanbench checks each shape against its CPU reference before timing it (gpu-test
    # above checked every kernel instance, schedule, dtype and group)
    # TUNED_PART=I/N: the I-th of every N lines only, so that N calls share the CPU references
    # TUNED_SWEEP=FILE: another sweep of choices (default by the GPU: kernels/sweep-tuned-h200.txt on an
    # H200, else kernels/sweep-tuned.txt, the H100's); TUNED_TIMEOUT: seconds for it (240)
    # the peer times the same shapes (sdpa_peer.py --only), TUNED_PEER_TIMEOUT seconds at most (220),
    # with the backends TUNED_BACKENDS (default cudnn: it was PyTorch's fastest on all 131 shape
    # timings of h100-20261127-peers-tuned-v4-*.csv and h100-20261128-peers-tuned-long.csv)
    TSWEEP=${TUNED_SWEEP:-$(by_gpu kernels/sweep-tuned.txt kernels/sweep-tuned-h200.txt)}
    TSRC=$TSWEEP
    if [ -n "${TUNED_MATCH:-}${TUNED_EXCLUDE:-}" ]; then   # TUNED_MATCH=ERE: only the lines it matches; TUNED_EXCLUDE=ERE: not those
        TSWEEP="${TMPDIR:-/tmp}/sweep-tuned-match.txt"
        grep -v '^[[:space:]]*#' "$TSRC" | grep -E -e "${TUNED_MATCH:-.}" | grep -v -E -e "${TUNED_EXCLUDE:-^#}" > "$TSWEEP"
        [ -s "$TSWEEP" ] || { say "TUNED_MATCH=$TUNED_MATCH: no lines"; exit 2; }
        TSRC=$TSWEEP
    fi
    if [ -n "${TUNED_PART:-}" ]; then
        TSWEEP="${TMPDIR:-/tmp}/sweep-tuned-part.txt"
        grep -v '^[[:space:]]*#' "$TSRC" | grep . |
            awk -v p="$TUNED_PART" 'BEGIN { split(p, a, "/") } (NR - 1) % a[2] == a[1] - 1' > "$TSWEEP"
        [ -s "$TSWEEP" ] || { say "TUNED_PART=$TUNED_PART: no lines (I/N with 1 <= I <= N)"; exit 2; }
    fi
    say "the tuner's choices ($TSWEEP: $(grep -vc '^[[:space:]]*#' "$TSWEEP") lines)"
    timed tuned timeout ${TUNED_TIMEOUT:-240} build/leanbench --sweep "$TSWEEP" --csv "$OUT/tuned.csv" >"$OUT/tuned-log.txt" 2>&1
    grep -E "CHECK FAILED|skipped|failures" "$OUT/tuned-log.txt" | sort | uniq -c | head
    say "peers (standard shapes, SDPA backends)"
    timed peers timeout ${TUNED_PEER_TIMEOUT:-220} python3 experiments/peers/sdpa_peer.py --csv "$OUT/peers.csv" --shapes standard \
        --flex none --budget $(( ${TUNED_PEER_TIMEOUT:-220} - 30 )) --only "$TSWEEP" \
        --backends "${TUNED_BACKENDS:-cudnn}" >>"$LOG" 2>&1
    say "tuned leansim vs PyTorch, CUDA-graph replay times on both sides"
    python3 experiments/peers/compare.py "$OUT/tuned.csv" "$OUT/peers.csv" | tee "$OUT/compare.txt" | tail -60
    gzip -f "$OUT/tuned-log.txt"
    rm -f "$OUT/occupancy.csv"   # gputest.txt says the same; fewer files come back whole
    ;;
link)
    say "topology"
    nvidia-smi topo -m | tee "$OUT/topo.txt"
    make -j8 build/linkbench >>"$LOG" 2>&1 || { say "linkbench build failed"; exit 1; }
    say "peer copies"
    timed linkbench timeout 400 build/linkbench --csv "$OUT/link.csv" --reps 30
    ;;
mgpu)
    export NCCL_NVLS_ENABLE=0   # NVLink SHARP uses multicast: never on shared GPUs
    say "topology"
    nvidia-smi topo -m | tee "$OUT/topo.txt"
    say "kv and heads parallelism (${MGPU_SWEEP:-kernels/sweep-mgpu.txt})"
    timed mgpu timeout ${MGPU_TIMEOUT:-450} build/leanbench --gpus 2 --sweep "${MGPU_SWEEP:-kernels/sweep-mgpu.txt}" \
        --csv "$OUT/mgpu.csv" --reps 20 >"$OUT/mgpu-log.txt" 2>&1
    grep -E "CHECK FAILED|skipped|failed|error" "$OUT/mgpu-log.txt" | head
    tail -50 "$OUT/mgpu-log.txt"
    ;;
oracle)
    left() { echo $(( ${ORACLE_DEADLINE:-540} - ($(date +%s) - T0) )); }
    if [ "${ORACLE_SMBW:-1}" = 1 ]; then
        say "per-SM read bandwidth, 8..24 SMs"
        for n in 8 16 24; do
            step "smbw $n" timeout 40 build/leanbench --sms $n --sm-bandwidth --csv "$OUT/smbw.csv" >>"$LOG" 2>&1 || echo "smbw --sms $n: rc $?" | tee -a "$LOG"
        done
        awk -F, 'NR>1 && $16+0 > b[$9]+0 { b[$9]=$16 } END { for (k in b) printf "sms=%s: %.1f GB/s per SM\n", k, b[k] }' "$OUT/smbw.csv" | sort
    fi
    OSWEEP=${ORACLE_SWEEP:-kernels/sweep-oracle.txt}
    say "oracle: every candidate of the tuner's space ($OSWEEP)"
    t=$(left); [ $t -gt 30 ] && timed oracle timeout $t build/leanbench --oracle --sweep "$OSWEEP" \
        --reps 10 --warmup 2 --graph-n 4 --csv "$OUT/oracle.csv" >"$OUT/oracle-log.txt" 2>&1
    echo "oracle: rc $?; $(grep -c . "$OUT/oracle.csv") rows; $(grep -c 'CHECK FAILED' "$OUT/oracle-log.txt") failed checks"
    grep -E "CHECK FAILED|skipped|failures" "$OUT/oracle-log.txt" | sort | uniq -c | head -20
    say "oracle: the fastest candidate per workload"
    awk -F, 'NR>1 { k=$10" "$11" "$12" "$13" "$15; if (!(k in b) || $21+0 < b[k]+0) { b[k]=$21; w[k]=$9" bn="$16" ctas="$17" sp="$18 } }
        END { for (k in b) printf "%-40.40s %10.2f us  %s\n", k, b[k], w[k] }' "$OUT/oracle.csv" | sort | head -100
    gzip -f "$OUT/oracle-log.txt"
    ;;
gap)
    # The combine kernel's gap and length from in-kernel timers: each line of
    # kernels/sweep-gap.txt with --timeline, GAP_LAUNCHES launches recorded
    # (each after an L2 flush), PDL on and off; gap.csv has one row per
    # launch (times in ns from the decode kernel's first CTA start).
    say "combine gap: kernels/sweep-gap.txt, PDL on and off"
    for pdl in 1 0; do
        mkdir -p "$OUT/tl/pdl$pdl"
        grep -v '^#' kernels/sweep-gap.txt | grep . | awk -v d="$OUT/tl/pdl$pdl" '{ printf "%s --reps 20 --timeline %s/g%02d.csv\n", $0, d, NR }' \
            > "$OUT/sweep-gap-pdl$pdl.txt"
        LEANBENCH_PDL=$pdl timed gap-pdl$pdl timeout 200 build/leanbench --sweep "$OUT/sweep-gap-pdl$pdl.txt" \
            --timeline-launches ${GAP_LAUNCHES:-30} --csv "$OUT/gap-runs.csv" >>"$OUT/gap-log.txt" 2>&1
        echo "pdl=$pdl: rc $?; $(grep -c 'CHECK FAILED' "$OUT/gap-log.txt") failed checks so far"
    done
    echo "gpu,pdl,line,schedule,batch,heads,kv_heads,head_dim,ctx,block_n,ctas,splits,launch,main_start_ns,main_end_ns,comb_start_ns,comb_ready_ns,comb_end_ns" > "$OUT/gap.csv"
    for f in "$OUT"/tl/pdl*/g*.csv; do
        awk -v pdl="$(basename "$(dirname "$f")" | tr -dc 0-9)" -v line="$(basename "$f" .csv | tr -dc 0-9)" -F= '
            /^# gpu=/ { gpu=$2 } /^# schedule=/ { s=$2 } /^# batch=/ { b=$2 } /^# heads=/ { h=$2 } /^# kv_heads=/ { kh=$2 }
            /^# head_dim=/ { d=$2 } /^# ctx=/ { c=$2 } /^# block_n=/ { bn=$2 } /^# ctas=/ { g=$2 } /^# splits=/ { sp=$2 }
            /^# span=/ { printf "%s,%s,%d,%s,%s,%s,%s,%s,\"%s\",%s,%s,%s,%s\n", gpu, pdl, line, s, b, h, kh, d, c, bn, g, sp, $2 }
            !/^#/ { exit }' "$f" >> "$OUT/gap.csv"
    done
    (cd "$OUT" && tar czf timelines-gap.tar.gz tl && rm -rf tl)
    say "the same gap between FlashAttention-2's split and combine kernels (PyTorch, profiler records)"
    timed gap-peer timeout 150 python3 experiments/peers/gap_probe.py --csv "$OUT/gap-peer.csv" 2>&1 | tee -a "$LOG" | tail -12
    gzip -f "$OUT/gap-log.txt"
    say "gap (us): the launch of median gap (comb_ready - main_end), its combine length (comb_end - comb_ready) and comb_start - main_end"
    awk -F, 'NR>1 && $18 >= 0 { k=sprintf("pdl=%s %-9s b=%-2s h=%-3s kvh=%-3s d=%-3s ctx=%-16s sp=%-2s", $2,$4,$5,$6,$7,$8,$9,$12);
        print k, ($17-$15)/1e3, ($18-$17)/1e3, ($16-$15)/1e3 }' "$OUT/gap.csv" | sort -k1,8 -k9,9n |
        awk '{ k=""; for (i=1;i<=8;i++) k=k $i " "; n[k]++; g[k, n[k]]=$9; c[k, n[k]]=$10; e[k, n[k]]=$11 }
             END { for (k in n) { m=int((n[k]+1)/2); printf "%s gap %7.2f  combine %7.2f  sched %7.2f  (n %d)\n", k, g[k,m], c[k,m], e[k,m], n[k] } }' | sort
    ;;
merge)
    # A stream-K host's merge by the size of its partial states: each line
    # of kernels/sweep-merge.txt with --timeline (MERGE_LAUNCHES launches
    # recorded, the last one's events kept); merge-hosts.csv has one row per
    # host (experiments/merge_hosts.py): its unit's parts, wait and merge.
    say "host merges: kernels/sweep-merge.txt"
    mkdir -p "$OUT/tl/merge"
    grep -v '^#' kernels/sweep-merge.txt | grep . | awk -v d="$OUT/tl/merge" '{ printf "%s --reps 20 --timeline %s/m%02d.csv\n", $0, d, NR }' \
        > "$OUT/sweep-merge-tl.txt"
    timed merge timeout 240 build/leanbench --sweep "$OUT/sweep-merge-tl.txt" --timeline-launches ${MERGE_LAUNCHES:-5} \
        --csv "$OUT/merge-runs.csv" >"$OUT/merge-log.txt" 2>&1
    echo "merge: rc $?; $(grep -c 'CHECK FAILED' "$OUT/merge-log.txt") failed checks"
    python3 experiments/merge_hosts.py "$OUT"/tl/merge/m*.csv > "$OUT/merge-hosts.csv"
    (cd "$OUT" && tar czf timelines-merge.tar.gz tl && rm -rf tl "$OUT/sweep-merge-tl.txt")
    gzip -f "$OUT/merge-log.txt"
    say "host merge (us): median over the hosts of each plan, by head dim, rows and parts"
    awk -F, 'NR>1 { k=sprintf("d=%-3s rows=%-2s ctas=%-3s parts=%-3s", $6, $4/$5, $9, $12); n[k]++; m[k]+=$14; w[k]+=$13 }
        END { for (k in n) printf "%s merge %7.2f  wait %7.2f  (hosts %d)\n", k, m[k]/n[k]/1e3, w[k]/n[k]/1e3, n[k] }' \
        "$OUT/merge-hosts.csv" | sort
    ;;
timelines)
    # Any sweep with the CTAs' timelines: each line of TIMELINE_SWEEP (default
    # kernels/sweep-wave.txt) with --reps 30 and --timeline tl/tNN.csv
    # (TIMELINE_LAUNCHES launches recorded, the last one's events kept), each
    # checked first; timelines-runs.csv, timelines.tar.gz, and a line per
    # launch from experiments/cta_spans.py (span, CTA lengths, segments, waits)
    TS=${TIMELINE_SWEEP:-kernels/sweep-wave.txt}
    say "timelines: $TS"
    mkdir -p "$OUT/tl/t"
    grep -v '^#' "$TS" | grep . | awk -v d="$OUT/tl/t" '{ printf "%s --reps 30 --timeline %s/t%02d.csv\n", $0, d, NR }' \
        > "$OUT/sweep-timelines.txt"
    timed timelines timeout ${TIMELINE_TIMEOUT:-240} build/leanbench --sweep "$OUT/sweep-timelines.txt" \
        --timeline-launches ${TIMELINE_LAUNCHES:-5} --csv "$OUT/timelines-runs.csv" >"$OUT/timelines-log.txt" 2>&1
    echo "timelines: rc $?; $(grep -c 'CHECK FAILED' "$OUT/timelines-log.txt") failed checks"
    python3 experiments/cta_spans.py "$OUT"/tl/t/t*.csv | tee "$OUT/spans.txt"
    (cd "$OUT" && tar czf timelines.tar.gz tl/t && rm -rf tl/t "$OUT/sweep-timelines.txt")
    gzip -f "$OUT/timelines-log.txt"
    ;;
confirm)
    # The tuner's pick timed again beside the oracle's fastest plans
    # (experiments/confirm.py), many launches each: kernels/sweep-confirm-
    # h100.txt or -h200.txt by the GPU this runs on (CONFIRM_SWEEP=FILE: that
    # one), confirm.csv; every plan checked against its workload's CPU
    # reference first (computed once per workload).
    CS=${CONFIRM_SWEEP:-$(by_gpu kernels/sweep-confirm-h100.txt kernels/sweep-confirm-h200.txt)}
    say "confirm: $CS ($(grep -vc '^#' "$CS") plans)"
    timed confirm timeout ${CONFIRM_TIMEOUT:-420} build/leanbench --sweep "$CS" --warmup 5 --graph-n 4 \
        --csv "$OUT/confirm.csv" >"$OUT/confirm-log.txt" 2>&1
    echo "confirm: rc $?; $(grep -c . "$OUT/confirm.csv") rows; $(grep -c 'CHECK FAILED' "$OUT/confirm-log.txt") failed checks"
    grep -E "CHECK FAILED|skipped|failures|checked" "$OUT/confirm-log.txt" | sort | uniq -c | head
    gzip -f "$OUT/confirm-log.txt"
    say "the tuner's pick against the fastest of the plans timed again"
    python3 experiments/confirm.py score "$CS" "$OUT/confirm.csv"
    ;;
smscale)
    # seconds left before the deadline, at most $1 (0 when spent)
    cap() { l=$(( ${SMSCALE_DEADLINE:-540} - ($(date +%s) - T0) )); [ $l -lt 0 ] && l=0; [ $l -lt $1 ] && echo $l || echo $1; }
    say "read ceiling by SM count (leanbench --sm-bandwidth)"
    for n in ${SMSCALE_SMBW:-32 48 64 96 132}; do
        t=$(cap 35); [ $t -gt 5 ] || break
        step "smbw $n" timeout $t build/leanbench --sms $n --sm-bandwidth --csv "$OUT/smbw.csv" >>"$LOG" 2>&1 || echo "smbw --sms $n: rc $?" | tee -a "$LOG"
    done
    awk -F, 'NR>1 && $15+0 > b[$9]+0 { b[$9]=$15 } END { for (k in b) printf "sms=%s: %.0f GB/s\n", k, b[k] }' "$OUT/smbw.csv" | sort -t= -k2 -n
    sms_out_of_sample 45
    say "sms.csv: time (us) by SM count"
    awk -F, 'NR>1 { k=sprintf("%-8s b=%-2s h=%-3s kvh=%-3s d=%-3s ctx=%-6s", $9,$10,$11,$12,$13,$15); t[k]=t[k] sprintf(" %s:%.0f", $2, $21) }
        END { for (k in t) print k t[k] }' "$OUT/sms.csv" | sort
    ;;
profiles)
    # seconds left before the deadline, at most $1 (0 when spent)
    cap() { l=$(( ${PROFILES_DEADLINE:-540} - ($(date +%s) - T0) )); [ $l -lt 0 ] && l=0; [ $l -lt $1 ] && echo $l || echo $1; }
    W=/tmp/leanbench-profiles; rm -rf "$W"; mkdir -p "$W"
    export TORCHINDUCTOR_COMPILE_THREADS=1
    case "$PART" in
    a)
        K=_Z11smbw_kernelILi16EEvPK5uint4mPj
        cuobjdump -sass -fun $K build/kernels/leanbench.o >"$W/smbw16.sass" 2>&1
        echo "smbw_kernel<16> SASS, runs of opcodes:" | tee -a "$LOG"
        grep -oE "(LDG|LOP3|IADD3|ISETP|BRA|STG)[.A-Z0-9]*" "$W/smbw16.sass" | uniq -c | head -12 | tee -a "$LOG"
        M=launch__grid_size,launch__block_size,launch__registers_per_thread,launch__shared_mem_per_block_static,launch__shared_mem_per_block_dynamic,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem,launch__occupancy_limit_blocks,launch__occupancy_limit_warps,gpu__time_duration.sum,dram__bytes_read.sum
        probe() {   # $1 = sdpa|flex, $2 = seconds for python's budget, $3 = timeout
            say "launch probe $1 (budget $2 s)"
            timed "probe $1" timeout $3 ncu --profile-from-start off --target-processes application-only --clock-control none \
                --metrics $M -f -o "$W/probe-$1" python3 experiments/peers/launch_probe.py probe --backends $1 \
                --manifest "$W/manifest-$1.txt" --budget $2 >>"$LOG" 2>&1
            grep -E "^# (refused|budget|torch-flex|[0-9]+ profiled)" "$W/manifest-$1.txt" | cut -c1-160 | tail -40
            ncu --import "$W/probe-$1.ncu-rep" --csv --page raw --print-units base --print-kernel-base function >"$W/raw-$1.csv" 2>>"$LOG" ||
                ncu --import "$W/probe-$1.ncu-rep" --csv --page raw --print-units base >"$W/raw-$1.csv" 2>>"$LOG"
            python3 experiments/peers/launch_probe.py parse --raw "$W/raw-$1.csv" --manifest "$W/manifest-$1.txt" --csv "$OUT/launch.csv" 2>&1 | tee -a "$LOG"
        }
        t=$(cap 200); [ $t -gt 30 ] && probe sdpa $((t - 40)) $t
        say "per-SM read bandwidth"
        for n in 8 16 24 32 48 64 96 132; do
            t=$(cap 60); [ $t -gt 5 ] || break
            step "smbw $n" timeout $t build/leanbench --sms $n --sm-bandwidth --csv "$OUT/smbw.csv" >>"$LOG" 2>&1 || echo "smbw --sms $n: rc $?" | tee -a "$LOG"
        done
        t=$(cap 170); [ $t -gt 40 ] && probe flex $((t - 50)) $t
        ls -la "$W" >>"$LOG"
        (cd "$W" && tar czf "$OUT/probe.tgz" manifest-*.txt raw-*.csv smbw16.sass $(find . -name '*.ncu-rep' -size -12M | sed 's|^\./||') 2>/dev/null)
        say "launch summary"
        python3 experiments/peers/launch_probe.py summary --csv "$OUT/launch.csv"
        say "per-SM read bandwidth: best per SM count (GB/s per SM; k CTAs/SM, threads, bytes in flight per CTA)"
        awk -F, 'NR>1 { k=$9; if ($16+0 > best[k]+0) { best[k]=$16; at[k]=$10" "$11" "$12" "$15 } }
            END { for (k in best) printf "sms=%-4s %7.2f GB/s/SM  (k thr inflight GB/s: %s)\n", k, best[k], at[k] }' "$OUT/smbw.csv" | sort -t= -k2 -n
        echo "at 64 KB in flight per CTA, GB/s per SM by SM count and k:"
        awk -F, 'NR>1 && $12==65536 { printf "sms=%s k=%s thr=%s %.1f\n", $9, $10, $11, $16 }' "$OUT/smbw.csv" | paste -sd' ' | fold -w 150
        ;;
    b)
        sms_out_of_sample 40
        say "peers: standard shapes (FlexAttention on a subset)"
        t=$(cap 190); [ $t -gt 30 ] && timed "peers standard" timeout $t python3 experiments/peers/sdpa_peer.py --csv "$OUT/peers.csv" \
            --shapes standard --flex subset --budget $((t - 35)) >>"$LOG" 2>&1
        say "peers: extra shapes"
        t=$(cap 200); [ $t -gt 30 ] && timed "peers extra" timeout $t python3 experiments/peers/sdpa_peer.py --csv "$OUT/peers.csv" \
            --shapes extra --flex all --budget $((t - 35)) >>"$LOG" 2>&1
        grep -E "refused|budget|compiled in|skip|Error|error" "$LOG" | cut -c1-150 | sort | uniq -c | sort -rn | head -25
        say "sms.csv: time (us) by SM count"
        awk -F, 'NR>1 { k=sprintf("%-8s b=%-2s h=%-3s kvh=%-3s d=%-3s ctx=%-6s", $9,$10,$11,$12,$13,$15); t[k]=t[k] sprintf(" %s:%.0f", $2, $21) }
            END { for (k in t) print k t[k] }' "$OUT/sms.csv" | sort
        say "peers.csv: rows per schedule; torch-flex rows"
        awk -F, 'NR>1 { n[$9]++ } END { for (k in n) print k, n[k] }' "$OUT/peers.csv"
        awk -F, 'NR>1 && $9=="torch-flex" { printf "flex b=%-2s h=%-3s kvh=%-3s d=%-3s ctx=%-6s %9.1f us graph %s err %s\n", $10,$11,$12,$13,$15,$21,$24,$27 }' "$OUT/peers.csv" | tail -45
        ;;
    esac
    say "profiles $PART: $(( $(date +%s) - T0 )) s"
    ;;
restructure)
    # the snapshot's leanbench (built in the background above) against the current one
    wait $BASE_BUILD || { tail -20 "$OUT/build-old.txt"; say "build of $KBASE failed"; exit 1; }
    OLDB="$KBASE/build/leanbench"
    RS=${RESTRUCTURE_SWEEP:-kernels/sweep-restructure.txt}
    say "restructure: $RS, old and new alternating per workload line"
    REVB=$(cat "$KBASE/REV" 2>/dev/null || echo unknown)
    W=/tmp/leanbench-restructure; rm -rf "$W"; mkdir -p "$W"
    i=0
    grep -v '^[[:space:]]*#' "$RS" | grep . | while IFS= read -r line; do
        i=$((i + 1))
        echo "$line" >"$W/line.txt"
        # ABBA: which build goes first alternates, so that drift cancels
        if [ $((i % 2)) = 1 ]; then order="old new"; else order="new old"; fi
        for b in $order; do
            if [ $b = old ]; then
                # the old leanbench checked only when asked
                # the file says which build; the commit column names the code only
                step "line $i old" env LEANBENCH_COMMIT="$REVB" timeout 120 "$OLDB" --check --sweep "$W/line.txt" --reps 30 \
                    --csv "$OUT/restructure-old.csv" >>"$OUT/restructure-log.txt" 2>&1 || echo "line $i old: rc $?" | tee -a "$LOG"
            else
                step "line $i new" timeout 120 build/leanbench --sweep "$W/line.txt" --reps 30 \
                    --csv "$OUT/restructure-new.csv" >>"$OUT/restructure-log.txt" 2>&1 || echo "line $i new: rc $?" | tee -a "$LOG"
            fi
        done
        echo "line $i: $line: $(( $(date +%s) - T0 )) s" >>"$LOG"
    done
    grep -E "CHECK FAILED|skipped|checked against" "$OUT/restructure-log.txt" | sort | uniq -c | head -20
    gzip -f "$OUT/restructure-log.txt"
    say "restructure: time per configuration, old ($REVB) and new (us, new/old)"
    # columns found by name: the CSV layout may differ between the two builds; the plan
    # (block_n, CTAs, splits) is part of the key, so a plan that differs shows as missing
    awk -F, '
        FNR == 1 { delete c; for (i = 1; i <= NF; i++) c[$i] = i; file = FILENAME ~ /-old[.]csv$/ ? 1 : 2; next }
        { k = sprintf("%-8s b=%s h=%-2s kvh=%-2s d=%-3s %s ctx=%-6s bn=%-3s ctas=%-4s sp=%s", $c["schedule"], $c["batch"],
                      $c["heads"], $c["kv_heads"], $c["head_dim"], $c["dtype"], $c["ctx"], $c["block_n"], $c["ctas"],
                      $c["splits"])
          if (!(k in seen)) { seen[k] = 1; keys[++n] = k }
          t[file, k] = $c["time_us"] }
        END { g = 0; m = 0
              printf "%-80s %10s %10s %7s\n", "config", "old us", "new us", "ratio"
              for (j = 1; j <= n; j++) { k = keys[j]
                  if ((1, k) in t && (2, k) in t && t[1, k] > 0) {
                      r = t[2, k] / t[1, k]; g += log(r); m++
                      printf "%-80s %10.2f %10.2f %7.3f\n", k, t[1, k], t[2, k], r
                  } else printf "%-80s %10s %10s %7s\n", k, ((1, k) in t) ? t[1, k] : "-", ((2, k) in t) ? t[2, k] : "-", "missing"
              }
              if (m) printf "geomean new/old over %d configurations: %.4f\n", m, exp(g / m) }' \
        "$OUT/restructure-old.csv" "$OUT/restructure-new.csv" | tee "$OUT/restructure.txt"
    ;;
sms)
    for n in 16 32 48 64 96 132; do
        step "sms $n" $B --sms $n --sweep kernels/sweep-sms.txt --csv "$OUT/sms.csv" >>"$LOG" 2>&1
    done
    awk -F, 'NR>1 {printf "%-3s %-8s b=%-2s h=%-2s kvh=%-2s ctx=%-7s %9.1f us %7.1f GB/s\n",$2,$9,$10,$11,$12,$15,$21,$26}' "$OUT/sms.csv" | tail -40
    ;;
esac
steps=$(tail -n +$((LOG0 + 1)) "$LOG" | grep -e '^step failed: ' -e '^step cut short: ')
[ -z "$steps" ] || echo "$steps"
nf=$(echo "$steps" | grep -c '^step failed: ')
if [ "$nf" -gt 0 ]; then say "done, $nf steps FAILED (listed above)"; exit 1; fi
say "done"
