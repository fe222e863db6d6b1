#include "raftlog/snapshot/snapshot_format.h"

#include <cinttypes>
#include <cstdio>
#include <string>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"

namespace raftlog::snapshot {

namespace {

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
  return buf;
}

}  // namespace

Status CorruptionAt(std::string_view file, uint64_t offset, std::string_view problem) {
  std::string msg = "snapshot file ";
  msg += file;
  msg += ": ";
  msg += problem;
  msg += " at offset ";
  msg += std::to_string(offset);
  return Status::Corruption(msg);
}

std::string EncodeHeader(const SnapshotMeta& meta, uint32_t block_bytes) {
  RAFTLOG_CHECK_MSG(meta.conf_state.size() <= kMaxConfStateBytes, "conf state too large");
  RAFTLOG_CHECK_MSG(block_bytes >= 1 && block_bytes <= kMaxBlockBytes, "block bytes out of range");
  const auto conf_bytes = static_cast<uint32_t>(meta.conf_state.size());
  std::string out;
  out.reserve(kHeaderFixedBytes + conf_bytes);
  out.append(kHeaderMagic);
  format::PutFixed16(&out, kFormatVersion);
  format::PutFixed16(&out, 0);  // flags
  format::PutFixed32(&out, static_cast<uint32_t>(kHeaderFixedBytes) + conf_bytes);
  format::PutFixed64(&out, meta.index);
  format::PutFixed64(&out, meta.term);
  format::PutFixed32(&out, block_bytes);
  format::PutFixed32(&out, conf_bytes);
  out.append(meta.conf_state);
  format::PutFixed64(&out, format::Checksum64(out));
  return out;
}

Result<uint32_t> DecodeHeaderBytes(std::string_view prefix, uint64_t file_bytes,
                                   std::string_view file) {
  if (prefix.size() < kHeaderPrefixBytes) {
    return CorruptionAt(file, prefix.size(),
                        "truncated header (file has " + std::to_string(file_bytes) +
                            " bytes, a header needs at least " + std::to_string(kHeaderFixedBytes) +
                            ")");
  }
  if (prefix.substr(0, kHeaderMagic.size()) != kHeaderMagic) {
    return CorruptionAt(file, 0, "bad magic (not a raftlog snapshot file)");
  }
  const uint32_t header_bytes = format::DecodeFixed32(prefix.data() + 12);
  if (header_bytes < kHeaderFixedBytes || header_bytes > kMaxHeaderBytes) {
    return CorruptionAt(file, 12,
                        "header bytes " + std::to_string(header_bytes) + " out of range [" +
                            std::to_string(kHeaderFixedBytes) + ", " +
                            std::to_string(kMaxHeaderBytes) + "]");
  }
  if (header_bytes > file_bytes) {
    return CorruptionAt(file, file_bytes,
                        "truncated header (header bytes " + std::to_string(header_bytes) +
                            ", file bytes " + std::to_string(file_bytes) + ")");
  }
  return header_bytes;
}

