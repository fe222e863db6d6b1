// Random raft-like workloads on a DiskStorage with simulated power losses at
// random points: between calls, and inside a call (every I/O call
// from a random one on fails, as if the power went there, and then the disk
// keeps only what a real one could: the synced bytes, plus for torn and
// garbled losses some or garbage of the rest). After each loss a reopen must
// succeed, hold every acknowledged entry, HardState and snapshot byte for
// byte, at most the effect of the interrupted call, a HardState at least as
// new as its entries and a commit index within bounds; the workload then goes
// on from what is on disk. Some calls instead fail at one I/O step and the
// process restarts without a power loss (the page cache keeps everything):
// the reopened log must be as acceptable, and later power losses must keep
// what is acknowledged after the restart too. Seeded: a failure names the
// seed and step, and RAFTLOG_SEED=<seed> replays it first.
//
// A second kind of workload starts from no directory at all, with one power
// loss inside the first open, the first Saves or the first seal
// (RunFromEmptyRounds).
//
// Knobs: RAFTLOG_POWER_LOSS_ROUNDS (default 1000 power losses; an eighth of
// that for the workloads from an empty directory) and RAFTLOG_SEED; the soak
// variants run RAFTLOG_SOAK_ROUNDS (default 20000; a quarter of that from an
// empty directory) when RAFTLOG_SOAK is set.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tests/reliability/storage_model.h"

