// DiskStorage against the baselines that append_bench.cc does not cover
// (docs/benchmarks.md), side by side in one run:
//
// The naive LMDB log (bench/lmdb_baseline.h: one key per entry, one write
// transaction per batch, as raft-boltdb-style stores do), in the append
// shapes of append_bench.cc plus batches of 64:
//
//   BM_LmdbAppend/sync/<bytes>/<batch>     LmdbLogStorage::Append, LMDB's
//       default durability (fdatasync + an O_DSYNC meta page write per commit).
//   BM_LmdbAppend/nosync/<bytes>/<batch>   the same environment opened with
//       MDB_NOSYNC (no sync at all), fixed minimum time 0.1 s.
//   BM_RawPwrite/<bytes>/<batch>           the raw limit without sync: pwrite of
//       the bytes the engine writes per batch (as BM_RawPwriteFdatasync) into
//       the same pre-zeroed 256 MiB file, wrapping, never synced.
//   BM_LmdbSyncPaired/<bytes>/<batch>      DiskStorage::Append (sync) and
//       LmdbLogStorage::Append (sync) of the same batch interleaved in one loop,
//       alternating which goes first, each timed alone: the ratio cancels the
//       drift of a shared disk. Counters disk_items_per_second,
//       lmdb_items_per_second and disk_vs_lmdb (target: >= 3); items are the
//       entries of both writes.
//
// The shape of the storage targets in docs/benchmarks.md, 1 KiB entries in batches of 64
// (append_bench.cc has batches of 1, 16 and 256; these names do not clash):
//
//   BM_MemoryAppend/1024/64, BM_DiskAppend/nosync/1024/64 (Save with
//       must_sync=false), BM_DiskAppend/sync/1024/64, BM_RawPwriteFdatasync/1024/64
//       as in append_bench.cc.
//   BM_NoSyncPaired/1024/64   DiskStorage Save(must_sync=false) and
//       MemoryStorage::Append interleaved, each timed alone: counters
//       disk_items_per_second, memory_items_per_second, disk_vs_memory
//       (target: >= 0.5), stall_share (of the disk's time, in calls > 1 ms).
//   BM_SyncAppendPaired/1024/64   DiskStorage::Append (sync) and pwrite +
//       fdatasync of the same bytes interleaved: disk_vs_raw (target: >= 0.9).
//
// Payloads are random bytes (bench_util.h), the same slices append_bench.cc
// writes. Every batch is one Append call; items are entries, bytes their data
// bytes. To bound disk and memory use, the logs are compacted (timer paused)
// after each 256 MiB of appended data; LMDB then reuses the freed pages.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/lmdb_baseline.h"
#include "raftlog/engine/options.h"
#include "raftlog/engine/disk_storage.h"
#include "raftlog/raft/memory_storage.h"
#include "raftlog/raft/types.h"

namespace raftlog::bench {
namespace {

constexpr size_t kSizes[] = {128, 1024, 16384};
constexpr size_t kBatches[] = {1, 16, 64, 256};
constexpr uint64_t kSeed = 20240603;
constexpr uint64_t kTerm = 7;
constexpr uint64_t kCompactEveryBytes = 256u << 20;
constexpr double kNoSyncMinTimeSeconds = 0.1;
constexpr double kNoSyncPairedMinTimeSeconds = 0.5;

const PayloadSource& Source() {
  static const PayloadSource* random = new PayloadSource(Payload::kRandom, kSeed);
  return *random;
}

// A storage being appended to, in its own temp dir (none for MemoryStorage),
// with the batch it appends again and again (renumbered each time).
template <class Storage>
struct Appender {
  // tag: the temp dir's tag; empty for none (MemoryStorage).
  explicit Appender(std::string_view tag) {
    if (!tag.empty()) dir.emplace(tag);
  }
  // sync=false: Save(empty HardState, batch, no snapshot, must_sync=false),
  // how a raft Ready that needs no sync reaches a WritableStorage.
  void AppendNext(bool sync = true) {
    Renumber(&batch, next_index);
    next_index += batch.size();
    CheckOk(sync ? storage->Append(batch)
                 : storage->Save(raft::HardState{}, batch, nullptr, /*must_sync=*/false),
            "Append");
  }
  void CompactToLast() { CheckOk(storage->Compact(next_index - 1), "Compact"); }

