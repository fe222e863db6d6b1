#include "tests/reliability/storage_model.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <utility>

#include "raftlog/raft/storage.h"

namespace raftlog::reliability {

using raft::Entry;
using raft::HardState;

uint64_t StorageState::TermAt(uint64_t index) const {
  RAFTLOG_CHECK_MSG(index + 1 >= first && index <= last(),
                    "model: term of " + std::to_string(index) + " outside the log");
  return index + 1 == first ? prev_term : entries[index - first].term;
}

void StorageState::Append(std::span<const Entry> batch) {
  if (batch.empty()) return;
  // MemoryStorage: the part at or below the compaction point is ignored.
  if (batch.front().index + batch.size() - 1 < first) return;
  if (batch.front().index < first) batch = batch.subspan(first - batch.front().index);
  RAFTLOG_CHECK_MSG(batch.front().index <= last() + 1, "model: append leaves a gap");
  entries.resize(batch.front().index - first);
  entries.insert(entries.end(), batch.begin(), batch.end());
}

void StorageState::SetHardState(const HardState& hs) {
  term = hs.term;
  vote = hs.vote;
  commit = hs.commit;
}

void StorageState::Compact(uint64_t index) {
  RAFTLOG_CHECK_MSG(index >= first && index <= last(), "model: bad compaction");
  prev_term = TermAt(index);
  entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(index + 1 - first));
  first = index + 1;
}

void StorageState::CreateSnapshot(uint64_t index, const raft::ConfState* conf_state,
                                  std::string data) {
  snapshot.metadata.index = index;
  snapshot.metadata.term = TermAt(index);
  if (conf_state != nullptr) snapshot.metadata.conf_state = *conf_state;
  snapshot.data = std::move(data);
}

void StorageState::ApplySnapshot(const raft::Snapshot& snap) {
  snapshot = snap;
  first = snap.metadata.index + 1;
  prev_term = snap.metadata.term;
  entries.clear();
}

void StorageState::Save(const HardState& hs, std::span<const Entry> batch,
                        const raft::Snapshot* snap) {
  if (snap != nullptr && !raft::IsEmptySnap(*snap)) ApplySnapshot(*snap);
  if (!raft::IsEmptyHardState(hs)) SetHardState(hs);
  Append(batch);
}

bool SameContents(const StorageState& a, const StorageState& b) {
  return a.first == b.first && a.prev_term == b.prev_term && a.entries == b.entries &&
         a.term == b.term && a.vote == b.vote && a.snapshot == b.snapshot;
}

std::string Describe(const StorageState& s) {
  std::ostringstream out;
  out << "log [" << s.first << ", " << s.last() << "] prev_term " << s.prev_term;
  if (!s.entries.empty()) {
    out << " terms";
    size_t k = 0;
    while (k < s.entries.size()) {
      size_t run = 1;
      while (k + run < s.entries.size() && s.entries[k + run].term == s.entries[k].term) ++run;
      out << " " << s.entries[k].term << "x" << run;
      k += run;
    }
  }
  out << ", hs " << s.term << "/" << s.vote << "/" << s.commit << ", snapshot "
      << s.snapshot.metadata.index << "/" << s.snapshot.metadata.term << " ("
      << s.snapshot.data.size() << " bytes, " << s.snapshot.metadata.conf_state.voters.size()
      << " voters)";
  return out.str();
}

Result<StorageState> ReadState(const engine::DiskStorage& storage) {
  StorageState s;
  RAFTLOG_ASSIGN_OR_RETURN(s.first, storage.FirstIndex());
  RAFTLOG_ASSIGN_OR_RETURN(uint64_t last, storage.LastIndex());
  RAFTLOG_ASSIGN_OR_RETURN(s.prev_term, storage.Term(s.first - 1));
  if (last >= s.first) {
    RAFTLOG_ASSIGN_OR_RETURN(s.entries, storage.Entries(s.first, last + 1, raft::kNoLimit));
  }
  if (s.last() != last) {
    return Status::Corruption("Entries returned " + std::to_string(s.entries.size()) +
                              " entries for [" + std::to_string(s.first) + ", " +
                              std::to_string(last) + "]");
  }
  // Term() must agree with the entries (it answers from the index, Entries
  // from the frames).
  for (const Entry& e : s.entries) {
    RAFTLOG_ASSIGN_OR_RETURN(uint64_t t, storage.Term(e.index));
    if (t != e.term) {
      return Status::Corruption("Term(" + std::to_string(e.index) + ") = " + std::to_string(t) +
                                " but the entry has term " + std::to_string(e.term));
    }
  }
  RAFTLOG_ASSIGN_OR_RETURN(raft::StoredState initial, storage.InitialState());
  s.term = initial.hard_state.term;
  s.vote = initial.hard_state.vote;
  s.commit = initial.hard_state.commit;
  RAFTLOG_ASSIGN_OR_RETURN(s.snapshot, storage.Snapshot());
  if (!(initial.conf_state == s.snapshot.metadata.conf_state)) {
    return Status::Corruption("InitialState's ConfState differs from the snapshot's");
  }
  return s;
}

