// LogEngine: a persistent, crash-safe log of (index, term, type, bytes)
// entries in segment files, with its metadata in LMDB. Raft-agnostic: the
// adapter DiskStorage (raftlog/engine/disk_storage.h) turns it into a raft Storage.
//
// Design (docs/architecture.md and docs/crash-safety.md say it at length):
//
// Files. One directory per log:
//   (the directory)   flock'ed while a writer has the log open; a second gets Busy
//   LOCK              flock'ed too, for processes of earlier versions
//   meta.mdb          LMDB (plus meta.mdb-lock): manifest, log start, state
//   segments/<id>.seg segment files, id = 16 hex digits, never reused
// LMDB's manifest of live segments is the source of truth: on open, segment
// files it does not list are removed (or kept as prepared spares, see
// internal/preallocator.h).
//
// Segments. Fixed size (Options::segment_bytes), prepared ahead by a
// background thread (written with zeros, synced). Exactly one segment, the
// last, is *active*: appended to with pwritev, its end found on open by
// scanning its frames. The others are *sealed*: a footer (frame table + term
// runs) after the last frame, found through a trailer at the end of the file,
// so that open reads footers, not data, and open time does not grow with the
// log. A frame holds a batch of consecutive entries of one term and an XXH3
// checksum seeded with (segment id, generation), so bytes from another
// segment or from before a truncation can never validate.
//
// Truncation. An Append whose first index is at or below the last index
// replaces the suffix. The segment holding the new last entry is sealed at
// it (its manifest entry records the lower last index; bytes beyond are dead)
// and the new entries go to a new segment with a new id and generation. So a
// stale frame beyond the cut can never be spliced into the log after a crash.
// TruncatePrefix (compaction) and Reset (a snapshot replaces the log) are one
// LMDB transaction each; files are deleted afterwards, and leftovers of an
// interrupted deletion are removed on the next open.
//
// Durability. Append with sync writes its frames and calls fdatasync once on
// the active segment. A segment roll hands the full segment to the sealer
// thread (footer, fdatasync, one LMDB commit, log_engine_seal.cc) and goes
// on in the next one; a synced append that rolled also waits for the full
// segment's fdatasync, so nothing acknowledged depends on the seal's
// commit (recovery finds an unlisted successor by its header). State written with PutState is durable
// (an LMDB commit) before the call returns; PutStateLazy defers it to the
// next LMDB commit or Close(). After a failed write or fdatasync the engine
// refuses every further write (it cannot know what reached the disk) until
// it is reopened, when recovery decides from what is actually on disk.
//
// Recovery (Options::recovery): a torn frame at the end of the active
// segment is cut (and the segment sealed there); a bad frame followed by a
// valid one, or a bad sealed segment, is a Corruption error naming the file
// and offset.
//
// Thread-safety: any number of threads may read (FirstIndex, LastIndex, Term,
// Read) concurrently with one writer (Append, Truncate*, Reset, PutState,
// Sync); writes are serialized internally. Readers never wait for the
// writer's fdatasync: new entries are published under a short exclusive lock
// after they are written (and synced, if asked).

#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "raftlog/engine/meta_store.h"
#include "raftlog/engine/options.h"
#include "raftlog/engine/stats.h"
#include "raftlog/format/bytes.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/record.h"
#include "raftlog/format/result.h"
#include "raftlog/format/segment_footer.h"
#include "raftlog/io/file_system.h"
#include "raftlog/port/mutex.h"