  std::optional<TempDir> dir;
  std::unique_ptr<Storage> storage;
  std::vector<raft::Entry> batch;
  uint64_t next_index = 1;
};

std::unique_ptr<Appender<LmdbLogStorage>> MakeLmdb(bool sync, size_t bytes, size_t batch) {
  auto a = std::make_unique<Appender<LmdbLogStorage>>("lmdb");
  LmdbLogOptions options;
  options.sync = sync;
  a->storage = CheckOk(LmdbLogStorage::Open(a->dir->Sub("log"), options), "LmdbLogStorage::Open");
  a->batch = MakeEntries(Source(), bytes, batch, 1, kTerm);
  a->AppendNext();  // the first commit creates the B-tree's first pages
  return a;
}

std::unique_ptr<Appender<engine::DiskStorage>> MakeDisk(size_t bytes, size_t batch) {
  auto a = std::make_unique<Appender<engine::DiskStorage>>("disk");
  a->storage = CheckOk(engine::DiskStorage::Open(a->dir->Sub("log")), "DiskStorage::Open");
  a->batch = MakeEntries(Source(), bytes, batch, 1, kTerm);
  // The first append activates the first segment and the preallocator starts
  // on a spare: let it finish before timing (as append_bench.cc does).
  a->AppendNext();
  WaitForSpareSegments(a->dir->Sub("log"), a->storage->engine().GetStats().segments);
  return a;
}

// A MemoryStorage in its steady state: one compaction interval of entries
// appended and compacted away before timing, so that its appends reuse heap
// memory the process already has (as a long-running raft node's do) instead
// of faulting in fresh pages, which costs more than the copy itself and would
// make the figure depend on what the process did before.
std::unique_ptr<Appender<raft::MemoryStorage>> MakeMemory(size_t bytes, size_t batch) {
  auto a = std::make_unique<Appender<raft::MemoryStorage>>("");
  a->storage = std::make_unique<raft::MemoryStorage>();
  a->batch = MakeEntries(Source(), bytes, batch, 1, kTerm);
  for (uint64_t appended = 0; appended < kCompactEveryBytes; appended += bytes * batch) {
    a->AppendNext();
  }
  a->CompactToLast();
  return a;
}

// The raw-disk baseline for a shape (append_bench.cc's), its file made
// (256 MiB of zeros, synced) before any timing.
RawWriter MakeRawWriter(size_t bytes, size_t batch) {
  return RawWriter(&RawFile(), RawBatch(Source(), bytes, batch, engine::Options{}.max_frame_bytes));
}

// Appends in a loop; compacts (untimed) every kCompactEveryBytes.
template <class A>
void AppendLoop(benchmark::State& state, A& a, bool sync, size_t bytes, size_t batch,
                StallMeter* stalls) {
  uint64_t since_compact = 0;
  for (auto _ : state) {
    stalls->Time([&] { a.AppendNext(sync); });
    since_compact += batch * bytes;
    if (since_compact >= kCompactEveryBytes) {
      state.PauseTiming();
      a.CompactToLast();
      since_compact = 0;
      state.ResumeTiming();
    }
  }
  SetThroughput(state, batch, bytes);
}

void LmdbAppend(benchmark::State& state, const std::string& key, bool sync, size_t bytes,
                size_t batch) {
  auto& a =
      Setups().Get<Appender<LmdbLogStorage>>(key, [&] { return MakeLmdb(sync, bytes, batch); });
  StallMeter stalls;
  AppendLoop(state, a, true, bytes, batch, &stalls);
  if (!sync) stalls.Report(state);
}

void DiskAppend(benchmark::State& state, const std::string& key, bool sync, size_t bytes,
                size_t batch) {
  auto& a =
      Setups().Get<Appender<engine::DiskStorage>>(key, [&] { return MakeDisk(bytes, batch); });
  const engine::Stats before = a.storage->engine().GetStats();
  StallMeter stalls;
  AppendLoop(state, a, sync, bytes, batch, &stalls);
  SetWriteCounters(state, before, a.storage->engine().GetStats());
  if (!sync) stalls.Report(state);
}

void MemoryAppend(benchmark::State& state, const std::string& key, size_t bytes, size_t batch) {
  auto& a =
      Setups().Get<Appender<raft::MemoryStorage>>(key, [&] { return MakeMemory(bytes, batch); });
  StallMeter stalls;
  AppendLoop(state, a, true, bytes, batch, &stalls);
}

void RawPwriteFdatasync(benchmark::State& state, size_t bytes, size_t batch) {
  RawWriter raw = MakeRawWriter(bytes, batch);
  for (auto _ : state) raw.Write();
  SetThroughput(state, batch, bytes);
  state.counters["bytes_per_append"] = Value(static_cast<double>(raw.bytes()));
  state.counters["fsyncs_per_append"] = Value(1);
}

// The same bytes with pwrite alone, no sync: the page cache's limit, what
// appends without sync are compared with. The file is the same 256 MiB
// (wrapping), so its pages stay cached and the kernel writes back at leisure.
void RawPwrite(benchmark::State& state, size_t bytes, size_t batch) {
  RawWriter raw = MakeRawWriter(bytes, batch);
  for (auto _ : state) raw.Write(/*sync=*/false);
  SetThroughput(state, batch, bytes);
  state.counters["bytes_per_append"] = Value(static_cast<double>(raw.bytes()));
}

// Runs `a` and `b` alternately, each timed alone, alternating which goes
// first; returns their seconds. Items are the entries of both.
template <class FnA, class FnB, class Compact>
std::pair<double, double> Paired(benchmark::State& state, size_t bytes, size_t batch, FnA a, FnB b,
                                 Compact compact) {
  double a_seconds = 0, b_seconds = 0;
  bool a_first = true;
  uint64_t since_compact = 0;
  for (auto _ : state) {
    for (int k = 0; k < 2; ++k) {
      const bool run_a = (k == 0) == a_first;
      const auto t0 = std::chrono::steady_clock::now();
      if (run_a) {
        a();
      } else {
        b();
      }
      (run_a ? a_seconds : b_seconds) +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    a_first = !a_first;
    since_compact += batch * bytes;
    if (since_compact >= kCompactEveryBytes) {
      state.PauseTiming();
      compact();
      since_compact = 0;
      state.ResumeTiming();
    }
  }
  SetThroughput(state, 2 * batch, bytes);
  return {a_seconds, b_seconds};
}

// Sets <a>_items_per_second, <b>_items_per_second and <a>_vs_<b> (the
// ratio of their rates).
void SetPairCounters(benchmark::State& state, size_t batch, const std::string& a,
                     const std::string& b, std::pair<double, double> seconds) {
  const double entries = static_cast<double>(state.iterations()) * static_cast<double>(batch);
  if (seconds.first <= 0 || seconds.second <= 0) return;
  state.counters[a + "_items_per_second"] = Value(entries / seconds.first);
  state.counters[b + "_items_per_second"] = Value(entries / seconds.second);
  state.counters[a + "_vs_" + b] = Value(seconds.second / seconds.first);
}

struct LmdbPair {
  std::unique_ptr<Appender<engine::DiskStorage>> disk;
  std::unique_ptr<Appender<LmdbLogStorage>> lmdb;
};

void LmdbSyncPaired(benchmark::State& state, const std::string& key, size_t bytes, size_t batch) {
  auto& p = Setups().Get<LmdbPair>(key, [&] {
    auto s = std::make_unique<LmdbPair>();
    s->disk = MakeDisk(bytes, batch);
    s->lmdb = MakeLmdb(true, bytes, batch);
    return s;
  });
  const engine::Stats before = p.disk->storage->engine().GetStats();
  const auto seconds = Paired(
      state, bytes, batch, [&] { p.disk->AppendNext(); }, [&] { p.lmdb->AppendNext(); },
      [&] {
        p.disk->CompactToLast();
        p.lmdb->CompactToLast();
      });
  SetWriteCounters(state, before, p.disk->storage->engine().GetStats());
  SetPairCounters(state, batch, "disk", "lmdb", seconds);
}

struct MemoryPair {
  std::unique_ptr<Appender<engine::DiskStorage>> disk;
  std::unique_ptr<Appender<raft::MemoryStorage>> memory;
};

void NoSyncPaired(benchmark::State& state, const std::string& key, size_t bytes, size_t batch) {
  auto& p = Setups().Get<MemoryPair>(key, [&] {
    auto s = std::make_unique<MemoryPair>();
    s->disk = MakeDisk(bytes, batch);
    s->memory = MakeMemory(bytes, batch);
    return s;
  });
  const engine::Stats before = p.disk->storage->engine().GetStats();
  StallMeter stalls;
  const auto seconds = Paired(
      state, bytes, batch, [&] { stalls.Time([&] { p.disk->AppendNext(false); }); },
      [&] { p.memory->AppendNext(); },
      [&] {
        p.disk->CompactToLast();
        p.memory->CompactToLast();
      });
  SetWriteCounters(state, before, p.disk->storage->engine().GetStats());
  SetPairCounters(state, batch, "disk", "memory", seconds);
  stalls.Report(state);
}

void SyncAppendPaired(benchmark::State& state, const std::string& key, size_t bytes, size_t batch) {
  auto& disk =
      Setups().Get<Appender<engine::DiskStorage>>(key, [&] { return MakeDisk(bytes, batch); });
  RawWriter raw = MakeRawWriter(bytes, batch);
  const engine::Stats before = disk.storage->engine().GetStats();
  const auto seconds = Paired(
      state, bytes, batch, [&] { disk.AppendNext(); }, [&] { raw.Write(); },
      [&] { disk.CompactToLast(); });
  SetWriteCounters(state, before, disk.storage->engine().GetStats());
  SetPairCounters(state, batch, "disk", "raw", seconds);
}

template <class Fn>
void Register(const std::string& name, Fn fn, double min_time_seconds = 0) {
  benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(name.c_str(), fn);
  b->UseRealTime();
  if (min_time_seconds > 0) b->MinTime(min_time_seconds);
}

void RegisterAll() {
  const double quick = kNoSyncMinTimeSeconds;
  for (size_t bytes : kSizes) {
    for (size_t batch : kBatches) {
      const std::string sync = BenchName("BM_LmdbAppend/sync", {bytes, batch});
      Register(sync, [=](benchmark::State& st) { LmdbAppend(st, sync, true, bytes, batch); });
      const std::string paired = BenchName("BM_LmdbSyncPaired", {bytes, batch});
      Register(paired, [=](benchmark::State& st) { LmdbSyncPaired(st, paired, bytes, batch); });
    }
  }
  // The report's 1 KiB x 64 shape.
  const size_t bytes = 1024, batch = 64;
  Register(BenchName("BM_RawPwriteFdatasync", {bytes, batch}),
           [=](benchmark::State& st) { RawPwriteFdatasync(st, bytes, batch); });
  const std::string disk_sync = BenchName("BM_DiskAppend/sync", {bytes, batch});
  Register(disk_sync, [=](benchmark::State& st) { DiskAppend(st, disk_sync, true, bytes, batch); });
  const std::string sync_paired = BenchName("BM_SyncAppendPaired", {bytes, batch});
  Register(sync_paired,
           [=](benchmark::State& st) { SyncAppendPaired(st, sync_paired, bytes, batch); });
  const std::string memory = BenchName("BM_MemoryAppend", {bytes, batch});
  Register(
      memory, [=](benchmark::State& st) { MemoryAppend(st, memory, bytes, batch); }, quick);
  const std::string disk_nosync = BenchName("BM_DiskAppend/nosync", {bytes, batch});
  Register(
      disk_nosync, [=](benchmark::State& st) { DiskAppend(st, disk_nosync, false, bytes, batch); },
      quick);
  // Longer than the other runs without sync: at ~1 GB/s a segment (64 MiB)
  // fills every ~0.1 s, and each roll costs a seal; the ratio must include
  // several of them to be the steady state's.
  const std::string nosync_paired = BenchName("BM_NoSyncPaired", {bytes, batch});
  Register(
      nosync_paired, [=](benchmark::State& st) { NoSyncPaired(st, nosync_paired, bytes, batch); },
      kNoSyncPairedMinTimeSeconds);

  for (size_t bytes : kSizes) {
    for (size_t batch : kBatches) {
      Register(
          BenchName("BM_RawPwrite", {bytes, batch}),
          [=](benchmark::State& st) { RawPwrite(st, bytes, batch); }, quick);
      const std::string nosync = BenchName("BM_LmdbAppend/nosync", {bytes, batch});
      Register(
          nosync, [=](benchmark::State& st) { LmdbAppend(st, nosync, false, bytes, batch); },
          quick);
    }
  }
}

}  // namespace
}  // namespace raftlog::bench

int main(int argc, char** argv) {
  using namespace raftlog::bench;
  return BenchMain(argc, argv, RegisterAll, ReleaseRawFile);
}
