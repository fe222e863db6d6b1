// Damage at the end of the active segment that is not a torn write: a file
// cut short, and frames before the durable offset recorded in LMDB
// (log/durable) that are damaged, zeroed or missing. Each is Corruption
// naming the file and offset, under every recovery policy; damage after the
// recorded offset is still judged by the torn-tail rules.

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "raftlog/engine/internal/segment.h"
#include "raftlog/engine/log_engine.h"
#include "raftlog/engine/meta_store.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/record_format.h"
#include "raftlog/format/segment_header.h"
#include "raftlog/io/file_system.h"
#include "tests/engine/log_engine_fixture.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::engine {
namespace {

constexpr RecoveryPolicy kAllPolicies[] = {RecoveryPolicy::kTolerateTornTail,
                                           RecoveryPolicy::kAbsoluteConsistency,
                                           RecoveryPolicy::kTolerateCorruptedTail};

std::string PolicyName(RecoveryPolicy p) {
  switch (p) {
    case RecoveryPolicy::kTolerateTornTail:
      return "kTolerateTornTail";
    case RecoveryPolicy::kAbsoluteConsistency:
      return "kAbsoluteConsistency";
    case RecoveryPolicy::kTolerateCorruptedTail:
      return "kTolerateCorruptedTail";
  }
  return "?";
}

class DurableProgressTest : public testing::LogEngineFixture {
 protected:
  DurableProgressTest() : LogEngineFixture("durable") {}

  Status TryOpen(RecoveryPolicy policy, bool read_only = false) {
    Options o = options_;
    o.recovery = policy;
    o.read_only = read_only;
    return LogEngine::Open(dir_.path(), o).status();
  }

  // Entries [first, first + count) of `term`, 100 bytes each.
  void Append(LogEngine* e, uint64_t first, uint64_t count, uint64_t term) {
    LogEngineFixture::Append(e, first, count, term, 100);
  }

  // Entries 1..n in batches of 5 on one segment, then a clean Close().
  void MakeClosedLog(uint64_t n) {
    auto e = Open();
    ASSERT_NE(e, nullptr);
    for (uint64_t i = 1; i <= n; i += 5) Append(e.get(), i, 5, 1);
    ASSERT_TRUE(e->Close().ok());
  }

  // The written segment file with the highest id (spares have no header).
  std::string ActivePath() const {
    auto names = io::FileSystem::Default()->ListDir(SegmentsDir());
    std::string best;
    uint64_t best_id = 0;
    for (const auto& n : *names) {
      const auto id = internal::ParseSegmentFileName(n);
      if (!id) continue;
      const std::string p = io::JoinPath(SegmentsDir(), n);
      if (ReadAll(p).compare(0, format::kSegmentMagic.size(), format::kSegmentMagic) != 0) continue;
      if (*id >= best_id) best_id = *id, best = p;
    }
    EXPECT_FALSE(best.empty());
    return best;
  }
  static void TruncateTo(const std::string& path, uint64_t size) {
    auto f = io::FileSystem::Default()->Open(path, io::OpenMode::kReadWrite);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Truncate(size).ok());
  }
  // Start offsets of the frames, and where the data ends.
  static std::pair<std::vector<uint64_t>, uint64_t> Frames(const std::string& bytes) {
    std::vector<uint64_t> starts;
    uint64_t off = format::kSegmentHeaderBytes;
    while (off + format::kFrameHeaderBytes <= bytes.size() &&
           bytes.compare(off, 4, format::kFrameMagic) == 0) {
      uint32_t stored;
      std::memcpy(&stored, bytes.data() + off + 8, 4);
      starts.push_back(off);
      off += format::FrameBytes(stored);
    }
    return {starts, off};
  }
  std::optional<format::DurableRecord> ReadRecord() {
    MetaStore::OpenOptions o;
    o.read_only = true;
    auto meta = MetaStore::Open(dir_.Sub("meta.mdb"), o);
    EXPECT_TRUE(meta.ok()) << meta.status().ToString();
    if (!meta.ok()) return std::nullopt;
    auto value = (*meta)->Get(format::kDurableKey);
    EXPECT_TRUE(value.ok());
    if (!value.ok() || !value->has_value()) return std::nullopt;
    auto record = format::DecodeDurableRecord(**value);
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    return record.ok() ? std::optional(*record) : std::nullopt;
  }
  static void ExpectNames(const Status& s, const std::string& file, uint64_t offset) {
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(file), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("offset " + std::to_string(offset)), std::string::npos)
        << s.ToString();
  }

};

