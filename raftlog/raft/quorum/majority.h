// MajorityConfig: a set of voters that decides by simple majority (etcd raft's
// quorum/majority.go).
//
// Representation: etcd uses a Go map as the set; we keep the ids in a sorted
// vector without duplicates. Configurations are tiny (typically 3-7 voters)
// and change only on membership changes, while CommittedIndex runs on every
// MsgAppResp, so a flat sorted array is both the fastest to iterate and gives
// the sorted order that String(), Slice() and Describe() print for free.
//
// Thread-safety: a value type; thread-compatible.

#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "raftlog/raft/quorum/quorum.h"

namespace raftlog::raft::quorum {

class MajorityConfig {
 public:
  using const_iterator = std::vector<uint64_t>::const_iterator;

  MajorityConfig() = default;
  // The set of `ids`; duplicates collapse and the order does not matter.
  MajorityConfig(std::initializer_list<uint64_t> ids);  // NOLINT: {1, 2, 3} reads as a set
  explicit MajorityConfig(std::vector<uint64_t> ids);
  template <class It>
  MajorityConfig(It first, It last) : MajorityConfig(std::vector<uint64_t>(first, last)) {}

  // Adds `id`; returns false if it was already present.
  bool Insert(uint64_t id);
  // Removes `id`; returns false if it was absent.
  bool Erase(uint64_t id);
  bool Contains(uint64_t id) const;
  void clear() { ids_.clear(); }

  size_t size() const { return ids_.size(); }
  bool empty() const { return ids_.empty(); }
  // Iteration is in ascending id order.
  const_iterator begin() const { return ids_.begin(); }
  const_iterator end() const { return ids_.end(); }

  // The ids in ascending order (etcd's Slice()); empty for the empty config.
  const std::vector<uint64_t>& Slice() const { return ids_; }

  // etcd's format: "(1 2 3)", "()" when empty.
  std::string String() const;

  // A multi-line picture of the acknowledged indexes (etcd's Describe), e.g.
  //
  //        idx
  //   xx>     12    (id=1)
  //   x>       5    (id=2)
  //   ?        0    (id=3)
  //
  // One line per voter in id order; the bar grows with the rank of the
  // voter's index (equal indexes get equal bars) and "?" marks a voter whose
  // index is unknown. "<empty majority quorum>" for the empty config.
  std::string Describe(const AckedIndexer& acked) const;

  // The largest index acknowledged by a majority of the voters. Voters whose
  // index is unknown count as having acknowledged 0. The empty config
  // commits kInfiniteIndex, so that a joint configuration with one empty
  // half behaves like its other half.
  // Allocates nothing for up to 7 voters (the leader calls this per ack).
  Index CommittedIndex(const AckedIndexer& acked) const;

  // The outcome of an election given `votes`: won once a majority granted,
  // lost once a majority can no longer grant, pending otherwise. Votes of
  // non-members are ignored. The empty config wins by convention (for the
  // same joint-quorum reason as CommittedIndex).
  quorum::VoteResult VoteResult(const Votes& votes) const;

  friend bool operator==(const MajorityConfig&, const MajorityConfig&) = default;

 private:
  // Invariant: strictly ascending.
  std::vector<uint64_t> ids_;
};

}  // namespace raftlog::raft::quorum
