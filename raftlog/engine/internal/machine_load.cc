#include "raftlog/engine/internal/machine_load.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

namespace raftlog::engine::internal {

namespace {

uint64_t ThreadCpuNs() {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t WallNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

long ThisThreadId() { return static_cast<long>(syscall(SYS_gettid)); }

// ioprio_set(2): "who" is a thread id with IOPRIO_WHO_PROCESS; the value
// is class << 13 | level. No glibc wrapper exists.
constexpr int kIoprioWhoProcess = 1;
constexpr int kIoprioClassBestEffort = 2;
constexpr int kIoprioClassIdle = 3;
constexpr int kIoprioClassShift = 13;

void SetIoPriority(int value) {
#ifdef SYS_ioprio_set
  (void)syscall(SYS_ioprio_set, kIoprioWhoProcess, ThisThreadId(), value);
#else
  (void)value;
#endif
}

}  // namespace

IdleCoreSampler::IdleCoreSampler()
    : cores_(std::max(1, static_cast<int>(std::thread::hardware_concurrency()))) {}

std::optional<IdleCoreSampler::Reading> IdleCoreSampler::Read() {
  FILE* f = std::fopen("/proc/stat", "re");
  if (f == nullptr) return std::nullopt;
  unsigned long long v[8] = {};
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                            &v[3], &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n < 5) return std::nullopt;  // user nice system idle iowait at least
  Reading r;
  for (int k = 0; k < n; ++k) r.total += v[k];
  r.idle = v[3] + v[4];
  r.own_ns = ThreadCpuNs();
  r.wall_ns = WallNs();
  return r;
}

std::optional<double> IdleCoreSampler::Sample() {
  std::optional<Reading> now = Read();
  std::optional<Reading> before = last_;
  last_ = now;
  if (!now.has_value() || !before.has_value()) return std::nullopt;
  if (now->total <= before->total || now->wall_ns <= before->wall_ns) return std::nullopt;
  const double idle_share = static_cast<double>(now->idle - before->idle) /
                            static_cast<double>(now->total - before->total);
  const double own_cores = static_cast<double>(now->own_ns - before->own_ns) /
                           static_cast<double>(now->wall_ns - before->wall_ns);
  return idle_share * cores_ + own_cores;
}

uint64_t ThisThreadRunqueueWaitNs() {
  FILE* f = std::fopen("/proc/thread-self/schedstat", "re");
  if (f == nullptr) return 0;
  unsigned long long run_ns = 0, wait_ns = 0;
  const int n = std::fscanf(f, "%llu %llu", &run_ns, &wait_ns);
  std::fclose(f);
  return n == 2 ? static_cast<uint64_t>(wait_ns) : 0;
}

void LowerThisThreadPriority() {
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(ThisThreadId()), 19);
  SetThisThreadIdleIo(true);
}

void SetThisThreadIdleIo(bool idle) {
  SetIoPriority(idle ? kIoprioClassIdle << kIoprioClassShift
                     : (kIoprioClassBestEffort << kIoprioClassShift) | 4);
}

}  // namespace raftlog::engine::internal