namespace raftlog::reliability {
namespace {

using raft::HardState;
using testutil::FsOp;
using testutil::PowerLossMode;

struct PowerLossTotals {
  uint64_t seeds = 0;
  uint64_t calls = 0;
  uint64_t power_losses = 0;
  uint64_t inside_a_call = 0;  // ... of them while a call was making I/O
  uint64_t faults = 0;         // I/O calls failed by those
  uint64_t clean_reopens = 0;
  uint64_t restarts = 0;  // process restarts after a call failed (no power loss)
  // Spares made from compacted segment files (seen before each loss, restart
  // and close): the workloads write into recycled files, and lose power
  // while reusing them.
  uint64_t segments_recycled = 0;
  // Rolls sealed on the sealer thread, and opens that found a roll whose
  // seal had not committed (its successor adopted, or dropped because the
  // recovered log does not reach it).
  uint64_t background_seals = 0;
  uint64_t successors_adopted = 0;
  uint64_t successors_dropped = 0;
};

// A process restart after a failed fdatasync, or after a failed directory
// fsync while preparing a segment, is safe: open rewrites and syncs the
// active segment's frames (which may exist only in the page cache after a
// failed fdatasync) and syncs the directory before keeping a spare
// (DiskStorageBugTest.WritesAfterARestartFollowingAFailedSyncSurvivePowerLoss
// and ASpareKeptOnOpenHasADurableName). The switches stay so that either
// kind can be left out while investigating.
constexpr bool kRestartAfterFailedSyncIsSafe = true;
constexpr bool kRestartAfterFailedSyncDirIsSafe = true;

// The kinds of I/O call a restart case fails.
std::vector<FsOp> RestartFaults() {
  std::vector<FsOp> kinds = {FsOp::kPWrite,   FsOp::kCreate,   FsOp::kRename,
                             FsOp::kAllocate, FsOp::kTruncate, FsOp::kMap,
                             FsOp::kRemove,   FsOp::kOpen,     FsOp::kListDir};
  if (kRestartAfterFailedSyncIsSafe) kinds.push_back(FsOp::kSync);
  if (kRestartAfterFailedSyncDirIsSafe) kinds.push_back(FsOp::kSyncDir);
  return kinds;
}

// Makes one random call (the mix of crash_child.cc: mostly Saves of entries
// with commit bumps, new terms cutting the uncommitted tail, commit-only
// Saves, snapshots from a leader, CreateSnapshot, Compact). `what` names it.
// With `big_entries`, entries of up to 6000 bytes (so that a few calls fill
// a segment).
Status RandomCall(Harness& h, std::mt19937_64& rng, Outcomes* o, std::string* what,
                  bool big_entries = false) {
  const StorageState m = h.model();  // a copy: the call changes the model
  const uint64_t first = m.first, last = m.last();
  const uint64_t term = std::max<uint64_t>(m.term, 1);
  const uint64_t r = rng() % 100;
  const size_t max_bytes = big_entries ? 6000 : rng() % 4 == 0 ? 3000 : 300;
  if (last >= first && last - first > 300 && m.commit > first + 100) {
    *what = "Compact (keeping the log short)";
    return h.Compact(m.commit - 50, o);
  }
  if (r < 65 || last < first) {
    const uint64_t lag = rng() % 4;
    const HardState hs{term, m.vote,
                       std::min(std::max(m.commit, last > lag ? last - lag : 0), last)};
    auto batch =
        MakeEntries(rng, last + 1, 1 + rng() % 8, std::max(term, m.last_term()), max_bytes);
    *what = "Save of " + std::to_string(batch.size()) + " entries at " + std::to_string(last + 1);
    return h.Save(hs, batch, nullptr, true, o);
  }
  if (r < 75) {
    const uint64_t lowest = std::max(m.commit, first - 1) + 1;
    const uint64_t at = lowest + rng() % (last + 2 - lowest);
    const HardState hs{term + 1, rng() % 3, m.commit};
    auto batch = MakeEntries(rng, at, 1 + rng() % 5, term + 1, max_bytes);
    *what = "Save of term " + std::to_string(term + 1) + " cutting at " + std::to_string(at);
    return h.Save(hs, batch, nullptr, true, o);
  }
  if (r < 81) {
    *what = "commit-only Save";
    return h.Save(HardState{term, m.vote, last}, {}, nullptr, false, o);
  }
  if (r < 87 && m.commit >= first) {
    const uint64_t index = first + rng() % (m.commit - first + 1);
    *what = "Compact(" + std::to_string(index) + ")";
    return h.Compact(index, o);
  }
  const uint64_t lo = std::max(m.snapshot.metadata.index + 1, first);
  if (r < 94 && m.commit >= lo) {
    const uint64_t index = lo + rng() % (m.commit - lo + 1);
    raft::ConfState cs{{1, 2, 3}, {}, {}, {}, false};
    if (rng() % 2 == 0) cs.learners = {4 + rng() % 3};
    *what = "CreateSnapshot(" + std::to_string(index) + ")";
    return h.CreateSnapshot(index, &cs, std::string(rng() % 6000, static_cast<char>('a' + r % 26)),
                            o);
  }
  raft::Snapshot snap;
  snap.metadata.index = last + 1 + rng() % 40;
  snap.metadata.term = std::max(term, m.last_term());
  snap.metadata.conf_state.voters = {1, 2, 3, 4 + rng() % 3};
  snap.data = std::string(rng() % 20000, 'z');
  const HardState hs{snap.metadata.term, snap.metadata.term == m.term ? m.vote : 0,
                     snap.metadata.index};
  *what = "Save of a snapshot at " + std::to_string(snap.metadata.index);
  return h.Save(hs, {}, &snap, true, o);
}

// Runs workloads until `rounds` power losses happened, one seed after another.
void RunPowerLossRounds(uint64_t rounds, uint64_t first_seed, PowerLossTotals* totals) {
  constexpr uint64_t kLossesPerSeed = 25;
  for (uint64_t seed = first_seed; totals->power_losses < rounds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (RAFTLOG_SEED=" + std::to_string(seed) +
                 " replays it first)");
    totals->seeds++;
    std::mt19937_64 rng(seed);
    Harness h("powerloss");
    auto count_recycled = [&] {
      if (!h.is_open()) return;
      const engine::Stats st = h.storage().engine().GetStats();
      totals->segments_recycled += st.segments_recycled;
      totals->background_seals += st.background_seals;
      totals->successors_adopted += st.successors_adopted;
      totals->successors_dropped += st.successors_dropped;
    };
    if (seed % 3 == 0) {
      h.options().engine.compression.enabled = true;
      h.options().engine.compression.min_payload_bytes = 256;
      h.options().engine.compression.min_saving = 0;
    }
    ASSERT_TRUE(h.Open().ok());
    uint64_t losses = 0;
    for (uint64_t step = 0; losses < kLossesPerSeed && totals->power_losses < rounds; ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      const uint64_t r = rng() % 100;
      const auto mode = static_cast<PowerLossMode>(rng() % 3);
      if (r < 8) {
        // Power fails between two calls: everything acknowledged survives.
        count_recycled();
        h.PowerLossAndReopen(mode, rng(), Outcomes{h.model(), {}}, /*succeeded=*/true);
        ASSERT_FALSE(::testing::Test::HasFatalFailure());
        ++losses;
        totals->power_losses++;
        continue;
      }
      if (r < 11) {
        // A clean close keeps even the commit index.
        const StorageState before = h.model();
        count_recycled();
        ASSERT_TRUE(h.Close().ok());
        ASSERT_TRUE(h.Open().ok());
        auto got = h.Read();
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        ASSERT_TRUE(SameContents(*got, before)) << Describe(*got) << "\nvs " << Describe(before);
        static_assert(kRecoveredCommitIsDurable);
        ASSERT_EQ(got->commit, before.commit);
        BoundsAfterReopen(got->commit, &h.bounds());
        h.model() = *got;
        totals->clean_reopens++;
        continue;
      }
      if (r >= 23 && r < 28) {
        // One I/O call of the next call fails; if the call fails, the
        // process restarts (no power loss) and finds an acceptable state,
        // and the workload goes on from it (later power losses included).
        static const std::vector<FsOp> kinds = RestartFaults();
        h.fs().FailNth(kinds[rng() % kinds.size()], 1 + rng() % 3, rng() % 2 ? EIO : ENOSPC);
        Outcomes o;
        std::string what;
        const Status s = RandomCall(h, rng, &o, &what);
        h.fs().ClearFaults();
        totals->calls++;
        if (s.ok()) continue;
        SCOPED_TRACE(what + " failed with " + s.ToString() + ", then the process restarted");
        count_recycled();
        h.Abandon();
        const Status opened = h.Open();
        ASSERT_TRUE(opened.ok()) << opened.ToString();
        auto got = h.Read();
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        ASSERT_TRUE(CheckOutcome(*got, o, false, h.bounds()));
        h.model() = *got;
        BoundsAfterReopen(got->commit, &h.bounds());
        totals->restarts++;
        continue;
      }
      const bool inside = r < 23;
      if (inside) {
        h.fs().ResetCounters();
        testutil::Fault fault;
        fault.op = FsOp::kAny;
        // Most calls make a few I/O calls (a write and a sync); some many.
        fault.nth = rng() % 3 == 0 ? 1 + rng() % 40 : 1 + rng() % 4;
        fault.sticky = true;
        fault.error = rng() % 2 ? EIO : ENOSPC;
        h.fs().Inject(fault);
      }
      Outcomes o;
      std::string what;
      const Status s = RandomCall(h, rng, &o, &what);
      totals->calls++;
      SCOPED_TRACE(what + " returned " + s.ToString());
      if (!inside) {
        ASSERT_TRUE(s.ok());
        // The live instance agrees with the model at every step.
        auto live = h.Read();
        ASSERT_TRUE(live.ok()) << live.status().ToString();
        ASSERT_TRUE(SameContents(*live, h.model()))
            << Describe(*live) << "\nvs " << Describe(h.model());
        continue;
      }
      totals->faults += h.fs().faults_fired();
      if (h.fs().faults_fired() > 0) totals->inside_a_call++;
      count_recycled();
      h.PowerLossAndReopen(mode, rng(), o, s.ok());
      ASSERT_FALSE(::testing::Test::HasFatalFailure());
      ++losses;
      totals->power_losses++;
    }
    count_recycled();
    ASSERT_TRUE(h.Close().ok());
  }
}

void PrintTotals(const char* name, const PowerLossTotals& t) {
  auto n = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf(
      "[ reliability ] %s: %llu seeds, %llu calls, %llu power losses (%llu inside a call, "
      "%llu I/O calls failed), %llu restarts after a failed call, %llu clean reopens, "
      "%llu segments recycled, %llu background seals, %llu unfinished rolls found on open "
      "(%llu successors adopted, %llu dropped)\n",
      name, n(t.seeds), n(t.calls), n(t.power_losses), n(t.inside_a_call), n(t.faults),
      n(t.restarts), n(t.clean_reopens), n(t.segments_recycled), n(t.background_seals),
      n(t.successors_adopted + t.successors_dropped), n(t.successors_adopted),
      n(t.successors_dropped));
  ::testing::Test::RecordProperty("power_losses", static_cast<int>(t.power_losses));
}

// Workloads that start with no log directory at all: the first open creates
// it (the staging directory, LMDB's file, the rename, the segments
// directory, the first segment), then the first Saves (the first HardState
// commit, the first frames) and the first seal of a segment. The power fails
// at one I/O call of that stretch, chosen uniformly: a dry run of the same
// seed without faults counts the calls first. From there every I/O call
// fails (the power is gone) until the power loss; then the checks of the
// other workloads apply: the reopen succeeds and holds every acknowledged
// write, at most the interrupted call's effect; and the log then takes more
// writes and reopens cleanly with them.
struct FromEmptyTotals {
  uint64_t rounds = 0;
  uint64_t in_open = 0;        // the power failed inside the first open
  uint64_t before_seal = 0;    // ... in a call before the one that sealed the first segment
  uint64_t in_seal = 0;        // ... in the call that sealed it
  uint64_t after_seal = 0;     // ... in a later call
  uint64_t calls_failed = 0;   // calls that returned an error
  uint64_t acknowledged_entries = 0;  // entries acknowledged before the losses, all checked
  uint64_t io_steps = 0;       // I/O calls of the dry runs (the points a loss can land on)
};

// One workload from an empty directory, `fail_at` the I/O call at which the
// power fails (0: none). Returns the I/O calls made in all, and (if asked)
// those made by the open, and before and after the call that sealed the
// first segment.
struct FromEmptyRun {
  uint64_t io_calls = 0, open_calls = 0, seal_begin = 0, seal_end = 0;
};
constexpr int kCallsAfterTheFirstSeal = 3;
constexpr int kMaxCallsFromEmpty = 60;

FromEmptyRun RunFromEmpty(uint64_t seed, uint64_t fail_at, std::mt19937_64& loss_rng,
                          FromEmptyTotals* totals) {
  FromEmptyRun run;
  std::mt19937_64 rng(seed);
  Harness h("powerloss-empty");
  h.options().engine.create_if_missing = true;
  // The n-th I/O call must be the same call in every run: seals on the
  // appending thread (a sealer thread would interleave its calls by timing).
  // Background seals under power loss are the random workloads' business.
  h.options().engine.background_seal = false;
  if (fail_at > 0) {
    testutil::Fault fault;
    fault.op = FsOp::kAny;
    fault.nth = fail_at;
    fault.sticky = true;
    fault.error = loss_rng() % 2 ? EIO : ENOSPC;
    h.fs().Inject(fault);
  }
  const Status opened = h.Open();
  run.open_calls = h.fs().calls(FsOp::kAny);
  Outcomes o{h.model(), {}};
  bool succeeded = true;
  if (!opened.ok()) {
    // Nothing acknowledged: the log must reopen empty.
    EXPECT_GT(fail_at, 0u) << opened.ToString();
    succeeded = false;
    o = Outcomes{StorageState{}, {StorageState{}}};
  } else {
    int after_seal = -1;
    for (int call = 0; call < kMaxCallsFromEmpty && after_seal < kCallsAfterTheFirstSeal;
         ++call) {
      const uint64_t before = h.fs().calls(FsOp::kAny);
      const bool sealed_before = h.storage().engine().GetStats().sealed_segments > 0;
      std::string what;
      const Status s = RandomCall(h, rng, &o, &what, /*big_entries=*/true);
      if (!sealed_before && h.storage().engine().GetStats().sealed_segments > 0) {
        run.seal_begin = before;
        run.seal_end = h.fs().calls(FsOp::kAny);
      }
      if (after_seal >= 0 || run.seal_end > 0) ++after_seal;
      if (!s.ok()) {
        EXPECT_GT(fail_at, 0u) << what << ": " << s.ToString();
        succeeded = false;
        if (totals != nullptr) totals->calls_failed++;
        break;
      }
      o = Outcomes{h.model(), {}};
    }
  }
  run.io_calls = h.fs().calls(FsOp::kAny);
  if (fail_at == 0) {
    EXPECT_GT(run.seal_end, 0u) << "the dry run never sealed a segment";
    return run;
  }
  if (totals != nullptr) totals->acknowledged_entries += h.model().entries.size();
  h.PowerLossAndReopen(static_cast<PowerLossMode>(loss_rng() % 3), loss_rng(), o, succeeded);
  if (::testing::Test::HasFailure()) return run;
  // The recovered log works: more writes, a clean close, the same log again.
  for (int call = 0; call < 3; ++call) {
    Outcomes more;
    std::string what;
    const Status s = RandomCall(h, rng, &more, &what, /*big_entries=*/true);
    EXPECT_TRUE(s.ok()) << "after the recovery, " << what << ": " << s.ToString();
    if (!s.ok()) return run;
  }
  const StorageState before = h.model();
  EXPECT_TRUE(h.Close().ok());
  EXPECT_TRUE(h.Open().ok());
  if (!h.is_open()) return run;
  auto got = h.Read();
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  if (got.ok()) {
    EXPECT_TRUE(SameContents(*got, before)) << Describe(*got) << "\nvs " << Describe(before);
  }
  EXPECT_TRUE(h.Close().ok());
  return run;
}

void RunFromEmptyRounds(uint64_t rounds, uint64_t first_seed, FromEmptyTotals* totals) {
  for (uint64_t seed = first_seed; seed < first_seed + rounds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (RAFTLOG_SEED=" + std::to_string(seed) +
                 " replays it first)");
    std::mt19937_64 loss_rng(seed * 7919 + 17);
    const FromEmptyRun dry = RunFromEmpty(seed, 0, loss_rng, nullptr);
    ASSERT_FALSE(::testing::Test::HasFailure());
    const uint64_t fail_at = 1 + loss_rng() % dry.io_calls;
    SCOPED_TRACE("the power fails at I/O call " + std::to_string(fail_at) + " of " +
                 std::to_string(dry.io_calls) + " (the open makes " +
                 std::to_string(dry.open_calls) + ", the first seal " +
                 std::to_string(dry.seal_begin + 1) + " to " + std::to_string(dry.seal_end) + ")");
    RunFromEmpty(seed, fail_at, loss_rng, totals);
    ASSERT_FALSE(::testing::Test::HasFailure());
    totals->rounds++;
    totals->io_steps += dry.io_calls;
    if (fail_at <= dry.open_calls) {
      totals->in_open++;
    } else if (fail_at <= dry.seal_begin) {
      totals->before_seal++;
    } else if (fail_at <= dry.seal_end) {
      totals->in_seal++;
    } else {
      totals->after_seal++;
    }
  }
}

void PrintTotals(const char* name, const FromEmptyTotals& t) {
  auto n = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf(
      "[ reliability ] %s: %llu workloads from an empty directory (%llu I/O steps), one power "
      "loss each: %llu inside the first open, %llu in the first Saves, %llu inside the first "
      "seal, %llu after it; %llu calls failed; %llu acknowledged entries checked, all present\n",
      name, n(t.rounds), n(t.io_steps), n(t.in_open), n(t.before_seal), n(t.in_seal),
      n(t.after_seal), n(t.calls_failed), n(t.acknowledged_entries));
  ::testing::Test::RecordProperty("from_empty_rounds", static_cast<int>(t.rounds));
}

TEST(PowerLossTest, RandomWorkloadsKeepEveryAcknowledgedWrite) {
  PowerLossTotals totals;
  RunPowerLossRounds(EnvOr("RAFTLOG_POWER_LOSS_ROUNDS", 1000), EnvOr("RAFTLOG_SEED", 1), &totals);
  PrintTotals("power loss", totals);
  EXPECT_GT(totals.segments_recycled, 0u) << "the workloads never reused a compacted segment file";
  EXPECT_GT(totals.background_seals, 0u) << "the workloads never rolled a segment";
}

TEST(PowerLossSoakTest, RandomWorkloadsKeepEveryAcknowledgedWrite) {
  if (std::getenv("RAFTLOG_SOAK") == nullptr) GTEST_SKIP() << "set RAFTLOG_SOAK=1 to run";
  PowerLossTotals totals;
  RunPowerLossRounds(EnvOr("RAFTLOG_SOAK_ROUNDS", 20000), EnvOr("RAFTLOG_SEED", 1000), &totals);
  PrintTotals("power loss soak", totals);
}

// An eighth as many power losses as the other workloads by default (a
// quarter in the soak): each starts a log from nothing and runs its seed
// twice, the dry run included.
TEST(PowerLossTest, WorkloadsFromAnEmptyDirectoryKeepEveryAcknowledgedWrite) {
  FromEmptyTotals totals;
  RunFromEmptyRounds(EnvOr("RAFTLOG_POWER_LOSS_ROUNDS", 1000) / 8, EnvOr("RAFTLOG_SEED", 1),
                     &totals);
  PrintTotals("power loss from empty", totals);
}

TEST(PowerLossSoakTest, WorkloadsFromAnEmptyDirectoryKeepEveryAcknowledgedWrite) {
  if (std::getenv("RAFTLOG_SOAK") == nullptr) GTEST_SKIP() << "set RAFTLOG_SOAK=1 to run";
  FromEmptyTotals totals;
  RunFromEmptyRounds(EnvOr("RAFTLOG_SOAK_ROUNDS", 20000) / 4, EnvOr("RAFTLOG_SEED", 1000),
                     &totals);
  PrintTotals("power loss from empty soak", totals);
}

}  // namespace
}  // namespace raftlog::reliability
