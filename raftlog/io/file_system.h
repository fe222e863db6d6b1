// The file-system seam (after leveldb's Env): every open, write, read, sync,
// mmap, rename, unlink and allocation that engine/ and snapshot/ perform goes
// through FileSystem and File, so that tests can inject faults (EIO, ENOSPC,
// short writes) and simulate power loss (tests/testutil/fault_file_system.h).
//
// The default implementation, FileSystem::Default(), is POSIX on Linux.
// Errors are Status values naming the path and the operation:
//   "IOError: fdatasync /data/log/0000000000000003.seg: Input/output error".
//
// Thread-safety: FileSystem methods are safe to call concurrently. A File may
// be used from several threads at once for PRead/Map/Size, but writes,
// Truncate and Allocate need external synchronization (one writer).

#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"

namespace raftlog::io {

// A read-only view of part of a file, mapped into memory. The bytes stay valid
// until the region is destroyed, even after the file is unlinked. Touching a
// byte beyond the file's current end raises SIGBUS, so callers map only bytes
// that exist and never read past what they know was written.
class MappedRegion {
 public:
  virtual ~MappedRegion() = default;
  virtual std::string_view bytes() const = 0;
};

class File {
 public:
  virtual ~File() = default;

  virtual const std::string& path() const = 0;

  // Writes the concatenation of `pieces` at `offset` (pwritev), retrying
  // short writes and EINTR until everything is written or an error occurs.
  // On error some prefix of the bytes may have been written.
  virtual Status PWrite(uint64_t offset, std::span<const std::string_view> pieces) = 0;

  // Reads up to n bytes at offset into scratch (pread); the returned view
  // points into scratch and is shorter than n only at end of file.
  virtual Result<std::string_view> PRead(uint64_t offset, size_t n, char* scratch) const = 0;

  // Reads [offset, offset+n) as the storage device holds it, bypassing the
  // page cache (O_DIRECT): what a power loss now would leave. Shorter than n
  // only at the end of the file. NotSupported where the file system has no
  // direct I/O (tmpfs); then nothing tells cached from durable bytes. Used
  // on open only: it is slow (uncached, aligned reads).
  virtual Result<std::string> ReadFromDevice(uint64_t /*offset*/, size_t /*n*/) const {
    return Status::NotSupported(path() + ": reading from the device is not supported");
  }

  // fdatasync: the file's data (and the size, if it changed) are durable.
  virtual Status Sync() = 0;

  // Reserves [offset, offset+len) and extends the file size to cover it
  // (fallocate mode 0). ENOSPC is reported here rather than at a later write.
  virtual Status Allocate(uint64_t offset, uint64_t len) = 0;

  virtual Status Truncate(uint64_t size) = 0;
  virtual Result<uint64_t> Size() const = 0;

  // Maps [offset, offset+len) read-only (MAP_SHARED).
  virtual Result<std::unique_ptr<MappedRegion>> Map(uint64_t offset, uint64_t len) const = 0;

  // Hints that [offset, offset+len) will be read soon / not again.
  virtual void AdviseWillNeed(uint64_t /*offset*/, uint64_t /*len*/) const {}
  virtual void AdviseDontNeed(uint64_t /*offset*/, uint64_t /*len*/) const {}
};

enum class OpenMode {
  kReadOnly,         // the file must exist
  kReadWrite,        // the file must exist
  kCreate,           // read-write; created if missing (0600)
  kCreateExclusive,  // read-write; fails with IOError (EEXIST) if it exists
};

// An exclusive advisory lock (flock) held until destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The process-wide POSIX file system. Never destroyed.
  static FileSystem* Default();

  virtual Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) = 0;

  // Creates a directory with mode 0700; OK if it already exists.
  virtual Status CreateDir(const std::string& path) = 0;
  // fsync of a directory: makes creations, renames and removals in it durable.
  virtual Status SyncDir(const std::string& path) = 0;
  // The names (not paths) of the entries in a directory, without "." and "..".
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  // Atomically replaces `to` with `from` (rename(2)); not durable until SyncDir.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Unlinks a file; not durable until SyncDir. NotFound if it does not exist.
  virtual Status Remove(const std::string& path) = 0;
  virtual Status RemoveDir(const std::string& path) = 0;
  // NotFound if nothing exists at path.
  virtual Result<bool> IsDirectory(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;

  // Takes an exclusive, non-blocking flock on path: a directory (opened
  // read-only, so it cannot be unlinked from under the holder), or a file
  // (created 0600 if missing). Returns Busy ("... is locked by another
  // process") if someone holds it.
  virtual Result<std::unique_ptr<FileLock>> Lock(const std::string& path) = 0;
  // A shared, non-blocking flock on an existing path, opened read-only (no
  // write permission needed): Busy while someone holds Lock(path).
  virtual Result<std::unique_ptr<FileLock>> LockShared(const std::string& path) {
    return Status::NotSupported("shared lock of " + path + ": not supported by this file system");
  }
};

// Joins a directory and a name with exactly one '/'.
std::string JoinPath(std::string_view dir, std::string_view name);

// Reads a whole (small) file through fs. For metadata and tests, not for
// segments.
Result<std::string> ReadFileToString(FileSystem* fs, const std::string& path);

}  // namespace raftlog::io
