#include "raftlog/raft/internal/log_slice.h"

#include <cinttypes>

#include "raftlog/raft/logger.h"

namespace raftlog::raft::internal {

std::string ToString(const EntryID& id) {
  return StringPrintf("{term:%" PRIu64 " index:%" PRIu64 "}", id.term, id.index);
}

Status LogSlice::Valid() const {
  // One walk checks properties 1-3 pairwise (prev against entries[0], then
  // each entry against its predecessor); property 4 is checked at the end.
  EntryID last = prev;
  for (const Entry& e : entries) {
    const EntryID id = PbEntryID(e);
    if (id.term < last.term || id.index != last.index + 1) {
      return Status::InvalidArgument(
          StringPrintf("leader term %" PRIu64 ": entries %s and %s not consistent", term,
                       ToString(last).c_str(), ToString(id).c_str()));
    }
    last = id;
  }
  if (term < last.term) {
    return Status::InvalidArgument(StringPrintf(
        "leader term %" PRIu64 ": entry %s has a newer term", term, ToString(last).c_str()));
  }
  return Status::OK();
}

}  // namespace raftlog::raft::internal
