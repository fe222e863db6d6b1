// The background seal (Options::background_seal): a roll goes on appending
// to the next segment while the sealer thread seals the full one, and
// recovery finishes a roll whose seal never committed (the successor found
// by its header) or drops a successor the recovered log does not reach.

#include <atomic>
#include <chrono>
#include <thread>

#include "raftlog/engine/meta_store.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/record_format.h"
#include "tests/engine/log_engine_fixture.h"
#include "tests/testutil/fault_file_system.h"

namespace raftlog::engine::testing {
namespace {

using testutil::FaultFileSystem;
using testutil::FsOp;
using testutil::PowerLossMode;

class BackgroundSealTest : public LogEngineFixture {
 protected:
  BackgroundSealTest() : LogEngineFixture("background_seal") {
    options_.prepared_segments = 1;
    options_.background_seal = true;
  }

  // Every entry in [first, last] reads back with its payload.
  static void ExpectEntries(LogEngine* e, uint64_t first, uint64_t last, size_t size) {
    ASSERT_EQ(e->FirstIndex(), first);
    ASSERT_EQ(e->LastIndex(), last);
    uint64_t next = first;
    const Status s = e->Read(first, last + 1, [&](const format::EntryView& v) {
      EXPECT_EQ(v.index, next);
      EXPECT_EQ(v.data, Batch::Payload(v.index, size)) << "entry " << v.index;
      ++next;
      return true;
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(next, last + 1);
  }

  // The id of the one spare file (an id above `last_listed`) whose header is
  // not all zero (a successor written before its seal committed), or 0.
  uint64_t HeadedSpare(uint64_t last_listed = 1) const {
    auto names = io::FileSystem::Default()->ListDir(SegmentsDir());
    EXPECT_TRUE(names.ok());
    uint64_t found = 0;
    for (const std::string& name : *names) {
      const auto id = format::layout::ParseSegmentFileName(name);
      if (!id.has_value() || *id <= last_listed) continue;
      const std::string bytes = ReadAll(io::JoinPath(SegmentsDir(), name));
      if (bytes.substr(0, format::kSegmentHeaderBytes).find_first_not_of('\0') !=
          std::string::npos) {
        found = *id;
      }
    }
    return found;
  }

  // Leaves a log whose last roll never finished: `synced` entries of kBig
  // fill segment 1 up to the roll (with `unsynced` entries of 10 KiB behind
  // them, appended without sync), then the sealer's fdatasync of segment 1
  // fails, so the synced append of `rolled` entries that rolled into the
  // successor fails, and power is lost. Returns the successor's id (its
  // synced header survives), or 0.
  uint64_t InterruptedRoll(FaultFileSystem* fs, uint64_t synced, uint64_t unsynced,
                           uint64_t rolled) {
    options_.file_system = fs;
    {
      auto e = Open();
      EXPECT_NE(e, nullptr);
      if (e == nullptr) return 0;
      Append(e.get(), 1, synced, 1, kBig);
      if (unsynced > 0) {
        Batch b(synced + 1, unsynced, 1, 10 << 10);
        EXPECT_TRUE(e->Append(b.views, AppendOptions{.sync = false}).ok());
      }
      fs->FailAlways(FsOp::kSync, EIO, format::layout::SegmentFileName(1));
      Batch b(synced + unsynced + 1, rolled, 1, kBig);  // does not fit: rolls first
      const Status s = e->Append(b.views, {});
      EXPECT_TRUE(s.IsIOError()) << "the seal's failed fdatasync: " << s.ToString();
      e->Abandon();
    }
    fs->ClearFaults();
    EXPECT_TRUE(fs->SimulatePowerLoss(PowerLossMode::kDropUnsynced).ok());
    return HeadedSpare();
  }

  // As InterruptedRoll, one segment later and after a cold rewrite: segment
  // 1 is sealed (entries 1-3) and rewritten compressed (CompressSegment
  // takes a generation of its own from the log's counter), the log is
  // closed and reopened if `reopen` (so that counter is the stored one),
  // then the roll out of segment 2 (entries 4-6) into its successor
  // (entries 7-9) fails at the seal's fdatasync, and power is lost.
  // Returns the successor's id, or 0.
  uint64_t InterruptedRollAfterAColdRewrite(FaultFileSystem* fs, bool reopen) {
    options_.file_system = fs;
    options_.compression_mode = CompressionMode::kOff;  // the rewrite is the test's
    auto e = Open();
    EXPECT_NE(e, nullptr);
    if (e == nullptr) return 0;
    Append(e.get(), 1, 3, 1, kBig);
    Append(e.get(), 4, 3, 1, kBig);  // rolls; the sealer seals segment 1
    // The synced append returned once segment 1 was durable; the seal's
    // commit, which lists it sealed, may still be running.
    for (int waited_ms = 0; waited_ms < 10'000; ++waited_ms) {
      if (e->SegmentRecords().front().state == format::SegmentState::kSealed) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto rewrite = e->CompressSegment(1);
    EXPECT_TRUE(rewrite.ok()) << rewrite.status().ToString();
    if (!rewrite.ok()) return 0;
    EXPECT_EQ(rewrite->outcome, CompressSegmentResult::Outcome::kCompressed);
    if (reopen) {
      EXPECT_TRUE(e->Close().ok());
      e = Open();
      EXPECT_NE(e, nullptr);
      if (e == nullptr) return 0;
    }
    fs->FailAlways(FsOp::kSync, EIO, format::layout::SegmentFileName(2));
    Batch b(7, 3, 1, kBig);  // does not fit: rolls first
    const Status s = e->Append(b.views, {});
    EXPECT_TRUE(s.IsIOError()) << "the seal's failed fdatasync: " << s.ToString();
    e->Abandon();
    e.reset();
    fs->ClearFaults();
    EXPECT_TRUE(fs->SimulatePowerLoss(PowerLossMode::kDropUnsynced).ok());
    return HeadedSpare(/*last_listed=*/2);
  }

  // Open after InterruptedRollAfterAColdRewrite adopts the successor: it
  // carries the generation of the segment it continues, not the rewrite's.
  void ExpectSuccessorAdoptedAfterAColdRewrite(bool reopen) {
    FaultFileSystem fs;
    const uint64_t successor = InterruptedRollAfterAColdRewrite(&fs, reopen);
    ASSERT_NE(successor, 0u) << "the successor's synced header survives";
    auto e = Open();
    ASSERT_NE(e, nullptr);
    const Stats st = e->GetStats();
    EXPECT_EQ(st.successors_adopted, 1u);
    EXPECT_EQ(st.successors_dropped, 0u);
    ExpectEntries(e.get(), 1, 9, kBig);
    auto records = e->SegmentRecords();
    ASSERT_EQ(records.size(), 3u);
    EXPECT_TRUE(records[0].compressed());
    EXPECT_EQ(records[2].segment_id, successor);
    EXPECT_EQ(records[2].generation, records[1].generation);
  }

  static constexpr size_t kBig = 20 << 10;  // three fill a 64 KiB segment
};

TEST_F(BackgroundSealTest, RollsAreSealedByTheSealerAndReopenCleanly) {
  constexpr size_t kSize = 1000;
  uint64_t rolls = 0;
  {
    auto e = Open();
    ASSERT_NE(e, nullptr);
    for (uint64_t first = 1; first <= 600; first += 8) Append(e.get(), first, 8, 1, kSize);
    ExpectEntries(e.get(), 1, 600, kSize);
    ASSERT_TRUE(e->Close().ok());
    const Stats st = e->GetStats();
    rolls = st.segment_rolls;
    EXPECT_GE(rolls, 8u) << "600 entries of 1 KB fill several 64 KiB segments";
    // The first activation is synchronous; every later roll is sealed by the sealer.
    EXPECT_EQ(st.background_seals, rolls - 1);
  }
  auto e = Open();
  ASSERT_NE(e, nullptr);
  ExpectEntries(e.get(), 1, 600, kSize);
  const Stats st = e->GetStats();
  EXPECT_EQ(st.successors_adopted, 0u) << "Close lets the seal in flight commit";
  EXPECT_EQ(st.unfinished_seals, 0u);
  const auto records = e->SegmentRecords();
  ASSERT_EQ(records.size(), rolls);
  for (size_t k = 0; k + 1 < records.size(); ++k) {
    EXPECT_EQ(records[k].state, format::SegmentState::kSealed) << "segment " << k;
  }
  EXPECT_EQ(records.back().state, format::SegmentState::kActive);
}

TEST_F(BackgroundSealTest, SynchronousSealsWhenTurnedOff) {
  options_.background_seal = false;
  auto e = Open();
  ASSERT_NE(e, nullptr);
  for (uint64_t first = 1; first <= 200; first += 8) Append(e.get(), first, 8, 1, 1000);
  const Stats st = e->GetStats();
  EXPECT_GE(st.segment_rolls, 3u);
  EXPECT_EQ(st.background_seals, 0u);
  EXPECT_EQ(st.seal_waits, 0u);
  const auto records = e->SegmentRecords();
  for (size_t k = 0; k + 1 < records.size(); ++k) {
    EXPECT_EQ(records[k].state, format::SegmentState::kSealed) << "sealed before Append returned";
  }
}

TEST_F(BackgroundSealTest, TruncationAndCompactionRightAfterARollWaitForTheSeal) {
  constexpr size_t kSize = 1000;
  auto e = Open();
  ASSERT_NE(e, nullptr);
  for (uint64_t first = 1; first <= 120; first += 8) Append(e.get(), first, 8, 1, kSize);
  // Replace a suffix reaching back into a segment that may still be sealing.
  const uint64_t rolls = e->GetStats().segment_rolls;
  ASSERT_GE(rolls, 2u);
  Append(e.get(), 50, 20, 2, kSize);
  ASSERT_TRUE(e->TruncatePrefix(30).ok());
  for (uint64_t first = 70; first <= 200; first += 8) Append(e.get(), first, 8, 2, kSize);
  ASSERT_TRUE(e->TruncatePrefix(150).ok());
  ASSERT_TRUE(e->Close().ok());
  e.reset();

  auto again = Open();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->FirstIndex(), 150u);
  EXPECT_EQ(again->LastIndex(), 205u);
  auto term = again->Term(160);
  ASSERT_TRUE(term.ok());
  EXPECT_EQ(*term, 2u);
  ExpectEntries(again.get(), 150, 205, kSize);
}

TEST_F(BackgroundSealTest, ReadersSeeEveryEntryWhileSegmentsAreSealed) {
  constexpr size_t kSize = 700;
  auto e = Open();
  ASSERT_NE(e, nullptr);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> checked{0};
  std::thread reader([&] {
    while (!done.load()) {
      const uint64_t last = e->LastIndex();
      if (last == 0) continue;
      const Status s = e->Read(1, last + 1, [&](const format::EntryView& v) {
        EXPECT_EQ(v.data, Batch::Payload(v.index, kSize));
        checked++;
        return true;
      });
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  });
  for (uint64_t first = 1; first <= 1000; first += 10) Append(e.get(), first, 10, 1, kSize);
  done = true;
  reader.join();
  EXPECT_GT(checked.load(), 0u);
  EXPECT_GE(e->GetStats().background_seals, 5u);
  ExpectEntries(e.get(), 1, 1000, kSize);
}

// The sealer's fdatasync of the full segment fails: the synced append that
// rolled reports the failure, and a power loss then leaves the full segment
// listed active, without a durable footer, and its successor unlisted but
// holding the append's entries. The next open finishes the roll.
TEST_F(BackgroundSealTest, SuccessorOfASealThatNeverCommittedIsAdoptedOnOpen) {
  FaultFileSystem fs;
  const uint64_t successor = InterruptedRoll(&fs, 3, 0, 3);
  ASSERT_NE(successor, 0u) << "the successor's synced header survives";

  auto e = Open();
  ASSERT_NE(e, nullptr);
  const Stats st = e->GetStats();
  EXPECT_EQ(st.successors_adopted, 1u);
  EXPECT_EQ(st.successors_dropped, 0u);
  // Not acknowledged, but durable and continuing the log: kept.
  ExpectEntries(e.get(), 1, 6, kBig);
  auto records = e->SegmentRecords();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].state, format::SegmentState::kSealed);
  EXPECT_EQ(records[1].segment_id, successor);
  EXPECT_EQ(records[1].state, format::SegmentState::kActive);
  Append(e.get(), 7, 2, 2, kBig);
  ASSERT_TRUE(e->Close().ok());
  e.reset();
  auto again = Open();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->GetStats().successors_adopted, 0u);
  EXPECT_EQ(again->LastIndex(), 8u);
}

// A cold rewrite reserves a generation from the log's counter in memory;
// the roll after it must not give that one to its successor, or recovery
// would drop the successor's entries (acknowledged ones too, had a synced
// append into it returned) as not continuing the log.
TEST_F(BackgroundSealTest, SuccessorOfARollAfterAColdRewriteIsAdoptedOnOpen) {
  ExpectSuccessorAdoptedAfterAColdRewrite(/*reopen=*/false);
}

// The same with the rewrite's generation stored as the log's counter by its
// swap and read back by a reopen before the roll.
TEST_F(BackgroundSealTest, SuccessorOfARollAfterAReopenPastAColdRewriteIsAdopted) {
  ExpectSuccessorAdoptedAfterAColdRewrite(/*reopen=*/true);
}

// As above, but the full segment's last entries were never synced, so the
// recovered log ends before the successor's base: the successor's entries
// were never acknowledged and are dropped (never adopted as a spare: its
// frames carry this log's seed).
TEST_F(BackgroundSealTest, SuccessorBeyondTheRecoveredEndIsDropped) {
  FaultFileSystem fs;
  const uint64_t successor = InterruptedRoll(&fs, 2, 1, 1);
  ASSERT_NE(successor, 0u);

  auto e = Open();
  ASSERT_NE(e, nullptr);
  const Stats st = e->GetStats();
  EXPECT_EQ(st.successors_adopted, 0u);
  EXPECT_EQ(st.successors_dropped, 1u);
  ExpectEntries(e.get(), 1, 2, kBig);
  EXPECT_FALSE(io::FileSystem::Default()->Exists(
      io::JoinPath(SegmentsDir(), format::layout::SegmentFileName(successor))));
  Append(e.get(), 3, 3, 1, kBig);
  ASSERT_TRUE(e->Close().ok());
  e.reset();
  auto again = Open();
  ASSERT_NE(again, nullptr);
  ExpectEntries(again.get(), 1, 5, kBig);
}

// If the last LMDB commit recorded entries of the successor as synced, a
// successor the recovered log does not reach is lost acknowledged data.
TEST_F(BackgroundSealTest, AcknowledgedEntriesInADroppedSuccessorAreCorruption) {
  FaultFileSystem fs;
  const uint64_t successor = InterruptedRoll(&fs, 2, 1, 1);
  ASSERT_NE(successor, 0u);
  {
    // As a commit made after a later synced append into the successor would have.
    auto meta = MetaStore::Open(dir_.Sub("meta.mdb"));
    ASSERT_TRUE(meta.ok());
    format::DurableRecord durable;
    durable.segment_id = successor;
    durable.generation = 0;
    durable.durable_offset = format::kSegmentHeaderBytes + 100;
    durable.last_index = 4;
    MetaStore::Batch batch;
    batch.Put(format::kDurableKey, format::EncodeDurableRecord(durable));
    ASSERT_TRUE((*meta)->Write(batch).ok());
  }
  auto e = LogEngine::Open(dir_.path(), options_);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.status().IsCorruption()) << e.status().ToString();
  EXPECT_NE(e.status().message().find(format::layout::SegmentFileName(successor)),
            std::string::npos)
      << e.status().ToString();
  EXPECT_NE(e.status().message().find("acknowledged"), std::string::npos) << e.status().ToString();
}

// A read-only open of a log left by an unfinished roll serves the
// successor's entries too, and changes nothing.
TEST_F(BackgroundSealTest, ReadOnlyOpenServesTheSuccessor) {
  FaultFileSystem fs;
  ASSERT_NE(InterruptedRoll(&fs, 3, 0, 3), 0u);
  options_.read_only = true;
  {
    auto e = Open();
    ASSERT_NE(e, nullptr);
    ExpectEntries(e.get(), 1, 6, kBig);
    EXPECT_EQ(e->GetStats().successors_adopted, 1u);
  }
  // Nothing was changed: a writable open still finds the roll unfinished.
  options_.read_only = false;
  auto e = Open();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->GetStats().successors_adopted, 1u);
  ExpectEntries(e.get(), 1, 6, kBig);
}

}  // namespace
}  // namespace raftlog::engine::testing
