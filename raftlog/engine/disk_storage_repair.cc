// DiskStorage::RepairCompactTo (disk_storage.h): moving a damaged log's
// start past damage its newest snapshot covers. The checks are made on a
// read-only open and the damage survey (damage_survey.h) before anything is
// written; the change itself is an ordinary compaction (Compact), made by a
// read-write open that holds the writer's lock.

#include <algorithm>
#include <memory>
#include <utility>

#include "raftlog/engine/damage_survey.h"
#include "raftlog/engine/disk_storage.h"
#include "raftlog/engine/log_engine.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/io/file_system.h"

namespace raftlog::engine {

namespace {

// The facts the checks need, from a read-only open of the engine.
struct LogFacts {
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  uint64_t commit = 0;
  uint64_t snapshot_index = 0;
  uint64_t snapshot_term = 0;
};

Result<LogFacts> ReadFacts(const std::string& dir, const Options& engine_options) {
  Options options = engine_options;
  options.read_only = true;
  options.create_if_missing = false;
  auto engine = LogEngine::Open(dir, options);
  if (!engine.ok()) {
    return Status::FailedPrecondition(
        "the engine refuses to open the log, so its start cannot be moved (a compaction needs an "
        "open log): " +
        std::string(engine.status().message()));
  }
  LogFacts facts;
  facts.first_index = (*engine)->FirstIndex();
  facts.last_index = (*engine)->LastIndex();
  facts.commit = (*engine)->recovered_commit_hint();
  RAFTLOG_ASSIGN_OR_RETURN(auto hs, (*engine)->GetState(format::layout::kHardStateName));
  if (hs.has_value()) {
    RAFTLOG_ASSIGN_OR_RETURN(format::HardStateRecord record, format::DecodeHardState(*hs));
    facts.commit = std::max(facts.commit, record.commit);
  }
  RAFTLOG_ASSIGN_OR_RETURN(auto snap, (*engine)->GetState(format::layout::kSnapshotName));
  if (snap.has_value()) {
    RAFTLOG_ASSIGN_OR_RETURN(format::SnapshotMetaRecord record, format::DecodeSnapshotMeta(*snap));
    facts.snapshot_index = record.index;
    facts.snapshot_term = record.term;
  }
  RAFTLOG_RETURN_IF_ERROR((*engine)->Close());
  return facts;
}

}  // namespace

Status DiskStorage::RepairCompactTo(const std::string& dir, uint64_t index, bool dry_run,
                                    const DiskStorageOptions& options, CompactRepair* report) {
  *report = CompactRepair{};
  report->index = index;
  RAFTLOG_ASSIGN_OR_RETURN(const LogFacts facts, ReadFacts(dir, options.engine));
  report->first_index = facts.first_index;
  report->last_index = facts.last_index;
  report->commit = facts.commit;
  report->snapshot_index = facts.snapshot_index;
  report->snapshot_term = facts.snapshot_term;
  const std::string n = std::to_string(index);

  if (index > facts.snapshot_index) {
    const std::string lost = std::max(facts.first_index, facts.snapshot_index + 1) == index
                                 ? "entry " + n
                                 : "entries " +
                                       std::to_string(std::max(facts.first_index,
                                                               facts.snapshot_index + 1)) +
                                       " .. " + n;
    return Status::FailedPrecondition(
        facts.snapshot_index == 0
            ? "the log has no snapshot: compacting to " + n + " would drop " + lost +
                  ", which nothing else holds"
            : n + " is beyond the newest snapshot (index " +
                  std::to_string(facts.snapshot_index) + ", term " +
                  std::to_string(facts.snapshot_term) + "): compacting to it would drop " + lost +
                  ", which no snapshot holds; the furthest the start can move is " +
                  std::to_string(facts.snapshot_index));
  }
  if (index > facts.commit) {
    return Status::FailedPrecondition(n + " is beyond the commit index " +
                                      std::to_string(facts.commit));
  }
  if (index > facts.last_index) {
    return Status::FailedPrecondition(n + " is beyond the log's last entry " +
                                      std::to_string(facts.last_index));
  }

  io::FileSystem* fs = options.engine.file_system != nullptr
                             ? options.engine.file_system
                             : io::FileSystem::Default();
  RAFTLOG_ASSIGN_OR_RETURN(const DamageSurvey survey, SurveyDamage(fs, dir));
  if (const LogDamage* d = survey.FirstReaching(index + 1)) {
    return Status::FailedPrecondition(
        "damage reaches past " + n + ": " + DescribeLogDamage(*d) +
        "; moving the log's start to " + n + " would not repair it");
  }
  for (const LogDamage& d : survey.damage) {
    if (!d.torn_write) report->damage_dropped.push_back(d);
  }
  for (const format::SegmentRecord& r : survey.segments) {
    if (r.state == format::SegmentState::kSealed && r.last_index <= index) {
      report->segments_dropped.push_back(r.segment_id);
    }
  }
  if (index < facts.first_index || dry_run) return Status::OK();

  // The change: a compaction, under the writer's lock. The log must be the
  // one the checks saw.
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<DiskStorage> storage, Open(dir, options));
  const uint64_t first = storage->engine().FirstIndex();
  const uint64_t last = storage->engine().LastIndex();
  if (first != facts.first_index || last < index) {
    return Status::FailedPrecondition("the log changed while it was checked (entries " +
                                      std::to_string(first) + " .. " + std::to_string(last) +
                                      "); nothing was changed");
  }
  RAFTLOG_RETURN_IF_ERROR(storage->Compact(index));
  report->changed = true;
  return storage->Close();
}

}  // namespace raftlog::engine
