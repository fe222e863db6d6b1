// Model-based randomized test: random operation sequences (appends that
// overlap the tail, compactions, snapshots created and applied, HardState
// changes, Save of whole Readys, close/reopen) applied to MemoryStorage (the
// model, etcd's semantics) and DiskStorage side by side, comparing every
// reader result after every step. Seeded and reproducible: a failure names
// its seed and step; RAFTLOG_MODEL_SEQUENCES raises the count (soak runs).

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/raft/memory_storage.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::engine {
namespace {

using raft::ConfState;
using raft::Entry;
using raft::EntryType;
using raft::HardState;
using raft::MemoryStorage;
using raft::Snapshot;

int Sequences() {
  const char* env = std::getenv("RAFTLOG_MODEL_SEQUENCES");
  return env != nullptr ? std::atoi(env) : 1000;
}

class ModelTest : public ::testing::Test {
 protected:
  void OpenDisk() {
    disk_.reset();
    DiskStorageOptions options;
    options.engine.segment_bytes = 64 << 10;
    // Logic, not durability, is under test here: no fsync waits.
    options.engine.sync = SyncPolicy::kNever;
    auto s = DiskStorage::Open(dir_->path(), options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    disk_ = std::move(*s);
  }

  // Every reader result must agree.
  void Compare(const std::string& where) {
    SCOPED_TRACE(where);
    const uint64_t first = *model_->FirstIndex(), last = *model_->LastIndex();
    ASSERT_EQ(*disk_->FirstIndex(), first);
    ASSERT_EQ(*disk_->LastIndex(), last);
    auto ms = model_->InitialState(), ds = disk_->InitialState();
    EXPECT_EQ(ds->hard_state.term, ms->hard_state.term);
    EXPECT_EQ(ds->hard_state.vote, ms->hard_state.vote);
    EXPECT_EQ(ds->hard_state.commit, ms->hard_state.commit);
    EXPECT_EQ(ds->conf_state, ms->conf_state);
    EXPECT_EQ(*disk_->Snapshot(), *model_->Snapshot());
    for (uint64_t i = first > 2 ? first - 2 : 0; i <= last + 1; ++i) {
      auto mt = model_->Term(i), dt = disk_->Term(i);
      ASSERT_EQ(dt.status().code(), mt.status().code()) << "Term(" << i << ")";
      if (mt.ok()) {
        ASSERT_EQ(*dt, *mt) << "Term(" << i << ")";
      }
    }
    if (last >= first) {
      // A few ranges and byte limits, including ones that cut mid-range.
      for (int k = 0; k < 4; ++k) {
        const uint64_t lo = first + rng_() % (last - first + 1);
        const uint64_t hi = lo + rng_() % (last - lo + 2);
        const uint64_t max = k == 0 ? raft::kNoLimit : rng_() % 3000;
        auto me = model_->Entries(lo, hi, max), de = disk_->Entries(lo, hi, max);
        ASSERT_EQ(de.status().code(), me.status().code()) << "Entries(" << lo << "," << hi << ")";
        if (me.ok()) {
          ASSERT_EQ(*de, *me) << "Entries(" << lo << "," << hi << "," << max << ")";
        }
      }
    }
    EXPECT_EQ(disk_->Entries(first > 0 ? first - 1 : 0, first, raft::kNoLimit).status().code(),
              model_->Entries(first > 0 ? first - 1 : 0, first, raft::kNoLimit).status().code());
  }

  std::vector<Entry> RandomBatch(uint64_t at, uint64_t term) {
    std::vector<Entry> batch(1 + rng_() % 12);
    for (size_t k = 0; k < batch.size(); ++k) {
      batch[k].index = at + k;
      batch[k].term = term;
      batch[k].type = static_cast<EntryType>(rng_() % 3);
      const size_t bytes = rng_() % 8 == 0 ? rng_() % 9000 : rng_() % 300;
      batch[k].data = std::string(bytes, static_cast<char>('a' + rng_() % 26));
    }
    return batch;
  }

  ConfState RandomConfState() {
    ConfState cs;
    for (uint64_t id = 1; id <= 5; ++id) {
      if (rng_() % 2) {
        cs.voters.push_back(id);
      } else if (rng_() % 3 == 0) {
        cs.learners.push_back(id);
      }
    }
    cs.auto_leave = rng_() % 5 == 0;
    return cs;
  }

  void RunSequence(uint64_t seed, int steps) {
    rng_.seed(seed);
    dir_ = std::make_unique<testutil::TempDir>("model", testutil::TempDir::InMemoryBase());
    model_ = std::make_unique<MemoryStorage>();
    OpenDisk();
    HardState hs;
    uint64_t term = 1;
    for (int step = 0; step < steps; ++step) {
      const std::string where = "seed " + std::to_string(seed) + " step " + std::to_string(step);
      const uint64_t first = *model_->FirstIndex(), last = *model_->LastIndex();
      const uint64_t op = rng_() % 100;
      if (op < 45) {
        // Append: at the end, or over the tail with a newer term, or partly
        // below the first index (the compacted part is skipped).
        uint64_t at = last + 1;
        // As in raft, committed entries are never replaced.
        const uint64_t lowest = std::max(first, hs.commit + 1);
        if (op < 12 && last >= lowest) {
          at = lowest + rng_() % (last - lowest + 1);
          ++term;
        } else if (op < 15 && first > 1 && hs.commit < first) {
          at = first - 1 - rng_() % std::min<uint64_t>(first - 1, 3);
        }
        // Entries below the first index keep the compacted terms' order.
        const auto batch =
            RandomBatch(at, at < first ? std::max(term, *model_->Term(first - 1)) : term);
        if (at < first && batch.front().term < *model_->Term(first - 1)) continue;
        ASSERT_TRUE(model_->Append(batch).ok());
        const Status s = disk_->Append(batch);
        ASSERT_TRUE(s.ok()) << where << ": " << s.ToString();
      } else if (op < 55) {
        if (last < first) continue;
        const uint64_t to = first + rng_() % (last - first + 1);
        ASSERT_EQ(disk_->Compact(to).code(), model_->Compact(to).code()) << where;
      } else if (op < 62) {
        // raft snapshots only applied, so committed, entries (and a reopened
        // DiskStorage takes a snapshot's index as committed).
        const uint64_t top = std::min(last, hs.commit);
        if (top < first) continue;
        const uint64_t at = first + rng_() % (top - first + 1);
        const ConfState cs = RandomConfState();
        const std::string data = "snapshot@" + std::to_string(at);
        const bool with_cs = rng_() % 2;
        auto m = model_->CreateSnapshot(at, with_cs ? &cs : nullptr, data);
        auto d = disk_->CreateSnapshot(at, with_cs ? &cs : nullptr, data);
        ASSERT_EQ(d.status().code(), m.status().code()) << where;
        if (m.ok()) {
          ASSERT_EQ(*d, *m) << where;
        }
      } else if (op < 67) {
        ++term;
        Snapshot snap;
        // raft applies only snapshots beyond its commit index.
        snap.metadata.index = hs.commit + 1 + rng_() % 20;
        snap.metadata.term = term;
        snap.metadata.conf_state = RandomConfState();
        snap.data = std::string(rng_() % 5000, 's');
        ASSERT_EQ(disk_->ApplySnapshot(snap).code(), model_->ApplySnapshot(snap).code()) << where;
        // As raft's Ready does: the commit index is at least the snapshot's.
        // (A reopened DiskStorage would raise it by itself.)
        hs.commit = std::max(hs.commit, snap.metadata.index);
        ASSERT_TRUE(model_->SetHardState(hs).ok());
        ASSERT_TRUE(disk_->SetHardState(hs).ok()) << where;
      } else if (op < 80) {
        // HardState: a new term and vote, or only a commit bump.
        if (rng_() % 2) {
          hs.term = term + rng_() % 2;
          hs.vote = rng_() % 4;
        }
        // The commit index only grows, and not past the log.
        hs.commit = std::max(hs.commit, last);
        ASSERT_TRUE(model_->SetHardState(hs).ok());
        ASSERT_TRUE(disk_->SetHardState(hs).ok()) << where;
      } else if (op < 92) {
        // A whole Ready through Save.
        hs.commit = std::max(hs.commit, last);
        const auto batch = RandomBatch(last + 1, term);
        ASSERT_TRUE(model_->Save(hs, batch, nullptr, true).ok());
        const Status s = disk_->Save(hs, batch, nullptr, true);
        ASSERT_TRUE(s.ok()) << where << ": " << s.ToString();
      } else {
        OpenDisk();
      }
      Compare(where);
      if (HasFatalFailure()) return;
    }
  }

  std::mt19937_64 rng_;
  std::unique_ptr<testutil::TempDir> dir_;
  std::unique_ptr<MemoryStorage> model_;
  std::unique_ptr<DiskStorage> disk_;
};

TEST_F(ModelTest, RandomSequencesAgreeWithMemoryStorage) {
  const int sequences = Sequences();
  for (int seed = 1; seed <= sequences; ++seed) {
    RunSequence(static_cast<uint64_t>(seed), 30);
    if (HasFatalFailure()) return;
  }
  RecordProperty("sequences", sequences);
}

TEST_F(ModelTest, LongSequences) {
  for (uint64_t seed = 100001; seed <= 100005; ++seed) {
    RunSequence(seed, 600);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace raftlog::engine
