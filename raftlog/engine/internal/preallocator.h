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
// Recycling: a segment file the manifest no longer lists (compacted or
// truncated away) and that no reader maps can be handed to Recycle()
// instead of being deleted. The next spare is then made from it rather than
// from fresh zeros: renamed to "<id>.seg.tmp", its segment header zeroed,
// its size set to segment_bytes (space reserved), fdatasync'ed, renamed to
// its final name and the directory fsync'ed, the same steps and crash rules
// as a fresh spare minus writing the zeros. Its old frames stay in it: they
// can never pass for frames of the new segment (every checksum is seeded
// with the segment's id and generation), and the segment written into it
// carries format::kSegmentFlagStaleTail so that readers find the end of its
// frames by an all-zero frame header instead of zeros to the end of the file.
// At most max_recycled files wait to be reused; Stop() deletes those not
// used.
//
// Deleting: a freed segment file that is not recycled can be handed to
// Discard(), and the thread deletes it (then fsyncs the directory) when no
// spare is wanted. Unlinking a 64 MiB segment drops its page cache and
// frees its extents, ~14 ms here (docs/benchmarks.md): a compaction that
// frees twenty segments would otherwise stall its caller for a quarter of a
// second. Until then the file is a stray the manifest does not list, which
// the next open removes if a crash comes first. Stop() deletes what is left.
//
// Releasing: the segments a compaction, truncation or reset dropped can be
// handed over whole to Release(). The thread destroys them (unmapping a
// 64 MiB segment whose pages readers faulted in, and closing its file, took
// 0.4-0.7 ms each here, 10-17 ms for the 24 segments a compaction at 16 KiB
// entries frees: docs/benchmarks.md), then recycles each file, or deletes it
// if a reader still views its mapping. Released segments are handled before
// the next spare is made, so their files are reused rather than fresh ones
// made. Stop() releases what is left.
//
// Thread-safety: all methods are safe to call from any thread. Stop() (also
// run by the destructor) joins the thread.

#pragma once

#include <cstdint>
#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "raftlog/format/result.h"
#include "raftlog/io/file_system.h"
#include "raftlog/port/mutex.h"

namespace raftlog::engine::internal {

class Segment;

// A segment file ready to be activated: full size, synced, its segment
// header all zeros; past the header all zeros too unless stale_tail.
struct PreparedSegment {
  uint64_t segment_id = 0;
  std::shared_ptr<io::File> file;
  std::string path;
  // The file may hold stale bytes past its header (recycled, or a spare found
  // on open whose history is unknown): its segment must be written with
  // format::kSegmentFlagStaleTail.
  bool stale_tail = false;
};

// Zeros make an fdatasync after a small write cheaper (no extent to convert:
// ~53 us against ~110 us after a 4 KiB write on ext4 over virtio), but they
// are as many bytes as the log itself: when synced writes are large the
// disk's bandwidth is the limit, and the one extent conversion per fdatasync
// costs far less than writing every byte twice. (Measured on the project's
// VM: 256 KiB written per fdatasync took 2.3 ms into allocated space against
// 3.6 ms into zeros, before counting the zeros; docs/benchmarks.md.)
inline constexpr uint64_t kZeroFillBelowBytes = 64 << 10;

class Preallocator {
 public:
  using Prepared = PreparedSegment;

  // Prepares files of segment_bytes in `dir`, numbering them from
  // first_segment_id, keeping `target` ready. Does not start the thread.
  // With target 0 there is no thread: Take() prepares a file itself.
  // write_zeros: fill fresh files with zeros (fast fdatasync of later small
  // appends) rather than only reserving space (for logs that never sync
  // appends). Even then a fresh file is only reserved while the synced
  // writes are large (NoteSyncedWrite): see kZeroFillBelowBytes.
  // max_recycled: how many files Recycle() keeps waiting for reuse.
  Preallocator(io::FileSystem* fs, std::string dir, uint64_t segment_bytes,
               uint64_t first_segment_id, int target, bool write_zeros = true,
               int max_recycled = 0);
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

