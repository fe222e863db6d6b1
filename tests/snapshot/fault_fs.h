// A minimal fault-injecting FileSystem for the snapshot tests: it wraps a
// real FileSystem, records the order of the calls that matter for
// durability, and makes chosen calls fail with a chosen errno. (The general
// fault-injecting file system with power-loss simulation lives in
// tests/testutil/; this one stays small and local on purpose.)
//
// Thread-safe: the plan and the log are guarded by a mutex.

#pragma once

#include <cerrno>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "raftlog/io/file_system.h"

namespace raftlog::snapshot::faults {

enum class Op { kPWrite, kSync, kRename, kSyncDir, kRemove };

inline const char* OpName(Op op) {
  switch (op) {
    case Op::kPWrite:
      return "pwrite";
    case Op::kSync:
      return "sync";
    case Op::kRename:
      return "rename";
    case Op::kSyncDir:
      return "syncdir";
    case Op::kRemove:
      return "remove";
  }
  return "?";
}

class FaultFs final : public io::FileSystem {
 public:
  explicit FaultFs(io::FileSystem* base = io::FileSystem::Default()) : base_(base) {}

  // The call of `op` after the next `skip` ones fails with `err` (once).
  void FailAfter(Op op, int skip, int err) {
    std::lock_guard<std::mutex> lock(mu_);
    plan_[op] = Plan{skip, err};
  }
  // Every call of `op` fails with `err` until Disarm.
  void FailAlways(Op op, int err) {
    std::lock_guard<std::mutex> lock(mu_);
    plan_[op] = Plan{0, err, /*sticky=*/true};
  }
  // Simulates the process dying after `ops` more recorded calls succeed:
  // every later call fails with EIO, so nothing is cleaned up either, and the
  // PWrite that meets the crash first writes half of its bytes (torn).
  void CrashAfter(int ops) {
    std::lock_guard<std::mutex> lock(mu_);
    crash_after_ = ops;
  }
  void Disarm() {
    std::lock_guard<std::mutex> lock(mu_);
    plan_.clear();
    crash_after_ = -1;
    crashed_ = false;
  }
  // Calls of `op` since construction or ClearLog (failed ones included).
  int Count(Op op) {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_[op];
  }
  // "<op> <path>" per call, in order ("rename <from> <to>").
  std::vector<std::string> Log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  // Forgets the log and the counts (not the plan).
  void ClearLog() {
    std::lock_guard<std::mutex> lock(mu_);
    log_.clear();
    counts_.clear();
  }

  // Records the call and returns the injected error, or OK. *torn is set
  // when this call is the one a CrashAfter crash happens in.
  Status Hit(Op op, const std::string& what, bool* torn = nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[op];
    log_.push_back(std::string(OpName(op)) + " " + what);
    if (crash_after_ >= 0) {
      if (crash_after_ > 0) {
        --crash_after_;
      } else {
        if (!crashed_ && torn != nullptr) *torn = true;
        crashed_ = true;
        return Status::FromErrno(std::string("injected crash at ") + OpName(op) + " " + what, EIO);
      }
    }
    auto it = plan_.find(op);
    if (it == plan_.end()) return Status::OK();
    if (it->second.skip > 0) {
      --it->second.skip;
      return Status::OK();
    }
    const int err = it->second.err;
    if (!it->second.sticky) plan_.erase(it);
    return Status::FromErrno(std::string("injected ") + OpName(op) + " " + what, err);
  }

  Result<std::unique_ptr<io::File>> Open(const std::string& path, io::OpenMode mode) override;
  Status CreateDir(const std::string& path) override { return base_->CreateDir(path); }
  Status SyncDir(const std::string& path) override {
    RAFTLOG_RETURN_IF_ERROR(Hit(Op::kSyncDir, path));
    return base_->SyncDir(path);
  }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    RAFTLOG_RETURN_IF_ERROR(Hit(Op::kRename, from + " " + to));
    return base_->Rename(from, to);
  }
  Status Remove(const std::string& path) override {
    RAFTLOG_RETURN_IF_ERROR(Hit(Op::kRemove, path));
    return base_->Remove(path);
  }
  Status RemoveDir(const std::string& path) override { return base_->RemoveDir(path); }
  Result<bool> IsDirectory(const std::string& path) override { return base_->IsDirectory(path); }
  bool Exists(const std::string& path) override { return base_->Exists(path); }
  Result<std::unique_ptr<io::FileLock>> Lock(const std::string& path) override {
    return base_->Lock(path);
  }

 private:
  struct Plan {
    int skip = 0;
    int err = EIO;
    bool sticky = false;
  };

  io::FileSystem* const base_;
  std::mutex mu_;
  std::map<Op, Plan> plan_;
  int crash_after_ = -1;  // -1: no crash planned
  bool crashed_ = false;
  std::map<Op, int> counts_;
  std::vector<std::string> log_;
};

class FaultFile final : public io::File {
 public:
  FaultFile(FaultFs* fs, std::unique_ptr<io::File> base) : fs_(fs), base_(std::move(base)) {}

  const std::string& path() const override { return base_->path(); }
  Status PWrite(uint64_t offset, std::span<const std::string_view> pieces) override {
    bool torn = false;
    Status s = fs_->Hit(Op::kPWrite, path(), &torn);
    if (!s.ok()) {
      if (torn) {
        std::string all;
        for (std::string_view piece : pieces) all.append(piece);
        const std::string_view half[] = {std::string_view(all).substr(0, all.size() / 2)};
        (void)base_->PWrite(offset, half);
      }
      return s;
    }
    return base_->PWrite(offset, pieces);
  }
  Result<std::string_view> PRead(uint64_t offset, size_t n, char* scratch) const override {
    return base_->PRead(offset, n, scratch);
  }
  Status Sync() override {
    RAFTLOG_RETURN_IF_ERROR(fs_->Hit(Op::kSync, path()));
    return base_->Sync();
  }
  Status Allocate(uint64_t offset, uint64_t len) override { return base_->Allocate(offset, len); }
  Status Truncate(uint64_t size) override { return base_->Truncate(size); }
  Result<uint64_t> Size() const override { return base_->Size(); }
  Result<std::unique_ptr<io::MappedRegion>> Map(uint64_t offset, uint64_t len) const override {
    return base_->Map(offset, len);
  }

 private:
  FaultFs* const fs_;
  std::unique_ptr<io::File> base_;
};

inline Result<std::unique_ptr<io::File>> FaultFs::Open(const std::string& path, io::OpenMode mode) {
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file, base_->Open(path, mode));
  return std::unique_ptr<io::File>(std::make_unique<FaultFile>(this, std::move(file)));
}

}  // namespace raftlog::snapshot::faults
