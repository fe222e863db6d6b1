// Compressed cold segments (docs/benchmarks.md, "Cold segments"), side by
// side in one run, per payload kind (bench/payload_gen.h: etcd-style put
// requests, a document store's JSON records, random bytes):
//
//   BM_ZstdCompress/<payload>/level:<L>     format::Compressor alone on the raw
//       payload of ~64 KiB frames of those entries (the frame size a
//       compressed segment uses): counters ratio (raw / compressed bytes) and
//       bytes_per_second (raw bytes in).
//   BM_ZstdDecompress/<payload>/level:<L>   format::Decompressor alone on the
//       same frames: zstd's own decompression speed, the ceiling of a scan.
//   BM_ColdLog/<payload>   two logs of the same entries (16 MiB segments,
//       kLogEntries entries): one left raw, one whose sealed segments
//       LogEngine::CompressSegment rewrote (default options). Counters:
//       raw_bytes_per_entry and compressed_bytes_per_entry (sealed segment
//       file bytes on disk per entry they hold), disk_ratio (raw / compressed
//       bytes on disk); then, per iteration, one sequential scan of the sealed
//       entries of each log with LogEngine::ReadShared in chunks of 1000
//       entries (as raft's Entries() reads) and zstd alone decompressing the
//       compressed log's frames (the same entries, grouped as CompressSegment
//       groups them, at its level): raw_scan_MBps, compressed_scan_MBps,
//       zstd_MBps (MB of entry payload per second; page cache warm), and
//       compressed_vs_zstd = compressed_scan_MBps / zstd_MBps;
//       rewrite_ms_per_segment (the CompressSegment calls, page cache warm)
//       and, for random bytes, whole_rewrite_ms_per_segment: the same
//       segments rewritten in full before being kept raw (sample_bytes 0).
//   BM_ColdWorkerPaired/<sync|nosync>/etcd/batch:16[/unpaced]  appends with
//       Options::compression_mode kColdSegments against kOff, in alternating
//       phases (ColdWorkerPaired below): throughput and p99.9 Append latency
//       ratios, and what the worker compressed meanwhile; /unpaced turns its
//       waits for the log and the machine off (its cost when it always runs).
//   BM_ColdWorkerPaired/sync/etcd/batch:16/aa  the same with the worker off
//       on both sides: the ratios a paired run shows with nothing to find.
//   BM_ColdWorkerPaired/sync/etcd/batch:16/rate:<MiB/s>  the same at a fixed
//       offered load below cold_busy_bytes_per_sec (appends spaced to that
//       many MiB of entry data per second), with the worker's default
//       pacing: the commit latency of a log the worker compresses behind.
//
// zstd benchmarks: items are entries, bytes raw payload bytes; each runs for a
// fixed 0.2 s (CPU-bound). The log benchmarks write about 2 x 200000 entries
// into $RAFTLOG_BENCH_DIR (bench_util.h) and remove them afterwards.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "bench/payload_gen.h"
#include "raftlog/engine/log_engine.h"
#include "raftlog/engine/options.h"
#include "raftlog/format/coding.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/compression.h"
#include "raftlog/format/record_format.h"

