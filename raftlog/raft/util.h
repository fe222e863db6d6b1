// Message classification, the raft core's error values and the Describe*
// formatters (etcd raft's util.go, plus the sentinel errors of raft.go and
// rawnode.go).
//
// The Describe* functions print exactly what etcd prints (etcd's
// interaction traces are compared byte for byte against ours), e.g.
//   DescribeMessage: "1->2 MsgApp Term:1 Log:1/10 Commit:10 Entries:[1/11 EntryNormal \"x\"]"
//   DescribeEntry:   "1/11 EntryNormal \"x\"", "1/3 EntryConfChangeV2 v2 l3"
//   DescribeHardState: "Term:1 Vote:1 Commit:3"
//
// Thread-safety: pure functions; thread-safe.

#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "raftlog/format/status.h"
#include "raftlog/raft/ready.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft {

// The pseudo node ids of the local storage threads with async storage
// writes: MsgStorageAppend goes to kLocalAppendThread, MsgStorageApply to
// kLocalApplyThread, and their responses come from there.
inline constexpr uint64_t kLocalAppendThread = std::numeric_limits<uint64_t>::max();
inline constexpr uint64_t kLocalApplyThread = std::numeric_limits<uint64_t>::max() - 1;

// Whether `type` is only ever generated locally (MsgHup, MsgBeat,
// MsgUnreachable, MsgSnapStatus, MsgCheckQuorum and the MsgStorage* family):
// RawNode::Step refuses those from the network.
bool IsLocalMsg(MessageType type);
// Whether `type` answers another message (MsgAppResp, MsgVoteResp,
// MsgHeartbeatResp, MsgUnreachable, MsgReadIndexResp, MsgPreVoteResp,
// MsgStorageAppendResp, MsgStorageApplyResp).
bool IsResponseMsg(MessageType type);
// Whether `id` is one of the local storage threads.
inline bool IsLocalMsgTarget(uint64_t id) {
  return id == kLocalAppendThread || id == kLocalApplyThread;
}

// The errors the raft core returns, with etcd's texts. Status compares by
// code, so `status == ErrProposalDropped()` tells them apart from each other.
//
// etcd's ErrProposalDropped: a proposal was ignored (no leader, forwarding
// disabled, a leadership transfer in progress, the uncommitted size quota,
// or the leader was removed); the proposer may retry. kFailedPrecondition.
Status ErrProposalDropped();
// etcd's ErrStepLocalMsg: a local message type arrived from the network.
// kInvalidArgument.
Status ErrStepLocalMsg();
// etcd's ErrStepPeerNotFound: a response from a peer the node does not
// track. kNotFound.
Status ErrStepPeerNotFound();

// Formats the data of a normal entry for Describe*; etcd's EntryFormatter.
// A null formatter prints the data as Go's %q does ("\"abc\"").
using EntryFormatter = std::function<std::string(std::string_view data)>;

// Go's %q of a byte string: double-quoted, with Go's escapes (\n, \t, \",
// \\, \xNN for bytes that are not valid printable UTF-8, ...).
std::string GoQuote(std::string_view bytes);

// "Term:1 Vote:2 Commit:3"; the vote only when set.
std::string DescribeHardState(const HardState& hs);
// "Lead:1 State:StateLeader".
std::string DescribeSoftState(const SoftState& ss);
// "Voters:[1 2] VotersOutgoing:[] Learners:[3] LearnersNext:[] AutoLeave:false".
std::string DescribeConfState(const ConfState& cs);
// "Index:5 Term:2 ConfState:<DescribeConfState>".
std::string DescribeSnapshot(const Snapshot& snap);
// A multi-line description: "Ready MustSync=true:\n" then the soft state,
// the hard state, read states, entries, snapshot, committed entries and
// messages that are present; "<empty Ready>" if there is nothing.
std::string DescribeReady(const Ready& rd, const EntryFormatter& f = nullptr);
// One message; MsgStorage* messages list their responses indented below.
std::string DescribeMessage(const Message& m, const EntryFormatter& f = nullptr);
// "term/index Type formatted-data"; conf changes print their changes
// ("v2 l3"), or the decoding error.
std::string DescribeEntry(const Entry& e, const EntryFormatter& f = nullptr);
// DescribeEntry of each entry, each followed by "\n".
std::string DescribeEntries(std::span<const Entry> ents, const EntryFormatter& f = nullptr);

// etcd's entsSize: the summed EntrySize() of `ents`.
uint64_t EntsSize(std::span<const Entry> ents);
// etcd's payloadsSize: the summed PayloadSize() of `ents`.
uint64_t PayloadsSize(std::span<const Entry> ents);

}  // namespace raftlog::raft
