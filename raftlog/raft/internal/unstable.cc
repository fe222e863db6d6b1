#include "raftlog/raft/internal/unstable.h"

#include <algorithm>
#include <cassert>
#include <cinttypes>
#include <iterator>
#include <utility>

#include "raftlog/format/status.h"

namespace raftlog::raft::internal {

namespace {

// After StableTo empties the log, keep a small buffer for the next Ready's
// entries (the steady state appends and stabilizes a handful at a time), but
// give back the memory of a large burst.
constexpr size_t kMaxRetainedCapacity = 1024;

}  // namespace

Unstable::Unstable(uint64_t offset, Logger* logger)
    : offset_(offset), offset_in_progress_(offset), logger_(logger) {
  RAFTLOG_CHECK_MSG(logger != nullptr, "unstable needs a logger");
}

Unstable Unstable::ForTest(std::vector<Entry> entries, uint64_t offset, uint64_t offset_in_progress,
                           std::shared_ptr<const Snapshot> snapshot, bool snapshot_in_progress,
                           Logger* logger) {
  Unstable u(offset, logger);
  u.entries_ = std::move(entries);
  u.offset_in_progress_ = offset_in_progress;
  u.snapshot_ = std::move(snapshot);
  u.snapshot_in_progress_ = snapshot_in_progress;
  for (size_t i = 0; i < u.entries_.size(); ++i) {
    RAFTLOG_CHECK_MSG(u.entries_[i].index == offset + i, "unstable entries must start at offset");
  }
  RAFTLOG_CHECK_MSG(offset <= offset_in_progress && offset_in_progress <= u.End(),
                    "offset_in_progress out of [offset, offset + len(entries)]");
  RAFTLOG_CHECK_MSG(!snapshot_in_progress || u.snapshot_ != nullptr,
                    "snapshot in progress without a snapshot");
  return u;
}

void Unstable::CheckInvariants() const {
  assert(entries_.empty() || (entries_.front().index == offset_ &&
                              entries_.back().index == offset_ + entries_.size() - 1));
  assert(offset_ <= offset_in_progress_ && offset_in_progress_ <= End());
  assert(!snapshot_in_progress_ || snapshot_ != nullptr);
}

std::optional<uint64_t> Unstable::MaybeFirstIndex() const {
  if (snapshot_ != nullptr) return snapshot_->metadata.index + 1;
  return std::nullopt;
}

std::optional<uint64_t> Unstable::MaybeLastIndex() const {
  if (!entries_.empty()) return End() - 1;
  if (snapshot_ != nullptr) return snapshot_->metadata.index;
  return std::nullopt;
}

std::optional<uint64_t> Unstable::MaybeTerm(uint64_t i) const {
  if (i < offset_) {
    if (snapshot_ != nullptr && snapshot_->metadata.index == i) return snapshot_->metadata.term;
    return std::nullopt;
  }
  // Past the snapshot: only the entries can answer (the snapshot's index is
  // offset_ - 1 by invariant 4, so it cannot be >= offset_).
  if (i >= End()) return std::nullopt;
  return entries_[i - offset_].term;
}

std::span<const Entry> Unstable::NextEntries() const {
  return std::span<const Entry>(entries_).subspan(offset_in_progress_ - offset_);
}

std::shared_ptr<const Snapshot> Unstable::NextSnapshot() const {
  if (snapshot_ == nullptr || snapshot_in_progress_) return nullptr;
  return snapshot_;
}

void Unstable::AcceptInProgress() {
  // offset_in_progress_ is exclusive, like offset_.
  if (!entries_.empty()) offset_in_progress_ = entries_.back().index + 1;
  if (snapshot_ != nullptr) snapshot_in_progress_ = true;
  CheckInvariants();
}

void Unstable::StableTo(EntryID id) {
  const std::optional<uint64_t> term = MaybeTerm(id.index);
  if (!term.has_value()) {
    logger_->Info("entry at index %" PRIu64 " missing from unstable log; ignoring", id.index);
    return;
  }
  if (id.index < offset_) {
    logger_->Info("entry at index %" PRIu64 " matched unstable snapshot; ignoring", id.index);
    return;
  }
  if (*term != id.term) {
    // Part or all of the unstable log was replaced between the start and the
    // end of the write that is being acknowledged.
    logger_->Info("entry at (index,term)=(%" PRIu64 ",%" PRIu64
                  ") mismatched with entry at (%" PRIu64 ",%" PRIu64 ") in unstable log; ignoring",
                  id.index, id.term, id.index, *term);
    return;
  }
  const size_t num = static_cast<size_t>(id.index + 1 - offset_);
  // Moves the remaining entries down: O(remaining), usually nothing, since a
  // write normally stabilizes everything that was in progress.
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(num));
  offset_ = id.index + 1;
  offset_in_progress_ = std::max(offset_in_progress_, offset_);
  if (entries_.empty() && entries_.capacity() > kMaxRetainedCapacity) {
    std::vector<Entry>().swap(entries_);
  }
  CheckInvariants();
}

