#include "tools/salvage.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "raftlog/engine/dir_scan.h"
#include "raftlog/engine/salvage_scan.h"
#include "raftlog/engine/sealed_scan.h"
#include "raftlog/engine/segment_reader.h"
#include "raftlog/format/compression.h"
#include "tools/log_dir.h"

namespace raftlog::tools {

namespace {

// The segments to walk: the manifest's, or (meta.mdb unreadable) what each
// segment file says of itself.
struct Plan {
  std::vector<format::SegmentRecord> records;
  uint64_t first_index = 1;
  std::optional<format::DurableRecord> durable;
  // From the manifest: where the spares begin, to find the successor of a
  // roll whose background seal had not committed (engine::FindSuccessor).
  std::optional<uint64_t> next_segment_id;
};

Result<Plan> PlanFromFiles(io::FileSystem* fs, const std::string& dir) {
  Plan plan;
  const std::string segments = io::JoinPath(dir, kSegmentsDir);
  auto names = fs->ListDir(segments);
  if (!names.ok()) {
    if (names.status().IsNotFound()) return plan;
    return names.status();
  }
  for (const std::string& name : *names) {
    RAFTLOG_ASSIGN_OR_RETURN(auto described,
                             engine::DescribeSegmentFileNamed(fs, io::JoinPath(segments, name), name));
    if (described.has_value()) plan.records.push_back(*described);
  }
  engine::OneRecordPerSegment(&plan.records);
  return plan;
}

// Hands the entries of each frame SalvageSegment delivers in [from, to] to
// the visitor.
class Delivery {
 public:
  Delivery(uint64_t from, uint64_t to, WalkVisitor* visitor, SalvageResult* result)
      : from_(from), to_(to), visitor_(visitor), result_(result) {}

  Status OnFrame(const format::SegmentRecord& record, const format::FrameView& f) {
    if (done_) return Status::OK();
    uint64_t frame_last = f.header.end_index() - 1;
    if (record.state == format::SegmentState::kSealed) {
      frame_last = std::min(frame_last, record.last_index);
    }
    // The frame must be whole to count as verified, whatever part is wanted.
    auto raw = format::RawPayload(f, &decompressor_, &scratch_, "payload");
    if (!raw.ok()) return raw.status();
    auto payload = format::EntriesPayload::Parse(*raw, f.header.entry_count, "payload");
    if (!payload.ok()) return payload.status();
    const uint64_t lo = std::max({from_, f.header.first_index, next_});
    const uint64_t hi = std::min(to_, frame_last);
    for (uint64_t index = lo; index <= hi; ++index) {
      const auto i = static_cast<uint32_t>(index - f.header.first_index);
      result_->entries++;
      if (!visitor_->OnEntry(
              format::EntryView{index, f.header.term, payload->type(i), payload->data(i)})) {
        done_ = true;
        return Status::OK();
      }
    }
    next_ = std::max(next_, frame_last + 1);
    if (frame_last >= to_) done_ = true;
    return Status::OK();
  }

  bool done() const { return done_; }
  // The next index to deliver (entries are delivered once, in order).
  uint64_t next() const { return next_; }

