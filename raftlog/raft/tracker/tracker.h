// ProgressTracker: the active membership configuration and what the leader
// knows about each member (etcd raft's tracker/tracker.go): the replication
// progress of every voter and learner, and the votes of an election.
//
// Design. Like etcd's, these are open structs: the raft core replaces `config`
// and `progress` wholesale with what confchange::Changer computes, reads and
// updates individual Progress entries, and records votes. The methods answer
// the quorum questions (Committed, QuorumActive, TallyVotes) on top.
//
// Thread-safety: thread-compatible (owned by the raft core's thread).

#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "raftlog/raft/quorum/joint.h"
#include "raftlog/raft/quorum/quorum.h"
#include "raftlog/raft/tracker/progress.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft::tracker {

// The membership configuration tracked by a ProgressTracker.
struct Config {
  // The voters: `voters.incoming` alone, or both halves when joint.
  quorum::JointConfig voters;

  // Whether, once joint, raft leaves the joint configuration by itself (by
  // proposing an empty ConfChangeV2) as soon as it can; if false the joint
  // configuration stays until the application leaves it explicitly.
  // Invariant: false unless joint.
  bool auto_leave = false;

  // The learners of the current configuration.
  // Invariant: disjoint from both halves of `voters`, so that a peer's role
  // is clear without reasoning about joint consensus.
  std::set<uint64_t> learners;

  // Voters to be turned into learners when the joint configuration is left.
  //
  // Demoting a voter while entering a joint configuration cannot add it to
  // `learners` right away: it is still a voter of the outgoing half, and
  // the invariant above would break. E.g. demoting 3 from voters {1 2 3}
  // gives voters {1 2}&&{1 2 3}, learners {}, learners_next {3}; leaving the
  // joint configuration then gives voters {1 2}, learners {3}. A learner
  // that is not an outgoing voter is added to `learners` at once, so that it
  // catches up as soon as possible.
  // Invariant: a subset of voters.outgoing; empty unless joint.
  std::set<uint64_t> learners_next;

  // Whether the configuration is joint (the outgoing half is non-empty).
  bool Joint() const { return !voters.outgoing.empty(); }

  // etcd's format: "voters=(1 2)&&(1) learners=(3) learners_next=(4)
  // autoleave"; learners, learners_next and autoleave only when set.
  std::string String() const;

  friend bool operator==(const Config&, const Config&) = default;
};

// The outcome of TallyVotes.
struct TallyResult {
  size_t granted = 0;   // votes granted by current voters
  size_t rejected = 0;  // votes rejected by current voters
  quorum::VoteResult result = quorum::VoteResult::kVotePending;
};

struct ProgressTracker {
  // An empty configuration whose future progresses get inflights windows of
  // `max_inflight` messages and `max_inflight_bytes` bytes (0: no byte
  // limit). etcd's MakeProgressTracker.
  ProgressTracker(size_t max_inflight, uint64_t max_inflight_bytes)
      : max_inflight(max_inflight), max_inflight_bytes(max_inflight_bytes) {}

  Config config;
  // The progress of every voter and learner of `config` (and nobody else).
  ProgressMap progress;
  // The votes received in the current election; see RecordVote.
  quorum::Votes votes;

  // The inflights limits of new progresses (see confchange::Changer).
  size_t max_inflight;
  uint64_t max_inflight_bytes;

  // The active configuration as a ConfState (id lists sorted).
  raft::ConfState ConfState() const;

  // Whether the configuration has exactly one voter (which, on a leader, is
  // itself) and is not joint.
  bool IsSingleton() const {
    return config.voters.incoming.size() == 1 && config.voters.outgoing.empty();
  }

  // The largest log index known to be committed: acknowledged (Progress
  // match) by a quorum of voters, in both halves when joint. kInfiniteIndex
  // (uint64 max) when there are no voters at all.
  uint64_t Committed() const;

  // Calls f(id, progress) for every tracked peer in ascending id order.
  // REQUIRES: f does not add or remove peers.
  template <class F>
  void Visit(F&& f) {
    for (auto& [id, pr] : progress) f(id, pr);
  }
  template <class F>
  void Visit(F&& f) const {
    for (const auto& [id, pr] : progress) f(id, pr);
  }

  // Whether a quorum of voters was recently active (Progress recent_active)
  // from the local node's point of view; used by CheckQuorum.
  bool QuorumActive() const;

  // The voters of both halves, sorted.
  std::vector<uint64_t> VoterNodes() const;
  // The learners, sorted.
  std::vector<uint64_t> LearnerNodes() const;

  // Forgets the votes, for a new election.
  void ResetVotes() { votes.clear(); }

  // Records that `id` granted (true) or rejected (false) its vote. Only a
  // peer's first vote counts; later ones are ignored.
  void RecordVote(uint64_t id, bool granted) { votes.emplace(id, granted); }

  // Counts the votes of current voters (learners' and strangers' votes are
  // ignored in the counts; they are informational) and tells whether the
  // election is won, lost or still pending.
  TallyResult TallyVotes() const;
};

}  // namespace raftlog::raft::tracker
