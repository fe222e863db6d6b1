#include "raftlog/raft/config.h"

#include "raftlog/raft/util.h"

namespace raftlog::raft {

Status Config::Validate() {
  if (id == kNone) return Status::InvalidArgument("cannot use none as id");
  if (IsLocalMsgTarget(id)) return Status::InvalidArgument("cannot use local target as id");
  if (heartbeat_tick <= 0) {
    return Status::InvalidArgument("heartbeat tick must be greater than 0");
  }
  if (election_tick <= heartbeat_tick) {
    return Status::InvalidArgument("election tick must be greater than heartbeat tick");
  }
  if (storage == nullptr) return Status::InvalidArgument("storage cannot be nil");
  if (max_uncommitted_entries_size == 0) max_uncommitted_entries_size = kNoLimit;
  // The two limits used to be one parameter, hence this default.
  if (max_committed_size_per_ready == 0) max_committed_size_per_ready = max_size_per_msg;
  if (max_inflight_msgs <= 0) {
    return Status::InvalidArgument("max inflight messages must be greater than 0");
  }
  if (max_inflight_bytes == 0) {
    max_inflight_bytes = kNoLimit;
  } else if (max_inflight_bytes < max_size_per_msg) {
    return Status::InvalidArgument("max inflight bytes must be >= max message size");
  }
  if (logger == nullptr) logger = &GetLogger();
  if (read_only_option == ReadOnlyOption::kReadOnlyLeaseBased && !check_quorum) {
    return Status::InvalidArgument(
        "CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased");
  }
  return Status::OK();
}

}  // namespace raftlog::raft