  // Offers the file at `path` for reuse as a spare (see "Recycling" above).
  // REQUIRES: the manifest no longer lists it (durably) and nothing maps it.
  // Returns false, taking nothing, if max_recycled files (or `limit`, if
  // fewer) already wait, or the preallocator is stopped: the caller deletes
  // the file.
  bool Recycle(std::string path, size_t limit);

  // Takes over `dead` (see "Releasing" above): on the thread if there is
  // one and it runs, else here and now. REQUIRES: the manifest no longer
  // lists them (durably) and nothing else refers to them; every one lives
  // in this preallocator's directory.
  void Release(std::vector<std::unique_ptr<Segment>> dead);

  // Hands the file at `path` to the thread to delete (see "Deleting"
  // above). REQUIRES: the manifest no longer lists it (durably). Returns
  // false, taking nothing, if there is no thread or it is stopped: the
  // caller deletes the file.
  bool Discard(std::string path);

  // The bytes one synced append wrote (called by the writer after each).
  // While they average kZeroFillBelowBytes or more, fresh spares are
  // reserved with fallocate() instead of being written with zeros.
  void NoteSyncedWrite(uint64_t bytes);

  // Ids >= this were never handed out by Take().
  uint64_t next_unused_id() const;

  // Since construction: spares made from recycled files, and from fresh
  // files (written with zeros or only allocated).
  uint64_t recycled() const;
  uint64_t prepared_fresh() const;
  uint64_t zero_filled() const;  // ... of the fresh ones, written with zeros
  // Since construction: Take() calls that found no spare ready and waited
  // for the thread, and the total and longest of those waits.
  struct Waits {
    uint64_t count = 0;
    uint64_t total_ns = 0;
    uint64_t max_ns = 0;
  };
  Waits waits() const;

 private:
  void Run();
  // Deletes `paths`, then fsyncs the directory once. Failures leave strays
  // that the next open removes: the manifest no longer lists them.
  void RemoveFiles(const std::deque<std::string>& paths);
  // Destroys `dead` and recycles or deletes their files (see "Releasing").
  void ReleaseNow(std::vector<std::unique_ptr<Segment>> dead);
  // A spare with `id`: from a waiting recycled file if there is one, else a
  // fresh file. REQUIRES: mu_ held; releases it while doing I/O.
  Result<Prepared> PrepareNext(uint64_t id) REQUIRES(mu_);
  Result<Prepared> PrepareOne(uint64_t id, bool zeros);
  Result<Prepared> RecycleOne(uint64_t id, const std::string& old_path);
  // The spare named `path`, opened for writing.
  Result<Prepared> OpenPrepared(uint64_t id, const std::string& path, bool stale_tail);

  io::FileSystem* const fs_;
  const std::string dir_;
  const uint64_t segment_bytes_;
  const int target_;
  const bool write_zeros_;
  const size_t max_recycled_;

  mutable port::Mutex mu_;
  port::CondVar cv_{&mu_};
  std::deque<Prepared> ready_ GUARDED_BY(mu_);
  std::deque<std::string> recyclable_ GUARDED_BY(mu_);  // paths waiting for reuse
  std::deque<std::string> discarded_ GUARDED_BY(mu_);   // paths waiting to be deleted
  std::vector<std::unique_ptr<Segment>> released_ GUARDED_BY(mu_);  // waiting for ReleaseNow
  uint64_t recycled_ GUARDED_BY(mu_) = 0;
  uint64_t prepared_fresh_ GUARDED_BY(mu_) = 0;
  uint64_t zero_filled_ GUARDED_BY(mu_) = 0;
  Waits waits_ GUARDED_BY(mu_);
  // Moving average of the bytes per synced append (1/8 weight per append).
  std::atomic<uint64_t> synced_write_bytes_{0};
  uint64_t next_id_ GUARDED_BY(mu_);      // the id the thread prepares next
  uint64_t next_unused_ GUARDED_BY(mu_);  // the lowest id not yet taken
  Status error_ GUARDED_BY(mu_);          // the last preparation failure
  bool retry_ GUARDED_BY(mu_) = false;    // Take() asked to retry after an error
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace raftlog::engine::internal