namespace raftlog::bench {
namespace {

constexpr uint64_t kSeed = 20261207;
// Raw payload per compressed frame: what LogEngine::CompressSegment groups.
constexpr size_t kFrameInputBytes = 64u << 10;
constexpr size_t kFrames = 64;  // 4 MiB of raw payload per run
constexpr double kMinTimeSeconds = 0.2;

// The raw entries payload (docs/format.md §7) of consecutive entries.
std::string RawPayload(const std::vector<std::string>& entries) {
  std::string out(entries.size(), '\0');  // types: all 0 (normal entries)
  uint32_t end = 0;
  for (const std::string& e : entries) {
    end += static_cast<uint32_t>(e.size());
    format::PutFixed32(&out, end);
  }
  for (const std::string& e : entries) out += e;
  return out;
}

struct Frames {
  std::vector<std::string> raw;
  uint64_t entries = 0;
  uint64_t raw_bytes = 0;
};

// `count` entries of `kind` grouped as CompressSegment groups one term's
// entries: a frame ends before the entry that would take its raw payload
// (5 bytes per entry plus the data) past kFrameInputBytes.
Frames GroupFrames(PayloadKind kind, size_t count) {
  Frames out;
  PayloadGenerator gen(kind, kSeed);
  std::vector<std::string> entries;
  size_t bytes = 0;
  for (size_t k = 0; k < count; ++k) {
    std::string e = gen.Next();
    if (!entries.empty() && bytes + 5 + e.size() > kFrameInputBytes) {
      out.raw.push_back(RawPayload(entries));
      out.raw_bytes += out.raw.back().size();
      entries.clear();
      bytes = 0;
    }
    bytes += 5 + e.size();
    entries.push_back(std::move(e));
    out.entries++;
  }
  if (!entries.empty()) {
    out.raw.push_back(RawPayload(entries));
    out.raw_bytes += out.raw.back().size();
  }
  return out;
}

// About kFrames frames of `kind`'s entries.
const Frames& FramesOf(PayloadKind kind) {
  static Frames* cache[3] = {};
  Frames*& slot = cache[static_cast<int>(kind)];
  if (slot != nullptr) return *slot;
  // Enough entries for kFrames frames of the largest kind's entries.
  PayloadGenerator probe(kind, kSeed);
  size_t sample = 0;
  for (int k = 0; k < 100; ++k) sample += probe.Next().size() + 5;
  slot = new Frames(GroupFrames(kind, kFrames * kFrameInputBytes / (sample / 100)));
  return *slot;
}

format::CompressionOptions LevelOptions(int level) {
  format::CompressionOptions o;
  o.enabled = true;
  o.level = level;
  o.min_payload_bytes = 0;
  o.min_saving = 0;
  return o;
}

void ZstdCompress(benchmark::State& state, PayloadKind kind, int level) {
  const Frames& frames = FramesOf(kind);
  format::Compressor compressor;
  const format::CompressionOptions options = LevelOptions(level);
  std::string out;
  uint64_t stored = 0;
  for (auto _ : state) {
    stored = 0;
    for (const std::string& raw : frames.raw) {
      // Incompressible frames are stored raw, as the engine stores them.
      stored += compressor.MaybeCompress(raw, options, &out) ? out.size() : raw.size();
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * frames.entries));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frames.raw_bytes));
  state.counters["ratio"] = static_cast<double>(frames.raw_bytes) / static_cast<double>(stored);
  state.counters["raw_bytes_per_entry"] =
      static_cast<double>(frames.raw_bytes) / static_cast<double>(frames.entries);
}

void ZstdDecompress(benchmark::State& state, PayloadKind kind, int level) {
  const Frames& frames = FramesOf(kind);
  format::Compressor compressor;
  const format::CompressionOptions options = LevelOptions(level);
  std::vector<std::string> compressed;
  std::vector<size_t> raw_sizes;
  for (const std::string& raw : frames.raw) {
    std::string out;
    if (!compressor.MaybeCompress(raw, options, &out)) continue;  // stored raw: nothing to do
    compressed.push_back(std::move(out));
    raw_sizes.push_back(raw.size());
  }
  if (compressed.empty()) {
    state.SkipWithError("no frame compresses");
    return;
  }
  format::Decompressor decompressor;
  std::string out;
  uint64_t raw_bytes = 0;
  for (size_t k = 0; k < raw_sizes.size(); ++k) raw_bytes += raw_sizes[k];
  for (auto _ : state) {
    for (size_t k = 0; k < compressed.size(); ++k) {
      const Status s = decompressor.Decompress(compressed[k], raw_sizes[k], &out, "bench",
                                               format::kMaxFramePayloadBytes);
      if (!s.ok()) {
        state.SkipWithError(s.ToString().c_str());
        return;
      }
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw_bytes));
}

// --- the engine: raw and compressed logs of the same entries -------------------

constexpr uint64_t kLogEntries = 200000;
constexpr uint64_t kSegmentBytes = 16u << 20;
constexpr uint64_t kTerm = 3;

