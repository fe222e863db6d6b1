#include "raftlog/engine/compact_repair.h"

#include <algorithm>
#include <utility>

#include "raftlog/engine/dir_scan.h"
#include "raftlog/engine/internal/sealed_segment_writer.h"
#include "raftlog/engine/meta_store.h"
#include "raftlog/engine/salvage_scan.h"
#include "raftlog/engine/sealed_scan.h"
#include "raftlog/engine/segment_reader.h"
#include "raftlog/engine/segment_scan.h"
#include "raftlog/format/compression.h"
#include "raftlog/format/layout.h"

namespace raftlog::engine {

namespace layout = format::layout;

namespace {

// Raw payload per frame of a rescue segment (as a compressed rewrite's).
constexpr uint64_t kRescueFrameBytes = 64u << 10;

// The term of `index` by a sealed record's term runs, if they cover it.
std::optional<uint64_t> TermFromRecord(const format::SegmentRecord& r, uint64_t index) {
  if (index < r.base_index || index > r.last_index || r.term_runs.empty() ||
      r.term_runs.front().first_index > index) {
    return std::nullopt;
  }
  uint64_t term = 0;
  for (const format::TermRun& run : r.term_runs) {
    if (run.first_index > index) break;
    term = run.term;
  }
  return term;
}

// A frame the salvage walk of the active segment delivered.
struct GoodFrame {
  uint64_t offset = 0;
  uint64_t first_index = 0;
  uint64_t end_index = 0;  // one past its last entry
  uint64_t term = 0;
};

// The salvage walk of the active segment `record`, with every payload
// checked as a read would, and `fn` (may be empty) called for each
// delivered frame after that check.
Result<SalvageScan> WalkActive(
    io::FileSystem* fs, const std::string& dir, const format::SegmentRecord& record,
    uint64_t min_term, const std::optional<format::DurableRecord>& durable,
    const std::function<Status(const format::FrameView&, uint64_t, SegmentReader*)>& fn) {
  const std::string rel = format::SegmentRecordRelPath(record);
  RAFTLOG_ASSIGN_OR_RETURN(auto reader, SegmentReader::Open(fs, io::JoinPath(dir, rel), rel));
  format::Decompressor decompressor;
  std::string scratch;
  SalvageOptions options;
  options.min_term = min_term;
  if (durable.has_value() && durable->segment_id == record.segment_id &&
      durable->generation == record.generation) {
    options.durable_offset = durable->durable_offset;
  }
  options.on_frame = [&](const format::FrameView& f, uint64_t offset) {
    RAFTLOG_RETURN_IF_ERROR(CheckFramePayload(f, &decompressor, &scratch));
    return fn ? fn(f, offset, reader.get()) : Status::OK();
  };
  return SalvageSegment(reader.get(), record, options);
}

// Works out the active segment's part of the plan: its damage, bounded by
// the salvage walk where it can be, its last entry and commit hint, the
// term of plan->index if it lies there, and whether it is dropped or
// rescued.
Status PlanActive(io::FileSystem* fs, const std::string& dir, const format::SegmentRecord& record,
                  uint64_t min_term, const DamageSurvey& survey, CompactPastPlan* plan) {
  const std::string rel = format::SegmentRecordRelPath(record);
  RAFTLOG_ASSIGN_OR_RETURN(auto reader, SegmentReader::Open(fs, io::JoinPath(dir, rel), rel));
  ScanOptions scan_options;
  scan_options.min_term = min_term;
  RAFTLOG_ASSIGN_OR_RETURN(const SegmentScan scan, ScanSegment(reader.get(), record, scan_options));
  reader.reset();

  std::vector<GoodFrame> frames;
  RAFTLOG_ASSIGN_OR_RETURN(
      const SalvageScan walk,
      WalkActive(fs, dir, record, min_term, survey.durable,
                 [&](const format::FrameView& f, uint64_t offset, SegmentReader*) {
                   frames.push_back(GoodFrame{offset, f.header.first_index, f.header.end_index(),
                                              f.header.term});
                   plan->commit_hint = std::max(plan->commit_hint, f.header.commit);
                   return Status::OK();
                 }));
  plan->last_index = walk.last_index;

  // What the salvage walk can bound: damage between frames it reads past.
  // A file cut short, too short for a header or of a newer format is not
  // walked past (the entries after the cut are unknown): as surveyed.
  const bool bounded = scan.finding == SegmentFinding::kLostAcknowledged ||
                       scan.finding == SegmentFinding::kOutOfSequence ||
                       scan.finding == SegmentFinding::kHeaderMismatch ||
                       scan.finding == SegmentFinding::kTornWrite;
  bool damaged = false;
  if (bounded) {
    plan->damage.erase(
        std::remove_if(plan->damage.begin(), plan->damage.end(),
                       [&](const LogDamage& d) { return d.segment_id == record.segment_id; }),
        plan->damage.end());
    for (const SalvageGap& gap : walk.gaps) {
      LogDamage d;
      d.segment_id = record.segment_id;
      d.file = rel;
      d.offset = gap.offset;
      d.what = gap.what;
      d.segment_first = record.base_index;
      d.segment_last = UINT64_MAX;
      d.torn_write = gap.torn_write;
      d.first_index = gap.first_index;
      d.last_index = gap.last_index;
      const bool frame_after = std::any_of(
          frames.begin(), frames.end(), [&](const GoodFrame& f) { return f.offset > gap.offset; });
      if (!gap.torn_write && gap.first_index == 0 && frame_after) {
        // Bytes that are not the log's between two frames that are
        // consecutive (a stale frame): no entry is lost with them.
        d.what += " (it costs no entry: the frames around it hold consecutive entries)";
        d.segment_first = d.segment_last = 0;
      }
      damaged = damaged || !gap.torn_write;
      plan->damage.push_back(std::move(d));
    }
  }

  for (const GoodFrame& f : frames) {
    if (f.first_index <= plan->index && plan->index < f.end_index) plan->index_term = f.term;
  }
  if (!plan->index_term.has_value()) {
    // In a gap: known if the frames on both sides have one term.
    const GoodFrame* before = nullptr;
    const GoodFrame* after = nullptr;
    for (const GoodFrame& f : frames) {
      if (f.end_index <= plan->index) before = &f;
      if (f.first_index > plan->index && after == nullptr) after = &f;
    }
    if (before != nullptr && after != nullptr && before->term == after->term) {
      plan->index_term = before->term;
    }
  }

  // Kept as it is (damage the walk cannot bound stays unbounded: refused).
  if (!damaged) return Status::OK();
  plan->active_min_term = min_term;
  plan->durable = survey.durable;
  // An unlisted successor (a roll whose seal never committed) holds the
  // entries after this segment's: they would have to move too.
  RAFTLOG_ASSIGN_OR_RETURN(
      SpareHeaders spares,
      FindSuccessor(fs, io::JoinPath(dir, layout::kSegmentsDir), survey.next_segment_id,
                    record.generation, walk.last_index + 1));
  if (spares.successor.has_value()) {
    plan->refusal = layout::SegmentRelPath(spares.successor->segment_id) +
                    " continues the damaged active segment " + rel +
                    " (a roll whose seal never committed); its entries cannot be moved with it";
    return Status::OK();
  }
  if (walk.last_index <= plan->index) {
    plan->dropped.push_back(record);
    return Status::OK();
  }
  plan->rescued_from = record;
  format::SegmentRecord rescue;
  rescue.base_index = plan->index + 1;
  rescue.generation = survey.generation;
  rescue.state = format::SegmentState::kSealed;
  rescue.last_index = walk.last_index;
  // A new id no file has: past the next id and any spare's.
  rescue.segment_id = survey.next_segment_id;
  RAFTLOG_ASSIGN_OR_RETURN(const std::vector<std::string> names,
                           fs->ListDir(io::JoinPath(dir, layout::kSegmentsDir)));
  for (const std::string& name : names) {
    std::string_view base = name;
    if (layout::IsTempName(base)) base.remove_suffix(layout::kTempSuffix.size());
    if (auto id = layout::ParseSegmentFileName(base)) {
      rescue.segment_id = std::max(rescue.segment_id, *id + 1);
    }
    if (auto z = layout::ParseCompressedSegmentFileName(base)) {
      rescue.segment_id = std::max(rescue.segment_id, z->id + 1);
    }
  }
  plan->rescue = rescue;
  return Status::OK();
}

}  // namespace

const LogDamage* CompactPastPlan::FirstReaching(uint64_t at) const {
  for (const LogDamage& d : damage) {
    if (!d.torn_write && d.reach() >= at) return &d;
  }
  return nullptr;
}

bool CompactPastPlan::Explains(const Status& error) const {
  const std::string message(error.message());
  auto named = [&](const format::SegmentRecord& r) {
    return message.find(format::SegmentRecordFileName(r)) != std::string::npos;
  };
  return std::any_of(dropped.begin(), dropped.end(), named) ||
         (rescued_from.has_value() && named(*rescued_from));
}

Result<CompactPastPlan> PlanCompactPast(io::FileSystem* fs, const std::string& dir,
                                        uint64_t index) {
  RAFTLOG_ASSIGN_OR_RETURN(const DamageSurvey survey, SurveyDamage(fs, dir));
  CompactPastPlan plan;
  plan.index = index;
  plan.first_index = survey.first_index;
  plan.last_index = survey.first_index - 1;
  plan.damage = survey.damage;
  if (index + 1 == survey.first_index) plan.index_term = survey.prev_term;
  uint64_t last_term = 0;
  for (const format::SegmentRecord& r : survey.segments) {
    if (r.state != format::SegmentState::kSealed) {
      RAFTLOG_RETURN_IF_ERROR(PlanActive(fs, dir, r, last_term, survey, &plan));
      continue;
    }
    plan.last_index = std::max(plan.last_index, r.last_index);
    if (!r.term_runs.empty()) last_term = std::max(last_term, r.term_runs.back().term);
    if (auto term = TermFromRecord(r, index)) plan.index_term = term;
    if (r.last_index <= index) plan.dropped.push_back(r);
  }
  if (plan.refusal.empty()) {
    if (const LogDamage* d = plan.FirstReaching(index + 1)) {
      plan.refusal = "damage reaches past " + std::to_string(index) + ": " + DescribeLogDamage(*d) +
                     "; moving the log's start to " + std::to_string(index) +
                     " would not repair it";
    }
  }
  if (plan.refusal.empty()) {
    // What stays must hold the entries from index + 1 on, consecutively, as
    // the engine's open checks: else the engine refuses the log for its
    // manifest, which moving the start does not change.
    uint64_t next = index + 1;
    bool first = true;
    for (const format::SegmentRecord& r : survey.segments) {
      const bool dropped =
          std::any_of(plan.dropped.begin(), plan.dropped.end(),
                      [&](const format::SegmentRecord& d) { return d.segment_id == r.segment_id; });
      if (dropped) continue;
      const bool replaced =
          plan.rescued_from.has_value() && plan.rescued_from->segment_id == r.segment_id;
      const format::SegmentRecord& kept = replaced ? *plan.rescue : r;
      if (first ? kept.base_index > next : kept.base_index != next) {
        plan.refusal =
            "the manifest's segments do not hold the entries after " + std::to_string(index) +
            " consecutively: " + format::SegmentRecordRelPath(kept) + " starts at " +
            std::to_string(kept.base_index) + " where " + std::to_string(next) + " is next";
        break;
      }
      first = false;
      if (kept.state != format::SegmentState::kSealed) break;  // the active one is last
      next = kept.last_index + 1;
    }
  }
  return plan;
}

Status ApplyCompactPast(io::FileSystem* fs, const std::string& dir, const CompactPastPlan& plan,
                        uint64_t index_term) {
  const std::string segments_dir = io::JoinPath(dir, layout::kSegmentsDir);
  std::optional<format::SegmentRecord> rescue = plan.rescue;
  std::string rescue_path;
  if (rescue.has_value()) {
    // Copy the entries after the point, from the frames the salvage walk
    // delivers, into the new segment; then read it back.
    const std::string name = format::SegmentRecordFileName(*rescue);
    rescue_path = io::JoinPath(segments_dir, name);
    RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file,
                             fs->Open(rescue_path, io::OpenMode::kCreateExclusive));
    auto discard = [&](const Status& s) {
      file.reset();
      (void)fs->Remove(rescue_path);
      return s;
    };
    format::CompressionOptions raw;
    raw.enabled = false;
    internal::SealedSegmentWriter writer(file.get(), *rescue, raw, kRescueFrameBytes);
    format::Decompressor decompressor;
    std::string scratch;
    auto walk = WalkActive(
        fs, dir, *plan.rescued_from, plan.active_min_term, plan.durable,
        [&](const format::FrameView& f, uint64_t offset, SegmentReader* reader) {
          if (f.header.end_index() <= plan.index + 1) return Status::OK();
          return internal::ForEachFrameEntry(
              f, rescue->last_index, reader->Where(offset), &decompressor, &scratch,
              [&](uint64_t i, uint64_t term, uint8_t type, std::string_view data) {
                return i <= plan.index ? Status::OK()
                                       : writer.Add(i, term, f.header.commit, type, data);
              });
        });
    if (!walk.ok()) return discard(walk.status());
    Status s = writer.Finish(&*rescue);
    if (s.ok()) s = file->Sync();
    if (!s.ok()) return discard(s.WithContext("writing " + name));
    file.reset();
    auto check = SegmentReader::Open(fs, rescue_path, name);
    if (!check.ok()) return discard(check.status());
    SealedScanOptions scan_options;
    scan_options.first_index = rescue->base_index;
    scan_options.stop_at_loss = false;
    auto reread = ScanSealedSegment(check->get(), *rescue, scan_options);
    check->reset();
    if (!reread.ok()) return discard(reread.status());
    if (!reread->problems.empty()) {
      return discard(Status::Corruption(
          name + ": the copy does not read back as written: " + reread->problems.front().what));
    }
    // The name must be durable before a record names it.
    s = fs->SyncDir(segments_dir);
    if (!s.ok()) return discard(s);
  }

