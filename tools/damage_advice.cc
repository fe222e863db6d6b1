#include "tools/damage_advice.h"

#include <algorithm>

#include "raftlog/engine/disk_storage.h"

namespace raftlog::tools {

std::optional<CompactAdvice> AdviseCompactTo(io::FileSystem* fs, const std::string& dir,
                                             uint64_t snapshot_index) {
  const uint64_t s = snapshot_index;
  if (s == 0) return std::nullopt;
  engine::DiskStorageOptions options;
  options.engine.file_system = fs;
  options.engine.create_if_missing = false;
  engine::CompactRepair report;
  if (!engine::DiskStorage::RepairCompactTo(dir, s, /*dry_run=*/true, options, &report).ok()) {
    return std::nullopt;
  }
  CompactAdvice advice;
  advice.snapshot_index = s;
  advice.engine_refuses = !report.engine_refusal.empty();
  for (const engine::LogDamage& d : report.damage_dropped) {
    if (d.reach() < report.first_index) continue;  // compacted already
    const uint64_t from = std::max(d.from(), report.first_index);
    advice.first_index = advice.first_index == 0 ? from : std::min(advice.first_index, from);
    advice.last_index = std::max(advice.last_index, std::min(d.reach(), s));
    if (std::find(advice.files.begin(), advice.files.end(), d.file) == advice.files.end()) {
      advice.files.push_back(d.file);
    }
  }
  if (advice.first_index == 0) return std::nullopt;  // no live damage
  const std::string si = std::to_string(s);
  advice.text = "damage in entries " + std::to_string(advice.first_index) + " .. " +
                std::to_string(advice.last_index) + ", all covered by the snapshot at index " + si +
                ": nothing after it is lost. Stop the member and run `raftlog repair " +
                "--compact-to " + si + " DIR` (`--dry-run` first), which drops the entries up to " +
                si + " as a compaction does, so that the log opens and reads again";
  return advice;
}

}  // namespace raftlog::tools
