#!/bin/sh
# cmp_engines.sh OLD NEW: compares two outputs of build/dump_engines line by
# line: the same lines, integers and messages exact, every double within
# 1e-12 relative.  Prints the lines that differ (at most 20) and their count;
# exits 1 when any does.
[ $# -eq 2 ] || { echo "usage: cmp_engines.sh OLD NEW" >&2; exit 2; }
paste -d '\n' "$1" "$2" | awk -v tol=1e-12 '
  NR % 2 == 1 { a = $0; next }
  {
    b = $0; n++
    if (a == b) next
    na = split(a, x, " "); nb = split(b, y, " "); bad = na != nb
    for (i = 1; i <= na && !bad; i++) {
      if (x[i] == y[i]) continue
      if (x[i] !~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/ || x[i] !~ /[.e]/) { bad = 1; break }
      d = x[i] - y[i]; if (d < 0) d = -d
      m = x[i] < 0 ? -x[i] : x[i]
      if (d > tol * m) bad = 1
    }
    if (bad) { nbad++; if (nbad <= 20) printf "old: %s\nnew: %s\n", a, b }
  }
  END { printf "%d lines compared, %d differ\n", n, nbad; exit nbad > 0 }'
