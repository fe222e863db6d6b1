set terminal pngcairo size 800,500 font "DejaVu Sans,10"
set output "/work/main/docs/benchmarks/cluster_throughput_vs_entry_size.png"
set title "3-node raft cluster, 64 proposals per round: committed MB/s vs entry size"
set logscale x 2
set logscale y 10
set grid
set key top left
set xlabel "entry size (bytes)"
set ylabel "committed MB/s (entry data)"
set xtics ("128" 128, "1K" 1024, "16K" 16384)
set xrange [90:23000]
plot "docs/benchmarks/json/plots/cluster_size.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb '#1b9e77' dt 1 title "MemoryStorage", "docs/benchmarks/json/plots/cluster_size.dat" using 1:3 with linespoints lw 2 pt 7 lc rgb '#7570b3' dt 1 title "DiskStorage sync", "docs/benchmarks/json/plots/cluster_size.dat" using 1:4 with linespoints lw 2 pt 7 lc rgb '#d95f02' dt 1 title "DiskStorage no sync"
