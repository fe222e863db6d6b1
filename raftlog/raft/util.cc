#include "raftlog/raft/util.h"

#include <array>
#include <cinttypes>
#include <cstdio>

#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/logger.h"

namespace raftlog::raft {

namespace {

constexpr std::array<bool, kMessageTypeCount> MakeTable(std::initializer_list<MessageType> types) {
  std::array<bool, kMessageTypeCount> table{};
  for (MessageType t : types) table[static_cast<size_t>(t)] = true;
  return table;
}

constexpr std::array<bool, kMessageTypeCount> kIsLocalMsg = MakeTable({
    MessageType::kMsgHup,
    MessageType::kMsgBeat,
    MessageType::kMsgUnreachable,
    MessageType::kMsgSnapStatus,
    MessageType::kMsgCheckQuorum,
    MessageType::kMsgStorageAppend,
    MessageType::kMsgStorageAppendResp,
    MessageType::kMsgStorageApply,
    MessageType::kMsgStorageApplyResp,
});

constexpr std::array<bool, kMessageTypeCount> kIsResponseMsg = MakeTable({
    MessageType::kMsgAppResp,
    MessageType::kMsgVoteResp,
    MessageType::kMsgHeartbeatResp,
    MessageType::kMsgUnreachable,
    MessageType::kMsgReadIndexResp,
    MessageType::kMsgPreVoteResp,
    MessageType::kMsgStorageAppendResp,
    MessageType::kMsgStorageApplyResp,
});

bool InTable(MessageType type, const std::array<bool, kMessageTypeCount>& table) {
  const auto i = static_cast<size_t>(type);
  return i < table.size() && table[i];
}

// Go's %v of a []uint64: "[1 2 3]", "[]" when empty.
std::string GoUintSlice(const std::vector<uint64_t>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ' ';
    out += std::to_string(v[i]);
  }
  out += ']';
  return out;
}

// Go's %v of a []byte inside a struct: "[97 98]".
std::string GoByteSlice(std::string_view v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ' ';
    out += std::to_string(static_cast<unsigned char>(v[i]));
  }
  out += ']';
  return out;
}

std::string DescribeTarget(uint64_t id) {
  switch (id) {
    case kNone:
      return "None";
    case kLocalAppendThread:
      return "AppendThread";
    case kLocalApplyThread:
      return "ApplyThread";
    default:
      return StringPrintf("%" PRIx64, id);
  }
}

// Decodes one UTF-8 sequence at s[i]; returns the code point and its length,
// or length 1 and -1 for an invalid byte (Go's RuneError of width 1).
std::pair<int32_t, size_t> DecodeRune(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1};
  size_t n;
  int32_t r;
  int32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, r = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, r = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, r = b0 & 0x07, min = 0x10000;
  } else {
    return {-1, 1};
  }
  if (i + n > s.size()) return {-1, 1};
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return {-1, 1};
    r = (r << 6) | (b & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return {-1, 1};
  return {r, n};
}

// An approximation of Go's unicode.IsPrint for non-ASCII code points: the
// C1 controls, the soft hyphen and the non-characters are not printable.
bool IsPrintNonASCII(int32_t r) {
  if (r < 0xA0) return false;
  if (r == 0xAD) return false;
  if ((r & 0xFFFE) == 0xFFFE) return false;
  if (r >= 0xFDD0 && r <= 0xFDEF) return false;
  if (r >= 0x2028 && r <= 0x2029) return false;
  if (r >= 0xE000 && r <= 0xF8FF) return false;  // private use
  return true;
}

}  // namespace

std::string_view StateTypeName(StateType state) {
  switch (state) {
    case StateType::kStateFollower:
      return "StateFollower";
    case StateType::kStateCandidate:
      return "StateCandidate";
    case StateType::kStateLeader:
      return "StateLeader";
    case StateType::kStatePreCandidate:
      return "StatePreCandidate";
  }
  return "StateUnknown";
}

