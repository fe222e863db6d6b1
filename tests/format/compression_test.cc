#include "raftlog/format/compression.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "raftlog/format/coding.h"
#include "raftlog/format/record_format.h"
#include "tests/format/allocation_counter.h"
#include "tests/format/format_test_util.h"

namespace raftlog::format {
namespace {

using testing::AllocationCounter;
using testing::CompressibleData;
using testing::RandomData;

CompressionOptions Enabled(size_t min_payload_bytes = 0, double min_saving = 0.10, int level = 1) {
  CompressionOptions o;
  o.enabled = true;
  o.min_payload_bytes = min_payload_bytes;
  o.min_saving = min_saving;
  o.level = level;
  return o;
}

Status Decompress(std::string_view compressed, size_t raw_bytes, std::string* out,
                  size_t max_raw_bytes = kMaxFramePayloadBytes) {
  Decompressor d;
  return d.Decompress(compressed, raw_bytes, out, "f.seg at offset 64", max_raw_bytes);
}

// --- Hand-made zstd frames (RFC 8878), to reach what our Compressor never
// writes: frames without a content size, lying content sizes, bombs.

constexpr std::string_view kZstdMagic = "\x28\xb5\x2f\xfd";
// Window descriptor for a 128 KiB window (exponent 7: windowLog 17).
constexpr char kWindow128K = 0x38;

// An RLE block repeating `byte` `n` times (n <= 128 KiB).
std::string RleBlock(uint32_t n, char byte, bool last) {
  const uint32_t header = (last ? 1u : 0u) | (1u << 1) | (n << 3);
  std::string b;
  b.push_back(static_cast<char>(header));
  b.push_back(static_cast<char>(header >> 8));
  b.push_back(static_cast<char>(header >> 16));
  b.push_back(byte);
  return b;
}

// A frame with no content size whose `blocks` RLE blocks of 128 KiB each
// expand to blocks x 128 KiB: a few dozen bytes that decode to megabytes.
std::string BombWithoutContentSize(int blocks) {
  std::string f(kZstdMagic);
  f.push_back('\0');  // descriptor: no content size, not single-segment
  f.push_back(kWindow128K);
  for (int k = 0; k < blocks; ++k) f += RleBlock(128 * 1024, 'A', k + 1 == blocks);
  return f;
}

// A frame declaring `declared` content bytes (8-byte field) but holding one
// RLE block of `actual` bytes.
std::string FrameDeclaring(uint64_t declared, uint32_t actual) {
  std::string f(kZstdMagic);
  f.push_back(static_cast<char>(0xc0));  // 8-byte content size, not single-segment
  f.push_back(kWindow128K);
  PutFixed64(&f, declared);
  f += RleBlock(actual, 'B', true);
  return f;
}

// --- Compressor -----------------------------------------------------------------

TEST(CompressorTest, RoundTripsAtSeveralLevels) {
  const std::string raw = CompressibleData(100000);
  Compressor c;
  for (int level : {1, 3, 9, -5, 1}) {  // back to 1: the context is re-levelled
    std::string compressed;
    ASSERT_TRUE(c.MaybeCompress(raw, Enabled(0, 0.1, level), &compressed)) << level;
    EXPECT_LT(compressed.size(), raw.size() / 2) << level;
    std::string out;
    ASSERT_TRUE(Decompress(compressed, raw.size(), &out).ok()) << level;
    EXPECT_EQ(out, raw);
  }
}

TEST(CompressorTest, DisabledBelowMinimumOrEmptyIsNotCompressed) {
  Compressor c;
  std::string out;
  const std::string raw = CompressibleData(5000);
  CompressionOptions off = Enabled();
  off.enabled = false;
  EXPECT_FALSE(c.MaybeCompress(raw, off, &out));
  EXPECT_FALSE(c.MaybeCompress(raw, Enabled(5001), &out));
  EXPECT_TRUE(c.MaybeCompress(raw, Enabled(5000), &out));
  EXPECT_FALSE(c.MaybeCompress("", Enabled(0), &out));
}

TEST(CompressorTest, KeepsTheResultOnlyIfItSavesEnough) {
  Compressor c;
  std::string out;
  EXPECT_FALSE(c.MaybeCompress(RandomData(10000), Enabled(0, 0.0), &out));
  // About half random: saves a little under 50%.
  const std::string half = CompressibleData(10000) + RandomData(10000);
  ASSERT_TRUE(c.MaybeCompress(half, Enabled(0, 0.0), &out));
  const double saving = 1.0 - static_cast<double>(out.size()) / half.size();
  EXPECT_GT(saving, 0.40);
  EXPECT_LT(saving, 0.50);
  EXPECT_TRUE(c.MaybeCompress(half, Enabled(0, saving - 0.01), &out));
  EXPECT_FALSE(c.MaybeCompress(half, Enabled(0, saving + 0.01), &out));
  EXPECT_FALSE(c.MaybeCompress(half, Enabled(0, 1.0), &out));
  // Nonsense savings are clamped: negative or NaN means "any saving".
  EXPECT_TRUE(c.MaybeCompress(half, Enabled(0, -3), &out));
  EXPECT_TRUE(c.MaybeCompress(half, Enabled(0, std::nan("")), &out));
  // After a refusal the context still works.
  std::string decoded;
  ASSERT_TRUE(c.MaybeCompress(half, Enabled(0, 0.1), &out));
  ASSERT_TRUE(Decompress(out, half.size(), &decoded).ok());
  EXPECT_EQ(decoded, half);
}

// --- Decompressor ---------------------------------------------------------------

TEST(DecompressorTest, DeclaredSizeMustMatchTheFrameHeader) {
  Compressor c;
  std::string compressed;
  const std::string raw = CompressibleData(20000);
  ASSERT_TRUE(c.MaybeCompress(raw, Enabled(), &compressed));
  std::string out;
  for (size_t wrong : {size_t{0}, size_t{19999}, size_t{20001}}) {
    const Status s = Decompress(compressed, wrong, &out);
    EXPECT_TRUE(s.IsCorruption()) << wrong;
    EXPECT_EQ(s.message(),
              "f.seg at offset 64: zstd frame declares 20000 content bytes, but the "
              "frame header says " +
                  std::to_string(wrong));
  }
}

TEST(DecompressorTest, RawSizeAboveTheLimitIsRejectedBeforeAllocating) {
  std::string out;
  AllocationCounter counter;
  const Status s = Decompress(FrameDeclaring(uint64_t{1} << 40, 10), size_t{1} << 40, &out);
  EXPECT_LT(counter.largest(), 1000u);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(),
            "f.seg at offset 64: raw size 1099511627776 exceeds the limit of 1073741824");
}

TEST(DecompressorTest, HugeDeclaredContentSizeIsRejectedBeforeAllocating) {
  std::string out;
  AllocationCounter counter;
  const Status s = Decompress(FrameDeclaring(uint64_t{1} << 40, 100), 100, &out);
  EXPECT_LT(counter.largest(), 1000u);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("declares 1099511627776 content bytes"), std::string::npos)
      << s.message();
}