namespace raftlog::engine {

namespace internal {
class Segment;
class Preallocator;
struct PreparedSegment;
class FrameCache;
class ColdWorker;
}  // namespace internal

struct AppendOptions {
  // fdatasync before returning (subject to Options::sync: kNever and
  // kInterval never sync on the append path).
  bool sync = true;
  // An opaque index stored with the frames (raft: the commit index), of which
  // the largest found in the log is reported by recovered_commit_hint().
  uint64_t commit_hint = 0;
};

// Metadata changes applied with a log operation, in the same LMDB transaction.
// Keys are the caller's; the engine stores them under "state/".
using StateUpdates = std::vector<std::pair<std::string, std::string>>;

// LogEngine::CompressSegment's choices (docs/operations.md, "Cold segments").
struct CompressSegmentOptions {
  // zstd level of the rewritten frames (bench/cold_bench.cc measures them).
  int level = 3;
  // Raw payload per compressed frame: consecutive entries of one term are
  // grouped up to this many bytes (one entry may exceed it), so a read of one
  // entry decompresses at most about this much.
  uint32_t frame_input_bytes = 64u << 10;
  // The rewrite is kept only if the new file is at most this fraction of the
  // raw file's size; otherwise the segment stays raw.
  double max_ratio = 0.8;
  // Once this many bytes of the raw file's frames are read, a rewrite whose
  // frames so far already take more than max_ratio of them stops there: the
  // segment stays raw (kNotWorthIt) without the rest of it being read,
  // compressed and written, which for incompressible entries would be a
  // whole segment's background I/O for nothing. 0: always the whole segment.
  uint64_t sample_bytes = 1u << 20;
  // Called on the rewriting thread with the bytes of each frame about to be
  // read (of the raw file, then of the rewrite when it is read back), and
  // with 0 just before the swap takes the writer lock: it may sleep to pace
  // the rewrite. A non-OK status stops the rewrite (nothing is listed, the
  // new file is removed) and CompressSegment returns it. Empty: no pacing.
  // The background worker paces and stops itself with it.
  std::function<Status(uint64_t bytes)> pace;
};

struct CompressSegmentResult {
  enum class Outcome {
    kCompressed,         // the manifest now lists the compressed file
    kNotWorthIt,         // compressed > max_ratio x raw (or a sample): it stays raw
    kAlreadyCompressed,  // nothing to do
    kChanged,            // compacted or truncated meanwhile: nothing done
  };
  Outcome outcome = Outcome::kChanged;
  uint64_t segment_id = 0;
  uint64_t raw_bytes = 0;         // the raw file's size
  uint64_t compressed_bytes = 0;  // the rewritten file's size (0 if none was written)
  // kNotWorthIt decided from a sample (CompressSegmentOptions::sample_bytes):
  // this many bytes of the raw file's frames were read, and compressed_bytes
  // is what they took rewritten. 0: decided from the whole segment.
  uint64_t sampled_raw_bytes = 0;
  // Time the call waited for the writer lock (to reserve the generation and
  // for the swap): the appends' time, not the rewrite's own work. The cold
  // worker leaves it out of the time it charges to its budget.
  std::chrono::nanoseconds write_lock_wait{0};
};

class LogEngine {
 public:
  // Opens the log in `dir`, creating it if missing (Options::create_if_missing)
  // and recovering it. Returns Busy if another process has it open,
  // InvalidArgument if dir holds something that is not a raftlog log or the
  // options are invalid, NotSupported for a newer format, Corruption naming
  // file and offset when recovery finds damage its policy does not allow.
  static Result<std::unique_ptr<LogEngine>> Open(const std::string& dir, const Options& options);

  // Close()s if needed.
  ~LogEngine();
  LogEngine(const LogEngine&) = delete;
  LogEngine& operator=(const LogEngine&) = delete;

  // Persists lazy state, syncs the active segment, stops background threads
  // and releases the directory lock. Further calls fail. Idempotent.
  Status Close();

  // Releases everything like Close() but writes nothing more: no sync, no
  // metadata. What is on disk is what a crash at this moment would leave.
  // For crash tests, and for an application that must stop at once after a
  // fatal error. Idempotent.
  void Abandon();

  // --- reading (any thread) ---------------------------------------------------

  // Entries live in [FirstIndex(), LastIndex()]; FirstIndex()-1 is the
  // compaction point, whose term stays readable. A new log has FirstIndex 1,
  // LastIndex 0. Never blocks on I/O.
  uint64_t FirstIndex() const { return first_index_.load(std::memory_order_acquire); }
  uint64_t LastIndex() const { return last_index_.load(std::memory_order_acquire); }

