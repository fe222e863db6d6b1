// The cold-segment worker (Options::compression_mode kColdSegments): it
// rewrites sealed segments compressed in the background and reads return the
// same entries; it leaves raw the segments compaction removes soon; Close
// stops it mid-rewrite at once; it never runs when off or read-only; its
// rewrites race safely with compaction, suffix truncation and readers that
// hold payloads; a failure or a crash while it runs loses nothing; beside a
// busy log it works on its budget rather than waiting.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "raftlog/engine/internal/cold_worker.h"
#include "raftlog/format/meta_records.h"
#include "tests/engine/log_engine_fixture.h"
#include "tests/testutil/fault_file_system.h"

namespace raftlog::engine {
namespace {

using namespace std::chrono_literals;
using testing::Batch;
using testing::ReadEntries;
using testing::ReadEntry;

constexpr size_t kEntryBytes = 200;

size_t CountSealed(LogEngine* e, bool compressed) {
  size_t n = 0;
  for (const auto& r : e->SegmentRecords()) {
    if (r.state == format::SegmentState::kSealed && r.compressed() == compressed) ++n;
  }
  return n;
}

// Polls `done` for up to 60 s (sanitizer builds on a loaded machine are slow).
template <class F>
bool Eventually(F done) {
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class ColdWorkerTest : public testing::LogEngineFixture {
 protected:
  ColdWorkerTest() : LogEngineFixture("cold-worker") {
    options_.compression_mode = CompressionMode::kColdSegments;
    // Never wait for the log or the machine: the tests run beside others.
    options_.cold_busy_bytes_per_sec = 0;
    options_.cold_free_cores = -1;
    options_.cold_bytes_per_sec = 1ull << 30;
  }

  // Appends compressible entries until `sealed` segments are sealed, and
  // waits for the seal in flight (Options::background_seal): the segment
  // it seals is listed sealed, and so open to the worker, only once its
  // manifest commit is done.
  void Fill(LogEngine* e, size_t sealed, uint64_t term = 1) {
    while (e->SegmentRecords().size() <= sealed) {
      Append(e, e->LastIndex() + 1, 40, term, kEntryBytes);
    }
    ASSERT_TRUE(Eventually([&] {
      const auto records = e->SegmentRecords();
      return std::all_of(records.begin(), records.end() - 1, [](const format::SegmentRecord& r) {
        return r.state == format::SegmentState::kSealed;
      });
    }));
  }
};

TEST_F(ColdWorkerTest, CompressesSealedSegmentsAndReadsReturnTheSameEntries) {
  auto e = Open();
  Fill(e.get(), 4);
  auto before = ReadEntries(e.get());
  ASSERT_TRUE(before.ok());
  const size_t sealed = CountSealed(e.get(), false) + CountSealed(e.get(), true);
  // (The worker counts a rewrite just after the swap lists it.)
  ASSERT_TRUE(Eventually([&] {
    return CountSealed(e.get(), true) == sealed && e->GetStats().cold_segments_compressed == sealed;
  }));
  const Stats st = e->GetStats();
  EXPECT_EQ(st.segments_compressed, sealed);
  EXPECT_GT(st.cold_bytes_saved, 0u);
  EXPECT_GT(st.cold_bytes_read, 0u);
  EXPECT_EQ(st.cold_errors, 0u);
  auto after = ReadEntries(e.get());
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, *before);

  // And from disk, without the worker.
  ASSERT_TRUE(e->Close().ok());
  e.reset();
  options_.compression_mode = CompressionMode::kOff;
  e = Open();
  EXPECT_EQ(CountSealed(e.get(), true), sealed);
  auto reopened = ReadEntries(e.get());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(*reopened, *before);
  EXPECT_EQ(e->GetStats().stray_files_found, 0u);
}

TEST_F(ColdWorkerTest, LeavesRawTheSegmentAtTheCompactionPoint) {
  options_.compression_mode = CompressionMode::kOff;
  auto e = Open();
  Fill(e.get(), 5);
  // Compact into the middle of the second segment: the first goes, the
  // second keeps its later entries.
  const auto records = e->SegmentRecords();
  const format::SegmentRecord partly = records[1];
  ASSERT_TRUE(e->TruncatePrefix((partly.base_index + partly.last_index) / 2).ok());
  auto before = ReadEntries(e.get());
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(e->Close().ok());
  e.reset();

  options_.compression_mode = CompressionMode::kColdSegments;
  e = Open();
  const size_t sealed = CountSealed(e.get(), false);
  ASSERT_TRUE(Eventually([&] {
    const Stats st = e->GetStats();
    return st.cold_segments_compressed == sealed - 1 && st.cold_segments_skipped == 1;
  }));
  for (const auto& r : e->SegmentRecords()) {
    if (r.state != format::SegmentState::kSealed) continue;
    EXPECT_EQ(r.compressed(), r.segment_id != partly.segment_id) << r.segment_id;
  }
  auto after = ReadEntries(e.get());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
}

TEST(ColdPolicyTest, CompactionHistoryIsTheMedianLagOfTheLastCompactions) {
  internal::CompactionHistory h;
  h.Observe(1, 100);
  EXPECT_FALSE(h.Lag().has_value());  // no compaction yet
  h.Observe(1, 500);
  EXPECT_FALSE(h.Lag().has_value());
  h.Observe(401, 500);  // kept 100 entries
  EXPECT_EQ(h.Lag(), 100u);
  h.Observe(801, 1000);  // kept 200
  h.Observe(1701, 1800);  // kept 100
  EXPECT_EQ(h.Lag(), 100u);
  // A snapshot installed from the leader empties the log: not a sample.
  h.Observe(5001, 5000);
  EXPECT_EQ(h.Lag(), 100u);
  // Old samples age out.
  for (uint64_t k = 1; k <= internal::CompactionHistory::kKept; ++k) {
    h.Observe(10000 * k, 10000 * k + 999);  // kept 1000
  }
  EXPECT_EQ(h.Lag(), 1000u);
}

TEST(ColdPolicyTest, SegmentsCompactionRemovesSoonAreLeftRaw) {
  format::SegmentRecord seg;
  seg.base_index = 1001;
  seg.last_index = 2000;
  // No compaction seen: only a segment whose first entry is compacted.
  EXPECT_FALSE(internal::CompactionWillRemoveSoon(seg, 1, 10000, std::nullopt));
  EXPECT_FALSE(internal::CompactionWillRemoveSoon(seg, 1001, 10000, std::nullopt));
  EXPECT_TRUE(internal::CompactionWillRemoveSoon(seg, 1002, 10000, std::nullopt));
  // The log keeps 4000 entries when it compacts: this segment goes once the
  // log ends at 6000. At 2500, 3500 entries are still ahead: compress.
  EXPECT_FALSE(internal::CompactionWillRemoveSoon(seg, 1, 2500, 4000));
  // At 4500 only 1500 (< 2000, half the lag): leave it raw.
  EXPECT_TRUE(internal::CompactionWillRemoveSoon(seg, 1, 4500, 4000));
  EXPECT_TRUE(internal::CompactionWillRemoveSoon(seg, 1, 7000, 4000));
  // A log that compacts close to its end removes every sealed segment soon.
  EXPECT_TRUE(internal::CompactionWillRemoveSoon(seg, 1, 2100, 50));
}

TEST_F(ColdWorkerTest, LeavesRawWhatTheCompactionHistorySaysGoesSoon) {
  // Slow enough that a rewrite outlasts the appends below: one the worker
  // starts on a segment just sealed is given up once the log has moved on.
  options_.cold_bytes_per_sec = 64 << 10;
  auto e = Open();
  // A compaction that keeps only 21 entries behind the end: any sealed
  // segment (~300 entries) is removed by the next one. (The worker learns
  // the lag as it sees it, so nothing is appended until it has, and until
  // it has passed over the sealed segment the compaction cut into.)
  Fill(e.get(), 2);
  ASSERT_TRUE(e->TruncatePrefix(e->LastIndex() - 20).ok());
  ASSERT_EQ(CountSealed(e.get(), false), 1u);
  ASSERT_TRUE(Eventually([&] {
    const Stats st = e->GetStats();
    return st.cold_compaction_lag > 0 && st.cold_segments_skipped == 1;
  }));
  EXPECT_EQ(e->GetStats().cold_compaction_lag, 21u);
  const Stats before = e->GetStats();
  // Four more sealed segments (the active one and three after it), all
  // left raw, the newest too once the log has grown 40 entries past it
  // (more than half the lag).
  Fill(e.get(), e->SegmentRecords().size() + 3);
  Append(e.get(), e->LastIndex() + 1, 40, 1, kEntryBytes);
  ASSERT_EQ(CountSealed(e.get(), false), 5u);
  ASSERT_TRUE(Eventually(
      [&] { return e->GetStats().cold_segments_skipped == before.cold_segments_skipped + 4; }));
  EXPECT_EQ(e->GetStats().cold_segments_compressed, before.cold_segments_compressed);
  EXPECT_EQ(CountSealed(e.get(), true), 0u);
}

// Appends one entry of `bytes` every 2 ms (a rate far above the 1 byte/s
// the busy tests set as busy) for `d`, or until done() holds.
template <class F>
void KeepAppending(LogEngine* e, std::chrono::milliseconds d, size_t bytes, F done) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!done() && std::chrono::steady_clock::now() < until) {
    Batch b(e->LastIndex() + 1, 1, 1, bytes);
    ASSERT_TRUE(e->Append(b.views, {}).ok());
    std::this_thread::sleep_for(2ms);
  }
}