void Unstable::StableSnapTo(uint64_t i) {
  if (snapshot_ != nullptr && snapshot_->metadata.index == i) {
    snapshot_.reset();
    snapshot_in_progress_ = false;
  }
  CheckInvariants();
}

void Unstable::Restore(std::shared_ptr<const Snapshot> snapshot) {
  RAFTLOG_CHECK_MSG(snapshot != nullptr, "restore needs a snapshot");
  offset_ = snapshot->metadata.index + 1;
  offset_in_progress_ = offset_;
  entries_.clear();
  snapshot_ = std::move(snapshot);
  snapshot_in_progress_ = false;
  CheckInvariants();
}

void Unstable::Restore(const Snapshot& snapshot) {
  Restore(std::make_shared<const Snapshot>(snapshot));
}

void Unstable::TruncateAndAppend(std::vector<Entry> ents) {
  RAFTLOG_CHECK_MSG(!ents.empty(), "truncateAndAppend needs entries");
  const uint64_t from_index = ents.front().index;
  if (from_index == End()) {
    // The next index: append directly.
    if (entries_.empty()) {
      entries_ = std::move(ents);
    } else {
      entries_.insert(entries_.end(), std::make_move_iterator(ents.begin()),
                      std::make_move_iterator(ents.end()));
    }
  } else if (from_index <= offset_) {
    logger_->Info("replace the unstable entries from index %" PRIu64, from_index);
    // The log is truncated to before our whole unstable portion: the new
    // entries replace all of it.
    entries_ = std::move(ents);
    offset_ = from_index;
    offset_in_progress_ = offset_;
  } else {
    // Truncate to from_index (exclusive) and append. Checked like etcd's
    // u.slice(offset, from_index), which also rejects a gap past the end.
    MustCheckOutOfBounds(offset_, from_index);
    logger_->Info("truncate the unstable entries before index %" PRIu64, from_index);
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(from_index - offset_),
                   entries_.end());
    entries_.insert(entries_.end(), std::make_move_iterator(ents.begin()),
                    std::make_move_iterator(ents.end()));
    // Only in-progress entries before from_index are still in progress.
    offset_in_progress_ = std::min(offset_in_progress_, from_index);
  }
  CheckInvariants();
}

std::span<const Entry> Unstable::Slice(uint64_t lo, uint64_t hi) const {
  MustCheckOutOfBounds(lo, hi);
  return std::span<const Entry>(entries_).subspan(lo - offset_, hi - lo);
}

void Unstable::MustCheckOutOfBounds(uint64_t lo, uint64_t hi) const {
  if (lo > hi) logger_->Panic("invalid unstable.slice %" PRIu64 " > %" PRIu64, lo, hi);
  const uint64_t upper = End();
  if (lo < offset_ || hi > upper) {
    logger_->Panic("unstable.slice[%" PRIu64 ",%" PRIu64 ") out of bound [%" PRIu64 ",%" PRIu64 "]",
                   lo, hi, offset_, upper);
  }
}

}  // namespace raftlog::raft::internal
