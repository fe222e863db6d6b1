set terminal pngcairo size 1500,650 font "DejaVu Sans,10"
set output "/work/main/docs/benchmarks/append_throughput_vs_entry_size.png"
set multiplot layout 1,3 title "Appends: MB/s of entry data vs entry size (log scales; medians)"
set logscale xy 2
set logscale y 10
set grid
set key below horizontal maxcols 4 font ",9" spacing 1.2
set xlabel offset 0,0.5
set xlabel "entry size (bytes)"
set ylabel "MB/s"
set xtics ("128" 128, "1K" 1024, "16K" 16384)
set xrange [90:23000]
set title "1 entry per append"
plot "docs/benchmarks/json/plots/append_1.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb '#1b9e77' dt 1 title "MemoryStorage", "docs/benchmarks/json/plots/append_1.dat" using 1:3 with linespoints lw 2 pt 7 lc rgb '#d95f02' dt 1 title "DiskStorage no sync", "docs/benchmarks/json/plots/append_1.dat" using 1:4 with linespoints lw 2 pt 7 lc rgb '#d95f02' dt 2 title "raw pwrite, no sync", "docs/benchmarks/json/plots/append_1.dat" using 1:5 with linespoints lw 2 pt 7 lc rgb '#7570b3' dt 1 title "DiskStorage sync", "docs/benchmarks/json/plots/append_1.dat" using 1:6 with linespoints lw 2 pt 7 lc rgb '#7570b3' dt 2 title "raw pwrite+fdatasync", "docs/benchmarks/json/plots/append_1.dat" using 1:7 with linespoints lw 2 pt 7 lc rgb '#e7298a' dt 1 title "LMDB key/entry sync", "docs/benchmarks/json/plots/append_1.dat" using 1:8 with linespoints lw 2 pt 7 lc rgb '#e7298a' dt 2 title "LMDB key/entry no sync"
set title "16 entries per append"
plot "docs/benchmarks/json/plots/append_16.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb '#1b9e77' dt 1 title "MemoryStorage", "docs/benchmarks/json/plots/append_16.dat" using 1:3 with linespoints lw 2 pt 7 lc rgb '#d95f02' dt 1 title "DiskStorage no sync", "docs/benchmarks/json/plots/append_16.dat" using 1:4 with linespoints lw 2 pt 7 lc rgb '#d95f02' dt 2 title "raw pwrite, no sync", "docs/benchmarks/json/plots/append_16.dat" using 1:5 with linespoints lw 2 pt 7 lc rgb '#7570b3' dt 1 title "DiskStorage sync", "docs/benchmarks/json/plots/append_16.dat" using 1:6 with linespoints lw 2 pt 7 lc rgb '#7570b3' dt 2 title "raw pwrite+fdatasync", "docs/benchmarks/json/plots/append_16.dat" using 1:7 with linespoints lw 2 pt 7 lc rgb '#e7298a' dt 1 title "LMDB key/entry sync", "docs/benchmarks/json/plots/append_16.dat" using 1:8 with linespoints lw 2 pt 7 lc rgb '#e7298a' dt 2 title "LMDB key/entry no sync"
set title "256 entries per append"
plot "docs/benchmarks/json/plots/append_256.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb '#1b9e77' dt 1 title "MemoryStorage", "docs/benchmarks/json/plots/append_256.dat" using 1:3 with linespoints lw 2 pt 7 lc rgb '#d95f02' dt 1 title "DiskStorage no sync", "docs/benchmarks/json/plots/append_256.dat" using 1:4 with linespoints lw 2 pt 7 lc rgb '#d95f02' dt 2 title "raw pwrite, no sync", "docs/benchmarks/json/plots/append_256.dat" using 1:5 with linespoints lw 2 pt 7 lc rgb '#7570b3' dt 1 title "DiskStorage sync", "docs/benchmarks/json/plots/append_256.dat" using 1:6 with linespoints lw 2 pt 7 lc rgb '#7570b3' dt 2 title "raw pwrite+fdatasync", "docs/benchmarks/json/plots/append_256.dat" using 1:7 with linespoints lw 2 pt 7 lc rgb '#e7298a' dt 1 title "LMDB key/entry sync", "docs/benchmarks/json/plots/append_256.dat" using 1:8 with linespoints lw 2 pt 7 lc rgb '#e7298a' dt 2 title "LMDB key/entry no sync"
unset multiplot
