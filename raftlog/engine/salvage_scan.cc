#include "raftlog/engine/salvage_scan.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "raftlog/format/record_format.h"
#include "raftlog/format/segment_header.h"

namespace raftlog::engine {

namespace {

// `s`'s message without the "<where>: " it starts with.
constexpr auto Strip = &SegmentReader::MessageAfter;

// The walk's state over one segment.
class Salvager {
 public:
  Salvager(SegmentReader* reader, const format::SegmentRecord& record,
           const SalvageOptions& options)
      : reader_(reader), record_(record), options_(options),
        sealed_(record.state == format::SegmentState::kSealed),
        seed_(format::FrameSeed(record.segment_id, record.generation)),
        last_wanted_(sealed_ ? record.last_index : UINT64_MAX), expected_(record.base_index) {
    scan_.last_index = record.base_index - 1;
    scan_.last_term = options.min_term;
    // A sealed segment's frames end at its footer (if the manifest's offset
    // is in the file); an active one's at the end of the file.
    limit_ = reader->size();
    if (sealed_ && record.footer_offset >= format::kSegmentHeaderBytes &&
        record.footer_offset <= limit_) {
      limit_ = record.footer_offset;
    }
  }

  Result<SalvageScan> Run() {
    if (reader_->size() < format::kSegmentHeaderBytes) {
      SalvageGap gap{0, reader_->size(),
                     "the file is only " + std::to_string(reader_->size()) + " bytes"};
      if (sealed_) SetLost(&gap, expected_, last_wanted_);
      scan_.gaps.push_back(std::move(gap));
      return std::move(scan_);
    }
    RAFTLOG_RETURN_IF_ERROR(CheckHeader());
    uint64_t offset = format::kSegmentHeaderBytes;
    if (pending_.has_value()) {
      // A damaged header: the frames after it may still be good.
      RAFTLOG_ASSIGN_OR_RETURN(bool go_on, Resync(offset, &offset));
      if (!go_on) return Finish(offset);
    }
    while (offset < limit_ && expected_ <= last_wanted_) {
      format::FrameError error = format::FrameError::kNone;
      auto frame = reader_->ReadFrame(offset, limit_, seed_, &error);
      std::string bad;
      uint64_t resume = offset + format::kFrameAlignment;
      if (!frame.ok()) {
        if (error == format::FrameError::kNone) return frame.status();  // I/O
        if (error == format::FrameError::kEndOfData) {
          RAFTLOG_ASSIGN_OR_RETURN(const uint64_t data_end, reader_->EndOfNonZero(offset, limit_));
          if (data_end == offset) break;  // the end of the data
          bad = "all-zero frame header followed by non-zero bytes up to offset " +
                std::to_string(data_end);
        } else {
          bad = Strip(frame.status(), reader_->Where(offset));
        }
      } else {
        const format::FrameHeader& h = frame->header;
        resume = offset + frame->frame_bytes;
        if (h.type == format::FrameType::kFooter) {
          // An active segment: a seal interrupted after its footer. A sealed
          // one: a footer before the manifest's.
          if (!sealed_) break;
          bad = "a footer frame before the manifest's footer offset " +
                std::to_string(record_.footer_offset);
        } else if (h.first_index > last_wanted_) {
          // Dead frames after a suffix truncation: not part of the log.
          offset = resume;
          continue;
        } else if (h.first_index < expected_) {
          bad = "frame holds index " + std::to_string(h.first_index) + ", expected " +
                std::to_string(expected_) + " (a stale or repeated frame)";
        } else if (h.term < scan_.last_term) {
          bad = "frame holds term " + std::to_string(h.term) + ", below the term " +
                std::to_string(scan_.last_term) + " before it";
        } else {
          Status check = options_.on_frame ? options_.on_frame(*frame, offset) : Status::OK();
          if (check.ok()) {
            Deliver(h, offset);
            offset = resume;
            continue;
          }
          bad = std::string(check.message());
        }
      }
      if (!pending_.has_value()) {
        pending_ = SalvageGap{offset, offset, std::move(bad)};
        // The end of an active segment: a torn write unless a later valid
        // frame proves the bad bytes durable (recovery's rule).
        if (!sealed_ && offset >= options_.durable_offset) {
          const bool v2 = !header_.has_value() || header_->version >= 2;
          uint64_t count = 0;
          RAFTLOG_ASSIGN_OR_RETURN(
              auto proof, reader_->FindValidFrame(resume, limit_, seed_, &count,
                                                  v2 ? std::optional<uint64_t>(offset)
                                                     : std::nullopt));
          if (!proof.has_value()) {
            pending_->torn_write = true;
            return Finish(offset);
          }
        }
      }
      RAFTLOG_ASSIGN_OR_RETURN(bool go_on, Resync(resume, &offset));
      if (!go_on) break;
    }
    return Finish(offset);
  }

