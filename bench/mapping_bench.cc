// Reading just-written bytes through a read-only shared mapping, on a bare
// file: the engine's situation when raft reads back entries it has just
// appended (frames are pwritten into the active segment, payloads are views
// of the segment's mapping, docs/architecture.md "Reading just-written
// frames"). It measures the ways of getting those pages into the page tables,
// so that the engine's choice rests on figures:
//
//   BM_MappedReadAfterWrite/<how>/<entry bytes>
//       Each iteration pwrites a batch of 64 entries at the next offset of a
//       64 MiB file preallocated with posix_fallocate (as the engine's
//       segments are), mapped PROT_READ/MAP_SHARED, then prepares (<how>) and
//       reads the batch through the mapping, one 8-byte word per 64-byte
//       cache line. When the file is full a new one takes its place
//       (untimed). <how>:
//         fault          nothing: the read faults the pages in (the kernel's
//                        fault-around maps up to 64 KiB, or a whole large
//                        folio, per fault);
//         populate       madvise(MADV_POPULATE_READ) of the written range,
//                        then the read;
//         willneed       madvise(MADV_WILLNEED) of the written range (for a
//                        file mapping: page-cache readahead only);
//         populate_ahead the whole new file populated when it is mapped
//                        (untimed; its cost is the counter ahead_ns_per_entry),
//                        so that writes land in pages already mapped.
//       Manual time: the preparation and the read (the reader's cost).
//       Counters per entry: write_ns (the pwrite), prepare_ns (the madvise),
//       read_ns, minflt_read and minflt_prepare (minor faults of this thread,
//       getrusage(RUSAGE_THREAD); MADV_POPULATE_READ's own faults count as
//       faults too: it faults the pages in from inside the kernel, without
//       a trap per fault).
//
// Linux only (MADV_POPULATE_READ is Linux >= 5.14; an older kernel fails the
// populate cases with EINVAL).

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_util.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

