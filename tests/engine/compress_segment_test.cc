// LogEngine::CompressSegment: a sealed segment rewritten with compressed
// frames reads back the same entries (also after reopen), shrinks the log on
// disk, keeps readers' payloads valid, stays raw when it does not shrink
// enough, and refuses what it must not touch (the active segment, a damaged
// segment, a read-only log).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "raftlog/engine/sealed_scan.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/meta_records.h"
#include "tests/engine/log_engine_fixture.h"

namespace raftlog::engine {
namespace {

using testing::Batch;
using Outcome = CompressSegmentResult::Outcome;

struct Entry {
  uint64_t term;
  uint8_t type;
  std::string data;
  bool operator==(const Entry&) const = default;
};

std::vector<Entry> ReadAllEntries(LogEngine* e) {
  std::vector<Entry> out;
  const Status s = e->Read(e->FirstIndex(), e->LastIndex() + 1, [&](const format::EntryView& v) {
    out.push_back(Entry{v.term, v.type, std::string(v.data)});
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::vector<std::string> SegmentFiles(const std::string& dir) {
  auto names = io::FileSystem::Default()->ListDir(dir);
  EXPECT_TRUE(names.ok());
  std::vector<std::string> out = names.ok() ? *names : std::vector<std::string>{};
  std::sort(out.begin(), out.end());
  return out;
}

class CompressSegmentTest : public testing::LogEngineFixture {
 protected:
  // Seals on the appending thread: the tests compress the segments an
  // Append has just sealed.
  CompressSegmentTest() : LogEngineFixture("compress") { options_.background_seal = false; }

  // Segments of compressible entries (data "e<index>:" and a letter pattern)
  // in terms 1 to 3, at least `sealed` of them sealed.
  void Fill(LogEngine* e, size_t sealed) {
    uint64_t next = e->LastIndex() + 1;
    uint64_t term = 1;
    while (e->SegmentRecords().size() <= sealed) {
      Append(e, next, 40, term, 200);
      next += 40;
      if (next % 400 == 1) term++;
    }
  }

  // Entries of pseudo-random bytes (zstd cannot shrink them) until one
  // segment is sealed.
  void FillRandom(LogEngine* e) {
    std::mt19937_64 rng(3);
    uint64_t next = e->LastIndex() + 1;
    while (e->SegmentRecords().size() < 2) {
      std::vector<std::string> data(20);
      std::vector<format::EntryView> views;
      for (auto& d : data) {
        d.resize(500);
        for (char& c : d) c = static_cast<char>(rng());
        views.push_back(format::EntryView{next, 1, 0, d});
        ++next;
      }
      ASSERT_TRUE(e->Append(views, {}).ok());
    }
  }

  // No compressed rewrite is left in the segments directory.
  void ExpectNoRewriteLeft() const {
    for (const std::string& name : SegmentFiles(SegmentsDir())) {
      EXPECT_FALSE(format::layout::ParseCompressedSegmentFileName(name).has_value()) << name;
    }
  }

  std::vector<format::SegmentRecord> Sealed(LogEngine* e) {
    std::vector<format::SegmentRecord> out;
    for (const auto& r : e->SegmentRecords()) {
      if (r.state == format::SegmentState::kSealed) out.push_back(r);
    }
    return out;
  }
};

TEST_F(CompressSegmentTest, RewritesSealedSegmentsThatReadBackTheSameAfterReopen) {
  auto e = Open();
  Fill(e.get(), 3);
  const std::vector<Entry> before = ReadAllEntries(e.get());
  const uint64_t first = e->FirstIndex(), last = e->LastIndex();
  uint64_t raw_total = 0, compressed_total = 0;
  for (const format::SegmentRecord& r : Sealed(e.get())) {
    auto result = e->CompressSegment(r.segment_id);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->outcome, Outcome::kCompressed);
    EXPECT_EQ(result->raw_bytes, r.file_bytes);
    EXPECT_LT(result->compressed_bytes, r.file_bytes / 2) << "repetitive entries compress well";
    raw_total += result->raw_bytes;
    compressed_total += result->compressed_bytes;
  }
  EXPECT_EQ(e->GetStats().compressed_segments, 3u);
  EXPECT_EQ(e->GetStats().segments_compressed, 3u);
  EXPECT_EQ(ReadAllEntries(e.get()), before);
  // The manifest lists the new files; the raw ones are gone.
  std::vector<std::string> expected;
  for (const format::SegmentRecord& r : e->SegmentRecords()) {
    if (r.state == format::SegmentState::kSealed) {
      EXPECT_TRUE(r.compressed());
      EXPECT_EQ(format::SegmentRecordFileName(r),
                format::layout::CompressedSegmentFileName(r.segment_id, r.generation));
    }
    expected.push_back(format::SegmentRecordFileName(r));
  }
  // Besides them only prepared spares (ids past the active segment's), and
  // raw files of compressed segments waiting to be reused as spares (as
  // compacted segments' files do; Close removes those still waiting).
  const std::vector<format::SegmentRecord> records = e->SegmentRecords();
  const uint64_t active_id = records.back().segment_id;
  auto unexpected = [&] {
    std::vector<std::string> out;
    for (const std::string& name : SegmentFiles(SegmentsDir())) {
      const bool listed = std::find(expected.begin(), expected.end(), name) != expected.end();
      const auto id = format::layout::ParseSegmentFileName(name);
      const bool spare = id && *id > active_id;
      if (!listed && !spare) out.push_back(name);
    }
    return out;
  };
  for (const std::string& name : unexpected()) {
    const auto id = format::layout::ParseSegmentFileName(name);
    ASSERT_TRUE(id.has_value()) << name;
    EXPECT_TRUE(std::any_of(records.begin(), records.end(),
                            [&](const auto& r) { return r.segment_id == *id && r.compressed(); }))
        << name;
  }

  ASSERT_TRUE(e->Close().ok());
  EXPECT_EQ(unexpected(), std::vector<std::string>{});
  e.reset();
  e = Open();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->FirstIndex(), first);
  EXPECT_EQ(e->LastIndex(), last);
  EXPECT_EQ(ReadAllEntries(e.get()), before);
  EXPECT_EQ(e->GetStats().compressed_segments, 3u);
  EXPECT_EQ(e->GetStats().stray_files_removed, 0u);
  for (uint64_t i = first; i <= last; ++i) {
    auto t = e->Term(i);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(*t, before[i - first].term) << "index " << i;
  }
  // Compressing again does nothing; the log still takes appends and
  // compactions across compressed segments.
  auto again = e->CompressSegment(Sealed(e.get()).front().segment_id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, Outcome::kAlreadyCompressed);
  Append(e.get(), last + 1, 10, 9, 50);
  const uint64_t cut = Sealed(e.get())[1].base_index + 3;
  ASSERT_TRUE(e->TruncatePrefix(cut).ok());
  std::vector<Entry> now = ReadAllEntries(e.get());
  ASSERT_EQ(now.size(), last + 10 - cut + 1);
  EXPECT_EQ(now.front(), before[cut - first]);
  EXPECT_LT(compressed_total * 2, raw_total);
}

TEST_F(CompressSegmentTest, PayloadsReadBeforeTheSwapStayValid) {
  auto e = Open();
  Fill(e.get(), 1);
  const format::SegmentRecord r = Sealed(e.get()).front();
  std::vector<Bytes> held;
  std::vector<std::string> copies;
  ASSERT_TRUE(e->ReadShared(r.base_index, r.last_index + 1,
                            [&](const format::EntryView& v, Bytes data) {
                              held.push_back(data);
                              copies.emplace_back(v.data);
                              return true;
                            })
                  .ok());
  auto result = e->CompressSegment(r.segment_id);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->outcome, Outcome::kCompressed);
  // The raw file is unlinked (on the preallocator's thread, so it may take
  // a moment), but the mapping the payloads view lives on.
  const std::string raw_path =
      io::JoinPath(SegmentsDir(), format::layout::SegmentFileName(r.segment_id));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (io::FileSystem::Default()->Exists(raw_path) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(io::FileSystem::Default()->Exists(raw_path));
  for (size_t k = 0; k < held.size(); ++k) EXPECT_EQ(held[k].view(), copies[k]);
  // New reads come from the compressed file (through the frame cache).
  std::vector<std::string> again;
  ASSERT_TRUE(e->Read(r.base_index, r.last_index + 1, [&](const format::EntryView& v) {
                   again.emplace_back(v.data);
                   return true;
                 }).ok());
  EXPECT_EQ(again, copies);
}

TEST_F(CompressSegmentTest, IncompressibleSegmentStaysRaw) {
  auto e = Open();
  FillRandom(e.get());
  const format::SegmentRecord r = Sealed(e.get()).front();
  const std::vector<Entry> before = ReadAllEntries(e.get());
  auto result = e->CompressSegment(r.segment_id);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->outcome, Outcome::kNotWorthIt);
  // The segment (64 KiB) is smaller than the sample: decided on all of it.
  EXPECT_EQ(result->sampled_raw_bytes, 0u);
  EXPECT_GT(result->compressed_bytes, r.file_bytes * 8 / 10);
  EXPECT_EQ(Sealed(e.get()).front(), r);
  ExpectNoRewriteLeft();
  EXPECT_EQ(ReadAllEntries(e.get()), before);
}

// Past its sample, a rewrite that does not shrink stops: the rest of the
// segment is neither read nor written. One that shrinks goes on to the end.
TEST_F(CompressSegmentTest, IncompressibleSegmentIsGivenUpAfterItsSample) {
  CompressSegmentOptions how;
  how.sample_bytes = 16 << 10;
  // Frames of 4 KiB of entries, so that several are written within the
  // sample (a 64 KiB segment would otherwise be one frame).
  how.frame_input_bytes = 4 << 10;
  auto e = Open();
  FillRandom(e.get());
  const format::SegmentRecord r = Sealed(e.get()).front();
  const std::vector<Entry> before = ReadAllEntries(e.get());
  auto result = e->CompressSegment(r.segment_id, how);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->outcome, Outcome::kNotWorthIt);
  EXPECT_GE(result->sampled_raw_bytes, how.sample_bytes);
  EXPECT_LT(result->sampled_raw_bytes, r.file_bytes / 2);
  EXPECT_GT(result->compressed_bytes, result->sampled_raw_bytes * 8 / 10);
  EXPECT_LT(result->compressed_bytes, r.file_bytes / 2);
  EXPECT_EQ(result->raw_bytes, r.file_bytes);
  EXPECT_EQ(Sealed(e.get()).front(), r);
  ExpectNoRewriteLeft();
  EXPECT_EQ(ReadAllEntries(e.get()), before);

