#include "raftlog/raft/quorum/quorum.h"

namespace raftlog::raft::quorum {

std::string IndexString(Index index) {
  if (index == kInfiniteIndex) return "∞";
  return std::to_string(index);
}

std::string_view VoteResultName(VoteResult result) {
  switch (result) {
    case VoteResult::kVotePending:
      return "VotePending";
    case VoteResult::kVoteLost:
      return "VoteLost";
    case VoteResult::kVoteWon:
      return "VoteWon";
  }
  return "VoteResult(?)";
}

std::optional<Index> MapAckIndexer::AckedIndex(uint64_t voter) const {
  auto it = acked_.find(voter);
  if (it == acked_.end()) return std::nullopt;
  return it->second;
}

}  // namespace raftlog::raft::quorum
