#!/bin/sh
# cli_data.sh: every measured data file under experiments/data is listed in
# MANIFEST.tsv with its role and sha256, and matches it (no file edited
# after it was committed, none unlisted, none listed and missing).
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL cli_data: $*"; }
D=experiments/data
M=$D/MANIFEST.tsv
[ -f "$M" ] && ok || bad "no $M"
for f in "$D"/*; do
  n=$(basename "$f")
  case "$n" in MANIFEST.tsv|README.md|campaign.txt|mkmanifest.py) continue;; esac
  want=$(awk -F'\t' -v n="$n" '$1 == n { print $4 }' "$M")
  if [ -z "$want" ]; then bad "$n: not in MANIFEST.tsv (python3 $D/mkmanifest.py)"; continue; fi
  got=$(sha256sum "$f" | cut -d' ' -f1)
  [ "$got" = "$want" ] && ok || bad "$n: sha256 differs from MANIFEST.tsv"
done
awk -F'\t' 'NR > 1 { print $1 }' "$M" | while read -r n; do [ -e "$D/$n" ] || echo "missing $n"; done >"${TMPDIR:-/tmp}/cli_data.$$"
[ -s "${TMPDIR:-/tmp}/cli_data.$$" ] && bad "listed but missing: $(tr '\n' ' ' <"${TMPDIR:-/tmp}/cli_data.$$")" || ok
rm -f "${TMPDIR:-/tmp}/cli_data.$$"
awk -F'\t' 'NR > 1 && $2 != "evidence" && $2 != "superseded" && $2 != "ab" { bad = 1 } END { exit bad }' "$M" && ok || bad "a role other than evidence, superseded, ab"
echo "cli_data: $pass passed, $fail failed"
[ $fail -eq 0 ]
