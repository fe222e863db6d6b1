// raftlog repair DIR: cuts a torn tail off the active segment (or, with
// --truncate-at-corruption, everything from its first bad frame on), after
// saving the removed bytes to a side file (tail_cut.h). It needs the log
// closed (it takes the writer's LOCK), and it never touches sealed segments,
// the metadata or snapshots: damage there is reported with the options an
// operator has, and nothing is changed. (Except log/durable: a cut of frames
// it names as synced lowers it to the cut first.)

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "raftlog/engine/log_engine.h"
#include "raftlog/engine/segment_reader.h"
#include "raftlog/engine/segment_scan.h"
#include "raftlog/format/compression.h"
#include "raftlog/format/record.h"
#include "raftlog/io/file_system.h"
#include "tools/command.h"
#include "tools/engine_verdict.h"
#include "tools/findings.h"
#include "tools/log_checker.h"
#include "tools/log_dir.h"
#include "tools/numbers.h"
#include "tools/repair_compact.h"
#include "tools/tail_cut.h"
#include "tools/text.h"

namespace raftlog::tools {

namespace {

// Replaces the log/durable record in the LMDB file at meta_path.
Status WriteDurableRecord(const std::string& meta_path, const format::DurableRecord& record) {
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<engine::MetaStore> meta,
                           engine::MetaStore::Open(meta_path));
  engine::MetaStore::Batch batch;
  batch.Put(format::kDurableKey, format::EncodeDurableRecord(record));
  return meta->Write(batch);
}


struct RepairOptions {
  std::string dir;
  bool truncate_at_corruption = false;
  bool dry_run = false;
  uint64_t compact_to = 0;
  bool compact = false;  // --compact-to was given
};

void Say(const std::string& line) { std::printf("%s\n", line.c_str()); }

int RunRepair(const RepairOptions& opt) {
  if (opt.compact) return RunRepairCompactTo(opt.dir, opt.compact_to, opt.dry_run);
  io::FileSystem* fs = io::FileSystem::Default();
  Status s = LogDir::CheckIsLogDir(fs, opt.dir);
  if (!s.ok()) return ReportError("repair", s);

  // The writer's lock, held until we are done: no engine may open the log
  // while its tail is being cut, and we must not cut a live log's tail.
  auto lock = fs->Lock(io::JoinPath(opt.dir, kLockFile));
  if (!lock.ok()) {
    if (lock.status().IsBusy()) {
      std::fprintf(stderr,
                   "raftlog repair: %s is open by another process (its LOCK is held); stop that "
                   "process first. Nothing was changed.\n",
                   opt.dir.c_str());
      return kExitBusy;
    }
    return ReportError("repair", lock.status());
  }

  auto opened = LogDir::Open(fs, opt.dir);
  if (!opened.ok()) return ReportError("repair", opened.status());
  const LogDir& dir = **opened;
  auto meta = dir.ReadMetadata(nullptr);
  if (!meta.ok()) return ReportError("repair", meta.status());
  if (!meta->problem.ok()) return ReportError("repair", meta->problem);

  // Everything but the active segment's tail must be sound: repair cuts only
  // there, and must not hide damage elsewhere.
  // (Released before the metadata is written: one LMDB environment per
  // file in a process.)
  auto checker = std::make_unique<LogChecker>(fs, opt.dir, nullptr);
  checker->Run(/*report_engine=*/false);
  const EngineVerdict& verdict = checker->verdict();
  const format::SegmentRecord* active = nullptr;
  if (!meta->segments.empty() && meta->segments.back().state == format::SegmentState::kActive) {
    active = &meta->segments.back();
  }
  const std::string active_rel = active != nullptr ? SegmentRelPath(active->segment_id) : "";
  size_t elsewhere = 0;
  for (const Finding& f : checker->findings().all()) {
    if (f.severity != Severity::kError || (active != nullptr && f.file == active_rel)) continue;
    if (elsewhere++ == 0) {
      std::fprintf(stderr, "raftlog repair: the log is damaged where repair does not cut:\n");
    }
    std::fprintf(stderr, "%s\n", FormatFinding(f).c_str());
  }
  if (elsewhere > 0) {
    std::fprintf(stderr,
                 "raftlog repair: repair only cuts the tail of the active segment; it never "
                 "drops acknowledged entries of sealed segments, the metadata or snapshots. "
                 "Options: rebuild this member from its peers (remove it from the cluster and "
                 "add it back empty, so that raft sends it a snapshot), or restore the directory "
                 "from a backup; `raftlog dump` reads the entries before the damage. Nothing was "
                 "changed.\n");
    return kExitProblems;
  }
  if (active == nullptr) {
    Say("nothing to repair: the log has no active segment");
    return kExitOk;
  }

  const std::string path = dir.SegmentPath(active->segment_id);
  const std::string active_name = SegmentFileName(active->segment_id);
  auto reader = engine::SegmentReader::Open(fs, path, active_name);
  if (!reader.ok()) return ReportError("repair", reader.status());
  format::Decompressor decompressor;
  std::string scratch;
  // The scan recovery makes (segment_scan.h), every payload checked too.
  // (Term order across segments was checked above, by the checker.)
  engine::ScanOptions scan_options;
  scan_options.on_frame = [&](const format::FrameView& frame, uint64_t) {
    return engine::CheckFramePayload(frame, &decompressor, &scratch);
  };
  auto scan = engine::ScanSegment(reader->get(), *active, scan_options);
  if (!scan.ok()) return ReportError("repair", scan.status());
  if (scan->refused()) {
    std::fprintf(stderr,
                 "raftlog repair: %s; that is not a tail repair can cut: rebuild this member "
                 "from its peers or restore the directory from a backup. Nothing was changed.\n",
                 std::string(scan->refusal.message()).c_str());
    return kExitProblems;
  }
  const bool torn_tail = scan->finding == engine::SegmentFinding::kTornWrite;
  const bool corrupt = scan->finding == engine::SegmentFinding::kLostAcknowledged;
  const std::string bad_what = DamageWhat(*scan, active_name);

  if (!scan->damaged() && (verdict.refused() || verdict.committed_missing() > 0)) {
    std::fprintf(stderr,
                 "raftlog repair: %s ends cleanly, but %s; that is not a tail repair can cut: "
                 "rebuild this member from its peers or restore the directory from a backup. "
                 "Nothing was changed.\n",
                 active_rel.c_str(),
                 verdict.refused()
                     ? ("the engine refuses to open the log: " +
                        std::string(verdict.open_status.message()))
                           .c_str()
                     : verdict.CommittedMissingText().c_str());
    return kExitProblems;
  }
  if (!scan->damaged()) {
    Say("nothing to repair: " + active_rel + " ends cleanly at offset " +
        std::to_string(scan->good_end) + " (last index " + std::to_string(scan->last_index) + ")" +
        (scan->finding == engine::SegmentFinding::kUnfinishedSeal ? "; a footer follows it (an interrupted seal, which the engine "
                                 "finishes on its next open)"
                               : ""));
    return kExitOk;
  }
  const uint64_t from = scan->damage_offset;
  const uint64_t to = scan->damage_end;
  const std::string where = active_rel + " at offset " + std::to_string(from);
  // The engine's verdict decides what is a torn tail: repair cuts no more
  // than the engine's own recovery would, unless told to.
  const bool engine_cuts_same = !verdict.refused() && !verdict.nothing_cut &&
                                torn_tail && verdict.last_index == scan->last_index;
  const bool committed_cut = meta->hard_state.has_value() &&
                             meta->hard_state->commit > std::max(scan->last_index,
                                                                 verdict.snapshot_index);
  if (!opt.truncate_at_corruption && (!engine_cuts_same || committed_cut)) {
    std::string why;
    if (corrupt) {
      why = bad_what + ", followed by " + std::to_string(scan->valid_frames_after) +
            " valid frame(s) from offset " + std::to_string(*scan->valid_after) +
            ": acknowledged entries after index " + std::to_string(scan->last_index) +
            " are behind the damage";
    } else if (verdict.refused()) {
      why = bad_what + "; the engine refuses to open the log: " +
            std::string(verdict.open_status.message());
    } else if (committed_cut) {
      why = bad_what + "; cutting here would end the log at index " +
            std::to_string(scan->last_index) + ", below the HardState's commit index " +
            std::to_string(meta->hard_state->commit) + ": committed entries are gone";
    } else {
      why = bad_what + "; the engine's recovery would end the log at index " +
            std::to_string(verdict.last_index) + ", this scan at " +
            std::to_string(scan->last_index);
    }
    std::fprintf(stderr,
                 "raftlog repair: %s: %s. This is not a torn write the engine would cut by "
                 "itself; cutting here would drop acknowledged entries. Rerun with "
                 "--truncate-at-corruption to cut anyway (for logs written with "
                 "SyncPolicy::kNever/kInterval, or whose peers hold those entries). Nothing was "
                 "changed.\n",
                 where.c_str(), why.c_str());
    return kExitProblems;
  }

  Say(std::string(torn_tail ? "torn write" : "corrupt frame") + " at " + where + ": " +
      bad_what);
  Say("cut: " + active_rel + " bytes [" + std::to_string(from) + ", " + std::to_string(to) + ") (" +
      std::to_string(to - from) + " bytes, " + HumanBytes(to - from) + ")" +
      (corrupt ? ", including " + std::to_string(scan->valid_frames_after) +
                             " valid frame(s) from offset " + std::to_string(*scan->valid_after)
                       : std::string(", no valid frame among them")));
  Say("the log will end at index " + std::to_string(scan->last_index) + " (" +
      std::to_string(scan->good_frames) + " good frame(s) kept in " + active_rel + ")");
  if (meta->hard_state.has_value() && meta->hard_state->commit > scan->last_index) {
    Say("warning: the HardState's commit index " + std::to_string(meta->hard_state->commit) +
        " is above the new last index: committed entries are cut, and this member must get them "
        "back from its peers (raft does, while a quorum of them holds them)");
  }
  if (opt.dry_run) {
    Say("dry run: nothing was changed");
    return kExitOk;
  }
  const std::string side_name = SideFileName(SegmentFileName(active->segment_id));
  const std::string side_path = dir.Path(side_name);
  const std::string meta_path = dir.Path(kMetaFile);
  reader->reset();
  checker.reset();
  opened->reset();  // `dir` is gone from here on
  if (meta->durable.has_value() && meta->durable->segment_id == active->segment_id &&
      meta->durable->durable_offset > scan->good_end) {
    // The durable-progress record names the frames being cut as synced, and
    // the engine would refuse the cut log. Lower it to the cut first: if
    // repair stops before the cut, the engine judges the tail by the
    // torn-tail rules and repair can run again.
    format::DurableRecord lowered;  // claims nothing if no frame is kept
    if (scan->good_frames > 0) {
      lowered = format::DurableRecord{active->segment_id, active->generation, scan->good_end,
                                      scan->last_index};
    }
    s = WriteDurableRecord(meta_path, lowered);
    if (!s.ok()) return ReportError("repair", s.WithContext("lowering log/durable"));
    Say("lowered " + std::string(format::kDurableKey) + " from offset " +
        std::to_string(meta->durable->durable_offset) + " (index " +
        std::to_string(meta->durable->last_index) + ") to the cut");
  }
  s = SaveAndZero(fs, opt.dir, path, from, to, side_path);
  if (!s.ok()) {
    ReportError("repair", s);
    std::fprintf(stderr, "raftlog repair: the cut did not complete; run repair again\n");
    return kExitCannotOpen;
  }
  Say("saved the removed bytes to " + side_path);
  Say("zeroed them in " + active_rel + " and synced it");

  // The engine must now open the log (read-only, as we still hold the
  // lock).
  engine::Options options;
  options.read_only = true;
  options.create_if_missing = false;
  auto engine = engine::LogEngine::Open(opt.dir, options);
  if (!engine.ok()) return ReportError("repair", engine.status().WithContext("after the cut"));
  Say("the engine opens the log: entries " + std::to_string((*engine)->FirstIndex()) + " .. " +
      std::to_string((*engine)->LastIndex()));
  return kExitOk;
}

}  // namespace

