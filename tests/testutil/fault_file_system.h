// FaultFileSystem: an io::FileSystem for tests that injects errors and
// simulates power loss (after leveldb's FaultInjectionTestEnv and RocksDB's
// FaultInjectionTestFS), operating on real files through a base FileSystem.
//
// Fault injection. Every call is counted by kind (FsOp). A Fault makes the nth
// matching call from now fail with a chosen errno, or every matching call from
// the nth on; it can be restricted to paths containing a substring, and a
// PWrite fault can write a prefix of the bytes first (a short write, as a full
// disk does). The errors look like the POSIX implementation's: an IOError
// "<syscall> <path>: <strerror>" with errno_value() set (ENOENT becomes
// NotFound, as in raftlog/io/posix_file_system.cc).
//
// The durability model. The real files always hold what a reader would see
// now (the page cache); this class tracks how the disk could differ.
//  - File data. Every change to a file (PWrite, Truncate, Allocate) appends an
//    undo record to the file's log: the size before the change and the bytes
//    it overwrote. A successful Sync (fdatasync) makes the file's data and
//    size durable and drops the log; applying the log backwards restores the
//    durable contents. Data is per inode: it follows the file through renames
//    and is shared by every handle on it.
//  - Failed Sync. A Sync that fails (injected or real) makes nothing durable.
//    By default (set_failed_sync_loses_data) it also poisons the changes made
//    so far: they stay non-durable even if a later Sync succeeds, because on
//    Linux a failed fdatasync may drop the dirty pages while reads still show
//    the new bytes, and the retry reports success ("fsyncgate"). Changes made
//    after the failure become durable normally. A failed SyncDir makes nothing
//    durable and poisons nothing.
//  - Directories. Creating a file (Open with kCreate*, Lock), CreateDir,
//    Rename, Remove and RemoveDir change directory entries; each change is
//    logged in its directory and is durable only after a successful SyncDir of
//    that directory. Sync of a file never makes its name durable. A rename
//    within one directory is atomic. Remove and RemoveDir really move the
//    victim to a hidden name ".faultfs-trash-<n>" in the same directory
//    (ListDir hides it); it is deleted for real once no un-synced directory
//    change refers to it, and comes back if power is lost first. A rename
//    over an existing file moves the old file to the trash the same way.
//  - Power loss (SimulatePowerLoss) rewrites the real files into a state the
//    disk could show after the machine lost power now, then forgets all
//    tracking: what is on disk afterwards is the new durable baseline. Every
//    File opened before then is dead (IOError "... file handle from before
//    simulated power loss") so a test can't keep writing through a dead
//    engine; the engine is destroyed and reopened on this same FileSystem.
//    Modes: drop every un-synced change (kDropUnsynced); keep a random subset
//    of the 4 KiB blocks that changed, with either the old or the new size,
//    and a random prefix of each directory's un-synced changes
//    (kTornUnsynced); or turn every un-synced byte into random garbage and
//    keep the larger size (kGarbleUnsynced, the hostile case for checksums).
//    Torn and garbled outcomes depend only on the seed and the history.
//  - Files and directories that existed before this object first saw them are
//    taken as durable.
//
// Limits (what real failures this does not model):
//  - Only I/O through this FileSystem. LMDB (engine/meta_store) does its own
//    I/O and is not covered; neither is anything a test does with raw POSIX.
//  - Mapped regions are the base FS's real mmap of the real file. Restoring
//    undo records rewrites and may shrink the real file, so simulate power
//    loss only after the code under test stopped reading its mappings.
//  - Cross-directory renames are modelled conservatively as two independent
//    entry changes: until both directories are synced the file may come back
//    under both names (as a copy) or under neither. ext4 is stronger.
//  - Directory changes not synced are lost as a whole (or, torn, after a
//    random prefix per directory); real journals may also keep them, and
//    nothing orders changes across directories.
//  - No hard links or symlinks; directories cannot be copied, so a directory
//    that a cross-directory rename would need under two names keeps one.
//  - Sizes and contents only: no timestamps, permissions or xattrs.
//  - No corruption of synced data (bit rot, misdirected or lost writes, a
//    lying disk cache); torn granularity is 4 KiB, not the 512 B sector.
//  - Injected errors are only what the rules say: an injected ENOSPC fills no
//    disk, and no error is deferred to a later call (as writeback errors
//    really are, to the next fsync).
//  - The poisoned-change model restores the pre-failure bytes of exactly the
//    ranges written before the failed Sync, not of whole pages.
//  - FileLocks are not released by power loss: destroy the engine (and so its
//    lock) before reopening.
//
// Cost: the undo log keeps the bytes each un-synced write overwrote and the
// non-zero bytes each un-synced Truncate cut, until the next Sync.
//
// Thread-safety: FileSystem and File methods are safe to call concurrently,
// as io::FileSystem requires; the injection and inspection methods too.
// REQUIRES for SimulatePowerLoss: no other call on this object or its files
// is in progress. The FaultFileSystem must outlive every File it returned.

#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/io/file_system.h"
#include "raftlog/port/mutex.h"

