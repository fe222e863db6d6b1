// raftlog repair --compact-to N DIR: moves a damaged log's start past
// damage that lies wholly in entries up to N (the newest snapshot's index),
// also in a log the engine refuses to open for that damage, through the
// library's DiskStorage::RepairCompactTo, which checks everything first and
// changes nothing when it refuses; then confirms that the engine opens the
// log and reads back every entry after N.

#include "tools/repair_compact.h"

#include <cstdio>
#include <string>

#include "raftlog/engine/damage_survey.h"
#include "raftlog/engine/disk_storage.h"
#include "raftlog/engine/log_engine.h"
#include "tools/command.h"
#include "tools/log_dir.h"

namespace raftlog::tools {

namespace {

void Say(const std::string& line) { std::printf("%s\n", line.c_str()); }

std::string Range(uint64_t first, uint64_t last) {
  return first > last ? std::string("none") : std::to_string(first) + " .. " + std::to_string(last);
}

}  // namespace

int RunRepairCompactTo(const std::string& dir, uint64_t index, bool dry_run) {
  io::FileSystem* fs = io::FileSystem::Default();
  Status s = LogDir::CheckIsLogDir(fs, dir);
  if (!s.ok()) return ReportError("repair", s);
  engine::DiskStorageOptions options;
  options.engine.create_if_missing = false;
  engine::CompactRepair report;
  s = engine::DiskStorage::RepairCompactTo(dir, index, dry_run, options, &report);
  if (s.IsBusy()) {
    std::fprintf(stderr,
                 "raftlog repair: %s is open by another process (its LOCK is held); stop that "
                 "process first. Nothing was changed.\n",
                 dir.c_str());
    return kExitBusy;
  }
  if (s.IsFailedPrecondition()) {
    std::fprintf(stderr, "raftlog repair: --compact-to %llu refused: %s. Nothing was changed.\n",
                 static_cast<unsigned long long>(index), std::string(s.message()).c_str());
    return kExitProblems;
  }
  if (!s.ok()) return ReportError("repair", s);

  if (!report.engine_refusal.empty()) {
    Say("the engine refuses to open the log: " + report.engine_refusal);
  }
  Say("the log: entries " + Range(report.first_index, report.last_index) + ", commit index " +
      std::to_string(report.commit) + ", newest snapshot at index " +
      std::to_string(report.snapshot_index) + " (term " + std::to_string(report.snapshot_term) +
      ")");
  if (index < report.first_index) {
    Say("nothing to do: the log already starts at index " + std::to_string(report.first_index) +
        ", after " + std::to_string(index));
    return kExitOk;
  }
  if (report.damage_dropped.empty()) {
    Say("no damage found: this is an ordinary compaction to " + std::to_string(index));
  } else {
    Say("damage, all of it in entries up to " + std::to_string(index) +
        " (which the snapshot holds), dropped with them:");
    for (const engine::LogDamage& d : report.damage_dropped) {
      Say("  " + engine::DescribeLogDamage(d));
    }
  }
  for (uint64_t id : report.segments_dropped) Say("segment removed: " + SegmentRelPath(id));
  if (report.replacement_segment != 0) {
    Say("the damaged active segment " + SegmentRelPath(report.replaced_segment) + ": its entries " +
        Range(index + 1, report.last_index) + " copied into the sealed " + "segment " +
        SegmentRelPath(report.replacement_segment) + ", which replaces it");
  }
  Say("the log will start at index " + std::to_string(index + 1) + " (compaction point " +
      std::to_string(index) + ") and end at " + std::to_string(report.last_index));
  if (dry_run) {
    Say("dry run: nothing was changed");
    return kExitOk;
  }
  Say("moved the log's start (a compaction to " + std::to_string(index) + ")");

  // The engine must open the log now and serve every entry after `index`.
  engine::Options engine_options;
  engine_options.read_only = true;
  engine_options.create_if_missing = false;
  auto engine = engine::LogEngine::Open(dir, engine_options);
  if (!engine.ok()) return ReportError("repair", engine.status().WithContext("after the repair"));
  const uint64_t first = (*engine)->FirstIndex(), last = (*engine)->LastIndex();
  uint64_t read = 0;
  s = (*engine)->Read(first, last + 1, [&read](const format::EntryView&) {
    ++read;
    return true;
  });
  if (!s.ok()) return ReportError("repair", s.WithContext("reading the log back after the repair"));
  Say("the engine opens the log and reads back every entry: " + Range(first, last) + " (" +
      std::to_string(read) + " entries)");
  return kExitOk;
}

}  // namespace raftlog::tools
