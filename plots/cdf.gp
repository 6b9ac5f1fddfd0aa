# cdf.gp: cumulative distribution of the absolute percentage error of time,
# one line per engine.
load 'plots/common.gp'
set title 'Prediction error over every measured configuration'
set logscale x
set xrange [0.1:300]
set yrange [0:1]
set xlabel 'absolute error of predicted time (%)'
set ylabel 'fraction of configurations'
set key bottom right
set arrow from 10, 0 to 10, 1 nohead lc rgb '#999999' dt 3
plot data.'/cdf-sim.dat' using 1:2 with steps lt 3 lw 2 title 'simulator', \
     data.'/cdf-model.dat' using 1:2 with steps lt 2 lw 2 dt 2 title 'closed-form model'
