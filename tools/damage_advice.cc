#include "tools/damage_advice.h"

#include <algorithm>

#include "raftlog/engine/damage_survey.h"

namespace raftlog::tools {

std::optional<CompactAdvice> AdviseCompactTo(io::FileSystem* fs, const std::string& dir,
                                             const EngineVerdict& verdict) {
  const uint64_t s = verdict.snapshot_index;
  if (verdict.refused() || s == 0 || s > verdict.last_index) return std::nullopt;
  if (verdict.stored_commit.has_value() && s > *verdict.stored_commit) return std::nullopt;
  auto survey = engine::SurveyDamage(fs, dir);
  if (!survey.ok() || survey->FirstReaching(s + 1) != nullptr) return std::nullopt;
  CompactAdvice advice;
  advice.snapshot_index = s;
  for (const engine::LogDamage& d : survey->damage) {
    if (d.torn_write || d.reach() < survey->first_index) continue;
    const uint64_t from = std::max(d.from(), survey->first_index);
    advice.first_index = advice.first_index == 0 ? from : std::min(advice.first_index, from);
    advice.last_index = std::max(advice.last_index, d.reach());
  }
  if (advice.first_index == 0) return std::nullopt;  // no live damage
  const std::string si = std::to_string(s);
  advice.text = "damage in entries " + std::to_string(advice.first_index) + " .. " +
                std::to_string(advice.last_index) + ", all covered by the snapshot at index " +
                si + ": nothing after it is lost. Stop the member and run `raftlog repair " +
                "--compact-to " + si + " DIR` (`--dry-run` first), which drops the entries up to " +
                si + " as a compaction does, so that the log opens and reads again";
  return advice;
}

}  // namespace raftlog::tools