TEST_F(ColdWorkerTest, WorksOnItsBudgetWhileTheLogIsBusy) {
  // Any append rate counts as busy; the worker may work 5% of the time.
  options_.cold_busy_bytes_per_sec = 1;
  options_.cold_busy_share = 0.05;
  auto e = Open();
  // The log is busy (by the worker's moving average) before any segment
  // is sealed, and stays busy until a sealed segment is compressed: the
  // worker does not wait for the log to go quiet.
  KeepAppending(e.get(), 300ms, 16, [] { return false; });
  KeepAppending(e.get(), 60s, kEntryBytes,
                [&] { return e->GetStats().cold_segments_compressed > 0; });
  EXPECT_GT(e->GetStats().cold_segments_compressed, 0u);
  auto entries = ReadEntries(e.get());
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
}

TEST_F(ColdWorkerTest, WithNoBusyShareWaitsForTheLogToGoQuiet) {
  options_.cold_busy_bytes_per_sec = 1;
  options_.cold_busy_share = 0;
  auto e = Open();
  KeepAppending(e.get(), 300ms, 16, [] { return false; });
  KeepAppending(e.get(), 60s, kEntryBytes, [&] { return CountSealed(e.get(), false) >= 2; });
  ASSERT_GE(CountSealed(e.get(), false), 2u);
  // Sealed segments wait while the appends go on...
  KeepAppending(e.get(), 1000ms, 16, [] { return false; });
  EXPECT_EQ(e->GetStats().cold_segments_compressed, 0u);
  EXPECT_GT(e->GetStats().cold_pauses_busy, 0u);
  // ...and are compressed once the log is quiet.
  EXPECT_TRUE(Eventually([&] { return e->GetStats().cold_segments_compressed > 0; }));
}

