#include "raftlog/engine/log_engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "raftlog/engine/internal/segment.h"
#include "raftlog/engine/meta_store.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/record.h"
#include "raftlog/format/record_format.h"
#include "raftlog/format/segment_header.h"
#include "raftlog/io/file_system.h"
#include "tests/engine/log_engine_fixture.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::engine {
namespace {

using format::EntryView;

using testing::Batch;

class LogEngineTest : public testing::LogEngineFixture {
 protected:
  LogEngineTest() : LogEngineFixture("engine") {}

  Status TryOpen() { return LogEngine::Open(dir_.path(), options_).status(); }

  // Checks that [lo, hi) reads back as written by Append(.., term_of(i), size).
  void ExpectEntries(LogEngine* e, uint64_t lo, uint64_t hi, size_t size,
                     const std::function<uint64_t(uint64_t)>& term_of) {
    uint64_t next = lo;
    const Status s = e->Read(lo, hi, [&](const EntryView& v) {
      EXPECT_EQ(v.index, next);
      EXPECT_EQ(v.term, term_of(v.index)) << "index " << v.index;
      EXPECT_EQ(v.data, Batch::Payload(v.index, size)) << "index " << v.index;
      ++next;
      return true;
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(next, hi);
  }

  std::vector<std::string> SegmentFiles() const {
    auto names = io::FileSystem::Default()->ListDir(SegmentsDir());
    std::vector<std::string> out;
    for (const auto& n : *names) {
      if (internal::ParseSegmentFileName(n)) out.push_back(n);
    }
    return out;
  }

};

TEST_F(LogEngineTest, NewLogIsEmpty) {
  auto e = Open();
  EXPECT_EQ(e->FirstIndex(), 1u);
  EXPECT_EQ(e->LastIndex(), 0u);
  EXPECT_EQ(*e->Term(0), 0u);
  EXPECT_TRUE(e->Term(1).status().IsUnavailable());
  EXPECT_TRUE(e->Read(1, 2, [](const EntryView&) { return true; }).IsUnavailable());
  EXPECT_TRUE(e->Read(1, 1, [](const EntryView&) { return true; }).ok());
}

TEST_F(LogEngineTest, AppendReadAndReopen) {
  {
    auto e = Open();
    Append(e.get(), 1, 100, 1);
    Append(e.get(), 101, 50, 2);
    EXPECT_EQ(e->LastIndex(), 150u);
    ExpectEntries(e.get(), 1, 151, 16, [](uint64_t i) { return i <= 100 ? 1 : 2; });
    EXPECT_EQ(*e->Term(100), 1u);
    EXPECT_EQ(*e->Term(101), 2u);
  }
  auto e = Open();
  EXPECT_EQ(e->LastIndex(), 150u);
  ExpectEntries(e.get(), 1, 151, 16, [](uint64_t i) { return i <= 100 ? 1 : 2; });
  ExpectEntries(e.get(), 77, 102, 16, [](uint64_t i) { return i <= 100 ? 1 : 2; });
  // And it keeps appending after reopen.
  Append(e.get(), 151, 10, 3);
  EXPECT_EQ(*e->Term(160), 3u);
}

TEST_F(LogEngineTest, ReadStopsWhenVisitorSaysSo) {
  auto e = Open();
  Append(e.get(), 1, 10, 1);
  int seen = 0;
  ASSERT_TRUE(e->Read(1, 11, [&](const EntryView&) { return ++seen < 3; }).ok());
  EXPECT_EQ(seen, 3);
}

TEST_F(LogEngineTest, ReopenReadsNoSealedSegment) {
  const uint64_t n = 3000;
  {
    auto e = Open();
    for (uint64_t i = 1; i <= n; i += 10) Append(e.get(), i, 10, 1 + i / 700, 200);
    EXPECT_GT(e->GetStats().sealed_segments, 5u);
  }
  auto e = Open();
  const Stats st = e->GetStats();
  // The manifest holds each sealed segment's range and term runs: open reads
  // no sealed segment at all, only the active segment's frames.
  EXPECT_EQ(st.open_segments_from_footer, 0u);
  EXPECT_LT(st.open_bytes_scanned, options_.segment_bytes);
  EXPECT_GT(st.segment_file_bytes, 5 * options_.segment_bytes);
  // Terms come from the manifest's runs, without touching the files.
  for (uint64_t i = 1; i <= n; i += 97) {
    EXPECT_EQ(*e->Term(i), 1 + ((i - 1) / 10 * 10 + 1) / 700) << i;
  }
  // Sealed segments open (and check their footers) on first read.
  ExpectEntries(e.get(), 1, n + 1, 200, [](uint64_t i) {
    const uint64_t batch_first = (i - 1) / 10 * 10 + 1;
    return 1 + batch_first / 700;
  });
}

// Manifest entries written before they carried term runs: open reads each
// sealed segment's footer for its runs instead.
TEST_F(LogEngineTest, ManifestEntriesWithoutTermRunsOpenByFooters) {
  const uint64_t n = 3000;
  {
    auto e = Open();
    for (uint64_t i = 1; i <= n; i += 10) Append(e.get(), i, 10, 1 + i / 700, 200);
  }
  uint64_t stripped = 0;
  {
    auto meta = MetaStore::Open(dir_.Sub("meta.mdb"));
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    auto entries = (*meta)->Scan("seg/");
    ASSERT_TRUE(entries.ok());
    MetaStore::Batch b;
    for (const auto& [key, value] : *entries) {
      auto record = format::DecodeSegmentRecord(value);
      ASSERT_TRUE(record.ok()) << record.status().ToString();
      if (record->state != format::SegmentState::kSealed) continue;
      record->term_runs.clear();
      // Version 1 (no checksum), ending after field 7 (before the empty run
      // count), as records were written before term runs existed.
      const std::string v2 = format::EncodeSegmentRecord(*record);
      std::string old_style = "\x01" + v2.substr(1, v2.size() - 1 - 8);
      old_style.pop_back();
      b.Put(key, old_style);
      ++stripped;
    }
    ASSERT_GT(stripped, 5u);
    ASSERT_TRUE((*meta)->Write(b).ok());
  }
  auto e = Open();
  EXPECT_EQ(e->GetStats().open_segments_from_footer, stripped);
  ExpectEntries(e.get(), 1, n + 1, 200, [](uint64_t i) {
    const uint64_t batch_first = (i - 1) / 10 * 10 + 1;
    return 1 + batch_first / 700;
  });
}

TEST_F(LogEngineTest, FramesSplitAtTermChangesAndTermRunsStaySmall) {
  auto e = Open();
  std::vector<std::string> data(30, "x");
  std::vector<EntryView> views;
  for (uint64_t i = 1; i <= 30; ++i)
    views.push_back(EntryView{i, 1 + (i - 1) / 10, 0, data[i - 1]});
  ASSERT_TRUE(e->Append(views, {}).ok());
  EXPECT_EQ(e->GetStats().frames_written, 3u);
  EXPECT_EQ(e->GetStats().term_runs, 3u);
  EXPECT_EQ(*e->Term(10), 1u);
  EXPECT_EQ(*e->Term(11), 2u);
  EXPECT_EQ(*e->Term(30), 3u);
}

TEST_F(LogEngineTest, OneFsyncPerSyncedAppend) {
  auto e = Open();
  Append(e.get(), 1, 1, 1);  // activates the first segment (one LMDB commit)
  const Stats before = e->GetStats();
  for (uint64_t i = 2; i <= 101; i += 4) Append(e.get(), i, 4, 1);
  const Stats after = e->GetStats();
  EXPECT_EQ(after.log_syncs - before.log_syncs, 25u);
  EXPECT_EQ(after.meta_commits, before.meta_commits);
}

TEST_F(LogEngineTest, UnsyncedAppendsDoNotSync) {
  auto e = Open();
  Batch b(1, 10, 1);
  AppendOptions no_sync;
  no_sync.sync = false;
  ASSERT_TRUE(e->Append(b.views, no_sync).ok());
  EXPECT_EQ(e->GetStats().log_syncs, 0u);
  ASSERT_TRUE(e->Sync().ok());
  EXPECT_EQ(e->GetStats().log_syncs, 1u);
}

TEST_F(LogEngineTest, AppendRejectsBadBatches) {
  auto e = Open();
  Append(e.get(), 1, 5, 2);
  Batch gap(7, 1, 2);
  EXPECT_TRUE(e->Append(gap.views, {}).IsInvalidArgument());
  Batch lower_term(6, 1, 1);
  EXPECT_TRUE(e->Append(lower_term.views, {}).IsInvalidArgument());
  Batch b(6, 3, 2);
  b.views[1].index = 9;
  EXPECT_TRUE(e->Append(b.views, {}).IsInvalidArgument());
  std::string huge(options_.segment_bytes, 'h');
  std::vector<EntryView> too_big = {EntryView{6, 2, 0, huge}};
  const Status s = e->Append(too_big, {});
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("segment_bytes"), std::string::npos) << s.ToString();
  EXPECT_EQ(e->LastIndex(), 5u);  // nothing changed
  Append(e.get(), 6, 1, 3);       // and it still works
}

TEST_F(LogEngineTest, LargestEntryThatFitsInASegment) {
  auto e = Open();
  // Find the largest size accepted, then check it round-trips across reopen.
  size_t lo = 1, hi = options_.segment_bytes;
  while (lo + 1 < hi) {
    const size_t mid = (lo + hi) / 2;
    std::string data(mid, 'z');
    std::vector<EntryView> v = {EntryView{1, 1, 0, data}};
    auto probe = LogEngine::Open(dir_.Sub("probe" + std::to_string(mid)), options_);
    ASSERT_TRUE(probe.ok());
    if ((*probe)->Append(v, {}).ok()) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  EXPECT_GT(lo, options_.segment_bytes - 512);
  std::string data(lo, 'z');
  std::vector<EntryView> v = {EntryView{1, 1, 0, data}, EntryView{2, 1, 0, data}};
  ASSERT_TRUE(e->Append(v, {}).ok());  // two frames, two segments
  e.reset();
  e = Open();
  uint64_t seen = 0;
  ASSERT_TRUE(e->Read(1, 3, [&](const EntryView& ev) {
                 EXPECT_EQ(ev.data.size(), lo);
                 ++seen;
                 return true;
               }).ok());
  EXPECT_EQ(seen, 2u);
}

// Suffix truncation at every kind of boundary, checked after reopen: the
// last entry, inside a frame, a frame edge, a segment's first entry, whole
// segments, and entry 1.
TEST_F(LogEngineTest, TruncateSuffixAtEveryBoundary) {
  const uint64_t n = 600;
  for (uint64_t cut : {600u, 599u, 301u, 300u, 297u, 150u, 2u, 1u}) {
    SCOPED_TRACE("replace from index " + std::to_string(cut));
    testutil::TempDir dir("truncate");
    uint64_t seg_first = 0;
    {
      auto e = LogEngine::Open(dir.path(), options_);
      ASSERT_TRUE(e.ok());
      for (uint64_t i = 1; i <= n; i += 3) {
        Batch b(i, 3, 1, 300);
        ASSERT_TRUE((*e)->Append(b.views, {}).ok());
      }
      Batch replacement(cut, 5, 2, 300);
      ASSERT_TRUE((*e)->Append(replacement.views, {}).ok());
      EXPECT_EQ((*e)->LastIndex(), cut + 4);
      seg_first = (*e)->GetStats().suffix_truncations;
      EXPECT_EQ(seg_first, cut <= n ? 1u : 0u);
    }
    auto e = LogEngine::Open(dir.path(), options_);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ((*e)->LastIndex(), cut + 4);
    uint64_t next = 1;
    ASSERT_TRUE((*e)->Read(1, cut + 5,
                           [&](const EntryView& v) {
                             EXPECT_EQ(v.index, next++);
                             EXPECT_EQ(v.term, v.index < cut ? 1u : 2u) << v.index;
                             EXPECT_EQ(v.data, Batch::Payload(v.index, 300));
                             return true;
                           })
                    .ok());
    EXPECT_EQ(next, cut + 5);
    // Appending goes on after the new tail.
    Batch more(cut + 5, 2, 3, 300);
    ASSERT_TRUE((*e)->Append(more.views, {}).ok());
  }
}

TEST_F(LogEngineTest, TruncatePrefixKeepsTheCompactionPointTerm) {
  {
    auto e = Open();
    for (uint64_t i = 1; i <= 1000; i += 10) Append(e.get(), i, 10, 1 + i / 100, 100);
    ASSERT_TRUE(e->TruncatePrefix(501).ok());
    EXPECT_EQ(e->FirstIndex(), 501u);
    EXPECT_EQ(*e->Term(500), 5u);
    EXPECT_TRUE(e->Term(499).status().IsCompacted());
    EXPECT_TRUE(e->Read(500, 502, [](const EntryView&) { return true; }).IsCompacted());
    EXPECT_TRUE(e->TruncatePrefix(400).IsInvalidArgument());
    EXPECT_TRUE(e->TruncatePrefix(1002).IsInvalidArgument());
  }
  auto e = Open();
  EXPECT_EQ(e->FirstIndex(), 501u);
  EXPECT_EQ(*e->Term(500), 5u);
  ExpectEntries(e.get(), 501, 1001, 100,
                [](uint64_t i) { return 1 + ((i - 1) / 10 * 10 + 1) / 100; });
  // Compact everything, then keep appending.
  ASSERT_TRUE(e->TruncatePrefix(1001).ok());
  EXPECT_EQ(e->FirstIndex(), 1001u);
  EXPECT_EQ(e->LastIndex(), 1000u);
  Append(e.get(), 1001, 5, 20, 100);
  e.reset();
  e = Open();
  EXPECT_EQ(e->FirstIndex(), 1001u);
  EXPECT_EQ(e->LastIndex(), 1005u);
  EXPECT_EQ(*e->Term(1000), 10u);
}

TEST_F(LogEngineTest, CompactionRemovesSegmentFiles) {
  options_.recycled_segments = 0;  // freed files are deleted, none kept for reuse
  auto e = Open();
  for (uint64_t i = 1; i <= 2000; i += 10) Append(e.get(), i, 10, 1, 200);
  const size_t before = SegmentFiles().size();
  ASSERT_TRUE(e->TruncatePrefix(1900).ok());
  // The preallocator's thread deletes them (unlinking a large file takes
  // milliseconds a compaction's caller should not wait for): wait, bounded.
  const size_t want = e->GetStats().segments + 1;  // plus the prepared spare
  for (int k = 0; k < 500 && SegmentFiles().size() != want; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const size_t after = SegmentFiles().size();
  EXPECT_LT(after, before);
  EXPECT_EQ(after, want);
}

TEST_F(LogEngineTest, CompactedSegmentFilesAreDeletedByCloseAtTheLatest) {
  options_.recycled_segments = 0;
  auto e = Open();
  for (uint64_t i = 1; i <= 2000; i += 10) Append(e.get(), i, 10, 1, 200);
  ASSERT_TRUE(e->TruncatePrefix(1900).ok());
  const size_t want = e->GetStats().segments + 1;  // plus the prepared spare
  ASSERT_TRUE(e->Close().ok());
  EXPECT_EQ(SegmentFiles().size(), want);
}

TEST_F(LogEngineTest, ResetDropsEverything) {
  {
    auto e = Open();
    Append(e.get(), 1, 100, 1, 500);
    ASSERT_TRUE(e->Reset(5000, 7, {{"k", "v"}}).ok());
    EXPECT_EQ(e->FirstIndex(), 5001u);
    EXPECT_EQ(e->LastIndex(), 5000u);
    EXPECT_EQ(*e->Term(5000), 7u);
    EXPECT_TRUE(e->Term(4999).status().IsCompacted());
    Batch bad(5002, 1, 7);
    EXPECT_TRUE(e->Append(bad.views, {}).IsInvalidArgument());
    Append(e.get(), 5001, 3, 8);
  }
  auto e = Open();
  EXPECT_EQ(e->FirstIndex(), 5001u);
  EXPECT_EQ(e->LastIndex(), 5003u);
  EXPECT_EQ(*e->GetState("k"), std::optional<std::string>("v"));
  ExpectEntries(e.get(), 5001, 5004, 16, [](uint64_t) { return 8; });
}

TEST_F(LogEngineTest, StateDurableAndLazy) {
  {
    auto e = Open();
    ASSERT_TRUE(e->PutState({{"a", "1"}}).ok());
    e->PutStateLazy("b", "2");
    EXPECT_EQ(*e->GetState("b"), std::optional<std::string>("2"));
    EXPECT_EQ(*e->GetState("missing"), std::nullopt);
  }  // Close() persists lazy state.
  auto e = Open();
  EXPECT_EQ(*e->GetState("a"), std::optional<std::string>("1"));
  EXPECT_EQ(*e->GetState("b"), std::optional<std::string>("2"));
}

TEST_F(LogEngineTest, CommitHintIsRecovered) {
  {
    auto e = Open();
    Batch b(1, 10, 1);
    AppendOptions o;
    o.commit_hint = 7;
    ASSERT_TRUE(e->Append(b.views, o).ok());
  }
  auto e = Open();
  EXPECT_EQ(e->recovered_commit_hint(), 7u);
}

TEST_F(LogEngineTest, SecondOpenerIsBusy) {
  auto e = Open();
  const Status s = TryOpen();
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  e.reset();
  EXPECT_TRUE(TryOpen().ok());
}

TEST_F(LogEngineTest, RefusesANonLogDirectory) {
  ASSERT_TRUE(io::FileSystem::Default()->Open(dir_.Sub("notes.txt"), io::OpenMode::kCreate).ok());
  const Status s = TryOpen();
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("not a raftlog log directory"), std::string::npos);
  options_.create_if_missing = false;
  const Status missing = LogEngine::Open(dir_.Sub("nope"), options_).status();
  EXPECT_TRUE(missing.IsNotFound()) << missing.ToString();
}

// LMDB would die of SIGBUS on a truncated data file (it trusts its page
// numbers): open checks the meta pages first and reports the file.
TEST_F(LogEngineTest, TruncatedMetadataFileIsAnErrorNotACrash) {
  {
    auto e = Open();
    Append(e.get(), 1, 10, 1);
    ASSERT_TRUE(e->PutState({{"k", std::string(20000, 'v')}}).ok());  // a few more pages
  }
  const std::string meta = dir_.Sub("meta.mdb");
  auto file = io::FileSystem::Default()->Open(meta, io::OpenMode::kReadWrite);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Truncate(3 * 4096).ok());
  file->reset();
  const Status s = TryOpen();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("meta.mdb"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.ToString();
}

TEST_F(LogEngineTest, RefusesANewerFormatVersion) {
  Open().reset();
  {
    auto meta = MetaStore::Open(dir_.Sub("meta.mdb"));
    ASSERT_TRUE(meta.ok());
    MetaStore::Batch b;
    b.Put("format", std::string("\x09\x00", 2));
    ASSERT_TRUE((*meta)->Write(b).ok());
  }
  const Status s = TryOpen();
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
}

TEST_F(LogEngineTest, RefusesADamagedFormatRecord) {
  // Version 0 (never written) and a value of the wrong size: damage, which
  // a read-write open must not "upgrade" to the current version.
  Open().reset();
  for (const std::string& value : {std::string(2, '\0'), std::string("\x03\0\0", 3)}) {
    {
      auto meta = MetaStore::Open(dir_.Sub("meta.mdb"));
      ASSERT_TRUE(meta.ok());
      MetaStore::Batch b;
      b.Put("format", value);
      ASSERT_TRUE((*meta)->Write(b).ok());
    }
    const Status s = TryOpen();
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.ToString().find("key format"), std::string::npos) << s.ToString();
  }
}

TEST_F(LogEngineTest, ReadOnlyOpenTakesNoLockAndChangesNothing) {
  auto writer = Open();
  Append(writer.get(), 1, 20, 1);
  Options ro = options_;
  ro.read_only = true;
  // While the writer has it open.
  auto reader = LogEngine::Open(dir_.path(), ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->LastIndex(), 20u);
  ExpectEntries(reader->get(), 1, 21, 16, [](uint64_t) { return 1; });
  Batch b(21, 1, 1);
  EXPECT_TRUE((*reader)->Append(b.views, {}).IsFailedPrecondition());
  EXPECT_TRUE((*reader)->TruncatePrefix(2).IsFailedPrecondition());
  EXPECT_TRUE((*reader)->PutState({{"k", "v"}}).IsFailedPrecondition());
  reader->reset();
  // A missing log is NotFound, and read-only never creates one.
  auto missing = LogEngine::Open(dir_.Sub("nothing-here"), ro);
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
  EXPECT_FALSE(io::FileSystem::Default()->Exists(dir_.Sub("nothing-here")));
}

TEST_F(LogEngineTest, ReadOnlyOpenServesTheStateAsOfItsOpen) {
  // A reader beside a live writer: state written after the reader opened
  // (a newer commit index naming entries its scan did not see) must not
  // show through, nor may a key that did not exist at the open.
  auto writer = Open();
  Append(writer.get(), 1, 20, 1);
  ASSERT_TRUE(writer->PutState({{"hs", "commit 20"}}).ok());
  Options ro = options_;
  ro.read_only = true;
  auto reader = LogEngine::Open(dir_.path(), ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  Append(writer.get(), 21, 20, 1);
  ASSERT_TRUE(writer->PutState({{"hs", "commit 40"}, {"new", "x"}}).ok());
  EXPECT_EQ((*reader)->LastIndex(), 20u);
  auto hs = (*reader)->GetState("hs");
  ASSERT_TRUE(hs.ok()) << hs.status().ToString();
  EXPECT_EQ(hs->value_or("absent"), "commit 20");
  auto fresh = (*reader)->GetState("new");
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_FALSE(fresh->has_value());
  // A reader opened now sees both.
  auto later = LogEngine::Open(dir_.path(), ro);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_EQ((*later)->LastIndex(), 40u);
  EXPECT_EQ((*later)->GetState("hs")->value_or("absent"), "commit 40");
}

// --- recovery ----------------------------------------------------------------------

class RecoveryTest : public LogEngineTest {
 protected:
  // A log of `n` entries of 100 bytes in batches of 5 on one segment: the
  // active one, left as a crash leaves it (no clean Close(), so no LMDB
  // commit records its frames durable: damage at its end may be a torn
  // write; tests/engine/durable_progress_test.cc covers a clean close).
  // Returns the active segment's path.
  std::string MakeLog(uint64_t n) {
    auto e = Open();
    for (uint64_t i = 1; i <= n; i += 5) Append(e.get(), i, 5, 1, 100);
    e->Abandon();
    return ActivePath();
  }
  std::string ActivePath() {
    // The active segment is the written file with the highest id: the
    // background preallocator's spares (if it has made one yet: not
    // something to count on under load) have an all-zero header.
    auto files = SegmentFiles();
    for (auto it = files.rbegin(); it != files.rend(); ++it) {
      const std::string path = io::JoinPath(SegmentsDir(), *it);
      if (ReadAll(path).compare(0, format::kSegmentMagic.size(), format::kSegmentMagic) == 0) {
        return path;
      }
    }
    ADD_FAILURE() << "no written segment file";
    return io::JoinPath(SegmentsDir(), "missing");
  }
  // The whole directory's files (the log is small), to restore between cases.
  using DirImage = std::vector<std::pair<std::string, std::string>>;
  DirImage SaveDir() {
    DirImage image;
    auto* fs = io::FileSystem::Default();
    for (const std::string& sub : {std::string(), std::string("segments")}) {
      const std::string d = sub.empty() ? dir_.path() : dir_.Sub(sub);
      auto names = fs->ListDir(d);
      EXPECT_TRUE(names.ok());
      if (!names.ok()) return image;
      for (const auto& n : *names) {
        const std::string p = io::JoinPath(d, n);
        if (*fs->IsDirectory(p)) continue;
        image.emplace_back(p, ReadAll(p));
      }
    }
    return image;
  }
  void RestoreDir(const DirImage& image) {
    auto* fs = io::FileSystem::Default();
    auto names = fs->ListDir(SegmentsDir());
    ASSERT_TRUE(names.ok());
    for (const auto& n : *names) ASSERT_TRUE(fs->Remove(io::JoinPath(SegmentsDir(), n)).ok());
    for (const auto& [p, bytes] : image) {
      auto f = fs->Open(p, io::OpenMode::kCreate);
      ASSERT_TRUE(f.ok());
      ASSERT_TRUE((*f)->Truncate(0).ok());
      WriteAt(p, 0, bytes);
    }
  }
  // Offset where the last frame starts and where data ends, found by
  // scanning the frame headers (magic + lengths).
  static std::pair<uint64_t, uint64_t> LastFrame(const std::string& bytes) {
    uint64_t off = format::kSegmentHeaderBytes, last = 0;
    while (off + format::kFrameHeaderBytes <= bytes.size() &&
           bytes.compare(off, 4, format::kFrameMagic) == 0) {
      uint32_t stored;
      std::memcpy(&stored, bytes.data() + off + 8, 4);
      last = off;
      off += format::FrameBytes(stored);
    }
    return {last, off};
  }
};

TEST_F(RecoveryTest, TornTailIsCutAtEveryOffsetOfTheLastFrame) {
  const std::string path = MakeLog(50);
  const DirImage image = SaveDir();
  const std::string original = ReadAll(path);
  const auto [last_start, data_end] = LastFrame(original);
  ASSERT_GT(last_start, 0u);
  uint32_t stored;
  std::memcpy(&stored, original.data() + last_start + 8, 4);
  const uint64_t payload_end = last_start + format::kFrameHeaderBytes + stored;
  // A torn write: the last frame's bytes reached the disk only up to `cut`;
  // zeros (the preallocated space) follow. Cutting at last_start is the
  // case where the frame never started.
  for (uint64_t cut = last_start; cut < payload_end; ++cut) {
    SCOPED_TRACE("torn at " + std::to_string(cut));
    RestoreDir(image);
    WriteAt(path, cut, std::string(data_end - cut, '\0'));
    auto e = LogEngine::Open(dir_.path(), options_);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ((*e)->LastIndex(), 45u);  // the last batch of 5 is gone
    EXPECT_EQ((*e)->GetStats().torn_tail_cuts, cut == last_start ? 0u : 1u);
    ExpectEntries(e->get(), 1, 46, 100, [](uint64_t) { return 1; });
    // The log goes on (after a cut, in a new segment), also across a reopen.
    Batch b(46, 5, 2, 100);
    ASSERT_TRUE((*e)->Append(b.views, {}).ok());
    e->reset();
    auto again = Open();
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(again->LastIndex(), 50u);
    EXPECT_EQ(*again->Term(50), 2u);
    ExpectEntries(again.get(), 1, 46, 100, [](uint64_t) { return 1; });
  }
}

TEST_F(RecoveryTest, ReadOnlyOpenReportsATornTailWithoutCuttingIt) {
  const std::string path = MakeLog(50);
  const std::string original = ReadAll(path);
  const auto [last_start, data_end] = LastFrame(original);
  WriteAt(path, last_start + 60, std::string(8, '\xee'));
  const std::string damaged = ReadAll(path);
  Options ro = options_;
  ro.read_only = true;
  auto e = LogEngine::Open(dir_.path(), ro);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->LastIndex(), 45u);
  EXPECT_EQ((*e)->GetStats().torn_tail_cuts, 1u);
  e->reset();
  EXPECT_EQ(ReadAll(path), damaged);  // untouched
}

TEST_F(RecoveryTest, GarbageTailIsCut) {
  const std::string path = MakeLog(50);
  const auto [last_start, data_end] = LastFrame(ReadAll(path));
  // Random bytes where the next frame would go: a torn write of a frame
  // whose header never made it.
  std::mt19937_64 rng(42);
  std::string junk(300, '\0');
  for (char& c : junk) c = static_cast<char>(rng());
  WriteAt(path, data_end, junk);
  auto e = Open();
  EXPECT_EQ(e->LastIndex(), 50u);
  EXPECT_EQ(e->GetStats().torn_tail_cuts, 1u);
  EXPECT_EQ(e->GetStats().torn_tail_bytes, 300u);
}

// What the engine does on its own goes to Options::notes, never to stderr.
TEST_F(RecoveryTest, TornTailCutIsANoteNotStderr) {
  const std::string path = MakeLog(50);
  const auto [last_start, data_end] = LastFrame(ReadAll(path));
  WriteAt(path, data_end, std::string(300, '\x5a'));
  std::vector<std::string> notes;
  options_.notes = [&notes](std::string_view note) { notes.emplace_back(note); };
  ::testing::internal::CaptureStderr();
  auto e = Open();
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(e->LastIndex(), 50u);
  EXPECT_EQ(printed, "");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find(dir_.path()), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("cut the log at"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("dropped 300 bytes"), std::string::npos) << notes[0];
}

// Without a sink the cut is silent (Stats still counts it).
TEST_F(RecoveryTest, TornTailCutWithoutNotesPrintsNothing) {
  const std::string path = MakeLog(50);
  const auto [last_start, data_end] = LastFrame(ReadAll(path));
  WriteAt(path, data_end, std::string(300, '\x5a'));
  ::testing::internal::CaptureStderr();
  auto e = Open();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(e->GetStats().torn_tail_cuts, 1u);
}

TEST_F(RecoveryTest, CorruptionFollowedByValidFramesIsAnError) {
  const std::string path = MakeLog(50);
  const std::string original = ReadAll(path);
  // Flip a bit in the payload of the third frame: frames after it are valid.
  uint64_t off = format::kSegmentHeaderBytes;
  for (int k = 0; k < 2; ++k) {
    uint32_t stored;
    std::memcpy(&stored, original.data() + off + 8, 4);
    off += format::FrameBytes(stored);
  }
  const uint64_t target = off + format::kFrameHeaderBytes + 10;
  std::string flipped(1, static_cast<char>(original[target] ^ 0x10));
  WriteAt(path, target, flipped);
  const Status s = TryOpen();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(internal::SegmentFileName(1)), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("offset " + std::to_string(off)), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("followed by a valid frame"), std::string::npos) << s.ToString();

