#include "raftlog/snapshot/snapshot_writer.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "raftlog/snapshot/snapshot_format.h"
#include "raftlog/snapshot/snapshot_store.h"

namespace raftlog::snapshot {

SnapshotWriter::SnapshotWriter(SnapshotStore* store, io::FileSystem* fs, SnapshotMeta meta,
                               std::string name, std::string temp_path,
                               std::unique_ptr<io::File> file, uint32_t block_bytes,
                               uint64_t header_checksum, uint64_t header_bytes)
    : store_(store),
      fs_(fs),
      meta_(std::move(meta)),
      name_(std::move(name)),
      temp_path_(std::move(temp_path)),
      file_(std::move(file)),
      block_bytes_(block_bytes),
      header_checksum_(header_checksum),
      offset_(header_bytes) {}

SnapshotWriter::~SnapshotWriter() {
  if (state_ == State::kOpen) {
    // Abandoned: the temp file must not outlive the writer, or it would sit
    // in the directory until the next Open.
    file_.reset();
    if (temp_exists_) (void)fs_->Remove(temp_path_);
  }
  Release();
}

void SnapshotWriter::Release() {
  if (!registered_) return;
  registered_ = false;
  store_->EndWrite(name_);
}

Status SnapshotWriter::Fail(Status status) {
  state_ = State::kFailed;
  error_ = status;
  file_.reset();
  buffer_.reset();
  buffer_capacity_ = 0;
  buffered_ = 0;
  if (temp_exists_) {
    // Best effort: if the unlink fails too, the next SnapshotStore::Open
    // removes the leftover; the error the caller needs is `status`.
    (void)fs_->Remove(temp_path_);
    temp_exists_ = false;
  }
  Release();
  return status;
}

Status SnapshotWriter::WriteBlock(std::string_view data) {
  char header[kBlockHeaderBytes];
  EncodeBlockHeader(header, header_checksum_, block_count_, data);
  const std::array<std::string_view, 2> pieces = {std::string_view(header, sizeof(header)), data};
  Status s = file_->PWrite(offset_, pieces);
  if (!s.ok()) return Fail(std::move(s));
  offset_ += kBlockHeaderBytes + data.size();
  ++block_count_;
  return Status::OK();
}

void SnapshotWriter::Reserve(size_t want) {
  if (want <= buffer_capacity_) return;
  const size_t capacity = std::min<size_t>(block_bytes_, std::max(want, 2 * buffer_capacity_));
  auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
  if (buffered_ > 0) std::memcpy(bigger.get(), buffer_.get(), buffered_);
  buffer_ = std::move(bigger);
  buffer_capacity_ = capacity;
}

Status SnapshotWriter::Append(std::string_view chunk) {
  if (state_ == State::kCommitted) {
    return Status::FailedPrecondition("snapshot " + name_ + " is already committed");
  }
  if (state_ == State::kFailed) {
    return Status::FailedPrecondition("snapshot " + name_ +
                                      " failed earlier: " + error_.ToString());
  }
  data_checksum_.Update(chunk);
  data_bytes_ += chunk.size();
  while (!chunk.empty()) {
    if (buffered_ == 0 && chunk.size() >= block_bytes_) {
      // Whole blocks go straight from the caller's bytes to the file.
      RAFTLOG_RETURN_IF_ERROR(WriteBlock(chunk.substr(0, block_bytes_)));
      chunk.remove_prefix(block_bytes_);
      continue;
    }
    const size_t take = std::min<size_t>(block_bytes_ - buffered_, chunk.size());
    Reserve(buffered_ + take);
    std::memcpy(buffer_.get() + buffered_, chunk.data(), take);
    buffered_ += take;
    chunk.remove_prefix(take);
    if (buffered_ == block_bytes_) {
      RAFTLOG_RETURN_IF_ERROR(WriteBlock(std::string_view(buffer_.get(), buffered_)));
      buffered_ = 0;
    }
  }
  return Status::OK();
}

Result<SnapshotInfo> SnapshotWriter::Commit() {
  if (state_ == State::kCommitted) {
    return Status::FailedPrecondition("snapshot " + name_ + " is already committed");
  }
  if (state_ == State::kFailed) {
    return Status::FailedPrecondition("snapshot " + name_ +
                                      " failed earlier: " + error_.ToString());
  }
  if (buffered_ > 0) {
    RAFTLOG_RETURN_IF_ERROR(WriteBlock(std::string_view(buffer_.get(), buffered_)));
    buffered_ = 0;
  }
  buffer_.reset();
  buffer_capacity_ = 0;

  SnapshotTrailer trailer;
  trailer.block_count = block_count_;
  trailer.data_bytes = data_bytes_;
  trailer.data_checksum = data_checksum_.Digest();
  const std::string encoded = EncodeTrailer(trailer, header_checksum_);
  const std::array<std::string_view, 1> pieces = {encoded};
  Status s = file_->PWrite(offset_, pieces);
  if (!s.ok()) return Fail(std::move(s));
  const uint64_t file_bytes = offset_ + encoded.size();

  // The data (and the file size) must be durable before the rename makes
  // the name visible: otherwise a crash soon after could leave the final
  // name on a file that is empty or holds only part of its blocks (ext4's
  // rename heuristics do not promise otherwise, and XFS has none).
  s = file_->Sync();
  if (!s.ok()) return Fail(std::move(s));
  file_.reset();

  SnapshotInfo info;
  info.meta = meta_;
  info.name = name_;
  info.data_bytes = data_bytes_;
  info.file_bytes = file_bytes;
  info.data_checksum = trailer.data_checksum;
  // Publish renames, fsyncs the directory and prunes; on failure it has
  // removed whatever it made visible, and the temp file.
  s = store_->Publish(temp_path_, name_);
  temp_exists_ = false;
  if (!s.ok()) return Fail(std::move(s));
  state_ = State::kCommitted;
  Release();
  return info;
}

}  // namespace raftlog::snapshot
