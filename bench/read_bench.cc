// Read paths (the read targets and cold scans of docs/benchmarks.md), DiskStorage
// against MemoryStorage holding the same entries, side by side in one run:
//
//   BM_DiskTerm/random/<entries>, BM_MemoryTerm/random/<entries>
//       Term(i) for random i (fixed seed) over a log of 1M or 64k entries of
//       128 B appended in batches of 256, the term rising every 8192 entries
//       (128 or 8 term runs). Items are lookups. MemoryStorage's figure
//       depends on whether its 56-byte entries fit the CPU cache (64k do, 1M
//       do not) and on what else runs on the machine; the engine's does not.
//   BM_DiskEntriesHot/<bytes>/<window>/<batch>, BM_MemoryEntriesHot/<bytes>/<window>
//       Entries(last-window+1, last+1, no limit) again and again: the window
//       raft re-reads to send or apply, just appended (in the active segment,
//       page cache warm). <batch> is the number of entries per Append (so per
//       frame) the disk log was written with. Items are entries returned.
//       The log holds 16k entries (4096 at 16 KiB: at most 64 MiB of data).
//   BM_DiskEntriesJustWritten/<bytes>/<batch>
//       Append a batch of <batch> entries (one Save without sync, untimed),
//       then read it back with one Entries call and read its payloads (one
//       8-byte word per 64-byte cache line, as a consumer that sends or
//       applies them would): what the raft leader does with every committed
//       entry. Only the read and the consumer are timed (manual time); the log
//       is compacted to its last 64 MiB as it grows, so segments roll. A
//       run writes 128 MiB (fixed iterations), without fdatasync.
//       Counters: minflt_per_entry (minor page faults of the reading thread
//       per entry read, getrusage(RUSAGE_THREAD)) and append_us_per_entry.
//   BM_DiskEntriesCold/<zstd|none>/<payload>/<bytes>/<batch>
//       A sequential scan, 256 entries per Entries call, over a log of 64 MiB
//       of entry data in sealed segments (Options::segment_bytes = 8 MiB so
//       that a small log has several), reopened at the start of every pass so
//       no frame is in the engine's frame cache or verified yet: every frame
//       is checksummed once and, if compressed, decompressed. "Cold" is the
//       engine's state; the OS page cache stays warm. Items are entries.

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "raftlog/engine/options.h"
#include "raftlog/engine/disk_storage.h"
#include "raftlog/raft/memory_storage.h"
#include "raftlog/raft/storage.h"
#include "raftlog/raft/types.h"

