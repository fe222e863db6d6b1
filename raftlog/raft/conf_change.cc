#include "raftlog/raft/conf_change.h"

#include <charconv>
#include <string>
#include <system_error>

#include "raftlog/format/status.h"
#include "raftlog/raft/internal/proto_wire.h"

namespace raftlog::raft {
namespace {

using internal::ProtoReader;
using internal::PutLengthDelimitedField;
using internal::PutVarintField;
using internal::Tag;
using internal::WireType;

// raft.proto field numbers.
constexpr uint32_t kConfChangeId = 1;
constexpr uint32_t kConfChangeType = 2;
constexpr uint32_t kConfChangeNodeId = 3;
constexpr uint32_t kConfChangeContext = 4;
constexpr uint32_t kSingleType = 1;
constexpr uint32_t kSingleNodeId = 2;
constexpr uint32_t kV2Transition = 1;
constexpr uint32_t kV2Changes = 2;
constexpr uint32_t kV2Context = 3;

constexpr uint64_t kMaxConfChangeType = static_cast<uint64_t>(ConfChangeType::kAddLearnerNode);
constexpr uint64_t kMaxTransition = static_cast<uint64_t>(ConfChangeTransition::kJointExplicit);

// Reads a varint field's value, checking the wire type first.
Result<uint64_t> ReadVarintValue(ProtoReader* r, const Tag& tag) {
  if (tag.wire_type != WireType::kVarint) return r->WrongWireType(tag, WireType::kVarint);
  return r->ReadVarint();
}

// Reads a bytes (or embedded message) field's value, checking the wire type.
Result<std::string_view> ReadBytesValue(ProtoReader* r, const Tag& tag) {
  if (tag.wire_type != WireType::kLengthDelimited) {
    return r->WrongWireType(tag, WireType::kLengthDelimited);
  }
  return r->ReadLengthDelimited();
}

// Reads an enum field whose valid values are [0, max].
Result<uint64_t> ReadEnumValue(ProtoReader* r, const Tag& tag, uint64_t max,
                               std::string_view enum_name) {
  const size_t value_offset = r->offset();
  RAFTLOG_ASSIGN_OR_RETURN(uint64_t value, ReadVarintValue(r, tag));
  if (value > max) {
    return r->ErrorAt("field " + std::to_string(tag.field) + ": " + std::to_string(value) +
                          " is not a " + std::string(enum_name),
                      value_offset);
  }
  return value;
}

Result<ConfChangeSingle> DecodeConfChangeSingle(std::string_view data, size_t base_offset) {
  ConfChangeSingle cc;
  ProtoReader r(data, "ConfChangeSingle", base_offset);
  while (!r.done()) {
    RAFTLOG_ASSIGN_OR_RETURN(Tag tag, r.ReadTag());
    switch (tag.field) {
      case kSingleType: {
        RAFTLOG_ASSIGN_OR_RETURN(uint64_t v,
                                 ReadEnumValue(&r, tag, kMaxConfChangeType, "ConfChangeType"));
        cc.type = static_cast<ConfChangeType>(v);
        break;
      }
      case kSingleNodeId: {
        RAFTLOG_ASSIGN_OR_RETURN(cc.node_id, ReadVarintValue(&r, tag));
        break;
      }
      default:
        RAFTLOG_RETURN_IF_ERROR(r.SkipValue(tag.wire_type));
    }
  }
  return cc;
}

// Trims ASCII white space at both ends (Go's strings.TrimSpace on ASCII).
std::string_view TrimSpace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  const size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

}  // namespace

ConfChangeV2 AsV2(const ConfChange& cc) {
  ConfChangeV2 v2;
  v2.changes.push_back(ConfChangeSingle{cc.type, cc.node_id});
  v2.context = cc.context;
  return v2;
}

EnterJointResult EnterJoint(const ConfChangeV2& cc) {
  if (cc.transition == ConfChangeTransition::kAuto && cc.changes.size() <= 1) {
    return EnterJointResult{false, false};
  }
  switch (cc.transition) {
    case ConfChangeTransition::kAuto:
    case ConfChangeTransition::kJointImplicit:
      return EnterJointResult{true, true};
    case ConfChangeTransition::kJointExplicit:
      return EnterJointResult{false, true};
  }
  RAFTLOG_CHECK_MSG(false,
                    "unknown transition: " + std::to_string(static_cast<int>(cc.transition)));
  return EnterJointResult{};
}

bool LeaveJoint(const ConfChangeV2& cc) {
  return cc.transition == ConfChangeTransition::kAuto && cc.changes.empty();
}

ConfChangeV2 ConfChangeI::AsV2() const {
  if (const ConfChange* v1 = AsV1()) return raft::AsV2(*v1);
  return std::get<ConfChangeV2>(cc_);
}

EnterJointResult ConfChangeI::EnterJoint() const {
  // A V1 change is always simple; skip the conversion.
  if (AsV1() != nullptr) return EnterJointResult{};
  return raft::EnterJoint(std::get<ConfChangeV2>(cc_));
}

bool ConfChangeI::LeaveJoint() const {
  if (AsV1() != nullptr) return false;
  return raft::LeaveJoint(std::get<ConfChangeV2>(cc_));
}

Result<std::vector<ConfChangeSingle>> ConfChangesFromString(std::string_view s) {
  std::vector<ConfChangeSingle> changes;
  s = TrimSpace(s);
  if (s.empty()) return changes;
  while (true) {
    const size_t space = s.find(' ');
    const std::string_view tok = s.substr(0, space);
    if (tok.size() < 2) return Status::InvalidArgument("unknown token " + std::string(tok));
    ConfChangeSingle cc;
    switch (tok[0]) {
      case 'v':
        cc.type = ConfChangeType::kAddNode;
        break;
      case 'l':
        cc.type = ConfChangeType::kAddLearnerNode;
        break;
      case 'r':
        cc.type = ConfChangeType::kRemoveNode;
        break;
      case 'u':
        cc.type = ConfChangeType::kUpdateNode;
        break;
      default:
        return Status::InvalidArgument("unknown input: " + std::string(tok));
    }
    const std::string_view digits = tok.substr(1);
    const auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), cc.node_id, 10);
    if (ec == std::errc::result_out_of_range) {
      return Status::InvalidArgument("strconv.ParseUint: parsing \"" + std::string(digits) +
                                     "\": value out of range");
    }
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      return Status::InvalidArgument("strconv.ParseUint: parsing \"" + std::string(digits) +
                                     "\": invalid syntax");
    }
    changes.push_back(cc);
    if (space == std::string_view::npos) break;
    s = s.substr(space + 1);
  }
  return changes;
}

