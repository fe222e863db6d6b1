// Helpers for the format/ tests: in-memory frames and segments, and byte
// sabotage (flip a bit, truncate, overwrite a field, recompute a checksum so
// that a deeper check is reached), in the manner of leveldb's log_test.cc.

#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"
#include "raftlog/format/record.h"
#include "raftlog/format/record_format.h"

namespace raftlog::format::testing {

// An entry that owns its data, for building batches in tests.
struct OwnedEntry {
  uint64_t index = 0;
  uint64_t term = 0;
  uint8_t type = 0;
  std::string data;
  friend bool operator==(const OwnedEntry&, const OwnedEntry&) = default;
};

// Views of `entries`, which must outlive the result.
inline std::vector<EntryView> Views(const std::vector<OwnedEntry>& entries) {
  std::vector<EntryView> views;
  views.reserve(entries.size());
  for (const OwnedEntry& e : entries) views.push_back({e.index, e.term, e.type, e.data});
  return views;
}

// `count` entries from first_index on, of `term`, each data_bytes long, with
// types cycling through 0..2 and data from a fixed-seed generator.
inline std::vector<OwnedEntry> MakeEntries(uint64_t first_index, uint64_t term, size_t count,
                                           size_t data_bytes, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::vector<OwnedEntry> out;
  for (size_t k = 0; k < count; ++k) {
    OwnedEntry e{first_index + k, term, static_cast<uint8_t>(k % 3), std::string(data_bytes, 'x')};
    for (char& c : e.data) c = static_cast<char>(rng());
    out.push_back(std::move(e));
  }
  return out;
}

// Data that zstd compresses well (a few distinct words repeated).
inline std::string CompressibleData(size_t bytes) {
  static constexpr std::string_view kWords[] = {"raft ", "log ", "entry ", "term ", "index "};
  std::string s;
  for (size_t k = 0; s.size() < bytes; ++k) s += kWords[(k * 7 + k / 3) % 5];
  s.resize(bytes);
  return s;
}

// Data that zstd cannot compress.
inline std::string RandomData(size_t bytes, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::string s(bytes, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// The pieces of the builder's last frame, joined into the bytes on disk.
inline std::string Join(std::span<const std::string_view> pieces) {
  std::string out;
  for (std::string_view p : pieces) out.append(p);
  return out;
}

inline std::string BuildFrame(FrameBuilder* builder, uint64_t seed, uint64_t commit,
                              const std::vector<OwnedEntry>& entries) {
  const std::vector<EntryView> views = Views(entries);
  builder->BuildEntries(seed, commit, views);
  return Join(builder->pieces());
}

inline std::string BuildFrame(uint64_t seed, uint64_t commit,
                              const std::vector<OwnedEntry>& entries,
                              CompressionOptions options = {}) {
  FrameBuilder builder(options);
  return BuildFrame(&builder, seed, commit, entries);
}

// Decodes the frame at the start of `bytes` and returns its entries,
// decompressing as needed; ADD_FAILUREs and returns {} on any error.
inline std::vector<OwnedEntry> DecodeEntries(std::string_view bytes, uint64_t seed) {
  Result<FrameView> frame = DecodeFrame(bytes, seed, "test frame");
  if (!frame.ok()) {
    ADD_FAILURE() << frame.status().ToString();
    return {};
  }
  Decompressor decompressor;
  std::string scratch;
  Result<std::string_view> raw = RawPayload(*frame, &decompressor, &scratch, "test frame");
  if (!raw.ok()) {
    ADD_FAILURE() << raw.status().ToString();
    return {};
  }
  Result<EntriesPayload> payload = EntriesPayload::Parse(*raw, frame->header.entry_count, "test");
  if (!payload.ok()) {
    ADD_FAILURE() << payload.status().ToString();
    return {};
  }
  std::vector<OwnedEntry> out;
  for (uint32_t k = 0; k < payload->size(); ++k) {
    out.push_back({frame->header.first_index + k, frame->header.term, payload->type(k),
                   std::string(payload->data(k))});
  }
  return out;
}

// --- Sabotage ---------------------------------------------------------------

inline void FlipBit(std::string* s, size_t bit) {
  (*s)[bit / 8] ^= static_cast<char>(1 << (bit % 8));
}

inline void SetByte(std::string* s, size_t offset, uint8_t v) {
  (*s)[offset] = static_cast<char>(v);
}
inline void SetFixed16(std::string* s, size_t offset, uint16_t v) {
  EncodeFixed16(s->data() + offset, v);
}
inline void SetFixed32(std::string* s, size_t offset, uint32_t v) {
  EncodeFixed32(s->data() + offset, v);
}
inline void SetFixed64(std::string* s, size_t offset, uint64_t v) {
  EncodeFixed64(s->data() + offset, v);
}

// Frame header field offsets (record_format.h), for sabotage.
inline constexpr size_t kFrameTypeAt = 4;
inline constexpr size_t kFrameFlagsAt = 5;
inline constexpr size_t kFrameReserved1At = 6;
inline constexpr size_t kFrameStoredAt = 8;
inline constexpr size_t kFrameRawAt = 12;
inline constexpr size_t kFrameFirstIndexAt = 16;
inline constexpr size_t kFrameTermAt = 24;
inline constexpr size_t kFrameCountAt = 32;
inline constexpr size_t kFrameDurableOffsetAt = 36;  // u32: durable offset / 8 (version 2)
inline constexpr size_t kFrameCommitAt = 40;
inline constexpr size_t kFrameChecksumAt = 48;

// Recomputes the checksum of the frame at the start of *frame after its
// header or payload was modified, so that decoding gets past the checksum to
// the check under test. Uses the stored-bytes field as it now stands.
inline void FixFrameChecksum(std::string* frame, uint64_t seed) {
  const uint32_t stored = DecodeFixed32(frame->data() + kFrameStoredAt);
  StreamingChecksum c(seed);
  c.Update(std::string_view(*frame).substr(0, kFrameChecksumAt));
  c.Update(std::string_view(*frame).substr(kFrameHeaderBytes, stored));
  SetFixed64(frame, kFrameChecksumAt, c.Digest());
}

// The classification DecodeFrame gives `bytes` (kNone if it decodes).
inline FrameError Classify(std::string_view bytes, uint64_t seed, Status* status_out = nullptr) {
  FrameError error = FrameError::kNone;
  Result<FrameView> r = DecodeFrame(bytes, seed, "f.seg at offset 64", &error);
  if (status_out != nullptr) *status_out = r.status();
  if (r.ok() && error != FrameError::kNone) ADD_FAILURE() << "ok but error is set";
  if (!r.ok() && error == FrameError::kNone) ADD_FAILURE() << "failed with kNone";
  return error;
}

}  // namespace raftlog::format::testing
