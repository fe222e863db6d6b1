// Faults and power losses during the cold-segment worker's background
// rewrites (Options::compression_mode kColdSegments). A DiskStorage holds
// acknowledged, compressible entries in several sealed segments; then a
// LogEngine opened on it with the worker on rewrites them, with every I/O
// call of those rewrites failing in turn: once (the worker carries on with
// the other segments), or from then on (as if the power went there). Then the
// process crashes (Abandon), the power fails (each kind of loss), and a plain
// reopen must read every acknowledged entry and HardState as before, list
// every segment file left in the directory (the unlisted rewrite or raw file
// removed), and take writes; a last open with the worker on compresses what
// is left and reads the same.
//
// Deterministic: the log is built with the worker off, and while the worker
// runs nothing else does I/O (no appends, no background preparation or
// recycling of segment files), so "fail the nth call" hits the same step of
// the same rewrite each time. Open's own calls come first and are counted
// by an open without the worker; faults during open are open_fault_test's.

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "raftlog/engine/log_engine.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/meta_records.h"
#include "tests/reliability/storage_model.h"

namespace raftlog::reliability {
namespace {

using namespace std::chrono_literals;
using raft::HardState;
using testutil::FsOp;
using testutil::PowerLossMode;

// Sealed segments the worker rewrites (of 64 KiB each).
constexpr size_t kSealedSegments = 3;

// Text-like entry data (what compresses: a key, repeated field names, a
// number), about 300 bytes.
std::string EntryData(uint64_t index) {
  std::string s = "{\"op\":\"put\",\"key\":\"/registry/pods/ns-" + std::to_string(index % 17) +
                  "/pod-" + std::to_string(index) + "\",\"value\":{";
  for (int k = 0; s.size() < 280; ++k) {
    s += "\"field" + std::to_string(k) + "\":\"value-" + std::to_string((index * 7 + k) % 101) +
         "\",";
  }
  s += "\"rev\":" + std::to_string(index) + "}}";
  return s;
}

// Fills the harness's storage with acknowledged entries until
// kSealedSegments segments are sealed, then closes it cleanly.
void Build(Harness& h) {
  ASSERT_TRUE(h.Open().ok());
  while (h.storage().engine().SegmentRecords().size() <= kSealedSegments) {
    const uint64_t first = h.model().last() + 1;
    std::vector<raft::Entry> batch;
    for (uint64_t i = first; i < first + 8; ++i) {
      raft::Entry e;
      e.index = i;
      e.term = 1;
      e.data = EntryData(i);
      batch.push_back(std::move(e));
    }
    const Status s = h.Save(HardState{1, 1, first - 1}, batch, nullptr, true);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ASSERT_TRUE(h.Close().ok());
}

engine::Options WorkerOptions(Harness& h) {
  engine::Options o = h.options().engine;
  o.compression_mode = engine::CompressionMode::kColdSegments;
  // Never wait for the log, the machine or the clock: only I/O decides.
  o.cold_busy_bytes_per_sec = 0;
  o.cold_free_cores = -1;
  o.cold_bytes_per_sec = 1ull << 40;
  return o;
}

std::string LogDir(Harness& h) { return h.dir() + "/log"; }

// Waits (bounded) until the worker has dealt with every sealed segment:
// rewritten it, or failed on it (a failed segment is not retried).
::testing::AssertionResult WorkerDone(engine::LogEngine* e) {
  const auto until = std::chrono::steady_clock::now() + 60s;
  engine::Stats st;
  for (;;) {
    st = e->GetStats();
    if (st.cold_segments_compressed + st.cold_segments_kept_raw + st.cold_errors >=
        kSealedSegments) {
      return ::testing::AssertionSuccess();
    }
    if (std::chrono::steady_clock::now() > until) break;
    std::this_thread::sleep_for(1ms);
  }
  return ::testing::AssertionFailure()
         << "the worker did not finish: compressed " << st.cold_segments_compressed
         << ", kept raw " << st.cold_segments_kept_raw << ", errors " << st.cold_errors
         << ", abandoned " << st.cold_rewrites_abandoned;
}

// I/O calls of an open of the built log (without the worker: the same calls,
// since the worker starts only once the open is complete).
uint64_t OpenCalls(Harness& h) {
  h.fs().ResetCounters();
  engine::Options o = h.options().engine;
  auto e = engine::LogEngine::Open(LogDir(h), o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  const uint64_t calls = h.fs().calls(FsOp::kAny);
  if (e.ok()) (*e)->Abandon();  // writes nothing
  return calls;
}

struct Totals {
  uint64_t cases = 0, faults = 0, rewrites_listed = 0, rewrites_failed = 0;
};

// Builds the log, opens it with the worker on and the worker's I/O call
// `step` failing (0: none), crashes, loses power, and checks. Returns the
// number of the worker's I/O calls (with step 0: all of its rewrites').
uint64_t RunCase(uint64_t step, const Ending& ending, Totals* totals) {
  Harness h("coldfault");
  // No background I/O but the worker's: nothing prepared ahead, and a
  // rewritten segment's raw file is deleted rather than kept as a spare.
  h.options().engine.recycled_segments = 0;
  // The log is built raw; only the open under test runs the worker.
  h.options().engine.compression_mode = engine::CompressionMode::kOff;
  Build(h);
  if (::testing::Test::HasFatalFailure()) return 0;
  const StorageState acknowledged = h.model();
  const uint64_t open_calls = OpenCalls(h);
  if (::testing::Test::HasFailure()) return 0;

  h.fs().ResetCounters();
  if (step > 0) {
    testutil::Fault fault;
    fault.op = FsOp::kAny;
    fault.nth = open_calls + step;
    fault.sticky = ending.sticky;
    fault.error = step % 2 == 1 ? EIO : ENOSPC;
    h.fs().Inject(fault);
  }
  uint64_t worker_calls = 0;
  {
    auto opened = engine::LogEngine::Open(LogDir(h), WorkerOptions(h));
    EXPECT_TRUE(opened.ok()) << "the open's own calls do not fail: " << opened.status().ToString();
    if (!opened.ok()) return 0;
    engine::LogEngine* e = opened->get();
    EXPECT_TRUE(WorkerDone(e));
    const engine::Stats st = e->GetStats();
    worker_calls = h.fs().calls(FsOp::kAny) - open_calls;
    totals->faults += h.fs().faults_fired();
    totals->rewrites_listed += st.cold_segments_compressed;
    totals->rewrites_failed += st.cold_errors;
    if (step == 0) {
      EXPECT_EQ(st.cold_segments_compressed, kSealedSegments) << "entries that compress";
      EXPECT_EQ(st.cold_errors, 0u);
    } else if (!ending.sticky) {
      // One failed call costs at most the rewrite it belongs to.
      EXPECT_GE(st.cold_segments_compressed, kSealedSegments - 1);
    }
    e->Abandon();  // a crash: whatever the worker left, as it left it
  }
  h.PowerLossAndReopen(ending.mode, step, Outcomes{acknowledged, {}}, /*succeeded=*/true);
  if (::testing::Test::HasFatalFailure()) return worker_calls;

  // Every file left is listed: an unlisted rewrite or raw file was removed.
  std::vector<std::string> listed;
  for (const auto& r : h.storage().engine().SegmentRecords()) {
    listed.push_back(format::SegmentRecordFileName(r));
  }
  auto names = h.fs().ListDir(LogDir(h) + "/segments");
  EXPECT_TRUE(names.ok()) << names.status().ToString();
  if (names.ok()) {
    for (const std::string& name : *names) {
      EXPECT_NE(std::find(listed.begin(), listed.end(), name), listed.end())
          << name << " is left in the directory and not listed";
    }
  }
  // It takes writes, and the worker finishes the job on the next open.
  const uint64_t next = h.model().last() + 1;
  std::vector<raft::Entry> more(1);
  more[0].index = next;
  more[0].term = 1;
  more[0].data = EntryData(next);
  const Status w = h.Save(HardState{1, 1, next - 1}, more, nullptr, true);
  EXPECT_TRUE(w.ok()) << "a write after reopening: " << w.ToString();
  EXPECT_TRUE(h.Close().ok());
  {
    auto again = engine::LogEngine::Open(LogDir(h), WorkerOptions(h));
    EXPECT_TRUE(again.ok()) << again.status().ToString();
    if (!again.ok()) return worker_calls;
    const auto until = std::chrono::steady_clock::now() + 60s;
    size_t compressed = 0;
    while (std::chrono::steady_clock::now() < until) {
      compressed = 0;
      for (const auto& r : (*again)->SegmentRecords()) compressed += r.compressed() ? 1 : 0;
      if (compressed >= kSealedSegments) break;
      std::this_thread::sleep_for(1ms);
    }
    EXPECT_GE(compressed, kSealedSegments) << "the worker finished after recovery";
    EXPECT_TRUE((*again)->Close().ok());
  }
  EXPECT_TRUE(h.Open().ok());
  auto got = h.Read();
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  if (got.ok()) {
    EXPECT_TRUE(SameContents(*got, h.model())) << Describe(*got) << " vs " << Describe(h.model());
  }
  EXPECT_TRUE(h.Close().ok());
  return worker_calls;
}

TEST(ColdWorkerFaultTest, FailureAtEveryStepOfABackgroundRewriteThenPowerLoss) {
  Totals totals;
  const uint64_t steps = RunCase(0, kEndings[0], &totals);
  ASSERT_FALSE(HasFailure()) << "without faults";
  // Each rewrite opens, reads, writes, syncs and reads back a file, and
  // deletes the raw one: many calls per segment.
  ASSERT_GE(steps, 5 * kSealedSegments);
  for (uint64_t step = 1; step <= steps; ++step) {
    for (const Ending& ending : kEndings) {
      SCOPED_TRACE("failing I/O call " + std::to_string(step) + " of " + std::to_string(steps) +
                   " of the worker" + (ending.sticky ? " and every later one" : "") +
                   ", then power loss mode " + std::to_string(static_cast<int>(ending.mode)));
      RunCase(step, ending, &totals);
      if (HasFailure()) return;
      ++totals.cases;
    }
  }
  EXPECT_GT(totals.rewrites_failed, 0u);
  EXPECT_GE(totals.faults, totals.cases) << "each case fails one call, or every call from one on";
  std::printf("[ reliability ] cold worker fault cases %llu over %llu steps, rewrites listed %llu, "
              "failed %llu\n",
              static_cast<unsigned long long>(totals.cases), static_cast<unsigned long long>(steps),
              static_cast<unsigned long long>(totals.rewrites_listed),
              static_cast<unsigned long long>(totals.rewrites_failed));
  RecordProperty("cases", static_cast<int>(totals.cases));
}

}  // namespace
}  // namespace raftlog::reliability
