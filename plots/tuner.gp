# tuner.gp: the tuner's choice over context x batch (simulator), colour:
# schedule, label: KV tile length.
load 'plots/common.gp'
load data.'/tuner-tics.gp'
# the GPU from the file's first line, "# tuner (simulator) on h100, ..." (export tuner --gpu G)
gpu = system("awk 'NR == 1 { sub(/,.*/, \"\", $5); print $5; exit }' ".data."/tuner.dat")
set title 'Tuner choice on '.gpu.', 32 heads, 8 KV heads, d = 128 (label: block\_n; *: runner-up within 1%)'
set xlabel 'context length (tokens)'
set ylabel 'batch'
set xrange [-0.5:5.5]; set yrange [-0.5:6.5]
set cbrange [-0.5:4.5]
set palette defined (0 c_fa2, 0.999 c_fa2, 1 c_split, 1.999 c_split, 2 c_streamk, 2.999 c_streamk, \
                     3 c_hybrid, 3.999 c_hybrid, 4 c_balanced, 4.999 c_balanced)
set cbtics ('fa2' 0, 'split' 1, 'streamk' 2, 'hybrid' 3, 'balanced' 4)
set grid noxtics noytics
unset key
# a cell whose runner-up is within 1% is a tie the model cannot call: its label says "*"
# ("~" would be enhanced text's overprint operator)
plot data.'/tuner.dat' using 1:2:3 with image, \
     '' using 1:2:(sprintf($9 < 1 ? '%d*' : '%d', $4)) with labels tc rgb 'white' font ',9'
