// Damaged bytes in meta.mdb: LMDB 0.9 has no page checksums, so the engine
// checks what it reads itself. A flipped bit in a stored value (vote, term,
// snapshot index, log/start) is Corruption through the value's checksum; a
// damaged node header (a key size) is Corruption from the page walk made
// before LMDB maps the file, never a crash; values that are each intact but
// disagree with each other or with the log are Corruption naming both.

#include <gtest/gtest.h>

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
  void MakeLog() {
    auto s = DiskStorage::Open(dir_.path(), options_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->Save(HardState{5, 2, 25}, Ents(1, 30, 5), nullptr, true).ok());
    raft::ConfState cs;
    cs.voters = {1, 2, 3};
    ASSERT_TRUE((*s)->CreateSnapshot(20, &cs, "state").ok());
    ASSERT_TRUE((*s)->Compact(15).ok());
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
    auto f = fs->Open(MetaPath(), io::OpenMode::kReadWrite);
    ASSERT_TRUE(f.ok());
    const std::string_view view(bytes);
    ASSERT_TRUE((*f)->PWrite(0, std::span<const std::string_view>(&view, 1)).ok());
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
