# common.gp: terminal, output and the schedule colours shared by every figure.
# Variables (gnuplot -e): data = directory of `leansim export` files,
# out = output path without extension, fmt = png or pdf, w/h = size in inches.
if (!exists("data")) data = 'plots/out/data'
if (!exists("fmt")) fmt = 'png'
if (!exists("w")) w = 6.5
if (!exists("h")) h = 3.2
if (fmt eq 'pdf') {
    set terminal pdfcairo enhanced color size w, h font 'Helvetica,9' linewidth 1.2
    set output out.'.pdf'
} else {
    set terminal pngcairo enhanced color size int(w * 150), int(h * 150) font 'Helvetica,10' linewidth 1.5
    set output out.'.png'
}
set datafile missing '?'
set datafile commentschars '#'
set grid lc rgb '#dddddd' lw 0.5
set border 3 lc rgb '#444444'
set tics nomirror out scale 0.6
set key box lc rgb '#bbbbbb' opaque samplen 2 spacing 1.1
# schedule colours: fa2 grey, split orange, streamk blue, hybrid green, balanced purple
c_fa2 = '#7f7f7f'; c_split = '#e6850e'; c_streamk = '#1f5fa8'; c_hybrid = '#2ca02c'; c_balanced = '#8e44ad'
set linetype 1 lc rgb c_fa2 pt 7 ps 0.7
set linetype 2 lc rgb c_split pt 5 ps 0.7
set linetype 3 lc rgb c_streamk pt 9 ps 0.8
set linetype 4 lc rgb c_hybrid pt 11 ps 0.8
set linetype 5 lc rgb c_balanced pt 13 ps 0.8
set linetype 6 lc rgb '#c0392b' pt 6 ps 0.8
set linetype 7 lc rgb '#16a085' pt 4 ps 0.8
set linetype 8 lc rgb '#34495e' pt 8 ps 0.8
ctx_tics = 'set xtics ("1k" 1024, "4k" 4096, "16k" 16384, "64k" 65536, "256k" 262144)'
