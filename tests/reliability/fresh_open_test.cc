// A crash during the very first open of a log must leave a directory that
// opens again. Three ways of stopping a fresh open part way:
//  - every file-system step of DiskStorage::Open on an empty directory fails
//    in turn, from then on (a stop at that step), optionally followed by a
//    power loss of each kind; then a clean open must succeed and work;
//  - the states LMDB's own I/O (not seen by the fault file system) can leave
//    part way, built by hand: then the same;
//  - a real child process opening a new log is SIGKILLed after delays that
//    spread over the whole open; then the same.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/engine/meta_store.h"
#include "raftlog/io/file_system.h"
#include "tests/testutil/fault_file_system.h"
#include "tests/testutil/scratch_log.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::engine {
namespace {

using raft::HardState;
using testutil::FaultFileSystem;
using testutil::FsOp;
using testutil::PowerLossMode;

// Opens `dir` (which must now be recoverable), writes, reopens and reads.
void ExpectOpensAndWorks(const std::string& dir, io::FileSystem* fs) {
  {
    auto s = DiskStorage::Open(dir, testutil::ScratchLogOptions(fs));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(*(*s)->LastIndex(), 0u);
    ASSERT_TRUE(
        (*s)->Save(HardState{1, 1, 0}, testutil::NumberedEntries(1, 5, 1, "entry "), nullptr, true)
            .ok());
    ASSERT_TRUE((*s)->Close().ok());
  }
  auto s = DiskStorage::Open(dir, testutil::ScratchLogOptions(fs));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*(*s)->LastIndex(), 5u);
  auto got = (*s)->Entries(1, 6, UINT64_MAX);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->back().data, "entry 5");
  EXPECT_EQ((*s)->InitialState()->hard_state.term, 1u);
}

uint64_t FreshOpenCalls() {
  testutil::TempDir tmp("fresh-open");
  FaultFileSystem fs;
  auto s = DiskStorage::Open(tmp.Sub("log"), testutil::ScratchLogOptions(&fs));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  const uint64_t calls = fs.calls(FsOp::kAny);
  (*s)->Abandon();
  return calls;
}

TEST(FreshOpenTest, StopAtEveryFileSystemStepThenOpenWorks) {
  const uint64_t steps = FreshOpenCalls();
  ASSERT_GT(steps, 5u);
  const PowerLossMode modes[] = {PowerLossMode::kDropUnsynced, PowerLossMode::kTornUnsynced,
                                 PowerLossMode::kGarbleUnsynced};
  uint64_t cases = 0;
  for (uint64_t step = 1; step <= steps; ++step) {
    for (int ending = 0; ending <= 3; ++ending) {
      SCOPED_TRACE("stopped at call " + std::to_string(step) + " of " + std::to_string(steps) +
                   (ending == 0 ? ", no power loss"
                                : ", then power loss mode " + std::to_string(ending - 1)));
      testutil::TempDir tmp("fresh-open");
      const std::string dir = tmp.Sub("log");
      FaultFileSystem fs;
      testutil::Fault fault;
      fault.op = FsOp::kAny;
      fault.nth = step;
      fault.sticky = true;
      fs.Inject(fault);
      {
        auto s = DiskStorage::Open(dir, testutil::ScratchLogOptions(&fs));
        if (s.ok()) (*s)->Abandon();
      }
      fs.ClearFaults();
      if (ending > 0) {
        ASSERT_TRUE(fs.SimulatePowerLoss(modes[ending - 1], step).ok());
      }
      ExpectOpensAndWorks(dir, &fs);
      if (HasFailure()) return;
      ++cases;
    }
  }
  std::printf("[ reliability ] fresh open stopped at %llu steps, %llu cases\n",
              static_cast<unsigned long long>(steps), static_cast<unsigned long long>(cases));
}

void Touch(const std::string& path, const std::string& bytes = "") {
  std::ofstream(path, std::ios::binary) << bytes;
}

