// Faults and crashes under the LogEngine: a full disk at preallocation, a
// failed fdatasync, a failure at every I/O step of every write operation
// followed by a power loss, and random workloads with power losses. After
// each, a reopen must give a valid log holding every acknowledged entry and
// nothing that was never written.

#include <gtest/gtest.h>

#include <cerrno>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "raftlog/engine/log_engine.h"
#include "tests/testutil/fault_file_system.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::engine {
namespace {

using testutil::FaultFileSystem;
using testutil::FsOp;
using testutil::PowerLossMode;

struct ModelEntry {
  uint64_t term;
  std::string data;
  bool operator==(const ModelEntry&) const = default;
};

// What the log must hold: entries [first, first + ents.size()).
struct Model {
  uint64_t first = 1;
  uint64_t prev_term = 0;
  std::vector<ModelEntry> ents;
  std::map<std::string, std::string> state;

  uint64_t last() const { return first - 1 + ents.size(); }
  bool operator==(const Model&) const = default;

  void Append(uint64_t index, const std::vector<ModelEntry>& batch) {
    ents.resize(index - first);
    ents.insert(ents.end(), batch.begin(), batch.end());
  }
  uint64_t TermAt(uint64_t index) const {
    return index == first - 1 ? prev_term : ents[index - first].term;
  }
  void Compact(uint64_t new_first) {
    prev_term = TermAt(new_first - 1);
    ents.erase(ents.begin(), ents.begin() + static_cast<std::ptrdiff_t>(new_first - first));
    first = new_first;
  }
  void Reset(uint64_t index, uint64_t term) {
    first = index + 1;
    prev_term = term;
    ents.clear();
  }
};

void PrintTo(const Model& m, std::ostream* os) {
  *os << "log [" << m.first << ", " << m.last() << "] prev_term " << m.prev_term << " terms";
  for (const auto& e : m.ents) *os << " " << e.term;
  for (const auto& [k, v] : m.state) *os << " " << k << "=" << v;
}

// Reads the whole log back into a Model (state keys from `keys`).
Result<Model> ReadBack(LogEngine* e, const std::vector<std::string>& keys) {
  Model m;
  m.first = e->FirstIndex();
  RAFTLOG_ASSIGN_OR_RETURN(m.prev_term, e->Term(m.first - 1));
  Status s = e->Read(m.first, e->LastIndex() + 1, [&](const format::EntryView& v) {
    m.ents.push_back(ModelEntry{v.term, std::string(v.data)});
    return true;
  });
  RAFTLOG_RETURN_IF_ERROR(s);
  for (const auto& k : keys) {
    RAFTLOG_ASSIGN_OR_RETURN(auto v, e->GetState(k));
    if (v) m.state[k] = *v;
  }
  return m;
}

std::vector<ModelEntry> MakeBatch(std::mt19937_64& rng, size_t n, uint64_t term, size_t max_size) {
  std::vector<ModelEntry> out;
  for (size_t k = 0; k < n; ++k) {
    std::string data(rng() % (max_size + 1), '\0');
    for (char& c : data) c = static_cast<char>('a' + rng() % 26);
    out.push_back(ModelEntry{term, std::move(data)});
  }
  return out;
}

Status AppendBatch(LogEngine* e, uint64_t index, const std::vector<ModelEntry>& batch) {
  std::vector<format::EntryView> views;
  for (size_t k = 0; k < batch.size(); ++k) {
    views.push_back(format::EntryView{index + k, batch[k].term, 0, batch[k].data});
  }
  return e->Append(views, {});
}

class FaultTest : public ::testing::Test {
 protected:
  FaultTest() {
    options_.file_system = fs_holder_.get();
    options_.segment_bytes = 64 << 10;
    // No background thread: every I/O happens inside the call under test, so
    // "fail the nth call" is deterministic.
    options_.prepared_segments = 0;
    options_.compression_mode = CompressionMode::kOff;
  }

  std::unique_ptr<LogEngine> Open() {
    auto e = LogEngine::Open(dir_->path(), options_);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(*e) : nullptr;
  }

  // A new directory and a new file system that knows nothing of the old one.
  void NewCase() {
    fs_holder_ = std::make_unique<FaultFileSystem>();
    options_.file_system = fs_holder_.get();
    dir_ = std::make_unique<testutil::TempDir>("fault");
  }