namespace raftlog::bench {
namespace {

constexpr uint64_t kSeed = 20240603;

const PayloadSource& Source(Payload kind) {
  static const PayloadSource* random = new PayloadSource(Payload::kRandom, kSeed);
  static const PayloadSource* text = new PayloadSource(Payload::kText, kSeed);
  return kind == Payload::kRandom ? *random : *text;
}

// A DiskStorage and a MemoryStorage holding the same entries.
struct TwoLogs {
  TempDir dir{"read"};
  std::unique_ptr<engine::DiskStorage> disk;
  raft::MemoryStorage memory;
  uint64_t last_index = 0;
};

// Appends `count` entries of `bytes` bytes in batches of `batch` to both logs
// (the disk one without sync: only the layout matters to readers), the term
// rising by one every `term_every` entries.
std::unique_ptr<TwoLogs> BuildTwoLogs(Payload payload, size_t bytes, size_t count, size_t batch,
                                      uint64_t term_every) {
  auto logs = std::make_unique<TwoLogs>();
  logs->disk = CheckOk(engine::DiskStorage::Open(logs->dir.Sub("log")), "DiskStorage::Open");
  for (uint64_t first = 1; first <= count; first += batch) {
    const size_t n = std::min<size_t>(batch, count - first + 1);
    // One term per batch, so the term changes only at batch boundaries.
    std::vector<raft::Entry> entries =
        MakeEntries(Source(payload), bytes, n, first, 1 + (first - 1) / term_every, first);
    CheckOk(logs->disk->Save(raft::HardState{}, entries, nullptr, /*must_sync=*/false),
            "DiskStorage::Save");
    CheckOk(logs->memory.Append(entries), "MemoryStorage::Append");
  }
  logs->last_index = count;
  WaitForSpareSegments(logs->dir.Sub("log"), logs->disk->engine().GetStats().segments);
  return logs;
}

// --- Term ------------------------------------------------------------------------

void TermLookups(benchmark::State& state, bool disk, size_t entries) {
  auto& logs = Setups().Get<TwoLogs>(BenchName("term", {entries}), [&] {
    return BuildTwoLogs(Payload::kRandom, 128, entries, 256, 8192);
  });
  const raft::Storage& storage = disk ? static_cast<const raft::Storage&>(*logs.disk) : logs.memory;
  std::vector<uint64_t> probes(1u << 16);
  std::mt19937_64 rng(kSeed);
  for (uint64_t& p : probes) p = 1 + rng() % logs.last_index;
  size_t k = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    auto term = storage.Term(probes[k++ & (probes.size() - 1)]);
    CheckOk(term.status(), "Term");
    sum += *term;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// --- hot Entries -------------------------------------------------------------------

constexpr size_t kHotLogEntries = 1u << 14;

void HotEntries(benchmark::State& state, const std::string& key, bool disk, size_t bytes,
                size_t window, size_t batch) {
  auto& logs = Setups().Get<TwoLogs>(key, [&] {
    // At most 64 MiB of entry data (4096 entries of 16 KiB).
    const size_t entries = std::min<size_t>(kHotLogEntries, (64u << 20) / bytes);
    return BuildTwoLogs(Payload::kRandom, bytes, entries, batch, entries);
  });
  const raft::Storage& storage = disk ? static_cast<const raft::Storage&>(*logs.disk) : logs.memory;
  const uint64_t lo = logs.last_index - window + 1;
  for (auto _ : state) {
    auto entries = storage.Entries(lo, logs.last_index + 1, raft::kNoLimit);
    CheckOk(entries.status(), "Entries");
    benchmark::DoNotOptimize(entries->data());
  }
  SetThroughput(state, window, bytes);
}

// --- entries read right after they were written ---------------------------------

// Minor page faults taken so far by the calling thread.
int64_t ThreadMinorFaults() {
  struct rusage usage;
  CheckErrno(::getrusage(RUSAGE_THREAD, &usage) == 0, "getrusage");
  return usage.ru_minflt;
}

// A fixed amount written per run (the timed reads are a small part of a run).
constexpr uint64_t kJustWrittenBytes = 128u << 20;

void JustWrittenEntries(benchmark::State& state, size_t bytes, size_t batch) {
  TempDir dir("justwritten");
  engine::DiskStorageOptions options;
  // Without fdatasync, so that the disk's speed (and other work on it) stays
  // out of a benchmark of reads; nor a cold worker rewriting what is read
  // (reads of compressed segments: bench/cold_bench.cc).
  options.engine.sync = engine::SyncPolicy::kNever;
  options.engine.compression_mode = engine::CompressionMode::kOff;
  auto storage = CheckOk(engine::DiskStorage::Open(dir.Sub("log"), options), "DiskStorage::Open");
  std::vector<raft::Entry> entries = MakeEntries(Source(Payload::kRandom), bytes, batch, 1, 1);
  const uint64_t keep = (64u << 20) / bytes;  // entries kept when compacting
  uint64_t next = 1, sum = 0;
  int64_t faults = 0;
  double append_seconds = 0;
  for (auto _ : state) {
    Renumber(&entries, next);
    const auto t0 = std::chrono::steady_clock::now();
    CheckOk(storage->Save(raft::HardState{}, entries, nullptr, /*must_sync=*/false), "Save");
    const auto t1 = std::chrono::steady_clock::now();
    const int64_t faults_before = ThreadMinorFaults();
    auto read = storage->Entries(next, next + batch, raft::kNoLimit);
    CheckOk(read.status(), "Entries");
    for (const raft::Entry& e : *read) {
      const char* p = e.data.data();
      for (size_t k = 0; k + sizeof(uint64_t) <= e.data.size(); k += 64) {
        uint64_t word;
        std::memcpy(&word, p + k, sizeof(word));
        sum += word;
      }
    }
    const auto t2 = std::chrono::steady_clock::now();
    faults += ThreadMinorFaults() - faults_before;
    append_seconds += std::chrono::duration<double>(t1 - t0).count();
    state.SetIterationTime(std::chrono::duration<double>(t2 - t1).count());
    next += batch;
    if (next > 2 * keep) CheckOk(storage->Compact(next - keep), "Compact");
  }
  benchmark::DoNotOptimize(sum);
  SetThroughput(state, batch, bytes);
  const double read_entries = static_cast<double>(state.iterations() * batch);
  state.counters["minflt_per_entry"] = Value(static_cast<double>(faults) / read_entries);
  state.counters["append_us_per_entry"] = Value(append_seconds * 1e6 / read_entries);
  state.counters["segment_rolls"] =
      Value(static_cast<double>(storage->engine().GetStats().segment_rolls));
}

// --- cold scans of sealed segments -----------------------------------------------

constexpr uint64_t kColdLogBytes = 64u << 20;
constexpr uint64_t kColdSegmentBytes = 8u << 20;
constexpr size_t kScanChunk = 256;

struct ColdLog {
  TempDir dir{"cold"};
  engine::DiskStorageOptions options;
  std::unique_ptr<engine::DiskStorage> storage;
  uint64_t last_index = 0;
  uint64_t next = 1;  // the next index to read

  void Reopen() {
    if (storage != nullptr) CheckOk(storage->Close(), "DiskStorage::Close");
    storage.reset();
    storage = CheckOk(engine::DiskStorage::Open(dir.Sub("log"), options), "DiskStorage::Open");
  }
};

void ColdScan(benchmark::State& state, const std::string& key, bool zstd, Payload payload,
              size_t bytes, size_t batch) {
  auto& log = Setups().Get<ColdLog>(key, [&] {
    auto log = std::make_unique<ColdLog>();
    log->options.engine.segment_bytes = kColdSegmentBytes;
    log->options.engine.compression.enabled = zstd;
    // "none" stays raw: no cold worker (its reads: bench/cold_bench.cc).
    log->options.engine.compression_mode = engine::CompressionMode::kOff;
    log->Reopen();
    const uint64_t count = kColdLogBytes / bytes;
    for (uint64_t first = 1; first <= count; first += batch) {
      std::vector<raft::Entry> entries = MakeEntries(
          Source(payload), bytes, std::min<uint64_t>(batch, count - first + 1), first, 1, first);
      CheckOk(log->storage->Save(raft::HardState{}, entries, nullptr, false), "DiskStorage::Save");
    }
    log->last_index = count;
    log->Reopen();
    return log;
  });
  // The whole log: all but its last few MiB are in sealed segments.
  const engine::Stats stats = log.storage->engine().GetStats();
  const uint64_t end = stats.last_index + 1;
  uint64_t frames_decompressed = 0;
  for (auto _ : state) {
    if (log.next + kScanChunk > end) {
      state.PauseTiming();
      const engine::Stats s = log.storage->engine().GetStats();
      frames_decompressed += s.frame_cache_misses;
      log.Reopen();
      log.next = 1;
      state.ResumeTiming();
    }
    auto entries = log.storage->Entries(log.next, log.next + kScanChunk, raft::kNoLimit);
    CheckOk(entries.status(), "Entries");
    benchmark::DoNotOptimize(entries->data());
    log.next += kScanChunk;
  }
  SetThroughput(state, kScanChunk, bytes);
  const engine::Stats after = log.storage->engine().GetStats();
  state.counters["sealed_segments"] = Value(static_cast<double>(after.sealed_segments));
  state.counters["segments"] = Value(static_cast<double>(after.segments));
  state.counters["frames_decompressed"] =
      Value(static_cast<double>(frames_decompressed + after.frame_cache_misses));
}

void RegisterAll() {
  for (size_t entries : {1u << 20, 1u << 16}) {
    for (bool disk : {true, false}) {
      benchmark::RegisterBenchmark(
          BenchName(disk ? "BM_DiskTerm/random" : "BM_MemoryTerm/random", {entries}).c_str(),
          [=](benchmark::State& st) { TermLookups(st, disk, entries); })
          ->UseRealTime();
    }
  }
  for (size_t bytes : {128, 1024, 16384}) {
    for (size_t batch : {16, 1}) {
      const std::string key = BenchName("hot", {bytes, batch});
      for (size_t window : {64, 256}) {
        benchmark::RegisterBenchmark(
            BenchName("BM_DiskEntriesHot", {bytes, window, batch}).c_str(),
            [=](benchmark::State& st) { HotEntries(st, key, true, bytes, window, batch); })
            ->UseRealTime();
        if (batch == 16) {
          benchmark::RegisterBenchmark(
              BenchName("BM_MemoryEntriesHot", {bytes, window}).c_str(),
              [=](benchmark::State& st) { HotEntries(st, key, false, bytes, window, batch); })
              ->UseRealTime();
        }
      }
    }
  }
  for (size_t bytes : {1024, 16384}) {
    constexpr size_t kBatch = 64;
    benchmark::RegisterBenchmark(
        BenchName("BM_DiskEntriesJustWritten", {bytes, kBatch}).c_str(),
        [=](benchmark::State& st) { JustWrittenEntries(st, bytes, kBatch); })
        ->UseManualTime()
        ->Iterations(kJustWrittenBytes / (bytes * kBatch));
  }
  for (bool zstd : {true, false}) {
    const std::string name =
        std::string("BM_DiskEntriesCold/") + (zstd ? "zstd" : "none") + "/text/1024/64";
    benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
      ColdScan(st, name, zstd, Payload::kText, 1024, 64);
    })->UseRealTime();
  }
}

}  // namespace
}  // namespace raftlog::bench

int main(int argc, char** argv) {
  return raftlog::bench::BenchMain(argc, argv, raftlog::bench::RegisterAll, [] {});
}