struct ColdLogs {
  TempDir raw_dir{"cold-raw"};
  TempDir compressed_dir{"cold-z"};
  std::unique_ptr<engine::LogEngine> raw;
  std::unique_ptr<engine::LogEngine> compressed;
  uint64_t first = 1, last = 0;  // the sealed entries (both logs seal the same)
  uint64_t raw_sealed_bytes = 0, compressed_sealed_bytes = 0;
  uint64_t data_bytes = 0;  // entry data of [first, last]
  Frames frames;            // the sealed entries, grouped as CompressSegment does
  // Seconds per sealed segment of the CompressSegment calls (default
  // options), and of calls told to rewrite each whole segment
  // (sample_bytes = 0) made on the raw log where they leave it raw.
  double rewrite_s = 0, whole_rewrite_s = 0;
  uint64_t segments = 0, whole_segments = 0;
};

std::unique_ptr<engine::LogEngine> BuildLog(const std::string& dir, PayloadKind kind) {
  engine::Options options;
  options.segment_bytes = kSegmentBytes;
  // Seals on the appending thread: every full segment is listed sealed (and
  // so rewritable) when the appends return, not once a background seal
  // commits.
  options.background_seal = false;
  // The raw log stays raw; the other is rewritten by the calls below.
  options.compression_mode = engine::CompressionMode::kOff;
  auto log = CheckOk(engine::LogEngine::Open(dir, options), "open " + dir);
  PayloadGenerator gen(kind, kSeed);
  constexpr uint64_t kBatch = 256;
  for (uint64_t next = 1; next <= kLogEntries; next += kBatch) {
    std::vector<std::string> data = gen.Take(kBatch);
    std::vector<format::EntryView> views;
    for (uint64_t k = 0; k < kBatch; ++k) views.push_back({next + k, kTerm, 0, data[k]});
    CheckOk(log->Append(views, engine::AppendOptions{.sync = false}), "append");
  }
  CheckOk(log->Sync(), "sync");
  return log;
}

uint64_t SealedBytes(const engine::LogEngine& log, uint64_t* last) {
  uint64_t bytes = 0;
  for (const format::SegmentRecord& r : log.SegmentRecords()) {
    if (r.state != format::SegmentState::kSealed) continue;
    bytes += r.file_bytes;
    *last = r.last_index;
  }
  return bytes;
}

ColdLogs* MakeColdLogs(PayloadKind kind) {
  auto logs = std::make_unique<ColdLogs>();
  logs->raw = BuildLog(logs->raw_dir.Sub("log"), kind);
  logs->compressed = BuildLog(logs->compressed_dir.Sub("log"), kind);
  const auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  for (const format::SegmentRecord& r : logs->compressed->SegmentRecords()) {
    if (r.state != format::SegmentState::kSealed) continue;
    const auto start = std::chrono::steady_clock::now();
    CheckOk(logs->compressed->CompressSegment(r.segment_id), "compress segment");
    logs->rewrite_s += seconds_since(start);
    logs->segments++;
  }
  // Without the sample, an incompressible segment is rewritten in full
  // before it is found not worth it: on the raw log, which it leaves raw.
  // (Entries that compress would be rewritten there: not tried.)
  if (kind == PayloadKind::kRandom) {
    engine::CompressSegmentOptions whole;
    whole.sample_bytes = 0;
    for (const format::SegmentRecord& r : logs->raw->SegmentRecords()) {
      if (r.state != format::SegmentState::kSealed) continue;
      const auto start = std::chrono::steady_clock::now();
      auto result = CheckOk(logs->raw->CompressSegment(r.segment_id, whole), "compress segment");
      RAFTLOG_CHECK(result.outcome == engine::CompressSegmentResult::Outcome::kNotWorthIt);
      logs->whole_rewrite_s += seconds_since(start);
      logs->whole_segments++;
    }
  }
  logs->raw_sealed_bytes = SealedBytes(*logs->raw, &logs->last);
  uint64_t last = 0;
  logs->compressed_sealed_bytes = SealedBytes(*logs->compressed, &last);
  RAFTLOG_CHECK(last == logs->last);
  logs->frames = GroupFrames(kind, logs->last);
  CheckOk(logs->raw->Read(logs->first, logs->last + 1,
                          [&](const format::EntryView& e) {
                            logs->data_bytes += e.data.size();
                            return true;
                          }),
          "read");
  SyncFiles(logs->raw_dir.path(), false);
  SyncFiles(logs->compressed_dir.path(), false);
  return logs.release();
}

