// Preallocator: a background thread that keeps segment files ready ahead of
// need, so that rolling to a new segment never waits for allocation and disk
// exhaustion shows up here, as a Status, never as SIGBUS or a failed append
// halfway through a frame.
//
// A prepared file is written full of zeros (not just fallocate()d: fdatasync
// into written blocks is ~2x faster here: ~53 us against ~110 us after a 4 KiB
// write on ext4 over virtio, docs/architecture.md),
// fdatasync'ed, renamed from "<name>.tmp" to its final name and its directory
// fsync'ed. So a file with a final segment name that is not in the manifest
// and whose id is >= the manifest's next id is a complete, all-zero spare: the
// engine keeps such files on open and hands them back via AddExisting().
//
// Thread-safety: all methods are safe to call from any thread. Stop() (also
// run by the destructor) joins the thread.

#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "raftlog/format/result.h"
#include "raftlog/io/file_system.h"
#include "raftlog/port/mutex.h"

namespace raftlog::engine::internal {

// A segment file ready to be activated: full size, all zeros, synced.
struct PreparedSegment {
  uint64_t segment_id = 0;
  std::shared_ptr<io::File> file;
  std::string path;
};

class Preallocator {
 public:
  using Prepared = PreparedSegment;

  // Prepares files of segment_bytes in `dir`, numbering them from
  // first_segment_id, keeping `target` ready. Does not start the thread.
  // With target 0 there is no thread: Take() prepares a file itself.
  // write_zeros: fill files with zeros (fast fdatasync of later appends)
  // rather than only reserving space (for logs that never sync appends).
  Preallocator(io::FileSystem* fs, std::string dir, uint64_t segment_bytes,
               uint64_t first_segment_id, int target, bool write_zeros = true);
  ~Preallocator();
  Preallocator(const Preallocator&) = delete;
  Preallocator& operator=(const Preallocator&) = delete;

  // Adopts a spare found on open. REQUIRES: before Start(); ids increasing.
  void AddExisting(Prepared spare);

  void Start();
  void Stop();

  // Takes the next prepared file, waiting for the thread if none is ready.
  // Returns the error that stopped preparation (e.g. IOError ENOSPC) if the
  // last attempt failed; the thread retries on the next Take().
  Result<Prepared> Take();

  // Ids >= this were never handed out by Take().
  uint64_t next_unused_id() const;

 private:
  void Run();
  Result<Prepared> PrepareOne(uint64_t id);

  io::FileSystem* const fs_;
  const std::string dir_;
  const uint64_t segment_bytes_;
  const int target_;
  const bool write_zeros_;

  mutable port::Mutex mu_;
  port::CondVar cv_{&mu_};
  std::deque<Prepared> ready_ GUARDED_BY(mu_);
  uint64_t next_id_ GUARDED_BY(mu_);      // the id the thread prepares next
  uint64_t next_unused_ GUARDED_BY(mu_);  // the lowest id not yet taken
  Status error_ GUARDED_BY(mu_);          // the last preparation failure
  bool retry_ GUARDED_BY(mu_) = false;    // Take() asked to retry after an error
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace raftlog::engine::internal
