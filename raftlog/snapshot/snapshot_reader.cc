#include "raftlog/snapshot/snapshot_reader.h"

#include <algorithm>
#include <string>
#include <utility>

#include "raftlog/format/coding.h"

namespace raftlog::snapshot {

namespace {

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Reads exactly n bytes at offset, or says the file is truncated there.
Result<std::string_view> ReadExactly(const io::File& file, uint64_t offset, size_t n, char* scratch,
                                     std::string_view what) {
  RAFTLOG_ASSIGN_OR_RETURN(std::string_view got, file.PRead(offset, n, scratch));
  if (got.size() != n) {
    return CorruptionAt(file.path(), offset + got.size(),
                        "truncated " + std::string(what) + " (file ends)");
  }
  return got;
}

}  // namespace

Result<std::unique_ptr<SnapshotReader>> SnapshotReader::Open(io::FileSystem* fs,
                                                             const std::string& path) {
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file, fs->Open(path, io::OpenMode::kReadOnly));
  RAFTLOG_ASSIGN_OR_RETURN(const uint64_t file_bytes, file->Size());

  // The prefix tells the header's size, checked against the file's size and
  // kMaxHeaderBytes before anything is allocated for it.
  char prefix_buf[kHeaderPrefixBytes];
  RAFTLOG_ASSIGN_OR_RETURN(std::string_view prefix, file->PRead(0, kHeaderPrefixBytes, prefix_buf));
  RAFTLOG_ASSIGN_OR_RETURN(const uint32_t header_bytes,
                           DecodeHeaderBytes(prefix, file_bytes, path));
  std::string header_buf(header_bytes, '\0');
  RAFTLOG_ASSIGN_OR_RETURN(std::string_view header_view,
                           ReadExactly(*file, 0, header_bytes, header_buf.data(), "header"));
  RAFTLOG_ASSIGN_OR_RETURN(SnapshotHeader header, DecodeHeader(header_view, path));

  if (file_bytes < static_cast<uint64_t>(header.header_bytes) + kTrailerBytes) {
    return CorruptionAt(path, file_bytes,
                        "truncated file (" + std::to_string(file_bytes) +
                            " bytes cannot hold the header and a trailer)");
  }
  const uint64_t trailer_offset = file_bytes - kTrailerBytes;
  char trailer_buf[kTrailerBytes];
  RAFTLOG_ASSIGN_OR_RETURN(
      std::string_view trailer_view,
      ReadExactly(*file, trailer_offset, kTrailerBytes, trailer_buf, "trailer"));
  RAFTLOG_ASSIGN_OR_RETURN(SnapshotTrailer trailer,
                           DecodeTrailer(trailer_view, header.checksum, path, trailer_offset));

  // The blocks must tile the space between header and trailer exactly:
  // their headers plus the data bytes. Checked here (without overflow) so
  // that data_bytes is bounded by the file's size wherever it is used, e.g.
  // to reserve memory in Load.
  const uint64_t region = trailer_offset - header.header_bytes;
  if (trailer.block_count > region / kBlockHeaderBytes ||
      trailer.data_bytes != region - trailer.block_count * kBlockHeaderBytes) {
    return CorruptionAt(path, trailer_offset,
                        "trailer says " + std::to_string(trailer.block_count) + " blocks of " +
                            std::to_string(trailer.data_bytes) + " data bytes, which do not fill " +
                            std::to_string(region) + " bytes between header and trailer");
  }
  if ((trailer.data_bytes == 0) != (trailer.block_count == 0)) {
    return CorruptionAt(path, trailer_offset, "trailer block count and data bytes disagree");
  }

  SnapshotInfo info;
  info.meta = header.meta;
  info.name = BaseName(path);
  info.data_bytes = trailer.data_bytes;
  info.file_bytes = file_bytes;
  info.data_checksum = trailer.data_checksum;
  return std::unique_ptr<SnapshotReader>(new SnapshotReader(
      std::move(file), std::move(info), std::move(header), trailer, trailer_offset));
}