TEST_F(ColdWorkerTest, RefusesABusyShareOutsideZeroToOne) {
  options_.cold_busy_share = 1.5;
  auto e = LogEngine::Open(dir_.path(), options_);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.status().IsInvalidArgument()) << e.status().ToString();
}

TEST_F(ColdWorkerTest, CloseStopsARewriteAtOnce) {
  // 4 KiB/s: one 64 KiB segment would take about 16 s.
  options_.cold_bytes_per_sec = 4 << 10;
  auto e = Open();
  Fill(e.get(), 2);
  auto before = ReadEntries(e.get());
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(Eventually([&] { return e->GetStats().cold_bytes_read > 0; }));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(e->Close().ok());
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 3s) << "Close waited for the rewrite";
  e.reset();
  // The abandoned rewrite's file is gone already.
  auto names = io::FileSystem::Default()->ListDir(SegmentsDir());
  ASSERT_TRUE(names.ok());
  for (const std::string& name : *names) {
    EXPECT_EQ(name.find(".zseg"), std::string::npos) << name;
  }
  options_.compression_mode = CompressionMode::kOff;
  e = Open();
  EXPECT_EQ(e->GetStats().stray_files_found, 0u);
  EXPECT_EQ(CountSealed(e.get(), true), 0u);
  auto after = ReadEntries(e.get());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
}

