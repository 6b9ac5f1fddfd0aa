# cdf.gp: cumulative distribution of the absolute percentage error of time,
# one line per GPU and engine: the H100's rows were fitted, the H200's were
# predicted from the H100's calibration (out of sample).
load 'plots/common.gp'
set title 'Prediction error over every measured configuration'
set logscale x
set xrange [0.1:*]
set yrange [0:1]
set xlabel 'absolute error of predicted time (%)'
set ylabel 'fraction of configurations'
set key bottom right
set arrow from 10, 0 to 10, 1 nohead lc rgb '#999999' dt 3
plot data.'/cdf-h100-sim.dat' using 1:2 with steps lt 3 lw 2 title 'H100, simulator (fitted)', \
     data.'/cdf-h100-model.dat' using 1:2 with steps lt 3 lw 1 dt 2 title 'H100, model', \
     data.'/cdf-h200-sim.dat' using 1:2 with steps lt 2 lw 2 title 'H200, simulator (out of sample)', \
     data.'/cdf-h200-model.dat' using 1:2 with steps lt 2 lw 1 dt 2 title 'H200, model'
