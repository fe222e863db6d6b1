// A real crash test: a child process (raftlog_crash_child) writes
// to a DiskStorage on the real file system, syncing as raft asks, and is
// killed with SIGKILL at a random moment: during its open and recovery of the
// previous round's crash, or in the middle of its calls. The child reports
// every call before making it and every acknowledgement after (the protocol
// is in crash_protocol.h), so the parent knows exactly which states the log
// may be in. After each kill the parent opens the log read-only (so that the
// next child, not the parent, recovers it: a kill can then also land in the
// middle of recovery) and checks, byte for byte, that it holds every
// acknowledged entry, HardState and snapshot, at most the effect of the one
// call in flight, a HardState at least as new as its entries, and a commit
// index within bounds. The next child must then find exactly that state.
//
// A second test starts every round from a directory that does not exist
// (RunCrashFromEmptyRounds), so that kills land inside the first open, the
// first Saves and the first seal.
//
// NB: SIGKILL loses no page cache, so this proves what a process crash keeps;
// power loss is simulated in power_loss_test.cc.
//
// Knobs: RAFTLOG_CRASH_ROUNDS (default 40, each test) and RAFTLOG_SEED; the
// soak variants run RAFTLOG_SOAK_CRASH_ROUNDS rounds (default 1000, each)
// when RAFTLOG_SOAK is set.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/reliability/crash_protocol.h"
#include "tests/reliability/storage_model.h"
#include "tests/testutil/temp_dir.h"

extern char** environ;

namespace raftlog::reliability {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kSegmentBytes = 256 << 10;

std::string ChildPath() {
  const char* env = std::getenv("RAFTLOG_CRASH_CHILD");
  return env != nullptr && *env != '\0' ? env : RAFTLOG_CRASH_CHILD;
}

struct CrashTotals {
  uint64_t rounds = 0;
  uint64_t killed_before_open_reported = 0;
  uint64_t killed_with_call_in_flight = 0;
  uint64_t acknowledged_calls = 0;
  uint64_t acknowledged_entries = 0;
};

// One child run: its lines, in order, and whether it was killed.
struct ChildRun {
  std::vector<CrashLine> lines;
  bool killed = false;
  std::string exit_description;
};

// Starts the child, kills it when `kill_after` has passed since the moment
// it reported its open (or, if `early`, since it started), and collects its
// lines.
ChildRun RunChild(const std::string& dir, uint64_t seed, std::chrono::microseconds kill_after,
                  bool early, uint64_t segment_bytes = kSegmentBytes) {
  ChildRun run;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 3);
  const std::string child = ChildPath();
  const std::string seed_arg = std::to_string(seed);
  const std::string segment_arg = std::to_string(segment_bytes);
  char* argv[] = {const_cast<char*>(child.c_str()), const_cast<char*>(dir.c_str()),
                  const_cast<char*>(seed_arg.c_str()), const_cast<char*>(segment_arg.c_str()),
                  nullptr};
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, child.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    ADD_FAILURE() << "cannot start " << child << ": errno " << spawned;
    return run;
  }

  std::string buffer;
  auto take_lines = [&] {
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      auto line = ParseCrashLine(std::string_view(buffer).substr(0, nl));
      if (!line) {
        ADD_FAILURE() << "malformed line from the child: " << buffer.substr(0, nl);
      } else {
        run.lines.push_back(*line);
      }
      buffer.erase(0, nl + 1);
    }
  };
  auto deadline = Clock::now() + (early ? kill_after : std::chrono::microseconds(30'000'000));
  bool opened = false, eof = false;
  while (!eof && Clock::now() < deadline) {
    const auto left_us =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>((left_us + 999) / 1000, 0))) <= 0)
      continue;
    char chunk[65536];
    const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n <= 0) {
      eof = n == 0;
      continue;
    }
    buffer.append(chunk, static_cast<size_t>(n));
    take_lines();
    if (!early && !opened && !run.lines.empty()) {
      opened = true;
      deadline = Clock::now() + kill_after;
    }
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (!run.killed) {
    run.exit_description = WIFEXITED(status)
                               ? "exited with status " + std::to_string(WEXITSTATUS(status))
                               : "died of signal " + std::to_string(WTERMSIG(status));
  }
  // Whatever the child wrote before it died is still in the pipe. A line
  // cut short cannot exist (each is one small write), but drop one anyway.
  for (;;) {
    char chunk[65536];
    const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  take_lines();
  ::close(fds[0]);
  return run;
}

