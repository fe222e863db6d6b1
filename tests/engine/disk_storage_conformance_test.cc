// The Storage conformance suite (every etcd storage_test.go case and our own)
// run against DiskStorage: once as is, and once with a close/reopen between
// building each fixture, mutating it and checking the result.

#include <gtest/gtest.h>

#include <memory>

#include "raftlog/engine/disk_storage.h"
#include "tests/raft/storage_conformance.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::raft::testing {
namespace {

template <bool kReopen>
struct DiskStorageBackend {
  static constexpr bool kPanicsOnMisuse = false;
  static constexpr bool kReopens = kReopen;

  std::unique_ptr<WritableStorage> Open() {
    current.reset();  // the previous storage of this test, if any
    dir = std::make_unique<testutil::TempDir>("conformance");
    return OpenAt(dir->path());
  }

  std::unique_ptr<WritableStorage> Reopen(std::unique_ptr<WritableStorage> storage) {
    storage.reset();  // closes and releases the lock
    return OpenAt(dir->path());
  }

  static std::unique_ptr<WritableStorage> OpenAt(const std::string& path) {
    engine::DiskStorageOptions options;
    // Small segments, so that the suite's logs span several of them.
    options.engine.segment_bytes = 256 << 10;
    auto storage = engine::DiskStorage::Open(path, options);
    EXPECT_TRUE(storage.ok()) << storage.status().ToString();
    if (!storage.ok()) std::abort();
    return std::move(*storage);
  }

  std::unique_ptr<WritableStorage> current;
  std::unique_ptr<testutil::TempDir> dir;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Disk, StorageConformanceTest,
                               ::testing::Types<DiskStorageBackend<false>>);
INSTANTIATE_TYPED_TEST_SUITE_P(DiskReopened, StorageConformanceTest,
                               ::testing::Types<DiskStorageBackend<true>>);

}  // namespace raftlog::raft::testing