TEST_F(ColdWorkerTest, OffEveryFrameOlderSwitchAndReadOnlyNeverRewriteSegments) {
  for (CompressionMode mode : {CompressionMode::kOff, CompressionMode::kEveryFrame}) {
    options_.compression_mode = mode;
    auto e = Open();
    Fill(e.get(), e->SegmentRecords().size() + 2);
    std::this_thread::sleep_for(300ms);
    const Stats st = e->GetStats();
    EXPECT_EQ(st.compressed_segments, 0u);
    EXPECT_EQ(st.cold_bytes_read, 0u);
    EXPECT_EQ(st.compressed_frames > 0, mode == CompressionMode::kEveryFrame);
    ASSERT_TRUE(e->Close().ok());
  }
  // The older switch with kColdSegments: every frame is compressed on the
  // append path already, so no worker rewrites the segments again.
  options_.compression_mode = CompressionMode::kColdSegments;
  options_.compression.enabled = true;
  {
    auto e = Open();
    Fill(e.get(), e->SegmentRecords().size() + 2);
    std::this_thread::sleep_for(300ms);
    const Stats st = e->GetStats();
    EXPECT_EQ(st.compressed_segments, 0u);
    EXPECT_EQ(st.cold_bytes_read, 0u);
    EXPECT_GT(st.compressed_frames, 0u);
    ASSERT_TRUE(e->Close().ok());
  }
  options_.compression.enabled = false;
  options_.read_only = true;
  auto e = Open();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(e->GetStats().cold_bytes_read, 0u);
  EXPECT_EQ(CountSealed(e.get(), true), 0u);
}

// The older switch alone still turns on frame compression, and the level
// field reaches it.
TEST(ColdOptionsTest, FrameCompressionFollowsModeAndOlderSwitch) {
  Options o;
  EXPECT_FALSE(FrameCompression(o).enabled);
  o.compression.enabled = true;
  EXPECT_TRUE(FrameCompression(o).enabled);
  EXPECT_EQ(FrameCompression(o).level, o.compression.level);
  o = Options();
  o.compression_mode = CompressionMode::kEveryFrame;
  o.compression_level = 5;
  EXPECT_TRUE(FrameCompression(o).enabled);
  EXPECT_EQ(FrameCompression(o).level, 5);
  o.compression_mode = CompressionMode::kColdSegments;
  EXPECT_FALSE(FrameCompression(o).enabled);
  EXPECT_EQ(ColdCompressionLevel(o), 5);
  EXPECT_EQ(ColdCompressionLevel(Options()), 3);
}

