// The main job's program (scripts/main.sh): a raft cluster in one process,
// on MemoryStorage and on DiskStorage (sync) side by side, printing progress
// and a results table with ratios. It keeps the DiskStorage logs it made, for
// `raftlog info` and `raftlog dump`.
//
//   raft_cluster_demo [--dir DIR] [--seconds S] [--slice S] [--entry-bytes N]
//                     [--batch N]
//
//   --dir DIR        where the logs go (created if missing; default a new
//                    directory $RAFTLOG_BENCH_DIR/raftlog-demo-XXXXXX, or
//                    under /tmp). Layout: DIR/cluster-<nodes>/node<id>; node 1
//                    is the leader. Left in place at exit.
//   --seconds S      measured time per storage and cluster size (default 8)
//   --slice S        the two storages take turns every S seconds (default 1),
//                    so both see the same disk and the same neighbours
//   --entry-bytes N  data bytes per entry (default 1024)
//   --batch N        proposals per round (default 64)
//
// Between the turns a raw pwrite+fdatasync probe writes a round's bytes for a
// quarter slice: the "vs disk limit" column compares DiskStorage with it.
//
// Workload and measurement: bench/raft_cluster.h (rounds of proposals on the
// leader, every Ready persisted with Save before its messages are sent).
// Throughput counts the time spent in rounds only, after an untimed warm-up
// (1 s or one compaction); compaction (every 64 MiB, keeping the last 20000
// entries) is not timed. Exit status 0 on success, 2 on bad arguments; a
// storage error aborts with its message (bench_util.h CheckOk).

#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/raft_cluster.h"
#include "raftlog/engine/options.h"

namespace raftlog::bench {
namespace {

struct Args {
  std::string dir;
  double seconds = 8;
  double slice = 1;
  size_t entry_bytes = 1024;
  size_t batch = 64;
};

int Usage() {
  std::fprintf(stderr,
               "usage: raft_cluster_demo [--dir DIR] [--seconds S] [--slice S] "
               "[--entry-bytes N] [--batch N]\n");
  return 2;
}

// One storage's cluster and what it measured.
struct Run {
  Backend backend = Backend::kMemory;
  std::unique_ptr<Cluster> cluster;
  double seconds = 0;  // time spent in rounds
  uint64_t rounds = 0;
  std::vector<double> latencies;
  Cluster::SyncCounts syncs_before;  // as the measured slices start
  uint64_t committed_before = 0;     // likewise
};

struct Row {
  int nodes;
  Backend backend;
  double entries_per_second, mib_per_second, p50_ms, p99_ms, fsyncs_per_round;
  // DiskStorage: the rounds per second the raw disk allows for this many
  // fsyncs per round (RawProbe), as entries/s; 0 if unknown.
  double disk_limit;
};

// The raw disk in the same turns: pwrite of exactly the bytes the engine
// writes for one round's batch (bench_util.h EngineBatchBytes) into a
// pre-zeroed file, then fdatasync, as append_bench.cc's BM_RawPwriteFdatasync.
// Its rate over the run, divided by a cluster's fsyncs per round, is the
// most that cluster could commit on this disk.
class RawProbe {
 public:
  RawProbe(const std::string& dir, size_t entry_bytes, size_t batch)
      : file_(dir + "/raw-probe", 64u << 20),
        writer_(&file_,
                std::string(EngineBatchBytes(entry_bytes, batch, engine::Options{}.max_frame_bytes),
                            'x')) {}
  void RunFor(double seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto deadline = t0 + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      writer_.Write();
      ++writes_;
    }
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  // Synced writes per second so far; 0 before any.
  double WritesPerSecond() const { return seconds_ > 0 ? writes_ / seconds_ : 0; }

