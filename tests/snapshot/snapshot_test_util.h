// Helpers shared by the snapshot tests: deterministic data, raw file access
// for sabotage, and small assertions on Status messages.

#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/format/status.h"
#include "raftlog/io/file_system.h"

namespace raftlog::snapshot::test_support {

// n deterministic pseudo-random bytes (xorshift64*), so failures reproduce.
inline std::string RandomBytes(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    out[i] = static_cast<char>((x * 0x2545F4914F6CDD1Dull) >> 56);
  }
  return out;
}

inline std::string ReadFile(const std::string& path) {
  auto r = io::ReadFileToString(io::FileSystem::Default(), path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string();
}

// Replaces the file at path with `bytes` (not durably: for sabotage only).
inline void WriteFile(const std::string& path, std::string_view bytes) {
  io::FileSystem* fs = io::FileSystem::Default();
  auto file = fs->Open(path, io::OpenMode::kCreate);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Truncate(0).ok());
  const std::string_view pieces[] = {bytes};
  ASSERT_TRUE((*file)->PWrite(0, pieces).ok());
}

inline std::vector<std::string> ListDir(const std::string& dir) {
  auto r = io::FileSystem::Default()->ListDir(dir);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<std::string>();
}

// The byte offset in a message "... at offset <n>", or -1.
inline int64_t OffsetInMessage(std::string_view message) {
  constexpr std::string_view kAt = " at offset ";
  const size_t pos = message.rfind(kAt);
  if (pos == std::string_view::npos) return -1;
  return std::strtoll(std::string(message.substr(pos + kAt.size())).c_str(), nullptr, 10);
}

// A Corruption status that names `path` and a byte offset.
inline ::testing::AssertionResult IsCorruptionAt(const Status& s, const std::string& path) {
  if (!s.IsCorruption()) return ::testing::AssertionFailure() << "not Corruption: " << s.ToString();
  if (s.message().find(path) == std::string_view::npos) {
    return ::testing::AssertionFailure() << "does not name " << path << ": " << s.ToString();
  }
  if (OffsetInMessage(s.message()) < 0) {
    return ::testing::AssertionFailure() << "names no offset: " << s.ToString();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace raftlog::snapshot::test_support
