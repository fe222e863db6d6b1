// Damaged bytes in meta.mdb: LMDB 0.9 has no page checksums, so the engine
// checks what it reads itself. A flipped bit in a stored value (vote, term,
// snapshot index, log/start) is Corruption through the value's checksum; a
// damaged node header (a key size) is Corruption from the page walk made
// before LMDB maps the file, never a crash, and so is a free-page list that
// names a page in use (LMDB would hand it out to the next write); values that
// are each intact but disagree with each other or with the log are
// Corruption naming both.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/engine/meta_store.h"
#include "raftlog/format/coding.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/io/file_system.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::engine {
namespace {

using raft::Entry;
using raft::EntryType;
using raft::HardState;

std::vector<Entry> Ents(uint64_t first, uint64_t n, uint64_t term) {
  std::vector<Entry> out;
  for (uint64_t i = first; i < first + n; ++i) {
    out.push_back(Entry{term, i, EntryType::kNormal, std::string(100, 'x')});
  }
  return out;
}

class MetaDamageTest : public ::testing::Test {
 protected:
  // Entries 1..30 of term 5, HardState {5, 2, 25}, a snapshot at 20,
  // compacted through 15, cleanly closed.
  void MakeLog() { MakeLogWith(HardState{5, 2, 25}, 30, 5, 20, "state", 15); }

  // Entries 1..count of `term` saved with `hs`, a snapshot of the voters
  // {1, 2, 3} at `snapshot` holding `data`, compacted through `compact`,
  // cleanly closed.
  void MakeLogWith(const HardState& hs, uint64_t count, uint64_t term, uint64_t snapshot,
                   const std::string& data, uint64_t compact) {
    auto s = DiskStorage::Open(dir_.path(), options_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->Save(hs, Ents(1, count, term), nullptr, true).ok());
    raft::ConfState cs;
    cs.voters = {1, 2, 3};
    ASSERT_TRUE((*s)->CreateSnapshot(snapshot, &cs, data).ok());
    ASSERT_TRUE((*s)->Compact(compact).ok());
    ASSERT_TRUE((*s)->Close().ok());
  }
  Status TryOpen(bool read_only = false) {
    DiskStorageOptions o = options_;
    o.engine.read_only = read_only;
    o.engine.create_if_missing = !read_only;
    return DiskStorage::Open(dir_.path(), o).status();
  }
  std::string MetaPath() const { return dir_.Sub("meta.mdb"); }
  std::string Get(const std::string& key) {
    MetaStore::OpenOptions o;
    o.read_only = true;
    auto meta = MetaStore::Open(MetaPath(), o);
    EXPECT_TRUE(meta.ok()) << meta.status().ToString();
    if (!meta.ok()) return "";
    auto v = (*meta)->Get(key);
    EXPECT_TRUE(v.ok() && v->has_value()) << key;
    return v.ok() && v->has_value() ? **v : "";
  }
  void Put(const std::string& key, const std::string& value) {
    auto meta = MetaStore::Open(MetaPath());
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    MetaStore::Batch batch;
    batch.Put(key, value);
    ASSERT_TRUE((*meta)->Write(batch).ok());
  }
  // XORs `mask` into byte `at` of every copy of `needle` in meta.mdb (LMDB
  // keeps older copies in pages it has freed; the live one is among them).
  void DamageEveryCopy(const std::string& needle, size_t at, uint8_t mask) {
    auto* fs = io::FileSystem::Default();
    std::string bytes = *io::ReadFileToString(fs, MetaPath());
    size_t copies = 0;
    for (size_t pos = bytes.find(needle); pos != std::string::npos;
         pos = bytes.find(needle, pos + 1)) {
      bytes[pos + at] = static_cast<char>(bytes[pos + at] ^ mask);
      ++copies;
    }
    ASSERT_GT(copies, 0u) << "value not found in meta.mdb";
    WriteMeta(bytes);
  }
  // meta.mdb written over with `bytes`.
  void WriteMeta(const std::string& bytes) {
    auto f = io::FileSystem::Default()->Open(MetaPath(), io::OpenMode::kReadWrite);
    ASSERT_TRUE(f.ok());
    const std::string_view view(bytes);
    ASSERT_TRUE((*f)->PWrite(0, std::span<const std::string_view>(&view, 1)).ok());
  }
  // LMDB's layout as these tests patch it: 4 KiB pages; a meta page's fields
  // start after its 16-byte page header (the transaction id at +128, the
  // free-page database at +24 and the main one at +72: depth at +6, root at
  // +40).
  static constexpr size_t kPage = 4096, kMeta = 16;
  // Offset of the fields of the meta page with the newer transaction.
  static size_t NewestMeta(const std::string& bytes) {
    return format::DecodeFixed64(bytes.data() + kPage + kMeta + 128) >
                   format::DecodeFixed64(bytes.data() + kMeta + 128)
               ? kPage + kMeta
               : kMeta;
  }
  static void ExpectCorruption(const Status& s, const std::string& what) {
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(what), std::string::npos) << s.ToString();
  }

