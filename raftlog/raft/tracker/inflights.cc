#include "raftlog/raft/tracker/inflights.h"

#include <algorithm>

#include "raftlog/format/status.h"

namespace raftlog::raft::tracker {

void Inflights::Add(uint64_t index, uint64_t bytes) {
  RAFTLOG_CHECK_MSG(!Full(), "cannot add into a Full inflights");
  size_t next = start_ + count_;
  if (next >= size_) next -= size_;
  if (next >= buffer_.size()) Grow();
  buffer_[next] = Inflight{index, bytes};
  ++count_;
  bytes_ += bytes;
}

void Inflights::Grow() {
  // Slots keep their positions: a wrapped ring only exists once the buffer
  // has reached size_ (wrapping happens at size_, not at the buffer's end).
  size_t new_size = buffer_.empty() ? 1 : std::min(buffer_.size() * 2, size_);
  buffer_.resize(new_size);
}

void Inflights::FreeLE(uint64_t to) {
  if (count_ == 0 || to < buffer_[start_].index) return;  // left of the window

  size_t idx = start_;
  size_t freed = 0;
  uint64_t freed_bytes = 0;
  for (; freed < count_; ++freed) {
    if (to < buffer_[idx].index) break;  // the first message still in flight
    freed_bytes += buffer_[idx].bytes;
    if (++idx >= size_) idx -= size_;
  }
  count_ -= freed;
  bytes_ -= freed_bytes;
  start_ = idx;
  // An empty window restarts at slot 0, so that it does not grow the buffer
  // needlessly on the next burst.
  if (count_ == 0) start_ = 0;
}

bool operator==(const Inflights& a, const Inflights& b) {
  if (a.size_ != b.size_ || a.max_bytes_ != b.max_bytes_ || a.count_ != b.count_ ||
      a.bytes_ != b.bytes_) {
    return false;
  }
  for (size_t k = 0, i = a.start_, j = b.start_; k < a.count_; ++k) {
    if (!(a.buffer_[i] == b.buffer_[j])) return false;
    if (++i >= a.size_) i -= a.size_;
    if (++j >= b.size_) j -= b.size_;
  }
  return true;
}

void Inflights::Reset() {
  count_ = 0;
  start_ = 0;
  bytes_ = 0;
}

}  // namespace raftlog::raft::tracker