bool Outcomes::Accepts(const StorageState& got, bool succeeded) const {
  if (SameContents(got, after)) return true;
  if (succeeded) return false;
  return std::any_of(partial.begin(), partial.end(),
                     [&](const StorageState& s) { return SameContents(got, s); });
}

namespace {

// Appends the states of writing `batch` after `state` (already holding any
// snapshot and HardState of the call): the suffix cut, then each prefix.
void AddAppendSteps(StorageState state, std::span<const Entry> batch,
                    std::vector<StorageState>* out) {
  if (batch.empty() || batch.front().index + batch.size() - 1 < state.first) return;
  if (batch.front().index < state.first) batch = batch.subspan(state.first - batch.front().index);
  if (batch.front().index <= state.last()) {
    state.entries.resize(batch.front().index - state.first);
    out->push_back(state);
  }
  for (size_t j = 1; j <= batch.size(); ++j) {
    StorageState s = state;
    s.Append(batch.subspan(0, j));
    out->push_back(std::move(s));
  }
}

Outcomes Single(const StorageState& before, StorageState after) {
  Outcomes o;
  o.after = std::move(after);
  o.partial.push_back(before);
  return o;
}

}  // namespace

Outcomes SaveOutcomes(const StorageState& before, const HardState& hs, std::span<const Entry> batch,
                      const raft::Snapshot* snapshot) {
  Outcomes o;
  o.partial.push_back(before);
  StorageState s = before;
  if (snapshot != nullptr && !raft::IsEmptySnap(*snapshot)) {
    s.ApplySnapshot(*snapshot);
    o.partial.push_back(s);
  }
  if (!raft::IsEmptyHardState(hs)) {
    s.SetHardState(hs);
    o.partial.push_back(s);
  }
  AddAppendSteps(s, batch, &o.partial);
  o.after = before;
  o.after.Save(hs, batch, snapshot);
  return o;
}

Outcomes AppendOutcomes(const StorageState& before, std::span<const Entry> batch) {
  Outcomes o;
  o.partial.push_back(before);
  AddAppendSteps(before, batch, &o.partial);
  o.after = before;
  o.after.Append(batch);
  return o;
}

Outcomes CompactOutcomes(const StorageState& before, uint64_t index) {
  StorageState after = before;
  after.Compact(index);
  return Single(before, std::move(after));
}

Outcomes CreateSnapshotOutcomes(const StorageState& before, uint64_t index,
                                const raft::ConfState* conf_state, const std::string& data) {
  StorageState after = before;
  after.CreateSnapshot(index, conf_state, data);
  return Single(before, std::move(after));
}

Outcomes ApplySnapshotOutcomes(const StorageState& before, const raft::Snapshot& snapshot) {
  StorageState after = before;
  after.ApplySnapshot(snapshot);
  return Single(before, std::move(after));
}

