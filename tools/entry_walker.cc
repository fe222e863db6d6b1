#include "tools/entry_walker.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "raftlog/engine/dir_scan.h"
#include "raftlog/engine/sealed_scan.h"
#include "raftlog/engine/segment_reader.h"
#include "raftlog/engine/segment_scan.h"
#include "raftlog/format/compression.h"
#include "tools/findings.h"

namespace raftlog::tools {

using engine::SegmentReader;

void WalkVisitor::OnSegment(const format::SegmentRecord& /*record*/, uint64_t /*file_bytes*/) {}
void WalkVisitor::OnFrame(const format::SegmentRecord& /*record*/,
                          const format::FrameView& /*frame*/, uint64_t /*offset*/) {}
bool WalkVisitor::OnEntry(const format::EntryView& /*entry*/) { return true; }

namespace {

// Hands the entries of each good frame a scan reports (segment_scan.h,
// sealed_scan.h) in [from, to] to the visitor, the scan's on_frame.
class Delivery {
 public:
  Delivery(const format::SegmentRecord& record, const SegmentReader& reader, uint64_t from,
           uint64_t to, WalkVisitor* visitor, WalkResult* result)
      : record_(record), reader_(reader), from_(from), to_(to), visitor_(visitor),
        result_(result) {}

  Status OnFrame(const format::FrameView& f, uint64_t offset) {
    if (stopped_ || reached_to_) return Status::OK();  // the walk has what it wanted
    result_->at_offset = offset;
    visitor_->OnFrame(record_, f, offset);
    // A sealed segment ends at the manifest's last index (frames after it
    // were cut by a suffix truncation).
    uint64_t frame_last = f.header.end_index() - 1;
    if (record_.state == format::SegmentState::kSealed) {
      frame_last = std::min(frame_last, record_.last_index);
    }
    const uint64_t lo = std::max(from_, f.header.first_index);
    const uint64_t hi = std::min(to_, frame_last);
    if (lo <= hi) {
      const std::string where = reader_.Where(offset);
      auto raw = format::RawPayload(f, &decompressor_, &scratch_, where);
      if (!raw.ok()) return payload_error_ = raw.status();
      auto payload = format::EntriesPayload::Parse(*raw, f.header.entry_count, where);
      if (!payload.ok()) return payload_error_ = payload.status();
      for (uint64_t index = lo; index <= hi; ++index) {
        const auto i = static_cast<uint32_t>(index - f.header.first_index);
        if (!visitor_->OnEntry(
                format::EntryView{index, f.header.term, payload->type(i), payload->data(i)})) {
          result_->last_index = index;
          stopped_ = true;
          return Status::OK();
        }
      }
    }
    if (frame_last >= to_) {
      result_->end_offset = offset + f.frame_bytes;
      result_->last_index = std::max(result_->last_index, std::min(frame_last, to_));
      reached_to_ = true;
    }
    return Status::OK();
  }

  // The visitor asked to stop, or the frame holding `to` was delivered.
  bool done() const { return stopped_ || reached_to_; }
  // A frame whose payload does not decode (its checksum was valid).
  const Status& payload_error() const { return payload_error_; }

