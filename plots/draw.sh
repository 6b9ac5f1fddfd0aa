#!/bin/sh
# draw.sh DATA OUT FIGURE...: draws each figure, plots/FIGURE.gp over the
# files `leansim export` wrote in DATA, into OUT/FIGURE.png and OUT/FIGURE.pdf
# with $GNUPLOT (default gnuplot); `make figures` calls it.  gnuplot's
# messages go to stderr, less its note on a file with no points (a GPU
# without measurements draws no measured points).  A script gnuplot stops
# on, or one that leaves no figure, ends it: one line naming the script,
# exit 1.
data=$1; out=$2; shift 2
gp=${GNUPLOT:-gnuplot}
for f in "$@"; do
  for t in png pdf; do
    rm -f "$out/$f.$t"
    msg=$("$gp" -e "data='$data'; out='$out/$f'; fmt='$t'" "plots/$f.gp" 2>&1); rc=$?
    [ -z "$msg" ] || printf '%s\n' "$msg" | grep -v 'Skipping data file with no valid points' >&2
    if [ $rc -ne 0 ] || [ ! -s "$out/$f.$t" ]; then
      echo "figures: plots/$f.gp drew no $out/$f.$t ($gp exited $rc)" >&2
      exit 1
    fi
  done
  echo "  FIG     $out/$f.png $out/$f.pdf"
done