  // The policy for logs written without sync cuts there instead.
  options_.recovery = RecoveryPolicy::kTolerateCorruptedTail;
  auto e = Open();
  EXPECT_EQ(e->LastIndex(), 10u);
  EXPECT_EQ(e->GetStats().dropped_valid_frames, 7u);
}

TEST_F(RecoveryTest, AbsoluteConsistencyRefusesEvenATornTail) {
  const std::string path = MakeLog(20);
  const auto [last_start, data_end] = LastFrame(ReadAll(path));
  WriteAt(path, data_end - 8, std::string(8, '\xff'));
  options_.recovery = RecoveryPolicy::kAbsoluteConsistency;
  EXPECT_TRUE(TryOpen().IsCorruption());
  options_.recovery = RecoveryPolicy::kTolerateTornTail;
  auto e = Open();
  EXPECT_EQ(e->LastIndex(), 15u);
}

TEST_F(RecoveryTest, BitFlipInASealedSegmentIsDetectedOnRead) {
  {
    auto e = Open();
    for (uint64_t i = 1; i <= 1000; i += 10) Append(e.get(), i, 10, 1, 200);
    ASSERT_GT(e->GetStats().sealed_segments, 1u);
  }
  const std::string first = io::JoinPath(SegmentsDir(), internal::SegmentFileName(1));
  const std::string bytes = ReadAll(first);
  const uint64_t target = format::kSegmentHeaderBytes + format::kFrameHeaderBytes + 500;
  WriteAt(first, target, std::string(1, static_cast<char>(bytes[target] ^ 1)));
  // Open reads footers only, so it succeeds; the read of the damaged frame
  // reports the file and the frame's offset.
  auto e = Open();
  const Status s = e->Read(1, 100, [](const EntryView&) { return true; });
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(internal::SegmentFileName(1)), std::string::npos);
  // Other segments still read fine.
  EXPECT_TRUE(e->Read(900, 1001, [](const EntryView&) { return true; }).ok());
}