// The worker's rewrites, swaps and abandoned rewrites race with appends,
// suffix truncations, compactions and readers that keep payloads: every
// payload keeps its bytes, every read sees the log's entries, and the log
// reopens with what was last written. (Run under TSan by the CI script.)
TEST_F(ColdWorkerTest, RacesWithCompactionTruncationAndReadersHoldingPayloads) {
  options_.recycled_segments = 2;
  auto e = Open();
  std::atomic<bool> done{false};
  std::atomic<uint64_t> reads{0};
  auto reader = [&] {
    std::deque<std::pair<uint64_t, Bytes>> held;
    while (!done.load()) {
      const uint64_t first = e->FirstIndex(), last = e->LastIndex();
      if (last < first) continue;
      const Status s = e->ReadShared(first, last + 1, [&](const format::EntryView& v, Bytes data) {
        EXPECT_EQ(data.view(), Batch::Payload(v.index, kEntryBytes)) << v.index;
        if (v.index % 7 == 0) held.emplace_back(v.index, std::move(data));
        return true;
      });
      // The range may move under the read: compacted below, cut above.
      EXPECT_TRUE(s.ok() || s.IsCompacted() || s.IsUnavailable()) << s.ToString();
      while (held.size() > 2000) held.pop_front();
      for (const auto& [index, data] : held) {
        ASSERT_EQ(data.view(), Batch::Payload(index, kEntryBytes)) << index;
      }
      reads++;
    }
  };
  std::thread r1(reader), r2(reader);
  uint64_t term = 1;
  const auto until = std::chrono::steady_clock::now() + 20s;
  for (int round = 0; std::chrono::steady_clock::now() < until; ++round) {
    Fill(e.get(), e->SegmentRecords().size() + 1, term);
    if (round % 3 == 1) {
      // Replace the last 50 entries (a new leader's).
      ++term;
      Append(e.get(), e->LastIndex() - 49, 60, term, kEntryBytes);
    }
    if (round % 4 == 3 && e->LastIndex() > e->FirstIndex() + 900) {
      ASSERT_TRUE(e->TruncatePrefix(e->LastIndex() - 900).ok());
    }
    const Stats st = e->GetStats();
    if (round >= 12 && st.cold_segments_compressed >= 4) break;
  }
  done = true;
  r1.join();
  r2.join();
  const Stats st = e->GetStats();
  EXPECT_GT(st.cold_segments_compressed, 0u);
  EXPECT_EQ(st.cold_errors, 0u);
  EXPECT_GT(reads.load(), 0u);
  auto before = ReadEntries(e.get());
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_TRUE(e->Close().ok());
  e.reset();
  e = Open();
  auto after = ReadEntries(e.get());
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, *before);
  for (const ReadEntry& entry : *after) {
    ASSERT_EQ(entry.data, Batch::Payload(entry.index, kEntryBytes));
  }
}

// A failed rewrite leaves its segment raw and the log working; a crash while
// the worker rewrites loses nothing and leaves no file behind after reopen.
TEST_F(ColdWorkerTest, FailureAndCrashWhileTheWorkerRuns) {
  testutil::FaultFileSystem fs;
  options_.file_system = &fs;
  options_.prepared_segments = 0;
  options_.recycled_segments = 0;
  // The first rewrite's fdatasync fails.
  fs.FailNth(testutil::FsOp::kSync, 1, EIO, ".zseg");
  auto e = Open();
  Fill(e.get(), 3);
  ASSERT_TRUE(Eventually([&] {
    const Stats st = e->GetStats();
    return st.cold_errors == 1 && st.cold_segments_compressed == 2;
  }));
  EXPECT_EQ(CountSealed(e.get(), false), 1u);
  auto before = ReadEntries(e.get());
  ASSERT_TRUE(before.ok());
  // The engine still takes writes: the failure was the worker's alone.
  Append(e.get(), e->LastIndex() + 1, 5, 1, kEntryBytes);
  ASSERT_TRUE(e->Close().ok());
  e.reset();

  // Now a crash in the middle of a slow rewrite.
  options_.cold_bytes_per_sec = 4 << 10;
  e = Open();
  Fill(e.get(), 5);
  before = ReadEntries(e.get());
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(Eventually([&] { return e->GetStats().cold_bytes_read > 0; }));
  e->Abandon();
  e.reset();
  ASSERT_TRUE(fs.SimulatePowerLoss(testutil::PowerLossMode::kTornUnsynced, 7).ok());
  options_.compression_mode = CompressionMode::kOff;
  e = Open();
  ASSERT_NE(e, nullptr);
  auto after = ReadEntries(e.get());
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, *before);
  std::vector<std::string> listed;
  for (const auto& r : e->SegmentRecords()) listed.push_back(format::SegmentRecordFileName(r));
  auto names = fs.ListDir(SegmentsDir());
  ASSERT_TRUE(names.ok());
  for (const std::string& name : *names) {
    EXPECT_NE(std::find(listed.begin(), listed.end(), name), listed.end()) << name;
  }
}

}  // namespace
}  // namespace raftlog::engine
