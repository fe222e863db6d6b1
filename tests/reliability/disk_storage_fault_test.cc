// A failure at every I/O step of every DiskStorage write : Save of a
// Ready (steady state; a term and vote change; a new term cutting an
// uncommitted tail, in the active segment and back into a sealed one; across
// a segment roll; with a snapshot), CreateSnapshot (with pruning),
// ApplySnapshot and Compact (in the active segment and across sealed ones).
//
// Each operation is first run without faults to count its I/O calls; then,
// for each call in turn, on a fresh log built the same way, that call fails
// (once, or from then on: the power fails there) and then:
//   1. the call returned OK or an error, and the live instance reads back the
//      state before the call, the state after it, or a state in between;
//   2. it is still usable (a further Save succeeds) or cleanly refuses
//      writes (FailedPrecondition, after a failed write or fdatasync);
//   3. after a power loss of each kind (drop, tear or garble what was not
//      synced) a reopen succeeds and holds every acknowledged entry and
//      HardState and nothing that was never written: exactly the live state
//      if (2) acknowledged a Save, else one of the states of (1);
//   4. the reopened log takes writes again.

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "tests/reliability/storage_model.h"

namespace raftlog::reliability {
namespace {

using raft::ConfState;
using raft::Entry;
using raft::HardState;
using testutil::FsOp;
using testutil::PowerLossMode;

// One DiskStorage write, on a log built by `setup`.
struct Operation {
  std::string name;
  // Builds the log (acknowledged calls only; the same calls every time).
  std::function<void(Harness&)> setup;
  // Makes the call through the harness (which records the outcomes).
  std::function<Status(Harness&, Outcomes*)> run;
};

// Appends `n` entries of `term` in Saves of up to 6, the commit index
// trailing the last index by `lag`.
void Grow(Harness& h, std::mt19937_64& rng, uint64_t n, uint64_t term, size_t max_bytes,
          uint64_t lag = 0) {
  const uint64_t target = h.model().last() + n;
  while (h.model().last() < target) {
    const uint64_t first = h.model().last() + 1;
    const uint64_t count = std::min<uint64_t>(1 + rng() % 6, target - first + 1);
    auto batch = MakeEntries(rng, first, count, term, max_bytes);
    const uint64_t last = first + count - 1;
    const HardState hs{term, 1, std::max(h.model().commit, last > lag ? last - lag : 0)};
    const Status s = h.Save(hs, batch, nullptr, true);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
}

std::vector<Operation> Operations() {
  std::vector<Operation> ops;
  auto save = [](std::string name, std::function<void(Harness&)> setup,
                 std::function<HardState(const StorageState&)> hs, uint64_t at_back, uint64_t n,
                 size_t bytes, uint64_t term_bump) {
    Operation op{std::move(name), std::move(setup), nullptr};
    op.run = [=](Harness& h, Outcomes* o) {
      std::mt19937_64 rng(99);
      const StorageState& m = h.model();
      const uint64_t term = m.term + term_bump;
      auto batch = MakeEntries(rng, m.last() + 1 - at_back, n, term, bytes);
      return h.Save(hs(m), batch, nullptr, true, o);
    };
    return op;
  };
  auto small_log = [](Harness& h) {
    std::mt19937_64 rng(1);
    Grow(h, rng, 20, 1, 200, 5);
  };
  auto near_roll = [](Harness& h) {
    std::mt19937_64 rng(2);
    Grow(h, rng, 55, 1, 2000, 5);
  };
  // About three segments, with the commit index far behind the last index
  // so that a new leader may cut back into a sealed segment.
  auto three_segments = [](Harness& h) {
    std::mt19937_64 rng(3);
    Grow(h, rng, 60, 1, 2000, 10);
    Grow(h, rng, 70, 2, 2000, 60);
  };
  ops.push_back(save(
      "Save: entries and a commit bump (steady state)", small_log,
      [](const StorageState& m) {
        return HardState{m.term, m.vote, m.last()};
      },
      0, 4, 300, 0));
  ops.push_back(save(
      "Save: a new term and vote with entries", small_log,
      [](const StorageState& m) {
        return HardState{m.term + 1, 2, m.commit};
      },
      0, 4, 300, 1));
  ops.push_back(save(
      "Save: a new term cutting the uncommitted tail", small_log,
      [](const StorageState& m) {
        return HardState{m.term + 1, 3, m.commit};
      },
      3, 5, 300, 1));
  ops.push_back(save(
      "Save: entries across a segment roll", near_roll,
      [](const StorageState& m) {
        return HardState{m.term, m.vote, m.last()};
      },
      0, 12, 2000, 0));
  ops.push_back(save(
      "Save: a new term cutting back into a sealed segment", three_segments,
      [](const StorageState& m) {
        return HardState{m.term + 1, 3, m.commit};
      },
      55, 6, 1500, 1));

  Operation snap_save{"Save: a snapshot with a new term and entries after it", small_log, nullptr};
  snap_save.run = [](Harness& h, Outcomes* o) {
    std::mt19937_64 rng(5);
    const StorageState& m = h.model();
    raft::Snapshot snap;
    snap.metadata.index = m.last() + 40;
    snap.metadata.term = m.term + 1;
    snap.metadata.conf_state.voters = {1, 2, 3};
    snap.data = std::string(5000, 's');
    const HardState hs{m.term + 1, 0, snap.metadata.index + 2};
    auto batch = MakeEntries(rng, snap.metadata.index + 1, 2, m.term + 1, 300);
    return h.Save(hs, batch, &snap, true, o);
  };
  ops.push_back(snap_save);

  Operation snap_only{"Save: a snapshot and a commit bump only", small_log, nullptr};
  snap_only.run = [](Harness& h, Outcomes* o) {
    const StorageState& m = h.model();
    raft::Snapshot snap;
    snap.metadata.index = m.last() + 10;
    snap.metadata.term = m.term;
    snap.metadata.conf_state.voters = {1, 2};
    snap.data = "state";
    return h.Save(HardState{m.term, m.vote, snap.metadata.index}, {}, &snap, false, o);
  };
  ops.push_back(snap_only);

  Operation create{"CreateSnapshot", small_log, nullptr};
  create.run = [](Harness& h, Outcomes* o) {
    const ConfState cs{{1, 2, 3}, {4}, {}, {}, false};
    return h.CreateSnapshot(h.model().commit - 2, &cs, std::string(3000, 'c'), o);
  };
  ops.push_back(create);

  Operation prune{"CreateSnapshot pruning older snapshots",
                  [](Harness& h) {
                    std::mt19937_64 rng(6);
                    Grow(h, rng, 30, 1, 100, 2);
                    ASSERT_TRUE(h.CreateSnapshot(10, nullptr, "ten").ok());
                    ASSERT_TRUE(h.CreateSnapshot(20, nullptr, "twenty").ok());
                  },
                  nullptr};
  prune.run = [](Harness& h, Outcomes* o) {
    return h.CreateSnapshot(25, nullptr, "twenty-five", o);
  };
  ops.push_back(prune);

  Operation apply{"ApplySnapshot over a log of three segments", three_segments, nullptr};
  apply.run = [](Harness& h, Outcomes* o) {
    raft::Snapshot snap;
    snap.metadata.index = h.model().last() + 100;
    snap.metadata.term = h.model().term;
    snap.metadata.conf_state.voters = {1, 2, 3};
    snap.data = std::string(20000, 'a');
    return h.ApplySnapshot(snap, o);
  };
  ops.push_back(apply);

  Operation compact_active{"Compact inside the active segment", small_log, nullptr};
  compact_active.run = [](Harness& h, Outcomes* o) { return h.Compact(h.model().commit - 3, o); };
  ops.push_back(compact_active);

  Operation compact_sealed{"Compact across sealed segments", three_segments, nullptr};
  compact_sealed.run = [](Harness& h, Outcomes* o) { return h.Compact(h.model().commit - 1, o); };
  ops.push_back(compact_sealed);
  return ops;
}

struct Totals {
  uint64_t cases = 0;
  uint64_t faults = 0;
  uint64_t failed_calls = 0;
  uint64_t refused = 0;  // instances that refused writes after the fault
};

// Runs `op` failing I/O call `step` (0: no fault) and checks (1)-(4) of the
// file comment. Returns the number of I/O calls the operation made.
uint64_t RunCase(const Operation& op, uint64_t step, const Ending& ending, uint64_t seed,
                 Totals* totals) {
  Harness h("dsfault");
  EXPECT_TRUE(h.Open().ok());
  op.setup(h);
  if (::testing::Test::HasFatalFailure()) return 0;
  h.fs().ResetCounters();
  if (step > 0) {
    testutil::Fault fault;
    fault.op = FsOp::kAny;
    fault.nth = step;
    fault.sticky = ending.sticky;
    fault.error = step % 2 == 1 ? EIO : ENOSPC;
    h.fs().Inject(fault);
  }
  Outcomes outcomes;
  const Status s = op.run(h, &outcomes);
  const uint64_t calls = h.fs().calls(FsOp::kAny);
  totals->faults += h.fs().faults_fired();
  if (step == 0) {
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  if (!s.ok()) totals->failed_calls++;
  h.fs().ClearFaults();

  // (1) The live instance reads one of the acceptable states.
  auto live = h.Read();
  EXPECT_TRUE(live.ok()) << "reads after the fault: " << live.status().ToString();
  if (!live.ok()) return calls;
  EXPECT_TRUE(outcomes.Accepts(*live, s.ok()))
      << "live state after " << (s.ok() ? "success" : s.ToString()) << ": " << Describe(*live);

  // (2) Usable, or cleanly refusing writes. A Save that succeeds here is
  // acknowledged: then the reopened log must be exactly the live one plus it.
  h.model() = *live;
  std::mt19937_64 rng(seed);
  auto probe = MakeEntries(rng, live->last() + 1, 2, live->term, 100);
  Outcomes probe_outcomes;
  const Status p = h.Save(live->hard_state(), probe, nullptr, true, &probe_outcomes);
  const bool probed = p.ok();
  if (!probed) {
    EXPECT_TRUE(p.IsFailedPrecondition()) << "after " << s.ToString() << ": " << p.ToString();
    totals->refused++;
  }

  // (3) Power loss, reopen, check.
  h.PowerLossAndReopen(ending.mode, seed, probed ? probe_outcomes : outcomes, probed || s.ok());
  if (::testing::Test::HasFatalFailure()) return calls;

  // (4) It takes writes again.
  auto more = MakeEntries(rng, h.model().last() + 1, 3, h.model().term, 100);
  const Status w = h.Save(h.model().hard_state(), more, nullptr, true);
  EXPECT_TRUE(w.ok()) << "a write after reopening: " << w.ToString();
  EXPECT_TRUE(h.Close().ok());
  totals->cases++;
  return calls;
}

TEST(DiskStorageFaultTest, FailureAtEveryStepOfEveryWriteThenPowerLoss) {
  Totals totals;
  for (const Operation& op : Operations()) {
    const uint64_t steps = RunCase(op, 0, kEndings[0], 0, &totals);
    ASSERT_FALSE(HasFailure()) << op.name << " without faults";
    for (uint64_t step = 1; step <= steps; ++step) {
      for (size_t e = 0; e < std::size(kEndings); ++e) {
        SCOPED_TRACE(op.name + ": failing I/O call " + std::to_string(step) + " of " +
                     std::to_string(steps) + (kEndings[e].sticky ? " and every later one" : "") +
                     ", then power loss mode " +
                     std::to_string(static_cast<int>(kEndings[e].mode)));
        RunCase(op, step, kEndings[e], step * 8 + e, &totals);
        if (HasFailure()) return;
      }
    }
  }
  std::printf(
      "[ reliability ] DiskStorage fault cases %llu, faults injected %llu, calls failed "
      "%llu, instances refusing writes %llu\n",
      static_cast<unsigned long long>(totals.cases), static_cast<unsigned long long>(totals.faults),
      static_cast<unsigned long long>(totals.failed_calls),
      static_cast<unsigned long long>(totals.refused));
  RecordProperty("cases", static_cast<int>(totals.cases));
  RecordProperty("faults", static_cast<int>(totals.faults));
}

}  // namespace
}  // namespace raftlog::reliability
