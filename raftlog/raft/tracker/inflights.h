// Inflights: the window of MsgApps in flight to one follower (etcd raft's
// tracker/inflights.go).
//
// Each in-flight message is recorded as (index of its last entry, payload
// bytes). The window is full when it holds `size` messages or, when
// `max_bytes` is non-zero, at least `max_bytes` bytes; the leader stops
// sending entries to a follower whose window is full. Acknowledgements free
// every message up to the acknowledged index (FreeLE).
//
// Representation: a ring buffer of capacity `size`, allocated lazily and
// doubled on demand (1, 2, 4, ... up to `size`) because a process may host
// thousands of raft groups whose windows mostly stay nearly empty. Emptying
// the window resets the ring's start to slot 0, so a window that drains
// between bursts never grows beyond the largest burst.
//
// Thread-safety: thread-compatible (owned by the raft core's thread).

#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace raftlog::raft::tracker {

class Inflights {
 public:
  // A window of at most `size` messages and, if `max_bytes` > 0, fewer than
  // `max_bytes` payload bytes (the message that reaches the byte limit is
  // admitted; the window is full after it). size 0 is always full.
  // Allocates nothing until the first Add.
  Inflights(size_t size, uint64_t max_bytes) : size_(size), max_bytes_(max_bytes) {}

  // Records a message whose last entry has index `index` and whose entries
  // carry `bytes` payload bytes.
  // REQUIRES: !Full(); `index` greater than every index in the window (the
  // leader sends in index order). Aborts with etcd's message "cannot add into
  // a Full inflights" when full.
  void Add(uint64_t index, uint64_t bytes);

  // Frees every message whose index is <= `to`, the oldest first. A `to`
  // below the oldest message frees nothing.
  void FreeLE(uint64_t to);

  // Whether no message may be added: `size` messages are in flight, or the
  // byte limit is set and reached.
  bool Full() const { return count_ == size_ || (max_bytes_ != 0 && bytes_ >= max_bytes_); }

  // The number of messages in flight.
  size_t Count() const { return count_; }

  // The payload bytes in flight.
  uint64_t bytes() const { return bytes_; }

  // Frees every message (etcd's reset). Keeps the buffer.
  void Reset();

  size_t size() const { return size_; }
  uint64_t max_bytes() const { return max_bytes_; }

  // Equal limits and the same messages in flight, in the same order; the
  // ring layout and buffer capacity do not matter.
  friend bool operator==(const Inflights& a, const Inflights& b);

 private:
  friend class InflightsTestPeer;  // tests inspect the ring layout

  struct Inflight {
    uint64_t index = 0;  // the last entry index of the message
    uint64_t bytes = 0;  // the payload bytes of the message

    friend bool operator==(const Inflight&, const Inflight&) = default;
  };

  // Doubles the buffer (to 1 when empty), capped at size_.
  void Grow();

  // Invariants: count_ <= size_; buffer_.size() <= size_; the messages in
  // flight are buffer_[(start_ + k) % size_] for k in [0, count_), in
  // ascending index order; bytes_ is the sum of their bytes.
  size_t start_ = 0;              // slot of the oldest message
  size_t count_ = 0;              // messages in flight
  uint64_t bytes_ = 0;            // payload bytes in flight
  size_t size_;                   // the message limit
  uint64_t max_bytes_;            // the byte limit; 0 means none
  std::vector<Inflight> buffer_;  // the ring, grown on demand
};

}  // namespace raftlog::raft::tracker