bool IsLocalMsg(MessageType type) { return InTable(type, kIsLocalMsg); }
bool IsResponseMsg(MessageType type) { return InTable(type, kIsResponseMsg); }

Status ErrProposalDropped() { return Status::FailedPrecondition("raft proposal dropped"); }
Status ErrStepLocalMsg() { return Status::InvalidArgument("raft: cannot step raft local message"); }
Status ErrStepPeerNotFound() { return Status::NotFound("raft: cannot step as peer not found"); }

std::string GoQuote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  out.reserve(s.size() + 2);
  for (size_t i = 0; i < s.size();) {
    const auto [r, n] = DecodeRune(s, i);
    if (r < 0) {
      const auto b = static_cast<unsigned char>(s[i]);
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xF];
      i += 1;
      continue;
    }
    if (r == '"' || r == '\\') {
      out += '\\';
      out += static_cast<char>(r);
    } else if (r >= 0x20 && r < 0x7F) {
      out += static_cast<char>(r);
    } else if (r >= 0x80 && IsPrintNonASCII(r)) {
      out.append(s.substr(i, n));
    } else {
      switch (r) {
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default:
          if (r < 0x20 || r == 0x7F) {
            out += "\\x";
            out += kHex[(r >> 4) & 0xF];
            out += kHex[r & 0xF];
          } else if (r < 0x10000) {
            out += StringPrintf("\\u%04x", static_cast<unsigned>(r));
          } else {
            out += StringPrintf("\\U%08x", static_cast<unsigned>(r));
          }
      }
    }
    i += n;
  }
  out += '"';
  return out;
}

std::string DescribeHardState(const HardState& hs) {
  std::string out = StringPrintf("Term:%" PRIu64, hs.term);
  if (hs.vote != 0) out += StringPrintf(" Vote:%" PRIu64, hs.vote);
  out += StringPrintf(" Commit:%" PRIu64, hs.commit);
  return out;
}

std::string DescribeSoftState(const SoftState& ss) {
  return StringPrintf("Lead:%" PRIu64 " State:%s", ss.lead,
                      std::string(StateTypeName(ss.raft_state)).c_str());
}

std::string DescribeConfState(const ConfState& cs) {
  return "Voters:" + GoUintSlice(cs.voters) + " VotersOutgoing:" + GoUintSlice(cs.voters_outgoing) +
         " Learners:" + GoUintSlice(cs.learners) +
         " LearnersNext:" + GoUintSlice(cs.learners_next) +
         " AutoLeave:" + (cs.auto_leave ? "true" : "false");
}

std::string DescribeSnapshot(const Snapshot& snap) {
  return StringPrintf("Index:%" PRIu64 " Term:%" PRIu64 " ConfState:", snap.metadata.index,
                      snap.metadata.term) +
         DescribeConfState(snap.metadata.conf_state);
}

std::string DescribeReady(const Ready& rd, const EntryFormatter& f) {
  std::string buf;
  if (rd.soft_state.has_value()) {
    buf += DescribeSoftState(*rd.soft_state);
    buf += '\n';
  }
  if (!IsEmptyHardState(rd.hard_state)) {
    buf += "HardState ";
    buf += DescribeHardState(rd.hard_state);
    buf += '\n';
  }
  if (!rd.read_states.empty()) {
    buf += "ReadStates [";
    for (size_t i = 0; i < rd.read_states.size(); ++i) {
      if (i > 0) buf += ' ';
      buf += StringPrintf("{%" PRIu64 " ", rd.read_states[i].index);
      buf += GoByteSlice(rd.read_states[i].request_ctx);
      buf += '}';
    }
    buf += "]\n";
  }
  if (!rd.entries.empty()) {
    buf += "Entries:\n";
    buf += DescribeEntries(rd.entries, f);
  }
  if (rd.HasSnapshot()) {
    buf += "Snapshot ";
    buf += DescribeSnapshot(*rd.snapshot);
    buf += '\n';
  }
  if (!rd.committed_entries.empty()) {
    buf += "CommittedEntries:\n";
    buf += DescribeEntries(rd.committed_entries, f);
  }
  if (!rd.messages.empty()) {
    buf += "Messages:\n";
    for (const Message& m : rd.messages) {
      buf += DescribeMessage(m, f);
      buf += '\n';
    }
  }
  if (buf.empty()) return "<empty Ready>";
  return std::string("Ready MustSync=") + (rd.must_sync ? "true" : "false") + ":\n" + buf;
}