namespace raftlog::testutil {

// The kinds of calls that can be counted and failed.
enum class FsOp : uint8_t {
  kOpen,       // FileSystem::Open with kReadOnly or kReadWrite
  kCreate,     // FileSystem::Open with kCreate or kCreateExclusive
  kPWrite,     // File::PWrite
  kPRead,      // File::PRead
  kSync,       // File::Sync (fdatasync)
  kAllocate,   // File::Allocate (fallocate)
  kTruncate,   // File::Truncate (ftruncate)
  kSize,       // File::Size (fstat)
  kMap,        // File::Map (mmap)
  kCreateDir,  // FileSystem::CreateDir
  kSyncDir,    // FileSystem::SyncDir (fsync of the directory)
  kListDir,    // FileSystem::ListDir
  kRename,     // FileSystem::Rename
  kRemove,     // FileSystem::Remove (unlink)
  kRemoveDir,  // FileSystem::RemoveDir
  kStat,       // FileSystem::IsDirectory
  kLock,       // FileSystem::Lock
  kAny,        // in a Fault: any of the above; in calls(): the total
};
// (FileSystem::Exists is neither counted nor failed: it cannot report errors.)
inline constexpr size_t kNumFsOps = static_cast<size_t>(FsOp::kAny);

// "PWrite", "SyncDir", ...
std::string_view FsOpName(FsOp op);

// One injected failure rule. Each rule counts the calls it matches (op, and
// path_contains in the call's path; for Rename in either path) from the
// moment it is injected, independently of other rules; when several fire on
// one call, the first injected decides the error. For example:
//   Fault f;
//   f.op = FsOp::kPWrite;
//   f.nth = 3;
//   f.error = ENOSPC;
//   f.path_contains = ".seg";
//   fs.Inject(f);  // the third PWrite to a segment from now fails
struct Fault {
  FsOp op = FsOp::kAny;
  // The matching call to fail, counting from 1.
  uint64_t nth = 1;
  // If true, every matching call from the nth on fails, until ClearFaults.
  bool sticky = false;
  // The errno the call fails with (EIO, ENOSPC, EROFS, ...).
  int error = EIO;
  // Only calls whose path contains this substring match; empty: every path.
  std::string path_contains;
  // For PWrite only: write the first short_write_bytes bytes, then fail.
  std::optional<uint64_t> short_write_bytes;
};

enum class PowerLossMode {
  kDropUnsynced,    // the disk holds exactly what was synced
  kTornUnsynced,    // some un-synced 4 KiB blocks and directory changes made it
  kGarbleUnsynced,  // every un-synced byte reads as garbage
};

class FaultFileSystem final : public io::FileSystem {
 public:
  // `base` does the real I/O and must outlive this object.
  explicit FaultFileSystem(io::FileSystem* base = io::FileSystem::Default());
  // Deletes the trash for real: the model's pending changes reach the disk,
  // as after a clean shutdown.
  ~FaultFileSystem() override;
  FaultFileSystem(const FaultFileSystem&) = delete;
  FaultFileSystem& operator=(const FaultFileSystem&) = delete;

  // ---- Fault injection and counters.

  // Adds a rule. REQUIRES: fault.nth >= 1.
  void Inject(Fault fault);
  // Fails the nth matching call of `op` from now (once) with `error`.
  void FailNth(FsOp op, uint64_t nth, int error = EIO, std::string path_contains = {});
  // Fails every matching call of `op` from now on with `error`.
  void FailAlways(FsOp op, int error = EIO, std::string path_contains = {});
  // Makes the nth matching PWrite from now write only its first
  // `bytes_written` bytes (all of them if fewer) and then fail with `error`.
  void ShortWriteNth(uint64_t nth, uint64_t bytes_written, int error = ENOSPC,
                     std::string path_contains = {});
  // Removes every rule; counters and durability tracking are unchanged.
  void ClearFaults();
  // How many calls failed because of a rule since the last ResetCounters.
  uint64_t faults_fired() const;

  // Calls of `op` since the last ResetCounters (FsOp::kAny: all calls),
  // including failed ones. Calls on dead handles are not counted.
  uint64_t calls(FsOp op) const;
  void ResetCounters();
  // ClearFaults and ResetCounters.
  void Reset();

  // If true (the default), a failed Sync poisons the file's changes made
  // before it: see the design comment.
  void set_failed_sync_loses_data(bool on);

  // ---- Durability.

  // Rewrites the real files to a state the disk could show after losing
  // power now (see PowerLossMode), kills every File opened so far, and makes
  // the result the durable baseline. Faults and counters are kept.
  // REQUIRES: no concurrent call on this object or its files, and nobody
  // reads a region mapped before. Returns IOError if the base FS fails while
  // restoring (the files are then in an unspecified state).
  Status SimulatePowerLoss(PowerLossMode mode = PowerLossMode::kDropUnsynced, uint64_t seed = 0);

  // Takes everything as durable, as if every file and directory had been
  // synced (deletes the trash). Open files stay usable.
  void MarkAllDurable();

  // The paths of files with un-synced data and of directories with un-synced
  // entry changes, sorted; a poisoned file is listed until power loss. For
  // asserting that an operation left nothing un-synced.
  std::vector<std::string> UnsyncedPaths() const;

