#include "raftlog/raft/node_status.h"

#include <cinttypes>

#include "raftlog/raft/logger.h"
#include "raftlog/raft/util.h"

namespace raftlog::raft {

std::string NodeStatus::String() const {
  std::string j = StringPrintf(
      "{\"id\":\"%" PRIx64 "\",\"term\":%" PRIu64 ",\"vote\":\"%" PRIx64 "\",\"commit\":%" PRIu64
      ",\"lead\":\"%" PRIx64 "\",\"raftState\":%s,\"applied\":%" PRIu64 ",\"progress\":{",
      id, hard_state.term, hard_state.vote, hard_state.commit, soft_state.lead,
      GoQuote(StateTypeName(soft_state.raft_state)).c_str(), applied);
  bool first = true;
  for (const auto& [peer, pr] : progress) {
    if (!first) j += ',';
    first = false;
    j += StringPrintf("\"%" PRIx64 "\":{\"match\":%" PRIu64 ",\"next\":%" PRIu64 ",\"state\":%s}",
                      peer, pr.match, pr.next, GoQuote(tracker::StateTypeName(pr.state)).c_str());
  }
  j += StringPrintf("},\"leadtransferee\":\"%" PRIx64 "\"}", lead_transferee);
  return j;
}

}  // namespace raftlog::raft