  MetaStore::Batch batch;
  batch.Put(layout::kStartKey,
            format::EncodeLogStart(format::LogStartRecord{plan.index + 1, index_term}));
  std::vector<format::SegmentRecord> gone = plan.dropped;
  if (plan.rescued_from.has_value()) gone.push_back(*plan.rescued_from);
  for (const format::SegmentRecord& r : gone) batch.Delete(layout::SegmentKey(r.segment_id));
  if (rescue.has_value()) {
    batch.Put(layout::SegmentKey(rescue->segment_id), format::EncodeSegmentRecord(*rescue));
    batch.Put(layout::kNextSegmentIdKey,
              format::EncodeCounter(layout::kNextSegmentIdKey, rescue->segment_id + 1));
    // The durable progress it records is of the segment replaced.
    batch.Delete(layout::kDurableKey);
  }
  {
    MetaStore::OpenOptions options;
    RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<MetaStore> meta,
                             MetaStore::Open(io::JoinPath(dir, layout::kMetaFile), options));
    // A failed commit changed nothing; the rescue file stays unlisted, and
    // the next open removes it (LMDB may have made the commit durable
    // before reporting a failed sync: then it is the segment).
    RAFTLOG_RETURN_IF_ERROR(meta->Write(batch));
  }
  // After the commit: files the manifest no longer lists. A failure leaves
  // a stray that the next open removes.
  for (const format::SegmentRecord& r : gone) {
    (void)fs->Remove(io::JoinPath(segments_dir, format::SegmentRecordFileName(r)));
  }
  (void)fs->SyncDir(segments_dir);
  return Status::OK();
}

Result<LogDirectoryLock> LockLogDirectory(io::FileSystem* fs, const std::string& dir) {
  LogDirectoryLock lock;
  RAFTLOG_ASSIGN_OR_RETURN(lock.dir, fs->Lock(dir));
  RAFTLOG_ASSIGN_OR_RETURN(lock.lock_file, fs->Lock(io::JoinPath(dir, layout::kLockFile)));
  return lock;
}

}  // namespace raftlog::engine