TEST(DecompressorTest, BombWithoutContentSizeIsStoppedAtRawBytes) {
  const std::string bomb = BombWithoutContentSize(64);  // 8 MiB from 262 bytes
  ASSERT_LT(bomb.size(), 300u);
  Decompressor d;
  std::string out;
  // Warm the decompression context (zstd's own malloc, not counted anyway).
  ASSERT_TRUE(d.Decompress(BombWithoutContentSize(1), 128 * 1024, &out, "w", 1 << 20).ok());
  out = std::string();
  AllocationCounter counter;
  const Status s = d.Decompress(bomb, 4096, &out, "f.seg at offset 64", kMaxFramePayloadBytes);
  EXPECT_LE(counter.bytes(), 4096u + 1000u);  // the output and the error message
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(),
            "f.seg at offset 64: zstd frame expands beyond the declared raw size of 4096 bytes");
}

TEST(DecompressorTest, FrameWithoutContentSizeIsAcceptedWhenItDecodesExactly) {
  std::string f(kZstdMagic);
  f.push_back('\0');
  f.push_back(kWindow128K);
  f += RleBlock(100, 'Z', true);
  std::string out;
  ASSERT_TRUE(Decompress(f, 100, &out).ok());
  EXPECT_EQ(out, std::string(100, 'Z'));
  const Status short_output = Decompress(f, 200, &out);
  EXPECT_TRUE(short_output.IsCorruption());
  EXPECT_EQ(short_output.message(),
            "f.seg at offset 64: zstd frame decompressed to 100 bytes, but the frame header says "
            "200");
  EXPECT_TRUE(Decompress(f, 99, &out).IsCorruption());
}