  testutil::TempDir dir_{"meta-damage"};
  DiskStorageOptions options_;
};

TEST_F(MetaDamageTest, EveryValueIsWrittenWithAChecksum) {
  MakeLog();
  for (const std::string key : {"state/hardstate", "state/snapshot", "log/start",
                                "log/next_segment_id", "log/generation", "log/durable"}) {
    const std::string v = Get(key);
    EXPECT_EQ(static_cast<uint8_t>(v[0]), format::kChecksummedMetaRecordVersion) << key;
    EXPECT_FALSE(format::IsOldMetaEncoding(v)) << key;
  }
}

TEST_F(MetaDamageTest, FlippedVoteIsCorruption) {
  MakeLog();
  const std::string hs = Get("state/hardstate");
  ASSERT_EQ(*format::DecodeHardState(hs), (format::HardStateRecord{5, 2, 25}));
  DamageEveryCopy(hs, 2, 0x01);  // vote 2 -> 3
  ExpectCorruption(TryOpen(), "HardState record: checksum mismatch");
  ExpectCorruption(TryOpen(/*read_only=*/true), "HardState record: checksum mismatch");
}

TEST_F(MetaDamageTest, FlippedTermIsCorruption) {
  MakeLog();
  const std::string hs = Get("state/hardstate");
  DamageEveryCopy(hs, 1, 0x02);  // term 5 -> 7
  ExpectCorruption(TryOpen(), "HardState record: checksum mismatch");
}

TEST_F(MetaDamageTest, FlippedSnapshotIndexIsCorruption) {
  MakeLog();
  const std::string snap = Get("state/snapshot");
  ASSERT_EQ(format::DecodeSnapshotMeta(snap)->index, 20u);
  DamageEveryCopy(snap, 1, 0x01);  // index 20 -> 21
  ExpectCorruption(TryOpen(), "SnapshotMeta record: checksum mismatch");
}

TEST_F(MetaDamageTest, FlippedLogStartIsCorruption) {
  MakeLog();
  const std::string start = Get("log/start");
  ASSERT_EQ(format::DecodeLogStart(start)->first_index, 16u);
  DamageEveryCopy(start, 1, 0x04);  // first index 16 -> 20
  ExpectCorruption(TryOpen(), "log/start record: checksum mismatch");
}

// The cases of the damage report, with its values: a log of term 1 (vote 1,
// entries 1 to 10, commit 8), a snapshot at 5 whose file says 5, compacted
// through 5 (log/start says 6). Each flip leaves a well-formed value that
// differs from the stored one, and each is refused by the value's checksum,
// writable and read-only.
struct ReportCase {
  const char* name;
  const char* key;
  size_t byte;   // of the value: its version byte is 0
  uint8_t mask;  // XORed into it
  uint64_t from, to;
  const char* record;  // the record named in the error
};

class MetaDamageReportTest : public MetaDamageTest,
                             public ::testing::WithParamInterface<ReportCase> {
 protected:
  void MakeReportLog() { MakeLogWith(HardState{1, 1, 8}, 10, 1, 5, "state at 5", 5); }
};

// The field at `byte` of a value of the report's log (each a one-byte varint).
uint64_t FieldAt(const std::string& value, size_t byte) {
  return static_cast<uint8_t>(value[byte]);
}

