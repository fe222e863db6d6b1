#include "raftlog/raft/confchange/restore.h"

#include <utility>
#include <vector>

#include "raftlog/raft/tracker/tracker.h"

namespace raftlog::raft::confchange {
namespace {

// The changes that rebuild `cs` from an empty configuration (etcd's
// toConfChangeSingle): `outgoing` builds, as a simple configuration, the
// voters being left; `incoming`, applied while entering the joint
// configuration, turns that into `cs`. Following the example of restore.h:
//   outgoing = add 1, add 2, add 4, add 6
//   incoming = remove 1, remove 2, remove 4, remove 6,
//              add 1, add 2, add 3, add-learner 5, add-learner 4
// After `outgoing` the voters are (1 2 4 6); entering the joint
// configuration with `incoming` gives (1 2 3)&&(1 2 4 6) learners=(5)
// learners_next=(4). Whether 5 was a learner before cannot be told, and
// does not matter: we pretend it was not.
struct Plan {
  std::vector<ConfChangeSingle> outgoing;
  std::vector<ConfChangeSingle> incoming;
};

Plan ToConfChangeSingle(const ConfState& cs) {
  Plan plan;
  for (uint64_t id : cs.voters_outgoing) {
    plan.outgoing.push_back({ConfChangeType::kAddNode, id});
  }
  for (uint64_t id : cs.voters_outgoing) {
    plan.incoming.push_back({ConfChangeType::kRemoveNode, id});
  }
  for (uint64_t id : cs.voters) plan.incoming.push_back({ConfChangeType::kAddNode, id});
  for (uint64_t id : cs.learners) plan.incoming.push_back({ConfChangeType::kAddLearnerNode, id});
  // Learners-to-be that are still outgoing voters; adding them as learners
  // while joint stages them in learners_next.
  for (uint64_t id : cs.learners_next) {
    plan.incoming.push_back({ConfChangeType::kAddLearnerNode, id});
  }
  return plan;
}

}  // namespace

Result<ConfigAndProgress> Restore(const Changer& changer, const ConfState& cs) {
  const Plan plan = ToConfChangeSingle(cs);

  // Each step runs on the result of the previous one (etcd's chain()).
  tracker::ProgressTracker trk = changer.tracker();
  auto install = [&trk](ConfigAndProgress cp) {
    trk.config = std::move(cp.config);
    trk.progress = std::move(cp.progress);
  };

  if (plan.outgoing.empty()) {
    // Not joint: apply the incoming changes one by one.
    for (const ConfChangeSingle& cc : plan.incoming) {
      RAFTLOG_ASSIGN_OR_RETURN(ConfigAndProgress cp,
                               Changer(trk, changer.last_index()).Simple({&cc, 1}));
      install(std::move(cp));
    }
  } else {
    // Joint: first make the outgoing voters the (simple) active config, one
    // at a time; then enter the joint state, which rotates them into the
    // outgoing half and builds the incoming half.
    for (const ConfChangeSingle& cc : plan.outgoing) {
      RAFTLOG_ASSIGN_OR_RETURN(ConfigAndProgress cp,
                               Changer(trk, changer.last_index()).Simple({&cc, 1}));
      install(std::move(cp));
    }
    RAFTLOG_ASSIGN_OR_RETURN(
        ConfigAndProgress cp,
        Changer(trk, changer.last_index()).EnterJoint(cs.auto_leave, plan.incoming));
    install(std::move(cp));
  }
  return ConfigAndProgress{std::move(trk.config), std::move(trk.progress)};
}

}  // namespace raftlog::raft::confchange
