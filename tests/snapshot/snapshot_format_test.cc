#include "raftlog/snapshot/snapshot_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"
#include "raftlog/snapshot/snapshot_store.h"
#include "tests/snapshot/snapshot_test_util.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::snapshot {
namespace {

TEST(SnapshotFileNameTest, FormatsSixteenHexDigitsTermThenIndex) {
  EXPECT_EQ(SnapshotFileName(2, 5), "0000000000000002-0000000000000005.snap");
  EXPECT_EQ(SnapshotFileName(0xabc, 0xdef), "0000000000000abc-0000000000000def.snap");
  EXPECT_EQ(SnapshotFileName(UINT64_MAX, 0), "ffffffffffffffff-0000000000000000.snap");
  EXPECT_EQ(TempFileName(SnapshotFileName(2, 5)), "0000000000000002-0000000000000005.snap.tmp");
}

TEST(SnapshotFileNameTest, ParsesOnlyItsOwnNames) {
  const std::vector<std::pair<uint64_t, uint64_t>> cases = {
      {0, 0}, {1, 2}, {0xabc, 0xdef0}, {UINT64_MAX, UINT64_MAX}, {7, UINT64_MAX - 1}};
  for (auto [term, index] : cases) {
    const std::string name = SnapshotFileName(term, index);
    auto parsed = ParseSnapshotFileName(name);
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(parsed->term, term);
    EXPECT_EQ(parsed->index, index);
    EXPECT_FALSE(IsTempFileName(name));
    EXPECT_TRUE(IsTempFileName(TempFileName(name)));
    EXPECT_FALSE(ParseSnapshotFileName(TempFileName(name)).has_value());
  }
  for (const char* bad :
       {"", "x.snap", "0000000000000002-0000000000000005",
        "0000000000000002-0000000000000005.snapx", "0000000000000002_0000000000000005.snap",
        "000000000000002-0000000000000005.snap",   // 15 digits
        "00000000000000002-000000000000005.snap",  // 17 + 15
        "000000000000000G-0000000000000005.snap",
        "000000000000000A-0000000000000005.snap",  // upper case
        "/000000000000002-0000000000000005.snap"}) {
    EXPECT_FALSE(ParseSnapshotFileName(bad).has_value()) << bad;
    EXPECT_FALSE(IsTempFileName(std::string(bad) + ".tmp")) << bad;
  }
  EXPECT_FALSE(IsTempFileName(".tmp"));
  EXPECT_FALSE(IsTempFileName("0000000000000002-0000000000000005.snap.tmp.tmp"));
}

// As etcd's snap files: a directory listing sorts by term, then index.
TEST(SnapshotFileNameTest, NamesSortByTermThenIndex) {
  std::vector<std::string> names = {SnapshotFileName(2, 1), SnapshotFileName(1, 0x100),
                                    SnapshotFileName(1, 0xff), SnapshotFileName(0x10, 0)};
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{SnapshotFileName(1, 0xff), SnapshotFileName(1, 0x100),
                                             SnapshotFileName(2, 1), SnapshotFileName(0x10, 0)}));
}

TEST(SnapshotHeaderTest, RoundTrips) {
  for (const std::string& conf : {std::string(), std::string("v1"), std::string(1000, '\xff')}) {
    const SnapshotMeta meta{/*index=*/UINT64_MAX - 3, /*term=*/42, conf};
    const std::string encoded = EncodeHeader(meta, 4096);
    ASSERT_EQ(encoded.size(), kHeaderFixedBytes + conf.size());
    auto size = DecodeHeaderBytes(encoded.substr(0, kHeaderPrefixBytes), encoded.size(), "f");
    ASSERT_TRUE(size.ok()) << size.status().ToString();
    EXPECT_EQ(*size, encoded.size());
    auto header = DecodeHeader(encoded, "f");
    ASSERT_TRUE(header.ok()) << header.status().ToString();
    EXPECT_EQ(header->meta, meta);
    EXPECT_EQ(header->block_bytes, 4096u);
    EXPECT_EQ(header->header_bytes, encoded.size());
    EXPECT_EQ(header->checksum,
              format::Checksum64(std::string_view(encoded).substr(0, encoded.size() - 8)));
  }
}