  auto opened = LogEngine::Open(dir_.Sub("text"), options_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  LogEngine* text = opened->get();
  Fill(text, 1);
  const format::SegmentRecord t = Sealed(text).front();
  auto compressed = text->CompressSegment(t.segment_id, how);
  ASSERT_TRUE(compressed.ok()) << compressed.status().ToString();
  EXPECT_EQ(compressed->outcome, Outcome::kCompressed);
  EXPECT_EQ(compressed->sampled_raw_bytes, 0u);
}

TEST_F(CompressSegmentTest, SegmentCutByASuffixTruncationKeepsOnlyItsLiveEntries) {
  auto e = Open();
  Fill(e.get(), 1);
  const uint64_t cut = Sealed(e.get()).front().last_index - 5;
  // A leader's entries replace the suffix from cut + 1: the segment holding
  // `cut` is capped there (its later frames are dead bytes).
  Append(e.get(), cut + 1, 3, 7, 30);
  const std::vector<Entry> before = ReadAllEntries(e.get());
  format::SegmentRecord capped;
  for (const auto& r : Sealed(e.get())) {
    if (r.last_index == cut) capped = r;
  }
  ASSERT_EQ(capped.last_index, cut);
  auto result = e->CompressSegment(capped.segment_id);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->outcome, Outcome::kCompressed);
  EXPECT_EQ(ReadAllEntries(e.get()), before);
  ASSERT_TRUE(e->Close().ok());
  e = Open();
  EXPECT_EQ(ReadAllEntries(e.get()), before);
}

TEST_F(CompressSegmentTest, RefusesTheActiveSegmentUnknownIdsAndReadOnlyLogs) {
  auto e = Open();
  Fill(e.get(), 1);
  const auto records = e->SegmentRecords();
  auto active = e->CompressSegment(records.back().segment_id);
  EXPECT_TRUE(active.status().IsInvalidArgument()) << active.status().ToString();
  auto unknown = e->CompressSegment(records.back().segment_id + 100);
  EXPECT_TRUE(unknown.status().IsNotFound()) << unknown.status().ToString();
  CompressSegmentOptions bad;
  bad.frame_input_bytes = 0;
  EXPECT_TRUE(e->CompressSegment(records.front().segment_id, bad).status().IsInvalidArgument());
  ASSERT_TRUE(e->Close().ok());
  e.reset();
  options_.read_only = true;
  e = Open();
  auto ro = e->CompressSegment(records.front().segment_id);
  EXPECT_TRUE(ro.status().IsInvalidArgument()) << ro.status().ToString();
}

TEST_F(CompressSegmentTest, DamagedSegmentIsNotCompressed) {
  auto e = Open();
  Fill(e.get(), 2);
  const format::SegmentRecord r = Sealed(e.get()).front();
  ASSERT_TRUE(e->Close().ok());
  e.reset();
  // A flipped byte in the payload of the segment's second frame.
  const std::string path = io::JoinPath(SegmentsDir(), format::layout::SegmentFileName(r.segment_id));
  const std::string bytes = ReadAll(path);
  WriteAt(path, r.footer_offset / 2, std::string(1, static_cast<char>(bytes[r.footer_offset / 2] ^ 0x20)));
  e = Open();
  auto result = e->CompressSegment(r.segment_id);
  ASSERT_TRUE(result.status().IsCorruption()) << result.status().ToString();
  EXPECT_NE(result.status().message().find(format::layout::SegmentFileName(r.segment_id)),
            std::string::npos)
      << result.status().ToString();
  for (const std::string& name : SegmentFiles(SegmentsDir())) {
    EXPECT_FALSE(format::layout::ParseCompressedSegmentFileName(name).has_value()) << name;
  }
  EXPECT_EQ(Sealed(e.get()).front(), r);
}

// Readers without the manifest (the tool's files-only paths) recognize a
// rewrite by its name and header, and take one file per segment.
TEST_F(CompressSegmentTest, RewriteDescribesItselfWithoutTheManifest) {
  auto e = Open();
  Fill(e.get(), 1);
  const format::SegmentRecord raw = Sealed(e.get()).front();
  ASSERT_TRUE(e->CompressSegment(raw.segment_id).ok());
  const format::SegmentRecord listed = Sealed(e.get()).front();
  ASSERT_TRUE(listed.compressed());
  const std::string name = format::SegmentRecordFileName(listed);
  auto described = DescribeSegmentFileNamed(io::FileSystem::Default(),
                                            io::JoinPath(SegmentsDir(), name), name);
  ASSERT_TRUE(described.ok() && described->has_value());
  const format::SegmentRecord& d = **described;
  EXPECT_TRUE(d.compressed());
  EXPECT_EQ(d.segment_id, listed.segment_id);
  EXPECT_EQ(d.generation, listed.generation);
  EXPECT_EQ(d.base_index, listed.base_index);
  EXPECT_EQ(d.last_index, listed.last_index);
  EXPECT_EQ(d.footer_offset, listed.footer_offset);
  EXPECT_EQ(d.file_bytes, listed.file_bytes);
  // The same bytes under another generation's name are not this rewrite.
  const std::string other = format::layout::CompressedSegmentFileName(listed.segment_id, 1234);
  auto wrong = DescribeSegmentFileNamed(io::FileSystem::Default(),
                                        io::JoinPath(SegmentsDir(), name), other);
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(wrong->has_value());
  std::vector<format::SegmentRecord> both = {d, raw};
  OneRecordPerSegment(&both);
  ASSERT_EQ(both.size(), 1u);
  EXPECT_FALSE(both.front().compressed());
}

TEST_F(CompressSegmentTest, UnlistedCompressedFileIsRemovedOnOpen) {
  auto e = Open();
  Fill(e.get(), 1);
  const format::SegmentRecord r = Sealed(e.get()).front();
  ASSERT_TRUE(e->Close().ok());
  e.reset();
  // What a compression that crashed before its commit leaves.
  const std::string stray =
      io::JoinPath(SegmentsDir(), format::layout::CompressedSegmentFileName(r.segment_id, 99));
  {
    auto f = io::FileSystem::Default()->Open(stray, io::OpenMode::kCreateExclusive);
    ASSERT_TRUE(f.ok());
    const std::string_view piece = "not yet a segment";
    ASSERT_TRUE((*f)->PWrite(0, std::span<const std::string_view>(&piece, 1)).ok());
  }
  e = Open();
  EXPECT_FALSE(io::FileSystem::Default()->Exists(stray));
  EXPECT_EQ(e->GetStats().stray_files_removed, 1u);
  EXPECT_EQ(Sealed(e.get()).front(), r);
}

}  // namespace
}  // namespace raftlog::engine
