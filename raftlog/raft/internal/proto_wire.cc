#include "raftlog/raft/internal/proto_wire.h"

#include <string>

namespace raftlog::raft::internal {

void PutVarint(std::string* dst, uint64_t value) {
  while (value >= 0x80) {
    dst->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  dst->push_back(static_cast<char>(value));
}

size_t VarintLength(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

void PutTag(std::string* dst, uint32_t field, WireType wire_type) {
  RAFTLOG_CHECK(field >= 1 && field <= kMaxFieldNumber);
  PutVarint(dst, (static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type));
}

void PutVarintField(std::string* dst, uint32_t field, uint64_t value) {
  PutTag(dst, field, WireType::kVarint);
  PutVarint(dst, value);
}

void PutLengthDelimitedField(std::string* dst, uint32_t field, std::string_view bytes) {
  PutTag(dst, field, WireType::kLengthDelimited);
  PutVarint(dst, bytes.size());
  dst->append(bytes);
}

Status ProtoReader::ErrorAt(std::string_view what, size_t at) const {
  std::string msg(message_);
  msg += ": ";
  msg += what;
  msg += " at offset " + std::to_string(at);
  return Status::Corruption(msg);
}

Status ProtoReader::WrongWireType(const Tag& tag, WireType want) const {
  return Error("field " + std::to_string(tag.field) + " has wire type " +
               std::to_string(static_cast<int>(tag.wire_type)) + ", want " +
               std::to_string(static_cast<int>(want)));
}

Result<uint64_t> ProtoReader::ReadVarint() {
  const size_t start = pos_;
  uint64_t value = 0;
  // A 64-bit value takes at most 10 bytes; the 10th carries only bit 63.
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= data_.size()) {
      pos_ = start;
      return Error("truncated varint");
    }
    const auto byte = static_cast<uint8_t>(data_[pos_++]);
    if (shift == 63 && byte > 1) {
      pos_ = start;
      return Error("varint overflows 64 bits");
    }
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) return value;
  }
  // Unreachable: the 10th byte either ends the varint or fails above.
  pos_ = start;
  return Error("varint overflows 64 bits");
}

Result<Tag> ProtoReader::ReadTag() {
  const size_t start = pos_;
  RAFTLOG_ASSIGN_OR_RETURN(uint64_t key, ReadVarint());
  const uint64_t field = key >> 3;
  const auto wire_type = static_cast<uint8_t>(key & 7);
  if (field == 0 || field > kMaxFieldNumber) {
    pos_ = start;
    return Error("invalid field number " + std::to_string(field));
  }
  if (wire_type > static_cast<uint8_t>(WireType::kFixed32)) {
    pos_ = start;
    return Error("invalid wire type " + std::to_string(wire_type));
  }
  return Tag{static_cast<uint32_t>(field), static_cast<WireType>(wire_type)};
}

Result<std::string_view> ProtoReader::ReadLengthDelimited() {
  const size_t start = pos_;
  RAFTLOG_ASSIGN_OR_RETURN(uint64_t length, ReadVarint());
  // Compare before any use of the length: it is untrusted.
  if (length > data_.size() - pos_) {
    const size_t left = data_.size() - pos_;
    pos_ = start;
    return Error("length " + std::to_string(length) + " exceeds the " + std::to_string(left) +
                 " bytes left");
  }
  std::string_view payload = data_.substr(pos_, static_cast<size_t>(length));
  pos_ += static_cast<size_t>(length);
  return payload;
}

Status ProtoReader::SkipValue(WireType wire_type) {
  switch (wire_type) {
    case WireType::kVarint:
      return ReadVarint().status();
    case WireType::kLengthDelimited:
      return ReadLengthDelimited().status();
    case WireType::kFixed64:
    case WireType::kFixed32: {
      const size_t width = wire_type == WireType::kFixed64 ? 8 : 4;
      if (data_.size() - pos_ < width) return Error("truncated fixed-width value");
      pos_ += width;
      return Status::OK();
    }
    case WireType::kStartGroup:
    case WireType::kEndGroup:
      break;
  }
  return Error("unsupported wire type " + std::to_string(static_cast<int>(wire_type)) + " (group)");
}

}  // namespace raftlog::raft::internal