// Seconds for one sequential scan of [first, last] in chunks of 1000 entries.
double Scan(const engine::LogEngine& log, uint64_t first, uint64_t last) {
  const auto start = std::chrono::steady_clock::now();
  uint64_t sum = 0;
  for (uint64_t lo = first; lo <= last; lo += 1000) {
    const uint64_t hi = std::min(last + 1, lo + 1000);
    CheckOk(log.ReadShared(lo, hi,
                           [&](const format::EntryView&, Bytes data) {
                             sum += data.size();
                             return true;
                           }),
            "scan");
  }
  benchmark::DoNotOptimize(sum);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void ColdLog(benchmark::State& state, PayloadKind kind) {
  ColdLogs& logs = Setups().Get<ColdLogs>(std::string("cold/") + PayloadKindName(kind),
                                          [&] { return MakeColdLogs(kind); });
  // zstd alone on the same entries, compressed as CompressSegment does.
  format::Compressor compressor;
  format::CompressionOptions level = LevelOptions(engine::CompressSegmentOptions{}.level);
  level.min_saving = 0.05;
  std::vector<std::string> compressed;
  std::vector<size_t> sizes;
  for (const std::string& raw : logs.frames.raw) {
    std::string out;
    if (!compressor.MaybeCompress(raw, level, &out)) continue;
    compressed.push_back(std::move(out));
    sizes.push_back(raw.size());
  }
  format::Decompressor decompressor;
  std::string out;
  double raw_s = 0, z_s = 0, zstd_s = 0;
  for (auto _ : state) {
    raw_s += Scan(*logs.raw, logs.first, logs.last);
    z_s += Scan(*logs.compressed, logs.first, logs.last);
    const auto start = std::chrono::steady_clock::now();
    for (size_t k = 0; k < compressed.size(); ++k) {
      CheckOk(decompressor.Decompress(compressed[k], sizes[k], &out, "bench",
                                      format::kMaxFramePayloadBytes),
              "decompress");
      benchmark::DoNotOptimize(out.data());
    }
    zstd_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  const double n = static_cast<double>(state.iterations());
  const double entries = static_cast<double>(logs.last - logs.first + 1);
  const double mb = static_cast<double>(logs.data_bytes) / 1e6;
  state.counters["raw_bytes_per_entry"] = static_cast<double>(logs.raw_sealed_bytes) / entries;
  state.counters["compressed_bytes_per_entry"] =
      static_cast<double>(logs.compressed_sealed_bytes) / entries;
  state.counters["disk_ratio"] = static_cast<double>(logs.raw_sealed_bytes) /
                                 static_cast<double>(logs.compressed_sealed_bytes);
  state.counters["raw_scan_MBps"] = mb * n / raw_s;
  state.counters["compressed_scan_MBps"] = mb * n / z_s;
  // zstd decompresses the whole raw payload (entry tables included); count
  // the same entry data so the rates compare.
  state.counters["zstd_MBps"] = compressed.empty() ? 0.0 : mb * n / zstd_s;
  state.counters["compressed_vs_zstd"] = compressed.empty() ? 0.0 : zstd_s / z_s;
  state.counters["rewrite_ms_per_segment"] =
      logs.segments == 0 ? 0.0 : 1e3 * logs.rewrite_s / static_cast<double>(logs.segments);
  if (logs.whole_segments != 0) {
    state.counters["whole_rewrite_ms_per_segment"] =
        1e3 * logs.whole_rewrite_s / static_cast<double>(logs.whole_segments);
  }
}

// --- the background worker's cost on the append path ------------------------

// Appends with the cold worker on and off, in alternating phases of
// kPhaseSeconds each (on, off, off, on, ...), each phase a fresh open of
// that mode's own log (so the worker works only during "on" phases: Close
// stops it): 4 MiB segments, so several are sealed (and compressed) per
// phase; each log compacted to its last kKeepEntries entries whenever it
// holds twice that. Only the Append calls are timed.
constexpr uint64_t kWorkerSegmentBytes = 4u << 20;
constexpr double kPhaseSeconds = 3.0;
constexpr int kPhases = 8;  // per mode
constexpr uint64_t kKeepEntries = 100000;

struct ModeTotals {
  double seconds = 0;
  uint64_t entries = 0;
  std::vector<double> latencies_us;  // one per Append
  uint64_t compressed = 0, bytes_saved = 0, pauses_busy = 0, pauses_cpu = 0, skipped = 0;
  // Appends (and compactions) that waited for the seal slot: a seal, or in
  // "on" phases a cold swap's commit, which takes the same slot.
  uint64_t seal_waits = 0, seal_wait_us = 0, seal_wait_max_us = 0;
};

struct WorkerLog {
  explicit WorkerLog(const char* name) : dir(name) {}
  TempDir dir;
  uint64_t next = 1;
};

// rate: entry bytes per second the appends are spaced to (0: back to back).
void AppendPhase(WorkerLog* log, const engine::Options& options, bool sync, size_t batch,
                 double rate, const std::vector<std::string>& pool, ModeTotals* totals) {
  auto engine = CheckOk(engine::LogEngine::Open(log->dir.Sub("log"), options), "open");
  std::vector<format::EntryView> views(batch);
  uint64_t bytes = 0;
  auto append = [&] {
    for (size_t k = 0; k < batch; ++k) {
      views[k] = format::EntryView{log->next + k, kTerm, 0, pool[(log->next + k) % pool.size()]};
      bytes += views[k].data.size();
    }
    CheckOk(engine->Append(views, engine::AppendOptions{.sync = sync}), "append");
    log->next += batch;
  };
  append();  // the first append of an open may activate a segment
  WaitForSpareSegments(log->dir.Sub("log"), engine->GetStats().segments);
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(kPhaseSeconds);
  double timed = 0;
  uint64_t entries = 0;
  bytes = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (rate > 0) {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::duration<double>(
                                                    static_cast<double>(bytes) / rate)));
    }
    const auto t0 = std::chrono::steady_clock::now();
    append();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    timed += s;
    entries += batch;
    totals->latencies_us.push_back(s * 1e6);
    if (engine->LastIndex() - engine->FirstIndex() > 2 * kKeepEntries) {
      CheckOk(engine->TruncatePrefix(engine->LastIndex() - kKeepEntries), "compact");
    }
  }
  const engine::Stats st = engine->GetStats();
  CheckOk(engine->Close(), "close");
  totals->seconds += timed;
  totals->entries += entries;
  totals->compressed += st.cold_segments_compressed;
  totals->bytes_saved += st.cold_bytes_saved;
  totals->pauses_busy += st.cold_pauses_busy;
  totals->pauses_cpu += st.cold_pauses_cpu;
  totals->skipped += st.cold_segments_skipped;
  totals->seal_waits += st.seal_waits;
  totals->seal_wait_us += st.seal_wait_us;
  totals->seal_wait_max_us = std::max(totals->seal_wait_max_us, st.seal_wait_max_us);
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// Counters: on_/off_entries_per_second and on_vs_off (the throughput
// ratio), on_/off_p999_us and p999_on_vs_off (Append latency: the commit
// latency with sync), segments_compressed and MB_saved (the worker's work
// over the "on" phases), pauses_busy, pauses_cpu, skipped; and per mode the
// waits for the seal slot (on_/off_seal_waits, _seal_wait_ms in all,
// _seal_wait_max_ms the longest), where a cold swap's commit would show.
// With `same` both sides run without the worker (an A/A run): the spread
// of its ratios is what the machine alone gives a paired run.
void ColdWorkerPaired(benchmark::State& state, PayloadKind kind, bool sync, size_t batch,
                      bool paced, double rate = 0, bool same = false) {
  std::vector<std::string> pool = PayloadGenerator(kind, kSeed).Take(8192);
  engine::Options off;
  off.segment_bytes = kWorkerSegmentBytes;
  off.compression_mode = engine::CompressionMode::kOff;  // not the default
  engine::Options on = off;
  on.compression_mode = engine::CompressionMode::kColdSegments;
  if (!paced) {
    // The worker's cost when nothing holds it back.
    on.cold_busy_bytes_per_sec = 0;
    on.cold_free_cores = -1;
  }
  if (same) on = off;
  ModeTotals on_totals, off_totals;
  for (auto _ : state) {
    WorkerLog on_log("cold-on"), off_log("cold-off");
    for (int phase = 0; phase < 2 * kPhases; ++phase) {
      // on off off on on off off on ...: each mode first as often as second.
      const bool worker = ((phase + 1) / 2) % 2 == 0;
      AppendPhase(worker ? &on_log : &off_log, worker ? on : off, sync, batch, rate, pool,
                  worker ? &on_totals : &off_totals);
    }
  }
  const double on_eps = static_cast<double>(on_totals.entries) / on_totals.seconds;
  const double off_eps = static_cast<double>(off_totals.entries) / off_totals.seconds;
  state.counters["on_entries_per_second"] = on_eps;
  state.counters["off_entries_per_second"] = off_eps;
  state.counters["on_vs_off"] = on_eps / off_eps;
  const double on_p = Percentile(on_totals.latencies_us, 0.999);
  const double off_p = Percentile(off_totals.latencies_us, 0.999);
  state.counters["on_p999_us"] = on_p;
  state.counters["off_p999_us"] = off_p;
  state.counters["p999_on_vs_off"] = on_p / off_p;
  state.counters["segments_compressed"] = static_cast<double>(on_totals.compressed);
  state.counters["MB_saved"] = static_cast<double>(on_totals.bytes_saved) / 1e6;
  state.counters["pauses_busy"] = static_cast<double>(on_totals.pauses_busy);
  state.counters["pauses_cpu"] = static_cast<double>(on_totals.pauses_cpu);
  state.counters["skipped"] = static_cast<double>(on_totals.skipped);
  for (const auto& [mode, t] : {std::pair<const char*, const ModeTotals*>{"on", &on_totals},
                                {"off", &off_totals}}) {
    const std::string m = mode;
    state.counters[m + "_seal_waits"] = static_cast<double>(t->seal_waits);
    state.counters[m + "_seal_wait_ms"] = static_cast<double>(t->seal_wait_us) / 1e3;
    state.counters[m + "_seal_wait_max_ms"] = static_cast<double>(t->seal_wait_max_us) / 1e3;
  }
}