// The model's answer to one reported call.
Outcomes CallOutcomes(const StorageState& model, const CrashLine& call) {
  switch (call.kind) {
    case CrashLine::Kind::kSave: {
      const auto entries = CrashEntries(call.first, call.count, call.entry_term);
      const raft::Snapshot snap = CrashSnapshot(call.snapshot_index, call.snapshot_term);
      return SaveOutcomes(model, call.hs, entries, call.snapshot_index != 0 ? &snap : nullptr);
    }
    case CrashLine::Kind::kCompact:
      return CompactOutcomes(model, call.index);
    case CrashLine::Kind::kCreateSnapshot: {
      const raft::ConfState cs = CrashConfState();
      return CreateSnapshotOutcomes(
          model, call.snapshot_index, &cs,
          CrashSnapshotData(call.snapshot_index, model.TermAt(call.snapshot_index)));
    }
    default:
      ADD_FAILURE() << "not a call";
      return Outcomes{model, {model}};
  }
}

void Acknowledge(const CrashLine& call, StorageState* model, CommitBounds* bounds) {
  if (call.kind == CrashLine::Kind::kSave) {
    const auto entries = CrashEntries(call.first, call.count, call.entry_term);
    const raft::Snapshot snap = CrashSnapshot(call.snapshot_index, call.snapshot_term);
    AcknowledgeSave(call.hs, entries, call.snapshot_index != 0 ? &snap : nullptr, call.must_sync,
                    model, bounds);
  } else {
    AcknowledgeMetaCall(CallOutcomes(*model, call).after, /*drops_log=*/false, model, bounds);
  }
}

// Opens the log (creating it only if `create`), reads it, and closes it;
// `sealed` (if given) receives the number of sealed segments.
Result<StorageState> ReadLog(const std::string& dir, bool read_only, bool create = false,
                             uint64_t segment_bytes = kSegmentBytes, uint64_t* sealed = nullptr) {
  engine::DiskStorageOptions options;
  options.engine.segment_bytes = segment_bytes;
  options.engine.read_only = read_only;
  options.engine.create_if_missing = create;
  auto storage = engine::DiskStorage::Open(dir, options);
  if (!storage.ok()) return storage.status();
  auto state = ReadState(**storage);
  if (sealed != nullptr) *sealed = (*storage)->engine().GetStats().sealed_segments;
  RAFTLOG_RETURN_IF_ERROR((*storage)->Close());
  return state;
}

// Applies a child's lines to the model: checks what it reported opening
// against the model, acknowledges each acked call, and leaves the call it was
// killed in (if any) in `in_flight`. Reports problems as gtest failures.
void TakeLines(const ChildRun& run, StorageState* model, CommitBounds* bounds,
               CrashTotals* totals, std::optional<CrashLine>* in_flight, bool* opened) {
  for (const CrashLine& line : run.lines) {
    switch (line.kind) {
      case CrashLine::Kind::kOpened:
        // The child's own recovery must find what the parent saw.
        *opened = true;
        ASSERT_EQ(line.first, model->first);
        ASSERT_EQ(line.last, model->last());
        ASSERT_EQ(line.hs, model->hard_state());
        ASSERT_EQ(line.snapshot_index, model->snapshot.metadata.index);
        break;
      case CrashLine::Kind::kAck:
        ASSERT_TRUE(in_flight->has_value()) << "an ack without a call";
        Acknowledge(**in_flight, model, bounds);
        totals->acknowledged_calls++;
        totals->acknowledged_entries += (*in_flight)->count;
        in_flight->reset();
        break;
      case CrashLine::Kind::kError:
        FAIL() << "the child failed: " << line.message;
      default:
        ASSERT_FALSE(in_flight->has_value()) << "a call before the previous one's ack";
        *in_flight = line;
        if (line.kind == CrashLine::Kind::kSave) NoteAttempt(line.hs, bounds);
        break;
    }
  }
}