TEST_P(MetaDamageReportTest, FlipIsRefused) {
  const ReportCase& c = GetParam();
  MakeReportLog();
  ASSERT_TRUE(TryOpen().ok());
  const std::string value = Get(c.key);
  ASSERT_EQ(FieldAt(value, c.byte), c.from) << c.key;
  ASSERT_EQ(c.from ^ c.mask, c.to);
  DamageEveryCopy(value, c.byte, c.mask);
  ExpectCorruption(TryOpen(), std::string(c.record) + ": checksum mismatch");
  ExpectCorruption(TryOpen(/*read_only=*/true), std::string(c.record) + ": checksum mismatch");
}

INSTANTIATE_TEST_SUITE_P(
    Report, MetaDamageReportTest,
    ::testing::Values(ReportCase{"VoteOneToThree", "state/hardstate", 2, 0x02, 1, 3, "HardState record"},
                      ReportCase{"TermOneToZero", "state/hardstate", 1, 0x01, 1, 0, "HardState record"},
                      ReportCase{"SnapshotIndexFiveToFour", "state/snapshot", 1, 0x01, 5, 4,
                                 "SnapshotMeta record"},
                      ReportCase{"LogStartPlusTwo", "log/start", 1, 0x0e, 6, 8, "log/start record"}),
    [](const ::testing::TestParamInfo<ReportCase>& info) { return std::string(info.param.name); });

// The report's snapshot case once more with a valid checksum (a value
// written wrong, not damaged): the snapshot file still says 5, so open
// refuses it naming both.
TEST_F(MetaDamageReportTest, SnapshotIndexFourWhileTheFileSaysFiveIsCorruption) {
  MakeReportLog();
  auto meta = *format::DecodeSnapshotMeta(Get("state/snapshot"));
  ASSERT_EQ(meta.index, 5u);
  meta.index = 4;
  Put("state/snapshot", format::EncodeSnapshotMeta(meta));
  const Status s = TryOpen();
  ExpectCorruption(s, "says index 4 term 1");
  EXPECT_NE(s.message().find("holds index 5 term 1"), std::string::npos) << s.ToString();
  ExpectCorruption(TryOpen(/*read_only=*/true), "says index 4 term 1");
}

TEST_F(MetaDamageTest, DamagedKeySizeIsCorruptionNotACrash) {
  MakeLog();
  // A leaf node is an 8-byte header (data size, flags, key size) and then
  // the key: raise the key size of log/start's node past the page.
  const std::string key = "log/start";
  auto* fs = io::FileSystem::Default();
  const std::string bytes = *io::ReadFileToString(fs, MetaPath());
  ASSERT_NE(bytes.find(key), std::string::npos);
  ASSERT_EQ(format::DecodeFixed16(bytes.data() + bytes.find(key) - 2), key.size());
  DamageEveryCopy(key, static_cast<size_t>(-1), 0x40);  // the key size's high byte
  ExpectCorruption(TryOpen(), "meta.mdb: LMDB page ");
  ExpectCorruption(TryOpen(/*read_only=*/true), "runs past the end of the page");
  MetaStore::OpenOptions o;
  o.read_only = true;
  ExpectCorruption(MetaStore::Open(MetaPath(), o).status(), "meta.mdb: LMDB page ");
}

