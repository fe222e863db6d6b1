#include "raftlog/engine/meta_store.h"

#include <lmdb.h>

#include <cerrno>

#include "raftlog/engine/lmdb_check.h"
#include "raftlog/port/mutex.h"

namespace raftlog::engine {

namespace {

// Every LMDB return code becomes a Status here, naming the operation and the
// store's path.
Status LmdbError(std::string_view op, const std::string& path, int rc) {
  std::string msg = "LMDB ";
  msg += op;
  msg += " ";
  msg += path;
  msg += ": ";
  msg += mdb_strerror(rc);
  if (rc == ENOENT) return Status::NotFound(msg);
  if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID ||
      rc == MDB_VERSION_MISMATCH) {
    return Status::Corruption(msg);
  }
  if (rc > 0) return Status::FromErrno(msg.substr(0, msg.rfind(':')), rc);
  return Status::IOError(msg);
}

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view View(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

// Aborts a transaction unless it was committed.
class Txn {
 public:
  Txn() = default;
  ~Txn() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  MDB_txn** out() { return &txn_; }
  MDB_txn* get() const { return txn_; }
  int Commit() {
    const int rc = mdb_txn_commit(txn_);
    txn_ = nullptr;  // committed or not, the handle is freed
    return rc;
  }

 private:
  MDB_txn* txn_ = nullptr;
};

}  // namespace

struct MetaStore::Env {
  MDB_env* env = nullptr;
  MDB_dbi dbi = 0;
  size_t map_bytes = 0;
  // Serializes every transaction of this process. LMDB allows one write
  // transaction at a time, and resizing the map needs no transaction of any
  // kind in flight. Reads are rare (open, tools), so one lock is enough.
  port::Mutex mu;
  // A read-only store opened without LMDB's lock file (MDB_NOLOCK) holds a
  // shared flock on the log directory instead, released after the env.
  std::unique_ptr<io::FileLock> dir_lock;
  ~Env() {
    if (env != nullptr) mdb_env_close(env);
    env = nullptr;
  }
};

void MetaStore::Batch::Put(std::string_view key, std::string_view value) {
  ops_.push_back(Op{std::string(key), std::string(value)});
}

void MetaStore::Batch::Delete(std::string_view key) {
  ops_.push_back(Op{std::string(key), std::nullopt});
}

namespace {

std::string ParentDir(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

int MetaStore::OpenEnv(Env* env, const std::string& path, const OpenOptions& options,
                       bool no_lock) {
  int rc = mdb_env_create(&env->env);
  if (rc != 0) return rc;
  env->map_bytes = options.map_bytes;
  rc = mdb_env_set_mapsize(env->env, env->map_bytes);
  if (rc != 0) return rc;
  // MDB_NOTLS: read transactions are not tied to threads (we use short ones
  // from any thread). MDB_NOSUBDIR: `path` is the data file itself.
  unsigned flags = MDB_NOSUBDIR | MDB_NOTLS;
  if (options.read_only) flags |= MDB_RDONLY;
  if (no_lock) flags |= MDB_NOLOCK;
  return mdb_env_open(env->env, path.c_str(), flags, 0600);
}

MetaStore::MetaStore(std::string path, std::unique_ptr<Env> env, bool read_only)
    : path_(std::move(path)), env_(std::move(env)), read_only_(read_only) {}

MetaStore::~MetaStore() = default;

Result<std::unique_ptr<MetaStore>> MetaStore::Open(const std::string& path, OpenOptions options) {
  // LMDB trusts its file: a truncated one makes it touch pages past the end
  // and the process dies of SIGBUS. Check the meta pages first (an empty or
  // missing file is a new store, which LMDB initializes).
  io::FileSystem* fs = io::FileSystem::Default();
  if (fs->Exists(path)) {
    auto file = fs->Open(path, io::OpenMode::kReadOnly);
    if (!file.ok()) return file.status();
    auto size = (*file)->Size();
    if (!size.ok()) return size.status();
    if (*size > 0) RAFTLOG_RETURN_IF_ERROR(CheckLmdbFile(fs, path).status());
  }
  auto env = std::make_unique<Env>();
  int rc = OpenEnv(env.get(), path, options, /*no_lock=*/false);
  if (options.read_only && (rc == EACCES || rc == EROFS || rc == EPERM)) {
    // A reader that may read the log but not write LMDB's lock file (or
    // create it): LMDB's reader table is out of reach, so exclude writers
    // another way. Every writer holds an exclusive flock on the log
    // directory (LogEngine::Open); a shared one here waits for none and
    // keeps any from starting while this store is open. Then LMDB needs no
    // lock file at all (MDB_NOLOCK).
    env = std::make_unique<Env>();
    auto dir_lock = fs->LockShared(ParentDir(path));
    if (!dir_lock.ok()) return dir_lock.status().WithContext("read-only open of " + path);
    env->dir_lock = std::move(*dir_lock);
    rc = OpenEnv(env.get(), path, options, /*no_lock=*/true);
  }
  if (rc != 0) return LmdbError("open", path, rc);

  // A store that another process grew has a larger map than ours.
  MDB_envinfo info;
  if (mdb_env_info(env->env, &info) == 0 && info.me_mapsize > env->map_bytes) {
    env->map_bytes = info.me_mapsize;
  }

  Txn txn;
  rc = mdb_txn_begin(env->env, nullptr, options.read_only ? MDB_RDONLY : 0, txn.out());
  if (rc != 0) return LmdbError("txn_begin", path, rc);
  rc = mdb_dbi_open(txn.get(), nullptr, 0, &env->dbi);
  if (rc != 0) return LmdbError("dbi_open", path, rc);
  rc = txn.Commit();
  if (rc != 0) return LmdbError("commit", path, rc);
  return std::unique_ptr<MetaStore>(new MetaStore(path, std::move(env), options.read_only));
}

Result<std::optional<std::string>> MetaStore::Get(std::string_view key) const {
  port::MutexLock lock(&env_->mu);
  Txn txn;
  int rc = mdb_txn_begin(env_->env, nullptr, MDB_RDONLY, txn.out());
  if (rc != 0) return LmdbError("txn_begin", path_, rc);
  MDB_val k = Val(key), v;
  rc = mdb_get(txn.get(), env_->dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string>();
  if (rc != 0) return LmdbError("get", path_, rc);
  return std::optional<std::string>(std::string(View(v)));
}

Result<std::vector<std::pair<std::string, std::string>>> MetaStore::Scan(
    std::string_view prefix) const {
  port::MutexLock lock(&env_->mu);
  Txn txn;
  int rc = mdb_txn_begin(env_->env, nullptr, MDB_RDONLY, txn.out());
  if (rc != 0) return LmdbError("txn_begin", path_, rc);
  MDB_cursor* cursor = nullptr;
  rc = mdb_cursor_open(txn.get(), env_->dbi, &cursor);
  if (rc != 0) return LmdbError("cursor_open", path_, rc);
  std::vector<std::pair<std::string, std::string>> out;
  // LMDB refuses an empty key: an empty prefix starts at the first key.
  MDB_val k = Val(prefix), v;
  rc = mdb_cursor_get(cursor, &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
  while (rc == 0 && View(k).substr(0, prefix.size()) == prefix) {
    out.emplace_back(std::string(View(k)), std::string(View(v)));
    rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
  }
  mdb_cursor_close(cursor);
  if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError("cursor_get", path_, rc);
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> MetaStore::ReadAll() const {
  return Scan({});
}

Status MetaStore::Write(const Batch& batch) {
  if (read_only_) return Status::FailedPrecondition("metadata store " + path_ + " is read-only");
  port::MutexLock lock(&env_->mu);
  for (int attempt = 0;; ++attempt) {
    Txn txn;
    int rc = mdb_txn_begin(env_->env, nullptr, 0, txn.out());
    if (rc != 0) return LmdbError("txn_begin", path_, rc);
    for (const Batch::Op& op : batch.ops_) {
      MDB_val k = Val(op.key);
      if (op.value.has_value()) {
        MDB_val v = Val(*op.value);
        rc = mdb_put(txn.get(), env_->dbi, &k, &v, 0);
      } else {
        rc = mdb_del(txn.get(), env_->dbi, &k, nullptr);
        if (rc == MDB_NOTFOUND) rc = 0;
      }
      if (rc != 0) break;
    }
    if (rc == 0) rc = txn.Commit();
    if (rc == 0) return Status::OK();
    // The map is full: double it and retry the whole batch. Safe here because
    // no write transaction is in flight (we hold mu) and the aborted
    // one left nothing behind.
    if (rc == MDB_MAP_FULL && attempt < 8) {
      env_->map_bytes *= 2;
      const int grow = mdb_env_set_mapsize(env_->env, env_->map_bytes);
      if (grow != 0) return LmdbError("set_mapsize", path_, grow);
      continue;
    }
    return LmdbError("write", path_, rc);
  }
}

}  // namespace raftlog::engine
