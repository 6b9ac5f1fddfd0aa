#!/bin/sh
# cli_kres.sh: the simulator's kernel resources (sim/kres.c) are the
# compiler's: every row of its table equals what ptxas reported for the
# decode kernels of this build (kept beside the objects by make kernels).
# Without nvcc (no kernel build) there is nothing to compare: skipped.
pass=0; fail=0
B=$(dirname "${LEANSIM:-build/leansim}")
if ls "$B"/kernels/decode_d*.o.ptxas >/dev/null 2>&1; then
  out=$(sh kernels/ptxas-res.sh --check "$B/kernels" 2>&1) && pass=1 || { fail=1; echo "FAIL cli_kres: $out"; }
else
  echo "cli_kres: no compiler reports under $B/kernels (kernels not built): skipped"
fi
echo "cli_kres: $pass passed, $fail failed"
[ $fail -eq 0 ]
