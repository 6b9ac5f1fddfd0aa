#!/bin/sh
R=$OUT; mkdir -p $R/r $R/t
(OUT=$R/r RESTRUCTURE_SWEEP=kernels/sweep-release.txt sh kernels/run-on-gpu.sh restructure > $R/r/stdout.txt 2>&1; echo "restructure rc $?")
tail -3 $R/r/gputest.txt; grep -c "CHECK FAILED" $R/r/restructure-log.txt.gz 2>/dev/null; cat $R/r/restructure.txt
(OUT=$R/t TIMELINE_SWEEP=kernels/sweep-wave2.txt TIMELINE_TIMEOUT=150 sh kernels/run-on-gpu.sh timelines > $R/t/stdout.txt 2>&1; echo "timelines rc $?")
tail -7 $R/t/stdout.txt
cd $R && rm -f r/build-old.txt && tar czf all.tgz r t && rm -rf r t
