// Membership-change helpers of etcd raft's raftpb package (confchange.go):
// ConfChangeI, the uniform view of V1 and V2 changes; the joint-consensus
// questions a ConfChangeV2 answers; the "v1 l2 r3 u4" shorthand; and the
// protobuf encoding of ConfChange and ConfChangeV2 as entry data.
//
// Wire compatibility. The encodings are etcd's raftpb wire format (field
// numbers of raft.proto: ConfChange{id=1, type=2, node_id=3, context=4},
// ConfChangeSingle{type=1, node_id=2}, ConfChangeV2{transition=1,
// changes=2, context=3}), so entry data written by etcd decodes here and the
// other way round:
// - Encode writes what etcd v3.6 (gogo-protobuf) writes, byte for byte: the
//   scalar fields always, in field-number order, and context only when
//   non-empty. etcd v3.7+ (proto2 with presence) omits unset fields; the
//   decoder accepts that, any field order, repeated scalars (last wins),
//   non-minimal varints and unknown fields (skipped), as protobuf parsers do.
// - Decode treats its input as untrusted: any malformation is
//   Status::Corruption with the message name and byte offset. It never reads
//   out of bounds, and never allocates from a length it has not checked
//   against the bytes present. It also rejects enum values outside
//   ConfChangeType / ConfChangeTransition: proto2 would drop them to unknown
//   fields and leave the default (ConfChangeAddNode), silently turning e.g.
//   a removal into an addition.
//
// Thread-safety: value types and pure functions; thread-compatible.

#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "raftlog/format/result.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft {

// What ConfChangeV2's EnterJoint() answers.
struct EnterJointResult {
  // Whether raft leaves the joint configuration by itself (only meaningful
  // when `ok`).
  bool auto_leave = false;
  // Whether the change uses joint consensus (etcd's `ok`).
  bool ok = false;
};

// The V2 change that carries out the same operation as `cc`: one change, the
// automatic transition, the same context.
ConfChangeV2 AsV2(const ConfChange& cc);

// Whether `cc` uses joint consensus, and if so whether it is left
// automatically. It does when it has more than one change or asks for a
// joint transition explicitly; auto_leave is then true unless the transition
// is kJointExplicit. A single change with kAuto is simple: {false, false}.
// (Some multi-change proposals could be simple, depending on the
// configuration they apply to; etcd keeps the rule simple and uses joint
// consensus liberally.)
// REQUIRES: a known transition (aborts with etcd's "unknown transition").
EnterJointResult EnterJoint(const ConfChangeV2& cc);

// Whether `cc` leaves a joint configuration: it is the zero ConfChangeV2
// (kAuto, no changes), whatever its context.
bool LeaveJoint(const ConfChangeV2& cc);

// A V1 or V2 membership change (etcd's ConfChangeI interface, here a
// variant).
class ConfChangeI {
 public:
  ConfChangeI(ConfChange cc) : cc_(std::move(cc)) {}    // NOLINT: implicit, as Go's interface
  ConfChangeI(ConfChangeV2 cc) : cc_(std::move(cc)) {}  // NOLINT

  // The change as a V2 change (a copy; a V1 change is converted by AsV2).
  ConfChangeV2 AsV2() const;
  // The V1 change, or nullptr for a V2 change. Valid while *this is.
  const ConfChange* AsV1() const { return std::get_if<ConfChange>(&cc_); }

  // EnterJoint() and LeaveJoint() of AsV2(): a V1 change never does either.
  EnterJointResult EnterJoint() const;
  bool LeaveJoint() const;

  const std::variant<ConfChange, ConfChangeV2>& variant() const { return cc_; }

  friend bool operator==(const ConfChangeI&, const ConfChangeI&) = default;

 private:
  std::variant<ConfChange, ConfChangeV2> cc_;
};

// Parses the space-separated shorthand of etcd's tests, e.g. "v1 l2 r3 u4":
// v = add voter, l = add learner, r = remove, u = update, followed by the
// node id in decimal. An empty (or all-blank) string gives no changes.
// Tokens are separated by single spaces, as in etcd.
// Errors (InvalidArgument): "unknown token <tok>" for a token shorter than
// two characters; "unknown input: <tok>" for an unknown letter; a node id
// that is not a decimal uint64.
Result<std::vector<ConfChangeSingle>> ConfChangesFromString(std::string_view s);

// The inverse of ConfChangesFromString ("unknown" for an unknown type).
std::string ConfChangesToString(std::span<const ConfChangeSingle> changes);

// The protobuf encoding of `cc` (see "Wire compatibility" above).
std::string EncodeConfChange(const ConfChange& cc);
std::string EncodeConfChangeV2(const ConfChangeV2& cc);

// Decode protobuf-encoded entry data. Empty data is the zero message (so an
// empty EntryConfChangeV2 entry is the leave-joint change).
// Errors: Corruption describing the malformation and its offset.
Result<ConfChange> DecodeConfChange(std::string_view data);
Result<ConfChangeV2> DecodeConfChangeV2(std::string_view data);

// An encoded change and the entry type that carries it.
struct MarshaledConfChange {
  EntryType type = EntryType::kConfChangeV2;
  std::string data;
};

// etcd's MarshalConfChange: a V1 change as EntryConfChange, a V2 change as
// EntryConfChangeV2, and no change at all (nullopt, etcd's nil) as an
// EntryConfChangeV2 with empty data, which decodes as the zero ConfChangeV2
// (leave joint) and weighs nothing against proposal size limits.
MarshaledConfChange MarshalConfChange(const std::optional<ConfChangeI>& cc);

// The change carried by a conf-change entry, decoded according to its type.
// Errors: InvalidArgument for an EntryNormal entry; Corruption for bad data.
Result<ConfChangeI> ConfChangeFromEntry(const Entry& entry);

}  // namespace raftlog::raft
