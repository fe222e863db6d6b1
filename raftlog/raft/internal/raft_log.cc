#include "raftlog/raft/internal/raft_log.h"

#include <algorithm>
#include <cinttypes>
#include <iterator>
#include <utility>

namespace raftlog::raft::internal {

namespace {

uint64_t EntsSize(std::span<const Entry> ents) {
  uint64_t size = 0;
  for (const Entry& e : ents) size += EntrySize(e);
  return size;
}

// An error's text as Go's %v prints it: the message alone (our Storage
// errors carry etcd's texts, e.g. "requested index is unavailable due to
// compaction").
std::string ErrText(const Status& status) { return std::string(status.message()); }

}  // namespace

RaftLog RaftLog::NewLog(const Storage& storage, Logger& logger) {
  return NewLogWithSize(storage, logger, kNoLimit);
}

RaftLog RaftLog::NewLogWithSize(const Storage& storage, Logger& logger,
                                uint64_t max_applying_ents_size) {
  Result<uint64_t> first_index = storage.FirstIndex();
  if (!first_index.ok()) logger.Panic("%s", first_index.status().ToString().c_str());
  Result<uint64_t> last_index = storage.LastIndex();
  if (!last_index.ok()) logger.Panic("%s", last_index.status().ToString().c_str());
  return RaftLog(storage, logger, max_applying_ents_size, *first_index, *last_index);
}

RaftLog::RaftLog(const Storage& storage, Logger& logger, uint64_t max_applying_ents_size,
                 uint64_t first_index, uint64_t last_index)
    : storage_(&storage),
      unstable_(last_index + 1, &logger),
      // Start at the last compaction point, which the application has applied.
      committed_(first_index - 1),
      applying_(first_index - 1),
      applied_(first_index - 1),
      logger_(&logger),
      max_applying_ents_size_(max_applying_ents_size) {}

std::string RaftLog::String() const {
  return StringPrintf("committed=%" PRIu64 ", applied=%" PRIu64 ", applying=%" PRIu64
                      ", unstable.offset=%" PRIu64 ", unstable.offsetInProgress=%" PRIu64
                      ", len(unstable.Entries)=%zu",
                      committed_, applied_, applying_, unstable_.offset(),
                      unstable_.offset_in_progress(), unstable_.entries().size());
}

std::optional<uint64_t> RaftLog::MaybeAppend(LogSlice a, uint64_t committed) {
  if (!MatchTerm(a.prev)) return std::nullopt;

  const uint64_t last_new_index = a.LastIndex();
  const uint64_t ci = FindConflict(a.entries);
  if (ci == 0) {
    // Every entry is already in the log.
  } else if (ci <= committed_) {
    logger_->Panic("entry %" PRIu64 " conflict with committed entry [committed(%" PRIu64 ")]", ci,
                   committed_);
  } else {
    const uint64_t offset = a.prev.index + 1;
    if (ci - offset > a.entries.size()) {
      logger_->Panic("index, %" PRIu64 ", is out of range [%zu]", ci - offset, a.entries.size());
    }
    // Keep only the entries from the conflict on; they are moved, not copied.
    a.entries.erase(a.entries.begin(),
                    a.entries.begin() + static_cast<std::ptrdiff_t>(ci - offset));
    Append(std::move(a.entries));
  }
  CommitTo(std::min(committed, last_new_index));
  return last_new_index;
}

uint64_t RaftLog::Append(std::vector<Entry> ents) {
  if (ents.empty()) return LastIndex();
  if (const uint64_t after = ents.front().index - 1; after < committed_) {
    logger_->Panic("after(%" PRIu64 ") is out of range [committed(%" PRIu64 ")]", after,
                   committed_);
  }
  unstable_.TruncateAndAppend(std::move(ents));
  return LastIndex();
}

uint64_t RaftLog::FindConflict(std::span<const Entry> ents) const {
  for (const Entry& e : ents) {
    const EntryID id = PbEntryID(e);
    if (!MatchTerm(id)) {
      if (id.index <= LastIndex()) {
        logger_->Info("found conflict at index %" PRIu64 " [existing term: %" PRIu64
                      ", conflicting term: %" PRIu64 "]",
                      id.index, ZeroTermOnOutOfBounds(Term(id.index)), id.term);
      }
      return id.index;
    }
  }
  return 0;
}

std::pair<uint64_t, uint64_t> RaftLog::FindConflictByTerm(uint64_t index, uint64_t term) const {
  for (; index > 0; --index) {
    // On an error (kCompacted or kUnavailable) we cannot tell whether this
    // index matches, so we assume it may and report its term as unknown (0).
    Result<uint64_t> our_term = Term(index);
    if (!our_term.ok()) return {index, 0};
    if (*our_term <= term) return {index, *our_term};
  }
  return {0, 0};
}

std::vector<Entry> RaftLog::NextCommittedEnts(bool allow_unstable) const {
  // The outstanding-bytes limit was reached, or a snapshot is pending (see
  // HasNextCommittedEnts).
  if (applying_ents_paused_ || HasNextOrInProgressSnapshot()) return {};
  const uint64_t lo = applying_ + 1;
  const uint64_t hi = MaxAppliableIndex(allow_unstable) + 1;  // [lo, hi)
  if (lo >= hi) return {};                                    // nothing to apply
  // Unsigned like etcd's entryEncodingSize: "not positive" means zero.
  const uint64_t max_size = max_applying_ents_size_ - applying_ents_size_;
  if (max_size == 0) {
    logger_->Panic("applying entry size (%" PRIu64 "-%" PRIu64 ")=%" PRIu64 " not positive",
                   max_applying_ents_size_, applying_ents_size_, max_size);
  }
  Result<std::vector<Entry>> ents = Slice(lo, hi, max_size);
  if (!ents.ok()) {
    logger_->Panic("unexpected error when getting unapplied entries (%s)",
                   ErrText(ents.status()).c_str());
  }
  return std::move(ents).value();
}

bool RaftLog::HasNextCommittedEnts(bool allow_unstable) const {
  if (applying_ents_paused_) return false;  // outstanding-bytes limit reached
  // With a snapshot to apply, handing out committed entries too would raise
  // the question of which to apply first.
  if (HasNextOrInProgressSnapshot()) return false;
  return applying_ + 1 < MaxAppliableIndex(allow_unstable) + 1;
}

uint64_t RaftLog::MaxAppliableIndex(bool allow_unstable) const {
  uint64_t hi = committed_;
  if (!allow_unstable) hi = std::min(hi, unstable_.offset() - 1);
  return hi;
}

Result<raft::Snapshot> RaftLog::Snapshot() const {
  if (unstable_.snapshot() != nullptr) return *unstable_.snapshot();
  return storage_->Snapshot();
}

uint64_t RaftLog::FirstIndex() const {
  if (std::optional<uint64_t> i = unstable_.MaybeFirstIndex()) return *i;
  Result<uint64_t> index = storage_->FirstIndex();
  if (!index.ok()) PanicOnStorageError(index.status());
  return *index;
}

uint64_t RaftLog::LastIndex() const {
  if (std::optional<uint64_t> i = unstable_.MaybeLastIndex()) return *i;
  Result<uint64_t> index = storage_->LastIndex();
  if (!index.ok()) PanicOnStorageError(index.status());
  return *index;
}

EntryID RaftLog::LastEntryID() const {
  const uint64_t index = LastIndex();
  Result<uint64_t> term = Term(index);
  if (!term.ok()) {
    logger_->Panic("unexpected error when getting the last term at %" PRIu64 ": %s", index,
                   ErrText(term.status()).c_str());
  }
  return EntryID{*term, index};
}

void RaftLog::CommitTo(uint64_t to_commit) {
  if (committed_ >= to_commit) return;  // never decrease commit
  if (const uint64_t last = LastIndex(); last < to_commit) {
    logger_->Panic("tocommit(%" PRIu64 ") is out of range [lastIndex(%" PRIu64
                   ")]. Was the raft log corrupted, truncated, or lost?",
                   to_commit, last);
  }
  committed_ = to_commit;
}

void RaftLog::AppliedTo(uint64_t i, uint64_t size) {
  if (committed_ < i || i < applied_) {
    logger_->Panic("applied(%" PRIu64 ") is out of range [prevApplied(%" PRIu64
                   "), committed(%" PRIu64 ")]",
                   i, applied_, committed_);
  }
  applied_ = i;
  applying_ = std::max(applying_, i);
  // Saturate rather than underflow if the caller's accounting is off.
  applying_ents_size_ = applying_ents_size_ > size ? applying_ents_size_ - size : 0;
  applying_ents_paused_ = applying_ents_size_ >= max_applying_ents_size_;
}

void RaftLog::AcceptApplying(uint64_t i, uint64_t size, bool allow_unstable) {
  if (committed_ < i) {
    logger_->Panic("applying(%" PRIu64 ") is out of range [prevApplying(%" PRIu64
                   "), committed(%" PRIu64 ")]",
                   i, applying_, committed_);
  }
  applying_ = i;
  applying_ents_size_ += size;
  // Pause until some progress is acknowledged when either
  //  1. the outstanding bytes reach the limit, or
  //  2. they do not, but the next entry would exceed it: NextCommittedEnts
  //     stopped short of the highest appliable index, which only the size
  //     limit makes it do.
  applying_ents_paused_ =
      applying_ents_size_ >= max_applying_ents_size_ || i < MaxAppliableIndex(allow_unstable);
}

Result<uint64_t> RaftLog::Term(uint64_t i) const {
  // The unstable log first, before computing the valid range (which may ask
  // Storage): a term found there is known to be in range.
  if (std::optional<uint64_t> t = unstable_.MaybeTerm(i)) return *t;

  // The valid range is [FirstIndex()-1, LastIndex()]: the entry at
  // FirstIndex()-1 is compacted away but its term stays known, for matching
  // the entry before an append.
  if (i + 1 < FirstIndex()) return Status::Compacted();
  if (i > LastIndex()) return Status::Unavailable();

  Result<uint64_t> t = storage_->Term(i);
  if (t.ok() || t.status().IsCompacted() || t.status().IsUnavailable()) return t;
  PanicOnStorageError(t.status());
}

uint64_t RaftLog::ZeroTermOnOutOfBounds(const Result<uint64_t>& term) const {
  if (term.ok()) return *term;
  if (term.status().IsCompacted() || term.status().IsUnavailable()) return 0;
  logger_->Panic("unexpected error (%s)", ErrText(term.status()).c_str());
}

Result<std::vector<Entry>> RaftLog::Entries(uint64_t i, uint64_t max_size) const {
  const uint64_t last = LastIndex();
  if (i > last) return std::vector<Entry>{};
  return Slice(i, last + 1, max_size);
}

std::vector<Entry> RaftLog::AllEntries() const {
  for (;;) {
    Result<std::vector<Entry>> ents = Entries(FirstIndex(), kNoLimit);
    if (ents.ok()) return std::move(ents).value();
    // A compaction of the storage raced with the read: try again.
    if (!ents.status().IsCompacted()) PanicOnStorageError(ents.status());
  }
}

bool RaftLog::IsUpToDate(EntryID their) const {
  const EntryID our = LastEntryID();
  return their.term > our.term || (their.term == our.term && their.index >= our.index);
}

bool RaftLog::MatchTerm(EntryID id) const {
  Result<uint64_t> t = Term(id.index);
  return t.ok() && *t == id.term;
}

bool RaftLog::MaybeCommit(EntryID at) {
  // A leader campaigns at term 1 or later, so term 0 never names an entry
  // to commit; refusing it also keeps ZeroTermOnOutOfBounds' 0 from matching.
  if (at.term != 0 && at.index > committed_ && MatchTerm(at)) {
    CommitTo(at.index);
    return true;
  }
  return false;
}

void RaftLog::Restore(std::shared_ptr<const raft::Snapshot> snapshot) {
  RAFTLOG_CHECK_MSG(snapshot != nullptr, "restore needs a snapshot");
  logger_->Info("log [%s] starts to restore snapshot [index: %" PRIu64 ", term: %" PRIu64 "]",
                String().c_str(), snapshot->metadata.index, snapshot->metadata.term);
  committed_ = snapshot->metadata.index;
  unstable_.Restore(std::move(snapshot));
}

void RaftLog::Restore(const raft::Snapshot& snapshot) {
  Restore(std::make_shared<const raft::Snapshot>(snapshot));
}

Result<std::vector<Entry>> RaftLog::Slice(uint64_t lo, uint64_t hi, uint64_t max_size) const {
  RAFTLOG_RETURN_IF_ERROR(MustCheckOutOfBounds(lo, hi));
  if (lo == hi) return std::vector<Entry>{};

  const uint64_t unstable_offset = unstable_.offset();
  if (lo >= unstable_offset) {
    const std::span<const Entry> ents = unstable_.Slice(lo, hi);
    const size_t n = LimitSizeCount(ents, max_size);
    return std::vector<Entry>(ents.begin(), ents.begin() + static_cast<std::ptrdiff_t>(n));
  }

  const uint64_t cut = std::min(hi, unstable_offset);
  Result<std::vector<Entry>> stored = storage_->Entries(lo, cut, max_size);
  if (!stored.ok()) {
    if (stored.status().IsCompacted()) return stored;
    if (stored.status().IsUnavailable()) {
      logger_->Panic("entries[%" PRIu64 ":%" PRIu64 ") is unavailable from storage", lo, cut);
    }
    PanicOnStorageError(stored.status());
  }
  std::vector<Entry> ents = std::move(stored).value();
  if (hi <= unstable_offset) return ents;

  // Fast path: a result shorter than requested means the size limit was
  // reached (the next entry would exceed it).
  if (ents.size() < cut - lo) return ents;
  // Slow path: compute the stored entries' size so that the unstable entries
  // are cut to the remaining budget before they are copied.
  const uint64_t size = EntsSize(ents);
  if (size >= max_size) return ents;

  const std::span<const Entry> unstable = unstable_.Slice(unstable_offset, hi);
  const size_t n = LimitSizeCount(unstable, max_size - size);
  // LimitSizeCount keeps one entry even when it alone exceeds the remaining
  // budget; here the stored entries already satisfy "at least one", so drop it.
  if (n == 1 && size + EntrySize(unstable[0]) > max_size) return ents;
  ents.insert(ents.end(), unstable.begin(), unstable.begin() + static_cast<std::ptrdiff_t>(n));
  return ents;
}

Status RaftLog::Scan(uint64_t lo, uint64_t hi, uint64_t page_size,
                     const std::function<Status(std::span<const Entry>)>& visit) const {
  while (lo < hi) {
    Result<std::vector<Entry>> ents = Slice(lo, hi, page_size);
    if (!ents.ok()) return ents.status();
    if (ents->empty()) {
      return Status::Unavailable(
          StringPrintf("got 0 entries in [%" PRIu64 ", %" PRIu64 ")", lo, hi));
    }
    RAFTLOG_RETURN_IF_ERROR(visit(*ents));
    lo += ents->size();
  }
  return Status::OK();
}

Status RaftLog::MustCheckOutOfBounds(uint64_t lo, uint64_t hi) const {
  if (lo > hi) logger_->Panic("invalid slice %" PRIu64 " > %" PRIu64, lo, hi);
  const uint64_t first = FirstIndex();
  if (lo < first) return Status::Compacted();
  const uint64_t last = LastIndex();
  if (hi > last + 1) {
    logger_->Panic("slice[%" PRIu64 ",%" PRIu64 ") out of bound [%" PRIu64 ",%" PRIu64 "]", lo, hi,
                   first, last);
  }
  return Status::OK();
}

void RaftLog::PanicOnStorageError(const Status& status) const {
  logger_->Panic("%s", status.ToString().c_str());
}

}  // namespace raftlog::raft::internal
