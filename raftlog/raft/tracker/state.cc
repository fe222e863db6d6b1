#include "raftlog/raft/tracker/state.h"

namespace raftlog::raft::tracker {

std::string_view StateTypeName(StateType state) {
  switch (state) {
    case StateType::kStateProbe:
      return "StateProbe";
    case StateType::kStateReplicate:
      return "StateReplicate";
    case StateType::kStateSnapshot:
      return "StateSnapshot";
  }
  return "StateType(?)";
}

}  // namespace raftlog::raft::tracker