 private:
  const uint64_t from_, to_;
  WalkVisitor* const visitor_;
  SalvageResult* const result_;
  format::Decompressor decompressor_;
  std::string scratch_;
  uint64_t next_ = 0;
  bool done_ = false;
};

}  // namespace

std::string DescribeSkipped(const SkippedRange& r) {
  std::string s = r.file;
  if (r.offset.has_value()) {
    s += r.end > *r.offset ? " bytes [" + std::to_string(*r.offset) + ", " +
                                 std::to_string(r.end) + ")"
                           : " at offset " + std::to_string(*r.offset);
  }
  if (r.first_index != 0) {
    s += ": entries " + std::to_string(r.first_index) + " .. " + std::to_string(r.last_index);
  }
  return s + " (" + r.what + ")";
}

Status SalvageEntries(io::FileSystem* fs, const std::string& dir, uint64_t from, uint64_t to,
                      WalkVisitor* visitor, SalvageResult* result) {
  *result = SalvageResult{};
  RAFTLOG_RETURN_IF_ERROR(LogDir::CheckIsLogDir(fs, dir));
  Plan plan;
  Status meta_problem;
  auto opened = LogDir::Open(fs, dir);
  if (opened.ok()) {
    auto meta = (*opened)->ReadMetadata(nullptr);
    if (!meta.ok()) {
      meta_problem = meta.status();
    } else if (!meta->problem.ok()) {
      meta_problem = meta->problem;
    } else {
      result->metadata_read = true;
      plan.records = meta->segments;
      plan.first_index = *meta->first_index;
      plan.durable = meta->durable;
      plan.next_segment_id = meta->next_segment_id;
    }
  } else {
    meta_problem = opened.status();
  }
  if (!result->metadata_read) {
    if (meta_problem.IsIOError()) return meta_problem;
    result->skipped.push_back(SkippedRange{std::string(kMetaFile), std::nullopt, 0, 0, 0,
                                           StripWhere(meta_problem, "") +
                                               "; the segment files describe themselves, and "
                                               "the log's first index is not known"});
    RAFTLOG_ASSIGN_OR_RETURN(plan, PlanFromFiles(fs, dir));
    plan.first_index = 0;
  }

  from = std::max(from, plan.first_index);
  Delivery delivery(from, to, visitor, result);
  uint64_t last_term = 0;
  uint64_t next_index = 0;  // where the previous segment ended, + 1 (0: not known)
  const size_t listed = plan.records.size();
  for (size_t k = 0; k < plan.records.size(); ++k) {
    const format::SegmentRecord record = plan.records[k];
    if (delivery.done() || record.base_index > to) break;
    const bool sealed = record.state == format::SegmentState::kSealed;
    const std::string rel = format::SegmentRecordRelPath(record);
    // A segment file missing from a listing made from the files.
    if (next_index != 0 && record.base_index > next_index) {
      result->skipped.push_back(SkippedRange{rel, std::nullopt, 0, next_index,
                                             record.base_index - 1,
                                             "no segment file holds these entries"});
    }
    if (sealed) {
      next_index = record.last_index + 1;
    } else {
      next_index = 0;
    }
    // Wholly before what is wanted (compacted, or below --from).
    if (sealed && record.last_index < from) continue;

    auto reader = engine::SegmentReader::Open(fs, io::JoinPath(dir, rel), rel);
    if (!reader.ok()) {
      if (!reader.status().IsNotFound()) return reader.status();
      SkippedRange r{rel, std::nullopt, 0, 0, 0,
                     "missing, but the manifest lists it (entries from index " +
                         std::to_string(record.base_index) + ")"};
      if (sealed) r.first_index = record.base_index, r.last_index = record.last_index;
      result->skipped.push_back(std::move(r));
      continue;
    }
    engine::SalvageOptions options;
    options.min_term = last_term;
    if (plan.durable.has_value() && plan.durable->segment_id == record.segment_id &&
        plan.durable->generation == record.generation) {
      options.durable_offset = plan.durable->durable_offset;
    }
    options.on_frame = [&delivery, &record](const format::FrameView& f, uint64_t /*offset*/) {
      return delivery.OnFrame(record, f);
    };
    RAFTLOG_ASSIGN_OR_RETURN(const engine::SalvageScan scan,
                             engine::SalvageSegment(reader->get(), record, options));
    for (const engine::SalvageGap& gap : scan.gaps) {
      SkippedRange r{rel, gap.offset, gap.end, gap.first_index, gap.last_index, gap.what};
      r.torn_write = gap.torn_write;
      r.compacted = gap.first_index != 0 && gap.last_index < plan.first_index;
      if (r.first_index == 0 && !sealed && !r.torn_write && &gap == &scan.gaps.back()) {
        r.what += "; entries after index " + std::to_string(scan.last_index) +
                  " may have been lost (the active segment records no last index)";
      }
      result->skipped.push_back(std::move(r));
    }
    last_term = std::max(last_term, scan.last_term);
    if (!sealed) next_index = scan.last_index + 1;
    if (!sealed && k + 1 == listed && plan.next_segment_id.has_value()) {
      RAFTLOG_ASSIGN_OR_RETURN(
          const engine::SpareHeaders spares,
          engine::FindSuccessor(fs, io::JoinPath(dir, kSegmentsDir), *plan.next_segment_id,
                                record.generation, scan.last_index + 1));
      if (spares.successor.has_value()) plan.records.push_back(*spares.successor);
    }
  }
  return Status::OK();
}

}  // namespace raftlog::tools