  // The term of `index`, from memory. Compacted if index < FirstIndex()-1,
  // Unavailable if index > LastIndex().
  Result<uint64_t> Term(uint64_t index) const;

  // Calls fn for the entries [lo, hi) in order until fn returns false. The
  // EntryView's data is valid only during the call. fn runs under the
  // engine's shared index lock: it must be quick and must not call back into
  // the engine's writer side.
  // Returns Compacted if lo < FirstIndex(), Unavailable if hi > LastIndex()+1,
  // InvalidArgument if lo > hi, Corruption (file, offset) for bad bytes.
  Status Read(uint64_t lo, uint64_t hi,
              const std::function<bool(const format::EntryView&)>& fn) const;

  // As Read, and also hands fn each entry's payload as a Bytes (equal to
  // view.data) that shares the memory it was read from, without a copy: the
  // segment's mapping, or for a compressed frame the frame cache's
  // decompressed buffer. That Bytes stays valid and unchanged after the
  // call, after its entry is compacted or truncated away, and after the
  // engine is closed or destroyed: it keeps the mapping alive. So a removed
  // segment's disk space and address space are released only when its last
  // such payload is dropped; copy (Bytes::Copy) what you keep long.
  Status ReadShared(uint64_t lo, uint64_t hi,
                    const std::function<bool(const format::EntryView&, Bytes data)>& fn) const;

  // The largest commit hint found in the log on open, capped at LastIndex().
  uint64_t recovered_commit_hint() const { return recovered_commit_hint_; }

  // A caller's state value (see PutState), or nullopt. A read-only engine
  // returns the state as it was when it opened, before it scanned the log,
  // so that state and log are consistent beside a live writer.
  Result<std::optional<std::string>> GetState(std::string_view key) const;

  Stats GetStats() const;

  const std::string& dir() const { return dir_; }
  bool read_only() const { return options_.read_only; }

  // --- writing (serialized) ---------------------------------------------------

  // Appends entries with consecutive indexes, the first in
  // [FirstIndex(), LastIndex()+1]. Entries at or after the first one's index
  // are replaced. Terms must not decrease within the batch or relative to the
  // entry before it (raft guarantees both).
  // Returns InvalidArgument (and changes nothing) for a gap, an index below
  // FirstIndex(), non-consecutive indexes, a decreasing term, or an entry too
  // large for a segment; FailedPrecondition after an earlier write failure;
  // IOError for a failed write or sync (the engine then refuses writes).
  Status Append(std::span<const format::EntryView> entries, const AppendOptions& options);

  // Drops every entry below new_first_index: FirstIndex() becomes
  // new_first_index and the term of new_first_index-1 is kept as the
  // compaction point's. `state` is written in the same LMDB transaction.
  // REQUIRES: FirstIndex() <= new_first_index <= LastIndex()+1, else
  // InvalidArgument.
  Status TruncatePrefix(uint64_t new_first_index, const StateUpdates& state = {});

  // Drops the whole log: it becomes empty with compaction point (index, term)
  // (FirstIndex() = index+1). `state` is written in the same transaction.
  Status Reset(uint64_t index, uint64_t term, const StateUpdates& state = {});

  // Writes caller state durably (one LMDB commit) before returning. Any lazy
  // state is written in the same transaction.
  Status PutState(const StateUpdates& state);
  // Remembers state to write with the next LMDB commit, or at Close(). A
  // crash may lose it. GetState() returns it at once.
  void PutStateLazy(std::string key, std::string value);

  // fdatasync of the active segment (for SyncPolicy::kNever users who want a
  // durability point).
  Status Sync();

  // --- cold segments (log_engine_compress.cc) -----------------------------------

  // The manifest entries of the live segments, in index order (the active
  // one last, its last index a hint).
  std::vector<format::SegmentRecord> SegmentRecords() const;