TEST(DecompressorTest, NotZstdIsCorruption) {
  std::string out;
  for (const std::string& input : {std::string(), std::string("\x28\xb5\x2f", 3), RandomData(100),
                                   // A skippable frame is a zstd frame, but not one we write.
                                   std::string("\x50\x2a\x4d\x18\x04\x00\x00\x00"
                                               "abcd",
                                               12)}) {
    const Status s = Decompress(input, 4, &out);
    EXPECT_TRUE(s.IsCorruption());
    EXPECT_EQ(s.message(),
              "f.seg at offset 64: compressed payload is not a zstd frame (bad zstd magic)");
  }
  // The magic alone: no frame header behind it.
  const Status s = Decompress(kZstdMagic, 4, &out);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("invalid zstd frame header"), std::string::npos) << s.message();
}

TEST(DecompressorTest, TrailingBytesAndSecondFramesAreCorruption) {
  Compressor c;
  std::string compressed;
  const std::string raw = CompressibleData(5000);
  ASSERT_TRUE(c.MaybeCompress(raw, Enabled(), &compressed));
  std::string out;
  Status s = Decompress(compressed + "xyz", raw.size(), &out);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "f.seg at offset 64: 3 trailing bytes after the zstd frame");
  s = Decompress(compressed + compressed, raw.size(), &out);
  EXPECT_TRUE(s.IsCorruption());
  // Cut short: the frame is incomplete.
  s = Decompress(std::string_view(compressed).substr(0, compressed.size() - 1), raw.size(), &out);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("corrupt zstd frame"), std::string::npos) << s.message();
}

TEST(DecompressorTest, ReservedBlockTypeIsCorruptData) {
  std::string f(kZstdMagic);
  f.push_back('\0');
  f.push_back(kWindow128K);
  f += RleBlock(100, 'Z', true);
  f[6] |= 0x6;  // block type 3: reserved
  std::string out;
  const Status s = Decompress(f, 100, &out);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message().rfind("f.seg at offset 64: corrupt zstd", 0), 0u) << s.message();
}

TEST(DecompressorTest, GarbledBytesNeverYieldTheWrongSize) {
  // zstd frames carry no checksum here (the frame checksum covers them), so a
  // garbled literal may decode to other bytes; but the decoder must never
  // produce another size, read or write out of bounds, or crash.
  Compressor c;
  std::string compressed;
  const std::string raw = CompressibleData(3000) + RandomData(500);
  ASSERT_TRUE(c.MaybeCompress(raw, Enabled(), &compressed));
  Decompressor d;
  int rejected = 0;
  for (size_t k = 0; k < compressed.size(); ++k) {
    for (char x : {'\x01', '\x80', '\xff'}) {
      std::string bad = compressed;
      bad[k] ^= x;
      std::string out;
      const Status s = d.Decompress(bad, raw.size(), &out, "t", kMaxFramePayloadBytes);
      if (s.ok()) {
        EXPECT_EQ(out.size(), raw.size()) << k;
      } else {
        EXPECT_TRUE(s.IsCorruption()) << k;
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, 0);
  // And the context still works afterwards.
  std::string out;
  ASSERT_TRUE(d.Decompress(compressed, raw.size(), &out, "t", kMaxFramePayloadBytes).ok());
  EXPECT_EQ(out, raw);
}

}  // namespace
}  // namespace raftlog::format
