// A fresh temporary directory for one test, removed with everything in it
// when the object goes away. Lives under $TEST_TMPDIR or /tmp (the same ext4
// as production here, not tmpfs, so fsync behaves as it will for users).

#pragma once

#include <string>
#include <string_view>

namespace raftlog::testutil {

class TempDir {
 public:
  // Creates <base>/raftlog-<prefix>-XXXXXX; aborts the test program if it can't.
  explicit TempDir(std::string_view prefix = "test");
  // As above under `base` instead (e.g. InMemoryBase()).
  TempDir(std::string_view prefix, const std::string& base);

  // /dev/shm if this machine has it, else the default base: for tests that
  // check logic, not durability, and would otherwise wait on fsync.
  static std::string InMemoryBase();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name
  std::string Sub(std::string_view name) const;

 private:
  std::string path_;
};

}  // namespace raftlog::testutil
