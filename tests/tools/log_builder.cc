#include "tests/tools/log_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/format/coding.h"
#include "raftlog/format/record.h"
#include "raftlog/format/record_format.h"
#include "raftlog/format/segment_header.h"
#include "raftlog/raft/conf_change.h"

namespace raftlog::tools::testing {

std::string EntryData(const LogSpec& spec, uint64_t index) {
  std::string data(spec.entry_bytes, '\0');
  uint64_t x = index * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < data.size(); ++i) {
    if (spec.compressible) {
      data[i] = static_cast<char>('a' + (index + i / 64) % 26);
    } else {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      data[i] = static_cast<char>(x);
    }
  }
  return data;
}

Status BuildLog(const std::string& dir, const LogSpec& spec) {
  engine::DiskStorageOptions options;
  options.engine.segment_bytes = spec.segment_bytes;
  // Synced, as a real log is: each frame then records how much of its
  // segment was durable, which recovery and verify need to tell damage from
  // a torn write.
  options.engine.sync = engine::SyncPolicy::kAlways;
  options.engine.compression.enabled = spec.compression;
  // The segments stay as written: the tests run the tools on the form the
  // spec asks for (raftlog compress rewrites them when a test wants that).
  options.engine.compression_mode = engine::CompressionMode::kOff;
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<engine::DiskStorage> storage,
                           engine::DiskStorage::Open(dir, options));
  RAFTLOG_RETURN_IF_ERROR(
      storage->SetHardState(raft::HardState{spec.hard_state.term, spec.hard_state.vote, 0}));
  std::vector<raft::Entry> batch;
  for (uint64_t index = 1; index <= spec.entries; ++index) {
    uint64_t term = index <= spec.entries / 2 ? 1u : 2u;
    if (!spec.term_starts.empty()) {
      term = 1;
      for (const auto& [from, t] : spec.term_starts) {
        if (from <= index) term = t;
      }
    }
    raft::Entry e{term, index, raft::EntryType::kNormal, EntryData(spec, index)};
    if (index == spec.conf_change_index) {
      e.type = raft::EntryType::kConfChange;
      e.data = raft::EncodeConfChange(raft::ConfChange{raft::ConfChangeType::kAddNode, 2, "", 0});
    } else if (index == spec.conf_change_v2_index) {
      raft::ConfChangeV2 cc;
      cc.changes = {{raft::ConfChangeType::kAddNode, 3},
                    {raft::ConfChangeType::kAddLearnerNode, 4}};
      e.type = raft::EntryType::kConfChangeV2;
      e.data = raft::EncodeConfChangeV2(cc);
    }
    batch.push_back(std::move(e));
    if (batch.size() == spec.batch || index == spec.entries) {
      RAFTLOG_RETURN_IF_ERROR(storage->Append(batch));
      batch.clear();
    }
  }
  if (spec.snapshot_index != 0) {
    raft::ConfState cs;
    cs.voters = {1, 2, 3};
    cs.learners = {4};
    RAFTLOG_RETURN_IF_ERROR(
        storage->CreateSnapshot(spec.snapshot_index, &cs, "snapshot-data").status());
  }
  if (spec.compact_index != 0) RAFTLOG_RETURN_IF_ERROR(storage->Compact(spec.compact_index));
  RAFTLOG_RETURN_IF_ERROR(storage->SetHardState(spec.hard_state));
  return storage->Close();
}

std::string SegmentPath(const std::string& dir, uint64_t id) {
  char name[32];
  std::snprintf(name, sizeof(name), "%016" PRIx64 ".seg", id);
  return dir + "/segments/" + name;
}

std::vector<FrameAt> Frames(const std::string& segment_path) {
  const std::string bytes = ReadFile(segment_path);
  std::vector<FrameAt> frames;
  auto header = format::DecodeSegmentHeader(bytes, segment_path);
  if (!header.ok()) {
    ADD_FAILURE() << header.status().ToString();
    return frames;
  }
  format::FrameIterator it(bytes, format::kSegmentHeaderBytes, header->seed(), segment_path);
  while (it.Next()) {
    if (it.frame().header.type != format::FrameType::kEntries) break;
    frames.push_back(FrameAt{it.offset(), it.frame().header.first_index, it.frame().frame_bytes});
  }
  return frames;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  ASSERT_TRUE(f.good()) << path;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c ^= 0x10;
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
  ASSERT_TRUE(f.good());
}

std::vector<std::pair<std::string, std::string>> DirContents(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string rel = std::filesystem::relative(entry.path(), dir).string();
    if (rel == "meta.mdb-lock") continue;
    const std::string bytes = ReadFile(entry.path().string());
    files.emplace_back(
        rel, std::to_string(bytes.size()) + ":" + std::to_string(std::hash<std::string>{}(bytes)));
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Base64Decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) continue;  // '=' padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace raftlog::tools::testing