TEST_F(DurableProgressTest, CutAtAFrameBoundaryAfterCleanCloseIsCorruption) {
  MakeClosedLog(50);
  const std::string path = ActivePath();
  const std::string name = path.substr(path.rfind('/') + 1);
  const auto [starts, data_end] = Frames(ReadAll(path));
  ASSERT_EQ(starts.size(), 10u);
  // Cut after frame 8: entries 41 to 50 gone, at a frame boundary.
  TruncateTo(path, starts[8]);
  for (const RecoveryPolicy policy : kAllPolicies) {
    SCOPED_TRACE(PolicyName(policy));
    const Status s = TryOpen(policy);
    ExpectNames(s, name, starts[8]);
    EXPECT_NE(s.message().find(std::to_string(starts[8]) + " bytes"), std::string::npos)
        << s.ToString();
    ExpectNames(TryOpen(policy, /*read_only=*/true), name, starts[8]);
  }
}

TEST_F(DurableProgressTest, ShortActiveFileIsCorruptionEvenAfterACrash) {
  // No clean close, no LMDB commit naming the frames: only the file's size
  // against its header tells that it was cut.
  {
    auto e = Open();
    for (uint64_t i = 1; i <= 20; i += 5) Append(e.get(), i, 5, 1);
    e->Abandon();
  }
  const std::string path = ActivePath();
  const auto [starts, data_end] = Frames(ReadAll(path));
  TruncateTo(path, data_end + 4096);  // inside the preallocated zeros
  for (const RecoveryPolicy policy : kAllPolicies) {
    SCOPED_TRACE(PolicyName(policy));
    const Status s = TryOpen(policy);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(std::to_string(data_end + 4096) + " bytes"), std::string::npos)
        << s.ToString();
    EXPECT_NE(s.message().find(std::to_string(options_.segment_bytes)), std::string::npos)
        << s.ToString();
  }
}

TEST_F(DurableProgressTest, ZeroedLastFramesAfterCleanCloseAreCorruption) {
  MakeClosedLog(50);
  const std::string path = ActivePath();
  const std::string name = path.substr(path.rfind('/') + 1);
  const auto [starts, data_end] = Frames(ReadAll(path));
  // The file keeps its size; its last two frames read as zeros (a lost
  // extent, a bad copy): the scan sees a clean end there.
  WriteAt(path, starts[8], std::string(data_end - starts[8], '\0'));
  for (const RecoveryPolicy policy : kAllPolicies) {
    SCOPED_TRACE(PolicyName(policy));
    const Status s = TryOpen(policy);
    ExpectNames(s, name, starts[8]);
    EXPECT_NE(s.message().find("entries 41 to 50"), std::string::npos) << s.ToString();
  }
}

TEST_F(DurableProgressTest, BitFlipInTheLastAcknowledgedFrameIsCorruption) {
  MakeClosedLog(50);
  const std::string path = ActivePath();
  const std::string name = path.substr(path.rfind('/') + 1);
  const std::string original = ReadAll(path);
  const auto [starts, data_end] = Frames(original);
  // Inside the last frame: with nothing valid after it, this was a torn
  // write by the old rules; the frame was synced before Close() returned.
  const uint64_t target = starts.back() + format::kFrameHeaderBytes + 20;
  WriteAt(path, target, std::string(1, static_cast<char>(original[target] ^ 0x04)));
  for (const RecoveryPolicy policy : kAllPolicies) {
    SCOPED_TRACE(PolicyName(policy));
    const Status s = TryOpen(policy);
    ExpectNames(s, name, starts.back());
    EXPECT_NE(s.message().find("entries 46 to 50"), std::string::npos) << s.ToString();
  }
}

TEST_F(DurableProgressTest, DamageAfterTheRecordedOffsetIsStillATornTail) {
  std::string path;
  {
    auto e = Open();
    for (uint64_t i = 1; i <= 25; i += 5) Append(e.get(), i, 5, 1);
    // An LMDB commit records entries 1..25 durable; the appends after it are
    // synced too, but no commit records them before the crash.
    ASSERT_TRUE(e->PutState({{"k", "v"}}).ok());
    for (uint64_t i = 26; i <= 50; i += 5) Append(e.get(), i, 5, 1);
    e->Abandon();
  }
  const auto record = ReadRecord();
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->last_index, 25u);
  path = ActivePath();
  const std::string original = ReadAll(path);
  const auto [starts, data_end] = Frames(original);
  ASSERT_EQ(record->durable_offset, starts[5]);
  const uint64_t target = starts.back() + format::kFrameHeaderBytes + 20;
  WriteAt(path, target, std::string(1, static_cast<char>(original[target] ^ 0x04)));
  EXPECT_TRUE(TryOpen(RecoveryPolicy::kAbsoluteConsistency).IsCorruption());
  auto e = Open();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->LastIndex(), 45u);
  EXPECT_EQ(e->GetStats().torn_tail_cuts, 1u);
}

