// raftlog repair --compact-to (repair_compact.cc): moving a damaged log's
// start past damage its newest snapshot covers.

#pragma once

#include <cstdint>
#include <string>

namespace raftlog::tools {

// Runs `raftlog repair --compact-to index [--dry-run] dir`; returns the exit
// code.
int RunRepairCompactTo(const std::string& dir, uint64_t index, bool dry_run);

}  // namespace raftlog::tools
