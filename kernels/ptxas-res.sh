#!/bin/sh
# ptxas-res.sh: regenerates the resource table in sim/kres.c from the
# compiler's report (nvcc -Xptxas -v) on the decode kernels.
#   sh kernels/ptxas-res.sh            rewrite the table in sim/kres.c
#   sh kernels/ptxas-res.sh --print    print the rows only
#   sh kernels/ptxas-res.sh --check DIR  compare the table with the reports the
#                                      build kept (DIR/decode_d*.o.ptxas);
#                                      exit 1 and the differences if they differ
# Each row: head dim, dtype, row capacity (GQA group rounded up to 1, 2, 4,
# 8), registers per thread, static shared memory (the largest over the
# kernel's L2-prefetch-hint variants, which compile alike); the dynamic shared memory
# (pipeline stages) is the same for every instantiation and comes from the
# constants STAGES and CHUNK_BYTES in kernels/decode.cuh.
set -eu
NVCC=${NVCC:-/usr/local/cuda/bin/nvcc}
FLAGS="-O3 -gencode arch=compute_90,code=sm_90 -std=c++17 -Isim -Ikernels"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ "${1:-}" = --check ]; then
    for d in 64 128 256; do
        f=${2:?--check DIR}/decode_d$d.o.ptxas
        [ -s "$f" ] || { echo "$f: no compiler report (make kernels)" >&2; exit 2; }
        cat "$f" >>"$tmp/ptxas.txt"
    done
else
    for d in 64 128 256; do
        $NVCC $FLAGS -Xptxas -v -c kernels/decode_d$d.cu -o "$tmp/d$d.o" 2>>"$tmp/ptxas.txt"
    done
fi
stages=$(sed -n 's/^constexpr int STAGES = \([0-9]*\);.*/\1/p' kernels/decode.cuh)
chunk=$(sed -n 's/^constexpr int CHUNK_BYTES = \([0-9]*\);.*/\1/p' kernels/decode.cuh)
[ -n "$stages" ] && [ -n "$chunk" ] || { echo "kernels/decode.cuh: no STAGES or CHUNK_BYTES constant" >&2; exit 1; }
dyn=$((stages * 2 * chunk))
# "Compiling entry function '_ZN3dec13decode_kernelI6__halfLi128ELi8EEEv8dec_args'"
# ... "Used 254 registers, used 1 barriers, 512 bytes smem"
rows=$(awk -v dyn="$dyn" '
    /Compiling entry function/ { name = $0; next }
    /Used [0-9]+ registers/ && name ~ /decode_kernel/ {
        dt = (name ~ /nv_bfloat16/) ? "DTYPE_BF16" : "DTYPE_FP16"
        match(name, /Li[0-9]+ELi[0-9]+E/); s = substr(name, RSTART + 2, RLENGTH - 3)
        split(s, p, "ELi")
        regs = $0; sub(/.*Used /, "", regs); sub(/ registers.*/, "", regs)
        sm = 0; if ($0 ~ /bytes smem/) { sm = $0; sub(/ bytes smem.*/, "", sm); sub(/.*, /, "", sm) }
        printf "%d|%s|%d|%d|%d|%d\n", p[1], dt, p[2], regs, sm, dyn
        name = ""
    }' "$tmp/ptxas.txt" |
    awk -F'|' '{ k = $1 "|" $2 "|" $3; if (!(k in r) || $4 > r[k]) r[k] = $4; if (!(k in m) || $5 > m[k]) m[k] = $5; d[k] = $6 }
        END { for (k in r) print k "|" r[k] "|" m[k] "|" d[k] }' |
    sort -t'|' -k1,1n -k2,2r -k3,3n |
    awk -F'|' '{ printf "    {%d, %s, %d, %d, %d, %d},\n", $1, $2, $3, $4, $5, $6 }')
if [ "${1:-}" = --print ]; then echo "$rows"; exit 0; fi
if [ "${1:-}" = --check ]; then
    awk '/BEGIN ptxas table/ { on = 1; next } /END ptxas table/ { on = 0 } on && /^ *\{/' sim/kres.c >"$tmp/have"
    echo "$rows" >"$tmp/want"
    if cmp -s "$tmp/have" "$tmp/want"; then echo "sim/kres.c: $(wc -l <"$tmp/want") rows agree with the compiler"; exit 0; fi
    echo "sim/kres.c differs from the compiler's report (sh kernels/ptxas-res.sh rewrites it):" >&2
    diff "$tmp/have" "$tmp/want" >&2
    exit 1
fi
grep -q "BEGIN ptxas table" sim/kres.c || { echo "sim/kres.c: no 'BEGIN ptxas table' marker" >&2; exit 1; }
nvv=$($NVCC --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')
awk -v rows="$rows" -v nvv="$nvv" '
    /BEGIN ptxas table/ { print; print "    /* nvcc " nvv ", sm_90; {head_dim, dtype, row capacity, regs, static smem, dynamic smem} */"; print rows; skip = 1; next }
    /END ptxas table/ { skip = 0 }
    !skip' sim/kres.c >"$tmp/kres.c"
cp "$tmp/kres.c" sim/kres.c
echo "sim/kres.c: $(echo "$rows" | wc -l) rows"
