// Hints and helpers the parts of LogChecker share (log_checker.cc: metadata
// and segments; log_checker_files.cc: unlisted files and snapshots;
// log_checker_engine.cc: the engine's verdict and cross-checks).

#pragma once

#include <string>
#include <string_view>

namespace raftlog::tools::checker_internal {

inline constexpr std::string_view kRestoreHint =
    "the log has lost acknowledged data: rebuild this member from its peers (remove it from the "
    "cluster and add it back empty, so that raft sends it a snapshot) or restore the directory "
    "from a backup; `raftlog dump` can still read the entries before the damage";
inline constexpr std::string_view kRepairTailHint =
    "the engine cuts it on its next read-write open; `raftlog repair` cuts it now and keeps the "
    "removed bytes in a side file";
inline constexpr std::string_view kRepairCorruptHint =
    "the engine refuses to open the log; if the entries after this point may be dropped (e.g. "
    "the log was written with SyncPolicy::kNever, or peers hold them), `raftlog repair "
    "--truncate-at-corruption` cuts the segment here and keeps the removed bytes in a side file; "
    "otherwise rebuild this member from its peers";
inline constexpr std::string_view kStrayHint =
    "not part of the log; the engine deletes it on its next read-write open";


// "<dir>/<name>"
inline std::string Rel(std::string_view dir, std::string_view name) {
  return std::string(dir) + "/" + std::string(name);
}

}  // namespace raftlog::tools::checker_internal
