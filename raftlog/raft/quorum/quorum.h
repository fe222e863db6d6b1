// The vocabulary of quorum decisions (etcd raft's quorum/quorum.go): log
// indexes acknowledged by voters, and the outcome of an election.
//
// The quorum package is a pure leaf: it knows voter ids and indexes, nothing
// of progress tracking or messages. MajorityConfig (majority.h) and
// JointConfig (joint.h) make the decisions.
//
// Thread-safety: value types and pure functions; thread-compatible.

#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace raftlog::raft::quorum {

// A raft log index, as acknowledged by a voter or committed by a quorum.
using Index = uint64_t;

// The index an empty majority configuration "commits": it plays the neutral
// element of the min() that joins the two halves of a joint configuration.
inline constexpr Index kInfiniteIndex = std::numeric_limits<Index>::max();

// etcd's Index.String(): the decimal value, or "∞" for kInfiniteIndex.
std::string IndexString(Index index);

// The outcome of an election as far as the votes received so far tell.
// The values are etcd's (VotePending = 1).
enum class VoteResult : uint8_t {
  // Neither a quorum of yes nor a quorum of no has been reached: the missing
  // votes could still decide either way.
  kVotePending = 1,
  // A quorum of no has been reached (or yes can no longer reach a quorum).
  kVoteLost = 2,
  // A quorum of yes has been reached.
  kVoteWon = 3,
};

// "VotePending", "VoteLost" or "VoteWon" (etcd's stringer output).
std::string_view VoteResultName(VoteResult result);

// The votes of an election: voter id -> granted (true) or rejected (false).
// A voter absent from the map has not voted yet.
using Votes = std::map<uint64_t, bool>;

// Tells, for a voter, the highest log index it is known to have acknowledged.
// etcd's AckedIndexer. Implementations are looked up once per voter per
// decision, on the leader's hot path: keep AckedIndex cheap.
class AckedIndexer {
 public:
  virtual ~AckedIndexer() = default;
  // The index `voter` acknowledged, or nullopt when nothing is known about it
  // (which is different from an acknowledged index of 0 only in Describe()).
  virtual std::optional<Index> AckedIndex(uint64_t voter) const = 0;
};

// An AckedIndexer over an explicit map (etcd's mapAckIndexer), for tests and
// for callers that already hold the indexes in a map.
class MapAckIndexer final : public AckedIndexer {
 public:
  MapAckIndexer() = default;
  explicit MapAckIndexer(std::map<uint64_t, Index> acked) : acked_(std::move(acked)) {}
  MapAckIndexer(std::initializer_list<std::pair<const uint64_t, Index>> acked) : acked_(acked) {}

  std::optional<Index> AckedIndex(uint64_t voter) const override;

  // Records (or overwrites) the index acknowledged by `voter`.
  void Set(uint64_t voter, Index index) { acked_[voter] = index; }
  // Forgets `voter`, so that AckedIndex(voter) becomes nullopt.
  void Erase(uint64_t voter) { acked_.erase(voter); }
  const std::map<uint64_t, Index>& acked() const { return acked_; }

 private:
  std::map<uint64_t, Index> acked_;
};

}  // namespace raftlog::raft::quorum
