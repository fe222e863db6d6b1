// Shared helpers of the storage benchmarks (bench/*_bench.cc): temporary
// directories on the real disk, deterministic payloads, entry batches, and the
// raw-disk baseline's pre-zeroed file.
//
// Conventions every benchmark here follows (scripts/bench_storage.py relies on
// them): fixed seeds, so two runs write the same bytes; names carry the sync
// mode, the entry size in bytes and the batch size
// ("BM_DiskAppend/sync/1024/16"); SetItemsProcessed counts entries and
// SetBytesProcessed their data bytes; anything doing I/O uses UseRealTime().
//
// Temporary files live under $RAFTLOG_BENCH_DIR, else /tmp (ext4 on our
// machines, not tmpfs: fdatasync must reach a real disk to mean anything).
//
// Only public headers may be included here (the dependency rules of docs/architecture.md).
//
// Thread-compatible: benchmarks run one at a time on one thread.

#pragma once

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "raftlog/engine/stats.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/record_format.h"
#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/raft/types.h"

namespace raftlog::bench {

// --- failures ----------------------------------------------------------------

// A benchmark cannot go on after a failed setup or write: print the status and
// abort, so a broken run is never mistaken for a fast one.
inline void CheckOk(const Status& s, std::string_view what) {
  RAFTLOG_CHECK_MSG(s.ok(), std::string(what) + ": " + s.ToString());
}
template <class T>
T CheckOk(Result<T> r, std::string_view what) {
  CheckOk(r.status(), what);
  return std::move(*r);
}

// Aborts with errno's text if a system call failed.
inline void CheckErrno(bool ok, std::string_view what) {
  RAFTLOG_CHECK_MSG(ok, std::string(what) + ": " + std::strerror(errno));
}

// --- directories ---------------------------------------------------------------

// $RAFTLOG_BENCH_DIR if set and non-empty, else /tmp.
inline std::string BaseDir() {
  const char* env = std::getenv("RAFTLOG_BENCH_DIR");
  return env != nullptr && env[0] != '\0' ? std::string(env) : std::string("/tmp");
}

// Bytes available to us on the file system holding `path`; 0 if unknown.
inline uint64_t FreeBytes(const std::string& path) {
  struct statvfs st;
  if (::statvfs(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

// A fresh directory <BaseDir()>/raftlog-bench-<tag>-XXXXXX, removed with its
// contents when the object goes away (so every benchmark cleans up after
// itself, also when a later benchmark of the same binary fails).
class TempDir {
 public:
  explicit TempDir(std::string_view tag) {
    std::string templ = BaseDir() + "/raftlog-bench-" + std::string(tag) + "-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    CheckErrno(::mkdtemp(buf.data()) != nullptr, "mkdtemp " + templ);
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (ec)
      std::fprintf(stderr, "bench: cannot remove %s: %s\n", path_.c_str(), ec.message().c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name (not created).
  std::string Sub(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// fdatasync every regular file under dir (only ever one of ours) and, if
// `drop`, evict it from the page cache (posix_fadvise DONTNEED; clean pages
// of files nobody maps). Used to keep writeback of data appended without sync
// out of later measurements, and to open a log "cold".
inline void SyncFiles(const std::string& dir, bool drop) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    (void)::fdatasync(fd);
    if (drop) (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

// Waits (up to 10 s) until the log in `log_dir` has `spares` prepared segment
// files beyond its `live_segments`, so a benchmark's timed loop does not
// start while the engine's preallocator is still writing zeros for the
// segments a new log asks for at once. Files are counted by the documented
// layout (segments/<id>.seg, and <id>-<gen>.zseg for a segment rewritten
// compressed; a spare in preparation is still <id>.seg.tmp).
// Returns false on timeout.
inline bool WaitForSpareSegments(const std::string& log_dir, uint64_t live_segments,
                                 uint64_t spares = 1) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    uint64_t files = 0;
    std::error_code ec;
    const std::string segments = log_dir + "/" + std::string(raftlog::format::layout::kSegmentsDir);
    for (const auto& entry : std::filesystem::directory_iterator(segments, ec)) {
      const std::string name = entry.path().filename().string();
      if (raftlog::format::layout::ParseSegmentFileName(name).has_value() ||
          raftlog::format::layout::ParseCompressedSegmentFileName(name).has_value()) {
        ++files;
      }
    }
    if (!ec && files >= live_segments + spares) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::fprintf(stderr, "bench: %s: no prepared spare segment after 10 s\n", log_dir.c_str());
  return false;
}

// Keeps one expensive setup (an open log, built data, its temp dir) alive
// across the several calls Google Benchmark makes to one benchmark while it
// sizes the iteration count, and destroys it when a benchmark with another
// key asks, or at Clear() (call it before exit so temp dirs are removed).
class SetupCache {
 public:
  template <class T, class Make>
  T& Get(const std::string& key, Make make) {
    if (key != key_ || value_ == nullptr) {
      value_.reset();
      key_ = key;
      value_ = std::shared_ptr<void>(make());
    }
    return *static_cast<T*>(value_.get());
  }
  void Clear() {
    value_.reset();
    key_.clear();
  }

 private:
  std::string key_;
  std::shared_ptr<void> value_;
};

inline SetupCache& Setups() {
  static SetupCache* cache = new SetupCache;
  return *cache;
}

// --- payloads ----------------------------------------------------------------

// What entry data looks like. Random bytes do not compress at all; text is a
// stream of JSON-ish key/value records drawn from a fixed vocabulary, which
// zstd -1 compresses about 2-4x (the benchmarks report the ratio they got).
enum class Payload { kRandom, kText };

inline const char* PayloadName(Payload p) { return p == Payload::kRandom ? "rand" : "text"; }

// `bytes` bytes of the given kind, the same for the same seed on every run.
inline std::string MakeCorpus(Payload kind, size_t bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out;
  out.reserve(bytes + 256);
  if (kind == Payload::kRandom) {
    while (out.size() < bytes) {
      const uint64_t v = rng();
      out.append(reinterpret_cast<const char*>(&v), sizeof(v));
    }
    out.resize(bytes);
    return out;
  }
  // A vocabulary of pronounceable words, chosen with a skewed (roughly
  // Zipf-like) distribution, as in application logs and key/value commands.
  static constexpr std::string_view kSyllables[] = {
      "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "do", "fe", "gu", "ho",
      "ji", "be", "co", "da", "el", "fi", "ga", "hu", "in", "ju", "ko", "li", "ma", "no"};
  std::vector<std::string> words;
  for (int w = 0; w < 512; ++w) {
    std::string word;
    const int n = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < n; ++k) word += kSyllables[rng() % std::size(kSyllables)];
    words.push_back(std::move(word));
  }
  auto skewed = [&](size_t n) {
    // min of two uniforms, squared: small indexes are much more frequent.
    const double u =
        std::min(static_cast<double>(rng() % 1000000), static_cast<double>(rng() % 1000000)) / 1e6;
    return static_cast<size_t>(u * u * static_cast<double>(n)) % n;
  };
  static constexpr std::string_view kOps[] = {"put", "get", "delete", "cas", "lease"};
  uint64_t id = 100000 + rng() % 100000;
  uint64_t ts = 1700000000000ull + rng() % 1000000;
  while (out.size() < bytes) {
    id += 1 + rng() % 3;
    ts += rng() % 50;
    out += "{\"id\":" + std::to_string(id) + ",\"op\":\"" + std::string(kOps[skewed(5)]) +
           "\",\"key\":\"" + words[skewed(64)] + "/" + words[skewed(words.size())] + "/" +
           std::to_string(rng() % 10000) + "\",\"ts\":" + std::to_string(ts) + ",\"value\":\"";
    const int n = 3 + static_cast<int>(rng() % 24);
    for (int k = 0; k < n; ++k) {
      if (k > 0) out += ' ';
      out += words[skewed(words.size())];
    }
    out += "\"}\n";
  }
  out.resize(bytes);
  return out;
}

// Entry data for benchmarks: consecutive slices of one fixed corpus, so that
// the entries of a batch differ from each other (identical entries would
// flatter compression) while costing nothing to produce in the timed loop.
class PayloadSource {
 public:
  // Enough distinct bytes for the largest batch we use (256 x 16 KiB).
  static constexpr size_t kCorpusBytes = 8u << 20;

  PayloadSource(Payload kind, uint64_t seed) : corpus_(MakeCorpus(kind, kCorpusBytes, seed)) {}
  // Slices of a given corpus (e.g. payload_gen.h PayloadCorpus).
  explicit PayloadSource(std::string corpus) : corpus_(std::move(corpus)) {}

  // The k-th slice of `bytes` bytes (wrapping around the corpus).
  std::string_view Slice(size_t k, size_t bytes) const {
    const size_t slots = corpus_.size() / bytes;
    return std::string_view(corpus_).substr((k % slots) * bytes, bytes);
  }

 private:
  std::string corpus_;
};

// `count` raft entries of `bytes` data bytes each, indexes from first_index,
// all of `term`, data taken from source slices [slice0, slice0 + count).
inline std::vector<raft::Entry> MakeEntries(const PayloadSource& source, size_t bytes, size_t count,
                                            uint64_t first_index, uint64_t term,
                                            size_t slice0 = 0) {
  std::vector<raft::Entry> out(count);
  for (size_t k = 0; k < count; ++k) {
    out[k].index = first_index + k;
    out[k].term = term;
    out[k].data = std::string(source.Slice(slice0 + k, bytes));
  }
  return out;
}

// Renumbers a batch to start at first_index (the timed loops reuse one batch).
inline void Renumber(std::vector<raft::Entry>* entries, uint64_t first_index) {
  for (auto& e : *entries) e.index = first_index++;
}

// --- the raw disk baseline ---------------------------------------------------

// Bytes the engine writes for one Append of `count` entries of `bytes` data
// bytes each, with Options::max_frame_bytes = max_frame_bytes and no
// compression: the batch is cut into frames of at most max_frame_bytes of raw
// payload (5 bytes of entry table per entry plus the data), each costing
// format::FrameBytes (56-byte header, 8-byte alignment). This mirrors
// LogEngine::WriteFrames' split; the engine benchmarks report their measured
// bytes per append next to it (counter bytes_per_append), so a drift shows.
inline uint64_t EngineBatchBytes(uint64_t bytes, uint64_t count, uint64_t max_frame_bytes) {
  const uint64_t per_entry = bytes + 5;
  uint64_t per_frame = std::max<uint64_t>(1, max_frame_bytes / per_entry);
  uint64_t total = 0;
  for (uint64_t left = count; left > 0;) {
    const uint64_t n = std::min(left, per_frame);
    total += format::FrameBytes(n * per_entry);
    left -= n;
  }
  return total;
}

// A file filled with zeros and fdatasync'ed, for the plain pwrite+fdatasync
// baseline: writes into it overwrite already-written blocks, the fast case the
// engine's prepared segments are made for (docs/architecture.md, "Segments").
// Closed and removed when the object goes away.
class ZeroedFile {
 public:
  ZeroedFile(const std::string& path, uint64_t bytes) : path_(path), bytes_(bytes) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CheckErrno(fd_ >= 0, "open " + path);
    const std::string zeros(1 << 20, '\0');
    for (uint64_t off = 0; off < bytes; off += zeros.size()) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), bytes - off));
      PWriteAll(zeros.data(), n, off);
    }
    CheckErrno(::fdatasync(fd_) == 0, "fdatasync " + path);
  }
  ~ZeroedFile() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  ZeroedFile(const ZeroedFile&) = delete;
  ZeroedFile& operator=(const ZeroedFile&) = delete;

  uint64_t size() const { return bytes_; }

  void PWriteAll(const char* data, size_t n, uint64_t offset) {
    while (n > 0) {
      const ssize_t w = ::pwrite(fd_, data, n, static_cast<off_t>(offset));
      if (w < 0 && errno == EINTR) continue;
      CheckErrno(w > 0, "pwrite " + path_);
      data += w;
      n -= static_cast<size_t>(w);
      offset += static_cast<uint64_t>(w);
    }
  }
  void DataSync() { CheckErrno(::fdatasync(fd_) == 0, "fdatasync " + path_); }

 private:
  std::string path_;
  uint64_t bytes_;
  int fd_ = -1;
};

// The raw-disk baseline's write: exactly the bytes the engine writes for one
// batch (EngineBatchBytes), pwritten at increasing offsets of a pre-zeroed
// file (wrapping at its end), then fdatasync'ed.
class RawWriter {
 public:
  // `file` must outlive the writer.
  RawWriter(ZeroedFile* file, std::string batch) : file_(file), buf_(std::move(batch)) {}
  void Write(bool sync = true) {
    if (offset_ + buf_.size() > file_->size()) offset_ = 0;
    file_->PWriteAll(buf_.data(), buf_.size(), offset_);
    if (sync) file_->DataSync();
    offset_ += buf_.size();
  }
  uint64_t bytes() const { return buf_.size(); }

 private:
  ZeroedFile* file_;
  std::string buf_;
  uint64_t offset_ = 0;
};

// The bytes of one raw batch: the entries' data back to back, then filler up
// to what the engine writes (the content does not matter to the disk, only
// the length).
inline std::string RawBatch(const PayloadSource& source, size_t bytes, size_t batch,
                            uint64_t max_frame_bytes) {
  const uint64_t n = EngineBatchBytes(bytes, batch, max_frame_bytes);
  std::string buf;
  for (size_t k = 0; buf.size() < n; ++k) buf += source.Slice(k, bytes);
  buf.resize(n);
  return buf;
}

// The process's raw baseline file (kRawFileBytes of zeros, synced) in a temp
// dir of its own, made on first use (before any timing) and removed by
// ReleaseRawFile(), which main's cleanup calls.
inline constexpr uint64_t kRawFileBytes = 256u << 20;
struct RawFileHolder {
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<ZeroedFile> file;
};
inline RawFileHolder& RawFileState() {
  static RawFileHolder holder;
  return holder;
}
inline ZeroedFile& RawFile() {
  RawFileHolder& h = RawFileState();
  if (h.file == nullptr) {
    if (h.dir == nullptr) h.dir = std::make_unique<TempDir>("raw");
    h.file = std::make_unique<ZeroedFile>(h.dir->Sub("zeroed"), kRawFileBytes);
  }
  return *h.file;
}
inline void ReleaseRawFile() {
  RawFileState().file.reset();
  RawFileState().dir.reset();
}

// --- names -------------------------------------------------------------------

// "prefix/a/b/..." (a benchmark name with its numeric parameters).
inline std::string BenchName(std::string prefix, std::initializer_list<uint64_t> args) {
  for (uint64_t a : args) {
    prefix += '/';
    prefix += std::to_string(a);
  }
  return prefix;
}

// --- counters ----------------------------------------------------------------

// A counter reported as is (not divided by time or iterations).
inline benchmark::Counter Value(double v) { return benchmark::Counter(v); }

// Sets the write-path counters of a timed loop from engine stats taken before
// and after it: fsyncs_per_append (log fdatasyncs / Append calls, the figure
// of "one fsync per Ready"), bytes_per_append (frame bytes on disk),
// meta_commits (LMDB), segment_rolls, and compression_ratio (raw / stored
// bytes, frame overhead included) with compressed_frames (the fraction of
// frames stored compressed) when anything was compressed.
inline void SetWriteCounters(benchmark::State& state, const engine::Stats& before,
                             const engine::Stats& after) {
  const double appends = static_cast<double>(after.appends - before.appends);
  if (appends <= 0) return;
  state.counters["fsyncs_per_append"] =
      Value(static_cast<double>(after.log_syncs - before.log_syncs) / appends);
  state.counters["bytes_per_append"] =
      Value(static_cast<double>(after.bytes_written - before.bytes_written) / appends);
  state.counters["meta_commits"] =
      Value(static_cast<double>(after.meta_commits - before.meta_commits));
  state.counters["segment_rolls"] =
      Value(static_cast<double>(after.segment_rolls - before.segment_rolls));
  if (after.compressed_frames > before.compressed_frames) {
    const uint64_t stored = after.bytes_written - before.bytes_written;
    const uint64_t raw = after.raw_bytes_written - before.raw_bytes_written;
    state.counters["compression_ratio"] =
        Value(static_cast<double>(raw) / static_cast<double>(stored));
    state.counters["compressed_frames"] =
        Value(static_cast<double>(after.compressed_frames - before.compressed_frames) /
              static_cast<double>(after.frames_written - before.frames_written));
  }
}

// Attributes a timed loop's wall time to its slow calls. For appends without
// sync, a call slower than 1 ms is the engine waiting at a segment roll (for
// the preallocator's next zeroed segment, the seal's fdatasync, the LMDB
// commit) or the kernel throttling a writer with too much dirty page cache.
// Reports stall_share (the fraction of the calls' time spent in such calls)
// and max_call_us. Costs two clock reads per call.
class StallMeter {
 public:
  template <class F>
  void Time(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const double d = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    total_ += d;
    if (d > 1e-3) stalled_ += d;
    max_ = std::max(max_, d);
  }
  void Report(benchmark::State& state) const {
    if (total_ <= 0) return;
    state.counters["stall_share"] = benchmark::Counter(stalled_ / total_);
    state.counters["max_call_us"] = benchmark::Counter(max_ * 1e6);
  }

 private:
  double total_ = 0, stalled_ = 0, max_ = 0;
};

// Items (entries) and bytes (entry data) of a finished timed loop.
inline void SetThroughput(benchmark::State& state, uint64_t entries_per_iteration,
                          uint64_t bytes_per_entry) {
  const auto it = static_cast<int64_t>(state.iterations());
  state.SetItemsProcessed(it * static_cast<int64_t>(entries_per_iteration));
  state.SetBytesProcessed(it * static_cast<int64_t>(entries_per_iteration * bytes_per_entry));
}

// main() of every storage benchmark binary: registers (through `register_all`,
// so names can be built at run time), runs, then calls `cleanup` and clears
// Setups() so no temporary file outlives the process.
//
// It also stops glibc from returning freed heap memory to the OS (trim): the
// read benchmarks allocate and free the same few hundred KiB per call
// (Entries copies), and whether that block sits at the top of the heap, and
// so is unmapped and page-faulted in again on every call, would otherwise
// depend on allocation history, making DiskStorage and MemoryStorage runs
// differ by 3x for no reason of their own.
template <class Register, class Cleanup>
int BenchMain(int argc, char** argv, Register register_all, Cleanup cleanup) {
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
  ::mallopt(M_MMAP_THRESHOLD, 64 << 20);
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("raftlog_bench_dir", BaseDir());
  benchmark::RunSpecifiedBenchmarks();
  Setups().Clear();
  cleanup();
  benchmark::Shutdown();
  return 0;
}

}  // namespace raftlog::bench