void RegisterAll() {
  for (bool sync : {true, false}) {
    for (bool paced : {true, false}) {
      const std::string name = std::string("BM_ColdWorkerPaired/") + (sync ? "sync" : "nosync") +
                               "/etcd/batch:16" + (paced ? "" : "/unpaced");
      benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
        ColdWorkerPaired(st, PayloadKind::kEtcd, sync, 16, paced);
      })->Iterations(1)->UseRealTime();
    }
  }
  benchmark::RegisterBenchmark("BM_ColdWorkerPaired/sync/etcd/batch:16/aa", [](benchmark::State& st) {
    ColdWorkerPaired(st, PayloadKind::kEtcd, true, 16, true, 0, /*same=*/true);
  })->Iterations(1)->UseRealTime();
  for (int mib : {4, 8}) {
    const std::string name = "BM_ColdWorkerPaired/sync/etcd/batch:16/rate:" + std::to_string(mib);
    benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
      ColdWorkerPaired(st, PayloadKind::kEtcd, true, 16, true, mib * double(1 << 20));
    })->Iterations(1)->UseRealTime();
  }
  for (PayloadKind kind : {PayloadKind::kEtcd, PayloadKind::kJson, PayloadKind::kRandom}) {
    benchmark::RegisterBenchmark((std::string("BM_ColdLog/") + PayloadKindName(kind)).c_str(),
                                 [=](benchmark::State& st) { ColdLog(st, kind); })
        ->Iterations(3)
        ->UseRealTime();
  }
  for (PayloadKind kind : {PayloadKind::kEtcd, PayloadKind::kJson, PayloadKind::kRandom}) {
    const std::string p = PayloadKindName(kind);
    for (int level : {1, 3, 6, 9}) {
      const std::string suffix = p + "/level:" + std::to_string(level);
      benchmark::RegisterBenchmark(("BM_ZstdCompress/" + suffix).c_str(),
                                   [=](benchmark::State& st) { ZstdCompress(st, kind, level); })
          ->MinTime(kMinTimeSeconds);
      if (kind == PayloadKind::kRandom) continue;  // nothing compresses
      benchmark::RegisterBenchmark(("BM_ZstdDecompress/" + suffix).c_str(),
                                   [=](benchmark::State& st) { ZstdDecompress(st, kind, level); })
          ->MinTime(kMinTimeSeconds);
    }
  }
}

}  // namespace
}  // namespace raftlog::bench

int main(int argc, char** argv) {
  using namespace raftlog::bench;
  return BenchMain(argc, argv, RegisterAll, [] {});
}
