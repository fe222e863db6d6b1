// The raft value types: our counterparts of etcd's raftpb messages.
//
// Plain structs with value semantics (copyable, comparable). Payloads
// (Entry::data, Snapshot::data, Message::context) are raftlog::Bytes:
// immutable and shared, so copying an entry (into the unstable log, a message
// to each follower, a storage, a Ready) never copies its bytes, as etcd's Go
// slices share them. An Entry handed out by a Storage may share its bytes
// with the storage; the bytes can never change, so callers may keep it as
// long as they like and replace its fields without affecting the storage.
//
// Field names follow raftpb (snake_case); enumerators carry etcd's names with
// Google's k prefix, and *Name() functions print etcd's spelling ("MsgApp",
// "EntryConfChangeV2") for logs and the interaction harness.
//
// Thread-safety: value types; thread-compatible.

#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/format/bytes.h"

namespace raftlog::raft {

// etcd's "None": no node / no leader / no vote.
inline constexpr uint64_t kNone = 0;

enum class EntryType : uint8_t {
  kNormal = 0,
  kConfChange = 1,    // data is an encoded ConfChange (V1)
  kConfChangeV2 = 2,  // data is an encoded ConfChangeV2
};
std::string_view EntryTypeName(EntryType type);  // "EntryNormal", ...

struct Entry {
  uint64_t term = 0;
  uint64_t index = 0;
  EntryType type = EntryType::kNormal;
  Bytes data;  // shared, immutable

  friend bool operator==(const Entry&, const Entry&) = default;
};

// The size of an entry for every byte limit that etcd expresses in encoded
// bytes: Storage::Entries' max_size, MaxSizePerMsg, MaxCommittedSizePerReady.
// It is the protobuf wire size of raftpb.Entry with Type, Term and Index always
// present and Data present when non-empty (etcd v3.6's sizes). This one
// function is used everywhere so that all limits agree.
uint64_t EntrySize(const Entry& e);

// The length of the longest prefix of `entries` whose summed EntrySize() is
// <= max_size, but at least 1 when `entries` is non-empty (etcd's limitSize):
// raft must never stall on one entry larger than the limit. 0 for an empty
// span. Works on a view, so callers can cut before they copy.
size_t LimitSizeCount(std::span<const Entry> entries, uint64_t max_size);

// Truncates `entries` to its first LimitSizeCount(*entries, max_size)
// entries. An empty vector stays empty.
void LimitSize(std::vector<Entry>* entries, uint64_t max_size);

// The payload size etcd uses for MaxUncommittedEntriesSize and inflight bytes.
inline uint64_t PayloadSize(const Entry& e) { return e.data.size(); }

// Persistent state on all servers (Raft paper, Figure 2).
struct HardState {
  uint64_t term = 0;
  uint64_t vote = kNone;
  uint64_t commit = 0;

  friend bool operator==(const HardState&, const HardState&) = default;
};
bool IsEmptyHardState(const HardState& hs);

// The membership configuration. In a joint configuration `voters` is the
// incoming and `voters_outgoing` the outgoing majority; `learners_next` holds
// voters that become learners when the joint configuration is left.
struct ConfState {
  std::vector<uint64_t> voters;
  std::vector<uint64_t> learners;
  std::vector<uint64_t> voters_outgoing;
  std::vector<uint64_t> learners_next;
  bool auto_leave = false;

  friend bool operator==(const ConfState&, const ConfState&) = default;
};
// Equal up to the order of the ids in each list (etcd's ConfState.Equivalent).
bool Equivalent(const ConfState& a, const ConfState& b);

struct SnapshotMetadata {
  ConfState conf_state;
  uint64_t index = 0;
  uint64_t term = 0;