TEST(SnapshotHeaderTest, DecodeRejectsShortOrMismatchedInput) {
  const std::string encoded = EncodeHeader({1, 1, "abc"}, 8);
  EXPECT_TRUE(DecodeHeaderBytes("RAFTSNAP", 8, "f").status().IsCorruption());
  EXPECT_TRUE(DecodeHeader(encoded.substr(0, encoded.size() - 1), "f").status().IsCorruption());
  EXPECT_TRUE(DecodeHeader(encoded + "x", "f").status().IsCorruption());
  auto s = DecodeHeaderBytes(encoded.substr(0, 16), 40, "some/file");
  EXPECT_TRUE(test_support::IsCorruptionAt(s.status(), "some/file"));
}

// Encoding with an impossible block size is a programmer's error (callers
// validate options first), not a Status.
TEST(SnapshotHeaderDeathTest, EncodeRejectsImpossibleArguments) {
  EXPECT_DEATH((void)EncodeHeader({1, 1, ""}, 0), "block bytes out of range");
  EXPECT_DEATH((void)EncodeHeader({1, 1, ""}, kMaxBlockBytes + 1), "block bytes out of range");
}

TEST(SnapshotTrailerTest, RoundTripsAndIsBoundToItsHeader) {
  const SnapshotTrailer trailer{3, 1234567, 0xfeedfacecafebeef};
  const std::string encoded = EncodeTrailer(trailer, /*header_checksum=*/99);
  ASSERT_EQ(encoded.size(), kTrailerBytes);
  EXPECT_EQ(encoded.substr(36), kTrailerMagic);
  auto decoded = DecodeTrailer(encoded, 99, "f", 1000);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->block_count, 3u);
  EXPECT_EQ(decoded->data_bytes, 1234567u);
  EXPECT_EQ(decoded->data_checksum, 0xfeedfacecafebeefu);
  // The trailer of another snapshot (another header checksum) does not fit.
  auto other = DecodeTrailer(encoded, 100, "f", 1000);
  EXPECT_TRUE(test_support::IsCorruptionAt(other.status(), "f"));
  EXPECT_EQ(test_support::OffsetInMessage(other.status().message()), 1028);
  EXPECT_TRUE(DecodeTrailer(encoded.substr(1), 99, "f", 0).status().IsCorruption());
}

TEST(SnapshotBlockTest, ChecksumBindsHeaderNumberAndLength) {
  const uint64_t base = BlockChecksum(7, 0, "abcd");
  EXPECT_NE(base, BlockChecksum(8, 0, "abcd"));  // another file
  EXPECT_NE(base, BlockChecksum(7, 1, "abcd"));  // another position
  EXPECT_NE(BlockChecksum(7, 0, "abc"), format::Checksum64("abc", BlockSeed(7, 0, 4)));
  EXPECT_EQ(base, format::Checksum64("abcd", 7 ^ 4));
  EXPECT_EQ(BlockSeed(7, 1, 3), 7 ^ ((uint64_t{1} << 32) | 3));
  char header[kBlockHeaderBytes];
  EncodeBlockHeader(header, 7, 0, "abcd");
  EXPECT_EQ(format::DecodeFixed32(header), 4u);
  EXPECT_EQ(format::DecodeFixed64(header + 4), base);
}

// ---------------------------------------------------------------------------
// docs/snapshot-format.md, section 8: the worked example must be exactly what
// the code writes, both as the annotated table and as the plain dump.

std::string RepoRoot() {
  // This file is tests/snapshot/snapshot_format_test.cc under the root;
  // CMake compiles it by its absolute path.
  std::string path = __FILE__;
  for (int i = 0; i < 3; ++i) path = path.substr(0, path.rfind('/'));
  return path;
}