 private:
  ZeroedFile file_;
  RawWriter writer_;
  double writes_ = 0, seconds_ = 0;
};

std::string Thousands(double v) {
  std::string digits = std::to_string(static_cast<uint64_t>(v + 0.5));
  std::string out;
  for (size_t k = 0; k < digits.size(); ++k) {
    if (k > 0 && (digits.size() - k) % 3 == 0) out += ',';
    out += digits[k];
  }
  return out;
}

// Runs rounds on `run` for about `seconds`.
void RunSlice(Run& run, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto t0 = std::chrono::steady_clock::now();
    CheckOk(run.cluster->Round(&run.latencies), "Cluster::Round");
    run.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++run.rounds;
    if (run.cluster->CompactionDue()) CheckOk(run.cluster->Compact(), "Cluster::Compact");
  }
}

std::vector<Row> RunClusterSize(const Args& args, int nodes) {
  std::vector<Run> runs;
  for (Backend b : {Backend::kMemory, Backend::kDiskSync}) {
    ClusterOptions o;
    o.backend = b;
    o.nodes = nodes;
    o.entry_bytes = args.entry_bytes;
    o.batch = args.batch;
    o.keep_entries = 20000;
    if (b != Backend::kMemory) {
      o.dir = args.dir + "/cluster-" + std::to_string(nodes);
      std::error_code ec;
      std::filesystem::create_directories(o.dir, ec);
      CheckOk(ec ? Status::IOError("mkdir " + o.dir + ": " + ec.message()) : Status::OK(), "mkdir");
    }
    Run run;
    run.backend = b;
    run.cluster = CheckOk(Cluster::Start(o), "Cluster::Start");
    for (int id = 1; id <= nodes; ++id) {
      if (const engine::DiskStorage* d = run.cluster->disk(id)) {
        WaitForSpareSegments(run.cluster->node_dir(id), d->engine().GetStats().segments);
      }
    }
    runs.push_back(std::move(run));
  }
  // Untimed warm-up: until each cluster's first compaction (or 1 s), so
  // MemoryStorage reuses heap memory as a long-running node does and each
  // DiskStorage has started writing its logs.
  std::printf("\n%d-node cluster: warming up...\n", nodes);
  std::fflush(stdout);
  for (Run& run : runs) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (std::chrono::steady_clock::now() < until) {
      CheckOk(run.cluster->Round(nullptr), "Cluster::Round");
      if (run.cluster->CompactionDue()) {
        CheckOk(run.cluster->Compact(), "Cluster::Compact");
        break;
      }
    }
    run.syncs_before = run.cluster->Syncs();
    run.committed_before = run.cluster->committed();
  }
  RawProbe probe(args.dir, args.entry_bytes, args.batch);
  std::printf(
      "%d-node cluster: %s and %s take turns every %.1f s, %.0f s each, with a raw "
      "pwrite+fdatasync probe of the same bytes between them\n",
      nodes, std::string(BackendTitle(runs[0].backend)).c_str(),
      std::string(BackendTitle(runs[1].backend)).c_str(), args.slice, args.seconds);
  const int slices = std::max(1, static_cast<int>(args.seconds / args.slice + 0.5));
  for (int s = 1; s <= slices; ++s) {
    for (Run& run : runs) {
      const uint64_t before = run.cluster->committed();
      const double t_before = run.seconds;
      RunSlice(run, args.slice);
      const double rate =
          static_cast<double>(run.cluster->committed() - before) / (run.seconds - t_before);
      std::printf(
          "  [%2d/%d] %-20s %12s entries committed  %10s entries/s\n", s, slices,
          std::string(BackendTitle(run.backend)).c_str(),
          Thousands(static_cast<double>(run.cluster->committed() - run.committed_before)).c_str(),
          Thousands(rate).c_str());
      std::fflush(stdout);
    }
    probe.RunFor(args.slice / 4);
    std::printf("  [%2d/%d] %-20s %12s   (%.2f ms per fdatasync so far)\n", s, slices,
                "raw disk probe", "", 1e3 / probe.WritesPerSecond());
    std::fflush(stdout);
  }
  std::vector<Row> rows;
  for (Run& run : runs) {
    const double committed = static_cast<double>(run.cluster->committed() - run.committed_before);
    const Cluster::SyncCounts after = run.cluster->Syncs();
    const double fsyncs = IsDisk(run.backend) && run.rounds > 0
                              ? static_cast<double>(after.log_syncs - run.syncs_before.log_syncs) /
                                    static_cast<double>(run.rounds)
                              : -1;
    Row r{nodes,
          run.backend,
          committed / run.seconds,
          committed * static_cast<double>(args.entry_bytes) / run.seconds / (1 << 20),
          Quantile(&run.latencies, 0.50) * 1e3,
          Quantile(&run.latencies, 0.99) * 1e3,
          fsyncs,
          fsyncs >= 0.5 ? probe.WritesPerSecond() / fsyncs * static_cast<double>(args.batch) : 0};
    rows.push_back(r);
  }
  return rows;  // the clusters close here; the DiskStorage logs stay
}

