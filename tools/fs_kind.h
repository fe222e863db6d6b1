// What kind of file system holds a path (statfs's f_type), and whether data
// written there can survive a power loss at all. bench uses it: figures
// measured on tmpfs or ramfs are memory speeds, since fdatasync there makes
// nothing durable, and must never be taken for a disk's fitness.

#pragma once

#include <cstdint>
#include <string>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"

namespace raftlog::tools {

struct FsKind {
  uint64_t magic = 0;  // statfs f_type
  std::string name;    // "ext4", "xfs", "tmpfs", ... or "unknown (0x...)"
  // False for file systems that live in memory only (tmpfs, ramfs): a sync
  // there returns at once and a power loss loses everything.
  bool durable = true;
};

// The file system holding `path`. IOError if statfs fails.
Result<FsKind> FileSystemKind(const std::string& path);

}  // namespace raftlog::tools
