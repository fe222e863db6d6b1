// The few pieces of the protobuf wire format (proto2/proto3 binary encoding)
// that raft/ needs to read and write etcd's raftpb messages byte-compatibly:
// base-128 varints, field tags, and length-delimited fields.
//
// raft/ may use only Status and Result of format/ (it links raftlog::status,
// not raftlog::format: docs/architecture.md), hence this private copy.
// ProtoReader is written for untrusted bytes: it never reads out of bounds,
// never trusts a length beyond the bytes actually present, and reports every
// malformation as Status::Corruption naming the message and byte offset.
//
// Thread-safety: pure functions; a ProtoReader is thread-compatible.

#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"

namespace raftlog::raft::internal {

// Protobuf wire types (the low 3 bits of a field tag).
enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,  // deprecated groups; never used by raftpb
  kEndGroup = 4,
  kFixed32 = 5,
};

// The largest field number protobuf allows (2^29 - 1).
inline constexpr uint32_t kMaxFieldNumber = (1u << 29) - 1;

// Appends `value` as a base-128 varint (1 to 10 bytes).
void PutVarint(std::string* dst, uint64_t value);

// Appends the tag of field `field` with wire type `wire_type`.
// REQUIRES: 1 <= field <= kMaxFieldNumber.
void PutTag(std::string* dst, uint32_t field, WireType wire_type);

// Appends field `field` as a varint field (tag, value).
void PutVarintField(std::string* dst, uint32_t field, uint64_t value);

// Appends field `field` as a length-delimited field (tag, length, bytes).
void PutLengthDelimitedField(std::string* dst, uint32_t field, std::string_view bytes);

// The number of bytes PutVarint(value) appends.
size_t VarintLength(uint64_t value);

// A field tag as read from the wire.
struct Tag {
  uint32_t field = 0;
  WireType wire_type = WireType::kVarint;
};

// Reads the fields of one encoded message in order.
//
//   ProtoReader r(data, "ConfChange");
//   while (!r.done()) {
//     RAFTLOG_ASSIGN_OR_RETURN(Tag tag, r.ReadTag());
//     ...
//   }
//
// Every error is Corruption with a message "<message>: <what> at offset <n>"
// where <n> is the offset within the outermost buffer (nested readers carry
// their base offset), so that a report points at the bad byte.
class ProtoReader {
 public:
  // Borrows `data` and `message` (the message name used in errors), which
  // must outlive the reader. `base_offset` is the offset of `data` within
  // the outermost buffer, for error messages of nested messages.
  ProtoReader(std::string_view data, std::string_view message, size_t base_offset = 0)
      : data_(data), message_(message), base_offset_(base_offset) {}

  // Whether every byte was consumed.
  bool done() const { return pos_ == data_.size(); }
  // The offset of the next byte within the outermost buffer.
  size_t offset() const { return base_offset_ + pos_; }

  // Reads a field tag. Corruption for a truncated or overlong varint, a
  // field number of 0 or above kMaxFieldNumber, or wire type 6 or 7.
  Result<Tag> ReadTag();

  // Reads a varint. Corruption if it is truncated or longer than 10 bytes
  // or does not fit 64 bits. Non-minimal encodings (e.g. 0x80 0x00) are
  // accepted, as protobuf parsers do.
  Result<uint64_t> ReadVarint();

  // Reads a length-delimited payload and returns a view into `data`.
  // Corruption if the length exceeds the bytes left.
  Result<std::string_view> ReadLengthDelimited();

  // Skips the value of a field of wire type `wire_type` (unknown fields are
  // skipped, as protobuf requires for forward compatibility). Corruption for
  // truncated values and for groups, which raftpb never uses.
  Status SkipValue(WireType wire_type);

  // Corruption "<message>: field <field> has wire type <got>, want <want>"
  // at the current offset, for a known field with the wrong wire type.
  Status WrongWireType(const Tag& tag, WireType want) const;

  // Corruption "<message>: <what> at offset <offset()>".
  Status Error(std::string_view what) const { return ErrorAt(what, offset()); }
  // Corruption "<message>: <what> at offset <at>" (an offset within the
  // outermost buffer, e.g. a saved offset() of a value already consumed).
  Status ErrorAt(std::string_view what, size_t at) const;

 private:
  std::string_view data_;
  std::string_view message_;
  size_t base_offset_;
  size_t pos_ = 0;
};

}  // namespace raftlog::raft::internal
