// The kv service's byte encodings: raft messages between nodes, the commands
// carried in log entries, and the state machine's snapshot.
//
// One compact, versioned format of our own (varints and length-prefixed
// bytes, raftlog/format/coding.h), not protobuf: the transport is plain HTTP
// (kv/transport.h), so nothing else needs a schema compiler. Every encoding
// starts with a version byte; a decoder refuses a version it does not know
// instead of guessing, so a node of a later release fails loudly rather than
// misreading.
//
// Decoders treat their input as untrusted (it arrives from the network or
// from a file): any malformation is Status::Corruption naming the structure,
// the field and the byte offset. They never read out of bounds, and never
// allocate from a count or length they have not first checked against the
// bytes present. tests/kv/codec_test.cc covers round trips and mutated input.
//
// Payloads are read as std::string_view(entry.data) and built from
// std::string, so the code compiles whether raft::Entry::data is a
// std::string or a shared immutable buffer that converts to and from them.
//
// Thread-safety: pure functions on values.

#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/raft/types.h"

namespace raftlog::kv {

// The version byte every encoding below starts with.
inline constexpr uint8_t kCodecVersion = 1;

// ---- Raft messages between nodes ------------------------------------------

// Encodes a batch of messages for one peer. Only network messages: a
// message's `responses` (local storage-thread bookkeeping) are never sent and
// must be empty (aborts otherwise: a caller bug).
std::string EncodeMessages(std::span<const raft::Message> messages);
// Decodes what EncodeMessages wrote. Corruption on any malformation,
// including an unknown message or entry type and trailing bytes.
Result<std::vector<raft::Message>> DecodeMessages(std::string_view data);

// ---- Commands (the data of normal log entries) ----------------------------

enum class CommandType : uint8_t {
  kPut = 1,
  kDelete = 2,
  kCas = 3,  // compare-and-swap: set value if the current value is `expected`
};

struct Command {
  CommandType type = CommandType::kPut;
  // Chosen by the proposing node to find its waiting client when the entry
  // is applied; 0 for none.
  uint64_t request_id = 0;
  std::string key;
  std::string value;  // kPut, kCas: the new value
  // kCas: the value that must be current; expected_absent instead asks that
  // the key be absent.
  std::string expected;
  bool expected_absent = false;

  friend bool operator==(const Command&, const Command&) = default;
};

std::string EncodeCommand(const Command& c);
Result<Command> DecodeCommand(std::string_view data);

// ---- State machine snapshots ----------------------------------------------

struct SnapshotImage {
  // Node id -> address ("host:port") of every member the state machine knows.
  std::map<uint64_t, std::string> members;
  std::map<std::string, std::string> data;

  friend bool operator==(const SnapshotImage&, const SnapshotImage&) = default;
};

std::string EncodeSnapshot(const SnapshotImage& image);
Result<SnapshotImage> DecodeSnapshot(std::string_view data);

}  // namespace raftlog::kv