void RunCrashRounds(uint64_t rounds, uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed) + " (RAFTLOG_SEED reproduces it)");
  testutil::TempDir dir("crash");
  const std::string log = dir.Sub("log");
  std::mt19937_64 rng(seed);
  StorageState model;
  CommitBounds bounds;
  CrashTotals totals;
  bool log_exists = false;
  for (uint64_t round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // A fifth of the kills land while the child opens (and recovers) the log.
    const bool early = log_exists && rng() % 5 == 0;
    // Early kills within 4 ms of the start (the child opens in about 1 to 3
    // ms here); the others up to 250 ms after its open.
    const auto kill_after = std::chrono::microseconds(early ? rng() % 4000 : rng() % 250'000);
    const ChildRun run = RunChild(log, seed * 1000003 + round, kill_after, early);
    ASSERT_TRUE(run.killed) << "the child " << run.exit_description << " before it was killed"
                            << (!run.lines.empty() &&
                                        run.lines.back().kind == CrashLine::Kind::kError
                                    ? ": " + run.lines.back().message
                                    : std::string());

    std::optional<CrashLine> in_flight;
    bool opened = false;
    TakeLines(run, &model, &bounds, &totals, &in_flight, &opened);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    if (opened) log_exists = true;
    if (!opened) totals.killed_before_open_reported++;
    if (in_flight) totals.killed_with_call_in_flight++;
    totals.rounds++;
    if (!log_exists) continue;  // killed before it even created the log

    auto got = ReadLog(log, /*read_only=*/true);
    ASSERT_TRUE(got.ok()) << "opening the log after the kill: " << got.status().ToString();
    const Outcomes outcomes =
        in_flight ? CallOutcomes(model, *in_flight) : Outcomes{model, {model}};
    ASSERT_TRUE(CheckOutcome(*got, outcomes, !in_flight.has_value(), bounds));
    model = *got;
    BoundsAfterReopen(got->commit, &bounds);
  }
  // A normal open (with recovery) agrees with the last read-only view.
  if (log_exists) {
    auto got = ReadLog(log, /*read_only=*/false);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(SameContents(*got, model)) << Describe(*got) << "\nvs " << Describe(model);
    EXPECT_EQ(got->commit, model.commit);
  }
  std::printf(
      "[ reliability ] crash test: %llu rounds (SIGKILL), %llu killed before the open "
      "was reported, %llu with a call in flight; %llu calls and %llu entries "
      "acknowledged, all present\n",
      static_cast<unsigned long long>(totals.rounds),
      static_cast<unsigned long long>(totals.killed_before_open_reported),
      static_cast<unsigned long long>(totals.killed_with_call_in_flight),
      static_cast<unsigned long long>(totals.acknowledged_calls),
      static_cast<unsigned long long>(totals.acknowledged_entries));
  ::testing::Test::RecordProperty("rounds", static_cast<int>(totals.rounds));
}

// Kills from an empty directory: every round starts a child on a log
// directory that does not exist yet, so the kill lands inside the first open
// (the staging directory, LMDB's file, its rename, the first segment), the
// first Saves or the first seal of a segment (64 KiB segments; a background
// thread prepares the next one). The kill delay, from the child's start, is
// uniform in [0, D], with D adjusted as the rounds go so that about half the
// kills come after the first seal, whatever the machine's speed. After each
// kill, if the child had reported its open: a read-only open holds every
// acknowledged write and at most the call in flight; then (in every case) a
// writable open succeeds, and serves the same log (or an empty one if the
// open was never reported).
constexpr uint64_t kFromEmptySegmentBytes = 64 << 10;

