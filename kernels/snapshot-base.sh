#!/bin/sh
# snapshot-base.sh: copies the kernel sources of an older commit into a
# directory of the work tree, so that `run-on-gpu.sh restructure` can build
# that leanbench next to the current one on the GPU machine (which gets a
# copy of the work tree whose .git may be stale, so `git show` cannot run
# there).
#   sh kernels/snapshot-base.sh REV DIR
# DIR gets the Makefile, kernels/kernels.mk, every file of kernels/ that the
# build compiles or includes (*.cu, *.cuh, *.h, *.cpp) and the sim/ files
# they include, transitively (sim/plan.c, sim/opts.c, ...), as of REV.
# DIR must not be ignored by git (the GPU machine gets only files git does
# not ignore) and is not meant to be committed.
set -eu
REV=${1:?usage: snapshot-base.sh REV DIR}
DIR=${2:?usage: snapshot-base.sh REV DIR}
git rev-parse --verify -q "$REV^{commit}" >/dev/null || { echo "snapshot-base.sh: $REV: no such commit" >&2; exit 2; }
case "$DIR" in /*|..*) echo "snapshot-base.sh: $DIR: give a directory inside the work tree" >&2; exit 2 ;; esac
mkdir -p "$DIR"
if git check-ignore -q "$DIR/kernels/decode.cuh"; then
    echo "snapshot-base.sh: $DIR is ignored by git: the GPU machine would not get it; pick another name" >&2
    exit 2
fi
have() { git cat-file -e "$REV:$1" 2>/dev/null; }
put() {
    mkdir -p "$DIR/$(dirname "$1")"
    git show "$REV:$1" >"$DIR/$1"
}
# the build and the kernel sources
queue="Makefile kernels/kernels.mk"
for f in $(git ls-tree --name-only "$REV" kernels/); do
    case "$f" in *.cu|*.cuh|*.h|*.cpp) queue="$queue $f" ;; esac
done
for f in sim/plan.c sim/opts.c; do have "$f" && queue="$queue $f"; done
# and what they include from kernels/ or sim/, until nothing new turns up
done_list=" "
while [ -n "$(echo $queue)" ]; do
    next=""
    for f in $queue; do
        case "$done_list" in *" $f "*) continue ;; esac
        put "$f"
        done_list="$done_list$f "
        for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$DIR/$f"); do
            for d in kernels sim; do
                if have "$d/$inc"; then next="$next $d/$inc"; break; fi
            done
        done
    done
    queue=$next
done
echo "$REV" >"$DIR/REV"
echo "snapshot-base.sh: $(echo $done_list | wc -w) files of $REV in $DIR"