  // Rewrites the sealed segment `segment_id` with zstd-compressed frames:
  // reads and checks every frame of it, writes <id>-<generation>.zseg under a
  // new generation (its own checksum seed) with a footer and trailer like any
  // sealed segment, reads it back fully, fdatasyncs it and its directory,
  // then lists it in place of the raw file in one LMDB transaction and
  // removes the raw file. Entries keep their indexes and terms. Readers are
  // never blocked for the rewrite (only for the swap) and payloads they hold
  // stay valid (the raw file's mapping lives while they do). A crash at any
  // step leaves either file listed and the other a stray that open removes.
  // Runs on the caller's thread; the writer lock is held only to reserve the
  // generation and for the swap, never while compressing.
  // Errors: NotFound (no such live segment), InvalidArgument (active segment,
  // read-only engine), Corruption (the segment's bytes are damaged; nothing
  // is written), IOError; FailedPrecondition after an earlier write failure.
  Result<CompressSegmentResult> CompressSegment(uint64_t segment_id,
                                                const CompressSegmentOptions& options = {});

 private:
  struct PendingFrames;
  LogEngine(std::string dir, const Options& options);

  // Hands "<dir>: <msg>" to Options::notes, if set (the library never
  // prints by itself).
  void Log(const std::string& dir, const std::string& msg) const;

  // The cold-segment worker (log_engine_cold.cc): started by Open if
  // Options ask for it, stopped by Close and Abandon before they take
  // write_mu_.
  void StartColdWorker();
  void StopColdWorker();

  // Open steps. OpenImpl holds write_mu_ and mu_ (exclusively) throughout:
  // no other thread can see the engine yet, so they are uncontended, and the
  // steps below then touch the writer's state and the index as the writer
  // does. The background threads it starts last wait for them if they need
  // them.
  Status OpenImpl() EXCLUDES(write_mu_, mu_);
  Status InitOrCheckFormat() REQUIRES(write_mu_);
  // Read-only open: takes every state record into lazy_state_ (see GetState).
  Status FreezeState();
  // Makes the metadata of a new log (see the definition) at meta_path.
  Status CreateMetaStore(const std::string& meta_path) REQUIRES(write_mu_);
  // Rewrites the log/ and seg/ values found in the encoding without checksum.
  Status RewriteOldEncodings() REQUIRES(write_mu_) REQUIRES_SHARED(mu_);
  // Removes the staging directory of an interrupted creation, if any.
  Status RemoveStaging();
  // `durable` is the log/durable record (all zero if absent).
  Status LoadSegments(const std::vector<format::SegmentRecord>& records,
                      const format::DurableRecord& durable) REQUIRES(write_mu_, mu_);
  Status OpenSealed(const format::SegmentRecord& record) REQUIRES(mu_);
  Status RecoverActive(const format::SegmentRecord& record, const format::DurableRecord& durable)
      REQUIRES(write_mu_, mu_);
  // Makes [from, to) of the active segment durable as recovery read it:
  // `bytes` views the file's mapping from offset 0. Writes back the bytes the
  // device lacks (io::File::ReadFromDevice): all of them if any byte differs.
  Status MakeDurable(io::File* file, std::string_view bytes, uint64_t from, uint64_t to);
  Status CheckContinuity() REQUIRES_SHARED(mu_);
  Status CheckStartTerm() REQUIRES_SHARED(mu_);
  // The term of `index` from term_runs_. REQUIRES: index within the live
  // segments.
  uint64_t TermFromRuns(uint64_t index) const REQUIRES_SHARED(mu_);
  Status RemoveStrayFiles(const std::vector<format::SegmentRecord>& records) REQUIRES(write_mu_)
      REQUIRES_SHARED(mu_);

