// DiskStorage::RepairCompactTo (disk_storage.h): moving a damaged log's
// start past damage its newest snapshot covers. The checks come before
// anything is written. A log the engine opens is checked on a read-only
// open and the damage survey (damage_survey.h), and changed by an ordinary
// compaction (Compact) under a read-write open. A log the engine refuses is
// checked and changed through compact_repair.h, under the writer's lock,
// and only when what it drops is what the engine refuses the log for.

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "raftlog/engine/compact_repair.h"
#include "raftlog/engine/damage_survey.h"
#include "raftlog/engine/disk_storage.h"
#include "raftlog/engine/log_engine.h"
#include "raftlog/engine/meta_store.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/io/file_system.h"

namespace raftlog::engine {

namespace {

// The facts the checks need.
struct LogFacts {
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  uint64_t commit = 0;
  uint64_t snapshot_index = 0;
  uint64_t snapshot_term = 0;
};

// The commit index and the newest snapshot, from the HardState and snapshot
// records (`get` reads a state record by name), into *facts.
template <typename Get>
Status ReadStateFacts(const Get& get, LogFacts* facts) {
  RAFTLOG_ASSIGN_OR_RETURN(std::optional<std::string> hs, get(format::layout::kHardStateName));
  if (hs.has_value()) {
    RAFTLOG_ASSIGN_OR_RETURN(format::HardStateRecord record, format::DecodeHardState(*hs));
    facts->commit = std::max(facts->commit, record.commit);
  }
  RAFTLOG_ASSIGN_OR_RETURN(std::optional<std::string> snap, get(format::layout::kSnapshotName));
  if (snap.has_value()) {
    RAFTLOG_ASSIGN_OR_RETURN(format::SnapshotMetaRecord record, format::DecodeSnapshotMeta(*snap));
    facts->snapshot_index = record.index;
    facts->snapshot_term = record.term;
  }
  return Status::OK();
}

// The facts from a read-only open of the engine.
Result<LogFacts> ReadFacts(LogEngine* engine) {
  LogFacts facts;
  facts.first_index = engine->FirstIndex();
  facts.last_index = engine->LastIndex();
  facts.commit = engine->recovered_commit_hint();
  RAFTLOG_RETURN_IF_ERROR(
      ReadStateFacts([engine](std::string_view name) { return engine->GetState(name); }, &facts));
  RAFTLOG_RETURN_IF_ERROR(engine->Close());
  return facts;
}

// The facts of a log the engine refuses: its range and commit hint as
// `plan` found them in the files, the state records read from meta.mdb
// (read-only).
Result<LogFacts> ReadFacts(const std::string& dir, const CompactPastPlan& plan) {
  LogFacts facts;
  facts.first_index = plan.first_index;
  facts.last_index = plan.last_index;
  facts.commit = std::min(plan.commit_hint, plan.last_index);
  MetaStore::OpenOptions options;
  options.read_only = true;
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<MetaStore> meta,
                           MetaStore::Open(io::JoinPath(dir, format::layout::kMetaFile), options));
  RAFTLOG_RETURN_IF_ERROR(ReadStateFacts(
      [&meta](std::string_view name) { return meta->Get(format::layout::StateKey(name)); },
      &facts));
  return facts;
}

void Fill(const LogFacts& facts, CompactRepair* report) {
  report->first_index = facts.first_index;
  report->last_index = facts.last_index;
  report->commit = facts.commit;
  report->snapshot_index = facts.snapshot_index;
  report->snapshot_term = facts.snapshot_term;
}

// Whether `index` may be the log's compaction point: held by the newest
// snapshot, committed, in the log.
Status CheckIndex(uint64_t index, const LogFacts& facts) {
  const std::string n = std::to_string(index);
  if (index > facts.snapshot_index) {
    const uint64_t from = std::max(facts.first_index, facts.snapshot_index + 1);
    const std::string lost =
        from == index ? "entry " + n : "entries " + std::to_string(from) + " .. " + n;
    return Status::FailedPrecondition(
        facts.snapshot_index == 0
            ? "the log has no snapshot: compacting to " + n + " would drop " + lost +
                  ", which nothing else holds"
            : n + " is beyond the newest snapshot (index " + std::to_string(facts.snapshot_index) +
                  ", term " + std::to_string(facts.snapshot_term) +
                  "): compacting to it would drop " + lost +
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
  return Status::OK();
}

// RepairCompactTo for a log the engine refuses to open (`refusal`).
Status RepairRefusedLog(const std::string& dir, uint64_t index, bool dry_run,
                        const DiskStorageOptions& options, const Status& refusal,
                        CompactRepair* report) {
  report->engine_refusal = std::string(refusal.message());
  const std::string why = "the engine refuses to open the log (" + report->engine_refusal + ")";
  io::FileSystem* fs = options.engine.file_system != nullptr ? options.engine.file_system
                                                             : io::FileSystem::Default();
  // The checks and the change under the writer's lock: the log the change
  // is made to is the one checked.
  std::optional<LogDirectoryLock> lock;
  if (!dry_run) {
    RAFTLOG_ASSIGN_OR_RETURN(LogDirectoryLock taken, LockLogDirectory(fs, dir));
    lock = std::move(taken);
  }
  auto planned = PlanCompactPast(fs, dir, index);
  if (!planned.ok()) {
    return Status::FailedPrecondition(
        why + ", and its files cannot be surveyed: " + std::string(planned.status().message()));
  }
  const CompactPastPlan& plan = *planned;
  RAFTLOG_ASSIGN_OR_RETURN(const LogFacts facts, ReadFacts(dir, plan));
  Fill(facts, report);
  RAFTLOG_RETURN_IF_ERROR(CheckIndex(index, facts));
  const std::string n = std::to_string(index);
  if (index < facts.first_index) {
    return Status::FailedPrecondition(why + "; the log already starts at " +
                                      std::to_string(facts.first_index) + ", after " + n +
                                      ", so moving its start there changes nothing");
  }
  if (!plan.refusal.empty()) return Status::FailedPrecondition(plan.refusal);
  if (!plan.Explains(refusal)) {
    return Status::FailedPrecondition(why + ", and not for damage a compaction to " + n + " drops");
  }
  // The term log/start keeps for entry `index`.
  std::optional<uint64_t> term = plan.index_term;
  if (index == facts.snapshot_index) {
    if (term.has_value() && *term != facts.snapshot_term) {
      return Status::FailedPrecondition("entry " + n + " has term " + std::to_string(*term) +
                                        " in the log but " + std::to_string(facts.snapshot_term) +
                                        " in the snapshot at that index");
    }
    term = facts.snapshot_term;
  }
  if (!term.has_value()) {
    return Status::FailedPrecondition("the term of entry " + n +
                                      " is lost with the damage; compact to the snapshot's index " +
                                      std::to_string(facts.snapshot_index) + " instead");
  }
  for (const LogDamage& d : plan.damage) {
    if (!d.torn_write) report->damage_dropped.push_back(d);
  }
  for (const format::SegmentRecord& r : plan.dropped)
    report->segments_dropped.push_back(r.segment_id);
  if (plan.rescue.has_value()) {
    report->replaced_segment = plan.rescued_from->segment_id;
    report->replacement_segment = plan.rescue->segment_id;
  }
  if (dry_run) return Status::OK();

  RAFTLOG_RETURN_IF_ERROR(ApplyCompactPast(fs, dir, plan, *term));
  report->changed = true;
  lock.reset();
  // The engine opens the log now (and removes the files the manifest no
  // longer lists, if their removal failed).
  auto storage = DiskStorage::Open(dir, options);
  if (!storage.ok()) {
    return storage.status().WithContext("the log's start was moved past " + n +
                                        ", but the engine still refuses it");
  }
  return (*storage)->Close();
}

}  // namespace

Status DiskStorage::RepairCompactTo(const std::string& dir, uint64_t index, bool dry_run,
                                    const DiskStorageOptions& options, CompactRepair* report) {
  *report = CompactRepair{};
  report->index = index;
  Options read_only = options.engine;
  read_only.read_only = true;
  read_only.create_if_missing = false;
  auto engine = LogEngine::Open(dir, read_only);
  if (!engine.ok()) {
    return RepairRefusedLog(dir, index, dry_run, options, engine.status(), report);
  }
  RAFTLOG_ASSIGN_OR_RETURN(const LogFacts facts, ReadFacts(engine->get()));
  engine->reset();
  Fill(facts, report);
  RAFTLOG_RETURN_IF_ERROR(CheckIndex(index, facts));
  const std::string n = std::to_string(index);

  io::FileSystem* fs = options.engine.file_system != nullptr ? options.engine.file_system
                                                             : io::FileSystem::Default();
  RAFTLOG_ASSIGN_OR_RETURN(const DamageSurvey survey, SurveyDamage(fs, dir));
  if (const LogDamage* d = survey.FirstReaching(index + 1)) {
    return Status::FailedPrecondition("damage reaches past " + n + ": " + DescribeLogDamage(*d) +
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
