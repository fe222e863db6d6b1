#include "raftlog/raft/quorum/joint.h"

#include <algorithm>
#include <iterator>
#include <vector>

namespace raftlog::raft::quorum {

std::string JointConfig::String() const {
  if (!outgoing.empty()) return incoming.String() + "&&" + outgoing.String();
  return incoming.String();
}

MajorityConfig JointConfig::IDs() const {
  std::vector<uint64_t> ids;
  ids.reserve(incoming.size() + outgoing.size());
  std::set_union(incoming.begin(), incoming.end(), outgoing.begin(), outgoing.end(),
                 std::back_inserter(ids));
  return MajorityConfig(std::move(ids));
}

std::string JointConfig::Describe(const AckedIndexer& acked) const { return IDs().Describe(acked); }

Index JointConfig::CommittedIndex(const AckedIndexer& acked) const {
  return std::min(incoming.CommittedIndex(acked), outgoing.CommittedIndex(acked));
}

VoteResult JointConfig::VoteResult(const Votes& votes) const {
  const quorum::VoteResult r1 = incoming.VoteResult(votes);
  const quorum::VoteResult r2 = outgoing.VoteResult(votes);
  if (r1 == r2) return r1;  // they agree
  // If either half lost, losing is the only possible outcome.
  if (r1 == VoteResult::kVoteLost || r2 == VoteResult::kVoteLost) return VoteResult::kVoteLost;
  // One half won and the other is pending: the whole is pending.
  return VoteResult::kVotePending;
}

}  // namespace raftlog::raft::quorum
