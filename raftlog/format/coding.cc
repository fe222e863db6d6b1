#include "raftlog/format/coding.h"

#include <string>

namespace raftlog::format {

const char* DecodeVarint64(const char* p, const char* limit, uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && p < limit; shift += 7) {
    const auto byte = static_cast<unsigned char>(*p++);
    // The 10th byte may carry only the top bit of a uint64.
    if (shift == 63 && byte > 1) return nullptr;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return p;
    }
  }
  return nullptr;
}

Status ByteReader::Error(std::string_view field, std::string_view problem) const {
  std::string msg(what_);
  msg += ": ";
  msg += field;
  msg += ' ';
  msg += problem;
  msg += " at offset ";
  msg += std::to_string(pos_);
  return Status::Corruption(msg);
}

Status ByteReader::ReadFixed8(std::string_view field, uint8_t* out) {
  if (remaining() < 1) return Error(field, "truncated (need 1 byte)");
  *out = static_cast<uint8_t>(data_[pos_]);
  pos_ += 1;
  return Status::OK();
}

Status ByteReader::ReadFixed16(std::string_view field, uint16_t* out) {
  if (remaining() < 2) return Error(field, "truncated (need 2 bytes)");
  *out = DecodeFixed16(data_.data() + pos_);
  pos_ += 2;
  return Status::OK();
}

Status ByteReader::ReadFixed32(std::string_view field, uint32_t* out) {
  if (remaining() < 4) return Error(field, "truncated (need 4 bytes)");
  *out = DecodeFixed32(data_.data() + pos_);
  pos_ += 4;
  return Status::OK();
}

Status ByteReader::ReadFixed64(std::string_view field, uint64_t* out) {
  if (remaining() < 8) return Error(field, "truncated (need 8 bytes)");
  *out = DecodeFixed64(data_.data() + pos_);
  pos_ += 8;
  return Status::OK();
}

Status ByteReader::ReadVarint64(std::string_view field, uint64_t* out) {
  const char* begin = data_.data() + pos_;
  const char* end = DecodeVarint64(begin, data_.data() + data_.size(), out);
  if (end == nullptr) return Error(field, "is a truncated or overlong varint");
  pos_ += static_cast<size_t>(end - begin);
  return Status::OK();
}

Status ByteReader::ReadVarint32(std::string_view field, uint32_t* out) {
  uint64_t v = 0;
  RAFTLOG_RETURN_IF_ERROR(ReadVarint64(field, &v));
  if (v > UINT32_MAX) return Error(field, "exceeds 32 bits (" + std::to_string(v) + ")");
  *out = static_cast<uint32_t>(v);
  return Status::OK();
}

Status ByteReader::ReadBytes(std::string_view field, size_t n, std::string_view* out) {
  if (remaining() < n) {
    return Error(field, "truncated (need " + std::to_string(n) + " bytes, have " +
                            std::to_string(remaining()) + ")");
  }
  *out = data_.substr(pos_, n);
  pos_ += n;
  return Status::OK();
}

Status ByteReader::ReadLengthPrefixed(std::string_view field, std::string_view* out,
                                      size_t max_bytes) {
  uint64_t len = 0;
  RAFTLOG_RETURN_IF_ERROR(ReadVarint64(field, &len));
  if (len > max_bytes) {
    return Error(field, "length " + std::to_string(len) + " exceeds the limit of " +
                            std::to_string(max_bytes));
  }
  if (len > remaining()) {
    return Error(field, "length " + std::to_string(len) + " exceeds the " +
                            std::to_string(remaining()) + " bytes that remain");
  }
  return ReadBytes(field, static_cast<size_t>(len), out);
}

Status ByteReader::Skip(std::string_view field, size_t n) {
  std::string_view ignored;
  return ReadBytes(field, n, &ignored);
}

Status ByteReader::ExpectEnd() const {
  if (empty()) return Status::OK();
  return Error("end", std::to_string(remaining()) + " unexpected trailing bytes");
}

}  // namespace raftlog::format