  // CompressSegment's steps (log_engine_compress.cc). Reserve: checks the
  // segment and takes a new generation (*record gets its current entry).
  // Both add the time they waited for write_mu_ to *lock_wait.
  Status ReserveCompression(uint64_t segment_id, format::SegmentRecord* record,
                            uint64_t* generation, bool* already_compressed,
                            std::chrono::nanoseconds* lock_wait);
  // Lists `compressed` in place of `raw` if the manifest still holds `raw`
  // unchanged (*swapped false otherwise), then hands the raw file to the
  // preallocator (reused as a spare, or unlinked on its thread). With a
  // sealer thread, its LMDB commit runs there, as a job in the seal slot
  // (RunColdSwap), not under write_mu_: appends go on meanwhile.
  Status SwapCompressed(const format::SegmentRecord& raw, const format::SegmentRecord& compressed,
                        bool* swapped, std::chrono::nanoseconds* lock_wait) EXCLUDES(write_mu_);
  // The swap's commit, without the sealer: under write_mu_.
  Status SwapCompressedLocked(const format::SegmentRecord& compressed, bool* swapped,
                              std::unique_ptr<internal::Segment>* old) REQUIRES(write_mu_);
  // Replaces the index entry of compressed.segment_id (which must be there)
  // with the compressed file; *old gets the raw one.
  void InstallCompressed(const format::SegmentRecord& compressed,
                         std::unique_ptr<internal::Segment>* old);

  // Writer helpers. They take mu_ themselves where they touch the index
  // (exclusively only to publish).
  Status CheckWritable() const REQUIRES(write_mu_);
  Status WriteFrames(std::span<const format::EntryView> entries, uint64_t commit_hint, bool sync)
      REQUIRES(write_mu_) EXCLUDES(mu_);
  Status Roll(PendingFrames* pending) REQUIRES(write_mu_) EXCLUDES(mu_);
  Status Activate(MetaStore::Batch* batch) REQUIRES(write_mu_) EXCLUDES(mu_);
  // Writes a footer listing `segment`'s frames up to last_index and the
  // trailer at write_offset, syncs, and truncates the file after them.
  // durable_offset: the segment's bytes known synced before (recorded in the
  // footer's frame header). Touches no writer state: the sealer runs it too.
  Status WriteSeal(internal::Segment* segment, uint64_t write_offset, uint64_t last_index,
                   std::vector<format::TermRun> runs, uint64_t durable_offset,
                   uint64_t* footer_offset, uint64_t* file_bytes);
  Result<format::FooterView> ParseFooter(const internal::Segment& segment, uint64_t footer_offset,
                                         uint64_t file_bytes) const;
  Status TruncateSuffix(uint64_t new_last_index) REQUIRES(write_mu_) EXCLUDES(mu_);
  // Commits batch with the lazy state and (once open) the durable progress.
  Status CommitMeta(MetaStore::Batch* batch) REQUIRES(write_mu_);
  // The lazy state: added to a batch (returns what was added), and, once
  // that batch committed, forgotten where it is still the same value. Any
  // thread (the writer and the sealer both commit).
  using LazyState = std::map<std::string, std::string, std::less<>>;
  LazyState AddLazyState(MetaStore::Batch* batch) EXCLUDES(state_mu_);
  void ForgetCommittedLazyState(const LazyState& committed) EXCLUDES(state_mu_);
  // The durable-progress record of the active segment as it stands.
  format::DurableRecord DurableProgress() REQUIRES(write_mu_);
  // Stops the background threads and releases files, mappings, LMDB and the
  // lock. REQUIRES: write_mu_ held and closed_ set.
  void ReleaseLocked() REQUIRES(write_mu_);
  // Hands segments the manifest no longer lists to the preallocator, which
  // destroys them and reuses or deletes their files on its thread (without
  // one, destroys them and deletes their files here).
  void RemoveSegmentFiles(std::vector<std::unique_ptr<internal::Segment>> dead)
      REQUIRES(write_mu_);
  void Fail(const Status& s);
  void SyncLoop();

  // The background seal (log_engine_seal.cc). A roll hands the full segment
  // to the sealer thread and goes on appending to its successor at once; the
  // sealer writes the footer and trailer, fdatasyncs, and commits the
  // manifest change (the old segment sealed, the successor listed active).
  struct SealJob;
  // Hands `job` to the sealer. REQUIRES: no seal in flight.
  void StartSeal(std::unique_ptr<SealJob> job) REQUIRES(write_mu_);
  // Waits until the seal in flight, if any, has made its segment durable
  // (synced_only) or has finished altogether. Returns the seal's error (the
  // engine has then failed). OK at once when no seal is in flight.
  Status WaitForSeal(bool synced_only) REQUIRES(write_mu_);
  // The seal thread's loop, and one seal's steps.
  void SealLoop();
  Status RunSeal(SealJob* job);
  // A cold segment's swap handed to the sealer (SealJob::cold).
  Status RunColdSwap(SealJob* job);
  // Stops the sealer thread after the seal in flight, if any. `abandon`:
  // skip that seal's remaining steps (Abandon: write nothing more).
  void StopSealer(bool abandon) REQUIRES(write_mu_);