uint8_t HexByte(std::string_view token) {
  return static_cast<uint8_t>(std::strtoul(std::string(token).c_str(), nullptr, 16));
}

bool IsHexByte(std::string_view token) {
  return token.size() == 2 && std::isxdigit(static_cast<unsigned char>(token[0])) &&
         std::isxdigit(static_cast<unsigned char>(token[1]));
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

std::string Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

TEST(SnapshotFormatDocTest, DocumentExampleIsTrue) {
  const std::string doc_path = RepoRoot() + "/docs/snapshot-format.md";
  auto doc = io::ReadFileToString(io::FileSystem::Default(), doc_path);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();

  // What the code writes for the example's snapshot.
  testutil::TempDir tmp("snapshot-doc");
  auto store = SnapshotStore::Open(io::FileSystem::Default(), tmp.path(), {.block_bytes = 8});
  ASSERT_TRUE(store.ok());
  auto info = (*store)->Write({/*index=*/5, /*term=*/2, "v1"}, "hello, raft");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->name, "0000000000000002-0000000000000005.snap");
  const std::string file = test_support::ReadFile(tmp.Sub(info->name));
  ASSERT_EQ(file.size(), 129u);

  // The table between the markers: | offset | bytes | field |.
  const size_t begin = doc->find("<!-- worked-example-begin -->");
  const size_t end = doc->find("<!-- worked-example-end -->");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  std::string from_table;
  int rows = 0;
  std::istringstream table(doc->substr(begin, end - begin));
  for (std::string line; std::getline(table, line);) {
    const std::vector<std::string> cells = Split(line, '|');
    if (cells.size() < 4) continue;
    const std::string offset = Trim(cells[1]);
    if (offset.empty() || !std::isdigit(static_cast<unsigned char>(offset[0]))) continue;
    SCOPED_TRACE(line);
    ++rows;
    EXPECT_EQ(std::stoul(offset), from_table.size()) << "rows must be contiguous";
    std::string bytes;
    for (const std::string& token : Split(Trim(cells[2]), ' ')) {
      ASSERT_TRUE(IsHexByte(token)) << "'" << token << "'";
      bytes.push_back(static_cast<char>(HexByte(token)));
    }
    // A checksum row states its value: it must be the bytes, little-endian.
    const std::string field = cells[3];
    const size_t sum = field.find("checksum 0x");
    if (sum != std::string::npos) {
      ASSERT_EQ(bytes.size(), 8u);
      EXPECT_EQ(std::strtoull(field.c_str() + sum + 9, nullptr, 16),
                format::DecodeFixed64(bytes.data()));
    }
    from_table += bytes;
  }
  EXPECT_EQ(rows, 22);
  EXPECT_EQ(from_table, file) << "docs/snapshot-format.md's table no longer matches the code";

  // The plain dump after the table: "<offset>  <hex bytes>  |ascii|".
  std::string from_dump;
  std::istringstream dump(doc->substr(end));
  for (std::string line; std::getline(dump, line);) {
    if (line.size() < 10 || line.substr(8, 2) != "  ") continue;
    if (!std::all_of(line.begin(), line.begin() + 8, [](char c) { return std::isxdigit(c); })) {
      continue;
    }
    EXPECT_EQ(std::stoul(line.substr(0, 8), nullptr, 16), from_dump.size());
    const std::string hex = line.substr(10, line.find('|') - 10);
    for (const std::string& token : Split(hex, ' ')) {
      if (token.empty()) continue;
      ASSERT_TRUE(IsHexByte(token)) << line;
      from_dump.push_back(static_cast<char>(HexByte(token)));
    }
  }
  EXPECT_EQ(from_dump, file) << "docs/snapshot-format.md's dump no longer matches the code";
}

}  // namespace
}  // namespace raftlog::snapshot