::testing::AssertionResult CheckInvariants(const StorageState& got, const CommitBounds& bounds) {
  const uint64_t cap = std::max(got.last(), got.snapshot.metadata.index);
  if (got.commit > cap) {
    return ::testing::AssertionFailure()
           << "commit " << got.commit << " beyond the log: " << Describe(got);
  }
  if (got.commit < got.snapshot.metadata.index) {
    return ::testing::AssertionFailure()
           << "commit " << got.commit << " below the snapshot " << got.snapshot.metadata.index
           << " (raft could not start): " << Describe(got);
  }
  // A reopen raises the commit index to the snapshot's.
  if (got.commit > std::max(bounds.highest, got.snapshot.metadata.index)) {
    return ::testing::AssertionFailure() << "commit " << got.commit << " was never written "
                                         << "(highest " << bounds.highest << "): " << Describe(got);
  }
  if (got.commit < std::min(bounds.durable(), got.last())) {
    return ::testing::AssertionFailure()
           << "commit " << got.commit << " below the durable " << bounds.durable() << " (LMDB "
           << bounds.lmdb << ", hints " << bounds.hint << "): " << Describe(got);
  }
  for (const Entry& e : got.entries) {
    if (e.term > got.term) {
      return ::testing::AssertionFailure()
             << "entry " << e.index << " has term " << e.term << ", newer than the HardState's "
             << got.term << ": " << Describe(got);
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult CheckOutcome(const StorageState& got, const Outcomes& outcomes,
                                        bool succeeded, const CommitBounds& bounds) {
  if (!outcomes.Accepts(got, succeeded)) {
    auto failure = ::testing::AssertionFailure();
    failure << "unexpected state after a call that " << (succeeded ? "succeeded" : "failed")
            << ":\n  got      " << Describe(got) << "\n  expected " << Describe(outcomes.after);
    if (!succeeded) {
      for (const StorageState& s : outcomes.partial) failure << "\n        or " << Describe(s);
    }
    return failure;
  }
  return CheckInvariants(got, bounds);
}

void NoteAttempt(const HardState& hs, CommitBounds* bounds) {
  bounds->highest = std::max(bounds->highest, hs.commit);
}

namespace {

// An LMDB commit writes the pending commit index.
void FlushPending(CommitBounds* bounds) {
  if (bounds->pending) bounds->lmdb = std::max(bounds->lmdb, *bounds->pending);
  bounds->pending.reset();
}

}  // namespace

void BoundsAfterReopen(uint64_t commit, CommitBounds* bounds) {
  // Open writes a commit index it recovered (from hints, or raised to the
  // snapshot's) to LMDB; one LMDB already held needs nothing.
  bounds->lmdb = kRecoveredCommitIsDurable ? commit : 0;
  bounds->hint = 0;
  bounds->highest = std::max(bounds->highest, commit);
  bounds->pending.reset();
}

void AcknowledgeSave(const HardState& hs, std::span<const Entry> batch,
                     const raft::Snapshot* snapshot, bool must_sync, StorageState* model,
                     CommitBounds* bounds) {
  // The order of DiskStorage::Save: the snapshot with the HardState (one
  // LMDB commit that also drops every segment, hints included), or else the
  // HardState; then the entries.
  const bool with_snapshot = snapshot != nullptr && !raft::IsEmptySnap(*snapshot);
  if (with_snapshot) {
    FlushPending(bounds);
    bounds->hint = 0;
    if (!raft::IsEmptyHardState(hs)) bounds->lmdb = std::max(bounds->lmdb, hs.commit);
  } else if (!raft::IsEmptyHardState(hs) && !(hs == model->hard_state())) {
    if (hs.term != model->term || hs.vote != model->vote) {
      // The whole HardState is committed to LMDB, with any pending state.
      bounds->pending.reset();
      bounds->lmdb = std::max(bounds->lmdb, hs.commit);
    } else {
      bounds->pending = hs.commit;
    }
  }
  model->Save(hs, batch, snapshot);
  if (must_sync && !batch.empty() && batch.back().index >= model->first) {
    bounds->hint = std::max(bounds->hint, model->commit);
  }
}

void AcknowledgeMetaCall(StorageState after, bool drops_log, StorageState* model,
                         CommitBounds* bounds) {
  FlushPending(bounds);
  if (drops_log) bounds->hint = 0;
  *model = std::move(after);
}

std::vector<Entry> MakeEntries(std::mt19937_64& rng, uint64_t first, uint64_t n, uint64_t term,
                               size_t max_bytes) {
  std::vector<Entry> out;
  out.reserve(n);
  for (uint64_t i = first; i < first + n; ++i) {
    Entry e;
    e.term = term;
    e.index = i;
    e.type = rng() % 8 == 0 ? raft::EntryType::kConfChange : raft::EntryType::kNormal;
    const size_t bytes = rng() % 5 == 0 ? 0 : rng() % (max_bytes + 1);
    std::string data(bytes, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    e.data = std::move(data);
    out.push_back(std::move(e));
  }
  return out;
}

// --- Harness ---------------------------------------------------------------

Harness::Harness(std::string_view name)
    : dir_(std::make_unique<testutil::TempDir>(name, testutil::TempDir::InMemoryBase())),
      fs_(std::make_unique<testutil::FaultFileSystem>()) {
  options_.engine.file_system = fs_.get();
  options_.engine.segment_bytes = 64 << 10;
  options_.engine.prepared_segments = 0;
}

Harness::~Harness() {
  // The storage goes before the file system it uses.
  storage_.reset();
  fs_.reset();
}

Status Harness::Open() {
  storage_.reset();
  auto opened = engine::DiskStorage::Open(dir_->Sub("log"), options_);
  if (!opened.ok()) return opened.status();
  storage_ = std::move(*opened);
  return Status::OK();
}

Status Harness::Close() {
  if (storage_ == nullptr) return Status::OK();
  Status s = storage_->Close();
  if (s.ok()) FlushPending(&bounds_);
  storage_.reset();
  return s;
}

void Harness::Abandon() {
  if (storage_ == nullptr) return;
  storage_->Abandon();
  storage_.reset();
}

void Harness::PowerLossAndReopen(testutil::PowerLossMode mode, uint64_t seed,
                                 const Outcomes& outcomes, bool succeeded) {
  Abandon();
  fs_->ClearFaults();
  const Status lost = fs_->SimulatePowerLoss(mode, seed);
  ASSERT_TRUE(lost.ok()) << lost.ToString();
  const Status opened = Open();
  ASSERT_TRUE(opened.ok()) << "reopen after a power loss: " << opened.ToString();
  auto got = Read();
  ASSERT_TRUE(got.ok()) << "reading after a power loss: " << got.status().ToString();
  ASSERT_TRUE(CheckOutcome(*got, outcomes, succeeded, bounds_));
  // What is on disk now is what the next power loss starts from.
  model_ = *got;
  BoundsAfterReopen(got->commit, &bounds_);
}

Status Harness::Save(const HardState& hs, std::span<const Entry> batch,
                     const raft::Snapshot* snapshot, bool must_sync, Outcomes* outcomes) {
  Outcomes o = SaveOutcomes(model_, hs, batch, snapshot);
  NoteAttempt(hs, &bounds_);
  const Status s = storage_->Save(hs, batch, snapshot, must_sync);
  if (s.ok()) AcknowledgeSave(hs, batch, snapshot, must_sync, &model_, &bounds_);
  if (outcomes != nullptr) *outcomes = std::move(o);
  return s;
}

Status Harness::Compact(uint64_t index, Outcomes* outcomes) {
  Outcomes o = CompactOutcomes(model_, index);
  const Status s = storage_->Compact(index);
  if (s.ok()) AcknowledgeMetaCall(o.after, /*drops_log=*/false, &model_, &bounds_);
  if (outcomes != nullptr) *outcomes = std::move(o);
  return s;
}

Status Harness::CreateSnapshot(uint64_t index, const raft::ConfState* conf_state, std::string data,
                               Outcomes* outcomes) {
  Outcomes o = CreateSnapshotOutcomes(model_, index, conf_state, data);
  auto s = storage_->CreateSnapshot(index, conf_state, std::move(data));
  if (s.ok()) {
    if (!(*s == o.after.snapshot)) {
      return Status::Corruption("CreateSnapshot returned a snapshot other than the model's");
    }
    AcknowledgeMetaCall(o.after, /*drops_log=*/false, &model_, &bounds_);
  }
  if (outcomes != nullptr) *outcomes = std::move(o);
  return s.status();
}

Status Harness::ApplySnapshot(const raft::Snapshot& snapshot, Outcomes* outcomes) {
  Outcomes o = ApplySnapshotOutcomes(model_, snapshot);
  const Status s = storage_->ApplySnapshot(snapshot);
  if (s.ok()) AcknowledgeMetaCall(o.after, /*drops_log=*/true, &model_, &bounds_);
  if (outcomes != nullptr) *outcomes = std::move(o);
  return s;
}

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  return std::strtoull(value, nullptr, 10);
}

}  // namespace raftlog::reliability