 private:
  // The header, checked against the record; a gap at 0 if it is damaged
  // (an all-zero header of an active segment is a gap only if frames
  // follow: see Finish).
  Status CheckHeader() {
    auto header = reader_->ReadHeader();
    if (header.ok()) {
      if (header->segment_id != record_.segment_id || header->base_index != record_.base_index ||
          header->generation != record_.generation) {
        pending_ = SalvageGap{
            0, format::kSegmentHeaderBytes,
            "the header (id " + std::to_string(header->segment_id) + ", base index " +
                std::to_string(header->base_index) + ", generation " +
                std::to_string(header->generation) + ") does not match the manifest"};
      } else {
        header_ = *header;
      }
      return Status::OK();
    }
    if (header.status().IsIOError()) return header.status();
    RAFTLOG_ASSIGN_OR_RETURN(header_zero_, reader_->HeaderIsZero());
    if (!header_zero_ || sealed_) {
      pending_ = SalvageGap{0, format::kSegmentHeaderBytes,
                            header_zero_ ? std::string("the segment header is all zeros")
                                         : Strip(header.status(), reader_->name())};
    }
    return Status::OK();
  }

  // After a bad spot: moves *offset to the next frame that decodes at or
  // after `from`. False if there is none (the pending gap runs to the end
  // of the data).
  Result<bool> Resync(uint64_t from, uint64_t* offset) {
    uint64_t count = 0;
    RAFTLOG_ASSIGN_OR_RETURN(auto next, reader_->FindValidFrame(std::min(from, limit_), limit_,
                                                                 seed_, &count));
    if (!next.has_value()) {
      RAFTLOG_ASSIGN_OR_RETURN(pending_->end, reader_->EndOfNonZero(pending_->offset, limit_));
      *offset = limit_;
      return false;
    }
    *offset = *next;
    return true;
  }

  void Deliver(const format::FrameHeader& h, uint64_t offset) {
    if (pending_.has_value()) {
      pending_->end = std::max(pending_->end, offset);
      SetLost(&*pending_, expected_, h.first_index - 1);
      scan_.gaps.push_back(std::move(*pending_));
      pending_.reset();
    } else if (h.first_index > expected_) {
      SalvageGap gap{offset, offset,
                     "frame holds index " + std::to_string(h.first_index) + ", expected " +
                         std::to_string(expected_)};
      SetLost(&gap, expected_, h.first_index - 1);
      scan_.gaps.push_back(std::move(gap));
    }
    scan_.good_frames++;
    expected_ = h.end_index();
    scan_.last_index = std::min(expected_ - 1, last_wanted_);
    scan_.last_term = h.term;
  }

  static void SetLost(SalvageGap* gap, uint64_t first, uint64_t last) {
    if (first > last) return;
    gap->first_index = first;
    gap->last_index = last;
  }

  Result<SalvageScan> Finish(uint64_t offset) {
    if (header_zero_ && !sealed_ && (scan_.good_frames > 0 || pending_.has_value())) {
      scan_.gaps.insert(scan_.gaps.begin(),
                        SalvageGap{0, format::kSegmentHeaderBytes, "the segment header is all zeros"});
    }
    if (pending_.has_value()) {
      if (pending_->torn_write || pending_->end <= pending_->offset) {
        RAFTLOG_ASSIGN_OR_RETURN(pending_->end, reader_->EndOfNonZero(pending_->offset, limit_));
      }
      if (sealed_) SetLost(&*pending_, expected_, last_wanted_);
      scan_.gaps.push_back(std::move(*pending_));
      pending_.reset();
    } else if (sealed_ && expected_ <= last_wanted_) {
      SalvageGap gap{offset, offset,
                     reader_->size() < record_.file_bytes
                         ? "truncated: " + std::to_string(reader_->size()) +
                               " bytes, the manifest says " + std::to_string(record_.file_bytes)
                         : "the frames end at index " + std::to_string(expected_ - 1) +
                               " but the manifest says the segment ends at " +
                               std::to_string(last_wanted_)};
      SetLost(&gap, expected_, last_wanted_);
      scan_.gaps.push_back(std::move(gap));
    }
    return std::move(scan_);
  }

  SegmentReader* const reader_;
  const format::SegmentRecord& record_;
  const SalvageOptions& options_;
  const bool sealed_;
  const uint64_t seed_;
  const uint64_t last_wanted_;
  uint64_t limit_ = 0;
  uint64_t expected_;  // the next index wanted
  std::optional<format::SegmentHeader> header_;
  bool header_zero_ = false;
  // The damaged stretch being crossed: closed by the next frame delivered.
  std::optional<SalvageGap> pending_;
  SalvageScan scan_;
};

}  // namespace

bool SalvageScan::damaged() const {
  return std::any_of(gaps.begin(), gaps.end(), [](const SalvageGap& g) { return !g.torn_write; });
}

Result<SalvageScan> SalvageSegment(SegmentReader* reader, const format::SegmentRecord& record,
                                   const SalvageOptions& options) {
  return Salvager(reader, record, options).Run();
}

}  // namespace raftlog::engine