// What LMDB's own steps (creating its lock file, then the data file, then
// writing its meta pages, then the first commit) can leave, in the log
// directory itself (as an earlier version created it) or in the staging
// directory of a creation.
TEST(FreshOpenTest, StatesLeftInsideLmdbOpenThenOpenWorks) {
  struct State {
    std::string name;
    std::vector<std::pair<std::string, std::string>> files;  // relative path, contents
    std::vector<std::string> dirs;
  };
  std::string one_page(4096, '\0');
  const std::vector<State> states = {
      {"LOCK only", {{"LOCK", ""}}, {}},
      {"LOCK and LMDB's lock file", {{"LOCK", ""}, {"meta.mdb-lock", std::string(8192, '\0')}}, {}},
      {"staging directory, empty", {{"LOCK", ""}}, {"creating.tmp"}},
      {"staging: LMDB's lock file",
       {{"LOCK", ""}, {"creating.tmp/meta.mdb-lock", ""}},
       {"creating.tmp"}},
      {"staging: empty data file",
       {{"LOCK", ""}, {"creating.tmp/meta.mdb-lock", ""}, {"creating.tmp/meta.mdb", ""}},
       {"creating.tmp"}},
      {"staging: data file cut inside its first meta page",
       {{"LOCK", ""}, {"creating.tmp/meta.mdb", one_page.substr(0, 100)}},
       {"creating.tmp"}},
  };
  for (const State& state : states) {
    SCOPED_TRACE(state.name);
    testutil::TempDir tmp("fresh-open");
    const std::string dir = tmp.Sub("log");
    ASSERT_TRUE(io::FileSystem::Default()->CreateDir(dir).ok());
    for (const std::string& d : state.dirs) {
      ASSERT_TRUE(io::FileSystem::Default()->CreateDir(io::JoinPath(dir, d)).ok());
    }
    for (const auto& [name, bytes] : state.files) Touch(io::JoinPath(dir, name), bytes);
    ExpectOpensAndWorks(dir, io::FileSystem::Default());
  }
  // A complete, committed store still in the staging directory (the crash
  // came before the rename): made again from scratch.
  testutil::TempDir tmp("fresh-open");
  const std::string dir = tmp.Sub("log");
  ASSERT_TRUE(io::FileSystem::Default()->CreateDir(dir).ok());
  ASSERT_TRUE(io::FileSystem::Default()->CreateDir(dir + "/creating.tmp").ok());
  {
    auto meta = MetaStore::Open(dir + "/creating.tmp/meta.mdb");
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    MetaStore::Batch batch;
    batch.Put("format", std::string("\x02\x00", 2));
    ASSERT_TRUE((*meta)->Write(batch).ok());
  }
  ExpectOpensAndWorks(dir, io::FileSystem::Default());
}

// Something that is not ours is still refused.
TEST(FreshOpenTest, ForeignEntriesAreStillRefused) {
  testutil::TempDir tmp("fresh-open");
  Touch(tmp.Sub("notes.txt"), "hello");
  Touch(tmp.Sub("LOCK"));
  auto s = DiskStorage::Open(tmp.path(), testutil::ScratchLogOptions());
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsInvalidArgument()) << s.status().ToString();
  EXPECT_NE(s.status().message().find("notes.txt"), std::string::npos) << s.status().ToString();
}

// A real process, killed with SIGKILL at delays spread over a fresh open.
TEST(FreshOpenTest, SigkillDuringFreshOpenThenOpenWorks) {
  // How long a fresh open takes here, to spread the kills over it.
  auto t0 = std::chrono::steady_clock::now();
  { (void)FreshOpenCalls(); }
  const auto open_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - t0)
                           .count();
  const int rounds = 40;
  int killed_during = 0;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    testutil::TempDir tmp("fresh-open-kill");
    const std::string dir = tmp.Sub("log");
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto s = DiskStorage::Open(dir, testutil::ScratchLogOptions());
      if (s.ok()) (*s)->Abandon();
      ::_exit(s.ok() ? 0 : 1);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(open_us * round / rounds));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) ++killed_during;
    if (WIFEXITED(status)) {
      ASSERT_EQ(WEXITSTATUS(status), 0);
    }
    ExpectOpensAndWorks(dir, io::FileSystem::Default());
    if (HasFailure()) return;
  }
  std::printf("[ reliability ] fresh open: %d of %d child processes killed during the open\n",
              killed_during, rounds);
}

}  // namespace
}  // namespace raftlog::engine
