// Fuzz target: loading a snapshot file from arbitrary bytes, through the
// streaming reader and through the store (scan, load, verify). Properties:
// never a crash, an out-of-bounds read or an allocation from an unchecked
// length; a reader that reaches the end has returned exactly the data bytes
// its trailer announces; Load and Verify agree; a file built by the format's
// own encoders and left alone loads back with its data.
//
// Input: a control byte, then either the file's bytes (bit 0 clear) or the
// fields of a file to build (bit 0 set): u32 index, u8 term, u8 block bytes
// - 1, (u8 length, conf state bytes), u8 data length / 4 ... then up to 8
// patches as in segment_recovery_fuzzer.cc (u8 operation mod 4, u32 offset,
// operand). Bit 1 recomputes every checksum afterwards (header, blocks as a
// reader walks them, trailer); bit 2 also the trailer's totals.

#include <cstddef>
#include <cstdint>
#include <string>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"
#include "fuzz/fuzz_util.h"
#include "raftlog/io/file_system.h"
#include "raftlog/snapshot/snapshot_format.h"
#include "raftlog/snapshot/snapshot_reader.h"
#include "raftlog/snapshot/snapshot_store.h"

namespace raftlog::fuzz {
namespace {

using snapshot::kBlockHeaderBytes;
using snapshot::kTrailerBytes;

void FixSnapshot(std::string* f, bool totals) {
  if (f->size() < snapshot::kHeaderFixedBytes) return;
  const uint64_t c = format::DecodeFixed32(f->data() + 36);
  if (40 + c + 8 > f->size()) return;
  const uint64_t hc = format::Checksum64(std::string_view(*f).substr(0, 40 + c), 0);
  format::EncodeFixed64(f->data() + 40 + c, hc);
  if (f->size() < 48 + c + kTrailerBytes) return;
  const uint64_t trailer_at = f->size() - kTrailerBytes;
  uint64_t offset = 48 + c, block = 0, data_bytes = 0;
  format::StreamingChecksum all(0);
  while (offset + kBlockHeaderBytes <= trailer_at) {
    const uint32_t n = format::DecodeFixed32(f->data() + offset);
    if (n == 0 || offset + kBlockHeaderBytes + n > trailer_at) break;
    const std::string_view data = std::string_view(*f).substr(offset + kBlockHeaderBytes, n);
    format::EncodeFixed64(f->data() + offset + 4, snapshot::BlockChecksum(hc, block, data));
    all.Update(data);
    data_bytes += n;
    offset += kBlockHeaderBytes + n;
    ++block;
  }
  char* t = f->data() + trailer_at;
  if (totals) {
    format::EncodeFixed64(t + 4, block);
    format::EncodeFixed64(t + 12, data_bytes);
    format::EncodeFixed64(t + 20, all.Digest());
  }
  format::EncodeFixed64(t + 28, format::Checksum64(std::string_view(t, 28), hc));
}

// A file made by the format's encoders, as SnapshotWriter lays it out.
std::string Build(FuzzInput& in, std::string* data) {
  snapshot::SnapshotMeta meta;
  meta.index = in.U32();
  meta.term = in.Byte();
  const uint32_t block_bytes = 1u + in.Byte();
  meta.conf_state = std::string(in.ShortBytes());
  const size_t n = 4u * in.Byte();
  *data = std::string(in.Bytes(n));
  std::string file = snapshot::EncodeHeader(meta, block_bytes);
  const uint64_t hc = format::DecodeFixed64(file.data() + file.size() - 8);
  snapshot::SnapshotTrailer trailer;
  format::StreamingChecksum all(0);
  for (size_t pos = 0; pos < data->size(); pos += block_bytes) {
    const std::string_view chunk = std::string_view(*data).substr(pos, block_bytes);
    char header[kBlockHeaderBytes];
    snapshot::EncodeBlockHeader(header, hc, trailer.block_count, chunk);
    file.append(header, kBlockHeaderBytes);
    file.append(chunk);
    all.Update(chunk);
    trailer.block_count++;
  }
  trailer.data_bytes = data->size();
  trailer.data_checksum = all.Digest();
  file += snapshot::EncodeTrailer(trailer, hc);
  return file;
}

bool Patch(FuzzInput& in, std::string* file) {
  bool patched = false;
  for (int k = 0; k < 8 && !in.empty(); ++k) {
    const uint8_t op = in.Byte() % 4;
    const size_t offset = in.U32() % (file->size() + 1);
    patched = true;
    switch (op) {
      case 0: {
        const std::string_view bytes = in.ShortBytes();
        file->replace(offset, std::min(bytes.size(), file->size() - offset), bytes);
        break;
      }
      case 1:
        file->resize(offset);
        break;
      case 2:
        file->insert(offset, std::string(in.ShortBytes()));
        break;
      default:
        if (offset < file->size()) (*file)[offset] ^= static_cast<char>(1 << (in.Byte() % 8));
        break;
    }
  }
  return patched;
}

}  // namespace
}  // namespace raftlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace raftlog;
  using namespace raftlog::fuzz;
  FuzzInput in(data, size);
  const uint8_t control = in.Byte();
  std::string file, built_data;
  bool pristine = false;
  if (control & 1) {
    file = Build(in, &built_data);
    pristine = !Patch(in, &file);
  } else {
    file = std::string(in.Rest());
  }
  if (control & 2) FixSnapshot(&file, (control & 4) != 0);

  // Name the file after the header's index and term, so the store's check
  // of name against header passes and the fuzzer gets past it.
  uint64_t index = 1, term = 1;
  if (file.size() >= 32) {
    index = format::DecodeFixed64(file.data() + 16);
    term = format::DecodeFixed64(file.data() + 24);
  }
  const std::string dir = ScratchDir() + "/snapshots";
  ResetDir(dir);
  const std::string name = snapshot::SnapshotFileName(term, index);
  WriteFileOrDie(dir + "/" + name, file);
  io::FileSystem* fs = io::FileSystem::Default();

  // The streaming reader.
  bool read_whole = false;
  if (auto reader = snapshot::SnapshotReader::Open(fs, dir + "/" + name); reader.ok()) {
    uint64_t got = 0;
    for (;;) {
      auto chunk = (*reader)->ReadChunk();
      if (!chunk.ok()) break;
      if (chunk->empty()) {
        if (got != (*reader)->info().data_bytes) FuzzFail("the reader's data differs in size");
        read_whole = true;
        break;
      }
      got += chunk->size();
      // The reader stops at the trailer's total, forged checksums or not
      // (DiskStorageBugTest.SnapshotReaderStopsAtTheAnnouncedSize).
      constexpr bool kReaderStopsAtTheTotal = true;
      if (got > (*reader)->info().data_bytes && (kReaderStopsAtTheTotal || !(control & 2))) {
        FuzzFail("the reader returned too much data");
      }
    }
  }

  // The store, read-only.
  snapshot::SnapshotStore::Options options;
  options.read_only = true;
  auto store = snapshot::SnapshotStore::Open(fs, dir, options);
  if (!store.ok()) FuzzFail("the store does not open: " + store.status().ToString());
  auto listing = (*store)->Scan();
  if (!listing.ok()) FuzzFail("Scan fails: " + listing.status().ToString());
  bool loaded = false;
  for (const snapshot::SnapshotInfo& info : listing->snapshots) {
    auto load = (*store)->Load(info.name);
    const Status verify = (*store)->Verify(info.name);
    if (load.ok() != verify.ok()) FuzzFail("Load and Verify disagree on " + info.name);
    if (load.ok()) {
      loaded = true;
      if (load->second.size() != info.data_bytes) FuzzFail("Load returned the wrong size");
      if (pristine && load->second != built_data) FuzzFail("a well-formed snapshot loads wrong");
    }
  }
  if (loaded != read_whole) FuzzFail("the reader and the store disagree on " + name);
  if (pristine && !loaded) FuzzFail("a well-formed snapshot does not load");
  return 0;
}