Result<SnapshotHeader> DecodeHeader(std::string_view bytes, std::string_view file) {
  RAFTLOG_ASSIGN_OR_RETURN(const uint32_t header_bytes,
                           DecodeHeaderBytes(bytes, bytes.size(), file));
  if (bytes.size() != header_bytes) {
    return CorruptionAt(file, 12,
                        "header bytes " + std::to_string(header_bytes) + " but " +
                            std::to_string(bytes.size()) + " bytes given");
  }
  // The checksum first: every field below is trusted only once it holds, so
  // a flipped bit in, say, the version is reported as the corruption it is.
  const size_t sum_offset = header_bytes - 8;
  const uint64_t stored = format::DecodeFixed64(bytes.data() + sum_offset);
  const uint64_t computed = format::Checksum64(bytes.substr(0, sum_offset));
  if (stored != computed) {
    return CorruptionAt(file, sum_offset,
                        "header checksum mismatch (header bytes " + std::to_string(header_bytes) +
                            ", stored " + Hex(stored) + ", computed " + Hex(computed) + ")");
  }
  const uint16_t version = format::DecodeFixed16(bytes.data() + 8);
  if (version > kFormatVersion) {
    return Status::NotSupported("snapshot file " + std::string(file) + ": format version " +
                                std::to_string(version) + " is newer than the supported " +
                                std::to_string(kFormatVersion));
  }
  if (version == 0) return CorruptionAt(file, 8, "format version 0");
  const uint16_t flags = format::DecodeFixed16(bytes.data() + 10);
  if (flags != 0) return CorruptionAt(file, 10, "unknown flags " + Hex(flags));

  SnapshotHeader header;
  header.header_bytes = header_bytes;
  header.checksum = stored;
  header.meta.index = format::DecodeFixed64(bytes.data() + 16);
  header.meta.term = format::DecodeFixed64(bytes.data() + 24);
  header.block_bytes = format::DecodeFixed32(bytes.data() + 32);
  if (header.block_bytes < 1 || header.block_bytes > kMaxBlockBytes) {
    return CorruptionAt(file, 32,
                        "block bytes " + std::to_string(header.block_bytes) + " out of range [1, " +
                            std::to_string(kMaxBlockBytes) + "]");
  }
  const uint32_t conf_bytes = format::DecodeFixed32(bytes.data() + 36);
  if (static_cast<uint64_t>(conf_bytes) + kHeaderFixedBytes != header_bytes) {
    return CorruptionAt(file, 36,
                        "conf state bytes " + std::to_string(conf_bytes) +
                            " disagree with header bytes " + std::to_string(header_bytes));
  }
  header.meta.conf_state.assign(bytes.substr(40, conf_bytes));
  return header;
}

uint64_t BlockChecksum(uint64_t header_checksum, uint64_t block_number, std::string_view data) {
  return format::Checksum64(
      data, BlockSeed(header_checksum, block_number, static_cast<uint32_t>(data.size())));
}

void EncodeBlockHeader(char* dst, uint64_t header_checksum, uint64_t block_number,
                       std::string_view data) {
  RAFTLOG_CHECK(!data.empty() && data.size() <= kMaxBlockBytes);
  format::EncodeFixed32(dst, static_cast<uint32_t>(data.size()));
  format::EncodeFixed64(dst + 4, BlockChecksum(header_checksum, block_number, data));
}

std::string EncodeTrailer(const SnapshotTrailer& trailer, uint64_t header_checksum) {
  std::string out;
  out.reserve(kTrailerBytes);
  format::PutFixed32(&out, 0);  // end marker
  format::PutFixed64(&out, trailer.block_count);
  format::PutFixed64(&out, trailer.data_bytes);
  format::PutFixed64(&out, trailer.data_checksum);
  format::PutFixed64(&out, format::Checksum64(out, header_checksum));
  out.append(kTrailerMagic);
  return out;
}

Result<SnapshotTrailer> DecodeTrailer(std::string_view bytes, uint64_t header_checksum,
                                      std::string_view file, uint64_t offset) {
  if (bytes.size() != kTrailerBytes) {
    return CorruptionAt(file, offset + bytes.size(), "truncated trailer");
  }
  // The magic is the file's last 8 bytes; without it the file was most
  // likely cut short (or its end overwritten).
  if (bytes.substr(36) != kTrailerMagic) {
    return CorruptionAt(file, offset + 36, "bad trailer magic (truncated file?)");
  }
  const uint64_t stored = format::DecodeFixed64(bytes.data() + 28);
  const uint64_t computed = format::Checksum64(bytes.substr(0, 28), header_checksum);
  if (stored != computed) {
    return CorruptionAt(
        file, offset + 28,
        "trailer checksum mismatch (stored " + Hex(stored) + ", computed " + Hex(computed) + ")");
  }
  if (format::DecodeFixed32(bytes.data()) != 0) {
    return CorruptionAt(file, offset, "trailer end marker is not 0");
  }
  SnapshotTrailer trailer;
  trailer.block_count = format::DecodeFixed64(bytes.data() + 4);
  trailer.data_bytes = format::DecodeFixed64(bytes.data() + 12);
  trailer.data_checksum = format::DecodeFixed64(bytes.data() + 20);
  return trailer;
}

}  // namespace raftlog::snapshot