TEST_F(MetaDamageTest, FreePageListNamingALivePageIsCorruptionNotACrash) {
  MakeLog();
  // The newest meta page (LMDB's layout, engine/lmdb_check.h): its main
  // database's root page, and the free-page database's root, a leaf whose
  // first node is a free-page list (u64 count, then page numbers). Naming
  // the main root there made LMDB hand the root out to the next write and
  // abort in mdb_page_touch (found by the meta_mdb fuzz target).
  auto* fs = io::FileSystem::Default();
  std::string bytes = *io::ReadFileToString(fs, MetaPath());
  ASSERT_GE(bytes.size(), 4 * kPage);
  ASSERT_EQ(format::DecodeFixed32(bytes.data() + kMeta + 24), kPage);  // the page size
  const size_t meta = NewestMeta(bytes);
  const uint64_t main_root = format::DecodeFixed64(bytes.data() + meta + 72 + 40);
  const uint64_t free_root = format::DecodeFixed64(bytes.data() + meta + 24 + 40);
  ASSERT_LT(free_root, bytes.size() / kPage) << "no free pages in this file";
  const char* leaf = bytes.data() + free_root * kPage;
  ASSERT_EQ(format::DecodeFixed16(leaf + 10) & 0x07, 0x02) << "the free-page root is no leaf";
  const size_t node = free_root * kPage + format::DecodeFixed16(leaf + 16);
  const size_t key_bytes = format::DecodeFixed16(bytes.data() + node + 6);
  const size_t list = node + 8 + key_bytes;
  ASSERT_GE(format::DecodeFixed64(bytes.data() + list), 1u);
  format::EncodeFixed64(bytes.data() + list + 8, main_root);
  ASSERT_NO_FATAL_FAILURE(WriteMeta(bytes));
  ExpectCorruption(TryOpen(/*read_only=*/true), "which a database of the newest transaction uses");
  ExpectCorruption(TryOpen(), "meta.mdb: LMDB page " + std::to_string(free_root));
}

TEST_F(MetaDamageTest, MetadataWithoutAFormatRecordBesideSegmentsIsCorruption) {
  MakeLog();
  // Every key gone, as an empty main database reads (a damaged meta page;
  // found by the meta_mdb fuzz target): a writable open started a new log
  // over the segments and removed each as a stray.
  {
    auto meta = MetaStore::Open(MetaPath());
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    MetaStore::Batch batch;
    size_t keys = 0;
    for (const char* prefix : {"format", "log/", "seg/", "state/"}) {
      auto found = (*meta)->Scan(prefix);
      ASSERT_TRUE(found.ok()) << found.status().ToString();
      for (const auto& [key, value] : *found) batch.Delete(key);
      keys += found->size();
    }
    ASSERT_GT(keys, 5u);
    ASSERT_TRUE((*meta)->Write(batch).ok());
  }
  auto* fs = io::FileSystem::Default();
  const auto segments = fs->ListDir(dir_.Sub("segments"));
  ASSERT_TRUE(segments.ok() && !segments->empty());
  ExpectCorruption(TryOpen(), "no format record, but segments/ exists");
  ExpectCorruption(TryOpen(/*read_only=*/true), "no format record");
  EXPECT_EQ(*fs->ListDir(dir_.Sub("segments")), *segments);
}

TEST_F(MetaDamageTest, EmptyDatabaseOfNonZeroDepthIsCorruption) {
  MakeLog();
  // The newest meta page's main database without a root page but with its
  // depth: LMDB's next write made a tree deeper than its pages (found by the
  // meta_mdb fuzz target).
  auto* fs = io::FileSystem::Default();
  std::string bytes = *io::ReadFileToString(fs, MetaPath());
  const size_t meta = NewestMeta(bytes);
  ASSERT_GT(format::DecodeFixed16(bytes.data() + meta + 72 + 6), 0u);  // its depth
  format::EncodeFixed64(bytes.data() + meta + 72 + 40, ~uint64_t{0});  // no root
  ASSERT_NO_FATAL_FAILURE(WriteMeta(bytes));
  ExpectCorruption(TryOpen(), "the main database has no root page but depth");
  ExpectCorruption(TryOpen(/*read_only=*/true), "the main database has no root page but depth");
}

