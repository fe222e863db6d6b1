// Faults during open and recovery . Each recipe leaves a log that
// the next open must repair: a torn or garbled tail (cut, and the segment
// sealed at the cut), a seal interrupted after its footer was synced and
// before the manifest said so (finished on open), a spare segment file,
// segment files left by a compaction and by a snapshot whose deletions failed,
// a snapshot temp file, and a snapshot file newer than the metadata (a crash
// between the file and the metadata commit). Then every I/O call of
// DiskStorage::Open on that log fails in turn (once, or from then on), and:
// Open returns an error or a storage that reads an acceptable state; after a
// power loss of each kind, a clean open succeeds, reads an acceptable state
// (every acknowledged write, nothing never written) and takes writes.

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "raftlog/engine/log_engine.h"
#include "raftlog/format/layout.h"
#include "raftlog/snapshot/snapshot_store.h"
#include "tests/reliability/storage_model.h"

namespace raftlog::reliability {
namespace {

using raft::HardState;
using testutil::FsOp;
using testutil::PowerLossMode;

// What a recipe leaves: the states the next open may find, and whether the
// last call was acknowledged (then only `outcomes.after` is acceptable).
struct Damage {
  Outcomes outcomes;
  bool succeeded = true;
};

struct Recipe {
  std::string name;
  // Leaves the harness closed (abandoned) on a damaged log; `expect` lists
  // what Stats of a read-only open must show, to prove the damage is there.
  std::function<void(Harness&, Damage*)> build;
  std::function<void(const engine::Stats&)> expect;
};

void Grow(Harness& h, std::mt19937_64& rng, uint64_t n, size_t max_bytes) {
  const uint64_t target = h.model().last() + n;
  const uint64_t term = std::max<uint64_t>(h.model().term, 1);
  while (h.model().last() < target) {
    const uint64_t first = h.model().last() + 1;
    auto batch = MakeEntries(rng, first, 1 + rng() % 5, term, max_bytes);
    const HardState hs{term, 1, first - 1};
    const Status s = h.Save(hs, batch, nullptr, true);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
}

// Stats of a read-only open, which reports damage without repairing it.
engine::Stats ReadOnlyStats(Harness& h) {
  engine::Options options = h.options().engine;
  options.read_only = true;
  auto e = engine::LogEngine::Open(h.dir() + "/log", options);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? (*e)->GetStats() : engine::Stats{};
}

std::vector<Recipe> Recipes() {
  std::vector<Recipe> recipes;
  recipes.push_back(Recipe{"garbled tail after an unsynced Save",
                           [](Harness& h, Damage* d) {
                             std::mt19937_64 rng(1);
                             Grow(h, rng, 30, 300);
                             const uint64_t next = h.model().last() + 1;
                             auto batch = MakeEntries(rng, next, 6, h.model().term, 400);
                             // Not synced (as if SyncPolicy said so): the power loss garbles it.
                             ASSERT_TRUE(h.Save(HardState{h.model().term, 1, next - 1}, batch,
                                                nullptr, false, &d->outcomes)
                                             .ok());
                             d->outcomes.partial.push_back(d->outcomes.after);
                             d->outcomes.after = d->outcomes.partial.front();
                             d->succeeded = false;
                             h.Abandon();
                             ASSERT_TRUE(
                                 h.fs().SimulatePowerLoss(PowerLossMode::kGarbleUnsynced, 7).ok());
                           },
                           [](const engine::Stats& st) { EXPECT_EQ(st.torn_tail_cuts, 1u); }});
  recipes.push_back(Recipe{
      "seal interrupted after its footer, and a spare segment",
      [](Harness& h, Damage* d) {
        // A synchronous seal: the appending thread writes and syncs the old
        // segment's footer, then maps the new segment; failing that leaves
        // the footer without the manifest update.
        ASSERT_TRUE(h.Close().ok());
        h.options().engine.background_seal = false;
        ASSERT_TRUE(h.Open().ok());
        std::mt19937_64 rng(2);
        Grow(h, rng, 50, 2000);
        h.fs().FailNth(FsOp::kMap, 1, EIO);
        const uint64_t next = h.model().last() + 1;
        Status s;
        for (int k = 0; k < 100 && s.ok(); ++k) {
          auto batch = MakeEntries(rng, h.model().last() + 1, 4, h.model().term, 2000);
          s = h.Save(HardState{h.model().term, 1, next - 1}, batch, nullptr, true, &d->outcomes);
        }
        ASSERT_FALSE(s.ok());
        d->succeeded = false;
        h.fs().ClearFaults();
        h.Abandon();
        ASSERT_TRUE(h.fs().SimulatePowerLoss(PowerLossMode::kDropUnsynced, 0).ok());
      },
      [](const engine::Stats& st) { EXPECT_EQ(st.unfinished_seals, 1u); }});
  recipes.push_back(Recipe{
      "background seal that never reached the manifest, and its successor holding entries",
      [](Harness& h, Damage* d) {
        std::mt19937_64 rng(4);
        Grow(h, rng, 50, 2000);
        // The sealer's fdatasync of the full segment fails; the successor's
        // own syncs succeed, so after the power loss it holds durable
        // entries that continue the full segment's log.
        const auto records = h.storage().engine().SegmentRecords();
        ASSERT_FALSE(records.empty());
        h.fs().FailAlways(FsOp::kSync, EIO,
                          format::layout::SegmentFileName(records.back().segment_id));
        // One entry of nearly a segment (64 KiB) does not fit behind the
        // grown entries: the append rolls first and writes it all to the
        // successor, so only the seal syncs the full segment.
        auto batch = MakeEntries(rng, h.model().last() + 1, 1, h.model().term, 0);
        std::string big(60000, '\0');
        for (char& c : big) c = static_cast<char>(rng());
        batch[0].data = std::move(big);
        const Status s = h.Save(HardState{h.model().term, 1, h.model().last()}, batch, nullptr,
                                true, &d->outcomes);
        ASSERT_TRUE(s.IsIOError()) << "the seal's failed fdatasync: " << s.ToString();
        d->succeeded = false;
        h.fs().ClearFaults();
        h.Abandon();
        ASSERT_TRUE(h.fs().SimulatePowerLoss(PowerLossMode::kDropUnsynced, 0).ok());
      },
      [](const engine::Stats& st) { EXPECT_EQ(st.successors_adopted, 1u); }});
  recipes.push_back(Recipe{
      "leftover files of a compaction and a snapshot, a snapshot temp file, an orphan snapshot",
      [](Harness& h, Damage* d) {
        // Compacted segments are deleted, not kept for reuse as spares.
        ASSERT_TRUE(h.Close().ok());
        h.options().engine.recycled_segments = 0;
        ASSERT_TRUE(h.Open().ok());
        std::mt19937_64 rng(3);
        Grow(h, rng, 120, 2000);
        ASSERT_TRUE(h.CreateSnapshot(20, nullptr, "old snapshot").ok());
        // Deleting the compacted segments fails (the call still succeeds:
        // the manifest no longer lists them).
        h.fs().FailAlways(FsOp::kRemove, EIO);
        ASSERT_TRUE(h.Compact(100).ok());
        raft::Snapshot snap;
        snap.metadata.index = 500;
        snap.metadata.term = h.model().term;
        snap.metadata.conf_state.voters = {1, 2, 3};
        snap.data = std::string(10000, 'q');
        ASSERT_TRUE(h.Save(HardState{h.model().term, 1, 500}, {}, &snap, true).ok());
        // A snapshot write interrupted before its rename, and a complete
        // snapshot newer than the metadata (its metadata commit never came).
        {
          auto store = snapshot::SnapshotStore::Open(&h.fs(), h.dir() + "/log/snapshots");
          ASSERT_TRUE(store.ok());
          ASSERT_TRUE((*store)->Write(snapshot::SnapshotMeta{900, 9, ""}, "orphan").ok());
          h.fs().FailNth(FsOp::kRename, 1, EIO, "snapshots");
          EXPECT_FALSE((*store)->Write(snapshot::SnapshotMeta{901, 9, ""}, "torn").ok());
        }
        d->outcomes = Outcomes{h.model(), {}};
        d->succeeded = true;
        // A process crash: nothing is lost, nothing cleaned up (the removals
        // fail until then, on whatever thread the engine makes them).
        h.Abandon();
        h.fs().ClearFaults();
      },
      [](const engine::Stats& st) { EXPECT_GE(st.stray_files_found, 2u); }});
  return recipes;
}

// Builds the recipe's damage, opens failing I/O call `step` (0: none), and
// checks. Returns the number of I/O calls of the open.
uint64_t RunCase(const Recipe& recipe, uint64_t step, const Ending& ending, uint64_t* faults) {
  Harness h("openfault");
  EXPECT_TRUE(h.Open().ok());
  Damage damage;
  recipe.build(h, &damage);
  if (::testing::Test::HasFatalFailure()) return 0;
  if (step == 0) recipe.expect(ReadOnlyStats(h));
  h.fs().ResetCounters();
  if (step > 0) {
    testutil::Fault fault;
    fault.op = FsOp::kAny;
    fault.nth = step;
    fault.sticky = ending.sticky;
    fault.error = step % 2 == 1 ? EIO : ENOSPC;
    h.fs().Inject(fault);
  }
  const Status opened = h.Open();
  const uint64_t calls = h.fs().calls(FsOp::kAny);
  *faults += h.fs().faults_fired();
  h.fs().ClearFaults();
  if (step == 0) {
    EXPECT_TRUE(opened.ok()) << opened.ToString();
  }
  if (opened.ok()) {
    auto live = h.Read();
    EXPECT_TRUE(live.ok()) << live.status().ToString();
    if (live.ok()) {
      EXPECT_TRUE(CheckOutcome(*live, damage.outcomes, damage.succeeded, h.bounds()));
      BoundsAfterReopen(live->commit, &h.bounds());
    }
  } else {
    // A failed open may have sealed the segment whose frames held the commit
    // index before it failed: nothing guarantees the commit index then.
    BoundsAfterReopen(0, &h.bounds());
  }
  h.PowerLossAndReopen(ending.mode, step, damage.outcomes, damage.succeeded);
  if (::testing::Test::HasFatalFailure()) return calls;
  std::mt19937_64 rng(step);
  auto more = MakeEntries(rng, h.model().last() + 1, 3, std::max<uint64_t>(h.model().term, 1), 100);
  const Status w =
      h.Save(HardState{std::max<uint64_t>(h.model().term, 1), h.model().vote, h.model().commit},
             more, nullptr, true);
  EXPECT_TRUE(w.ok()) << "a write after reopening: " << w.ToString();
  EXPECT_TRUE(h.Close().ok());
  return calls;
}

TEST(OpenFaultTest, FailureAtEveryStepOfRecoveryThenPowerLoss) {
  uint64_t cases = 0, faults = 0;
  for (const Recipe& recipe : Recipes()) {
    const uint64_t steps = RunCase(recipe, 0, kEndings[0], &faults);
    ASSERT_FALSE(HasFailure()) << recipe.name << " without faults";
    for (uint64_t step = 1; step <= steps; ++step) {
      for (const Ending& ending : kEndings) {
        SCOPED_TRACE(recipe.name + ": failing I/O call " + std::to_string(step) + " of " +
                     std::to_string(steps) + " of the open" +
                     (ending.sticky ? " and every later one" : "") + ", then power loss mode " +
                     std::to_string(static_cast<int>(ending.mode)));
        RunCase(recipe, step, ending, &faults);
        if (HasFailure()) return;
        ++cases;
      }
    }
  }
  std::printf("[ reliability ] open/recovery fault cases %llu, faults injected %llu\n",
              static_cast<unsigned long long>(cases), static_cast<unsigned long long>(faults));
  RecordProperty("cases", static_cast<int>(cases));
}

}  // namespace
}  // namespace raftlog::reliability
