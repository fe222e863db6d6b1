// A test fixture for LogEngine: one scratch directory, small segments, and
// helpers that append numbered entries and read or damage segment files.
// Shared by the engine's unit tests and its recovery tests.

#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/engine/log_engine.h"
#include "raftlog/format/record.h"
#include "raftlog/io/file_system.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::engine::testing {

// Entries [first, first+count) of term `term`, data "e<index>" padded to `size`.
struct Batch {
  std::vector<std::string> data;
  std::vector<format::EntryView> views;

  Batch(uint64_t first, uint64_t count, uint64_t term, size_t size = 16) {
    data.reserve(count);
    for (uint64_t i = first; i < first + count; ++i) data.push_back(Payload(i, size));
    for (uint64_t k = 0; k < count; ++k) {
      views.push_back(format::EntryView{first + k, term, static_cast<uint8_t>(k % 3), data[k]});
    }
  }
  static std::string Payload(uint64_t index, size_t size) {
    std::string s = "e" + std::to_string(index) + ":";
    while (s.size() < size) s.push_back(static_cast<char>('a' + (index + s.size()) % 26));
    s.resize(size);
    return s;
  }
};

// An entry as read back: what a reopened or rewritten log must return the
// same of.
struct ReadEntry {
  uint64_t index, term;
  std::string data;
  bool operator==(const ReadEntry&) const = default;
};

// Every entry of the log, [FirstIndex, LastIndex], in order.
inline Result<std::vector<ReadEntry>> ReadEntries(LogEngine* e) {
  std::vector<ReadEntry> out;
  RAFTLOG_RETURN_IF_ERROR(
      e->Read(e->FirstIndex(), e->LastIndex() + 1, [&](const format::EntryView& v) {
        out.push_back(ReadEntry{v.index, v.term, std::string(v.data)});
        return true;
      }));
  return out;
}

class LogEngineFixture : public ::testing::Test {
 protected:
  explicit LogEngineFixture(const std::string& dir_name) : dir_(dir_name) {
    options_.segment_bytes = 64 << 10;
    options_.prepared_segments = 1;
    // No cold worker rewriting sealed segments behind the test's back: these
    // tests damage, count and rewrite segment files themselves. The cold
    // tests turn it on where they test it.
    options_.compression_mode = CompressionMode::kOff;
  }

  std::unique_ptr<LogEngine> Open() {
    auto engine = LogEngine::Open(dir_.path(), options_);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return engine.ok() ? std::move(*engine) : nullptr;
  }

  void Append(LogEngine* e, uint64_t first, uint64_t count, uint64_t term, size_t size = 16) {
    Batch b(first, count, term, size);
    const Status s = e->Append(b.views, {});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::string SegmentsDir() const { return dir_.Sub("segments"); }

  static std::string ReadAll(const std::string& path) {
    return *io::ReadFileToString(io::FileSystem::Default(), path);
  }
  static void WriteAt(const std::string& path, uint64_t offset, std::string_view bytes) {
    auto f = io::FileSystem::Default()->Open(path, io::OpenMode::kReadWrite);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->PWrite(offset, std::span<const std::string_view>(&bytes, 1)).ok());
  }

  testutil::TempDir dir_;
  Options options_;
};

}  // namespace raftlog::engine::testing
