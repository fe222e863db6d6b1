// The worked example of docs/format.md: a real segment prefix (header + one
// frame of two entries), its exact bytes pinned here, and its annotated dump
// checked against the document so that the document stays true.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "raftlog/format/coding.h"
#include "raftlog/format/record.h"
#include "raftlog/format/record_format.h"
#include "raftlog/format/segment_header.h"
#include "tests/format/format_test_util.h"

namespace raftlog::format {
namespace {

using testing::OwnedEntry;
using testing::Views;

// The example: segment 0xa1 of generation 3, starting at index 100; one frame
// with entries 100 (type 0, "hello") and 101 (type 1, "world") of term 7,
// written when the commit index was 99.
std::string ExampleBytes() {
  SegmentHeader header;
  header.segment_id = 0xa1;
  header.base_index = 100;
  header.generation = 3;
  header.segment_bytes = 64 << 20;
  header.created_unix_ns = 1700000000000000000;  // 2023-11-14T22:13:20Z
  const std::vector<OwnedEntry> entries = {{100, 7, 0, "hello"}, {101, 7, 1, "world"}};
  FrameBuilder builder;
  builder.BuildEntries(header.seed(), 99, Views(entries));
  return EncodeSegmentHeader(header) + testing::Join(builder.pieces());
}

// How to show one field of the dump.
enum class Show { kAscii, kUnsigned, kHex, kZero };

struct Field {
  size_t bytes;
  Show show;
  const char* name;
};

// The fields of ExampleBytes(), in order.
const std::vector<Field>& ExampleFields() {
  static const std::vector<Field> fields = {
      // Segment header.
      {8, Show::kAscii, "segment magic"},
      {2, Show::kUnsigned, "format version"},
      {2, Show::kUnsigned, "header size"},
      {4, Show::kZero, "flags"},
      {8, Show::kUnsigned, "segment id"},
      {8, Show::kUnsigned, "base index"},
      {8, Show::kUnsigned, "generation"},
      {8, Show::kUnsigned, "segment bytes"},
      {8, Show::kUnsigned, "created (unix ns)"},
      {8, Show::kHex, "header checksum, XXH3-64 seed 0 of [0, 56)"},
      // Frame header.
      {4, Show::kAscii, "frame magic"},
      {1, Show::kUnsigned, "type (1 = entries)"},
      {1, Show::kUnsigned, "flags (0 = not compressed)"},
      {2, Show::kZero, "reserved"},
      {4, Show::kUnsigned, "stored bytes"},
      {4, Show::kUnsigned, "raw bytes"},
      {8, Show::kUnsigned, "first index"},
      {8, Show::kUnsigned, "term"},
      {4, Show::kUnsigned, "entry count"},
      {4, Show::kUnsigned, "durable offset / 8"},
      {8, Show::kUnsigned, "commit"},
      {8, Show::kHex, "frame checksum, XXH3-64 seed FrameSeed(0xa1, 3)"},
      // Entries payload.
      {1, Show::kUnsigned, "entry 100 type"},
      {1, Show::kUnsigned, "entry 101 type"},
      {4, Show::kUnsigned, "entry 100 data end offset"},
      {4, Show::kUnsigned, "entry 101 data end offset"},
      {5, Show::kAscii, "entry 100 data"},
      {5, Show::kAscii, "entry 101 data"},
      {4, Show::kZero, "padding to a multiple of 8"},
  };
  return fields;
}

uint64_t LittleEndian(std::string_view b) {
  uint64_t v = 0;
  for (size_t k = b.size(); k-- > 0;) v = (v << 8) | static_cast<unsigned char>(b[k]);
  return v;
}

// The annotated dump, one field a line: offset (hex), bytes, field = value.
std::string AnnotatedDump(std::string_view bytes) {
  std::string out;
  char buf[128];
  std::snprintf(buf, sizeof(buf), "seed = FrameSeed(0xa1, 3) = 0x%016llx\n\n",
                static_cast<unsigned long long>(FrameSeed(0xa1, 3)));
  out += buf;
  out += "offset  bytes                    field = value\n";
  size_t at = 0;
  for (const Field& f : ExampleFields()) {
    const std::string_view b = bytes.substr(at, f.bytes);
    std::snprintf(buf, sizeof(buf), "%04zx    ", at);
    std::string line = buf;
    std::string hex;
    for (unsigned char c : b) {
      std::snprintf(buf, sizeof(buf), "%02x ", c);
      hex += buf;
    }
    hex.resize(25, ' ');
    line += hex;
    line += f.name;
    line += " = ";
    switch (f.show) {
      case Show::kAscii:
        line += "\"" + std::string(b) + "\"";
        break;
      case Show::kUnsigned:
        line += std::to_string(LittleEndian(b));
        break;
      case Show::kHex:
        std::snprintf(buf, sizeof(buf), "0x%016llx",
                      static_cast<unsigned long long>(LittleEndian(b)));
        line += buf;
        break;
      case Show::kZero:
        line += LittleEndian(b) == 0 ? "0" : "NOT ZERO";
        break;
    }
    out += line + "\n";
    at += f.bytes;
  }
  return out;
}

// The exact bytes, pinned: any change to the encoding shows up here first.
constexpr std::string_view kGoldenHex =
    // segment header
    "524146544c534547"
    "0200"
    "4000"
    "00000000"
    "a100000000000000"
    "6400000000000000"
    "0300000000000000"
    "0000000400000000"
    "00002a36fe9c9717"
    "c87e5bf6626ea296"
    // frame header
    "524c4652"
    "01"
    "00"
    "0000"
    "14000000"
    "14000000"
    "6400000000000000"
    "0700000000000000"
    "02000000"
    "00000000"
    "6300000000000000"
    "0946d3fae9cbaad9"
    // payload and padding
    "0001"
    "05000000"
    "0a000000"
    "68656c6c6f"
    "776f726c64"
    "00000000";

std::string Hex(std::string_view bytes) {
  std::string out;
  char buf[3];
  for (unsigned char c : bytes) {
    std::snprintf(buf, sizeof(buf), "%02x", c);
    out += buf;
  }
  return out;
}

TEST(WorkedExampleTest, BytesAreTheGoldenBytes) {
  const std::string bytes = ExampleBytes();
  ASSERT_EQ(bytes.size(), 144u);
  EXPECT_EQ(Hex(bytes), kGoldenHex) << AnnotatedDump(bytes);
}

TEST(WorkedExampleTest, FieldsCoverEveryByte) {
  size_t total = 0;
  for (const Field& f : ExampleFields()) total += f.bytes;
  EXPECT_EQ(total, ExampleBytes().size());
  EXPECT_EQ(AnnotatedDump(ExampleBytes()).find("NOT ZERO"), std::string::npos);
}

TEST(WorkedExampleTest, DecodesAsDescribed) {
  const std::string bytes = ExampleBytes();
  Result<SegmentHeader> h = DecodeSegmentHeader(bytes, "00000000000000a1.seg");
  ASSERT_TRUE(h.ok());
  FrameIterator it(bytes, kSegmentHeaderBytes, h->seed(), "00000000000000a1.seg");
  ASSERT_TRUE(it.Next()) << it.status().ToString();
  EXPECT_EQ(it.frame().header.first_index, 100u);
  EXPECT_EQ(testing::DecodeEntries(std::string_view(bytes).substr(it.offset()), h->seed()),
            (std::vector<OwnedEntry>{{100, 7, 0, "hello"}, {101, 7, 1, "world"}}));
  EXPECT_FALSE(it.Next());
  EXPECT_EQ(it.error(), FrameError::kEndOfData);
}

// docs/format.md holds the dump between these markers, inside a code block.
constexpr std::string_view kBegin =
    "<!-- worked-example:begin (generated by tests/format/worked_example_test.cc) -->\n```\n";
constexpr std::string_view kEnd = "```\n<!-- worked-example:end -->";

TEST(WorkedExampleTest, DocumentShowsThisDump) {
  // This file is tests/format/worked_example_test.cc; the document is
  // docs/format.md in the same tree.
  std::string path = __FILE__;
  const size_t cut = path.rfind("tests/format/");
  if (cut == std::string::npos) GTEST_SKIP() << "source path unknown: " << path;
  path = path.substr(0, cut) + "docs/format.md";
  std::ifstream in(path);
  if (!in) GTEST_SKIP() << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const size_t begin = doc.find(kBegin);
  const size_t end = doc.find(kEnd);
  ASSERT_NE(begin, std::string::npos) << path << " lacks the worked-example markers";
  ASSERT_NE(end, std::string::npos) << path << " lacks the worked-example end marker";
  const std::string shown = doc.substr(begin + kBegin.size(), end - begin - kBegin.size());
  EXPECT_EQ(shown, AnnotatedDump(ExampleBytes()))
      << "docs/format.md's worked example is stale; replace it with:\n"
      << AnnotatedDump(ExampleBytes());
}

}  // namespace
}  // namespace raftlog::format