  // Recovery of a roll whose seal did not commit: the active segment's
  // successor, a spare whose header continues the log (log_engine_recover.cc).
  Status RecoverSuccessor(const format::SegmentRecord& active, const format::DurableRecord& durable)
      REQUIRES(write_mu_, mu_);

  // Read and ReadShared: fn gets each entry and the buffer that holds its
  // payload (the segment's mapping or a decompressed frame).
  Status ReadImpl(uint64_t lo, uint64_t hi,
                  const std::function<bool(const format::EntryView&, const Bytes&)>& fn) const;

  // Index helpers.
  size_t FindSegment(uint64_t index) const REQUIRES_SHARED(mu_);
  std::vector<format::TermRun> RunsWithin(uint64_t first, uint64_t last) const REQUIRES_SHARED(mu_);

  const std::string dir_;
  const std::string segments_dir_;
  const Options options_;
  io::FileSystem* const fs_;
  std::unique_ptr<io::FileLock> lock_;       // flock of dir_ (exclusive; writers only)
  std::unique_ptr<io::FileLock> lock_file_;  // flock of LOCK, for earlier versions
  std::unique_ptr<MetaStore> meta_;
  std::unique_ptr<internal::Preallocator> preallocator_;
  std::unique_ptr<internal::FrameCache> cache_;
  // Options::compression_mode kColdSegments, writable opens only: the
  // background rewriter of sealed segments (log_engine_cold.cc). Stopped
  // before Close takes write_mu_ (it takes write_mu_ itself); kept until
  // destruction so that a seal can always tell it.
  std::unique_ptr<internal::ColdWorker> cold_;

  // Lock order: write_mu_ before mu_ before state_mu_ / fail_mu_ / sync_mu_.
  //
  // The writer holds write_mu_ for a whole operation, I/O included. Readers
  // never take it.
  port::Mutex write_mu_;
  // The index. Readers hold mu_ shared for a whole Read/Term; the writer
  // takes it exclusively only to publish (never across I/O).
  mutable port::SharedMutex mu_;

  // Guarded by mu_ (written only with write_mu_ also held):
  // Live segments in index order. Invariant: segments_[k+1]->base_index() ==
  // segments_[k]->last_index() + 1; only the last may be active.
  std::vector<std::unique_ptr<internal::Segment>> segments_ GUARDED_BY(mu_);
  // Terms of every entry the live segments hold, from the first segment's
  // base index (which may be below FirstIndex()) to LastIndex(), as maximal
  // runs of increasing (first index, term).
  std::vector<format::TermRun> term_runs_ GUARDED_BY(mu_);
  uint64_t prev_term_ GUARDED_BY(mu_) = 0;  // term of FirstIndex()-1
  // Mirrors of the index bounds for lock-free FirstIndex()/LastIndex();
  // stored with release order after the index they describe is published.
  std::atomic<uint64_t> first_index_{1};
  std::atomic<uint64_t> last_index_{0};

