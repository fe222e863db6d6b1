// CompactToAdvice: whether a damaged log can be repaired by moving its start
// past the damage (raftlog repair --compact-to), because every problem that
// costs live entries lies in entries the newest snapshot holds. verify and
// info give this advice in place of "rebuild this member" when it holds,
// also for a log the engine refuses to open for that damage. Decided by a
// dry run of the repair itself (DiskStorage::RepairCompactTo), so the
// advice is never one the repair then refuses.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raftlog/io/file_system.h"

namespace raftlog::tools {

struct CompactAdvice {
  // The live entries the damage may cost, and the snapshot that holds them.
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  uint64_t snapshot_index = 0;
  // The files the damage is in ("segments/<id>.seg").
  std::vector<std::string> files;
  // The engine refuses to open the log for this damage.
  bool engine_refuses = false;
  // "damage in entries a .. b, all covered by the snapshot at index S: ..."
  std::string text;
};

// The advice for the log in `dir` whose newest snapshot (as its metadata
// says) is at `snapshot_index`: set when a compaction to it (not beyond the
// commit index or the last entry) drops damage that costs live entries and
// no damage may cost an entry after it. nullopt otherwise (also when there
// is no snapshot). Reads every segment: call it only for a damaged log.
std::optional<CompactAdvice> AdviseCompactTo(io::FileSystem* fs, const std::string& dir,
                                             uint64_t snapshot_index);

}  // namespace raftlog::tools