TEST_F(MetaDamageTest, KeyOutOfOrderIsCorruption) {
  MakeLog();
  // The live node of state/hardstate, in the root leaf of the newest meta
  // page's main database, gets a key size of 0 (found by the meta_mdb fuzz
  // target): its key became empty, out of LMDB's order, so lookups missed
  // keys; the engine read no HardState, took writes on that metadata, and
  // the log did not open again (its segments were gone).
  auto* fs = io::FileSystem::Default();
  std::string bytes = *io::ReadFileToString(fs, MetaPath());
  const size_t meta = NewestMeta(bytes);
  ASSERT_EQ(format::DecodeFixed16(bytes.data() + meta + 72 + 6), 1u);  // a single leaf
  const size_t root = format::DecodeFixed64(bytes.data() + meta + 72 + 40) * kPage;
  const size_t nodes = (format::DecodeFixed16(bytes.data() + root + 12) - 16) / 2;
  size_t node = 0;
  for (size_t k = 0; k < nodes; ++k) {
    const size_t at = root + format::DecodeFixed16(bytes.data() + root + 16 + 2 * k);
    const size_t key_bytes = format::DecodeFixed16(bytes.data() + at + 6);
    if (std::string_view(bytes.data() + at + 8, key_bytes) == "state/hardstate") node = at;
  }
  ASSERT_NE(node, 0u) << "state/hardstate is not in the root leaf";
  format::EncodeFixed16(bytes.data() + node + 6, 0);
  ASSERT_NO_FATAL_FAILURE(WriteMeta(bytes));
  ExpectCorruption(TryOpen(), "has an empty key");
  ExpectCorruption(TryOpen(/*read_only=*/true), "meta.mdb: LMDB page " + std::to_string(root / kPage));
}

// The key-order check on trees LMDB really builds: thousands of keys in
// random order, some deleted, over many transactions (branch pages, several
// free-page lists) pass it.
TEST_F(MetaDamageTest, DeepTreesPassTheCheck) {
  std::vector<std::string> keys;
  size_t deleted = 0;
  for (int k = 0; k < 4000; ++k) {
    char key[40];
    std::snprintf(key, sizeof key, "seg/%016x", static_cast<unsigned>(k * 2654435761u));
    keys.push_back(key);
  }
  {
    auto meta = MetaStore::Open(MetaPath());
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    for (size_t start = 0; start < keys.size(); start += 500) {
      MetaStore::Batch batch;
      for (size_t k = start; k < start + 500; ++k) batch.Put(keys[k], std::string(k % 300, 'v'));
      ASSERT_TRUE((*meta)->Write(batch).ok());
    }
    for (size_t start = 0; start < keys.size(); start += 700) {
      MetaStore::Batch batch;
      for (size_t k = start; k < std::min(start + 700, keys.size()); k += 3, ++deleted) {
        batch.Delete(keys[k]);
      }
      ASSERT_TRUE((*meta)->Write(batch).ok());
    }
  }
  auto* fs = io::FileSystem::Default();
  const std::string bytes = *io::ReadFileToString(fs, MetaPath());
  const size_t meta = format::DecodeFixed64(bytes.data() + 4096 + 16 + 128) >
                              format::DecodeFixed64(bytes.data() + 16 + 128)
                          ? 4096 + 16
                          : 16;
  ASSERT_GE(format::DecodeFixed16(bytes.data() + meta + 72 + 6), 2u) << "no branch pages";
  MetaStore::OpenOptions o;
  o.read_only = true;
  auto reopened = MetaStore::Open(MetaPath(), o);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto all = (*reopened)->Scan("seg/");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), keys.size() - deleted);
}

TEST_F(MetaDamageTest, TransactionIdOfTheWrongParityIsCorruption) {
  MakeLog();
  // The older meta page gets the newest id plus 2: the check walked its
  // tree, but a process that opens LMDB's lock file reads the meta page of
  // the id's parity, the other one (found by the meta_mdb fuzz target, where
  // that tree held a damaged value size and a read copied 16 MiB past the
  // map).
  auto* fs = io::FileSystem::Default();
  std::string bytes = *io::ReadFileToString(fs, MetaPath());
  const uint64_t txn0 = format::DecodeFixed64(bytes.data() + kMeta + 128);
  const uint64_t txn1 = format::DecodeFixed64(bytes.data() + kPage + kMeta + 128);
  const size_t older = txn0 < txn1 ? kMeta : kPage + kMeta;
  format::EncodeFixed64(bytes.data() + older + 128, std::max(txn0, txn1) + 2);
  ASSERT_NO_FATAL_FAILURE(WriteMeta(bytes));
  ExpectCorruption(TryOpen(/*read_only=*/true), "which LMDB looks for in meta page");
  ExpectCorruption(TryOpen(), "(a damaged transaction id)");
}

