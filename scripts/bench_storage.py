#!/usr/bin/env python3
"""Runs raftlog's storage benchmarks with fixed settings and checks the storage targets.

Runs each benchmark binary of bench/ (append_bench, read_bench,
maintenance_bench, open_bench) once, with --benchmark_repetitions (default 3), writes
Google Benchmark's JSON per binary to an output directory, and prints a table
of the target ratios: the median over repetitions, the spread [min-max] of
the per-repetition ratios, and PASS/MISS against the issue's threshold.

Figures are comparable only within one run (same disk, same moment): the
machine is shared, so every ratio is computed from benchmarks run back to
back, and target 1 from BM_SyncAppendPaired, which interleaves the engine
and the raw-disk baseline fdatasync by fdatasync.

Usage:
  scripts/bench_storage.py [--build-dir build-bench] [--out DIR] [--repetitions 3]
                           [--only append,read,maintenance,open] [--filter REGEX]
  scripts/bench_storage.py --report DIR     # re-print the table of an earlier run

Build first (Release, as benchmarks are measured):
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release && cmake --build build-bench -j2
Temporary logs go to $RAFTLOG_BENCH_DIR (default /tmp); the 4 GiB open case
needs 10 GiB free there and is skipped otherwise. A default run takes about
2.5 minutes on 2 cores. Exit status: 0 if every binary ran (misses are data,
not failures), 1 otherwise.
"""

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import time

# Binary -> extra arguments. min_time is in seconds (Google Benchmark 1.7
# syntax); benchmarks with a fixed iteration count ignore it.
# open_bench runs last: removing its 5 GiB of logs at exit makes the next
# journal commits slow for a few seconds (the file system here is mounted
# with `discard`), which would land on the fsync latency of what follows.
BINARIES = {
    "append": ("append_bench", ["--benchmark_min_time=0.2"]),
    "read": ("read_bench", ["--benchmark_min_time=0.2"]),
    "maintenance": ("maintenance_bench", []),
    "open": ("open_bench", ["--benchmark_min_time=0.3"]),
}

SIZES = [128, 1024, 16384]
BATCHES = [1, 16, 256]


def run_binary(path, extra, out_json, repetitions, bench_filter):
    cmd = [path, f"--benchmark_repetitions={repetitions}", "--benchmark_out_format=json",
           f"--benchmark_out={out_json}"] + extra
    if bench_filter:
        cmd.append(f"--benchmark_filter={bench_filter}")
    print("+ " + " ".join(cmd), flush=True)
    start = time.monotonic()
    rc = subprocess.call(cmd)
    print(f"  ({time.monotonic() - start:.0f} s, exit {rc})", flush=True)
    return rc


def base_name(run_name):
    """'BM_X/1/2/min_time:0.100/iterations:1/real_time' -> 'BM_X/1/2'."""
    return re.sub(r"(/min_time:[0-9.]+)?(/iterations:\d+)?(/(real|manual)_time)?$", "", run_name)


def load_runs(out_dir):
    """name -> list of per-repetition result dicts (in repetition order)."""
    runs = {}
    for fname in sorted(os.listdir(out_dir)):
        if not fname.endswith(".json"):
            continue
        with open(os.path.join(out_dir, fname)) as f:
            data = json.load(f)
        for b in data.get("benchmarks", []):
            if b.get("run_type") != "iteration":
                continue
            runs.setdefault(base_name(b["run_name"]), []).append(b)
    for reps in runs.values():
        reps.sort(key=lambda b: b.get("repetition_index", 0))
    return runs


def field(runs, name, key):
    """Per-repetition values of one field, or None if the run is missing/errored."""
    reps = runs.get(name)
    if not reps or any(b.get("error_occurred") for b in reps):
        return None
    values = [b.get(key) for b in reps]
    return None if any(v is None for v in values) else [float(v) for v in values]


def cpu_rate(runs, name):
    """Per-repetition items per second of the benchmark thread's CPU time: the
    engine's own cost, without waits (segment rolls, writeback, other tenants)."""
    reps = runs.get(name)
    if not reps or any(b.get("error_occurred") for b in reps):
        return None
    out = []
    for b in reps:
        if not b.get("items_per_second") or not b.get("cpu_time"):
            return None
        out.append(b["items_per_second"] * b["real_time"] / b["cpu_time"])
    return out


