// LmdbLogStorage: the naive "one LMDB key per raft entry" log that the
// benchmarks compare DiskStorage with (the report's baseline). Bench-only.
//
// This is how raft-boltdb (hashicorp/raft's default store) and many small
// raft projects keep their log in an embedded B-tree: key = the entry's index
// as 8 big-endian bytes (so keys sort by index), value = the encoded entry
// (varint term, type byte, data), one write transaction per append batch.
// HardState, the compaction point and the latest snapshot live under three
// keys of a second database. Nothing here is tuned beyond what such stores
// do: no MDB_APPEND, no MDB_WRITEMAP, default page size.
//
// Durability: with LmdbLogOptions::sync (the default) every write
// transaction is durable when it returns, at LMDB's price: write the dirty
// B-tree pages, fdatasync the data file, then write the meta page through
// an O_DSYNC descriptor -- two synchronous disk writes per commit. With
// sync = false the environment is opened with MDB_NOSYNC (the OS writes back
// when it likes), the "no sync" figure. Save(..., must_sync=false) on a
// synced store commits that one transaction with MDB_NOSYNC too, so a raft
// Ready that needs no durability costs no sync here either, as in DiskStorage.
//
// It implements raft::WritableStorage completely (so it can run under the
// raft core too), with MemoryStorage's semantics; misuse that etcd panics on
// returns InvalidArgument, as DiskStorage does.
//
// Thread-safety: every method may be called from any thread. Readers use
// their own LMDB read transaction; writers are serialized by write_mu_.
//
// NB: LMDB is included here directly; outside bench/ only raftlog/engine/meta_store.h
// may include lmdb.h. bench/CMakeLists.txt links liblmdb.

#pragma once

#include <lmdb.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/format/coding.h"
#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/raft/storage.h"
#include "raftlog/raft/types.h"

