// The append thread for asynchronous storage writes (raftlog/engine/log_writer.h):
// responses only after their entries are durable, in submission order, one
// sync per batch on the right message, a failure reported once.

#include "raftlog/engine/log_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/port/mutex.h"
#include "raftlog/raft/memory_storage.h"
#include "raftlog/raft/util.h"

namespace raftlog::engine {
namespace {

raft::Message Append(uint64_t term, uint64_t first, int n, uint64_t commit, int tag) {
  raft::Message m;
  m.type = raft::MessageType::kMsgStorageAppend;
  m.to = raft::kLocalAppendThread;
  m.from = 1;
  m.term = term;
  m.vote = 1;
  m.commit = commit;
  for (int i = 0; i < n; ++i) {
    raft::Entry e;
    e.term = term;
    e.index = first + static_cast<uint64_t>(i);
    e.data = std::string("entry-") + std::to_string(e.index);
    m.entries.push_back(e);
  }
  raft::Message resp;
  resp.type = raft::MessageType::kMsgStorageAppendResp;
  resp.to = 1;
  resp.index = static_cast<uint64_t>(tag);
  m.responses.push_back(resp);
  return m;
}

// Responses come back in submission order, only after their entries are in
// the storage, for a burst of submissions that the writer batches.
void WriterDeliversInOrder(raft::WritableStorage* storage) {
  port::Mutex mu;
  std::vector<uint64_t> tags;
  std::atomic<bool> bad{false};
  std::unique_ptr<LogWriter> w = NewThreadedLogWriter(
      storage,
      [&](std::vector<raft::Message> responses) {
        for (const raft::Message& r : responses) {
          // Append i wrote entries up to 10 * (i + 1).
          Result<uint64_t> last = storage->LastIndex();
          if (!last.ok() || *last < 10 * (r.index + 1)) bad = true;
          port::MutexLock lock(&mu);
          tags.push_back(r.index);
        }
      },
      [&](const Status&) { bad = true; });
  EXPECT_EQ(w->busy_ns(), 0u);  // nothing persisted yet
  const auto before = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) w->Submit(Append(1, 1 + 10 * static_cast<uint64_t>(i), 10, 0, i));
  w->Stop();
  const auto wall = std::chrono::steady_clock::now() - before;
  EXPECT_FALSE(bad.load());
  // The time spent persisting is counted, and lies within the wall time.
  EXPECT_GT(w->busy_ns(), 0u);
  EXPECT_LE(w->busy_ns(),
            static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(wall).count()));
  // Every batch carries entries, so it asks for exactly one sync, however
  // many messages it groups.
  EXPECT_GE(w->batches(), 1u);
  EXPECT_LE(w->batches(), 50u);
  EXPECT_EQ(w->syncs(), w->batches());
  EXPECT_EQ(w->queued(), 0u);
  port::MutexLock lock(&mu);
  ASSERT_EQ(tags.size(), 50u);
  for (uint64_t i = 0; i < 50; ++i) EXPECT_EQ(tags[i], i);
  Result<std::vector<raft::Entry>> ents = storage->Entries(1, 501, raft::kNoLimit);
  ASSERT_TRUE(ents.ok());
  ASSERT_EQ(ents->size(), 500u);
  EXPECT_EQ(std::string_view((*ents)[499].data), "entry-500");
  Result<raft::StoredState> st = storage->InitialState();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->hard_state.term, 1u);
  EXPECT_EQ(st->hard_state.vote, 1u);
}

raft::Message Hs(uint64_t term, uint64_t vote, uint64_t commit) {
  raft::Message m;
  m.type = raft::MessageType::kMsgStorageAppend;
  m.to = raft::kLocalAppendThread;
  m.term = term;
  m.vote = vote;
  m.commit = commit;
  return m;
}

// One sync per batch, on the last message that carries entries; a batch that
// ends with a commit-only message must still sync its entries (it did not:
// the sync was asked of the last message, and DiskStorage does not sync an
// empty append).
TEST(LogWriter, SyncPlanSyncsTheLastEntriesOfABatch) {
  raft::HardState last{1, 1, 0};
  EXPECT_EQ(SyncPlan({Append(1, 1, 2, 0, 0), Append(1, 3, 2, 0, 1), Append(1, 5, 2, 0, 2)}, &last),
            (std::vector<bool>{false, false, true}));
  EXPECT_EQ(SyncPlan({Append(1, 7, 2, 0, 0), Hs(1, 1, 8)}, &last), (std::vector<bool>{true, false}));
  EXPECT_EQ(SyncPlan({Hs(1, 1, 9)}, &last), (std::vector<bool>{false}));
  // A new term or vote alone needs its sync.
  EXPECT_EQ(SyncPlan({Hs(2, 0, 9)}, &last), (std::vector<bool>{true}));
  EXPECT_EQ(SyncPlan({Hs(2, 3, 9)}, &last), (std::vector<bool>{true}));
  // After the last entries, a message syncs only for its own sake.
  EXPECT_EQ(SyncPlan({Append(2, 9, 1, 9, 0), Hs(3, 3, 9)}, &last), (std::vector<bool>{true, true}));
  // A term change before the entries is covered by their sync.
  EXPECT_EQ(SyncPlan({Hs(4, 0, 9), Append(4, 10, 1, 9, 0), Hs(4, 1, 10)}, &last),
            (std::vector<bool>{false, true, false}));
  EXPECT_EQ(last, (raft::HardState{4, 1, 10}));
}

TEST(LogWriter, MemoryStorage) {
  raft::MemoryStorage storage;
  WriterDeliversInOrder(&storage);
}

TEST(LogWriter, DiskStorageSurvivesReopen) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("log-writer-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    Result<std::unique_ptr<engine::DiskStorage>> disk = engine::DiskStorage::Open(dir.string());
    ASSERT_TRUE(disk.ok()) << disk.status().ToString();
    WriterDeliversInOrder(disk->get());
    // What a crash would leave: no Close().
    (*disk)->Abandon();
  }
  Result<std::unique_ptr<engine::DiskStorage>> disk = engine::DiskStorage::Open(dir.string());
  ASSERT_TRUE(disk.ok()) << disk.status().ToString();
  Result<uint64_t> last = (*disk)->LastIndex();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 500u);
  disk->reset();
  std::filesystem::remove_all(dir);
}

TEST(LogWriter, FailureIsReportedOnce) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("log-writer-fail-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  Result<std::unique_ptr<engine::DiskStorage>> disk = engine::DiskStorage::Open(dir.string());
  ASSERT_TRUE(disk.ok()) << disk.status().ToString();
  std::atomic<int> errors{0}, done{0};
  std::unique_ptr<LogWriter> w = NewThreadedLogWriter(
      disk->get(), [&](std::vector<raft::Message>) { done++; },
      [&](const Status&) { errors++; });
  // An append with a gap (index 5 on an empty log) is refused by the storage.
  w->Submit(Append(1, 5, 1, 0, 0));
  w->Submit(Append(1, 1, 1, 0, 1));
  w->Stop();
  EXPECT_EQ(errors.load(), 1);
  EXPECT_EQ(done.load(), 0);
  disk->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace raftlog::engine