def pairwise(a, b, fn):
    if a is None or b is None:
        return None
    n = min(len(a), len(b))
    return [fn(a[k], b[k]) for k in range(n)] if n else None


def fmt_rate(v):
    if v is None:
        return "n/a"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= scale:
            return f"{v / scale:.3g}{unit}"
    return f"{v:.3g}"


def fmt_spread(values, fmt="{:.2f}"):
    if not values:
        return "n/a"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} [{fmt.format(min(values))}-{fmt.format(max(values))}]"


class Table:
    def __init__(self):
        self.rows = []
        self.passed = 0
        self.missed = 0
        self.missing = 0

    def add(self, target, what, figures, ratios, threshold, higher_is_better=True, fmt="{:.2f}"):
        """ratios: per-repetition values of the checked figure (None: not measured)."""
        if ratios is None:
            verdict = "n/a"
            self.missing += 1
        else:
            med = statistics.median(ratios)
            ok = med >= threshold if higher_is_better else med <= threshold
            verdict = "PASS" if ok else "MISS"
            if ok:
                self.passed += 1
            else:
                self.missed += 1
        op = ">=" if higher_is_better else "<="
        self.rows.append((target, what, figures, fmt_spread(ratios, fmt), f"{op} {fmt.format(threshold)}",
                          verdict))

    def info(self, target, what, figures, ratios, fmt="{:.2f}"):
        self.rows.append((target, what, figures, fmt_spread(ratios, fmt), "(info)", ""))

    def print(self, out=sys.stdout):
        header = ("target", "case", "figures (medians)", "ratio median [min-max]", "goal", "")
        widths = [max(len(str(r[i])) for r in self.rows + [header]) for i in range(len(header))]
        line = "  ".join("{:<%d}" % w for w in widths)
        print(line.format(*header), file=out)
        print("  ".join("-" * w for w in widths), file=out)
        for r in self.rows:
            print(line.format(*r), file=out)
        print(f"\n{self.passed} PASS, {self.missed} MISS, {self.missing} not measured", file=out)


def med(values):
    return statistics.median(values) if values else None


