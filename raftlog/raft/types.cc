#include "raftlog/raft/types.h"

#include <algorithm>

namespace raftlog::raft {

namespace {

// Bytes of a protobuf varint (tag or value); raft/ does no format/ I/O, so
// this small copy of the rule lives here.
uint64_t VarintSize(uint64_t v) {
  uint64_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

std::vector<uint64_t> Sorted(std::vector<uint64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

std::string_view EntryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kNormal:
      return "EntryNormal";
    case EntryType::kConfChange:
      return "EntryConfChange";
    case EntryType::kConfChangeV2:
      return "EntryConfChangeV2";
  }
  return "EntryUnknown";
}

uint64_t EntrySize(const Entry& e) {
  // Fields 1 (Type), 2 (Term), 3 (Index): a one-byte tag plus a varint each;
  // field 4 (Data): tag, varint length, bytes.
  uint64_t n =
      3 + VarintSize(static_cast<uint64_t>(e.type)) + VarintSize(e.term) + VarintSize(e.index);
  if (!e.data.empty()) n += 1 + VarintSize(e.data.size()) + e.data.size();
  return n;
}

size_t LimitSizeCount(std::span<const Entry> entries, uint64_t max_size) {
  if (entries.empty()) return 0;
  uint64_t size = EntrySize(entries[0]);
  size_t keep = 1;
  for (; keep < entries.size(); ++keep) {
    size += EntrySize(entries[keep]);
    if (size > max_size) break;
  }
  return keep;
}

void LimitSize(std::vector<Entry>* entries, uint64_t max_size) {
  entries->resize(LimitSizeCount(*entries, max_size));
}

bool IsEmptyHardState(const HardState& hs) { return hs == HardState{}; }

bool Equivalent(const ConfState& a, const ConfState& b) {
  return Sorted(a.voters) == Sorted(b.voters) && Sorted(a.learners) == Sorted(b.learners) &&
         Sorted(a.voters_outgoing) == Sorted(b.voters_outgoing) &&
         Sorted(a.learners_next) == Sorted(b.learners_next) && a.auto_leave == b.auto_leave;
}

std::string_view MessageTypeName(MessageType type) {
  static constexpr std::string_view kNames[kMessageTypeCount] = {
      "MsgHup",
      "MsgBeat",
      "MsgProp",
      "MsgApp",
      "MsgAppResp",
      "MsgVote",
      "MsgVoteResp",
      "MsgSnap",
      "MsgHeartbeat",
      "MsgHeartbeatResp",
      "MsgUnreachable",
      "MsgSnapStatus",
      "MsgCheckQuorum",
      "MsgTransferLeader",
      "MsgTimeoutNow",
      "MsgReadIndex",
      "MsgReadIndexResp",
      "MsgPreVote",
      "MsgPreVoteResp",
      "MsgStorageAppend",
      "MsgStorageAppendResp",
      "MsgStorageApply",
      "MsgStorageApplyResp",
      "MsgForgetLeader",
  };
  const auto i = static_cast<size_t>(type);
  return i < std::size(kNames) ? kNames[i] : "MsgUnknown";
}

std::string_view ConfChangeTypeName(ConfChangeType type) {
  switch (type) {
    case ConfChangeType::kAddNode:
      return "ConfChangeAddNode";
    case ConfChangeType::kRemoveNode:
      return "ConfChangeRemoveNode";
    case ConfChangeType::kUpdateNode:
      return "ConfChangeUpdateNode";
    case ConfChangeType::kAddLearnerNode:
      return "ConfChangeAddLearnerNode";
  }
  return "ConfChangeUnknown";
}

bool operator==(const Message& a, const Message& b) {
  const bool same_snapshot = (a.snapshot == nullptr || b.snapshot == nullptr)
                                 ? (a.snapshot == nullptr) == (b.snapshot == nullptr)
                                 : *a.snapshot == *b.snapshot;
  return a.type == b.type && a.to == b.to && a.from == b.from && a.term == b.term &&
         a.log_term == b.log_term && a.index == b.index && a.entries == b.entries &&
         a.commit == b.commit && a.vote == b.vote && same_snapshot && a.reject == b.reject &&
         a.reject_hint == b.reject_hint && a.context == b.context && a.responses == b.responses;
}

}  // namespace raftlog::raft