  std::unique_ptr<FaultFileSystem> fs_holder_ = std::make_unique<FaultFileSystem>();
  FaultFileSystem& fs() { return *fs_holder_; }
  std::unique_ptr<testutil::TempDir> dir_ = std::make_unique<testutil::TempDir>("fault");
  Options options_;
};

TEST_F(FaultTest, FullDiskAtPreallocationIsACleanError) {
  fs().FailAlways(FsOp::kAllocate, ENOSPC);
  auto e = Open();
  ASSERT_NE(e, nullptr);
  std::mt19937_64 rng(1);
  const auto batch = MakeBatch(rng, 4, 1, 100);
  const Status s = AppendBatch(e.get(), 1, batch);
  ASSERT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ(s.errno_value(), ENOSPC);
  EXPECT_NE(s.message().find("preparing segment"), std::string::npos) << s.ToString();
  EXPECT_EQ(e->LastIndex(), 0u);
  // Space comes back: the same engine goes on.
  fs().ClearFaults();
  ASSERT_TRUE(AppendBatch(e.get(), 1, batch).ok());
  EXPECT_EQ(e->LastIndex(), 4u);
}

TEST_F(FaultTest, FullDiskAtASegmentRollLosesNothing) {
  auto e = Open();
  std::mt19937_64 rng(2);
  Model model;
  // Fill most of the first segment.
  while (model.last() < 40) {
    auto batch = MakeBatch(rng, 4, 1, 1000);
    ASSERT_TRUE(AppendBatch(e.get(), model.last() + 1, batch).ok());
    model.Append(model.last() + 1, batch);
  }
  fs().FailAlways(FsOp::kAllocate, ENOSPC);
  Status s;
  while (s.ok()) {
    auto batch = MakeBatch(rng, 4, 1, 1000);
    s = AppendBatch(e.get(), model.last() + 1, batch);
    if (s.ok()) model.Append(model.last() + 1, batch);
  }
  EXPECT_EQ(s.errno_value(), ENOSPC) << s.ToString();
  EXPECT_EQ(*ReadBack(e.get(), {}), model);
  fs().ClearFaults();
  auto batch = MakeBatch(rng, 4, 2, 1000);
  ASSERT_TRUE(AppendBatch(e.get(), model.last() + 1, batch).ok());
  model.Append(model.last() + 1, batch);
  e.reset();
  e = Open();
  EXPECT_EQ(*ReadBack(e.get(), {}), model);
}

TEST_F(FaultTest, FailedFdatasyncRefusesFurtherWrites) {
  auto e = Open();
  std::mt19937_64 rng(3);
  Model model;
  auto first = MakeBatch(rng, 5, 1, 50);
  ASSERT_TRUE(AppendBatch(e.get(), 1, first).ok());
  model.Append(1, first);
  fs().FailNth(FsOp::kSync, 1, EIO);
  auto second = MakeBatch(rng, 5, 1, 50);
  const Status s = AppendBatch(e.get(), 6, second);
  ASSERT_TRUE(s.IsIOError()) << s.ToString();
  // The engine cannot know what reached the disk: it refuses every write.
  const Status again = AppendBatch(e.get(), 6, second);
  EXPECT_TRUE(again.IsFailedPrecondition()) << again.ToString();
  EXPECT_NE(again.message().find("refuses writes"), std::string::npos);
  EXPECT_TRUE(e->TruncatePrefix(2).IsFailedPrecondition());
  EXPECT_TRUE(e->PutState({{"k", "v"}}).IsFailedPrecondition());
  // What was acknowledged is still readable.
  EXPECT_EQ(e->LastIndex(), 5u);
  EXPECT_EQ(*ReadBack(e.get(), {}), model);
  // After a power loss and a reopen the acknowledged entries are there; the
  // failed batch may or may not be.
  ASSERT_TRUE(fs().SimulatePowerLoss().ok());
  e->Abandon();
  e.reset();
  e = Open();
  Model got = *ReadBack(e.get(), {});
  Model with_second = model;
  with_second.Append(6, second);
  EXPECT_TRUE(got == model || got == with_second);
}

// One write operation on a log built by `setup`, with the outcomes that are
// acceptable if it fails part way (beyond "not at all").
struct Operation {
  std::string name;
  std::function<void(LogEngine*, Model*, std::mt19937_64*)> setup;
  // Runs the operation; fills *after with the model if it succeeds and adds
  // acceptable partial outcomes to *partial.
  std::function<Status(LogEngine*, const Model& before, Model* after, std::vector<Model>* partial)>
      run;
};

void BuildLog(LogEngine* e, Model* m, std::mt19937_64* rng, uint64_t n, size_t size) {
  uint64_t term = m->ents.empty() ? 1 : m->ents.back().term;
  while (m->last() < n) {
    auto batch = MakeBatch(*rng, 1 + (*rng)() % 6, term, size);
    ASSERT_TRUE(AppendBatch(e, m->last() + 1, batch).ok());
    m->Append(m->last() + 1, batch);
    if ((*rng)() % 5 == 0) ++term;
  }
}

// An append at `index` fails part way: the log may hold the old log cut at
// index-1 plus any prefix of the batch (a prefix of frames reached the disk).
Operation AppendAt(std::string name, uint64_t base_len, std::function<uint64_t(const Model&)> at,
                   size_t n, size_t size) {
  Operation op;
  op.name = std::move(name);
  op.setup = [=](LogEngine* e, Model* m, std::mt19937_64* rng) {
    BuildLog(e, m, rng, base_len, size);
  };
  op.run = [=](LogEngine* e, const Model& before, Model* after, std::vector<Model>* partial) {
    std::mt19937_64 rng(99);
    const uint64_t index = at(before);
    const uint64_t term = before.ents.empty() ? 1 : before.ents.back().term + 1;
    auto batch = MakeBatch(rng, n, term, size);
    for (size_t j = 0; j <= batch.size(); ++j) {
      Model m = before;
      m.Append(index, std::vector<ModelEntry>(batch.begin(), batch.begin() + j));
      partial->push_back(m);
    }
    *after = before;
    after->Append(index, batch);
    return AppendBatch(e, index, batch);
  };
  return op;
}

std::vector<Operation> Operations() {
  std::vector<Operation> ops;
  ops.push_back(AppendAt(
      "append", 10, [](const Model& m) { return m.last() + 1; }, 3, 200));
  ops.push_back(AppendAt(
      "append across a segment roll", 110, [](const Model& m) { return m.last() + 1; }, 30, 1000));
  ops.push_back(AppendAt(
      "truncating append in the active segment", 20, [](const Model& m) { return m.last() - 5; }, 4,
      200));
  ops.push_back(AppendAt(
      "truncating append into a sealed segment", 150, [](const Model&) { return 30; }, 4, 1000));
  Operation compact;
  compact.name = "compact";
  compact.setup = [](LogEngine* e, Model* m, std::mt19937_64* rng) {
    BuildLog(e, m, rng, 150, 1000);
  };
  compact.run = [](LogEngine* e, const Model& before, Model* after, std::vector<Model>*) {
    *after = before;
    after->Compact(140);
    after->state["snap"] = "140";
    return e->TruncatePrefix(140, {{"snap", "140"}});
  };
  ops.push_back(compact);
  Operation reset;
  reset.name = "reset";
  reset.setup = compact.setup;
  reset.run = [](LogEngine* e, const Model& before, Model* after, std::vector<Model>*) {
    *after = before;
    after->Reset(1000, 9);
    after->state["snap"] = "1000";
    return e->Reset(1000, 9, {{"snap", "1000"}});
  };
  ops.push_back(reset);
  Operation state;
  state.name = "put state";
  state.setup = [](LogEngine* e, Model* m, std::mt19937_64* rng) { BuildLog(e, m, rng, 5, 10); };
  state.run = [](LogEngine* e, const Model& before, Model* after, std::vector<Model>*) {
    *after = before;
    after->state["snap"] = "x";
    return e->PutState({{"snap", "x"}});
  };
  ops.push_back(state);
  return ops;
}

TEST_F(FaultTest, FailureAtEveryStepOfEveryOperationThenPowerLoss) {
  int cases = 0;
  for (const Operation& op : Operations()) {
    // First count the operation's I/O calls, then fail each in turn.
    uint64_t steps = 0;
    for (uint64_t k = 0; k <= steps * 3; ++k) {
      // Each step fails once per kind of power loss that follows it.
      const auto mode = static_cast<PowerLossMode>(k % 3);
      const uint64_t step = k == 0 ? 0 : (k + 2) / 3;
      SCOPED_TRACE(op.name + ", failing step " + std::to_string(step) + " of " +
                   std::to_string(steps) + ", power loss mode " + std::to_string(k % 3));
      NewCase();
      std::mt19937_64 rng(7);
      Model before;
      auto e = Open();
      ASSERT_NE(e, nullptr);
      op.setup(e.get(), &before, &rng);
      fs().ResetCounters();
      if (step > 0) fs().FailNth(FsOp::kAny, step, step % 2 ? EIO : ENOSPC);
      Model after;
      std::vector<Model> partial;
      const Status s = op.run(e.get(), before, &after, &partial);
      if (k == 0) {
        ASSERT_TRUE(s.ok()) << s.ToString();
        steps = fs().calls(FsOp::kAny);
      }
      fs().ClearFaults();
      // The instance answers reads consistently whatever happened.
      auto live = ReadBack(e.get(), {"snap"});
      ASSERT_TRUE(live.ok()) << live.status().ToString();
      if (s.ok()) {
        EXPECT_EQ(*live, after);
      }
      // Power fails: every thread of the engine stops at once (Abandon: the
      // sealer's commit of a seal in flight does not land after the disk
      // lost what was not synced), and what is on disk is what the reopened
      // log holds.
      e->Abandon();
      ASSERT_TRUE(fs().SimulatePowerLoss(mode, k).ok());
      e.reset();
      e = Open();
      ASSERT_NE(e, nullptr) << "reopen after failing step " << step;
      auto got = ReadBack(e.get(), {"snap"});
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      if (s.ok()) {
        EXPECT_EQ(*got, after);
      } else {
        bool acceptable = *got == before || *got == after;
        for (const Model& m : partial) acceptable = acceptable || *got == m;
        EXPECT_TRUE(acceptable) << "failed with " << s.ToString() << "; log now [" << got->first
                                << ", " << got->last() << "]";
      }
      // And it takes new writes.
      std::mt19937_64 more_rng(11);
      const uint64_t term = got->ents.empty() ? got->prev_term : got->ents.back().term;
      ASSERT_TRUE(AppendBatch(e.get(), got->last() + 1, MakeBatch(more_rng, 3, term, 50)).ok());
      ++cases;
    }
  }
  RecordProperty("cases", cases);
}

// Random workloads on a log with power losses of every kind between
// operations: acknowledged writes survive exactly (sync on every append).
TEST_F(FaultTest, RandomWorkloadsSurvivePowerLoss) {
  int rounds = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    NewCase();
    std::mt19937_64 rng(seed);
    Model model;
    auto e = Open();
    for (int step = 0; step < 60; ++step) {
      const uint64_t r = rng() % 100;
      const uint64_t term = model.ents.empty() ? model.prev_term + 1 : model.ents.back().term;
      if (r < 60 || model.ents.empty()) {
        // Append, sometimes over the tail with a new term.
        uint64_t at = model.last() + 1;
        uint64_t t = term;
        if (r < 15 && model.last() >= model.first) {
          at = model.first + rng() % (model.last() - model.first + 1);
          t = term + 1;
        }
        auto batch = MakeBatch(rng, 1 + rng() % 20, t, rng() % 4 == 0 ? 3000 : 200);
        ASSERT_TRUE(AppendBatch(e.get(), at, batch).ok());
        model.Append(at, batch);
      } else if (r < 75) {
        const uint64_t to = model.first + rng() % (model.last() - model.first + 2);
        ASSERT_TRUE(e->TruncatePrefix(to).ok());
        model.Compact(to);
      } else if (r < 80) {
        const uint64_t index = model.last() + rng() % 50;
        ASSERT_TRUE(e->Reset(index, term + 1, {}).ok());
        model.Reset(index, term + 1);
      } else {
        const auto mode = static_cast<PowerLossMode>(rng() % 3);
        const Status lost = fs().SimulatePowerLoss(mode, rng());
        ASSERT_TRUE(lost.ok()) << lost.ToString();
        e->Abandon();
        e.reset();
        e = Open();
        ASSERT_NE(e, nullptr);
        ++rounds;
      }
      auto got = ReadBack(e.get(), {});
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(*got, model) << "after step " << step;
    }
  }
  RecordProperty("power_losses", rounds);
}

}  // namespace
}  // namespace raftlog::engine