// Frames record how much of their segment was durable when written; with
// kInterval the background syncer's fdatasyncs count too.
TEST_F(RecoveryTest, FramesRecordTheIntervalSyncersDurableOffset) {
  options_.sync = SyncPolicy::kInterval;
  options_.sync_interval = std::chrono::milliseconds(1);
  {
    auto e = Open();
    Append(e.get(), 1, 5, 1, 100);
    const uint64_t syncs = e->GetStats().log_syncs;
    for (int k = 0; k < 2000 && e->GetStats().log_syncs < syncs + 2; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_GE(e->GetStats().log_syncs, syncs + 2);
    Append(e.get(), 6, 5, 1, 100);
  }
  const std::string bytes = ReadAll(ActivePath());
  auto header = format::DecodeSegmentHeader(bytes.substr(0, format::kSegmentHeaderBytes), "seg");
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  format::FrameIterator it(bytes, format::kSegmentHeaderBytes, header->seed(), "seg");
  ASSERT_TRUE(it.Next());
  EXPECT_EQ(it.frame().header.durable_offset, 0u);
  ASSERT_TRUE(it.Next());
  EXPECT_EQ(it.frame().header.durable_offset, it.offset());
}

// A sealed segment is opened, and its footer checked, on its first read: the
// damage is reported there, naming the file, and the rest of the log reads.
TEST_F(RecoveryTest, DamagedFooterIsAnErrorAtFirstRead) {
  {
    auto e = Open();
    for (uint64_t i = 1; i <= 1000; i += 10) Append(e.get(), i, 10, 1, 200);
  }
  const std::string first = io::JoinPath(SegmentsDir(), internal::SegmentFileName(1));
  const std::string bytes = ReadAll(first);
  WriteAt(first, bytes.size() - 40,
          std::string(1, static_cast<char>(bytes[bytes.size() - 40] ^ 4)));
  auto e = Open();
  for (int attempt = 0; attempt < 2; ++attempt) {
    const Status s = e->Read(1, 2, [](const EntryView&) { return true; });
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(internal::SegmentFileName(1)), std::string::npos) << s.ToString();
  }
  EXPECT_TRUE(e->Read(900, 1001, [](const EntryView&) { return true; }).ok());
}