TEST_F(MetaDamageTest, OldEncodingsAreReadAndRewrittenByAWritableOpen) {
  MakeLog();
  // The values as versions without checksums wrote them.
  std::string hs("\x01\x05\x02\x19", 4);  // term 5, vote 2, commit 25
  std::string start("\x01\x10\x05", 3);   // first index 16, previous term 5
  const uint64_t next_id = *format::DecodeCounter("log/next_segment_id", Get("log/next_segment_id"));
  std::string next_id_v1, generation_v1;
  format::PutFixed64(&next_id_v1, next_id);
  format::PutFixed64(&generation_v1, 0);
  Put("state/hardstate", hs);
  Put("log/start", start);
  Put("log/next_segment_id", next_id_v1);
  Put("log/generation", generation_v1);
  // Read-only: accepted, nothing rewritten.
  ASSERT_TRUE(TryOpen(/*read_only=*/true).ok()) << TryOpen(true).ToString();
  EXPECT_EQ(Get("state/hardstate"), hs);
  EXPECT_EQ(Get("log/start"), start);
  // Writable: accepted once, rewritten with checksums.
  {
    auto s = DiskStorage::Open(dir_.path(), options_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->InitialState()->hard_state.vote, 2u);
    EXPECT_EQ(*(*s)->FirstIndex(), 16u);
    ASSERT_TRUE((*s)->Close().ok());
  }
  for (const std::string key : {"state/hardstate", "log/start"}) {
    EXPECT_FALSE(format::IsOldMetaEncoding(Get(key))) << key;
  }
  EXPECT_EQ(*format::DecodeHardState(Get("state/hardstate")), (format::HardStateRecord{5, 2, 25}));
  EXPECT_FALSE(format::IsOldCounterEncoding(Get("log/next_segment_id")));
  EXPECT_EQ(*format::DecodeCounter("log/next_segment_id", Get("log/next_segment_id")), next_id);
  EXPECT_FALSE(format::IsOldCounterEncoding(Get("log/generation")));
  ASSERT_TRUE(TryOpen().ok());
}

TEST_F(MetaDamageTest, SnapshotMetadataDisagreeingWithTheLogIsCorruption) {
  MakeLog();
  auto meta = *format::DecodeSnapshotMeta(Get("state/snapshot"));
  meta.term = 4;  // the log holds index 20 with term 5
  Put("state/snapshot", format::EncodeSnapshotMeta(meta));
  const Status s = TryOpen();
  ExpectCorruption(s, "index 20 has term 4");
  EXPECT_NE(s.message().find("says term 5"), std::string::npos) << s.ToString();
}

TEST_F(MetaDamageTest, SnapshotMetadataDisagreeingWithItsFileIsCorruption) {
  MakeLog();
  {
    auto s = DiskStorage::Open(dir_.path(), options_);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Compact(25).ok());  // the log no longer holds index 20
    ASSERT_TRUE((*s)->Close().ok());
  }
  auto meta = *format::DecodeSnapshotMeta(Get("state/snapshot"));
  meta.index = 19;
  Put("state/snapshot", format::EncodeSnapshotMeta(meta));
  const Status s = TryOpen();
  ExpectCorruption(s, "says index 19 term 5");
  EXPECT_NE(s.message().find("holds index 20 term 5"), std::string::npos) << s.ToString();
}

TEST_F(MetaDamageTest, LogStartDisagreeingWithTheSnapshotIsCorruption) {
  // After a snapshot is applied the log is empty: only log/start and the
  // snapshot metadata know the snapshot's term, and they must agree.
  {
    auto s = DiskStorage::Open(dir_.path(), options_);
    ASSERT_TRUE(s.ok());
    raft::Snapshot snap;
    snap.metadata.index = 50;
    snap.metadata.term = 7;
    snap.metadata.conf_state.voters = {1};
    snap.data = "snap";
    ASSERT_TRUE((*s)->ApplySnapshot(snap).ok());
    ASSERT_TRUE((*s)->Close().ok());
  }
  ASSERT_TRUE(TryOpen().ok());
  Put("log/start", format::EncodeLogStart(format::LogStartRecord{51, 6}));
  const Status s = TryOpen();
  ExpectCorruption(s, "index 50 has term 7");
  EXPECT_NE(s.message().find("log/start) says term 6"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace raftlog::engine
