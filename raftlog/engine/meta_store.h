// MetaStore: the log's metadata in LMDB, a small transactional key-value store
// (the segment manifest, the log's start, and the raft adapter's HardState,
// ConfState and snapshot metadata). The only file that includes <lmdb.h> is
// meta_store.cc.
//
// Why LMDB: copy-on-write B+tree with atomic, durable commits (two fsyncs:
// data pages, then the meta page) and no recovery step of its own; readers
// never block the writer. The engine commits to it only on rare events
// (segment roll, truncation, compaction, snapshot, a raft term/vote change),
// never per append, so its cost stays off the steady-state write path.
//
// Layout on disk: one file <path> plus LMDB's lock file <path>-lock (LMDB's
// MDB_NOSUBDIR mode), both 0600.
//
// Thread-safety: all methods are safe to call concurrently; transactions are
// serialized by one mutex (metadata traffic is rare by design).
//
// LMDB caveats we honour (lmdb.h, "Caveats"): one MDB_env per file per
// process (the engine's LOCK file guarantees the single opener); no use of
// an environment after fork(); long-lived read transactions would pin pages,
// so every read here is a short transaction.

#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"

namespace raftlog::engine {

class MetaStore {
 public:
  struct OpenOptions {
    // Open without write access: Write() fails with FailedPrecondition.
    bool read_only = false;
    // Initial size of LMDB's memory map; grows automatically when full.
    size_t map_bytes = 16u << 20;
  };

  // A set of changes applied atomically by Write().
  class Batch {
   public:
    void Put(std::string_view key, std::string_view value);
    void Delete(std::string_view key);
    bool empty() const { return ops_.empty(); }

   private:
    friend class MetaStore;
    struct Op {
      std::string key;
      std::optional<std::string> value;  // nullopt: delete
    };
    std::vector<Op> ops_;
  };

  // Opens (creating if missing, unless read_only) the store at `path`.
  // Returns IOError with LMDB's reason and the path on failure, NotFound if
  // read_only and the file does not exist.
  static Result<std::unique_ptr<MetaStore>> Open(const std::string& path, OpenOptions options);
  static Result<std::unique_ptr<MetaStore>> Open(const std::string& path) {
    return Open(path, OpenOptions{});
  }

  ~MetaStore();
  MetaStore(const MetaStore&) = delete;
  MetaStore& operator=(const MetaStore&) = delete;

  // The value of key, or nullopt if absent.
  Result<std::optional<std::string>> Get(std::string_view key) const;

  // Every (key, value) whose key starts with prefix, in key order, from one
  // read transaction; an empty prefix reads every key (ReadAll).
  Result<std::vector<std::pair<std::string, std::string>>> Scan(std::string_view prefix) const;

  // Every (key, value) of the store, in key order, from one read
  // transaction: the store as of one commit, even while another process
  // writes it (what a tool beside a live writer needs; separate Get and
  // Scan calls may each see a different commit).
  Result<std::vector<std::pair<std::string, std::string>>> ReadAll() const;

  // Applies the batch in one transaction, durable (fsync'ed) when Write
  // returns OK. Deleting an absent key is not an error. On error nothing was
  // applied.
  Status Write(const Batch& batch);

  const std::string& path() const { return path_; }

 private:
  struct Env;
  MetaStore(std::string path, std::unique_ptr<Env> env, bool read_only);
  // Creates and opens env's LMDB environment; returns LMDB's code.
  static int OpenEnv(Env* env, const std::string& path, const OpenOptions& options, bool no_lock);

  const std::string path_;
  std::unique_ptr<Env> env_;
  const bool read_only_;
};

}  // namespace raftlog::engine