SnapshotReader::SnapshotReader(std::unique_ptr<io::File> file, SnapshotInfo info,
                               SnapshotHeader header, SnapshotTrailer trailer,
                               uint64_t trailer_offset)
    : file_(std::move(file)),
      info_(std::move(info)),
      header_checksum_(header.checksum),
      block_bytes_(header.block_bytes),
      trailer_(trailer),
      trailer_offset_(trailer_offset),
      offset_(header.header_bytes) {}

Result<std::string_view> SnapshotReader::ReadChunk() {
  if (!error_.ok()) return error_;
  if (done_) return std::string_view();
  if (offset_ == trailer_offset_) {
    error_ = CheckEnd();
    if (!error_.ok()) return error_;
    done_ = true;
    return std::string_view();
  }

  // One pread per block: the block header and as much data as a block can
  // hold, but never past the trailer. Blocks other than the last are full,
  // so this reads exactly one block in the usual case.
  const uint64_t left = trailer_offset_ - offset_;
  const size_t want =
      static_cast<size_t>(std::min<uint64_t>(left, kBlockHeaderBytes + uint64_t{block_bytes_}));
  if (buffer_ == nullptr) {
    // The first call has the most bytes left, so this size serves every
    // later block: at most the checked block size, and never more than the
    // file holds.
    buffer_capacity_ = want;
    buffer_ = std::make_unique_for_overwrite<char[]>(buffer_capacity_);
  }
  const std::string block_name = "block " + std::to_string(blocks_read_);
  auto got = ReadExactly(*file_, offset_, want, buffer_.get(), block_name);
  if (!got.ok()) {
    error_ = got.status();
    return error_;
  }
  if (want < kBlockHeaderBytes) {
    error_ = CorruptionAt(path(), offset_,
                          block_name + " header does not fit before the trailer (" +
                              std::to_string(want) + " bytes left)");
    return error_;
  }
  const uint32_t n = format::DecodeFixed32(buffer_.get());
  if (n < 1 || n > block_bytes_ || n > want - kBlockHeaderBytes) {
    error_ = CorruptionAt(
        path(), offset_,
        block_name + " length " + std::to_string(n) +
            (n > block_bytes_ || n == 0 ? " out of range [1, " + std::to_string(block_bytes_) + "]"
                                        : " runs into the trailer"));
    return error_;
  }
  // A block is never handed out past what the trailer announces: a consumer
  // may have sized its buffer from info().data_bytes.
  if (data_read_ + n > trailer_.data_bytes || blocks_read_ + 1 > trailer_.block_count) {
    error_ = CorruptionAt(path(), offset_,
                          block_name + " (" + std::to_string(n) + " bytes) goes past the " +
                              std::to_string(trailer_.block_count) + " blocks of " +
                              std::to_string(trailer_.data_bytes) + " bytes the trailer announces");
    return error_;
  }
  const std::string_view data(buffer_.get() + kBlockHeaderBytes, n);
  const uint64_t stored = format::DecodeFixed64(buffer_.get() + 4);
  if (stored != BlockChecksum(header_checksum_, blocks_read_, data)) {
    error_ = CorruptionAt(path(), offset_, block_name + " checksum mismatch");
    return error_;
  }
  data_checksum_.Update(data);
  ++blocks_read_;
  data_read_ += n;
  offset_ += kBlockHeaderBytes + n;
  return data;
}

Status SnapshotReader::CheckEnd() {
  if (blocks_read_ != trailer_.block_count || data_read_ != trailer_.data_bytes) {
    return CorruptionAt(path(), offset_,
                        "read " + std::to_string(blocks_read_) + " blocks of " +
                            std::to_string(data_read_) + " bytes but the trailer says " +
                            std::to_string(trailer_.block_count) + " blocks of " +
                            std::to_string(trailer_.data_bytes) + " bytes");
  }
  if (data_checksum_.Digest() != trailer_.data_checksum) {
    return CorruptionAt(path(), offset_ + 20, "data checksum mismatch");
  }
  return Status::OK();
}

}  // namespace raftlog::snapshot
