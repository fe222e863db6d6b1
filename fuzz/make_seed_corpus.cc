// fuzz_make_seed_corpus: writes the seed inputs of every fuzz target into
// <dir>/<target>/seed-<n> (the checked-in corpora under fuzz/corpus/ started
// from these; fuzzing runs add what they find). Each seed is a valid input of
// the kind its target's comment describes, so the fuzzer starts from real
// structures:
//
//   fuzz_make_seed_corpus fuzz/corpus

#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "raftlog/format/coding.h"
#include "raftlog/format/compression.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/record.h"
#include "raftlog/format/segment_footer.h"
#include "raftlog/format/segment_header.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/log_template.h"

namespace raftlog::fuzz {
namespace {

class Seeds {
 public:
  Seeds(std::string dir) : dir_(std::move(dir)) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
  }
  void Add(std::string_view bytes) {
    WriteFileOrDie(dir_ + "/seed-" + std::to_string(++n_), bytes);
  }
  template <class... Parts>
  void Add(char control, const Parts&... parts) {
    std::string s(1, control);
    (s.append(parts), ...);
    Add(s);
  }

 private:
  std::string dir_;
  int n_ = 0;
};

std::string Join(const format::FrameBuilder& b) {
  std::string out;
  for (std::string_view p : b.pieces()) out.append(p);
  return out;
}

std::string EntriesFrame(uint64_t seed, uint64_t first, int n, uint64_t term, size_t bytes,
                         bool compress) {
  format::CompressionOptions options;
  options.enabled = compress;
  options.min_payload_bytes = 64;
  format::FrameBuilder builder(options);
  std::vector<std::string> data;
  for (int k = 0; k < n; ++k)
    data.push_back(std::string(bytes + k, static_cast<char>('a' + k % 3)));
  std::vector<format::EntryView> views;
  for (int k = 0; k < n; ++k) {
    views.push_back(format::EntryView{first + k, term, static_cast<uint8_t>(k % 3), data[k]});
  }
  builder.BuildEntries(seed, first - 1, views);
  return Join(builder);
}

// A sealed segment of two frames: header, frames, footer, trailer.
std::string SealedSegment(uint64_t id, uint64_t generation) {
  const uint64_t seed = format::FrameSeed(id, generation);
  format::SegmentHeader header;
  header.segment_id = id;
  header.base_index = 10;
  header.generation = generation;
  header.segment_bytes = 1 << 16;
  std::string file = format::EncodeSegmentHeader(header);
  format::FooterContents footer;
  const std::string f1 = EntriesFrame(seed, 10, 3, 2, 20, false);
  footer.frames.push_back(format::FrameRef{static_cast<uint32_t>(file.size()), 0});
  file += f1;
  const std::string f2 = EntriesFrame(seed, 13, 2, 3, 5, false);
  footer.frames.push_back(format::FrameRef{static_cast<uint32_t>(file.size()), 3});
  file += f2;
  footer.last_index = 14;
  footer.term_runs = {{10, 2}, {13, 3}};
  const std::string payload = format::EncodeFooterPayload(footer);
  format::FrameBuilder builder;
  builder.BuildFooter(seed, payload);
  const uint64_t footer_offset = file.size();
  file += Join(builder);
  file += format::EncodeTrailer(footer_offset, file.size() + format::kTrailerBytes, seed);
  return file;
}

void FrameDecoder(const std::string& root) {
  Seeds s(root + "/frame_decoder");
  const uint64_t seed1 = format::FrameSeed(1, 1);  // control bits 2-7 = 1
  const char id1 = 1 << 2;
  s.Add(id1, EntriesFrame(seed1, 1, 3, 1, 10, false));
  s.Add(id1, EntriesFrame(seed1, 5, 4, 2, 300, true));
  s.Add(id1, EntriesFrame(seed1, 7, 1, 2, 0, false));
  s.Add(static_cast<char>(id1 | 3), SealedSegment(1, 1));
  s.Add(id1, SealedSegment(1, 1));
  std::string broken = EntriesFrame(seed1, 1, 2, 1, 8, false);
  broken[20] ^= 1;
  s.Add(static_cast<char>(id1 | 1), broken);  // fixed up again
  s.Add(id1, broken.substr(0, 30));
  s.Add(static_cast<char>(0), std::string(64, '\0'));
}

void SegmentRecovery(const std::string& root) {
  Seeds s(root + "/segment_recovery");
  auto patch = [](uint8_t segment, uint8_t op, uint32_t offset, std::string operand) {
    std::string p;
    p.push_back(static_cast<char>(segment));
    p.push_back(static_cast<char>(op));
    format::PutFixed32(&p, offset);
    return p + operand;
  };
  const char last = static_cast<char>(Template().segments.size() - 1);
  s.Add(static_cast<char>(0));                               // the template as it is
  s.Add(static_cast<char>(0), patch(last, 3, 200, "\x03"));  // a bit flip in a frame
  s.Add(static_cast<char>(1), patch(last, 3, 200, "\x03"));  // ... checksums fixed
  s.Add(static_cast<char>(2), patch(last, 1, 900, ""));      // absolute, truncated
  s.Add(static_cast<char>(4), patch(last, 2, 100, "\x40"));  // corrupted-tail policy
  s.Add(static_cast<char>(16), patch(0, 3, 400, "\x01"));    // read-only, sealed segment
  s.Add(static_cast<char>(0), patch(0, 0, 60000, std::string("\x05garbage", 8)));
  s.Add(static_cast<char>(1), patch(0, 1, 5000, ""));  // a sealed segment cut short
  // Replace the active segment's body by its own bytes (a no-op the fuzzer
  // can start changing), checksums fixed afterwards.
  const std::string active =
      ReadFileOrDie(Template().dir + "/segments/" + Template().segments.back().name);
  const size_t end = active.find_last_not_of('\0') + 1;
  s.Add(static_cast<char>(8 | 1), active.substr(64, end > 64 ? end - 64 : 0));
}

void SnapshotFile(const std::string& root) {
  Seeds s(root + "/snapshot_file");
  auto built = [](uint32_t index, uint8_t term, uint8_t block_minus_1, std::string cs,
                  uint8_t data_quads) {
    std::string b;
    format::PutFixed32(&b, index);
    b.push_back(static_cast<char>(term));
    b.push_back(static_cast<char>(block_minus_1));
    b.push_back(static_cast<char>(cs.size()));
    b += cs;
    b.push_back(static_cast<char>(data_quads));
    b += std::string(4u * data_quads, 'd');
    return b;
  };
  s.Add(static_cast<char>(1), built(42, 3, 15, "cs", 10));
  s.Add(static_cast<char>(1), built(7, 1, 255, "", 0));
  s.Add(static_cast<char>(1), built(100, 9, 0, std::string(40, 'c'), 3));
  std::string flip = built(42, 3, 15, "cs", 10);
  flip.push_back(3);  // patch: flip a bit
  format::PutFixed32(&flip, 70);
  flip.push_back(5);
  s.Add(static_cast<char>(1 | 2 | 4), flip);
  std::string cut = built(42, 3, 15, "cs", 10);
  cut.push_back(1);  // patch: truncate
  format::PutFixed32(&cut, 90);
  s.Add(static_cast<char>(1), cut);
  s.Add(static_cast<char>(0), std::string("RAFTSNAP\x01\x00\x00\x00\x30\x00\x00\x00", 16));
}

void MetaRecords(const std::string& root) {
  Seeds s(root + "/meta_records");
  s.Add(static_cast<char>(0), format::EncodeHardState(format::HardStateRecord{5, 2, 300}));
  format::ConfStateRecord cs;
  cs.voters = {1, 2, 3};
  cs.learners = {4};
  cs.voters_outgoing = {1, 2};
  cs.auto_leave = true;
  s.Add(static_cast<char>(1), format::EncodeConfState(cs));
  format::SnapshotMetaRecord meta;
  meta.index = 100;
  meta.term = 4;
  meta.conf_state = cs;
  meta.file_name = "0000000000000004-0000000000000064.snap";
  meta.data_bytes = 1234;
  s.Add(static_cast<char>(2), format::EncodeSnapshotMeta(meta));
  format::SegmentRecord active;
  active.segment_id = 3;
  active.base_index = 120;
  active.generation = 1;
  s.Add(static_cast<char>(3), format::EncodeSegmentRecord(active));
  // LMDB values of the template log: 4 format, 5 log/start, 6 next id,
  // 7 generation, 8 the active segment's manifest entry, 9 HardState,
  // 10 snapshot metadata; 11 deletes the key of the next byte.
  std::string version;
  format::PutFixed16(&version, 1);
  s.Add(static_cast<char>(4), version);
  std::string start(1, '\x01');
  format::PutVarint64(&start, 21);
  format::PutVarint64(&start, 1);
  s.Add(static_cast<char>(5), start);
  std::string id;
  format::PutFixed64(&id, 9);
  s.Add(static_cast<char>(6), id);
  s.Add(static_cast<char>(7), id);
  s.Add(static_cast<char>(8), format::EncodeSegmentRecord(active));
  s.Add(static_cast<char>(9), format::EncodeHardState(format::HardStateRecord{2, 1, 150}));
  s.Add(static_cast<char>(10), format::EncodeSnapshotMeta(meta));
  for (char k = 0; k < 7; ++k) s.Add(static_cast<char>(11), std::string(1, k));
  // 12 the DurableRecord decoder, 13 log/durable's value.
  s.Add(static_cast<char>(12), format::EncodeDurableRecord(format::DurableRecord{3, 1, 4096, 130}));
  s.Add(static_cast<char>(13), format::EncodeDurableRecord(format::DurableRecord{3, 1, 4096, 130}));
}

void MetaMdb(const std::string& root) {
  Seeds s(root + "/meta_mdb");
  const std::string file = ReadFileOrDie(Template().dir + "/meta.mdb");
  auto patch = [](uint32_t offset, uint8_t op, std::string operand) {
    std::string p;
    format::PutFixed32(&p, offset);
    p.push_back(static_cast<char>(op));
    return p + operand;
  };
  auto u16 = [](uint16_t v) {
    std::string b;
    format::PutFixed16(&b, v);
    return b;
  };
  auto u64 = [](uint64_t v) {
    std::string b;
    format::PutFixed64(&b, v);
    return b;
  };
  s.Add(static_cast<char>(1), file);                   // the template's file, whole
  s.Add(static_cast<char>(0));                         // the template's file, no patch
  s.Add(static_cast<char>(1), file.substr(0, 5000));  // cut inside the second meta page
  s.Add(static_cast<char>(0), patch(20000, 4, ""));   // truncated (patch form)
  const uint32_t page = 4096;
  // Meta page 0 (page header 16 bytes, then MDB_meta): its last page (+120),
  // transaction id (+128), the main database's root (+72 + 40).
  s.Add(static_cast<char>(0), patch(16 + 120, 3, u64(1000)));
  s.Add(static_cast<char>(0), patch(16 + 128, 3, u64(1u << 30)));
  s.Add(static_cast<char>(0), patch(16 + 72 + 40, 3, u64(1)));
  s.Add(static_cast<char>(0), patch(page + 16 + 72 + 40, 3, u64(3)));  // meta page 1's root
  // Each key's node: its key size (the u16 before the key), its value size
  // (the node's first u16), a bit of the value (its checksum found, or,
  // with bit 1, forged).
  for (const char* key : {"state/hardstate", "state/snapshot", "log/start", "log/durable",
                          "log/next_segment_id", "seg/"}) {
    const size_t at = file.rfind(key);
    if (at == std::string::npos || at < 8) continue;
    const uint32_t node = static_cast<uint32_t>(at - 8);
    s.Add(static_cast<char>(0), patch(node + 6, 2, u16(0x4000)));
    s.Add(static_cast<char>(0), patch(node, 2, u16(0x2000)));
    const uint16_t key_bytes = format::DecodeFixed16(file.data() + node + 6);
    const uint32_t value = node + 8 + key_bytes;
    s.Add(static_cast<char>(0), patch(value + 1, 0, std::string(1, '\x01')));
    s.Add(static_cast<char>(2), patch(value + 1, 0, std::string(1, '\x01')));
    s.Add(static_cast<char>(2), patch(value + 2, 0, std::string(1, '\x02')));
  }
  // A page header's bounds, and a page zeroed.
  s.Add(static_cast<char>(0), patch(2 * page + 12, 2, u16(4000)));
  s.Add(static_cast<char>(0), patch(3 * page, 5, std::string(1, '\xff')));
}

void Verify(const std::string& root) {
  Seeds s(root + "/verify");
  auto patch = [](uint8_t segment, uint8_t op, uint32_t offset, std::string operand) {
    std::string p;
    p.push_back(static_cast<char>(segment));
    p.push_back(static_cast<char>(op));
    format::PutFixed32(&p, offset);
    return p + operand;
  };
  const char last = static_cast<char>(Template().segments.size() - 1);
  s.Add(static_cast<char>(0));                               // an intact log
  s.Add(static_cast<char>(0), patch(last, 3, 300, "\x02"));  // a torn tail (warning)
  s.Add(static_cast<char>(1), patch(0, 3, 300, "\x02"));     // a sealed frame's payload
  s.Add(static_cast<char>(0), patch(0, 1, 3000, ""));        // a sealed segment cut short
  s.Add(static_cast<char>(1 << 5), std::string(1, '\x05'),
        format::EncodeHardState(format::HardStateRecord{9, 1, 100000}));  // commit too far
  s.Add(static_cast<char>(1 << 5), std::string(1, '\x01'), std::string("\x01\x05\x01", 3));
  std::string snap_patch(1, '\x02');  // flip
  format::PutFixed32(&snap_patch, 60);
  snap_patch.push_back(4);
  s.Add(static_cast<char>(2 << 5), snap_patch);
  s.Add(static_cast<char>(3 << 5), patch(last, 2, 200, "\x10"), std::string(1, '\x03'),
        std::string(8, '\x01'));
}

}  // namespace
}  // namespace raftlog::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 1;
  }
  const std::string root = argv[1];
  raftlog::fuzz::FrameDecoder(root);
  raftlog::fuzz::SegmentRecovery(root);
  raftlog::fuzz::SnapshotFile(root);
  raftlog::fuzz::MetaRecords(root);
  raftlog::fuzz::Verify(root);
  raftlog::fuzz::MetaMdb(root);
  return 0;
}
