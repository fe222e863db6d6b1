// JointConfig: two majority configurations that must both agree (etcd raft's
// quorum/joint.go), the C_{old,new} of joint consensus (Raft thesis §4.3).
//
// etcd spells it [2]MajorityConfig with [0] the incoming and [1] the outgoing
// half; we name the halves. Outside a joint configuration `outgoing` is empty,
// and because an empty MajorityConfig commits everything and wins every vote,
// the pair then behaves exactly like `incoming` alone.
//
// Thread-safety: a value type; thread-compatible.

#pragma once

#include <string>

#include "raftlog/raft/quorum/majority.h"
#include "raftlog/raft/quorum/quorum.h"

namespace raftlog::raft::quorum {

struct JointConfig {
  // etcd's Voters[0]: the configuration being moved to (C_new), and the
  // only one outside joint consensus.
  MajorityConfig incoming;
  // etcd's Voters[1]: the configuration being left (C_old); empty unless
  // the configuration is joint.
  MajorityConfig outgoing;

  // "(1 2 3)" when not joint, "(1 2 3)&&(1 2)" (incoming&&outgoing) when joint.
  std::string String() const;

  // The union of both halves.
  MajorityConfig IDs() const;

  // Describe() of the union of both halves (see MajorityConfig::Describe).
  std::string Describe(const AckedIndexer& acked) const;

  // The largest index committed in both halves: the min of the two.
  Index CommittedIndex(const AckedIndexer& acked) const;

  // Won only if both halves won; lost as soon as either lost; else pending.
  quorum::VoteResult VoteResult(const Votes& votes) const;

  friend bool operator==(const JointConfig&, const JointConfig&) = default;
};

}  // namespace raftlog::raft::quorum