int Main(int argc, char** argv) {
  Args args;
  for (int k = 1; k < argc; ++k) {
    const std::string a = argv[k];
    if (k + 1 >= argc) return Usage();
    const char* v = argv[++k];
    char* end = nullptr;
    if (a == "--dir") {
      args.dir = v;
    } else if (a == "--seconds") {
      args.seconds = std::strtod(v, &end);
    } else if (a == "--slice") {
      args.slice = std::strtod(v, &end);
    } else if (a == "--entry-bytes") {
      args.entry_bytes = std::strtoull(v, &end, 10);
    } else if (a == "--batch") {
      args.batch = std::strtoull(v, &end, 10);
    } else {
      return Usage();
    }
    if (end != nullptr && *end != '\0') return Usage();
  }
  if (args.seconds <= 0 || args.slice <= 0 || args.entry_bytes < 16 || args.batch < 1) {
    return Usage();
  }
  if (args.dir.empty()) {
    std::string templ = BaseDir() + "/raftlog-demo-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    CheckErrno(::mkdtemp(buf.data()) != nullptr, "mkdtemp " + templ);
    args.dir = buf.data();
  }
  std::printf(
      "raft cluster demo: %zu-byte entries, %zu proposals per round on the leader, "
      "every Ready saved before its messages go out; logs in %s\n",
      args.entry_bytes, args.batch, args.dir.c_str());
  std::vector<Row> rows;
  for (int nodes : {1, 3}) {
    for (const Row& r : RunClusterSize(args, nodes)) rows.push_back(r);
  }

  std::printf(
      "\nResults (throughput = committed entries per second of round time; latency = "
      "Propose() to applied on the leader)\n\n");
  std::printf("%-5s  %-20s  %19s  %8s  %8s  %8s  %12s  %16s  %13s\n", "nodes", "storage",
              "committed entries/s", "MiB/s", "p50 ms", "p99 ms", "fsyncs/round",
              "vs MemoryStorage", "vs disk limit");
  double memory_rate = 0;
  for (const Row& r : rows) {
    if (r.backend == Backend::kMemory) memory_rate = r.entries_per_second;
    char fsyncs[32] = "-";
    if (r.fsyncs_per_round >= 0) std::snprintf(fsyncs, sizeof(fsyncs), "%.2f", r.fsyncs_per_round);
    char limit[32] = "-";
    if (r.disk_limit > 0) {
      std::snprintf(limit, sizeof(limit), "%.2fx", r.entries_per_second / r.disk_limit);
    }
    std::printf("%5d  %-20s  %19s  %8.1f  %8.3f  %8.3f  %12s  %15.2fx  %13s\n", r.nodes,
                std::string(BackendTitle(r.backend)).c_str(),
                Thousands(r.entries_per_second).c_str(), r.mib_per_second, r.p50_ms, r.p99_ms,
                fsyncs, memory_rate > 0 ? r.entries_per_second / memory_rate : 0.0, limit);
  }
  std::printf(
      "\nvs disk limit: against the raw pwrite+fdatasync rate of a round's bytes measured in "
      "the same turns,\ndivided by the fsyncs per round (the nodes' fsyncs share one disk "
      "here, one after another).\n");
  std::printf("\nDiskStorage logs left in %s (cluster-<nodes>/node<id>; node 1 led)\n",
              args.dir.c_str());
  return 0;
}

}  // namespace
}  // namespace raftlog::bench

int main(int argc, char** argv) { return raftlog::bench::Main(argc, argv); }
