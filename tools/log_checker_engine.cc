// LogChecker's cross-checks: the metadata against the entries, and the
// engine's own verdict (engine_verdict.h) against what the check found.

#include <algorithm>
#include <string>

#include "tools/engine_verdict.h"
#include "tools/log_checker.h"
#include "tools/log_checker_hints.h"

namespace raftlog::tools {

using namespace checker_internal;  // NOLINT: the shared hints

// --- cross-structure --------------------------------------------------------------

void LogChecker::CheckTogether() {
  const LogMetadata& m = *meta_;
  if (!m.first_index.has_value() || !summary_.last_index.has_value()) return;
  const uint64_t first = *m.first_index;
  const std::string meta_file(kMetaFile);
  if (m.hard_state.has_value()) {
    // A warning, not an error: the storage API lets a caller Append entries
    // of a new term and then SetHardState, so a crash between the two leaves
    // exactly this, and the engine opens it (raft learns the term again).
    if (max_entry_term_ > m.hard_state->term) {
      findings_.Add(Severity::kWarning, meta_file, std::nullopt,
                    "key state/hardstate: term " + std::to_string(m.hard_state->term) +
                        " is older than entries on disk (term " + std::to_string(max_entry_term_) +
                        ")",
                    "a crash between an Append of a new term's entries and the SetHardState "
                    "after it leaves this, and the node restarts; DiskStorage::Save writes the "
                    "HardState first, so with Save alone it means the HardState write was lost");
    }
    // The commit index against the entries is judged on the engine's view
    // (ReportEngineVerdict): the two are read in one open there.
  }
  if (m.snapshot.has_value() && m.snapshot->index + 1 < first) {
    findings_.Add(Severity::kWarning, meta_file, std::nullopt,
                  "the log is compacted to index " + std::to_string(first - 1) +
                      ", past the latest snapshot (index " + std::to_string(m.snapshot->index) +
                      "): entries " + std::to_string(m.snapshot->index + 1) + " .. " +
                      std::to_string(first - 1) + " are kept nowhere",
                  "a follower that needs them cannot catch up until a newer snapshot is taken");
  }
}

void LogChecker::ReportEngineVerdict() {
  const EngineVerdict& v = verdict_;
  summary_.engine_checked = true;
  if (v.refused()) {
    findings_.Add(Severity::kError, "", std::nullopt,
                  "the engine refuses to open the log: " + std::string(v.open_status.message()),
                  v.open_status.IsCorruption() ? std::string(kRestoreHint) : std::string());
    return;
  }
  if (v.committed_missing() > 0) {
    findings_.Add(Severity::kError, std::string(kMetaFile), std::nullopt,
                  "key state/hardstate: " + v.CommittedMissingText(),
                  "acknowledged entries are lost (a truncated or overwritten segment, or a "
                  "metadata file from another time): rebuild this member from its peers or "
                  "restore the directory from a backup. Only a crash between a Ready's HardState "
                  "and its entries leaves a commit index above the log's end legitimately, and "
                  "then by at most that Ready's entries");
  }
  const std::string active = meta_.has_value() && !meta_->segments.empty()
                                 ? SegmentRelPath(meta_->segments.back().segment_id)
                                 : std::string();
  if (!v.nothing_cut) {
    const bool reported = std::any_of(findings_.all().begin(), findings_.all().end(),
                                      [&](const Finding& f) { return f.file == active; });
    if (!reported) {
      findings_.Add(Severity::kWarning, active, std::nullopt,
                    "the engine cuts a torn write of " + std::to_string(v.stats.torn_tail_bytes) +
                        " bytes at the end of the log on its next open (the log then ends at "
                        "index " +
                        std::to_string(v.last_index) + ")",
                    std::string(kRepairTailHint));
    }
  }
  if (!summary_.first_index.has_value() || !summary_.last_index.has_value()) return;
  // The check read the metadata after the engine's open: beside a live
  // writer it may see a later compaction point and more entries (progress),
  // never an earlier start or, on a log at rest, fewer or more entries.
  const uint64_t first = *summary_.first_index;
  const uint64_t last = *summary_.last_index;
  const bool fewer = last < v.last_index;
  const bool more = last > v.last_index && !v.clean();
  if (v.first_index > first || (findings_.errors() == 0 && (fewer || more))) {
    findings_.Add(Severity::kError, "", std::nullopt,
                  "the engine serves entries " + std::to_string(v.first_index) + " .. " +
                      std::to_string(v.last_index) + ", the segment files hold " +
                      std::to_string(first) + " .. " + std::to_string(last) +
                      (more ? ": the engine would drop " + std::to_string(last - v.last_index) +
                                  " entries that this check found valid"
                            : ""),
                  std::string(kRestoreHint));
  }
}

}  // namespace raftlog::tools