def build_table(runs):
    t = Table()
    ips = lambda name: field(runs, name, "items_per_second")

    # 1. Synced appends vs pwrite+fdatasync of the same bytes.
    for size in SIZES:
        for batch in BATCHES:
            case = f"{size}/{batch}"
            paired = f"BM_SyncAppendPaired/{case}"
            disk = field(runs, paired, "disk_items_per_second")
            raw = field(runs, paired, "raw_items_per_second")
            fsyncs = field(runs, paired, "fsyncs_per_append")
            figures = (f"disk {fmt_rate(med(disk))}/s raw {fmt_rate(med(raw))}/s "
                       f"fsyncs/append {med(fsyncs):.3f}" if disk and raw and fsyncs else "n/a")
            t.add("1 sync append", f"paired {case}", figures,
                  field(runs, paired, "disk_vs_raw"), 0.90)
    for size in SIZES:
        for batch in BATCHES:
            case = f"{size}/{batch}"
            d, r = ips(f"BM_DiskAppend/sync/{case}"), ips(f"BM_RawPwriteFdatasync/{case}")
            if d is None and r is None:
                continue
            t.info("1 sync append", f"separate {case}",
                   f"disk {fmt_rate(med(d))}/s raw {fmt_rate(med(r))}/s",
                   pairwise(d, r, lambda x, y: x / y))
    for batch in BATCHES:
        case = f"1024/{batch}"
        e, d = ips(f"BM_EngineAppend/sync/{case}"), ips(f"BM_DiskAppend/sync/{case}")
        if e is not None:
            t.info("1 sync append", f"LogEngine {case} / DiskStorage",
                   f"engine {fmt_rate(med(e))}/s", pairwise(e, d, lambda x, y: x / y))

    # 2. No-sync appends vs MemoryStorage; zstd on the append path vs zstd alone.
    for size in SIZES:
        for batch in BATCHES:
            case = f"{size}/{batch}"
            d, m = ips(f"BM_DiskAppend/nosync/{case}"), ips(f"BM_MemoryAppend/{case}")
            figures = f"disk {fmt_rate(med(d))}/s memory {fmt_rate(med(m))}/s"
            ratios = pairwise(d, m, lambda x, y: x / y)
            if case == "1024/16":
                t.add("2 nosync append", f"vs MemoryStorage {case}", figures, ratios, 0.50)
                stall = field(runs, f"BM_DiskAppend/nosync/{case}", "stall_share")
                dc = cpu_rate(runs, f"BM_DiskAppend/nosync/{case}")
                mc = cpu_rate(runs, f"BM_MemoryAppend/{case}")
                t.info("2 nosync append", f"  same, CPU time only {case}",
                       f"disk {fmt_rate(med(dc))}/cpu-s memory {fmt_rate(med(mc))}/cpu-s"
                       + (f"; {med(stall):.0%} of disk time in appends > 1 ms" if stall else ""),
                       pairwise(dc, mc, lambda x, y: x / y))
            elif ratios is not None:
                t.info("2 nosync append", f"vs MemoryStorage {case}", figures, ratios)
    for payload in ("text", "rand"):
        for case in ("1024/16", "128/256", "1024/256", "16384/16"):
            d = ips(f"BM_DiskAppend/nosync/zstd/{payload}/{case}")
            z = ips(f"BM_ZstdMaybeCompress/{payload}/{case}")
            ratio = field(runs, f"BM_ZstdMaybeCompress/{payload}/{case}", "compression_ratio")
            figures = (f"disk {fmt_rate(med(d))}/s zstd {fmt_rate(med(z))}/s "
                       f"ratio {med(ratio):.2f}" if d and z and ratio else "n/a")
            ratios = pairwise(d, z, lambda x, y: x / y)
            if payload == "text" and case == "1024/16":
                t.add("2 zstd append", f"vs zstd alone {payload} {case}", figures, ratios, 0.80)
                dc = cpu_rate(runs, f"BM_DiskAppend/nosync/zstd/{payload}/{case}")
                zc = cpu_rate(runs, f"BM_ZstdMaybeCompress/{payload}/{case}")
                t.info("2 zstd append", f"  same, CPU time only {payload} {case}",
                       f"disk {fmt_rate(med(dc))}/cpu-s zstd {fmt_rate(med(zc))}/cpu-s",
                       pairwise(dc, zc, lambda x, y: x / y))
            elif ratios is not None:
                t.info("2 zstd append", f"vs zstd alone {payload} {case}", figures, ratios)

    # 3. Term lookups and hot Entries scans vs MemoryStorage.
    for entries, label in ((1 << 20, "1M"), (1 << 16, "64k")):
        d = ips(f"BM_DiskTerm/random/{entries}")
        m = ips(f"BM_MemoryTerm/random/{entries}")
        t.add("3 Term", f"random index, {label} entries",
              f"disk {fmt_rate(med(d))}/s memory {fmt_rate(med(m))}/s",
              pairwise(d, m, lambda x, y: x / y), 1.0)
    for size in (128, 1024):
        for window in (64, 256):
            m = ips(f"BM_MemoryEntriesHot/{size}/{window}")
            for batch in (16, 1):
                d = ips(f"BM_DiskEntriesHot/{size}/{window}/{batch}")
                figures = f"disk {fmt_rate(med(d))}/s memory {fmt_rate(med(m))}/s"
                what = f"hot Entries {size}B window {window}, {batch}/frame"
                ratios = pairwise(d, m, lambda x, y: x / y)
                if batch == 16:
                    t.add("3 Entries", what, figures, ratios, 0.50)
                else:
                    t.info("3 Entries", what, figures, ratios)
    cz, cn = ips("BM_DiskEntriesCold/zstd/text/1024/64"), ips("BM_DiskEntriesCold/none/text/1024/64")
    if cz is not None and cn is not None:
        t.info("cold scan", "sealed segments, zstd / uncompressed",
               f"zstd {fmt_rate(med(cz))}/s none {fmt_rate(med(cn))}/s",
               pairwise(cz, cn, lambda x, y: x / y))

    # 4. Open time flat in log size, and under 100 ms.
    for mode in ("warm", "cold"):
        one = field(runs, f"BM_OpenLog/{mode}/1GiB", "real_time")  # ms (manual time)
        four = field(runs, f"BM_OpenLog/{mode}/4GiB", "real_time")
        scanned = field(runs, f"BM_OpenLog/{mode}/4GiB", "open_bytes_scanned")
        footers = field(runs, f"BM_OpenLog/{mode}/4GiB", "open_segments_from_footer")
        figures = (f"1GiB {med(one):.1f} ms, 4GiB {med(four):.1f} ms" if one and four else "n/a")
        if scanned and footers:
            figures += f"; 4GiB scanned {med(scanned) / 2**20:.1f} MiB, {med(footers):.0f} footers"
        t.add("4 open", f"{mode}: 4GiB / 1GiB time", figures,
              pairwise(four, one, lambda x, y: x / y), 1.20, higher_is_better=False)
        t.add("4 open", f"{mode}: 4GiB open time, ms", "", four, 100.0, higher_is_better=False,
              fmt="{:.1f}")
    for gib in (1, 4):
        ds = field(runs, f"BM_OpenDiskStorage/warm/{gib}GiB", "real_time")
        if ds is not None:
            t.info("4 open", f"DiskStorage::Open warm {gib}GiB, ms", "", ds, fmt="{:.1f}")

    # 5. Index memory per live entry.
    for batch in (1, 16):
        name = f"BM_IndexMemory/{batch}"
        per = field(runs, name, "bytes_per_entry")
        peak = field(runs, name, "peak_bytes_per_entry")
        segs = field(runs, name, "segments")
        figures = (f"peak {med(peak):.2f} B/entry while growing; {med(segs):.0f} segments"
                   if peak and segs else "n/a")
        t.add("5 index memory", f"bytes/entry, {batch} entries/frame", figures, per, 8.0,
              higher_is_better=False)

    # Extras: maintenance latency.
    for name in ("BM_DiskCompact/1024/1024", "BM_MemoryCompact/1024/1024",
                 "BM_DiskApplySnapshot/4096", "BM_DiskApplySnapshot/1048576",
                 "BM_MemoryApplySnapshot/4096"):
        rt = field(runs, name, "real_time")
        if rt is not None:
            unit = runs[name][0].get("time_unit", "")
            t.info("latency", f"{name} ({unit})", "", rt, fmt="{:.1f}")
    return t


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build-dir", default=os.path.join(root, "build-bench"))
    p.add_argument("--out", help="output directory (default <build-dir>/bench-results/<UTC time>)")
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--only", default=",".join(BINARIES),
                   help="comma-separated subset of: " + ", ".join(BINARIES))
    p.add_argument("--filter", help="--benchmark_filter passed to every binary")
    p.add_argument("--report", metavar="DIR", help="only print the table of an earlier run")
    args = p.parse_args()

    if args.report:
        build_table(load_runs(args.report)).print()
        return 0

    out = args.out or os.path.join(
        args.build_dir, "bench-results",
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    os.makedirs(out, exist_ok=True)
    print(f"results: {out}; temp dir: {os.environ.get('RAFTLOG_BENCH_DIR') or '/tmp'}", flush=True)
    failed = []
    for key in [k.strip() for k in args.only.split(",") if k.strip()]:
        if key not in BINARIES:
            p.error(f"unknown binary {key!r}")
        binary, extra = BINARIES[key]
        path = os.path.join(args.build_dir, "bench", binary)
        if not os.access(path, os.X_OK):
            print(f"missing {path}: build it first (see --help)", file=sys.stderr)
            failed.append(binary)
            continue
        if run_binary(path, extra, os.path.join(out, binary + ".json"), args.repetitions,
                      args.filter) != 0:
            failed.append(binary)

    table = build_table(load_runs(out))
    print()
    table.print()
    with open(os.path.join(out, "summary.txt"), "w") as f:
        table.print(f)
    print(f"\nJSON and summary.txt in {out}")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