TEST_F(RecoveryTest, ForeignMagicInASegmentIsAnErrorAtFirstRead) {
  {
    auto e = Open();
    for (uint64_t i = 1; i <= 1000; i += 10) Append(e.get(), i, 10, 1, 200);
  }
  const std::string first = io::JoinPath(SegmentsDir(), internal::SegmentFileName(1));
  WriteAt(first, 0, "NOTRAFT!");
  auto e = Open();
  const Status s = e->Read(1, 2, [](const EntryView&) { return true; });
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(internal::SegmentFileName(1)), std::string::npos) << s.ToString();
}

TEST_F(RecoveryTest, MissingSealedSegmentIsAnError) {
  {
    auto e = Open();
    for (uint64_t i = 1; i <= 1000; i += 10) Append(e.get(), i, 10, 1, 200);
  }
  ASSERT_TRUE(io::FileSystem::Default()
                  ->Remove(io::JoinPath(SegmentsDir(), internal::SegmentFileName(2)))
                  .ok());
  const Status s = TryOpen();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(internal::SegmentFileName(2)), std::string::npos) << s.ToString();
}

TEST_F(RecoveryTest, StrayFilesAreRemovedAndSparesKept) {
  {
    auto e = Open();
    for (uint64_t i = 1; i <= 10; i += 5) Append(e.get(), i, 5, 1, 100);
    // The background preallocator's spare (the active segment and it: two
    // files) may lag behind under load: wait for it, bounded.
    for (int k = 0; k < 1000 && SegmentFiles().size() < 2; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(SegmentFiles().size(), 2u);
    e->Abandon();
  }
  // A segment file nobody lists (an interrupted compaction), a temp file and
  // a garbage file with a segment's name but an old id.
  auto* fs = io::FileSystem::Default();
  ASSERT_TRUE(
      fs->Open(io::JoinPath(SegmentsDir(), "0000000000000000.seg"), io::OpenMode::kCreate).ok());
  ASSERT_TRUE(
      fs->Open(io::JoinPath(SegmentsDir(), "00000000000000ff.seg.tmp"), io::OpenMode::kCreate)
          .ok());
  auto e = Open();
  EXPECT_EQ(e->GetStats().stray_files_removed, 2u);
  EXPECT_EQ(e->GetStats().spare_segments_kept, 1u);
  EXPECT_FALSE(fs->Exists(io::JoinPath(SegmentsDir(), "0000000000000000.seg")));
}

}  // namespace
}  // namespace raftlog::engine