  friend bool operator==(const SnapshotMetadata&, const SnapshotMetadata&) = default;
};

struct Snapshot {
  Bytes data;
  SnapshotMetadata metadata;

  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};
// A snapshot at index 0 carries no log position (etcd's IsEmptySnap).
inline bool IsEmptySnap(const Snapshot& s) { return s.metadata.index == 0; }

// etcd's raftpb.MessageType, with the same numeric values.
enum class MessageType : uint8_t {
  kMsgHup = 0,
  kMsgBeat = 1,
  kMsgProp = 2,
  kMsgApp = 3,
  kMsgAppResp = 4,
  kMsgVote = 5,
  kMsgVoteResp = 6,
  kMsgSnap = 7,
  kMsgHeartbeat = 8,
  kMsgHeartbeatResp = 9,
  kMsgUnreachable = 10,
  kMsgSnapStatus = 11,
  kMsgCheckQuorum = 12,
  kMsgTransferLeader = 13,
  kMsgTimeoutNow = 14,
  kMsgReadIndex = 15,
  kMsgReadIndexResp = 16,
  kMsgPreVote = 17,
  kMsgPreVoteResp = 18,
  kMsgStorageAppend = 19,
  kMsgStorageAppendResp = 20,
  kMsgStorageApply = 21,
  kMsgStorageApplyResp = 22,
  kMsgForgetLeader = 23,
};
inline constexpr int kMessageTypeCount = 24;
std::string_view MessageTypeName(MessageType type);  // "MsgHup", ...

struct Message {
  MessageType type = MessageType::kMsgHup;
  uint64_t to = kNone;
  uint64_t from = kNone;
  uint64_t term = 0;
  // The term of the entry at `index`, for MsgApp (the entry before
  // `entries`); for MsgAppResp rejections, the log term of the reject hint.
  uint64_t log_term = 0;
  uint64_t index = 0;
  std::vector<Entry> entries;
  uint64_t commit = 0;
  // Set on MsgStorageAppend: the vote of the HardState to persist.
  uint64_t vote = kNone;
  // Set on MsgSnap (and MsgStorageAppend carrying a snapshot). Shared because a
  // snapshot can be large and messages are copied when they are queued.
  std::shared_ptr<const Snapshot> snapshot;
  bool reject = false;
  uint64_t reject_hint = 0;
  Bytes context;
  // MsgStorageAppend / MsgStorageApply: the messages to deliver once the
  // local write is done.
  std::vector<Message> responses;

  friend bool operator==(const Message& a, const Message& b);
};

enum class ConfChangeType : uint8_t {
  kAddNode = 0,
  kRemoveNode = 1,
  kUpdateNode = 2,
  kAddLearnerNode = 3,
};
std::string_view ConfChangeTypeName(ConfChangeType type);  // "ConfChangeAddNode", ...

// How a ConfChangeV2 moves between configurations (etcd's ConfChangeTransition).
enum class ConfChangeTransition : uint8_t {
  kAuto = 0,           // simple if possible, else joint with automatic leave
  kJointImplicit = 1,  // joint, left automatically
  kJointExplicit = 2,  // joint, left by an explicit empty ConfChangeV2
};

// A membership change of the V1 API: one node at a time.
struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddNode;
  uint64_t node_id = kNone;
  std::string context;
  uint64_t id = 0;  // unused by raft; carried for applications (raftpb's ID)

  friend bool operator==(const ConfChange&, const ConfChange&) = default;
};

struct ConfChangeSingle {
  ConfChangeType type = ConfChangeType::kAddNode;
  uint64_t node_id = kNone;

  friend bool operator==(const ConfChangeSingle&, const ConfChangeSingle&) = default;
};

// A membership change of the V2 API: any number of changes, applied through a
// joint configuration when more than one voter changes. An empty ConfChangeV2
// asks to leave a joint configuration.
struct ConfChangeV2 {
  ConfChangeTransition transition = ConfChangeTransition::kAuto;
  std::vector<ConfChangeSingle> changes;
  std::string context;

  friend bool operator==(const ConfChangeV2&, const ConfChangeV2&) = default;
};

}  // namespace raftlog::raft
