# scatter.gp: predicted against measured time of every measured row, log-log,
# y = x and a +-10% band; one panel per engine, colour by schedule.
load 'plots/common.gp'
set multiplot layout 1, 2 title 'Predicted vs measured time (every measured configuration)'
set logscale xy
set format x '10^{%L}'; set format y '10^{%L}'
set xrange [5:30000]; set yrange [5:30000]
set size ratio -1
set xlabel 'measured time (µs)'
set ylabel 'predicted time (µs)'
set key top left
set samples 200
do for [e = 1:2] {
    col = e + 1
    set title (e == 1 ? 'simulator' : 'closed-form model')
    plot '+' using 1:(0.9 * $1):(1.1 * $1) with filledcurves lc rgb '#e8e8e8' title '±10%', \
         x with lines lc rgb '#555555' dt 2 title 'y = x', \
         data.'/scatter-fa2.dat' using 1:col with points lt 1 title 'fa2', \
         data.'/scatter-split.dat' using 1:col with points lt 2 title 'split', \
         data.'/scatter-streamk.dat' using 1:col with points lt 3 title 'streamk', \
         data.'/scatter-hybrid.dat' using 1:col with points lt 4 title 'hybrid', \
         data.'/scatter-balanced.dat' using 1:col with points lt 5 title 'balanced'
    set key off
}
unset multiplot
