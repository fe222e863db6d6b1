#include "raftlog/raft/confchange/confchange.h"

#include <algorithm>
#include <utility>

#include "raftlog/raft/quorum/majority.h"

namespace raftlog::raft::confchange {
namespace {

using tracker::Config;
using tracker::Progress;
using tracker::ProgressMap;

Status Error(std::string message) { return Status::InvalidArgument(message); }

// The size of the symmetric difference of two voter sets: how many voters
// were added or removed between them.
size_t SymDiff(const quorum::MajorityConfig& a, const quorum::MajorityConfig& b) {
  size_t n = 0;
  for (uint64_t id : a) n += b.Contains(id) ? 0 : 1;
  for (uint64_t id : b) n += a.Contains(id) ? 0 : 1;
  return n;
}

// checkAndReturn: the input if it passes CheckInvariants, else the error.
Result<ConfigAndProgress> CheckAndReturn(ConfigAndProgress cp) {
  RAFTLOG_RETURN_IF_ERROR(CheckInvariants(cp.config, cp.progress));
  return cp;
}

}  // namespace

Result<ConfigAndProgress> Changer::CheckAndCopy() const {
  return CheckAndReturn(ConfigAndProgress{tracker_->config, tracker_->progress});
}

Result<ConfigAndProgress> Changer::EnterJoint(bool auto_leave,
                                              std::span<const ConfChangeSingle> changes) const {
  RAFTLOG_ASSIGN_OR_RETURN(ConfigAndProgress cp, CheckAndCopy());
  if (cp.config.Joint()) return Error("config is already joint");
  if (cp.config.voters.incoming.empty()) {
    // Adding voters to an empty config is allowed (bootstrap and tests),
    // but such a config cannot become joint.
    return Error("can't make a zero-voter config joint");
  }
  // C_old becomes the outgoing half; the changes then shape the incoming one.
  cp.config.voters.outgoing = cp.config.voters.incoming;
  RAFTLOG_RETURN_IF_ERROR(Apply(&cp, changes));
  cp.config.auto_leave = auto_leave;
  return CheckAndReturn(std::move(cp));
}

Result<ConfigAndProgress> Changer::LeaveJoint() const {
  RAFTLOG_ASSIGN_OR_RETURN(ConfigAndProgress cp, CheckAndCopy());
  if (!cp.config.Joint()) return Error("can't leave a non-joint config");
  // Staged demotions take effect now that their peers leave the outgoing
  // half. CheckInvariants guaranteed them a progress.
  for (uint64_t id : cp.config.learners_next) {
    cp.config.learners.insert(id);
    cp.progress.at(id).is_learner = true;
  }
  cp.config.learners_next.clear();
  // Peers that were only outgoing voters are no longer tracked.
  for (uint64_t id : cp.config.voters.outgoing) {
    if (!cp.config.voters.incoming.Contains(id) && !cp.config.learners.contains(id)) {
      cp.progress.erase(id);
    }
  }
  cp.config.voters.outgoing.clear();
  cp.config.auto_leave = false;
  return CheckAndReturn(std::move(cp));
}

Result<ConfigAndProgress> Changer::Simple(std::span<const ConfChangeSingle> changes) const {
  RAFTLOG_ASSIGN_OR_RETURN(ConfigAndProgress cp, CheckAndCopy());
  if (cp.config.Joint()) return Error("can't apply simple config change in joint config");
  RAFTLOG_RETURN_IF_ERROR(Apply(&cp, changes));
  if (SymDiff(tracker_->config.voters.incoming, cp.config.voters.incoming) > 1) {
    return Error("more than one voter changed without entering joint config");
  }
  return CheckAndReturn(std::move(cp));
}

Status Changer::Apply(ConfigAndProgress* cp, std::span<const ConfChangeSingle> changes) const {
  for (const ConfChangeSingle& cc : changes) {
    // etcd sets the node id to zero when it decides (above raft) not to
    // apply a change; such changes are skipped.
    if (cc.node_id == 0) continue;
    switch (cc.type) {
      case ConfChangeType::kAddNode:
        MakeVoter(cp, cc.node_id);
        break;
      case ConfChangeType::kAddLearnerNode:
        MakeLearner(cp, cc.node_id);
        break;
      case ConfChangeType::kRemoveNode:
        Remove(cp, cc.node_id);
        break;
      case ConfChangeType::kUpdateNode:
        break;
      default:
        return Error("unexpected conf type " + std::to_string(static_cast<int>(cc.type)));
    }
  }
  if (cp->config.voters.incoming.empty()) return Error("removed all voters");
  return Status::OK();
}

void Changer::MakeVoter(ConfigAndProgress* cp, uint64_t id) const {
  auto it = cp->progress.find(id);
  if (it == cp->progress.end()) {
    InitProgress(cp, id, /*is_learner=*/false);
    return;
  }
  it->second.is_learner = false;
  cp->config.learners.erase(id);
  cp->config.learners_next.erase(id);
  cp->config.voters.incoming.Insert(id);
}

void Changer::MakeLearner(ConfigAndProgress* cp, uint64_t id) const {
  auto it = cp->progress.find(id);
  if (it == cp->progress.end()) {
    InitProgress(cp, id, /*is_learner=*/true);
    return;
  }
  if (it->second.is_learner) return;
  // Remove the voter from the incoming half, but keep its progress: a
  // demoted voter keeps its replication state.
  Progress saved = std::move(it->second);
  Remove(cp, id);
  Progress& pr = cp->progress.insert_or_assign(id, std::move(saved)).first->second;
  // While the peer is still an outgoing voter it cannot be a learner too
  // (Config's invariant): stage it until LeaveJoint. Otherwise demote now.
  if (cp->config.voters.outgoing.Contains(id)) {
    cp->config.learners_next.insert(id);
  } else {
    pr.is_learner = true;
    cp->config.learners.insert(id);
  }
}

void Changer::Remove(ConfigAndProgress* cp, uint64_t id) const {
  if (!cp->progress.contains(id)) return;
  cp->config.voters.incoming.Erase(id);
  cp->config.learners.erase(id);
  cp->config.learners_next.erase(id);
  // An outgoing voter keeps its progress until the joint config is left.
  if (!cp->config.voters.outgoing.Contains(id)) cp->progress.erase(id);
}

void Changer::InitProgress(ConfigAndProgress* cp, uint64_t id, bool is_learner) const {
  if (is_learner) {
    cp->config.learners.insert(id);
  } else {
    cp->config.voters.incoming.Insert(id);
  }
  Progress pr;
  // Starting at the last index means the follower is probed there first.
  // etcd notes this is optimistic (a new follower usually has no log and will
  // need a snapshot), but the application may have installed one out of band.
  pr.match = 0;
  pr.next = std::max<uint64_t>(last_index_, 1);  // invariant: match < next
  pr.inflights = tracker::Inflights(tracker_->max_inflight, tracker_->max_inflight_bytes);
  pr.is_learner = is_learner;
  // A new peer counts as recently active: otherwise CheckQuorum could make
  // the leader step down before the peer had a chance to answer.
  pr.recent_active = true;
  cp->progress.insert_or_assign(id, std::move(pr));
}

Status CheckInvariants(const tracker::Config& config, const tracker::ProgressMap& progress) {
  auto missing = [&](uint64_t id) { return Error("no progress for " + std::to_string(id)); };
  for (uint64_t id : config.voters.IDs()) {
    if (!progress.contains(id)) return missing(id);
  }
  for (uint64_t id : config.learners) {
    if (!progress.contains(id)) return missing(id);
  }
  for (uint64_t id : config.learners_next) {
    if (!progress.contains(id)) return missing(id);
  }

  // A staged learner was staged because it is still an outgoing voter.
  for (uint64_t id : config.learners_next) {
    if (!config.voters.outgoing.Contains(id)) {
      return Error(std::to_string(id) + " is in LearnersNext, but not Voters[1]");
    }
    if (progress.at(id).is_learner) {
      return Error(std::to_string(id) + " is in LearnersNext, but is already marked as learner");
    }
  }
  // Learners and voters do not intersect at all.
  for (uint64_t id : config.learners) {
    if (config.voters.outgoing.Contains(id)) {
      return Error(std::to_string(id) + " is in Learners and Voters[1]");
    }
    if (config.voters.incoming.Contains(id)) {
      return Error(std::to_string(id) + " is in Learners and Voters[0]");
    }
    if (!progress.at(id).is_learner) {
      return Error(std::to_string(id) + " is in Learners, but is not marked as learner");
    }
  }

  if (!config.Joint()) {
    // etcd also requires the outgoing half to be nil rather than empty; an
    // empty MajorityConfig is the only representation here.
    if (!config.learners_next.empty()) {
      return Error("cfg.LearnersNext must be nil when not joint");
    }
    if (config.auto_leave) return Error("AutoLeave must be false when not joint");
  }
  return Status::OK();
}

std::string Describe(std::span<const ConfChangeSingle> changes) {
  std::string out;
  for (const ConfChangeSingle& cc : changes) {
    if (!out.empty()) out += ' ';
    out += ConfChangeTypeName(cc.type);
    out += '(' + std::to_string(cc.node_id) + ')';
  }
  return out;
}

}  // namespace raftlog::raft::confchange
