#include "fuzz/fuzz_util.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"
#include "raftlog/format/record_format.h"

namespace raftlog::fuzz {

uint8_t FuzzInput::Byte() {
  if (empty()) return 0;
  return static_cast<uint8_t>(bytes_[pos_++]);
}

uint32_t FuzzInput::U32() {
  uint32_t v = 0;
  for (int k = 0; k < 4; ++k) v |= static_cast<uint32_t>(Byte()) << (8 * k);
  return v;
}

std::string_view FuzzInput::Bytes(size_t n) {
  if (empty()) return {};
  n = std::min(n, bytes_.size() - pos_);
  std::string_view out = bytes_.substr(pos_, n);
  pos_ += n;
  return out;
}

void FixFrameChecksum(std::string* bytes, size_t offset, uint64_t seed) {
  using format::kFrameHeaderBytes;
  if (offset > bytes->size() || bytes->size() - offset < kFrameHeaderBytes) return;
  const uint32_t stored = format::DecodeFixed32(bytes->data() + offset + 8);
  if (stored > bytes->size() - offset - kFrameHeaderBytes) return;
  std::string covered = bytes->substr(offset, 48);
  covered.append(*bytes, offset + kFrameHeaderBytes, stored);
  format::EncodeFixed64(bytes->data() + offset + 48, format::Checksum64(covered, seed));
}

void FixSegmentChecksums(std::string* file, uint64_t seed) {
  using format::kFrameHeaderBytes;
  using format::kSegmentHeaderBytes;
  using format::kTrailerBytes;
  if (file->size() >= kSegmentHeaderBytes) {
    format::EncodeFixed64(file->data() + 56,
                          format::Checksum64(std::string_view(*file).substr(0, 56), 0));
  }
  // The frames, as a reader walks them.
  size_t offset = kSegmentHeaderBytes;
  while (offset + kFrameHeaderBytes <= file->size()) {
    const std::string_view header = std::string_view(*file).substr(offset, kFrameHeaderBytes);
    if (header.find_first_not_of('\0') == std::string_view::npos) break;
    FixFrameChecksum(file, offset, seed);
    const uint64_t stored = format::DecodeFixed32(file->data() + offset + 8);
    const bool footer = static_cast<uint8_t>((*file)[offset + 4]) ==
                        static_cast<uint8_t>(format::FrameType::kFooter);
    if (footer) break;
    offset += format::FrameBytes(stored);
  }
  // The trailer and the footer frame it points to.
  if (file->size() >= kSegmentHeaderBytes + kTrailerBytes &&
      file->compare(file->size() - kTrailerBytes, 8, format::kTrailerMagic) == 0) {
    char* trailer = file->data() + file->size() - kTrailerBytes;
    const uint64_t footer_offset = format::DecodeFixed64(trailer + 8);
    if (footer_offset < file->size()) FixFrameChecksum(file, footer_offset, seed);
    format::EncodeFixed64(trailer + 24, format::Checksum64(std::string_view(trailer, 24), seed));
  }
}

namespace {

std::string MakeScratchDir() {
  std::error_code ec;
  std::string base = std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : "";
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string dir = base + "/raftlog-fuzz-" + std::to_string(::getpid());
  ResetDir(dir);
  return dir;
}

void RemoveScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(ScratchDir(), ec);
}

}  // namespace

const std::string& ScratchDir() {
  static const std::string* dir = [] {
    auto* d = new std::string(MakeScratchDir());
    std::atexit(RemoveScratchDir);
    return d;
  }();
  return *dir;
}

void ResetDir(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  std::filesystem::create_directories(path, ec);
  if (ec) FuzzFail("cannot create " + path + ": " + ec.message());
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) FuzzFail("cannot read " + path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFileOrDie(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) FuzzFail("cannot write " + path);
}

void FuzzFail(const std::string& what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace raftlog::fuzz
