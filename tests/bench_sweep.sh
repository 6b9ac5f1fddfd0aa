#!/bin/sh
# bench_sweep.sh: a 10,000-configuration sweep through both engines into a
# fresh SQLite database, database writes included, on one core; then the
# same sweep with --jobs 2 into another fresh database, and the speed-up.
# Goal: under 10 s on one core.  Needs $LEANSIM (the binary).
L=${LEANSIM:-build/leansim}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
printf 'gpus = h100\nctx = 1k..512k *2\nbatch = 1..50 +1\nkv_heads = 32, 8\nhead_dim = 64, 128\nengines = sim, model\n' > "$T/big.exp"
s0=$(date +%s.%N)
"$L" sweep "$T/big.exp" --db "$T/big.db" > "$T/o" 2>&1 || { cat "$T/o"; exit 1; }
s1=$(date +%s.%N)
"$L" sweep "$T/big.exp" --db "$T/big2.db" --jobs 2 > "$T/o2" 2>&1 || { cat "$T/o2"; exit 1; }
s2=$(date +%s.%N)
awk -v a="$s0" -v b="$s1" -v c="$s2" -v cores="$(nproc)" -v out="$(tr '\n' ' ' < "$T/o")" 'BEGIN {
  s = b - a; p = c - b
  printf "bench_sweep: 10000 configurations x 2 engines into SQLite in %.2f s (%.0f rows/s): goal < 10 s %s\n", s, 20000 / s, s < 10 ? "met" : "NOT met"
  printf "bench_sweep: %s\n", out
  printf "bench_sweep: --jobs 2: %.2f s, %.2fx the one-process rate (%d cores here)\n", p, s / p, cores }'