std::string ConfChangesToString(std::span<const ConfChangeSingle> changes) {
  std::string out;
  for (size_t i = 0; i < changes.size(); ++i) {
    if (i > 0) out += ' ';
    switch (changes[i].type) {
      case ConfChangeType::kAddNode:
        out += 'v';
        break;
      case ConfChangeType::kAddLearnerNode:
        out += 'l';
        break;
      case ConfChangeType::kRemoveNode:
        out += 'r';
        break;
      case ConfChangeType::kUpdateNode:
        out += 'u';
        break;
      default:
        out += "unknown";
    }
    out += std::to_string(changes[i].node_id);
  }
  return out;
}

std::string EncodeConfChange(const ConfChange& cc) {
  // gogo-protobuf's (etcd v3.6) layout: fields in number order, the
  // non-nullable scalars always present.
  std::string out;
  PutVarintField(&out, kConfChangeId, cc.id);
  PutVarintField(&out, kConfChangeType, static_cast<uint64_t>(cc.type));
  PutVarintField(&out, kConfChangeNodeId, cc.node_id);
  if (!cc.context.empty()) PutLengthDelimitedField(&out, kConfChangeContext, cc.context);
  return out;
}

std::string EncodeConfChangeV2(const ConfChangeV2& cc) {
  std::string out;
  PutVarintField(&out, kV2Transition, static_cast<uint64_t>(cc.transition));
  std::string single;
  for (const ConfChangeSingle& change : cc.changes) {
    single.clear();
    PutVarintField(&single, kSingleType, static_cast<uint64_t>(change.type));
    PutVarintField(&single, kSingleNodeId, change.node_id);
    PutLengthDelimitedField(&out, kV2Changes, single);
  }
  if (!cc.context.empty()) PutLengthDelimitedField(&out, kV2Context, cc.context);
  return out;
}