namespace {

std::string DescribeMessageWithIndent(const std::string& indent, const Message& m,
                                      const EntryFormatter& f) {
  std::string buf =
      indent + DescribeTarget(m.from) + "->" + DescribeTarget(m.to) + " " +
      std::string(MessageTypeName(m.type)) +
      StringPrintf(" Term:%" PRIu64 " Log:%" PRIu64 "/%" PRIu64, m.term, m.log_term, m.index);
  if (m.reject) buf += StringPrintf(" Rejected (Hint: %" PRIu64 ")", m.reject_hint);
  if (m.commit != 0) buf += StringPrintf(" Commit:%" PRIu64, m.commit);
  if (m.vote != 0) buf += StringPrintf(" Vote:%" PRIu64, m.vote);
  if (m.entries.size() == 1) {
    buf += " Entries:[";
    buf += DescribeEntry(m.entries[0], f);
    buf += ']';
  } else if (m.entries.size() > 1) {
    buf += " Entries:[";
    for (const Entry& e : m.entries) {
      buf += '\n';
      buf += indent;
      buf += "  ";
      buf += DescribeEntry(e, f);
    }
    buf += '\n';
    buf += indent;
    buf += ']';
  }
  if (m.snapshot != nullptr && !IsEmptySnap(*m.snapshot)) {
    buf += '\n';
    buf += indent;
    buf += "  Snapshot: ";
    buf += DescribeSnapshot(*m.snapshot);
  }
  if (!m.responses.empty()) {
    buf += " Responses:[";
    for (const Message& r : m.responses) {
      buf += '\n';
      buf += DescribeMessageWithIndent(indent + "  ", r, f);
    }
    buf += '\n';
    buf += indent;
    buf += ']';
  }
  return buf;
}

}  // namespace

std::string DescribeMessage(const Message& m, const EntryFormatter& f) {
  return DescribeMessageWithIndent("", m, f);
}

std::string DescribeEntry(const Entry& e, const EntryFormatter& f) {
  std::string formatted;
  switch (e.type) {
    case EntryType::kNormal:
      formatted = f ? f(e.data) : GoQuote(e.data);
      break;
    case EntryType::kConfChange:
    case EntryType::kConfChangeV2: {
      Result<ConfChangeI> cc = ConfChangeFromEntry(e);
      if (cc.ok()) {
        formatted = ConfChangesToString(cc->AsV2().changes);
      } else {
        formatted = std::string(cc.status().message());
      }
      break;
    }
  }
  if (!formatted.empty()) formatted = " " + formatted;
  return StringPrintf("%" PRIu64 "/%" PRIu64 " ", e.term, e.index) +
         std::string(EntryTypeName(e.type)) + formatted;
}

std::string DescribeEntries(std::span<const Entry> ents, const EntryFormatter& f) {
  std::string buf;
  for (const Entry& e : ents) {
    buf += DescribeEntry(e, f);
    buf += '\n';
  }
  return buf;
}

uint64_t EntsSize(std::span<const Entry> ents) {
  uint64_t size = 0;
  for (const Entry& e : ents) size += EntrySize(e);
  return size;
}

uint64_t PayloadsSize(std::span<const Entry> ents) {
  uint64_t size = 0;
  for (const Entry& e : ents) size += PayloadSize(e);
  return size;
}

}  // namespace raftlog::raft
