# scatter.gp: predicted over measured time of every measured row against
# the measured time, with a +-10% band; one panel per GPU (the H100's rows
# were fitted, the H200's are out of sample), simulator, colour by schedule.
load 'plots/common.gp'
set multiplot layout 1, 2 title 'Predicted / measured time (simulator, every measured configuration)'
set logscale x
set format x '10^{%L}'
set xrange [5:30000]; set yrange [0.6:1.4]
set xlabel 'measured time (µs)'
set ylabel 'predicted / measured'
set key top right font ',7'
do for [gi = 1:2] {
    g = gi == 1 ? 'h100' : 'h200'
    set title (gi == 1 ? 'H100 (fitted)' : 'H200 (out of sample)')
    sel(c) = strcol(4) eq g ? column(c) / $1 : 1/0
    plot '+' using 1:(0.9):(1.1) with filledcurves lc rgb '#e8e8e8' title '±10%', \
         1 with lines lc rgb '#555555' dt 2 notitle, \
         data.'/scatter-fa2.dat' using 1:(sel(2)) with points lt 1 title 'fa2', \
         data.'/scatter-split.dat' using 1:(sel(2)) with points lt 2 title 'split', \
         data.'/scatter-streamk.dat' using 1:(sel(2)) with points lt 3 title 'streamk', \
         data.'/scatter-hybrid.dat' using 1:(sel(2)) with points lt 4 title 'hybrid', \
         data.'/scatter-balanced.dat' using 1:(sel(2)) with points lt 5 title 'balanced'
    set key off
}
unset multiplot
