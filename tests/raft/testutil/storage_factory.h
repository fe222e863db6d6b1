// Storages for the raft core's tests: MemoryStorage or DiskStorage, chosen
// by a test parameter, so that the cluster-level tests run on both.
//
// etcd's tests build MemoryStorages whose snapshot metadata carries the
// initial ConfState (newTestMemoryStorage(withPeers(...),
// withLearners(...))); StorageFactory::New does the same on either kind,
// through ApplySnapshot of an index-0 ConfState-only snapshot (allowed by
// etcd v3.7 semantics, which both storages implement).

#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/io/file_system.h"
#include "raftlog/raft/memory_storage.h"
#include "raftlog/raft/storage.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::raft::testing {

// The POSIX file system without fsync/fdatasync: the raft core's tests
// exercise DiskStorage's logic, not its durability (the engine's own tests
// do), and syncs would dominate their run time. LMDB's own syncs remain
// (cheap on tmpfs, which the factory prefers).
class NoSyncFileSystem final : public io::FileSystem {
 public:
  static NoSyncFileSystem* Get() {
    static NoSyncFileSystem* const fs = new NoSyncFileSystem();  // never destroyed
    return fs;
  }

  Result<std::unique_ptr<io::File>> Open(const std::string& path, io::OpenMode mode) override {
    Result<std::unique_ptr<io::File>> f = base_->Open(path, mode);
    if (!f.ok()) return f;
    return std::unique_ptr<io::File>(new NoSyncFile(std::move(f).value()));
  }
  Status CreateDir(const std::string& path) override { return base_->CreateDir(path); }
  Status SyncDir(const std::string&) override { return Status::OK(); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  Status Remove(const std::string& path) override { return base_->Remove(path); }
  Status RemoveDir(const std::string& path) override { return base_->RemoveDir(path); }
  Result<bool> IsDirectory(const std::string& path) override { return base_->IsDirectory(path); }
  bool Exists(const std::string& path) override { return base_->Exists(path); }
  Result<std::unique_ptr<io::FileLock>> Lock(const std::string& path) override {
    return base_->Lock(path);
  }

 private:
  class NoSyncFile final : public io::File {
   public:
    explicit NoSyncFile(std::unique_ptr<io::File> f) : f_(std::move(f)) {}
    const std::string& path() const override { return f_->path(); }
    Status PWrite(uint64_t offset, std::span<const std::string_view> pieces) override {
      return f_->PWrite(offset, pieces);
    }
    Result<std::string_view> PRead(uint64_t offset, size_t n, char* scratch) const override {
      return f_->PRead(offset, n, scratch);
    }
    Status Sync() override { return Status::OK(); }
    Status Allocate(uint64_t offset, uint64_t len) override { return f_->Allocate(offset, len); }
    Status Truncate(uint64_t size) override { return f_->Truncate(size); }
    Result<uint64_t> Size() const override { return f_->Size(); }
    Result<std::unique_ptr<io::MappedRegion>> Map(uint64_t offset, uint64_t len) const override {
      return f_->Map(offset, len);
    }

   private:
    std::unique_ptr<io::File> f_;
  };

  io::FileSystem* base_ = io::FileSystem::Default();
};

enum class StorageKind { kMemory, kDisk };

inline void PrintTo(StorageKind kind, std::ostream* os) {
  *os << (kind == StorageKind::kMemory ? "Memory" : "Disk");
}

// For INSTANTIATE_TEST_SUITE_P: "Memory" / "Disk".
std::string StorageKindName(const ::testing::TestParamInfo<StorageKind>& info);

// Owns every storage it makes; they live as long as the factory.
class StorageFactory {
 public:
  explicit StorageFactory(StorageKind kind) : kind_(kind) {}
  ~StorageFactory();
  StorageFactory(const StorageFactory&) = delete;
  StorageFactory& operator=(const StorageFactory&) = delete;

  StorageKind kind() const { return kind_; }

  // A new empty storage whose ConfState has `voters` and `learners`
  // (nothing at all if both are empty). Aborts the test on failure.
  WritableStorage* New(std::vector<uint64_t> voters = {}, std::vector<uint64_t> learners = {});

 private:
  StorageKind kind_;
  std::unique_ptr<testutil::TempDir> dir_;  // made on the first disk storage
  std::vector<std::unique_ptr<WritableStorage>> storages_;
};

// --- implementation (header-only: the test glob compiles *_test.cc only) ---

inline std::string StorageKindName(const ::testing::TestParamInfo<StorageKind>& info) {
  return info.param == StorageKind::kMemory ? "Memory" : "Disk";
}

inline StorageFactory::~StorageFactory() {
  // Close the storages before their directory goes.
  storages_.clear();
  dir_.reset();
}

inline WritableStorage* StorageFactory::New(std::vector<uint64_t> voters,
                                            std::vector<uint64_t> learners) {
  std::unique_ptr<WritableStorage> storage;
  if (kind_ == StorageKind::kMemory) {
    storage = std::make_unique<MemoryStorage>();
  } else {
    // tmpfs when available: these tests exercise DiskStorage's logic, not
    // its durability, and fsyncs on a shared disk would dominate their time.
    if (dir_ == nullptr) {
      dir_ = std::make_unique<testutil::TempDir>("raft", testutil::TempDir::InMemoryBase());
    }
    engine::DiskStorageOptions options;
    // Small segments and none prepared ahead: tests create many storages and
    // write little to each.
    options.engine.segment_bytes = 64 << 10;
    options.engine.prepared_segments = 0;
    options.engine.file_system = NoSyncFileSystem::Get();
    Result<std::unique_ptr<engine::DiskStorage>> disk =
        engine::DiskStorage::Open(dir_->Sub("s" + std::to_string(storages_.size())), options);
    if (!disk.ok()) {
      ADD_FAILURE() << "DiskStorage::Open: " << disk.status().ToString();
      std::abort();
    }
    storage = std::move(disk).value();
  }
  if (!voters.empty() || !learners.empty()) {
    Snapshot snap;
    snap.metadata.conf_state.voters = std::move(voters);
    snap.metadata.conf_state.learners = std::move(learners);
    Status s = storage->ApplySnapshot(snap);
    if (!s.ok()) {
      ADD_FAILURE() << "ApplySnapshot(ConfState): " << s.ToString();
      std::abort();
    }
  }
  storages_.push_back(std::move(storage));
  return storages_.back().get();
}

}  // namespace raftlog::raft::testing