namespace raftlog::bench {
namespace {

enum class How { kFault, kPopulate, kWillNeed, kPopulateAhead };

constexpr size_t kBatch = 64;
constexpr size_t kFileBytes = 64u << 20;
constexpr uint64_t kBytesPerRun = 128u << 20;

int64_t ThreadMinorFaults() {
  struct rusage usage;
  CheckErrno(::getrusage(RUSAGE_THREAD, &usage) == 0, "getrusage");
  return usage.ru_minflt;
}

double Seconds(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// One preallocated, mapped file; replaced when full.
class MappedFile {
 public:
  MappedFile(const std::string& path, How how) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CheckErrno(fd_ >= 0, "open " + path);
    const int err = ::posix_fallocate(fd_, 0, kFileBytes);
    errno = err;
    CheckErrno(err == 0, "posix_fallocate " + path);
    void* base = ::mmap(nullptr, kFileBytes, PROT_READ, MAP_SHARED, fd_, 0);
    CheckErrno(base != MAP_FAILED, "mmap " + path);
    base_ = static_cast<const char*>(base);
    if (how == How::kPopulateAhead) {
      const auto t0 = std::chrono::steady_clock::now();
      CheckErrno(::madvise(const_cast<char*>(base_), kFileBytes, MADV_POPULATE_READ) == 0,
                 "madvise MADV_POPULATE_READ");
      ahead_seconds_ = Seconds(t0, std::chrono::steady_clock::now());
    }
  }
  ~MappedFile() {
    ::munmap(const_cast<char*>(base_), kFileBytes);
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  int fd() const { return fd_; }
  const char* base() const { return base_; }
  double ahead_seconds() const { return ahead_seconds_; }

 private:
  std::string path_;
  int fd_ = -1;
  const char* base_ = nullptr;
  double ahead_seconds_ = 0;
};

// Applies `advice` to the pages holding [offset, offset + len) of the mapping.
void Advise(const char* base, size_t offset, size_t len, int advice, const char* what) {
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t begin = offset & ~(page - 1);
  CheckErrno(::madvise(const_cast<char*>(base + begin), offset + len - begin, advice) == 0, what);
}

void MappedReadAfterWrite(benchmark::State& state, How how, size_t bytes) {
  TempDir dir("mapping");
  const std::string path = dir.Sub("segment");
  auto file = std::make_unique<MappedFile>(path, how);
  const PayloadSource source(Payload::kRandom, 20240603);
  std::vector<std::string_view> entries;
  for (size_t k = 0; k < kBatch; ++k) entries.push_back(source.Slice(k, bytes));
  const size_t batch_bytes = bytes * kBatch;
  size_t offset = 0;
  double write_s = 0, prepare_s = 0, read_s = 0, ahead_s = file->ahead_seconds();
  int64_t faults_prepare = 0, faults_read = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    if (offset + batch_bytes > kFileBytes) {
      file.reset();
      file = std::make_unique<MappedFile>(path, how);
      ahead_s += file->ahead_seconds();
      offset = 0;
    }
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t k = 0; k < kBatch; ++k) {
      const ssize_t n = ::pwrite(file->fd(), entries[k].data(), bytes,
                                 static_cast<off_t>(offset + k * bytes));
      CheckErrno(n == static_cast<ssize_t>(bytes), "pwrite");
    }
    const auto t1 = std::chrono::steady_clock::now();
    const int64_t f1 = ThreadMinorFaults();
    if (how == How::kPopulate) {
      Advise(file->base(), offset, batch_bytes, MADV_POPULATE_READ, "madvise MADV_POPULATE_READ");
    } else if (how == How::kWillNeed) {
      Advise(file->base(), offset, batch_bytes, MADV_WILLNEED, "madvise MADV_WILLNEED");
    }
    const auto t2 = std::chrono::steady_clock::now();
    const int64_t f2 = ThreadMinorFaults();
    const char* p = file->base() + offset;
    for (size_t k = 0; k + sizeof(uint64_t) <= batch_bytes; k += 64) {
      uint64_t word;
      std::memcpy(&word, p + k, sizeof(word));
      sum += word;
    }
    const auto t3 = std::chrono::steady_clock::now();
    faults_prepare += f2 - f1;
    faults_read += ThreadMinorFaults() - f2;
    write_s += Seconds(t0, t1);
    prepare_s += Seconds(t1, t2);
    read_s += Seconds(t2, t3);
    state.SetIterationTime(Seconds(t1, t3));
    offset += batch_bytes;
  }
  benchmark::DoNotOptimize(sum);
  SetThroughput(state, kBatch, bytes);
  const double n = static_cast<double>(state.iterations() * kBatch);
  state.counters["write_ns"] = Value(write_s * 1e9 / n);
  state.counters["prepare_ns"] = Value(prepare_s * 1e9 / n);
  state.counters["read_ns"] = Value(read_s * 1e9 / n);
  state.counters["ahead_ns"] = Value(ahead_s * 1e9 / n);
  state.counters["minflt_prepare"] = Value(static_cast<double>(faults_prepare) / n);
  state.counters["minflt_read"] = Value(static_cast<double>(faults_read) / n);
}

void RegisterAll() {
  const std::pair<How, const char*> hows[] = {{How::kFault, "fault"},
                                              {How::kPopulate, "populate"},
                                              {How::kWillNeed, "willneed"},
                                              {How::kPopulateAhead, "populate_ahead"}};
  for (size_t bytes : {1024, 16384}) {
    for (const auto& [how, name] : hows) {
      benchmark::RegisterBenchmark(
          (std::string("BM_MappedReadAfterWrite/") + name + "/" + std::to_string(bytes)).c_str(),
          [how = how, bytes](benchmark::State& st) { MappedReadAfterWrite(st, how, bytes); })
          ->UseManualTime()
          ->Iterations(static_cast<int64_t>(kBytesPerRun / (bytes * kBatch)));
    }
  }
}

}  // namespace
}  // namespace raftlog::bench

int main(int argc, char** argv) {
  return raftlog::bench::BenchMain(argc, argv, raftlog::bench::RegisterAll, [] {});
}