Result<ConfChange> DecodeConfChange(std::string_view data) {
  ConfChange cc;
  ProtoReader r(data, "ConfChange");
  while (!r.done()) {
    RAFTLOG_ASSIGN_OR_RETURN(Tag tag, r.ReadTag());
    switch (tag.field) {
      case kConfChangeId: {
        RAFTLOG_ASSIGN_OR_RETURN(cc.id, ReadVarintValue(&r, tag));
        break;
      }
      case kConfChangeType: {
        RAFTLOG_ASSIGN_OR_RETURN(uint64_t v,
                                 ReadEnumValue(&r, tag, kMaxConfChangeType, "ConfChangeType"));
        cc.type = static_cast<ConfChangeType>(v);
        break;
      }
      case kConfChangeNodeId: {
        RAFTLOG_ASSIGN_OR_RETURN(cc.node_id, ReadVarintValue(&r, tag));
        break;
      }
      case kConfChangeContext: {
        RAFTLOG_ASSIGN_OR_RETURN(std::string_view context, ReadBytesValue(&r, tag));
        cc.context.assign(context);
        break;
      }
      default:
        RAFTLOG_RETURN_IF_ERROR(r.SkipValue(tag.wire_type));
    }
  }
  return cc;
}

Result<ConfChangeV2> DecodeConfChangeV2(std::string_view data) {
  ConfChangeV2 cc;
  ProtoReader r(data, "ConfChangeV2");
  while (!r.done()) {
    RAFTLOG_ASSIGN_OR_RETURN(Tag tag, r.ReadTag());
    switch (tag.field) {
      case kV2Transition: {
        RAFTLOG_ASSIGN_OR_RETURN(uint64_t v,
                                 ReadEnumValue(&r, tag, kMaxTransition, "ConfChangeTransition"));
        cc.transition = static_cast<ConfChangeTransition>(v);
        break;
      }
      case kV2Changes: {
        // Each element takes at least two bytes of input (tag and length),
        // so the vector cannot grow beyond data.size() / 2.
        RAFTLOG_ASSIGN_OR_RETURN(std::string_view payload, ReadBytesValue(&r, tag));
        RAFTLOG_ASSIGN_OR_RETURN(ConfChangeSingle single,
                                 DecodeConfChangeSingle(payload, r.offset() - payload.size()));
        cc.changes.push_back(single);
        break;
      }
      case kV2Context: {
        RAFTLOG_ASSIGN_OR_RETURN(std::string_view context, ReadBytesValue(&r, tag));
        cc.context.assign(context);
        break;
      }
      default:
        RAFTLOG_RETURN_IF_ERROR(r.SkipValue(tag.wire_type));
    }
  }
  return cc;
}

MarshaledConfChange MarshalConfChange(const std::optional<ConfChangeI>& cc) {
  if (!cc.has_value()) {
    // etcd's nil ConfChangeI: empty data, which decodes as the zero
    // ConfChangeV2 and can never be refused for its size.
    return MarshaledConfChange{EntryType::kConfChangeV2, {}};
  }
  if (const ConfChange* v1 = cc->AsV1()) {
    return MarshaledConfChange{EntryType::kConfChange, EncodeConfChange(*v1)};
  }
  return MarshaledConfChange{EntryType::kConfChangeV2,
                             EncodeConfChangeV2(std::get<ConfChangeV2>(cc->variant()))};
}

Result<ConfChangeI> ConfChangeFromEntry(const Entry& entry) {
  switch (entry.type) {
    case EntryType::kConfChange: {
      RAFTLOG_ASSIGN_OR_RETURN(ConfChange cc, DecodeConfChange(entry.data));
      return ConfChangeI(std::move(cc));
    }
    case EntryType::kConfChangeV2: {
      RAFTLOG_ASSIGN_OR_RETURN(ConfChangeV2 cc, DecodeConfChangeV2(entry.data));
      return ConfChangeI(std::move(cc));
    }
    case EntryType::kNormal:
      break;
  }
  return Status::InvalidArgument("entry " + std::to_string(entry.index) + " of type " +
                                 std::string(EntryTypeName(entry.type)) +
                                 " carries no conf change");
}

}  // namespace raftlog::raft
