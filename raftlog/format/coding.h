// Little-endian fixed-width and varint encoding (after leveldb's util/coding.h),
// plus ByteReader, a bounds-checked cursor for decoders.
//
// Every multi-byte integer raftlog writes to disk is little-endian, whatever
// the host byte order. Varints are LEB128: 7 bits per byte, low group first,
// high bit set on every byte but the last; a uint64 takes at most 10 bytes.
//
// Pure functions over bytes; thread-compatible.

#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "raftlog/format/status.h"

namespace raftlog::format {

inline constexpr int kMaxVarint32Bytes = 5;
inline constexpr int kMaxVarint64Bytes = 10;

inline void EncodeFixed16(char* dst, uint16_t v) {
  dst[0] = static_cast<char>(v);
  dst[1] = static_cast<char>(v >> 8);
}
inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}

inline uint16_t DecodeFixed16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(u[0] | (u[1] << 8));
}
inline uint32_t DecodeFixed32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | (static_cast<uint32_t>(u[1]) << 8) |
         (static_cast<uint32_t>(u[2]) << 16) | (static_cast<uint32_t>(u[3]) << 24);
}
inline uint64_t DecodeFixed64(const char* p) {
  return static_cast<uint64_t>(DecodeFixed32(p)) |
         (static_cast<uint64_t>(DecodeFixed32(p + 4)) << 32);
}

inline void PutFixed16(std::string* dst, uint16_t v) {
  char buf[2];
  EncodeFixed16(buf, v);
  dst->append(buf, 2);
}
inline void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  EncodeFixed32(buf, v);
  dst->append(buf, 4);
}
inline void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  EncodeFixed64(buf, v);
  dst->append(buf, 8);
}

// Number of bytes the varint encoding of v takes (1..10).
inline int VarintLength(uint64_t v) {
  int len = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++len;
  }
  return len;
}

// Writes the varint encoding of v at dst and returns the byte after it.
// REQUIRES: dst has room for VarintLength(v) bytes.
inline char* EncodeVarint64(char* dst, uint64_t v) {
  auto* p = reinterpret_cast<unsigned char*>(dst);
  while (v >= 0x80) {
    *p++ = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<unsigned char>(v);
  return reinterpret_cast<char*>(p);
}

inline void PutVarint64(std::string* dst, uint64_t v) {
  char buf[kMaxVarint64Bytes];
  dst->append(buf, EncodeVarint64(buf, v) - buf);
}
inline void PutVarint32(std::string* dst, uint32_t v) { PutVarint64(dst, v); }

// A varint length followed by that many bytes.
inline void PutLengthPrefixed(std::string* dst, std::string_view bytes) {
  PutVarint64(dst, bytes.size());
  dst->append(bytes);
}

// Decodes a varint from [p, limit). Returns the byte after it, or nullptr if
// the input ends inside the varint or the value overflows 64 bits (an 11th
// byte, or high bits set in the 10th).
const char* DecodeVarint64(const char* p, const char* limit, uint64_t* value);

// A cursor over an immutable byte range that never reads past its end.
//
// Each Read* returns a non-OK Status (Corruption) when the input is too short
// or malformed; the message names `what` (e.g. "HardState record in
// meta/hardstate") and the field, and the cursor's offset. On error the cursor
// position is unspecified; callers stop decoding.
class ByteReader {
 public:
  // `data` must outlive the reader. `what` names the structure being decoded.
  ByteReader(std::string_view data, std::string_view what) : data_(data), what_(what) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }

  Status ReadFixed8(std::string_view field, uint8_t* out);
  Status ReadFixed16(std::string_view field, uint16_t* out);
  Status ReadFixed32(std::string_view field, uint32_t* out);
  Status ReadFixed64(std::string_view field, uint64_t* out);
  Status ReadVarint64(std::string_view field, uint64_t* out);
  // A varint that must fit in 32 bits.
  Status ReadVarint32(std::string_view field, uint32_t* out);
  // Exactly n bytes, as a view into the input (no copy, no allocation).
  Status ReadBytes(std::string_view field, size_t n, std::string_view* out);
  // A varint length L followed by L bytes. L is checked against the bytes that
  // remain *before* anything is allocated or copied, and against max_bytes.
  Status ReadLengthPrefixed(std::string_view field, std::string_view* out,
                            size_t max_bytes = SIZE_MAX);
  Status Skip(std::string_view field, size_t n);
  // OK if every byte was consumed, else Corruption naming the trailing bytes.
  Status ExpectEnd() const;

  // A Corruption status "<what>: <field> <problem> at offset <offset>".
  Status Error(std::string_view field, std::string_view problem) const;

 private:
  std::string_view data_;
  std::string_view what_;
  size_t pos_ = 0;
};

}  // namespace raftlog::format
