// XXH3-64 as raftlog computes it (format/checksum.h) must equal XXH3-64 as
// specified, whatever code the library picks for this CPU (SSE2, AVX2 or
// AVX-512): every checksum on disk depends on it. The expected values were
// computed by xxHash's own portable implementation (XXH3_64bits_withSeed of
// xxhash 0.8.1, built for baseline x86-64), for each of XXH3's length
// classes (0, 1-3, 4-8, 9-16, 17-128, 129-240, then the long loop below and
// above one stripe block).

#include "raftlog/format/checksum.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

namespace raftlog::format {
namespace {

std::string Pattern(size_t n) {
  std::string data(n, '\0');
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<char>(i * 131 + 7);
  return data;
}

struct Known {
  size_t length;
  uint64_t seed;
  uint64_t checksum;
};

constexpr Known kKnown[] = {
    {0, 0x0ull, 0x2d06800538d394c2ull},
    {1, 0x0ull, 0x4c5cca45d0f4811full},
    {3, 0x0ull, 0x6e3e2670e61106acull},
    {16, 0x0ull, 0x86abf6baccea0858ull},
    {17, 0x0ull, 0xb58bf5dc5022d071ull},
    {128, 0x0ull, 0x10d17f72c0ccba41ull},
    {129, 0x0ull, 0x1648bdc3db49d1a2ull},
    {240, 0x0ull, 0xb6cfaf343fab81e6ull},
    {241, 0x0ull, 0x956cae592c67279eull},
    {1024, 0x0ull, 0x70bd377d9574f4bbull},
    {4109, 0x0ull, 0x951d4110fa1de975ull},
    {1048583, 0x0ull, 0x73c93e1f0dd18aa1ull},
    {0, 0x9e3779b97f4a7c15ull, 0x602b0e2cd6662c8bull},
    {1, 0x9e3779b97f4a7c15ull, 0x2f3acd3805f81de3ull},
    {3, 0x9e3779b97f4a7c15ull, 0xbc74611d87f659e0ull},
    {16, 0x9e3779b97f4a7c15ull, 0x69d001b16ecf450aull},
    {17, 0x9e3779b97f4a7c15ull, 0xb7c99d19be27eb69ull},
    {128, 0x9e3779b97f4a7c15ull, 0x49b81c6e0abb9305ull},
    {129, 0x9e3779b97f4a7c15ull, 0x5e3831b221810b00ull},
    {240, 0x9e3779b97f4a7c15ull, 0x76a73ec26433f82cull},
    {241, 0x9e3779b97f4a7c15ull, 0x2be236ba3bacf75cull},
    {1024, 0x9e3779b97f4a7c15ull, 0xd8cf6b464541f232ull},
    {4109, 0x9e3779b97f4a7c15ull, 0x81ebafd8663e8416ull},
    {1048583, 0x9e3779b97f4a7c15ull, 0xc2a75394a7ff35b8ull},
};

TEST(ChecksumTest, MatchesTheSpecifiedXxh3AtEveryLengthClass) {
  const std::string data = Pattern(1048583);
  for (const Known& k : kKnown) {
    EXPECT_EQ(Checksum64(std::string_view(data).substr(0, k.length), k.seed), k.checksum)
        << k.length << " bytes, seed " << k.seed;
  }
}

TEST(ChecksumTest, StreamingInAnyPiecesGivesTheOneShotChecksum) {
  const std::string data = Pattern(1048583);
  std::mt19937_64 rng(20261207);
  for (const Known& k : kKnown) {
    const std::string_view whole = std::string_view(data).substr(0, k.length);
    for (int round = 0; round < 4; ++round) {
      StreamingChecksum streaming(k.seed);
      size_t pos = 0;
      while (pos < whole.size()) {
        // Pieces from 1 byte to 64 KiB: below and above the library's
        // internal buffer (256 bytes) and stripe block (1 KiB).
        const size_t piece =
            std::min<size_t>(whole.size() - pos, 1 + rng() % (round < 2 ? 300 : 65536));
        streaming.Update(whole.substr(pos, piece));
        pos += piece;
      }
      EXPECT_EQ(streaming.Digest(), k.checksum) << k.length << " bytes, seed " << k.seed;
    }
  }
}

TEST(ChecksumTest, ResetStartsOverWithTheNewSeed) {
  const std::string data = Pattern(4109);
  StreamingChecksum streaming(1);
  streaming.Update(data);
  streaming.Reset(0x9e3779b97f4a7c15ull);
  streaming.Update(data);
  EXPECT_EQ(streaming.Digest(), 0x81ebafd8663e8416ull);
  EXPECT_EQ(streaming.Digest(), 0x81ebafd8663e8416ull) << "Digest does not consume the state";
}

}  // namespace
}  // namespace raftlog::format
