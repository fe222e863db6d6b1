#include "raftlog/raft/internal/read_only.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "raftlog/format/status.h"

namespace raftlog::raft::internal {

namespace {

// The context is a fixed 8-byte little-endian integer on the wire (etcd's
// binary.LittleEndian), independent of the host's byte order. raft/ may not
// use raftlog/format/coding.h (it links raftlog::status only), hence these two
// small helpers.
constexpr size_t kCtxSize = 8;

std::string EncodePosition(uint64_t v) {
  std::string out(kCtxSize, '\0');
  for (size_t i = 0; i < kCtxSize; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

uint64_t DecodePosition(std::string_view ctx) {
  uint64_t v = 0;
  for (size_t i = 0; i < kCtxSize; ++i) {
    v |= static_cast<uint64_t>(static_cast<unsigned char>(ctx[i])) << (8 * i);
  }
  return v;
}

}  // namespace

void ReadOnly::AddRequest(uint64_t commit_index, Message req) {
  unconfirmed_reads_.push_back(ReadIndexRequest{std::move(req), commit_index});
}

void ReadOnly::RecvAck(uint64_t from, std::string_view ctx) {
  if (ctx.size() < kCtxSize) return;
  uint64_t& acked = acks_[from];
  acked = std::max(acked, DecodePosition(ctx));
}

std::optional<uint64_t> ReadOnly::AckedIndex(uint64_t voter_id) const {
  auto it = acks_.find(voter_id);
  if (it == acks_.end()) return std::nullopt;
  return it->second;
}

std::vector<ReadIndexRequest> ReadOnly::MaybeAdvance(uint64_t quorum_acked) {
  if (quorum_acked <= confirmed_reads_) return {};
  const uint64_t n = quorum_acked - confirmed_reads_;
  RAFTLOG_CHECK_MSG(n <= unconfirmed_reads_.size(),
                    "read position acknowledged by a quorum was never handed out");
  const auto end = unconfirmed_reads_.begin() + static_cast<std::ptrdiff_t>(n);
  std::vector<ReadIndexRequest> confirmed(std::make_move_iterator(unconfirmed_reads_.begin()),
                                          std::make_move_iterator(end));
  unconfirmed_reads_.erase(unconfirmed_reads_.begin(), end);
  confirmed_reads_ = quorum_acked;
  return confirmed;
}

std::string ReadOnly::HeartbeatCtx() const {
  if (unconfirmed_reads_.empty()) return {};
  return EncodePosition(confirmed_reads_ + unconfirmed_reads_.size());
}

}  // namespace raftlog::raft::internal