  // Guarded by write_mu_:
  internal::Segment* active_ GUARDED_BY(write_mu_) = nullptr;  // == segments_.back() or null
  uint64_t write_offset_ GUARDED_BY(write_mu_) = 0;            // next frame's offset in active_
  // The size active_ was made with (its header's segment_bytes), which may
  // differ from Options::segment_bytes after a restart with a new value.
  uint64_t active_bytes_ GUARDED_BY(write_mu_) = 0;
  // Bytes of active_ known durable (synced by this process, or rewritten and
  // synced on open): written into every frame (FrameHeader::durable_offset).
  // With kInterval the syncer's fdatasyncs advance it too (sync_durable_).
  uint64_t durable_offset_ GUARDED_BY(write_mu_) = 0;
  bool header_pending_ GUARDED_BY(write_mu_) = false;  // active_'s header not yet written
  // active_'s file may hold stale bytes past its frames (a recycled file):
  // its header carries format::kSegmentFlagStaleTail and every frame write
  // is followed by an all-zero frame header that marks the end.
  bool active_stale_tail_ GUARDED_BY(write_mu_) = false;
  uint32_t active_runs_ GUARDED_BY(write_mu_) = 0;     // term runs inside active_
  uint64_t next_segment_id_ GUARDED_BY(write_mu_) = 1;
  // A prepared file taken for the next roll before an append writes anything.
  std::unique_ptr<internal::PreparedSegment> spare_ GUARDED_BY(write_mu_);
  uint64_t generation_ GUARDED_BY(write_mu_) = 0;
  format::FrameBuilder builder_ GUARDED_BY(write_mu_);
  std::vector<format::EntryView> chunk_ GUARDED_BY(write_mu_);  // scratch
  std::vector<std::string_view> pieces_ GUARDED_BY(write_mu_);  // scratch
  bool closed_ GUARDED_BY(write_mu_) = false;
  // Set once open has checked the active segment against log/durable (and
  // not read-only): from then on every LMDB commit rewrites that record.
  bool track_durable_ GUARDED_BY(write_mu_) = false;
  format::DurableRecord durable_written_ GUARDED_BY(write_mu_);  // the last one committed

  // Lazy caller state (PutStateLazy): read by GetState on any thread. In a
  // read-only engine, every state record as of the open (FreezeState), and
  // state_frozen_ set: GetState then never reads LMDB again.
  mutable port::Mutex state_mu_;
  LazyState lazy_state_ GUARDED_BY(state_mu_);
  bool state_frozen_ GUARDED_BY(state_mu_) = false;

  // Set once a write or sync failed; every later write returns it.
  mutable port::Mutex fail_mu_;
  Status failed_ GUARDED_BY(fail_mu_);
  std::atomic<bool> has_failed_{false};

  // SyncPolicy::kInterval: the background syncer and the file it syncs.
  port::Mutex sync_mu_;
  port::CondVar sync_cv_{&sync_mu_};
  std::shared_ptr<io::File> sync_file_ GUARDED_BY(sync_mu_);
  // kInterval: the bytes of sync_file_ written so far, and those the interval
  // syncer has made durable (folded into durable_offset_ by the writer).
  uint64_t sync_written_ GUARDED_BY(sync_mu_) = 0;
  uint64_t sync_durable_ GUARDED_BY(sync_mu_) = 0;
  bool sync_stop_ GUARDED_BY(sync_mu_) = false;
  std::thread syncer_;

  // The background seal (Options::background_seal). seal_mu_ is a leaf: no
  // other lock is taken while it is held.
  port::Mutex seal_mu_;
  port::CondVar seal_cv_{&seal_mu_};
  // The seal in flight (null: none): set by the writer, cleared by the
  // sealer when its last step is done.
  std::unique_ptr<SealJob> seal_job_ GUARDED_BY(seal_mu_);
  bool seal_synced_ GUARDED_BY(seal_mu_) = false;  // seal_job_'s segment is durable
  Status seal_error_ GUARDED_BY(seal_mu_);         // the first failed seal's error
  bool seal_stop_ GUARDED_BY(seal_mu_) = false;
  bool seal_abandon_ GUARDED_BY(seal_mu_) = false;
  std::thread sealer_;
  // Spare files recovery found holding a header (of an abandoned successor):
  // removed as strays, never adopted as spares. Open only.
  std::set<uint64_t> headed_spares_ GUARDED_BY(write_mu_);

  uint64_t recovered_commit_hint_ = 0;
  // Counters; atomics so GetStats() can read them from any thread.
  struct Counters;
  std::unique_ptr<Counters> counters_;
};

}  // namespace raftlog::engine