namespace raftlog::bench {

struct LmdbLogOptions {
  // Durable commits (LMDB's defaults); false: MDB_NOSYNC.
  bool sync = true;
  // LMDB's map size: the largest the data file may grow. Sparse; only what is
  // used takes disk space.
  uint64_t map_bytes = 16ull << 30;
};

class LmdbLogStorage final : public raft::WritableStorage {
 public:
  // Opens (creating if missing) the store in directory `dir`.
  // Returns kIOError with LMDB's message if LMDB refuses.
  static Result<std::unique_ptr<LmdbLogStorage>> Open(const std::string& dir,
                                                      const LmdbLogOptions& options = {}) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return Status::FromErrno("mkdir " + dir, errno);
    }
    MDB_env* env = nullptr;
    int rc = mdb_env_create(&env);
    if (rc != 0) return LmdbError("mdb_env_create", rc);
    std::unique_ptr<LmdbLogStorage> s(new LmdbLogStorage(env, options));
    if ((rc = mdb_env_set_mapsize(env, options.map_bytes)) != 0 ||
        (rc = mdb_env_set_maxdbs(env, 2)) != 0) {
      return LmdbError("mdb_env_set", rc);
    }
    const unsigned flags = MDB_NOTLS | (options.sync ? 0u : static_cast<unsigned>(MDB_NOSYNC));
    if ((rc = mdb_env_open(env, dir.c_str(), flags, 0644)) != 0) {
      return LmdbError("mdb_env_open " + dir, rc);
    }
    MDB_txn* txn = nullptr;
    if ((rc = mdb_txn_begin(env, nullptr, 0, &txn)) != 0) return LmdbError("mdb_txn_begin", rc);
    if ((rc = mdb_dbi_open(txn, "log", MDB_CREATE, &s->log_)) != 0 ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta_)) != 0) {
      mdb_txn_abort(txn);
      return LmdbError("mdb_dbi_open", rc);
    }
    if ((rc = mdb_txn_commit(txn)) != 0) return LmdbError("mdb_txn_commit", rc);
    return s;
  }

  ~LmdbLogStorage() override { mdb_env_close(env_); }
  LmdbLogStorage(const LmdbLogStorage&) = delete;
  LmdbLogStorage& operator=(const LmdbLogStorage&) = delete;

  // raft::Storage

  Result<raft::StoredState> InitialState() const override {
    ReadTxn r(env_);
    if (!r.status.ok()) return r.status;
    raft::StoredState st;
    std::string v;
    Status s = GetMeta(r.txn, kHardStateKey, &v);
    if (s.ok()) {
      const char* p = v.data();
      const char* end = p + v.size();
      p = DecodeVarint(p, end, &st.hard_state.term);
      p = DecodeVarint(p, end, &st.hard_state.vote);
      p = DecodeVarint(p, end, &st.hard_state.commit);
      if (p == nullptr) return Status::Corruption("lmdb baseline: bad hard state");
    } else if (!s.IsNotFound()) {
      return s;
    }
    Result<raft::Snapshot> snap = LoadSnapshot(r.txn);
    if (!snap.ok()) return snap.status();
    st.conf_state = snap->metadata.conf_state;
    return st;
  }

  Result<std::vector<raft::Entry>> Entries(uint64_t lo, uint64_t hi,
                                           uint64_t max_size) const override {
    ReadTxn r(env_);
    if (!r.status.ok()) return r.status;
    Result<Point> cp = LoadCompactPoint(r.txn);
    if (!cp.ok()) return cp.status();
    if (lo <= cp->index) return Status::Compacted();
    Result<uint64_t> last = LastIndexIn(r.txn, *cp);
    if (!last.ok()) return last.status();
    // etcd: with only the compaction point left, even [lo, lo) is unavailable.
    if (*last == cp->index) return Status::Unavailable();
    if (hi > *last + 1 || lo > hi) {
      return Status::InvalidArgument("lmdb baseline: entries [" + std::to_string(lo) + ", " +
                                     std::to_string(hi) + ") out of bounds");
    }
    std::vector<raft::Entry> out;
    if (lo == hi) return out;
    Cursor c(r.txn, log_);
    if (c.rc != 0) return LmdbError("mdb_cursor_open", c.rc);
    char kb[8];
    MDB_val key = Key(lo, kb), val;
    int rc = mdb_cursor_get(c.cursor, &key, &val, MDB_SET_KEY);
    uint64_t size = 0;
    for (uint64_t i = lo; i < hi; ++i) {
      if (rc != 0) return LmdbError("entries: mdb_cursor_get " + std::to_string(i), rc);
      raft::Entry e;
      RAFTLOG_RETURN_IF_ERROR(DecodeEntry(key, val, &e));
      if (e.index != i) return Status::Corruption("lmdb baseline: gap at " + std::to_string(i));
      size += raft::EntrySize(e);
      if (!out.empty() && size > max_size) break;
      out.push_back(std::move(e));
      rc = mdb_cursor_get(c.cursor, &key, &val, MDB_NEXT);
    }
    return out;
  }

  Result<uint64_t> Term(uint64_t i) const override {
    ReadTxn r(env_);
    if (!r.status.ok()) return r.status;
    Result<Point> cp = LoadCompactPoint(r.txn);
    if (!cp.ok()) return cp.status();
    if (i < cp->index) return Status::Compacted();
    if (i == cp->index) return cp->term;
    char kb[8];
    MDB_val key = Key(i, kb), val;
    const int rc = mdb_get(r.txn, log_, &key, &val);
    if (rc == MDB_NOTFOUND) return Status::Unavailable();
    if (rc != 0) return LmdbError("term: mdb_get", rc);
    raft::Entry e;
    RAFTLOG_RETURN_IF_ERROR(DecodeHead(val, &e));
    return e.term;
  }

  Result<uint64_t> LastIndex() const override {
    ReadTxn r(env_);
    if (!r.status.ok()) return r.status;
    Result<Point> cp = LoadCompactPoint(r.txn);
    if (!cp.ok()) return cp.status();
    return LastIndexIn(r.txn, *cp);
  }

  Result<uint64_t> FirstIndex() const override {
    ReadTxn r(env_);
    if (!r.status.ok()) return r.status;
    Result<Point> cp = LoadCompactPoint(r.txn);
    if (!cp.ok()) return cp.status();
    return cp->index + 1;
  }

  Result<raft::Snapshot> Snapshot() const override {
    ReadTxn r(env_);
    if (!r.status.ok()) return r.status;
    return LoadSnapshot(r.txn);
  }

  // raft::WritableStorage

  Status SetHardState(const raft::HardState& hs) override {
    std::lock_guard<std::mutex> lock(write_mu_);
    return Write(true, [&](MDB_txn* txn) { return PutHardState(txn, hs); });
  }

  Status Append(std::span<const raft::Entry> entries) override {
    std::lock_guard<std::mutex> lock(write_mu_);
    return Write(true, [&](MDB_txn* txn) { return AppendIn(txn, entries); });
  }

  Status Compact(uint64_t compact_index) override {
    std::lock_guard<std::mutex> lock(write_mu_);
    return Write(true, [&](MDB_txn* txn) -> Status {
      Result<Point> cp = LoadCompactPoint(txn);
      if (!cp.ok()) return cp.status();
      if (compact_index <= cp->index) return Status::Compacted();
      Result<uint64_t> last = LastIndexIn(txn, *cp);
      if (!last.ok()) return last.status();
      if (compact_index > *last) {
        return Status::InvalidArgument("lmdb baseline: compact " + std::to_string(compact_index) +
                                       " past last index " + std::to_string(*last));
      }
      Result<uint64_t> term = TermIn(txn, compact_index);
      if (!term.ok()) return term.status();
      // Delete keys [first, compact_index], one by one, as a B-tree store must.
      RAFTLOG_RETURN_IF_ERROR(
          DeleteWhile(txn, MDB_FIRST, [&](uint64_t i) { return i <= compact_index; }));
      return PutCompactPoint(txn, Point{compact_index, *term});
    });
  }

  Result<raft::Snapshot> CreateSnapshot(uint64_t i, const raft::ConfState* conf_state,
                                        std::string data) override {
    std::lock_guard<std::mutex> lock(write_mu_);
    raft::Snapshot snap;
    Status s = Write(true, [&](MDB_txn* txn) -> Status {
      Result<raft::Snapshot> old = LoadSnapshot(txn);
      if (!old.ok()) return old.status();
      if (i <= old->metadata.index) return Status::SnapshotOutOfDate();
      Result<Point> cp = LoadCompactPoint(txn);
      if (!cp.ok()) return cp.status();
      Result<uint64_t> last = LastIndexIn(txn, *cp);
      if (!last.ok()) return last.status();
      if (i > *last) return Status::InvalidArgument("lmdb baseline: snapshot past last index");
      Result<uint64_t> term = TermIn(txn, i);
      if (!term.ok()) return term.status();
      snap.metadata.index = i;
      snap.metadata.term = *term;
      snap.metadata.conf_state = conf_state != nullptr ? *conf_state : old->metadata.conf_state;
      snap.data = std::move(data);
      return PutSnapshot(txn, snap);
    });
    if (!s.ok()) return s;
    return snap;
  }

  Status ApplySnapshot(const raft::Snapshot& snapshot) override {
    std::lock_guard<std::mutex> lock(write_mu_);
    return Write(true, [&](MDB_txn* txn) { return ApplySnapshotIn(txn, snapshot); });
  }

  // One transaction for the whole Ready; synced only if must_sync (and the
  // store syncs at all).
  Status Save(const raft::HardState& hs, std::span<const raft::Entry> entries,
              const raft::Snapshot* snapshot, bool must_sync) override {
    std::lock_guard<std::mutex> lock(write_mu_);
    return Write(must_sync, [&](MDB_txn* txn) -> Status {
      if (!raft::IsEmptyHardState(hs)) RAFTLOG_RETURN_IF_ERROR(PutHardState(txn, hs));
      if (snapshot != nullptr && !raft::IsEmptySnap(*snapshot)) {
        return ApplySnapshotIn(txn, *snapshot);
      }
      return AppendIn(txn, entries);
    });
  }

 private:
  // A log position: the compaction point (index and term of the last entry
  // dropped, 0/0 when none).
  struct Point {
    uint64_t index = 0;
    uint64_t term = 0;
  };

  static constexpr std::string_view kHardStateKey = "hardstate";
  static constexpr std::string_view kCompactKey = "compact";
  static constexpr std::string_view kSnapshotKey = "snapshot";

  LmdbLogStorage(MDB_env* env, const LmdbLogOptions& options) : env_(env), options_(options) {}

  static Status LmdbError(const std::string& what, int rc) {
    return Status::IOError("lmdb baseline: " + what + ": " + mdb_strerror(rc));
  }

  // A read-only transaction, aborted when it goes out of scope.
  struct ReadTxn {
    explicit ReadTxn(MDB_env* env) {
      const int rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
      if (rc != 0) {
        txn = nullptr;
        status = LmdbError("mdb_txn_begin(rdonly)", rc);
      }
    }
    ~ReadTxn() {
      if (txn != nullptr) mdb_txn_abort(txn);
    }
    ReadTxn(const ReadTxn&) = delete;
    ReadTxn& operator=(const ReadTxn&) = delete;
    MDB_txn* txn = nullptr;
    Status status;
  };

  struct Cursor {
    Cursor(MDB_txn* txn, MDB_dbi dbi) { rc = mdb_cursor_open(txn, dbi, &cursor); }
    ~Cursor() {
      if (rc == 0) mdb_cursor_close(cursor);
    }
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    MDB_cursor* cursor = nullptr;
    int rc = 0;
  };

  // Runs `fn` in a write transaction and commits it (aborts on error). The
  // commit is durable if options_.sync and `durable`; a synced store commits
  // a transaction that needs no durability with MDB_NOSYNC set for it alone.
  // REQUIRES: write_mu_ held.
  template <class Fn>
  Status Write(bool durable, Fn fn) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != 0) return LmdbError("mdb_txn_begin", rc);
    Status s = fn(txn);
    if (!s.ok()) {
      mdb_txn_abort(txn);
      return s;
    }
    const bool skip_sync = options_.sync && !durable;
    if (skip_sync) (void)mdb_env_set_flags(env_, MDB_NOSYNC, 1);
    rc = mdb_txn_commit(txn);
    if (skip_sync) (void)mdb_env_set_flags(env_, MDB_NOSYNC, 0);
    if (rc != 0) return LmdbError("mdb_txn_commit", rc);
    return Status::OK();
  }

  static MDB_val Key(uint64_t index, char* buf) {
    for (int k = 7; k >= 0; --k) {
      buf[k] = static_cast<char>(index & 0xff);
      index >>= 8;
    }
    return MDB_val{8, buf};
  }
  static uint64_t DecodeKey(const MDB_val& key) {
    uint64_t v = 0;
    const auto* p = static_cast<const unsigned char*>(key.mv_data);
    for (size_t k = 0; k < 8 && k < key.mv_size; ++k) v = (v << 8) | p[k];
    return v;
  }
  static MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
  static const char* DecodeVarint(const char* p, const char* end, uint64_t* v) {
    return p == nullptr ? nullptr : format::DecodeVarint64(p, end, v);
  }

  // Value layout: varint term, one type byte, then the data.
  static void EncodeEntry(const raft::Entry& e, std::string* out) {
    out->clear();
    format::PutVarint64(out, e.term);
    out->push_back(static_cast<char>(e.type));
    out->append(e.data);
  }
  // Decodes the term and type of a value; returns the data's offset in *e.
  static Status DecodeHead(const MDB_val& val, raft::Entry* e, size_t* data_offset = nullptr) {
    const char* p = static_cast<const char*>(val.mv_data);
    const char* end = p + val.mv_size;
    const char* q = format::DecodeVarint64(p, end, &e->term);
    if (q == nullptr || q >= end) return Status::Corruption("lmdb baseline: bad entry value");
    e->type = static_cast<raft::EntryType>(*q);
    if (data_offset != nullptr) *data_offset = static_cast<size_t>(q + 1 - p);
    return Status::OK();
  }
  static Status DecodeEntry(const MDB_val& key, const MDB_val& val, raft::Entry* e) {
    size_t off = 0;
    RAFTLOG_RETURN_IF_ERROR(DecodeHead(val, e, &off));
    e->index = DecodeKey(key);
    e->data = Bytes::Copy(std::string_view(static_cast<const char*>(val.mv_data) + off, val.mv_size - off));
    return Status::OK();
  }

  Status GetMeta(MDB_txn* txn, std::string_view name, std::string* out) const {
    MDB_val key = Val(name), val;
    const int rc = mdb_get(txn, meta_, &key, &val);
    if (rc == MDB_NOTFOUND) return Status::NotFound(name);
    if (rc != 0) return LmdbError("mdb_get " + std::string(name), rc);
    out->assign(static_cast<const char*>(val.mv_data), val.mv_size);
    return Status::OK();
  }
  Status PutMeta(MDB_txn* txn, std::string_view name, std::string_view value) {
    MDB_val key = Val(name), val = Val(value);
    const int rc = mdb_put(txn, meta_, &key, &val, 0);
    return rc == 0 ? Status::OK() : LmdbError("mdb_put " + std::string(name), rc);
  }

  Result<Point> LoadCompactPoint(MDB_txn* txn) const {
    std::string v;
    Status s = GetMeta(txn, kCompactKey, &v);
    if (s.IsNotFound()) return Point{};
    if (!s.ok()) return s;
    if (v.size() != 16) return Status::Corruption("lmdb baseline: bad compaction point");
    return Point{format::DecodeFixed64(v.data()), format::DecodeFixed64(v.data() + 8)};
  }
  Status PutCompactPoint(MDB_txn* txn, Point p) {
    std::string v;
    format::PutFixed64(&v, p.index);
    format::PutFixed64(&v, p.term);
    return PutMeta(txn, kCompactKey, v);
  }
  Status PutHardState(MDB_txn* txn, const raft::HardState& hs) {
    std::string v;
    format::PutVarint64(&v, hs.term);
    format::PutVarint64(&v, hs.vote);
    format::PutVarint64(&v, hs.commit);
    return PutMeta(txn, kHardStateKey, v);
  }

  static void PutIds(std::string* out, const std::vector<uint64_t>& ids) {
    format::PutVarint64(out, ids.size());
    for (uint64_t id : ids) format::PutVarint64(out, id);
  }
  static const char* GetIds(const char* p, const char* end, std::vector<uint64_t>* ids) {
    uint64_t n = 0;
    p = DecodeVarint(p, end, &n);
    for (uint64_t k = 0; p != nullptr && k < n; ++k) {
      uint64_t id = 0;
      p = DecodeVarint(p, end, &id);
      ids->push_back(id);
    }
    return p;
  }
  // Snapshot value: varint index, term, the ConfState's four id lists and
  // auto_leave, then the data.
  Status PutSnapshot(MDB_txn* txn, const raft::Snapshot& snap) {
    std::string v;
    format::PutVarint64(&v, snap.metadata.index);
    format::PutVarint64(&v, snap.metadata.term);
    const raft::ConfState& cs = snap.metadata.conf_state;
    PutIds(&v, cs.voters);
    PutIds(&v, cs.learners);
    PutIds(&v, cs.voters_outgoing);
    PutIds(&v, cs.learners_next);
    v.push_back(cs.auto_leave ? 1 : 0);
    v.append(snap.data);
    return PutMeta(txn, kSnapshotKey, v);
  }
  Result<raft::Snapshot> LoadSnapshot(MDB_txn* txn) const {
    raft::Snapshot snap;
    std::string v;
    Status s = GetMeta(txn, kSnapshotKey, &v);
    if (s.IsNotFound()) return snap;
    if (!s.ok()) return s;
    const char* p = v.data();
    const char* end = p + v.size();
    raft::ConfState& cs = snap.metadata.conf_state;
    p = DecodeVarint(p, end, &snap.metadata.index);
    p = DecodeVarint(p, end, &snap.metadata.term);
    p = GetIds(p, end, &cs.voters);
    p = GetIds(p, end, &cs.learners);
    p = GetIds(p, end, &cs.voters_outgoing);
    p = GetIds(p, end, &cs.learners_next);
    if (p == nullptr || p >= end) return Status::Corruption("lmdb baseline: bad snapshot");
    cs.auto_leave = *p++ != 0;
    snap.data = Bytes::Copy(std::string_view(p, static_cast<size_t>(end - p)));
    return snap;
  }

  Result<uint64_t> LastIndexIn(MDB_txn* txn, Point cp) const {
    Cursor c(txn, log_);
    if (c.rc != 0) return LmdbError("mdb_cursor_open", c.rc);
    MDB_val key, val;
    const int rc = mdb_cursor_get(c.cursor, &key, &val, MDB_LAST);
    if (rc == MDB_NOTFOUND) return cp.index;
    if (rc != 0) return LmdbError("last: mdb_cursor_get", rc);
    return DecodeKey(key);
  }
  Result<uint64_t> TermIn(MDB_txn* txn, uint64_t i) const {
    char kb[8];
    MDB_val key = Key(i, kb), val;
    const int rc = mdb_get(txn, log_, &key, &val);
    if (rc != 0) return LmdbError("term " + std::to_string(i) + ": mdb_get", rc);
    raft::Entry e;
    RAFTLOG_RETURN_IF_ERROR(DecodeHead(val, &e));
    return e.term;
  }

  // Deletes log keys from one end (`end`: MDB_FIRST or MDB_LAST) while
  // `pred(index)` holds, re-seeking the end after each delete so the walk
  // does not depend on where LMDB leaves a cursor after mdb_cursor_del.
  template <class Pred>
  Status DeleteWhile(MDB_txn* txn, MDB_cursor_op end, Pred pred) {
    Cursor c(txn, log_);
    if (c.rc != 0) return LmdbError("mdb_cursor_open", c.rc);
    MDB_val key, val;
    int rc;
    while ((rc = mdb_cursor_get(c.cursor, &key, &val, end)) == 0 && pred(DecodeKey(key))) {
      if ((rc = mdb_cursor_del(c.cursor, 0)) != 0) return LmdbError("mdb_cursor_del", rc);
    }
    if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError("delete: mdb_cursor_get", rc);
    return Status::OK();
  }

  // MemoryStorage::Append's semantics in one transaction: skip what is
  // compacted, delete the stored suffix from the first new index, put each
  // entry under its own key.
  Status AppendIn(MDB_txn* txn, std::span<const raft::Entry> entries) {
    if (entries.empty()) return Status::OK();
    Result<Point> cp = LoadCompactPoint(txn);
    if (!cp.ok()) return cp.status();
    if (entries.back().index <= cp->index) return Status::OK();
    if (entries.front().index <= cp->index) {
      entries = entries.subspan(static_cast<size_t>(cp->index + 1 - entries.front().index));
    }
    Result<uint64_t> last = LastIndexIn(txn, *cp);
    if (!last.ok()) return last.status();
    const uint64_t first = entries.front().index;
    if (first > *last + 1) {
      return Status::InvalidArgument("lmdb baseline: append at " + std::to_string(first) +
                                     " leaves a gap after " + std::to_string(*last));
    }
    char kb[8];
    if (first <= *last) {
      RAFTLOG_RETURN_IF_ERROR(DeleteWhile(txn, MDB_LAST, [&](uint64_t i) { return i >= first; }));
    }
    for (const raft::Entry& e : entries) {
      EncodeEntry(e, &scratch_);
      MDB_val key = Key(e.index, kb), val = Val(scratch_);
      const int rc = mdb_put(txn, log_, &key, &val, 0);
      if (rc != 0) return LmdbError("mdb_put " + std::to_string(e.index), rc);
    }
    return Status::OK();
  }

  Status ApplySnapshotIn(MDB_txn* txn, const raft::Snapshot& snapshot) {
    Result<raft::Snapshot> old = LoadSnapshot(txn);
    if (!old.ok()) return old.status();
    if (old->metadata.index != 0 && old->metadata.index >= snapshot.metadata.index) {
      return Status::SnapshotOutOfDate();
    }
    const int rc = mdb_drop(txn, log_, 0);  // empty the log, keep the database
    if (rc != 0) return LmdbError("mdb_drop", rc);
    RAFTLOG_RETURN_IF_ERROR(
        PutCompactPoint(txn, Point{snapshot.metadata.index, snapshot.metadata.term}));
    return PutSnapshot(txn, snapshot);
  }

  MDB_env* const env_;
  const LmdbLogOptions options_;
  MDB_dbi log_ = 0;   // big-endian index -> encoded entry
  MDB_dbi meta_ = 0;  // kHardStateKey, kCompactKey, kSnapshotKey
  // Serializes write transactions and the MDB_NOSYNC toggle of Write().
  std::mutex write_mu_;
  std::string scratch_;  // Guarded by write_mu_: AppendIn's value buffer.
};

}  // namespace raftlog::bench
