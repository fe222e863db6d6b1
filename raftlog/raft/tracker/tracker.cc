#include "raftlog/raft/tracker/tracker.h"

#include "raftlog/raft/quorum/majority.h"

namespace raftlog::raft::tracker {
namespace {

// "(1 2 3)": the format etcd prints learner sets in (as a MajorityConfig).
std::string IdSetString(const std::set<uint64_t>& ids) {
  return quorum::MajorityConfig(ids.begin(), ids.end()).String();
}

// Acknowledged indexes are the Progress match indexes (etcd's
// matchAckIndexer). Peers without a progress are unknown.
class MatchAckIndexer final : public quorum::AckedIndexer {
 public:
  explicit MatchAckIndexer(const ProgressMap& progress) : progress_(progress) {}

  std::optional<quorum::Index> AckedIndex(uint64_t voter) const override {
    auto it = progress_.find(voter);
    if (it == progress_.end()) return std::nullopt;
    return it->second.match;
  }

 private:
  const ProgressMap& progress_;
};

}  // namespace

std::string Config::String() const {
  std::string out = "voters=" + voters.String();
  if (!learners.empty()) out += " learners=" + IdSetString(learners);
  if (!learners_next.empty()) out += " learners_next=" + IdSetString(learners_next);
  if (auto_leave) out += " autoleave";
  return out;
}

raft::ConfState ProgressTracker::ConfState() const {
  raft::ConfState cs;
  cs.voters = config.voters.incoming.Slice();
  cs.voters_outgoing = config.voters.outgoing.Slice();
  cs.learners.assign(config.learners.begin(), config.learners.end());
  cs.learners_next.assign(config.learners_next.begin(), config.learners_next.end());
  cs.auto_leave = config.auto_leave;
  return cs;
}

uint64_t ProgressTracker::Committed() const {
  return config.voters.CommittedIndex(MatchAckIndexer(progress));
}

bool ProgressTracker::QuorumActive() const {
  quorum::Votes active;
  for (const auto& [id, pr] : progress) {
    if (!pr.is_learner) active.emplace(id, pr.recent_active);
  }
  return config.voters.VoteResult(active) == quorum::VoteResult::kVoteWon;
}

std::vector<uint64_t> ProgressTracker::VoterNodes() const { return config.voters.IDs().Slice(); }

std::vector<uint64_t> ProgressTracker::LearnerNodes() const {
  return std::vector<uint64_t>(config.learners.begin(), config.learners.end());
}

TallyResult ProgressTracker::TallyVotes() const {
  // Count over the tracked voters rather than over `votes`, which may hold
  // votes of peers no longer in the configuration. The counts are only
  // informational, but they might as well be right.
  TallyResult tally;
  for (const auto& [id, pr] : progress) {
    if (pr.is_learner) continue;
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    if (it->second) {
      ++tally.granted;
    } else {
      ++tally.rejected;
    }
  }
  tally.result = config.voters.VoteResult(votes);
  return tally;
}

}  // namespace raftlog::raft::tracker