Command AddRepairCommand(CLI::App* root) {
  auto opt = std::make_shared<RepairOptions>();
  CLI::App* app = root->add_subcommand(
      "repair",
      "Cut a torn write off the end of the log (the active segment), after saving the removed "
      "bytes to DIR/repair-<time>-<segment>.cut; print exactly what was cut. With "
      "--truncate-at-corruption, cut at the first corrupt frame even if valid frames follow. "
      "Needs the log closed (refuses with exit 4 if it is open). Never changes sealed segments "
      "or snapshots; of the metadata only the durable-progress record (log/durable), lowered to "
      "the cut. With --compact-to N: move the start of a log whose damage lies wholly in "
      "entries up to N (covered by the newest snapshot) to N, as a compaction does.");
  app->add_option("DIR", opt->dir, "The log directory")->required();
  CLI::Option* truncate =
      app->add_flag("--truncate-at-corruption", opt->truncate_at_corruption,
                    "Also cut when valid frames follow the first bad one (drops them)");
  CLI::Option* compact =
      app->add_option("--compact-to", opt->compact_to,
                      "Instead of cutting a tail: move the log's start past damage that lies "
                      "wholly in entries up to N (pass the newest snapshot's index), as a "
                      "compaction to N does, so the log opens with every entry after N; "
                      "refused, changing nothing, if N is beyond the newest snapshot, the commit "
                      "index or the last entry, or any damage reaches past N")
          ->transform(WholeNumber(1));
  compact->excludes(truncate);
  app->add_flag("--dry-run", opt->dry_run, "Say what would be cut, change nothing");
  return Command{app, [opt, compact] {
                   opt->compact = compact->count() > 0;
                   return RunRepair(*opt);
                 }};
}

}  // namespace raftlog::tools