void RunCrashFromEmptyRounds(uint64_t rounds, uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed) + " (RAFTLOG_SEED reproduces it)");
  std::mt19937_64 rng(seed);
  CrashTotals totals;
  uint64_t after_seal = 0;
  double limit_us = 20'000;
  for (uint64_t round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    testutil::TempDir dir("crash-empty");
    const std::string log = dir.Sub("log");
    const auto kill_after =
        std::chrono::microseconds(rng() % static_cast<uint64_t>(limit_us + 1));
    SCOPED_TRACE("killed " + std::to_string(kill_after.count()) + " us after its start");
    const ChildRun run = RunChild(log, seed * 1000003 + round, kill_after, /*early=*/true,
                                  kFromEmptySegmentBytes);
    ASSERT_TRUE(run.killed) << "the child " << run.exit_description << " before it was killed";
    StorageState model;
    CommitBounds bounds;
    std::optional<CrashLine> in_flight;
    bool opened = false;
    TakeLines(run, &model, &bounds, &totals, &in_flight, &opened);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    if (!opened) totals.killed_before_open_reported++;
    if (in_flight) totals.killed_with_call_in_flight++;
    totals.rounds++;
    StorageState expected;  // what a writable open must serve
    if (opened) {
      auto got = ReadLog(log, /*read_only=*/true, false, kFromEmptySegmentBytes);
      ASSERT_TRUE(got.ok()) << "opening the log after the kill: " << got.status().ToString();
      const Outcomes outcomes =
          in_flight ? CallOutcomes(model, *in_flight) : Outcomes{model, {model}};
      ASSERT_TRUE(CheckOutcome(*got, outcomes, !in_flight.has_value(), bounds));
      expected = *got;
    }
    uint64_t sealed = 0;
    auto recovered = ReadLog(log, /*read_only=*/false, /*create=*/true, kFromEmptySegmentBytes,
                             &sealed);
    ASSERT_TRUE(recovered.ok()) << "a writable open after the kill: "
                                << recovered.status().ToString();
    ASSERT_TRUE(SameContents(*recovered, expected))
        << Describe(*recovered) << "\nvs " << Describe(expected);
    if (sealed > 0) {
      after_seal++;
      limit_us = std::max(limit_us * 0.9, 2'000.0);
    } else {
      limit_us = std::min(limit_us * 1.1, 2'000'000.0);
    }
  }
  std::printf(
      "[ reliability ] crash test from empty: %llu rounds (SIGKILL, each on a new directory), "
      "%llu killed before the open was reported, %llu with a call in flight, %llu after the "
      "first seal (kill delays up to %.0f ms at the end); %llu calls and %llu entries "
      "acknowledged, all present\n",
      static_cast<unsigned long long>(totals.rounds),
      static_cast<unsigned long long>(totals.killed_before_open_reported),
      static_cast<unsigned long long>(totals.killed_with_call_in_flight),
      static_cast<unsigned long long>(after_seal), limit_us / 1000,
      static_cast<unsigned long long>(totals.acknowledged_calls),
      static_cast<unsigned long long>(totals.acknowledged_entries));
  ::testing::Test::RecordProperty("from_empty_rounds", static_cast<int>(totals.rounds));
}

TEST(CrashTest, SigkilledWriterLosesNoAcknowledgedWrite) {
  RunCrashRounds(EnvOr("RAFTLOG_CRASH_ROUNDS", 40), EnvOr("RAFTLOG_SEED", 1));
}

TEST(CrashTest, SigkilledFromAnEmptyDirectoryLosesNoAcknowledgedWrite) {
  RunCrashFromEmptyRounds(EnvOr("RAFTLOG_CRASH_ROUNDS", 40), EnvOr("RAFTLOG_SEED", 1));
}

TEST(CrashSoakTest, SigkilledWriterLosesNoAcknowledgedWrite) {
  if (std::getenv("RAFTLOG_SOAK") == nullptr) GTEST_SKIP() << "set RAFTLOG_SOAK=1 to run";
  RunCrashRounds(EnvOr("RAFTLOG_SOAK_CRASH_ROUNDS", 1000), EnvOr("RAFTLOG_SEED", 1));
}

TEST(CrashSoakTest, SigkilledFromAnEmptyDirectoryLosesNoAcknowledgedWrite) {
  if (std::getenv("RAFTLOG_SOAK") == nullptr) GTEST_SKIP() << "set RAFTLOG_SOAK=1 to run";
  RunCrashFromEmptyRounds(EnvOr("RAFTLOG_SOAK_CRASH_ROUNDS", 1000), EnvOr("RAFTLOG_SEED", 1));
}

}  // namespace
}  // namespace raftlog::reliability