TEST_F(DurableProgressTest, DamageBeforeTheRecordedOffsetIsRefusedEvenByTheTolerantPolicy) {
  {
    auto e = Open();
    for (uint64_t i = 1; i <= 25; i += 5) Append(e.get(), i, 5, 1);
    ASSERT_TRUE(e->PutState({{"k", "v"}}).ok());
    for (uint64_t i = 26; i <= 50; i += 5) Append(e.get(), i, 5, 1);
    e->Abandon();
  }
  const std::string path = ActivePath();
  const std::string original = ReadAll(path);
  const auto [starts, data_end] = Frames(original);
  const uint64_t target = starts[2] + format::kFrameHeaderBytes + 3;
  WriteAt(path, target, std::string(1, static_cast<char>(original[target] ^ 0x80)));
  const Status s = TryOpen(RecoveryPolicy::kTolerateCorruptedTail);
  ExpectNames(s, path.substr(path.rfind('/') + 1), starts[2]);
  EXPECT_NE(s.message().find("entries 11 to 25"), std::string::npos) << s.ToString();
}

TEST_F(DurableProgressTest, RecordFollowsReopensAndSeals) {
  MakeClosedLog(50);
  auto record = ReadRecord();
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->last_index, 50u);
  EXPECT_EQ(record->durable_offset, Frames(ReadAll(ActivePath())).second);
  for (int cycle = 0; cycle < 3; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    auto e = Open();
    ASSERT_NE(e, nullptr);
    const uint64_t last = e->LastIndex();
    // About 90 KB: at least one roll of the 64 KiB segments.
    for (uint64_t i = last + 1; i <= last + 800; i += 10) Append(e.get(), i, 10, 2 + cycle);
    EXPECT_GT(e->GetStats().segment_rolls, 0u);
    ASSERT_TRUE(e->Close().ok());
    record = ReadRecord();
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->last_index, last + 800);
    const std::string path = ActivePath();
    EXPECT_EQ(record->segment_id,
              *internal::ParseSegmentFileName(path.substr(path.rfind('/') + 1)));
    EXPECT_EQ(record->durable_offset, Frames(ReadAll(path)).second);
  }
  auto e = Open();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->LastIndex(), 50u + 3 * 800);
}

TEST_F(DurableProgressTest, LogWithoutTheRecordOpensAsBefore) {
  MakeClosedLog(50);
  {
    auto meta = MetaStore::Open(dir_.Sub("meta.mdb"));
    ASSERT_TRUE(meta.ok());
    MetaStore::Batch batch;
    batch.Delete(format::kDurableKey);
    ASSERT_TRUE((*meta)->Write(batch).ok());
  }
  const std::string path = ActivePath();
  const std::string original = ReadAll(path);
  const auto [starts, data_end] = Frames(original);
  const uint64_t target = starts.back() + format::kFrameHeaderBytes + 20;
  WriteAt(path, target, std::string(1, static_cast<char>(original[target] ^ 0x04)));
  // Without the record the damaged last frame is a torn tail, as it was.
  auto e = Open();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->LastIndex(), 45u);
  EXPECT_EQ(e->GetStats().torn_tail_cuts, 1u);
}

TEST_F(DurableProgressTest, DamagedRecordIsCorruptionNamingTheKey) {
  MakeClosedLog(10);
  {
    auto meta = MetaStore::Open(dir_.Sub("meta.mdb"));
    ASSERT_TRUE(meta.ok());
    auto value = (*meta)->Get(format::kDurableKey);
    ASSERT_TRUE(value.ok() && value->has_value());
    std::string bytes = **value;
    bytes[2] ^= 0x01;
    MetaStore::Batch batch;
    batch.Put(format::kDurableKey, bytes);
    ASSERT_TRUE((*meta)->Write(batch).ok());
  }
  const Status s = TryOpen(RecoveryPolicy::kTolerateTornTail);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("log/durable"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace raftlog::engine