 private:
  const format::SegmentRecord& record_;
  const SegmentReader& reader_;
  const uint64_t from_, to_;
  WalkVisitor* const visitor_;
  WalkResult* const result_;
  format::Decompressor decompressor_;
  std::string scratch_;
  bool stopped_ = false;
  bool reached_to_ = false;
  Status payload_error_;
};

// The active segment, through the scan recovery makes: a torn write is
// reported, any other end the engine refuses is returned as its error.
Status WalkActive(SegmentReader* reader, const format::SegmentRecord& record,
                  const std::string& rel, Delivery* delivery, uint64_t to, uint64_t* last_term,
                  WalkResult* result) {
  engine::ScanOptions options;
  options.min_term = *last_term;
  options.max_index = to;
  options.on_frame = [delivery](const format::FrameView& f, uint64_t offset) {
    return delivery->OnFrame(f, offset);
  };
  RAFTLOG_ASSIGN_OR_RETURN(const engine::SegmentScan scan,
                           engine::ScanSegment(reader, record, options));
  if (delivery->done()) return Status::OK();
  result->at_offset = scan.damage_offset;
  if (!delivery->payload_error().ok()) return delivery->payload_error();
  if (scan.refused()) return scan.refusal;
  if (scan.finding == engine::SegmentFinding::kLostAcknowledged) {
    return engine::RecoveryVerdict(scan, reader->name(), engine::RecoveryPolicy::kTolerateTornTail);
  }
  if (scan.finding == engine::SegmentFinding::kTornWrite) {
    result->torn_tail = TornTail{rel, scan.damage_offset, DamageWhat(scan, reader->name())};
  }
  *last_term = scan.last_term;
  result->last_index = std::max(result->last_index, scan.last_index);
  return Status::OK();
}

// A sealed segment, through the walk verify makes too, stopping at the
// first loss; damage wholly below the log's first index is noted and
// skipped (the engine never reads those entries again).
Status WalkSealed(SegmentReader* reader, const format::SegmentRecord& record,
                  const std::string& rel, Delivery* delivery, uint64_t first_index,
                  uint64_t from, uint64_t to, bool seek, uint64_t* last_term,
                  WalkResult* result) {
  engine::SealedScanOptions options;
  options.first_index = first_index;
  options.min_term = *last_term;
  options.from_index = seek ? from : 0;
  options.max_index = std::min(to, record.last_index);
  options.stop_at_loss = true;
  options.on_frame = [delivery](const format::FrameView& f, uint64_t offset) {
    return delivery->OnFrame(f, offset);
  };
  RAFTLOG_ASSIGN_OR_RETURN(const engine::SealedScan scan,
                           engine::ScanSealedSegment(reader, record, options));
  for (const engine::SealedProblem& p : scan.problems) {
    if (!p.compacted) {
      // (After the visitor stopped the scan went on without it: what it
      // finds there is not the walk's.)
      if (delivery->done()) return Status::OK();
      result->at_offset = p.offset;
      if (!delivery->payload_error().ok()) return delivery->payload_error();
      return Status::Corruption(
          reader->name() + (p.offset.has_value() ? " at offset " + std::to_string(*p.offset) : "") +
          ": " + p.what);
    }
    result->compacted_damage.push_back(
        CompactedDamage{rel, *p.offset, p.first_index, p.last_index, p.what});
  }
  *last_term = scan.last_term;
  return Status::OK();
}

}  // namespace

std::vector<format::SegmentRecord> WalkedSegments(const LogMetadata& meta, const WalkResult& walk) {
  std::vector<format::SegmentRecord> segments = meta.segments;
  if (walk.successor.has_value()) segments.push_back(*walk.successor);
  return segments;
}

Status EntryWalker::Walk(uint64_t from, uint64_t to, bool seek, WalkVisitor* visitor,
                         WalkResult* result) {
  const uint64_t first_index = *meta_->first_index;
  from = std::max(from, first_index);
  *result = WalkResult{};
  result->last_index = first_index - 1;
  uint64_t prev_last = 0;  // last index of the previous segment
  uint64_t last_term = 0;
  bool have_prev = false;

  // The manifest's segments, then the successor of a roll whose background
  // seal has not committed, if a spare continues the log (found as recovery
  // finds it, once the active segment's end is known).
  std::vector<format::SegmentRecord> segments = meta_->segments;
  size_t listed = segments.size();
  std::optional<uint64_t> next_segment_id = meta_->next_segment_id;
  int catch_ups = 0;
  for (size_t k = 0;; ++k) {
    if (k == segments.size()) {
      // The walk can end short of `to` (at most the last index the engine
      // served when the command began) only beside a live writer: a segment
      // it found gone, or a successor not found, was sealed and rewritten
      // compressed meanwhile. The manifest as of now lists the segments
      // that continue what was read: read those too. Each round adds at
      // least one segment; the rounds are bounded all the same.
      constexpr int kMaxCatchUps = 8;
      if (!have_prev || prev_last >= to || catch_ups >= kMaxCatchUps) break;
      auto now = dir_->ReadMetadata(nullptr);
      if (!now.ok() || !now->problem.ok()) break;
      for (const format::SegmentRecord& r : now->segments) {
        if (r.base_index > prev_last) segments.push_back(r);
      }
      if (k == segments.size()) break;
      listed = segments.size();
      next_segment_id = now->next_segment_id;
      ++catch_ups;
    }
    format::SegmentRecord record = segments[k];
    bool sealed = record.state == format::SegmentState::kSealed;
    std::string rel = format::SegmentRecordRelPath(record);
    result->at_file = rel;
    result->at_offset.reset();
    if (!sealed && k + 1 < listed) {
      return Status::Corruption(dir_->Path(rel) +
                                ": the manifest lists it as active but it is not the last segment");
    }
    if (have_prev && record.base_index != prev_last + 1) {
      return Status::Corruption(dir_->Path(rel) + ": starts at index " +
                                std::to_string(record.base_index) +
                                " but the previous segment ends at " + std::to_string(prev_last));
    }
    if (record.base_index > to) return Status::OK();
    have_prev = true;
    if (sealed) {
      prev_last = record.last_index;
      result->last_index = std::max(result->last_index, record.last_index);
    }
    // A sealed segment wholly before the range: nothing to read.
    if (seek && sealed && record.last_index < from) continue;

    std::string path = dir_->SegmentPath(record);
    // The active segment is named as the engine names it, so that its
    // refusals read the same.
    auto opened = SegmentReader::Open(dir_->fs(), path,
                                      sealed ? path : SegmentFileName(record.segment_id));
    if (!opened.ok() && opened.status().IsNotFound()) {
      // Beside a live writer, a segment read as raw (sealed, or the active
      // one, sealed since) may have been rewritten compressed since the
      // manifest was read, and its raw file removed: the manifest now lists
      // the rewrite, with the same entries (the active one's and more).
      if (auto swapped = dir_->CompressedRewriteNow(record); swapped.has_value()) {
        if (!sealed) {
          sealed = true;
          prev_last = swapped->last_index;
          result->last_index = std::max(result->last_index, swapped->last_index);
        }
        record = *swapped;
        rel = format::SegmentRecordRelPath(record);
        result->at_file = rel;
        path = dir_->SegmentPath(record);
        opened = SegmentReader::Open(dir_->fs(), path, path);
      }
    }
    if (!opened.ok()) {
      if (!opened.status().IsNotFound()) return opened.status();
      return Status::Corruption(path + ": missing, but the manifest lists it (entries from index " +
                                std::to_string(record.base_index) + ")");
    }
    SegmentReader* reader = opened->get();
    visitor->OnSegment(record, reader->size());
    Delivery delivery(record, *reader, from, to, visitor, result);
    if (sealed) {
      RAFTLOG_RETURN_IF_ERROR(WalkSealed(reader, record, rel, &delivery, first_index, from, to,
                                         seek, &last_term, result));
    } else {
      RAFTLOG_RETURN_IF_ERROR(WalkActive(reader, record, rel, &delivery, to, &last_term, result));
      prev_last = std::max(record.base_index - 1, result->last_index);
    }
    if (delivery.done()) return Status::OK();
    if (!sealed && k + 1 == listed && next_segment_id.has_value()) {
      auto spares = engine::FindSuccessor(dir_->fs(), dir_->Path(kSegmentsDir),
                                          *next_segment_id, record.generation,
                                          prev_last + 1);
      if (!spares.ok()) return spares.status();
      if (spares->successor.has_value()) {
        result->successor = *spares->successor;
        segments.push_back(*spares->successor);
      }
    }
  }
  result->reached_end = true;
  return Status::OK();
}

}  // namespace raftlog::tools
