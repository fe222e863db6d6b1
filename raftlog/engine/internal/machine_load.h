// What the cold-segment worker (cold_worker.h) needs to know of the machine
// and to ask of the scheduler: how many cores sit idle, and a lower CPU and
// I/O priority for its own thread. Linux only (/proc/stat, setpriority and
// ioprio_set on a thread id); elsewhere the load is unknown and priorities
// are left alone.
// Private to the engine.

#pragma once

#include <cstdint>
#include <optional>

namespace raftlog::engine::internal {

// Idle cores between two samples, from /proc/stat's first line (idle and
// iowait time of all cores over the interval), plus the calling thread's
// own CPU time over the interval: a thread that asks whether the machine
// has room must not count itself as the load that leaves none.
// Thread-compatible; meant to be used by one thread.
class IdleCoreSampler {
 public:
  IdleCoreSampler();

  // Takes a sample and returns the idle cores since the previous one, or
  // nullopt on the first call, when /proc/stat cannot be read or parsed, or
  // when no time passed (the jiffies did not move).
  std::optional<double> Sample();

 private:
  struct Reading {
    uint64_t total = 0;         // jiffies of all cores, all states
    uint64_t idle = 0;          // of them idle or waiting for I/O
    uint64_t own_ns = 0;        // the calling thread's CPU time
    uint64_t wall_ns = 0;       // a monotonic clock
  };
  static std::optional<Reading> Read();

  const int cores_;
  std::optional<Reading> last_;
};

// Nanoseconds the calling thread has spent runnable but waiting for a CPU
// (the second field of /proc/thread-self/schedstat), or 0 where that is not
// known: time a low-priority thread lost to others, not time it used.
uint64_t ThisThreadRunqueueWaitNs();

// Lowers the calling thread's CPU priority to nice 19 and its I/O priority
// to the idle class (which the kernel honours only with the BFQ and
// mq-deadline schedulers). Best effort: a refusal leaves it as it was.
// Cannot be undone without privileges for the CPU part.
void LowerThisThreadPriority();

// Sets the calling thread's I/O priority to the idle class (idle = true) or
// back to the default best-effort class. Best effort.
void SetThisThreadIdleIo(bool idle);

}  // namespace raftlog::engine::internal