  // ---- io::FileSystem.

  Result<std::unique_ptr<io::File>> Open(const std::string& path, io::OpenMode mode) override;
  Status CreateDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Result<bool> IsDirectory(const std::string& path) override;
  bool Exists(const std::string& path) override;
  Result<std::unique_ptr<io::FileLock>> Lock(const std::string& path) override;
  Result<std::unique_ptr<io::FileLock>> LockShared(const std::string& path) override;

  // If false, File::ReadFromDevice returns NotSupported, as on a file system
  // that refuses O_DIRECT. Default true.
  void set_direct_reads_supported(bool on);

 private:
  class FaultFile;
  struct Node;
  struct DataRecord;
  struct DirChange;
  struct DirOp;
  struct Rule {
    Fault fault;
    uint64_t seen = 0;  // matching calls so far
  };

  // Counts the call and applies the rules. Returns the injected error
  // (shaped like the POSIX FS's), or OK; sets *short_write_bytes when a PWrite
  // rule asks for a short write.
  Status CheckFault(FsOp op, std::string_view syscall, const std::string& path,
                    const std::string& path2 = {},
                    std::optional<uint64_t>* short_write_bytes = nullptr) REQUIRES(mu_);

  Node* NewNode(bool is_dir, Node* parent, std::string name) REQUIRES(mu_);
  std::string RealPath(const Node* node) const REQUIRES(mu_);
  // The node at `path`, learning untracked existing entries as durable;
  // nullptr if nothing is there (or the path can't be resolved).
  Node* Resolve(const std::string& path) REQUIRES(mu_);
  // The parent directory node of `path` (nullptr if missing) and the last
  // component.
  std::pair<Node*, std::string> ResolveParent(const std::string& path) REQUIRES(mu_);
  // Logs an atomic entry change in `dir`.
  void LogDirOp(Node* dir, std::vector<DirChange> changes) REQUIRES(mu_);
  // Really renames `node` to dir/name and updates the tree.
  Status Relocate(Node* node, Node* dir, std::string name) REQUIRES(mu_);
  // Relocates `node` to its trash name in the directory it is in.
  Status MoveToTrash(Node* node) REQUIRES(mu_);
  // Whether `node` or a directory above it is in the trash.
  bool InTrash(const Node* node) const REQUIRES(mu_);
  // Deletes for real every trashed node no un-synced change can restore.
  void CollectTrash() REQUIRES(mu_);
  // Deletes `node` (a directory: with everything in it) and marks its subtree
  // deleted.
  Status DeleteForReal(Node* node) REQUIRES(mu_);
  Status DeleteTreeForReal(const std::string& path) REQUIRES(mu_);

  // File data tracking for FaultFile: an undo record for a write of `len`
  // bytes at `offset`, or for setting the size to `new_size` (Truncate, or
  // Allocate with grow_only); MarkSynced after a Sync that covered the
  // records up to up_to_seq succeeded (ok) or failed.
  void AppendRecord(Node* node, DataRecord record) REQUIRES(mu_);
  Status RecordWrite(Node* node, io::File* base, uint64_t offset, uint64_t len) REQUIRES(mu_);
  Status RecordResize(Node* node, io::File* base, uint64_t new_size, bool grow_only) REQUIRES(mu_);
  void MarkSynced(Node* node, uint64_t up_to_seq, io::File* base, bool ok) REQUIRES(mu_);

  Status RestoreData(Node* node, PowerLossMode mode, uint64_t* rng) REQUIRES(mu_);
  // What ReadFromDevice sees: [offset, offset+n) of `node` as a power loss
  // in kDropUnsynced mode would leave it, computed without changing it.
  Result<std::string> DurableRange(Node* node, io::File* base, uint64_t offset, size_t n)
      REQUIRES(mu_);
  Status RestoreNamespace(PowerLossMode mode, uint64_t* rng) REQUIRES(mu_);
  void ForgetTracking() REQUIRES(mu_);

  io::FileSystem* const base_;

  mutable port::Mutex mu_;
  // Guarded by mu_:
  std::vector<Rule> rules_ GUARDED_BY(mu_);
  uint64_t counts_[kNumFsOps + 1] GUARDED_BY(mu_) = {};
  uint64_t faults_fired_ GUARDED_BY(mu_) = 0;
  bool failed_sync_loses_data_ GUARDED_BY(mu_) = true;
  bool direct_reads_supported_ GUARDED_BY(mu_) = true;
  // Bumped by SimulatePowerLoss; a File whose epoch differs is dead.
  uint64_t epoch_ GUARDED_BY(mu_) = 0;
  uint64_t next_node_id_ GUARDED_BY(mu_) = 0;
  // Every node seen since the last power loss, by id (ids grow, so iteration
  // order is deterministic). Files hold shared_ptrs too, so a node outlives
  // ForgetTracking while a (dead) handle still points at it.
  std::map<uint64_t, std::shared_ptr<Node>> nodes_ GUARDED_BY(mu_);
  Node* root_ GUARDED_BY(mu_) = nullptr;  // "/"
};

}  // namespace raftlog::testutil
