// CompactToAdvice: whether a damaged log can be repaired by moving its start
// past the damage (raftlog repair --compact-to), because every problem that
// costs live entries lies in entries the newest snapshot holds. verify and
// info give this advice in place of "rebuild this member" when it holds.
// Decided by the library's damage survey (engine::SurveyDamage), the same
// one DiskStorage::RepairCompactTo checks before it acts, so the advice is
// never one the repair then refuses for damage.

#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "raftlog/io/file_system.h"
#include "tools/engine_verdict.h"

namespace raftlog::tools {

struct CompactAdvice {
  // The live entries the damage may cost, and the snapshot that holds them.
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  uint64_t snapshot_index = 0;
  // "damage in entries a .. b, all covered by the snapshot at index S: ..."
  std::string text;
};

// The advice for the log in `dir`, judged by the engine as `verdict`: set
// when the engine opens the log, it has a snapshot at index S (not beyond
// the commit index or the last entry), some damage costs live entries, and
// none may cost an entry after S. nullopt otherwise (also if the survey
// cannot be made). Reads every segment: call it only for a damaged log.
std::optional<CompactAdvice> AdviseCompactTo(io::FileSystem* fs, const std::string& dir,
                                             const EngineVerdict& verdict);

}  // namespace raftlog::tools
